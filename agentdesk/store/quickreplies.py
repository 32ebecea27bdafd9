"""The quick-reply library's rows in the cache: pinyin keys, the shop-wide layer, usage.

Frecency is one decaying score per reply: each use adds 1 after the old score halves
every :data:`HALF_LIFE` seconds, so last week's favourite fades behind today's.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

HALF_LIFE = 7 * 24 * 3600.0
_CHUNK = 500


def pinyin_keys(conn: sqlite3.Connection, runs: Iterable[str]) -> dict[str, str]:
    """Cached syllables for those of ``runs`` already known."""
    runs = list(runs)
    out: dict[str, str] = {}
    for n in range(0, len(runs), _CHUNK):
        chunk = runs[n : n + _CHUNK]
        marks = ",".join("?" * len(chunk))
        out.update(conn.execute(f"SELECT run, syllables FROM pinyin_keys WHERE run IN ({marks})", chunk))
    return out


def save_pinyin_keys(conn: sqlite3.Connection, keys: dict[str, str]) -> int:
    conn.executemany("INSERT OR IGNORE INTO pinyin_keys (run, syllables) VALUES (?, ?)", keys.items())
    return len(keys)


def shop_replies(conn: sqlite3.Connection) -> list[dict]:
    return [json.loads(d) for (d,) in conn.execute("SELECT data FROM shop_replies ORDER BY position")]


def replace_shop_replies(conn: sqlite3.Connection, items: list[dict]) -> int:
    """The shop's library as it is now: the list replaces the last one."""
    conn.execute("DELETE FROM shop_replies")
    conn.executemany(
        "INSERT OR REPLACE INTO shop_replies (id, position, data) VALUES (?, ?, ?)",
        [(str(item.get("id", n)), n, json.dumps(item, ensure_ascii=False)) for n, item in enumerate(items)],
    )
    return len(items)


def usage(conn: sqlite3.Connection, now: float) -> dict[str, float]:
    """Each used reply's score decayed to ``now``."""
    return {
        rid: score * 0.5 ** (max(0.0, now - last) / HALF_LIFE)
        for rid, score, last in conn.execute("SELECT reply_id, score, last_used FROM reply_usage")
    }


def record_use(conn: sqlite3.Connection, reply_id: str, now: float) -> None:
    row = conn.execute("SELECT score, last_used FROM reply_usage WHERE reply_id = ?", [reply_id]).fetchone()
    score = 1.0 if row is None else row[0] * 0.5 ** (max(0.0, now - row[1]) / HALF_LIFE) + 1.0
    conn.execute(
        "INSERT INTO reply_usage (reply_id, score, uses, last_used) VALUES (?, ?, 1, ?) "
        "ON CONFLICT(reply_id) DO UPDATE SET score = excluded.score, uses = uses + 1, last_used = excluded.last_used",
        [reply_id, score, now],
    )
