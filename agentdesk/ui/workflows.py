"""The service workflows on the workstation: transfer (转接), lifecycle (resolve, snooze,
reopen, tags, priority), notes, follow-ups (回访), outreach, order exceptions, and the
background rules (complaint triage, red-wait alerts, auto-greeting, "my day").

A mixin of :class:`agentdesk.ui.app.AgentDeskApp`, kept apart so the app module stays
about layout and reading. The same rules hold: screens return typed results, every cache
read or write runs in a thread worker, every write to the shop goes through the outbox
(``agentdesk.workflow`` and ``agentdesk.store`` do the work; this module only wires keys,
screens and workers together).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from rich.text import Text
from textual import work

from agentdesk import shoptext, timefmt
from agentdesk.models import GROUPS, PRIORITY_NAMES, Agent, Followup, InboxRow
from agentdesk.quickreply import loader, pinyin
from agentdesk.safetext import one_line
from agentdesk.store import followups, inbox, notes, orders, thread
from agentdesk.store.inbox import InboxFilter
from agentdesk.ui.messages import FollowupsLoaded, MyDayLoaded
from agentdesk.ui.screens.choice import ChoiceScreen
from agentdesk.ui.screens.confirm import ConfirmScreen, Confirmed
from agentdesk.ui.screens.followup import FollowupRequest, FollowupScreen
from agentdesk.ui.screens.handoff import Handoff, HandoffScreen
from agentdesk.ui.screens.outreach import OutreachRequest, OutreachScreen
from agentdesk.ui.screens.snooze import SnoozeChoice, SnoozeScreen
from agentdesk.ui.screens.tags import TagsAndPriority, TagsScreen
from agentdesk.ui.widgets.composer import Composer
from agentdesk.ui.widgets.followup_list import FollowupList
from agentdesk.workflow import greeting, lifecycle, metrics, outreach, sla, snooze, triage
from agentdesk.workflow.kpi import day_start  # the same midnight as the supervisor's KPIs
from agentdesk.workflow.rules import Rules

#: Background rules run this often (seconds): alerts, greetings, due follow-ups.
WORKFLOW_EVERY = 5.0
MYDAY_EVERY = 15.0
#: How long Alt+L waits for the shop to answer before saying the status did not change.
PRESENCE_WAIT = 30.0
#: The group filter cycles through these (None: any group; "mine": the agent's groups).
GROUP_CYCLE: tuple[str | None, ...] = (None, "mine", *GROUPS)
TAG_SUGGESTIONS = ["催发货", "改地址", "退款", "换货", "差评风险", "老客户", "大促", "缺货"]


class WorkflowMixin:
    """Message handlers here use ``on_<message>`` names: Textual's ``@on`` decorator only
    registers on MessagePump subclasses, which a mixin is not.

    Requires the AgentDeskApp attributes: store, settings, clock, sync, t, me,
    read_only, current, card, filter; and its _open/_refresh_inbox/find_longest_waiting."""

    def init_workflows(self) -> None:
        """State, set in ``__init__`` (before anything is composed)."""
        self.rules = Rules.from_settings(self.settings)
        self.alerts = sla.AlertTracker()
        self.agents: list[Agent] = []  # every agent of the shop, with groups and presence
        self.group_choice: str | None = None
        #: Per-character pinyin of agent and group names (transfer search), once read.
        self.name_syllables = None

    def start_workflows(self) -> None:
        self.set_interval(MYDAY_EVERY, self.load_my_day)
        if self.background_rules:  # tests drive the rules one step at a time instead
            self.set_interval(WORKFLOW_EVERY, self._workflow_tick)
        self.load_my_day()
        self.load_followups()
        if not self.read_only:
            self.run_triage()

    def _workflow_tick(self) -> None:
        if not self._main_screen_up():
            return
        self.check_waiting()
        self.load_followups()
        if not self.read_only and self.me and self.settings.greeting.enabled:
            self.send_greetings()

    def _kick(self) -> None:
        if self.sync is not None:
            self.sync.kick()

    def _my_groups(self) -> tuple[str, ...]:
        return next((a.groups for a in self.agents if a.id == self.me), ())

    def inbox_filter(self, **changes) -> InboxFilter:
        """The current filter with ``changes``, the group choice applied."""
        f = replace(self.filter, me=self.me, **changes)
        choice = self.group_choice
        groups = self._my_groups() if choice == "mine" else ((choice,) if choice else ())
        return replace(f, group=None, groups=groups)

    # -- background rules ------------------------------------------------------------

    @work(thread=True, group="myday", exit_on_error=False)
    def load_my_day(self) -> None:
        if not self.me:
            return
        now = self.clock.now()
        day = self.store.read(metrics.my_day, self.me, day_start(now), now, self.settings.timers)
        self.post_message(MyDayLoaded(day))

    def on_my_day_loaded(self, event: MyDayLoaded) -> None:
        if not self._main_screen_up():
            return
        d = event.day
        t = self.t
        timers = self.settings.timers

        def pct(share):
            return "—" if share is None else f"{share * 100:.0f}%"

        median = "—" if d.first_response_median is None else timefmt.duration(d.first_response_median)
        line = Text.assemble(
            (t("myday.label") + "  ", "bold"),
            t("myday.handled", n=d.handled), "  ·  ",
            t("myday.median", t=median), "  ·  ",
            t("myday.within", s=timers.amber_seconds, p=pct(d.within_amber_share)), "  ·  ",
            t("myday.within_min", m=f"{timers.late_seconds / 60:g}", p=pct(d.within_late_share)), "  ·  ",
            (t("myday.waiting", n=d.waiting_now), "bold #ffaf00" if d.waiting_now else ""),
        )
        self.query_one("#myday").update(line)

    @work(thread=True, group="alerts", exit_on_error=False)
    def check_waiting(self) -> None:
        """One alert (bell + notification) when a customer of mine, or of nobody yet,
        crosses the red line; the tracker remembers it for this waiting episode."""
        red = self.settings.timers.red_seconds
        now = self.clock.now()

        def read(conn):
            rows = []
            for tab in ("mine", "unassigned"):
                rows += inbox.first_page(conn, InboxFilter(tab=tab, status="open", me=self.me), limit=20)
            return [r for r in rows if r.waiting_since is not None and now - r.waiting_since >= red]

        rows = self.store.read(read)
        fresh = self.alerts.crossed(rows, now)
        if fresh:
            names = {r.id: r for r in rows}
            self.call_from_thread(self._alert, [names[i] for i in fresh], now)

    def _alert(self, rows: list[InboxRow], now: float) -> None:
        if not self._main_screen_up():
            return
        self.bell()
        for row in rows[:3]:
            waited = timefmt.duration(now - (row.waiting_since or now))
            self.notify(self.t("notify.red", name=one_line(row.customer_name, limit=30), t=waited),
                        severity="warning", timeout=10)

    @work(thread=True, group="greeting", exit_on_error=False)
    def send_greetings(self) -> None:
        g = self.settings.greeting
        now = self.clock.now()
        text = greeting.text(g.text, self.me_name or "")

        def write(conn):
            due = greeting.due(conn, self.me, now, g.after_seconds)
            for cid in due:
                greeting.send(conn, cid, text, now, self.me)
            return due

        due = self.store.write(write)
        if due:
            self._kick()
            self.call_from_thread(self._greeted, due)

    def _greeted(self, due: list[str]) -> None:
        if not self._main_screen_up():
            return
        self.notify(self.t("notify.greeted", n=len(due)), timeout=4)
        self._refresh_inbox()
        if self.current is not None and self.current.id in due:
            self.refresh_thread(self.current.id, None)

    @work(thread=True, group="triage", exit_on_error=False)
    def run_triage(self) -> None:
        """Complaint signals and routing rules over the customer messages not seen yet.
        Never during an initial sync: history that has not all arrived would count as new."""
        if self.sync is not None and not self.sync.synced():
            return
        now = self.clock.now()
        result = self.store.write(triage.triage, self.rules, self.me, now)
        if result.moved or result.routed:
            self._kick()
        if not result.flagged or result.first_run:
            if result.moved or result.routed:
                self.call_from_thread(self._refresh_inbox)
            return

        def read(conn):
            found = []
            for cid in result.flagged[:3]:
                if (row := inbox.get(conn, cid)) is not None:
                    found.append((row, self.rules.complaint_signals(thread.last_customer_text(conn, cid))))
            return found

        self.call_from_thread(self._complaints, self.store.read(read))

    def _complaints(self, found: list[tuple[InboxRow, tuple[str, ...]]]) -> None:
        if not self._main_screen_up():
            return
        for row, words in found:
            self.notify(
                self.t("notify.complaint", name=one_line(row.customer_name, limit=30), words=" ".join(words[:3])),
                severity="error", timeout=12,
            )
        self._refresh_inbox()

    # -- lifecycle ----------------------------------------------------------------------

    def _can_write(self) -> bool:
        if self.read_only:
            self.notify(self.t("notify.read_only"), severity="warning")
            return False
        return self.current is not None

    def patch_current(self, row: InboxRow, notice: str, then_next: bool = False, **changes) -> None:
        def patched(_) -> None:
            self._kick()
            self.call_from_thread(self._patched, row, notice, then_next)

        self.write_in_order(lifecycle.patch, row.id, self.clock.now(), then=patched, opens=then_next, **changes)

    def _patched(self, row: InboxRow, notice: str, then_next: bool) -> None:
        if not self._main_screen_up():
            return
        self.notify(notice, timeout=4)
        self._refresh_inbox()
        self.load_my_day()
        if self.card is not None:
            self.reload_card(row.id, row.customer_id)
        if then_next:
            self.find_longest_waiting()

    def action_resolve(self) -> None:
        if self._can_write():
            row = self.current
            self.patch_current(row, self.t("notify.resolved", name=one_line(row.customer_name, limit=30)), status="resolved")

    def action_resolve_next(self) -> None:
        if self._can_write():
            row = self.current
            self.patch_current(row, self.t("notify.resolved", name=one_line(row.customer_name, limit=30)),
                               then_next=True, status="resolved")

    def action_reopen(self) -> None:
        if self._can_write():
            row = self.current
            self.patch_current(row, self.t("notify.reopened", name=one_line(row.customer_name, limit=30)), status="open")

    def action_snooze(self) -> None:
        if not self._can_write():
            return
        row = self.current
        now = self.clock.now()
        presets = snooze.presets(now, labels={k: self.t(f"snooze.preset.{k}") for k in snooze.PRESETS})

        def done(choice: SnoozeChoice | None) -> None:
            if choice is None:
                return
            name = one_line(row.customer_name, limit=30)
            what = self.t(f"status.{choice.status}")
            if choice.status == "snoozed" and choice.until:
                what += " " + timefmt.clock(choice.until, now)
            self.patch_current(row, self.t("notify.snoozed", what=what, name=name),
                               status=choice.status, snoozed_until=choice.until)

        self.push_screen(SnoozeScreen(self.t, now, presets), done)

    def action_tags(self) -> None:
        if not self._can_write():
            return
        row = self.current

        def done(result: TagsAndPriority | None) -> None:
            if result is not None:
                self.patch_current(row, self.t("act.tags") + " ✓", tags=list(result.tags), priority=result.priority)

        self.push_screen(
            TagsScreen(self.t, list(row.tags), TAG_SUGGESTIONS, PRIORITY_NAMES.get(row.priority, "normal")), done
        )

    # -- transfer (转接 / 换人) -------------------------------------------------------------

    def action_handoff(self) -> None:
        if not self._can_write():
            return
        row = self.current
        agents = [(a.id, a.name, a.groups, a.online) for a in self.agents if a.role == "agent"]

        def done(result: Handoff | None) -> None:
            if result is not None:
                self.transfer_current(row, result)

        self.push_screen(HandoffScreen(self.t, agents, GROUPS, self.me, self.settings.handoff.customer_message,
                                       syllables=self.name_syllables), done)

    @work(thread=True, exclusive=True, group="name-keys", exit_on_error=False)
    def load_name_keys(self) -> None:
        """Pinyin of the colleagues' and groups' names, from the quick replies' key cache
        (computed once for a name never seen)."""
        keys, _ = loader.keys_for(self.store, [a.name for a in self.agents] + list(GROUPS))
        self.call_from_thread(setattr, self, "name_syllables", pinyin.Syllables(keys).of)

    def transfer_current(self, row: InboxRow, h: Handoff) -> None:
        def transferred(_) -> None:
            self._kick()
            self.call_from_thread(self._patched, row, self.t("notify.handed_off", to=h.to_name,
                                                              name=one_line(row.customer_name, limit=30)), False)
            self.call_from_thread(self.refresh_thread, row.id, None)

        self.write_in_order(
            lifecycle.transfer, row.id, self.clock.now(), me=self.me, to_agent_id=h.to_agent_id,
            to_group=h.to_group, note=h.note, customer_message=h.customer_message, then=transferred,
        )

    # -- notes and follow-ups -----------------------------------------------------------

    def action_customer_note(self) -> None:
        if not self._can_write():
            return
        row = self.current
        t = self.t

        def done(result: Confirmed | None) -> None:
            if result is not None and result.value.strip():
                self.save_customer_note(row, result.value.strip())

        self.push_screen(
            ConfirmScreen(t, t("note.customer_title"), [one_line(row.customer_name, limit=40)],
                          field_label=t("note.customer_field"), field_required=True),
            done,
        )

    @work(thread=True, group="write", exit_on_error=False)
    def save_customer_note(self, row: InboxRow, body: str) -> None:
        self.store.write(notes.add, row.customer_id, body, self.clock.now(), agent_id=self.me)
        self._kick()
        self.call_from_thread(self.notify, self.t("notify.note_saved"), timeout=4)
        self.reload_card(row.id, row.customer_id)

    def action_followup(self) -> None:
        if not self._can_write():
            return
        row = self.current
        card = self.card
        order_choices = [
            (o.id, f"{o.status} · {one_line(o.items[0].title, limit=20) if o.items else ''} · {o.id}")
            for o in (card.orders[:5] if card else ())
        ]
        note = self.t("act.followup")
        if card and card.orders:
            o = card.orders[0]
            note = f"{o.status} · {one_line(o.items[0].title, limit=20) if o.items else o.id}"

        def done(result: FollowupRequest | None) -> None:
            if result is not None:
                self.schedule_followup(row, result)

        self.push_screen(
            FollowupScreen(self.t, self.clock.now(), row.customer_name, order_choices,
                           self.settings.followups.default_days, note),
            done,
        )

    @work(thread=True, group="write", exit_on_error=False)
    def schedule_followup(self, row: InboxRow, req: FollowupRequest) -> None:
        self.store.write(
            followups.schedule, row.customer_id, req.due_at, req.note, self.clock.now(),
            agent_id=self.me, order_id=req.order_id, conversation_id=row.id,
        )
        self._kick()
        when = timefmt.clock(req.due_at, self.clock.now())
        self.call_from_thread(self.notify, self.t("notify.followup_set", when=when), timeout=4)
        self.reload_card(row.id, row.customer_id)
        self.load_followups()

    @work(thread=True, group="followups", exit_on_error=False)
    def load_followups(self) -> None:
        now = self.clock.now()

        def read(conn):
            return followups.page(conn, None, 100), followups.count_due(conn, now)

        items, due = self.store.read(read)
        self.post_message(FollowupsLoaded(items, due))

    def on_followups_loaded(self, event: FollowupsLoaded) -> None:
        if not self._main_screen_up():
            return
        self.query_one(FollowupList).show(event.items, event.due)
        label = self.t("tab.followups") + (f" {event.due}" if event.due else "")
        self.query_one("#tab-followups").label = Text(label)

    def on_followup_list_chosen(self, event: FollowupList.Chosen) -> None:
        f = event.followup
        if event.action == "open":
            self.open_followup(f)
        elif not self.read_only:
            self.finish_followup(f, event.action)

    @work(thread=True, group="write", exit_on_error=False)
    def finish_followup(self, f: Followup, status: str) -> None:
        self.store.write(followups.set_status, f.id, status, self.clock.now())
        self._kick()
        key = "notify.followup_done" if status == "done" else "notify.followup_cancelled"
        self.call_from_thread(self.notify, self.t(key), timeout=4)
        self.load_followups()

    @work(thread=True, exclusive=True, group="followup-open", exit_on_error=False)
    def open_followup(self, f: Followup) -> None:
        """The follow-up's conversation (else the customer's latest) with a suggested
        message in the composer; the agent edits and sends it, then marks it done."""
        def read(conn):
            if f.conversation_id and (row := inbox.get(conn, f.conversation_id)):
                return row
            return inbox.latest_for_customer(conn, f.customer_id)

        row = self.store.read(read)
        self.call_from_thread(self._open_followup, f, row)

    def _open_followup(self, f: Followup, row: InboxRow | None) -> None:
        if row is None:
            self.notify(self.t("followups.no_conversation"), severity="warning")
            return
        if not self.read_only:
            # The follow-up's note is internal (it stays in the list): the suggestion is for
            # the customer, in the shop's language; it becomes the draft, so opening the
            # follow-up again finds it there instead of adding a second copy.
            text = shoptext.text("followup", self.settings.shop.language, agent=self.me_name)
            self.query_one(Composer).suggest(row.id, text)
        self._open(row)

    # -- order exceptions (订单异常) ------------------------------------------------------------

    def action_order_actions(self) -> None:
        if not self._can_write():
            return
        row, card, t = self.current, self.card, self.t
        choices: list[tuple[str, Text]] = []
        for o in (card.orders[:5] if card else ()):
            label = f"{one_line(o.status, limit=20)} ¥{o.amount:,.2f} · {one_line(o.id, limit=40)}"
            if not o.shipped:
                choices.append((f"address:{o.id}", Text(f"{t('orders.address')}  {label}")))
            if o.status in ("待发货", "已发货", "已签收", "纠纷中"):
                choices.append((f"refund:{o.id}", Text(f"{t('orders.refund')}  {label}")))
            if o.status == "退款中":
                choices.append((f"approve:{o.id}", Text(f"{t('orders.approve')}  {label}")))
        for o in (card.orders[:3] if card else ()):
            choices.append((f"remark:{o.id}", Text(
                f"{t('orders.remark')}  {one_line(o.status, limit=20)} · {one_line(o.id, limit=40)}")))
        if not choices:
            self.notify(t("notify.no_orders"), severity="warning")
            return

        def chosen(key: str | None) -> None:
            if key is None or card is None:
                return
            what, order_id = key.split(":", 1)
            order = next(o for o in card.orders if o.id == order_id)
            self._confirm_order_action(row, order, what)

        self.push_screen(ChoiceScreen(t("orders.choose"), choices), chosen)

    def _confirm_order_action(self, row: InboxRow, order, what: str) -> None:
        t = self.t
        title = t(f"orders.{what}") + f" · {order.id}"
        lines = [f"{order.status} · " + t("orders.amount", a=f"{order.amount:,.2f}"),
                 t("orders.current_address", a=one_line(order.address, limit=80) or "—")]
        field = {"address": "orders.new_address", "refund": "orders.reason", "remark": "orders.remark_text"}.get(what)
        kind = {"address": "order_address", "refund": "order_refund", "approve": "order_refund_approve",
                "remark": "order_remark"}[what]

        def done(result: Confirmed | None) -> None:
            if result is None:
                return
            payload = {"address": {"address": result.value}, "refund": {"reason": result.value},
                       "remark": {"body": result.value}}.get(what, {})
            self.request_order(row, order.id, kind, payload, t(f"orders.{what}"))

        self.push_screen(
            ConfirmScreen(t, title, lines, field_label=t(field) if field else None,
                          field_value=order.address if what == "address" else "", field_required=bool(field),
                          danger=what in ("refund", "approve")),
            done,
        )

    @work(thread=True, group="write", exit_on_error=False)
    def request_order(self, row: InboxRow, order_id: str, kind: str, payload: dict, what: str) -> None:
        self.store.write(orders.request, kind, order_id, row.customer_id, payload, self.clock.now())
        self._kick()
        self.call_from_thread(self.notify, self.t("notify.order_sent", what=what), timeout=5)

    # -- outreach -------------------------------------------------------------------------

    def action_outreach(self) -> None:
        if self.read_only:
            self.notify(self.t("notify.read_only"), severity="warning")
            return

        def done(req: OutreachRequest | None) -> None:
            if req is not None:
                self.send_outreach(req)

        example = shoptext.text("outreach", self.settings.shop.language)
        self.push_screen(OutreachScreen(self.t, example=example), done)

    def on_outreach_screen_audience_requested(self, event: OutreachScreen.AudienceRequested) -> None:
        self.preview_audience(event)

    def _sender(self) -> outreach.Sender:
        """What every outreach copy is filled with besides the customer's own values."""
        return outreach.Sender(self.me_name, self.shop_name, date.fromtimestamp(self.clock.now()))

    @work(thread=True, exclusive=True, group="audience", exit_on_error=False)
    def preview_audience(self, request: OutreachScreen.AudienceRequested) -> None:
        audience = outreach.Audience(vip_min=request.vip_min, bought_within_days=request.bought_within_days,
                                     me=self.me)
        found = self.store.read(outreach.preview, audience, self.clock.now(), body=request.body, sender=self._sender())
        self.call_from_thread(self._show_audience, request, found)

    def _show_audience(self, request, found: outreach.Preview) -> None:
        screen = self.screen
        if isinstance(screen, OutreachScreen):  # a late answer for an older filter is ignored there
            screen.show_audience(found.count, found.opted_out, [(s[1], s[2]) for s in found.sample],
                                 request=request, waiting=found.waiting, unfilled=found.unfilled,
                                 theirs=found.theirs)

    def send_outreach(self, req: OutreachRequest) -> None:
        rate = self.settings.outreach.per_minute
        audience = outreach.Audience(vip_min=req.vip_min, bought_within_days=req.bought_within_days, me=self.me)

        def queued(n: int) -> None:
            self._kick()
            self.call_from_thread(self.notify, self.t("notify.outreach", n=n, rate=rate), timeout=8)

        def refused(exc: Exception) -> None:  # a customer's values changed since the preview
            self.call_from_thread(self.notify, self.t("notify.outreach_refused", e=str(exc)), severity="error",
                                  timeout=12)

        self.write_in_order(outreach.send, audience, req.body, req.campaign, self.clock.now(), rate,
                            self._sender(), then=queued, failed=refused)

    # -- the group filter --------------------------------------------------------------------

    def action_cycle_group(self) -> None:
        cycle = GROUP_CYCLE if self._my_groups() else tuple(g for g in GROUP_CYCLE if g != "mine")
        index = cycle.index(self.group_choice) if self.group_choice in cycle else 0
        self.group_choice = cycle[(index + 1) % len(cycle)]
        self.filter = self.inbox_filter()
        self._show_filter()
        self.reload_inbox()

    def group_label(self) -> str:
        choice = self.group_choice
        if choice is None:
            return self.t("group.any")
        if choice == "mine":
            return self.t("group.mine") + " " + "/".join(self._my_groups())
        return choice

    # -- presence: online / away ---------------------------------------------------------------

    def action_toggle_away(self) -> None:
        """Alt+L: away ⇄ online. Not queued in the outbox like the other writes: being
        away means something only while connected, so it goes straight through the sync
        engine; the header shows it once the shop's answer is in the cache."""
        if self.read_only:
            self.notify(self.t("notify.read_only"), severity="warning")
            return
        mine = next((a for a in self.agents if a.id == self.me), None)
        self.set_presence("online" if mine is not None and mine.status == "away" else "away")

    @work(thread=True, exclusive=True, group="presence", exit_on_error=False)
    def set_presence(self, status: str) -> None:
        future = self.sync.request_presence(status) if self.sync is not None else None
        if future is None:
            self.call_from_thread(self.notify, self.t("presence.no_connection"), severity="warning")
            return
        try:
            future.result(timeout=PRESENCE_WAIT)
        except Exception as exc:  # any failure is told; none is fatal
            future.cancel()
            self.call_from_thread(self.notify, self.t("presence.failed", e=str(exc) or type(exc).__name__),
                                  severity="error")
            return
        key = "presence.now_away" if status == "away" else "presence.now_online"
        self.call_from_thread(self.notify, self.t(key), timeout=4)
