"""Triage: one incremental pass over the customer messages that arrived since the last.

A mark in ``meta`` (``workflow.triaged_upto``) remembers the highest customer message id
already looked at, so every pass reads only new rows (a rowid range: indexed, however big
the cache) and the whole pass costs a handful of batched statements.

Per conversation a pass

* adds its customer messages with complaint signals to ``conversations.complaint``;
* moves a conversation that *newly* became flagged to 客诉 with at least the configured
  priority – only one that is mine or unassigned (never take a colleague's conversation
  out of their hands) and not resolved – and queues ONE ``patch`` for the shop;
* routes a brand-new conversation (all its customer messages are new, no human agent
  reply yet, not flagged, mine or unassigned, not already 客诉) to the group its first
  customer message classifies to, with a ``patch`` {"group": g}. Only a match routes:
  "no word found" (售前 by default) never overrides the group the shop chose, e.g. a
  售后 conversation opened from an order page that starts with "在吗".

The first pass on a cache (no mark yet) only counts flags across the history: it changes
no group and queues nothing, because a freshly synced cache must not rewrite the shop's
past. Run it after the initial sync has finished; an empty cache stays "first run".

The mark is the highest *customer* message id, not ``max(messages.id)``: SQLite may hand
out a deleted row's id again, and only local pending agent messages are ever deleted, so a
customer message at the mark keeps every later id above it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from agentdesk.models import PRIORITY_NAMES
from agentdesk.store import outbox, writes
from agentdesk.workflow.rules import Rules

MARK = "workflow.triaged_upto"
COMPLAINT_GROUP = "客诉"
DEFAULT_GROUP = "售前"  # what classify() says when no routing word matched


@dataclass
class Triage:
    #: Conversations that became flagged in this pass (complaint went from 0 to more).
    flagged: list[str] = field(default_factory=list)
    #: Flagged conversations moved to 客诉 (locally and by a queued patch).
    moved: list[str] = field(default_factory=list)
    #: New conversations re-grouped by their first message.
    routed: list[str] = field(default_factory=list)
    #: The baseline pass over a cache's history: counted, nothing changed or queued.
    first_run: bool = False


def _ids(values) -> str:
    """A JSON array for ``json_each(?)``: one statement for a whole batch of ids."""
    return json.dumps(list(values), ensure_ascii=False)


def triage(conn: sqlite3.Connection, rules: Rules, me: str | None, now: float) -> Triage:
    """Run one pass (inside the caller's write transaction). ``me`` is this agent's id."""
    mark_text = writes.get_meta(conn, MARK)
    first_run = mark_text == ""
    mark = int(mark_text or 0)
    result = Triage(first_run=first_run)

    # Per conversation: its first new customer message, and how many new ones have signals.
    first: dict[str, str] = {}
    signals: dict[str, int] = {}
    top = mark
    has_signal = rules.has_signal
    for top, cid, body in conn.execute(
        "SELECT id, conversation_id, body FROM messages WHERE id > ? AND sender = 'customer' ORDER BY id",
        [mark],
    ):
        if cid not in first:
            first[cid] = body
        if has_signal(body):
            signals[cid] = signals.get(cid, 0) + 1
    if not first:
        return result  # nothing new (an empty cache stays in first-run mode)

    rows = {
        r[0]: r[1:]
        for r in conn.execute(
            "SELECT id, grp, status, assignee_id, priority, complaint FROM conversations "
            "WHERE id IN (SELECT value FROM json_each(?))",
            [_ids(first)],
        )
    }
    counts = [(n, cid) for cid, n in signals.items() if cid in rows]
    conn.executemany("UPDATE conversations SET complaint = complaint + ? WHERE id = ?", counts)

    route: dict[str, str] = {}
    for cid, text in first.items():
        if cid not in rows:
            continue
        grp, status, assignee, priority, before = rows[cid]
        mine_or_free = assignee is None or assignee == me
        if cid in signals and before == 0:
            result.flagged.append(cid)
            if not first_run and rules.move and grp != COMPLAINT_GROUP and mine_or_free and status != "resolved":
                _move(conn, cid, max(priority, rules.priority), now)
                result.moved.append(cid)
        elif not first_run and before == 0 and grp != COMPLAINT_GROUP and mine_or_free:
            target = rules.classify(text)
            if target != grp and target != DEFAULT_GROUP:
                route[cid] = target

    if route:
        # Brand new only: no customer message before this pass, no human reply yet.
        fresh = [
            r[0]
            for r in conn.execute(
                "SELECT c.value FROM json_each(?) c WHERE NOT EXISTS ("
                " SELECT 1 FROM messages m WHERE m.conversation_id = c.value AND ("
                "  (m.sender = 'customer' AND m.id <= ?) OR (m.sender = 'agent' AND m.auto = 0)))",
                [_ids(route), mark],
            )
        ]
        for cid in fresh:
            conn.execute("UPDATE conversations SET grp = ? WHERE id = ?", [route[cid], cid])
            outbox.enqueue(conn, "patch", {"group": route[cid]}, now, conversation_id=cid)
            result.routed.append(cid)

    writes.set_meta(conn, MARK, str(top))
    return result


def _move(conn: sqlite3.Connection, cid: str, priority: int, now: float) -> None:
    conn.execute(
        "UPDATE conversations SET grp = ?, priority = ? WHERE id = ?", [COMPLAINT_GROUP, priority, cid]
    )
    outbox.enqueue(
        conn, "patch", {"group": COMPLAINT_GROUP, "priority": PRIORITY_NAMES[priority]}, now, conversation_id=cid
    )
