"""Inbox queries: keyset pages in "longest-waiting first" order, never OFFSET.

A page is addressed by the key of a row next to it, so reading page 2,000 of 100k
conversations costs the same as reading page 1.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace

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
    #: Shortest wait first (the supervisor's board can turn the list round).
    descending: bool = False

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


def _order(forward: bool) -> str:
    d = "" if forward else " DESC"
    return f" ORDER BY c.wait_rank{d}, c.rank_ts{d}, c.id{d} LIMIT ?"


def _segment(conn, f: InboxFilter, rank: int, bound: tuple | None, op: str, ascending: bool, limit: int):
    """Rows of one wait_rank past ``bound`` ((rank_ts, id); None: from the segment's end)."""
    where, args = f.where()
    where += " AND c.wait_rank = ?"
    args = [*args, rank]
    if bound is not None:
        where += f" AND (c.rank_ts, c.id) {op} (?, ?)"
        args += list(bound)
    d = "" if ascending else " DESC"
    sql = _select(where) + f" ORDER BY c.rank_ts{d}, c.id{d} LIMIT ?"
    return [inbox_row(r) for r in conn.execute(sql, [*args, limit])]


# "Shortest wait first" (the board's other order) turns round only the waiting
# customers – newest arrival on top – and keeps the rest most-recent-first after them.
# Each segment is one index range read in one direction, so paging stays keyset.

def _shortest_after(conn, f: InboxFilter, after: Key | None, limit: int) -> list[InboxRow]:
    rows: list[InboxRow] = []
    if after is None or after[0] == 0:
        rows = _segment(conn, f, 0, after[1:] if after else None, "<", False, limit)
        after = None
    if len(rows) < limit:
        rows += _segment(conn, f, 1, after[1:] if after else None, ">", True, limit - len(rows))
    return rows


def _shortest_before(conn, f: InboxFilter, before: Key, limit: int) -> list[InboxRow]:
    rows: list[InboxRow] = []
    bound: tuple | None = before[1:]
    if before[0] == 1:
        rows = _segment(conn, f, 1, bound, "<", False, limit)
        bound = None
    if len(rows) < limit:
        rows += _segment(conn, f, 0, bound, ">", True, limit - len(rows))
    rows.reverse()
    return rows


def first_page(conn: sqlite3.Connection, f: InboxFilter, limit: int = 50) -> list[InboxRow]:
    if f.descending:
        return _shortest_after(conn, f, None, limit)
    where, args = f.where()
    sql = _select(where) + _order(True)
    return [inbox_row(r) for r in conn.execute(sql, [*args, limit])]


def page_after(
    conn: sqlite3.Connection, f: InboxFilter, after: Key, limit: int = 50
) -> list[InboxRow]:
    """The rows shown after ``after`` (below it on screen)."""
    if f.descending:
        return _shortest_after(conn, f, after, limit)
    where, args = f.where()
    sql = _select(where + " AND (c.wait_rank, c.rank_ts, c.id) > (?, ?, ?)") + _order(True)
    return [inbox_row(r) for r in conn.execute(sql, [*args, *after, limit])]


def page_before(
    conn: sqlite3.Connection, f: InboxFilter, before: Key, limit: int = 50
) -> list[InboxRow]:
    """The rows shown before ``before`` (above it on screen), in screen order."""
    if f.descending:
        return _shortest_before(conn, f, before, limit)
    where, args = f.where()
    sql = _select(where + " AND (c.wait_rank, c.rank_ts, c.id) < (?, ?, ?)") + _order(False)
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
    rows = first_page(conn, replace(f, descending=False), limit=1)
    return rows[0] if rows and rows[0].waiting_since is not None else None


def latest_for_customer(conn: sqlite3.Connection, customer_id: str) -> InboxRow | None:
    """The customer's most recent conversation (uses ix_conversations_customer)."""
    r = conn.execute(
        "SELECT id FROM conversations WHERE customer_id = ? ORDER BY last_message_at DESC LIMIT 1", [customer_id]
    ).fetchone()
    return get(conn, r[0]) if r else None
