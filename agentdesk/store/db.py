"""Opening the cache: WAL, schema checks and migrations, and saying exactly what is
wrong when the file cannot be used.

A cache can fail in ways that need different fixes, so each is told apart and named
in one line with what to do: a folder that cannot be made or written (permissions),
a file that is read-only or unreadable (permissions: nothing is damaged), a file that
is not SQLite or is cut short or whose tables are damaged (rebuild it), another
program's database (choose another path), a cache from a newer agentdesk (upgrade),
a cache locked by another program. The cache is never wiped or changed on the way:
only ``--reset-cache`` replaces one, after saving what was not yet sent.
"""

from __future__ import annotations

import errno
import functools
import os
import sqlite3
import stat
from pathlib import Path

import sqlite_utils

from agentdesk.quoting import path_text
from agentdesk.store import unsent
from agentdesk.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from agentdesk.userfile import os_reason

_MAGIC = b"SQLite format 3\x00"
#: How long opening waits for another program's write lock before calling the cache
#: locked (an agentdesk write holds it for milliseconds).
_OPEN_BUSY_MS = 2000


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
    prepare_folder(path)
    _check_file(path)
    try:
        conn = connect(path, check_same_thread=check_same_thread)
    except sqlite3.Error as exc:
        raise CacheError(_problem(path, exc)) from None
    try:
        _check_contents(conn, path)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        _migrate(conn, conn.execute("PRAGMA user_version").fetchone()[0])
        _check_schema(conn, path)
    except sqlite3.Error as exc:
        conn.close()
        raise CacheError(_problem(path, exc)) from None
    except CacheError:
        conn.close()
        raise
    return sqlite_utils.Database(conn)


def prepare_folder(path: Path) -> None:
    """Make the cache's folder if needed; a path that cannot hold a file is a CacheError."""
    shown = path_text(path)
    if "\x00" in str(path):
        raise CacheError(f"{shown}: a cache path cannot hold a NUL character; fix [cache] path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), path.parent)
        raise CacheError(
            f"{shown}: cannot make the cache's folder: {path_text(blocker)} is a file, not a folder; "
            "set [cache] path to a file in a folder"
        ) from None
    except OSError as exc:
        raise CacheError(
            f"{shown}: cannot make the cache's folder {path_text(path.parent)} ({os_reason(exc)}); "
            "create it yourself or set [cache] path to a folder you can write"
        ) from None
    if not path.parent.is_dir():
        raise CacheError(f"{shown}: {path_text(path.parent)} is not a folder; set [cache] path")


def _check_file(path: Path) -> None:
    """What the file system and the file's first bytes already tell, before SQLite."""
    shown = path_text(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        return  # a new cache
    except OSError as exc:
        raise CacheError(f"{shown}: cannot be opened ({os_reason(exc)})") from None
    if stat.S_ISDIR(info.st_mode):
        raise CacheError(f"{shown}: is a folder, not a cache file; set [cache] path to a file name")
    if not stat.S_ISREG(info.st_mode):
        raise CacheError(f"{shown}: is not a regular file (a pipe or a device?); set [cache] path to a file name")
    if info.st_size == 0:
        return
    try:
        with open(path, "rb") as f:
            head = f.read(100)
    except OSError as exc:
        raise CacheError(_unreadable(path, exc)) from None
    if not head.startswith(_MAGIC):
        if len(head) < len(_MAGIC) and _MAGIC.startswith(head):
            raise CacheError(f"{shown}: is truncated ({info.st_size} bytes, not even a header); {reset_hint(path)}")
        raise CacheError(
            f"{shown}: is not a SQLite database, so not an agentdesk cache (or one damaged beyond reading); "
            f"{reset_hint(path)}"
        )
    if len(head) < 100:
        raise CacheError(f"{shown}: is truncated ({info.st_size} bytes, a header is 100); {reset_hint(path)}")
    app_id = int.from_bytes(head[68:72], "big")
    if app_id not in (0, APPLICATION_ID):
        raise CacheError(_foreign(path, f"application id 0x{app_id:08x}"))
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    counted = head[24:28] == head[92:96]  # the page count is valid only then
    wal = Path(f"{path}-wal")
    # With a WAL, pages not yet copied back into the file may live in the WAL.
    if counted and pages and not (wal.exists() and wal.stat().st_size) and info.st_size < pages * page_size:
        raise CacheError(
            f"{shown}: is truncated ({info.st_size:,} of {pages * page_size:,} bytes: a copy or a disk "
            f"that stopped short); {reset_hint(path)}"
        )


def _check_contents(conn: sqlite3.Connection, path: Path) -> None:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app_id != APPLICATION_ID and tables:
        raise CacheError(_foreign(path, "its tables are not agentdesk's"))
    if version > SCHEMA_VERSION:
        raise CacheError(_too_new(conn, path, version))
    # Only a write shows a read-only file: SQLite opens one read-only without a word.
    conn.execute(f"PRAGMA busy_timeout = {_OPEN_BUSY_MS}")
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(f"PRAGMA user_version = {version}")
    finally:
        conn.execute("ROLLBACK")
    conn.execute("PRAGMA busy_timeout = 10000")


def _too_new(conn: sqlite3.Connection, path: Path, version: int) -> str:
    start = (f"{path_text(path)}: was made by a newer agentdesk (cache schema {version}; "
             f"this one knows up to {SCHEMA_VERSION})")
    try:
        waiting = unsent.count(conn)
    except sqlite3.Error:
        return f"{start}; open it with that newer agentdesk (or upgrade this one)"
    if waiting:
        # --reset-cache is not offered: the newer agentdesk can send them, this one may not know how.
        return (f"{start} and holds {waiting} unsent write(s): open it with that newer agentdesk, "
                "which sends them (or upgrade this one)")
    return f"{start}; upgrade agentdesk, or run again with --reset-cache to rebuild it (nothing unsent is in it)"


def _foreign(path: Path, why: str) -> str:
    return (
        f"{path_text(path)}: is another program's SQLite database ({why}), not an agentdesk cache; "
        "set [cache] path to another file (agentdesk never deletes it; --reset-cache --force moves it aside)"
    )


@functools.cache
def _expected_columns() -> dict[str, set[str]]:
    """Tables and columns the migrations make (a few ms, once per process)."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(";\n".join(MIGRATIONS))
        return _columns(conn)
    finally:
        conn.close()


def _columns(conn: sqlite3.Connection) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    sql = ("SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p "
           "WHERE m.type = 'table'")
    for table, column in conn.execute(sql):
        out.setdefault(table, set()).add(column)
    return out


def _check_schema(conn: sqlite3.Connection, path: Path) -> None:
    """A renamed or dropped table or column would fail the first query that needs it,
    long after startup: find it now."""
    have = _columns(conn)
    for table, columns in _expected_columns().items():
        if table not in have:
            damage = f"table {table} is missing"
        elif columns - have[table]:
            damage = f"column {table}.{min(columns - have[table])} is missing"
        else:
            continue
        raise CacheError(f"{path_text(path)}: the cache's tables are damaged ({damage}); {reset_hint(path)}")


def _problem(path: Path, exc: sqlite3.Error) -> str:
    """One line for what SQLite said, in the user's terms."""
    shown = path_text(path)
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name == "SQLITE_NOTADB":
        return f"{shown}: is not a SQLite database, so not an agentdesk cache; {reset_hint(path)}"
    if name.startswith("SQLITE_CORRUPT"):
        return f"{shown}: the cache is damaged ({exc}); {reset_hint(path)}"
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        return unwritable(path, str(exc))
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return (f"{shown}: is locked by another program ({exc}); close the program that has it open "
                "(an sqlite3 shell, a backup tool) and try again")
    if name == "SQLITE_FULL":
        return f"{shown}: the disk is full; free some space and try again (nothing in the cache is lost)"
    if name.startswith("SQLITE_IOERR"):
        return f"{shown}: the disk would not read or write it ({exc}); check the disk, then try again"
    return f"{shown}: cannot be used ({exc}); {reset_hint(path)}"


def unwritable(path: Path, said: str) -> str:
    """Why the cache cannot be written: the file, its folder or the file system, by
    asking the OS (SQLite's "unable to open database file" does not say)."""
    shown = path_text(path)
    folder = path.parent
    keep = "nothing in it is damaged or lost"
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return f"{shown}: is on a read-only file system; set [cache] path to a writable place ({keep})"
    except OSError:
        pass
    if path.exists() and not os.access(path, os.R_OK):
        return _unreadable(path, PermissionError(errno.EACCES, "permission denied"))
    if path.exists() and not os.access(path, os.W_OK):
        return f"{shown}: is read-only; agentdesk writes its cache: make it writable (chmod u+w {shown}); {keep}"
    if not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"{shown}: the folder {path_text(folder)} is not writable, and SQLite must create "
            f"{path.name}-wal and {path.name}-shm beside the cache: make the folder writable or set "
            f"[cache] path elsewhere ({keep})"
        )
    for companion in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        if companion.exists() and not os.access(companion, os.R_OK | os.W_OK):
            return f"{shown}: {path_text(companion)} is not writable; make it writable (chmod u+rw) ({keep})"
    return f"{shown}: cannot be opened for writing ({said}); check its permissions ({keep})"


def _unreadable(path: Path, exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (f"{path_text(path)}: cannot be read (permission denied); give yourself access "
                f"(chmod u+rw {path_text(path)}): the cache is not damaged")
    return f"{path_text(path)}: cannot be read ({os_reason(exc)})"


def reset_hint(path: Path) -> str:
    """What ``--reset-cache`` would do with this cache: rebuild it keeping the unsent
    writes it still yields, or (when they cannot be read) only with ``--force``, which
    moves the file aside instead of deleting it."""
    try:
        saved = unsent.read(path)
    except unsent.Unreadable:
        return ("run again with --reset-cache --force to move it aside and start a new cache "
                "(unsent writes in it cannot be read)")
    waiting = len(saved.outbox)
    if waiting:
        return (f"run again with --reset-cache to rebuild it: its {waiting} unsent write(s) are saved "
                "to a file and put back into the new cache")
    return "run again with --reset-cache to rebuild it from the shop (nothing unsent is in it)"


def check_integrity(conn: sqlite3.Connection, path: Path | str) -> None:
    """Read every page and raise :class:`CacheError` if any is damaged.

    This costs ~0.3 s per 200 MB, so it is *not* part of opening (startup shows the
    cached inbox first); the app runs it in a background worker after the first paint.
    quick_check reports damage as a result row, not an exception: read the answer.
    """
    path = Path(path)
    try:
        problem = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise CacheError(f"{path_text(path)}: the cache is damaged ({exc}); {reset_hint(path)}") from None
    if problem != "ok":
        raise CacheError(
            f"{path_text(path)}: the cache is damaged ({' '.join(problem.split())}); {reset_hint(path)}"
        )


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        # executescript commits first; run the script and the version bump atomically.
        conn.executescript(
            f"BEGIN IMMEDIATE;\n{script}\n"
            f"PRAGMA application_id = {APPLICATION_ID};\n"
            f"PRAGMA user_version = {number};\nCOMMIT;"
        )
