"""Service workflows: the rules a shop's customer service runs by, without Textual.

Each module is one concept; SQL functions take a plain ``sqlite3`` connection and run
inside the caller's transaction (``Store.write(fn, …)``), so a local change and the
outbox row that tells the shop about it commit together.

* :mod:`~agentdesk.workflow.templates` – filling ``{name}`` in configured texts, leaving
  unknown braces alone.
* :mod:`~agentdesk.workflow.rules` – routing words and complaint signals (售前/售后/客诉,
  差评, ！！！), matched ignoring case and full-/half-width.
* :mod:`~agentdesk.workflow.triage` – one incremental pass over new customer messages:
  complaint counts, moving flagged conversations to 客诉, routing new ones.
* :mod:`~agentdesk.workflow.sla` – the response clock: ok/amber/red/late, one red alert
  per waiting episode, when a reply should start with an apology.
* :mod:`~agentdesk.workflow.snooze` – snooze presets ("30m", "2h", "tomorrow") as times.
* :mod:`~agentdesk.workflow.lifecycle` – status, snooze, priority, tags, group and
  transfers: changed locally at once and queued for the shop.
* :mod:`~agentdesk.workflow.greeting` – the automatic greeting of a waiting customer.
* :mod:`~agentdesk.workflow.metrics` – my day (handled, first-response times).
* :mod:`~agentdesk.workflow.outreach` – campaign audiences (never opted-out customers)
  and rate-limited sending through the outbox.
* :mod:`~agentdesk.workflow.kpi` – the team's KPIs over a window: rounds, first response
  (median, p90), replies within 30 s, the 3-minute rate in business hours, resolution and
  complaint rates; customer traffic per hour.
* :mod:`~agentdesk.workflow.board` – the supervisor's board now: each agent's load and
  presence, each group's queue.
* :mod:`~agentdesk.workflow.report` / :mod:`~agentdesk.workflow.report_commands` –
  ``agentdesk report``: the same KPIs as a table, CSV or JSON.
"""
