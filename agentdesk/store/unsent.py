"""Unsent writes, kept safe across a cache rebuild.

What the agent wrote that the shop has not yet acknowledged – outbox rows pending or
refused, with the local rows that show them (the pending message in the thread, a
customer note, a follow-up), and the drafts of every conversation – can be read from
any cache file that still reads, even one too new or too damaged to open normally;
saved to a JSON file; and put back into a cache with the SAME client ids. The id is
the ``Idempotency-Key``, so a write that did reach the shop before the rebuild is not
done twice: the shop answers the retry with the answer it gave the first time.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from agentdesk import paths, userfile
from agentdesk.quoting import literal, path_text
from agentdesk.store import outbox, writes
from agentdesk.store.schema import APPLICATION_ID

FORMAT = "agentdesk unsent writes"
VERSION = 1
#: Outbox states that are not yet done: waiting to be sent, or refused and waiting for Alt+R.
UNSENT_STATES = ("pending", "failed")
#: Tables whose rows show an unsent write on screen until the shop's answer replaces them.
LOCAL_TABLES = ("messages", "customer_notes", "followups")
#: A saved file is read whole; past this it is not one of ours.
MAX_FILE_BYTES = 512 << 20


class Unreadable(Exception):
    """The cache's unsent writes cannot be read (the message says why)."""


class BadFile(Exception):
    """A saved file that cannot be put back; the message names the file and the field."""


@dataclass
class Unsent:
    #: Outbox rows as saved: id, kind, conversation_id, customer_id, payload (an object,
    #: or the stored text when it was not JSON), created_at, attempts, state, error,
    #: and ``local``: {table: [row, …]} of the rows that show it.
    outbox: list[dict] = field(default_factory=list)
    #: {conversation_id, body, updated_at} of every draft with text in it.
    drafts: list[dict] = field(default_factory=list)
    #: The cache schema they were read from (0 when unknown).
    schema: int = 0

    def __bool__(self) -> bool:
        return bool(self.outbox or self.drafts)

    def describe(self) -> str:
        """"3 unsent write(s) and 1 draft(s)"."""
        return f"{len(self.outbox)} unsent write(s) and {len(self.drafts)} draft(s)"


# -- reading a cache ------------------------------------------------------------------------


def count(conn: sqlite3.Connection) -> int:
    """Unsent outbox rows in an open cache (sqlite3.Error when there is no outbox)."""
    marks = ",".join("?" * len(UNSENT_STATES))
    return conn.execute(f"SELECT count(*) FROM outbox WHERE state IN ({marks})", UNSENT_STATES).fetchone()[0]


def read(path: Path | str) -> Unsent:
    """Everything unsent in the cache at ``path``, read without changing the file
    (no migration, no WAL checkpoint). Raises :class:`Unreadable`."""
    path = Path(path)
    try:
        if not path.exists() or path.stat().st_size == 0:
            return Unsent()
    except (OSError, ValueError) as exc:
        raise Unreadable(str(exc)) from None
    try:
        conn = sqlite3.connect(f"file:{quote(os.fsdecode(path))}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise Unreadable(str(exc)) from None
    try:
        conn.execute("PRAGMA busy_timeout = 2000")
        return _read(conn)
    except sqlite3.Error as exc:
        raise Unreadable(str(exc)) from None
    except KeyError as exc:  # a newer agentdesk's outbox, without a column ours needs
        raise Unreadable(f"its outbox has no {exc} column") from None
    finally:
        conn.close()


def _read(conn: sqlite3.Connection) -> Unsent:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    schema = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        return Unsent(schema=schema)
    if app_id != APPLICATION_ID:
        raise Unreadable("it is not an agentdesk cache")
    drafts = [
        {"conversation_id": r[0], "body": r[1], "updated_at": r[2]}
        for r in conn.execute("SELECT conversation_id, body, updated_at FROM drafts WHERE trim(body) != '' "
                              "ORDER BY updated_at")
    ]
    if "outbox" not in tables:
        if schema >= 2:  # migration 2 made it: it was there, and is gone
            raise Unreadable("its outbox table is missing")
        return Unsent(drafts=drafts, schema=schema)
    marks = ",".join("?" * len(UNSENT_STATES))
    cur = conn.execute(f"SELECT * FROM outbox WHERE state IN ({marks}) ORDER BY created_at, rowid", UNSENT_STATES)
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    for row in rows:
        try:
            row["payload"] = json.loads(row["payload"])
        except (TypeError, ValueError):
            pass  # kept as the stored text: put_back reports it, the file keeps it
        row["local"] = {t: _local_rows(conn, t, row["id"]) for t in LOCAL_TABLES if t in tables}
    return Unsent(outbox=rows, drafts=drafts, schema=schema)


def _local_rows(conn: sqlite3.Connection, table: str, client_id: str) -> list[dict]:
    cur = conn.execute(f"SELECT * FROM {table} WHERE client_id = ? AND server_id IS NULL", [client_id])
    names = [d[0] for d in cur.description]
    return [{k: v for k, v in zip(names, r) if k != "id"} for r in cur.fetchall()]


# -- the saved file ---------------------------------------------------------------------------


def document(found: Unsent, source: Path | str) -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "cache": os.fsdecode(source),
        "schema": found.schema,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "outbox": found.outbox,
        "drafts": found.drafts,
    }


def dumps(found: Unsent, source: Path | str) -> str:
    # ASCII-escaped: a control character or bidi override in a reply can never reach
    # the terminal of whoever looks at the file; json.loads gives the exact text back.
    return json.dumps(document(found, source), ensure_ascii=True, indent=1) + "\n"


def save(found: Unsent, source: Path | str) -> Path:
    """Write ``found`` to a new timestamped file in the data dir (or, when that cannot
    be written, beside the cache) and return its path; OSError when neither works.
    Written whole or not at all: a crash leaves no half file behind."""
    source = Path(source)
    text = dumps(found, source)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    last: OSError | None = None
    for folder in (paths.data_dir() / "unsent", source.parent):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            return _write_new(folder, f"unsent-{source.stem}-{stamp}", text)
        except OSError as exc:
            last = exc
    assert last is not None
    raise last


def _write_new(folder: Path, stem: str, text: str) -> Path:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".unsent-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        for n in range(1, 1000):
            target = folder / (f"{stem}.json" if n == 1 else f"{stem}-{n}.json")
            try:
                os.link(tmp, target)  # never replaces an earlier save
            except FileExistsError:
                continue
            return target
        raise FileExistsError(f"{folder}: too many saved files this second")
    finally:
        os.unlink(tmp)


def load(file: Path | str) -> Unsent:
    """A saved file, checked as a whole (each row is checked when it is put back)."""
    file = Path(file)
    where = path_text(file)
    try:
        data = json.loads(userfile.decode(userfile.read_bytes(file, MAX_FILE_BYTES)))
    except userfile.UserFileError as exc:
        raise BadFile(f"{where}: {exc.message}") from None
    except (ValueError, RecursionError) as exc:
        raise BadFile(f"{where}: not valid JSON ({literal(str(exc), 120)})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BadFile(f'{where}: not a file of unsent writes (no "format": "{FORMAT}")')
    if data.get("version") != VERSION:
        raise BadFile(f"{where}: version {literal(repr(data.get('version')))} is not one this agentdesk reads "
                      f"({VERSION}); put it back with the agentdesk that saved it")
    for key in ("outbox", "drafts"):
        if not isinstance(data.get(key), list):
            raise BadFile(f"{where}: {key} must be a list")
    schema = data.get("schema")
    return Unsent(outbox=data["outbox"], drafts=data["drafts"], schema=schema if isinstance(schema, int) else 0)


# -- putting them back --------------------------------------------------------------------------


@dataclass
class PutBack:
    added: int = 0
    #: Already in this cache's outbox (put back before).
    queued: int = 0
    #: The shop already acknowledged them (the cache has their answer): not sent again.
    delivered: int = 0
    drafts: int = 0
    #: One line per row that could not be put back (it stays in the file).
    problems: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts = [f"put back {self.added} unsent write(s) and {self.drafts} draft(s)"]
        if self.queued:
            parts.append(f"{self.queued} already queued")
        if self.delivered:
            parts.append(f"{self.delivered} already delivered")
        if self.problems:
            parts.append(f"{len(self.problems)} skipped")
        return "; ".join(parts)


def put_back(conn: sqlite3.Connection, found: Unsent, now: float) -> PutBack:
    """Queue every saved write again with its own id (in the writer's transaction)."""
    result = PutBack()
    columns = {t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")} - {"id"} for t in LOCAL_TABLES}
    for n, row in enumerate(found.outbox):
        problem = _row_problem(row)
        if problem:
            result.problems.append(f"outbox[{n}]: {problem}")
            continue
        client_id = row["id"]
        if conn.execute("SELECT 1 FROM outbox WHERE id = ?", [client_id]).fetchone():
            result.queued += 1
            continue
        if _delivered(conn, client_id):
            result.delivered += 1
            continue
        state = row.get("state") if row.get("state") in UNSENT_STATES else "pending"
        conn.execute(
            "INSERT INTO outbox (id, kind, conversation_id, customer_id, payload, created_at, attempts, next_at, "
            "state, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [client_id, row["kind"], row.get("conversation_id"), row.get("customer_id"),
             json.dumps(row["payload"], ensure_ascii=False), row["created_at"], int(row.get("attempts") or 0),
             now, state, row.get("error") if isinstance(row.get("error"), str) else None],
        )
        shown = False
        for table, saved in (row.get("local") or {}).items():
            if table not in columns or not isinstance(saved, list):
                continue
            for local in saved:
                if isinstance(local, dict) and _put_local(conn, table, local, columns[table], client_id):
                    shown = shown or table == "messages"
        if shown and row.get("conversation_id"):
            writes.refresh_summary(conn, row["conversation_id"])
        result.added += 1
    for n, draft in enumerate(found.drafts):
        cid, body = (draft.get("conversation_id"), draft.get("body")) if isinstance(draft, dict) else (None, None)
        if not isinstance(cid, str) or not isinstance(body, str):
            result.problems.append(f"drafts[{n}]: needs a conversation_id and a body (strings)")
            continue
        typed = writes.get_draft(conn, cid)
        if body.strip() and body not in typed:
            writes.save_draft(conn, cid, body if not typed.strip() else f"{body}\n{typed}", now)
            result.drafts += 1
    return result


def _row_problem(row: object) -> str:
    if not isinstance(row, dict):
        return "not an object"
    client_id, kind, payload = row.get("id"), row.get("kind"), row.get("payload")
    if not isinstance(client_id, str) or not client_id or len(client_id) > 200:
        return "id must be a non-empty string"
    if kind not in outbox.ROUTES:
        return f"kind {literal(repr(kind))} is not one this agentdesk sends (a newer agentdesk's?)"
    if not isinstance(payload, dict):
        return "payload is not a JSON object (the cache held it damaged)"
    for key in ("conversation_id", "customer_id"):
        if row.get(key) is not None and not isinstance(row.get(key), str):
            return f"{key} must be a string or null"
    missing = outbox.path_fields(kind) - set(payload)
    if missing:
        return f"payload needs {', '.join(sorted(missing))}"
    created = row.get("created_at")
    if isinstance(created, bool) or not isinstance(created, int | float) or not math.isfinite(created):
        return "created_at must be a number"
    return ""


def _delivered(conn: sqlite3.Connection, client_id: str) -> bool:
    return any(
        conn.execute(f"SELECT 1 FROM {table} WHERE client_id = ? AND server_id IS NOT NULL", [client_id]).fetchone()
        for table in LOCAL_TABLES
    )


def _put_local(conn: sqlite3.Connection, table: str, row: dict, columns: set[str], client_id: str) -> bool:
    if conn.execute(f"SELECT 1 FROM {table} WHERE client_id = ?", [client_id]).fetchone():
        return False
    values = {k: v for k, v in row.items() if k in columns and (v is None or isinstance(v, str | int | float))}
    values["client_id"] = client_id
    names = list(values)
    try:
        conn.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                     [values[k] for k in names])
    except sqlite3.IntegrityError:  # a required column the saved row lacks: the outbox row still goes
        return False
    return True
