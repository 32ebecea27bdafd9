"""Outreach (主动营销 / 节日问候): picking an audience and sending to it at a safe pace.

Customers who opted out are never in an audience, nor are customers waiting for an
answer right now (a campaign message is no answer, and the shop refuses it there with
409 ``customer_waiting``), nor customers whose open conversation a colleague has (theirs
to write to: the shop refuses with 409 ``owned_by_other``, as it would a reply there); the
preview counts each separately so the agent sees who was left out and why the number is
smaller.

The message is filled *per recipient*: ``{customer.name}`` becomes each customer's own
name, ``{order.id}`` their latest order's. A ``{name}`` that is no variable, or one some
recipient has no value for, stops the send before anything is queued (:class:`Unfilled`;
the preview counts who lacks what, so the screen says so before it is confirmed).

Sending queues one outbox item per customer, spaced ``60 / per_minute`` seconds apart
through ``next_at``, so the sync engine's ordinary loop paces them and a restart resumes
where it stopped.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date

from agentdesk.quickreply.variables import context_values, fill, placeholders, unknown
from agentdesk.store import outbox


@dataclass(frozen=True)
class Audience:
    #: At least this VIP level.
    vip_min: int = 0
    #: With an order created within this many days (None: anyone).
    bought_within_days: int | None = None
    #: With a conversation in this group (售前/售后/客诉; None: any).
    group: str | None = None
    #: The sending agent: customers whose open conversation another agent has are left out.
    me: str | None = None


#: A customer with an open conversation where they wait for an answer.
_WAITING = "EXISTS (SELECT 1 FROM conversations w WHERE w.customer_id = c.id AND w.waiting_since IS NOT NULL)"
#: A customer whose latest conversation is open and another agent's (``?``: me).
_THEIRS = (
    "EXISTS (SELECT 1 FROM conversations t WHERE t.id = (SELECT id FROM conversations WHERE customer_id = c.id"
    " ORDER BY created_at DESC, id DESC LIMIT 1) AND t.status != 'resolved' AND t.assignee_id IS NOT NULL"
    " AND t.assignee_id != ?)"
)


def _left_out(aud: Audience) -> tuple[str, list]:
    """Who the audience reaches without asking: not opted out, not waiting, not a colleague's."""
    clause = f"c.opt_out = 0 AND NOT {_WAITING}"
    if aud.me is None:
        return clause, []
    return f"{clause} AND NOT {_THEIRS}", [aud.me]


@dataclass(frozen=True)
class Preview:
    #: How many will receive it.
    count: int
    #: In the audience but opted out: never sent to.
    opted_out: int
    #: In the audience but waiting for an answer now: not sent to.
    waiting: int
    #: The first few recipients: (customer id, name, VIP level).
    sample: list[tuple[str, str, int]]
    #: Variable name -> how many recipients have no value for it (the send is refused).
    unfilled: dict[str, int] = field(default_factory=dict)
    #: In the audience, but a colleague has their open conversation: not sent to.
    theirs: int = 0


class Unfilled(ValueError):
    """The message cannot be filled for everyone: nothing was queued."""

    def __init__(self, names: list[str], customers: int = 0) -> None:
        self.names = names
        self.customers = customers  # 0: the names are no variables at all
        what = " ".join("{" + n + "}" for n in names)
        super().__init__(f"{what}: no value for {customers} customer(s)" if customers else f"{what}: not a variable")


def _where(aud: Audience, now: float) -> tuple[str, list]:
    """The audience filter, without the opt-out and waiting tests (the preview counts
    those apart)."""
    clauses, params = ["c.vip_level >= ?"], [aud.vip_min]
    if aud.bought_within_days is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.created_at >= ?)"
        )
        params.append(now - aud.bought_within_days * 86400)
    if aud.group is not None:
        clauses.append("EXISTS (SELECT 1 FROM conversations v WHERE v.customer_id = c.id AND v.grp = ?)")
        params.append(aud.group)
    return " AND ".join(clauses), params


def audience(conn: sqlite3.Connection, aud: Audience, now: float, limit: int | None = None) -> list[tuple[str, str, int]]:
    """(customer id, name, VIP level) of everyone in the audience who accepts outreach
    and is not waiting for an answer, highest VIP first."""
    return [r[:3] for r in _recipients(conn, aud, now, limit)]


def _recipients(conn: sqlite3.Connection, aud: Audience, now: float, limit: int | None = None) -> list[tuple]:
    """Audience rows with each customer's latest order: (id, name, VIP, order id,
    status, carrier, tracking number)."""
    where, params = _where(aud, now)
    reached, first = _left_out(aud)
    params = first + params
    sql = (
        "SELECT c.id, c.name, c.vip_level, o.id, o.status, o.carrier, o.tracking_no FROM customers c "
        "LEFT JOIN orders o ON o.id = (SELECT id FROM orders WHERE customer_id = c.id "
        " ORDER BY created_at DESC, id DESC LIMIT 1) "
        f"WHERE {reached} AND {where} ORDER BY c.vip_level DESC, c.id"
    )
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [tuple(r) for r in conn.execute(sql, params)]


@dataclass(frozen=True)
class Sender:
    """What every copy of a message shares: who sends it, for which shop, on which day."""

    agent_name: str = ""
    shop_name: str = ""
    today: date | None = None


def values_for(row: tuple, sender: Sender) -> dict[str, str | None]:
    """The variable values for one recipient row of :func:`_recipients`."""
    _customer_id, name, vip, order_id, status, carrier, tracking_no = row
    order = {"id": order_id, "status": status, "carrier": carrier, "tracking_no": tracking_no} if order_id else None
    return context_values(customer={"name": name, "vip_level": vip}, order=order, agent_name=sender.agent_name,
                          shop_name=sender.shop_name, today=sender.today)


def preview(
    conn: sqlite3.Connection,
    aud: Audience,
    now: float,
    sample: int = 10,
    body: str = "",
    sender: Sender = Sender(),
) -> Preview:
    """Who the audience reaches and who it leaves out; with ``body``, how many
    recipients could not have each of its variables filled."""
    where, params = _where(aud, now)
    reached, first = _left_out(aud)
    theirs = f"c.opt_out = 0 AND NOT {_WAITING} AND {_THEIRS}" if aud.me is not None else "0"
    count, opted_out, waiting, colleagues = conn.execute(
        f"SELECT total({reached}), total(c.opt_out != 0), total(c.opt_out = 0 AND {_WAITING}), total({theirs}) "
        f"FROM customers c WHERE {where}", first + first + params
    ).fetchone()
    unfilled: dict[str, int] = {}
    if placeholders(body):
        for row in _recipients(conn, aud, now):
            for name in fill(body, values_for(row, sender)).missing:
                unfilled[name] = unfilled.get(name, 0) + 1
    return Preview(int(count), int(opted_out), int(waiting), audience(conn, aud, now, limit=sample), unfilled,
                   int(colleagues))


def send(
    conn: sqlite3.Connection,
    aud: Audience,
    body: str,
    campaign: str,
    now: float,
    per_minute: int,
    sender: Sender = Sender(),
) -> int:
    """Queue ``body``, filled for each recipient, for everyone in the audience,
    ``60 / per_minute`` seconds apart and after any outreach still queued (two campaigns
    in a row keep the pace, not double it); returns how many were queued. Raises
    :class:`Unfilled` (queuing nothing) if any recipient's copy would keep a ``{…}``."""
    if not 1 <= per_minute <= 60:
        raise ValueError("per_minute must be between 1 and 60")
    if not body.strip():
        raise ValueError("an outreach message needs a body")
    if names := list(dict.fromkeys(unknown(body))):
        raise Unfilled(names)
    gap = 60.0 / per_minute
    queued = conn.execute(
        "SELECT max(next_at) FROM outbox WHERE kind = 'outreach' AND state = 'pending'"
    ).fetchone()[0]
    start = now if queued is None else max(now, queued + gap)
    letters = []
    missing: dict[str, int] = {}
    for row in _recipients(conn, aud, now):
        filled = fill(body, values_for(row, sender))
        for name in filled.missing:
            missing[name] = missing.get(name, 0) + 1
        letters.append((row[0], filled.text))
    if missing:
        raise Unfilled(list(missing), max(missing.values()))
    for i, (customer_id, text) in enumerate(letters):
        # No campaign name: no campaign field (the shop refuses an empty one).
        payload = {"body": text, **({"campaign": campaign} if campaign.strip() else {})}
        outbox.enqueue(conn, "outreach", payload, now, customer_id=customer_id, next_at=start + i * gap)
    return len(letters)
