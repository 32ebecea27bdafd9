"""Changing a conversation: status, snooze, priority, tags, group, transfer.

Optimistic: the local row changes at once (the agent sees the result without waiting for
the network) and, in the same transaction, an outbox row queues the same change for the
shop. When the shop's answer syncs back, its newer version simply overwrites the row.
"""

from __future__ import annotations

import json
import sqlite3

from agentdesk.models import CONVERSATION_STATUSES, GROUPS, PRIORITIES
from agentdesk.store import outbox, writes
from agentdesk.timefmt import rfc3339


def patch(
    conn: sqlite3.Connection,
    cid: str,
    now: float,
    *,
    status: str | None = None,
    snoozed_until: float | None = None,
    priority: str | None = None,
    tags: list[str] | tuple[str, ...] | None = None,
    group: str | None = None,
    expected_version: int | None = None,
) -> str:
    """Change the given fields locally and queue one ``patch``; returns its outbox id.

    Follows the shop's rules so the optimistic row matches what comes back: snoozing
    needs an end time, and any status other than snoozed clears it. Raises ValueError for
    a value the shop would refuse (before anything is written).
    """
    payload: dict = {}
    if status is not None:
        if status not in CONVERSATION_STATUSES:
            raise ValueError(f"status must be one of {', '.join(CONVERSATION_STATUSES)}, not {status!r}")
        if status == "snoozed" and snoozed_until is None:
            raise ValueError("snoozing needs snoozed_until")
        payload["status"] = status
    if snoozed_until is not None:
        if status not in (None, "snoozed"):
            raise ValueError("snoozed_until goes only with status snoozed")
        payload["snoozed_until"] = rfc3339(snoozed_until)
    if priority is not None:
        if priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}, not {priority!r}")
        payload["priority"] = priority
    if tags is not None:
        clean = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
        payload["tags"] = clean
    if group is not None:
        if group not in GROUPS:
            raise ValueError(f"group must be one of {', '.join(GROUPS)}, not {group!r}")
        payload["group"] = group
    if not payload:
        raise ValueError("nothing to change")
    if expected_version is not None:
        payload["expected_version"] = expected_version

    if status is not None:
        was = conn.execute("SELECT status FROM conversations WHERE id = ?", [cid]).fetchone()
        writes.set_status(conn, cid, status)
        if status != "snoozed":
            conn.execute("UPDATE conversations SET snoozed_until = NULL WHERE id = ?", [cid])
        if status == "open" and was is not None and was[0] != "open":
            writes.refresh_summary(conn, cid)  # reopened: is the customer waiting again?
    if snoozed_until is not None:
        conn.execute("UPDATE conversations SET snoozed_until = ? WHERE id = ?", [snoozed_until, cid])
    if priority is not None:
        conn.execute("UPDATE conversations SET priority = ? WHERE id = ?", [PRIORITIES[priority], cid])
    if tags is not None:
        conn.execute(
            "UPDATE conversations SET tags = ? WHERE id = ?", [json.dumps(payload["tags"], ensure_ascii=False), cid]
        )
    if group is not None:
        conn.execute("UPDATE conversations SET grp = ? WHERE id = ?", [group, cid])
    return outbox.enqueue(conn, "patch", payload, now, conversation_id=cid)


def transfer(
    conn: sqlite3.Connection,
    cid: str,
    now: float,
    *,
    me: str | None,
    to_agent_id: str | None = None,
    to_group: str | None = None,
    note: str = "",
    customer_message: str = "",
) -> str:
    """Hand a conversation to another agent or to a group's queue; returns the outbox id.

    Locally the conversation leaves my hands at once (to the agent, or unassigned and
    queued in the group). A non-empty ``note`` appears at once as a pending internal note
    whose client id is the outbox id: the shop stores its copy of the note under the
    same Idempotency-Key, so the synced note merges with this one instead of doubling.
    """
    if not to_agent_id and not to_group:
        raise ValueError("transfer needs to_agent_id or to_group")
    if to_group is not None and to_group not in GROUPS:
        raise ValueError(f"to_group must be one of {', '.join(GROUPS)}, not {to_group!r}")
    payload: dict = {"note": note}
    if to_agent_id:
        payload["to_agent_id"] = to_agent_id
    if to_group:
        payload["to_group"] = to_group
    if customer_message.strip():
        payload["customer_message"] = customer_message

    client_id = outbox.new_id()
    # Mirrors the shop: an agent takes it over directly, a group gets it queued.
    if to_agent_id:
        conn.execute(
            "UPDATE conversations SET assignee_id = ?, stage = 'agent', grp = coalesce(?, grp) WHERE id = ?",
            [to_agent_id, to_group, cid],
        )
    else:
        conn.execute(
            "UPDATE conversations SET assignee_id = NULL, stage = 'queued', grp = ? WHERE id = ?", [to_group, cid]
        )
    if note.strip():
        # The same shape as the shop's transfer line, so the handoff banner reads either.
        names = dict(conn.execute("SELECT id, name FROM agents WHERE id IN (?, ?)", [me, to_agent_id]).fetchall())
        handoff = {"from": me, "from_name": names.get(me), "to_agent": to_agent_id or None,
                   "to_agent_name": names.get(to_agent_id), "to_group": to_group, "note": note}
        writes.add_message(
            conn, cid, "note", note, now, agent_id=me, client_id=client_id, state="pending", meta={"handoff": handoff}
        )
    return outbox.enqueue(conn, "transfer", payload, now, conversation_id=cid, client_id=client_id)
