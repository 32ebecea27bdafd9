"""Opening the cache: WAL, schema checks and migrations.

A file that is not SQLite, or is somebody else's SQLite database, or was written by a
newer agentdesk raises :class:`CacheError` – the cache is never wiped silently; the
user is told to run with ``--reset-cache``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from agentdesk.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION


class CacheError(Exception):
    """The cache file cannot be used as it is; the message says what to do."""


def connect(path: Path | str, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection with the pragmas every agentdesk connection uses."""
    conn = sqlite3.connect(
        str(path), timeout=10.0, isolation_level=None, check_same_thread=check_same_thread
    )
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def open_cache(path: Path | str, *, check_same_thread: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate the cache at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    hint = f"run again with --reset-cache to rebuild it (this deletes {path})"
    try:
        conn = connect(path, check_same_thread=check_same_thread)
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise CacheError(f"{path}: not a usable agentdesk cache ({exc}); {hint}") from None
    if app_id != APPLICATION_ID and tables:
        conn.close()
        raise CacheError(f"{path}: this SQLite file is not an agentdesk cache; {hint}")
    if version > SCHEMA_VERSION:
        conn.close()
        raise CacheError(
            f"{path}: made by a newer agentdesk (schema {version} > {SCHEMA_VERSION}); "
            "upgrade agentdesk or " + hint
        )
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        _migrate(conn, version)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise CacheError(f"{path}: the cache is damaged ({exc}); {hint}") from None
    return sqlite_utils.Database(conn)


def check_integrity(conn: sqlite3.Connection, path: Path | str) -> None:
    """Read every page and raise :class:`CacheError` if any is damaged.

    This costs ~0.3 s per 200 MB, so it is *not* part of opening (startup shows the
    cached inbox first); the app runs it in a background worker after the first paint.
    quick_check reports damage as a result row, not an exception: read the answer.
    """
    hint = f"run again with --reset-cache to rebuild it (this deletes {path})"
    try:
        problem = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise CacheError(f"{path}: the cache is damaged ({exc}); {hint}") from None
    if problem != "ok":
        raise CacheError(f"{path}: the cache is damaged ({' '.join(problem.split())}); {hint}")


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        # executescript commits first; run the script and the version bump atomically.
        conn.executescript(
            f"BEGIN IMMEDIATE;\n{script}\n"
            f"PRAGMA application_id = {APPLICATION_ID};\n"
            f"PRAGMA user_version = {number};\nCOMMIT;"
        )


def reset_cache(path: Path | str) -> None:
    """Delete the cache file and its WAL/SHM companions (only on explicit request)."""
    path = Path(path)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
