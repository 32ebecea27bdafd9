"""Objects from the shop that could not be used, kept instead of lost (quarantine).

The sync engine records one row per bad object in the same transaction as the page it
came on, so the cursor moves past it and nothing else waits. A later good version of
the same object (a fixed customer, a conversation updated again) clears its row. The
header counts the rows; ``agentdesk sync --problems`` lists them.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

#: What is kept of an object as sent: enough to see what was wrong with it.
RAW_KEPT = 4_096
#: Rows kept at most; the oldest go first (a shop sending nothing but garbage must not
#: grow the cache without end).
MAX_ROWS = 10_000


@dataclass(frozen=True)
class ProblemRow:
    resource: str
    object_id: str | None
    field: str
    reason: str
    raw: str
    raw_bytes: int
    first_seen: float
    last_seen: float
    times: int


def record(conn: sqlite3.Connection, resource: str, object_id: str | None, field: str, reason: str,
           raw: bytes, now: float) -> None:
    """Keep one bad object (again: the same object updates its row and counts)."""
    key = object_id if object_id else "sha1:" + hashlib.sha1(raw).hexdigest()
    kept = raw[:RAW_KEPT].decode("utf-8", "replace")
    conn.execute(
        "INSERT INTO problems (resource, key, object_id, field, reason, raw, raw_bytes, first_seen, last_seen) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (resource, key) DO UPDATE SET field = excluded.field, "
        "reason = excluded.reason, raw = excluded.raw, raw_bytes = excluded.raw_bytes, "
        "last_seen = excluded.last_seen, times = problems.times + 1",
        [resource, key, object_id, field, reason, kept, len(raw), now, now],
    )
    conn.execute("DELETE FROM problems WHERE id <= (SELECT max(id) FROM problems) - ?", [MAX_ROWS])


def clear(conn: sqlite3.Connection, resource: str, object_ids: Iterable[str]) -> int:
    """Good versions of these objects arrived: their problems are over."""
    ids = list(object_ids)
    cleared = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        cur = conn.execute(
            f"DELETE FROM problems WHERE resource = ? AND key IN ({','.join('?' * len(chunk))})", [resource, *chunk]
        )
        cleared += cur.rowcount
    return cleared


def any_problems(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM problems LIMIT 1").fetchone() is not None


def count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM problems").fetchone()[0]


def listing(conn: sqlite3.Connection, limit: int = MAX_ROWS) -> list[ProblemRow]:
    """Newest first."""
    return [
        ProblemRow(*r) for r in conn.execute(
            "SELECT resource, object_id, field, reason, raw, raw_bytes, first_seen, last_seen, times FROM problems "
            "ORDER BY last_seen DESC, id DESC LIMIT ?", [limit])
    ]
