"""Inbox queries: keyset pages in "longest-waiting first" order, never OFFSET.

A page is addressed by the key of a row next to it, so reading page 2,000 of 100k
conversations costs the same as reading page 1.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from agentdesk.models import InboxRow
from agentdesk.store.rows import INBOX_COLUMNS, inbox_row

TABS = ("mine", "unassigned", "all")
Key = tuple[int, float, str]


@dataclass(frozen=True)
class InboxFilter:
    tab: str = "mine"  # mine | unassigned | all
    status: str | None = "open"  # None: every status
    me: str | None = None  # the agent id "mine" means
    group: str | None = None
    #: Any of these groups (the agent's own groups from the shop); empty: any group.
    groups: tuple[str, ...] = ()

    def where(self) -> tuple[str, list]:
        """SQL conditions matching one of the inbox indexes (see schema.py)."""
        parts: list[str] = []
        args: list = []
        if self.tab == "mine":
            parts.append("c.assignee_id = ?")
            args.append(self.me or "")
        elif self.tab == "unassigned":
            parts.append("c.assignee_id IS NULL")
        if self.status:
            parts.append("c.status = ?")
            args.append(self.status)
        if self.group:
            parts.append("c.grp = ?")
            args.append(self.group)
        if self.groups:
            parts.append(f"c.grp IN ({', '.join('?' * len(self.groups))})")
            args.extend(self.groups)
        return (" AND ".join(parts) or "1"), args


def _select(where: str) -> str:
    return (
        f"SELECT {INBOX_COLUMNS} FROM conversations c "
        f"LEFT JOIN customers cu ON cu.id = c.customer_id WHERE {where}"
    )


def first_page(conn: sqlite3.Connection, f: InboxFilter, limit: int = 50) -> list[InboxRow]:
    where, args = f.where()
    sql = _select(where) + " ORDER BY c.wait_rank, c.rank_ts, c.id LIMIT ?"
    return [inbox_row(r) for r in conn.execute(sql, [*args, limit])]


def page_after(
    conn: sqlite3.Connection, f: InboxFilter, after: Key, limit: int = 50
) -> list[InboxRow]:
    where, args = f.where()
    sql = (
        _select(where + " AND (c.wait_rank, c.rank_ts, c.id) > (?, ?, ?)")
        + " ORDER BY c.wait_rank, c.rank_ts, c.id LIMIT ?"
    )
    return [inbox_row(r) for r in conn.execute(sql, [*args, *after, limit])]


def page_before(
    conn: sqlite3.Connection, f: InboxFilter, before: Key, limit: int = 50
) -> list[InboxRow]:
    where, args = f.where()
    sql = (
        _select(where + " AND (c.wait_rank, c.rank_ts, c.id) < (?, ?, ?)")
        + " ORDER BY c.wait_rank DESC, c.rank_ts DESC, c.id DESC LIMIT ?"
    )
    rows = [inbox_row(r) for r in conn.execute(sql, [*args, *before, limit])]
    rows.reverse()
    return rows


def count(conn: sqlite3.Connection, f: InboxFilter) -> int:
    where, args = f.where()
    return conn.execute(f"SELECT count(*) FROM conversations c WHERE {where}", args).fetchone()[0]


def get(conn: sqlite3.Connection, conversation_id: str) -> InboxRow | None:
    r = conn.execute(_select("c.id = ?"), [conversation_id]).fetchone()
    return inbox_row(r) if r else None


def longest_waiting(conn: sqlite3.Connection, f: InboxFilter) -> InboxRow | None:
    """The customer who has waited longest among those ``f`` shows (None if nobody waits)."""
    rows = first_page(conn, f, limit=1)
    return rows[0] if rows and rows[0].waiting_since is not None else None


def latest_for_customer(conn: sqlite3.Connection, customer_id: str) -> InboxRow | None:
    """The customer's most recent conversation (uses ix_conversations_customer)."""
    r = conn.execute(
        "SELECT id FROM conversations WHERE customer_id = ? ORDER BY last_message_at DESC LIMIT 1", [customer_id]
    ).fetchone()
    return get(conn, r[0]) if r else None
