"""The durable outbox: every write to the shop is stored here first.

A reply or note is written, in one transaction, as a *pending* message in its thread and
as an outbox row whose id (a client UUID) is the ``Idempotency-Key``. The sync engine
sends rows oldest first; the server deduplicates by that key, so a retry after a lost
answer, a crash or a restart can never send twice. Acknowledged rows are deleted; the
message keeps ``state='sent'`` and gains its server id.
"""

from __future__ import annotations

import json
import sqlite3
import string
import uuid
from dataclasses import dataclass

from agentdesk.store import writes

#: kind -> (HTTP method, path template). Paths use the row's conversation or customer id,
#: or an id in the payload (order_id, followup_id), which is then not sent in the body.
ROUTES = {
    "reply": ("POST", "/v1/conversations/{conversation_id}/messages"),
    "note": ("POST", "/v1/conversations/{conversation_id}/messages"),
    "claim": ("POST", "/v1/conversations/{conversation_id}/claim"),
    "transfer": ("POST", "/v1/conversations/{conversation_id}/transfer"),
    "patch": ("PATCH", "/v1/conversations/{conversation_id}"),
    "customer_note": ("POST", "/v1/customers/{customer_id}/notes"),
    "order_address": ("POST", "/v1/orders/{order_id}/address"),
    "order_refund": ("POST", "/v1/orders/{order_id}/refund"),
    "order_refund_approve": ("POST", "/v1/orders/{order_id}/refund/approve"),
    "order_remark": ("POST", "/v1/orders/{order_id}/remarks"),
    "followup": ("POST", "/v1/followups"),
    "followup_patch": ("PATCH", "/v1/followups/{followup_id}"),
    "outreach": ("POST", "/v1/customers/{customer_id}/messages"),
}
#: Retry delays in seconds after the 1st, 2nd, … failure (then the last one, forever).
BACKOFF = (1, 2, 5, 10, 30, 60)
_ROW_IDS = ("conversation_id", "customer_id")


def _path_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def path_fields(kind: str) -> set[str]:
    """Payload fields a ``kind`` needs for its path (``order_id``, ``followup_id``)."""
    return _path_fields(ROUTES[kind][1]) - set(_ROW_IDS)


@dataclass(frozen=True)
class OutboxItem:
    id: str
    kind: str
    conversation_id: str | None
    customer_id: str | None
    payload: dict
    created_at: float
    attempts: int
    state: str
    error: str | None

    @property
    def method(self) -> str:
        return ROUTES[self.kind][0]

    @property
    def path(self) -> str:
        return ROUTES[self.kind][1].format_map(
            {**self.payload, "conversation_id": self.conversation_id, "customer_id": self.customer_id}
        )

    @property
    def body(self) -> dict:
        """The payload without the ids that went into the path (the server takes them from there)."""
        used = path_fields(self.kind)
        return {k: v for k, v in self.payload.items() if k not in used}


_COLUMNS = "id, kind, conversation_id, customer_id, payload, created_at, attempts, state, error"


def _item(r: tuple) -> OutboxItem:
    return OutboxItem(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7], r[8])


def new_id() -> str:
    return str(uuid.uuid4())


def enqueue(
    conn: sqlite3.Connection,
    kind: str,
    payload: dict,
    now: float,
    *,
    conversation_id: str | None = None,
    customer_id: str | None = None,
    client_id: str | None = None,
    next_at: float | None = None,
) -> str:
    """Queue one write, to be sent from ``next_at`` (default now); returns its client id."""
    if kind not in ROUTES:
        raise ValueError(f"unknown outbox kind {kind!r}")
    missing = path_fields(kind) - set(payload)
    if missing:
        raise ValueError(f"outbox {kind}: the payload needs {', '.join(sorted(missing))}")
    client_id = client_id or new_id()
    conn.execute(
        "INSERT INTO outbox (id, kind, conversation_id, customer_id, payload, created_at, next_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [client_id, kind, conversation_id, customer_id, json.dumps(payload, ensure_ascii=False), now,
         now if next_at is None else next_at],
    )
    return client_id


def send_message(
    conn: sqlite3.Connection,
    conversation_id: str,
    body: str,
    now: float,
    *,
    agent_id: str | None,
    kind: str = "reply",
    auto: bool = False,
    client_id: str | None = None,
    clear_draft: bool = True,
) -> str:
    """A reply (or internal note) shown at once as pending, and queued for the shop.
    Clears the conversation's draft in the same transaction (``clear_draft``: an
    automatic message leaves what the agent is typing alone)."""
    client_id = client_id or new_id()
    sender = "agent" if kind == "reply" else "note"
    writes.add_message(
        conn, conversation_id, sender, body, now, agent_id=agent_id, client_id=client_id, state="pending",
        auto=auto,
    )
    payload: dict = {"body": body, "kind": kind}
    if auto:
        payload["auto"] = True
    enqueue(conn, kind, payload, now, conversation_id=conversation_id, client_id=client_id)
    if clear_draft:
        writes.save_draft(conn, conversation_id, "", now)
    return client_id


def withdrawn(conn: sqlite3.Connection, client_ids: list[str]) -> list[str]:
    """Those of ``client_ids`` whose message is no longer in its thread (withdrawn)."""
    kept = set()
    for n in range(0, len(client_ids), 500):
        chunk = client_ids[n : n + 500]
        marks = ",".join("?" * len(chunk))
        kept.update(r[0] for r in conn.execute(f"SELECT client_id FROM messages WHERE client_id IN ({marks})", chunk))
    return [c for c in client_ids if c not in kept]


def due(conn: sqlite3.Connection, now: float, limit: int = 50) -> list[OutboxItem]:
    """Pending rows whose retry time has come, oldest first – except those behind an
    older row of the same conversation that is still waiting for its retry: a reply
    never overtakes the one typed before it (a postponed row holds only its own
    conversation, not everyone's)."""
    sql = (
        f"SELECT {_COLUMNS} FROM outbox o WHERE state = 'pending' AND next_at <= ? AND NOT EXISTS ("
        "SELECT 1 FROM outbox e WHERE e.state = 'pending' AND e.conversation_id = o.conversation_id "
        "AND e.next_at > ? AND (e.created_at < o.created_at OR (e.created_at = o.created_at AND e.rowid < o.rowid))) "
        "ORDER BY created_at, rowid LIMIT ?"
    )
    return [_item(r) for r in conn.execute(sql, [now, now, limit])]


def next_due_at(conn: sqlite3.Connection) -> float | None:
    r = conn.execute("SELECT min(next_at) FROM outbox WHERE state = 'pending'").fetchone()
    return r[0]


def pending_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]


def get(conn: sqlite3.Connection, client_id: str) -> OutboxItem | None:
    r = conn.execute(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", [client_id]).fetchone()
    return _item(r) if r else None


def done(conn: sqlite3.Connection, client_id: str) -> None:
    conn.execute("DELETE FROM outbox WHERE id = ?", [client_id])


def postpone(conn: sqlite3.Connection, client_id: str, now: float, error: str, retry_after: float | None = None) -> None:
    """A transient failure: try again later (backoff, or the server's Retry-After)."""
    r = conn.execute("SELECT attempts FROM outbox WHERE id = ?", [client_id]).fetchone()
    if r is None:
        return
    attempts = r[0] + 1
    delay = BACKOFF[min(attempts, len(BACKOFF)) - 1]
    if retry_after is not None:
        delay = max(delay, retry_after)
    conn.execute(
        "UPDATE outbox SET attempts = ?, next_at = ?, error = ? WHERE id = ?",
        [attempts, now + delay, error, client_id],
    )


def fail(conn: sqlite3.Connection, client_id: str, error: str) -> None:
    """A permanent refusal: stop retrying until the agent asks (the message shows why)."""
    conn.execute(
        "UPDATE outbox SET state = 'failed', attempts = attempts + 1, error = ? WHERE id = ?",
        [error, client_id],
    )
    conn.execute("UPDATE messages SET state = 'failed', error = ? WHERE client_id = ?", [error, client_id])
    # A follow-up the shop refused was never created: its local row would otherwise wait
    # for a server id forever (a refused message stays, marked failed, to retry).
    conn.execute("DELETE FROM followups WHERE client_id = ? AND server_id IS NULL", [client_id])


def retry(conn: sqlite3.Connection, client_id: str, now: float) -> bool:
    """The agent asked to send a failed item again (same key: still at most once)."""
    cur = conn.execute(
        "UPDATE outbox SET state = 'pending', next_at = ?, error = NULL WHERE id = ? AND state = 'failed'",
        [now, client_id],
    )
    conn.execute(
        "UPDATE messages SET state = 'pending', error = NULL WHERE client_id = ? AND state = 'failed'",
        [client_id],
    )
    return cur.rowcount > 0


def withdraw(conn: sqlite3.Connection, client_id: str, now: float) -> str | None:
    """Take a refused reply back: drop the row and its pending message, and put the
    text back into the conversation's draft (in front of anything typed since).
    Returns the conversation id, or None if there was nothing to withdraw."""
    item = get(conn, client_id)
    if item is None:
        return None
    done(conn, client_id)
    if item.kind in ("reply", "note") and item.conversation_id:
        conn.execute("DELETE FROM messages WHERE client_id = ? AND server_id IS NULL", [client_id])
        typed = writes.get_draft(conn, item.conversation_id)
        text = item.payload.get("body", "")
        merged = text if not typed.strip() else f"{text}\n{typed}"
        writes.save_draft(conn, item.conversation_id, merged, now)
        writes.refresh_summary(conn, item.conversation_id)
    return item.conversation_id

