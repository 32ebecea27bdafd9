"""Outreach (主动营销 / 节日问候): picking an audience and sending to it at a safe pace.

Customers who opted out are never in an audience; the preview counts them separately so
the agent sees who was left out and why the number is smaller. Sending queues one outbox
item per customer, spaced ``60 / per_minute`` seconds apart through ``next_at``, so the
sync engine's ordinary loop paces them and a restart resumes where it stopped.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from agentdesk.store import outbox


@dataclass(frozen=True)
class Audience:
    #: At least this VIP level.
    vip_min: int = 0
    #: With an order created within this many days (None: anyone).
    bought_within_days: int | None = None
    #: With a conversation in this group (售前/售后/客诉; None: any).
    group: str | None = None


def _where(aud: Audience, now: float) -> tuple[str, list]:
    """The audience filter, without the opt-out test (the preview counts both sides)."""
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
    """(customer id, name, VIP level) of everyone in the audience who accepts outreach,
    highest VIP first."""
    where, params = _where(aud, now)
    sql = f"SELECT c.id, c.name, c.vip_level FROM customers c WHERE c.opt_out = 0 AND {where} ORDER BY c.vip_level DESC, c.id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [tuple(r) for r in conn.execute(sql, params)]


def preview(conn: sqlite3.Connection, aud: Audience, now: float, sample: int = 10) -> tuple[int, int, list[tuple[str, str, int]]]:
    """(how many will receive it, how many opted out of the audience, the first ``sample``)."""
    where, params = _where(aud, now)
    count, opted_out = conn.execute(
        f"SELECT total(c.opt_out = 0), total(c.opt_out != 0) FROM customers c WHERE {where}", params
    ).fetchone()
    return int(count), int(opted_out), audience(conn, aud, now, limit=sample)


def send(conn: sqlite3.Connection, aud: Audience, body: str, campaign: str, now: float, per_minute: int) -> int:
    """Queue ``body`` for everyone in the audience, ``60 / per_minute`` seconds apart and
    after any outreach still queued (two campaigns in a row keep the pace, not double
    it); returns how many were queued."""
    if not 1 <= per_minute <= 60:
        raise ValueError("per_minute must be between 1 and 60")
    if not body.strip():
        raise ValueError("an outreach message needs a body")
    gap = 60.0 / per_minute
    queued = conn.execute(
        "SELECT max(next_at) FROM outbox WHERE kind = 'outreach' AND state = 'pending'"
    ).fetchone()[0]
    start = now if queued is None else max(now, queued + gap)
    payload = {"body": body, "campaign": campaign}
    recipients = audience(conn, aud, now)
    for i, (customer_id, _name, _vip) in enumerate(recipients):
        outbox.enqueue(conn, "outreach", payload, now, customer_id=customer_id, next_at=start + i * gap)
    return len(recipients)
