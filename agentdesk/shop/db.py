"""The reference shop's own SQLite database: schema and seeding from the demo fixtures."""

from __future__ import annotations

import json
import sqlite3
from importlib import resources
from pathlib import Path

from agentdesk.models import PRIORITY_NAMES

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL DEFAULT 'agent',
    read_only INTEGER NOT NULL DEFAULT 0, groups TEXT NOT NULL DEFAULT '[]',
    token TEXT UNIQUE NOT NULL, status TEXT NOT NULL DEFAULT 'offline', last_seen REAL
);
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, vip_level INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '[]', location TEXT NOT NULL DEFAULT '', first_seen REAL,
    updated_at REAL NOT NULL, opt_out INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ix_customers_name ON customers (name);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, items TEXT NOT NULL, amount REAL NOT NULL,
    status TEXT NOT NULL, carrier TEXT, tracking_no TEXT, address TEXT NOT NULL DEFAULT '',
    created_at REAL, paid_at REAL, shipped_at REAL, delivered_at REAL, updated_at REAL NOT NULL,
    remarks TEXT NOT NULL DEFAULT '[]', refund TEXT
);
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, grp TEXT NOT NULL, status TEXT NOT NULL,
    snoozed_until REAL, assignee_id TEXT, priority TEXT NOT NULL DEFAULT 'normal',
    tags TEXT NOT NULL DEFAULT '[]', order_id TEXT, stage TEXT NOT NULL DEFAULT 'agent',
    version INTEGER NOT NULL DEFAULT 1, created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_conversations_customer ON conversations (customer_id, updated_at);
CREATE INDEX IF NOT EXISTS ix_conversations_snoozed ON conversations (status, snoozed_until);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, conversation_id TEXT NOT NULL,
    sender TEXT NOT NULL, agent_id TEXT, body TEXT NOT NULL, created_at REAL NOT NULL,
    client_id TEXT, auto INTEGER NOT NULL DEFAULT 0, meta TEXT
);
CREATE INDEX IF NOT EXISTS ix_messages_thread ON messages (conversation_id, seq);
CREATE TABLE IF NOT EXISTS notes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, customer_id TEXT NOT NULL,
    agent_id TEXT, body TEXT NOT NULL, created_at REAL NOT NULL, client_id TEXT
);
CREATE TABLE IF NOT EXISTS followups (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE, customer_id TEXT NOT NULL, order_id TEXT,
    conversation_id TEXT, agent_id TEXT, due_at REAL NOT NULL, note TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open', client_id TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_followups_client ON followups (client_id);
CREATE TABLE IF NOT EXISTS events (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL, at REAL NOT NULL, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    agent_id TEXT NOT NULL, key TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,
    request TEXT,  -- "METHOD /path sha256-of-body": the key on another request is refused
    PRIMARY KEY (agent_id, key)
);
"""
#: Columns added after the first release: a shop file from before gets them on open
#: (CREATE TABLE IF NOT EXISTS leaves an existing table as it is).
ADDED_COLUMNS = (
    ("customers", "opt_out", "INTEGER NOT NULL DEFAULT 0"),
    ("orders", "remarks", "TEXT NOT NULL DEFAULT '[]'"),
    ("orders", "refund", "TEXT"),
    ("messages", "meta", "TEXT"),
    ("idempotency", "request", "TEXT"),
)


def connect(path: Path | str) -> sqlite3.Connection:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.executescript(SCHEMA)
    _add_columns(conn)
    return conn


def _add_columns(conn: sqlite3.Connection) -> None:
    for table, column, decl in ADDED_COLUMNS:
        if column not in {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")


def is_empty(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT count(*) FROM agents").fetchone()[0] == 0


def tokens(conn: sqlite3.Connection) -> list[dict]:
    """Every agent with role and token (raises sqlite3.Error if this is no shop database)."""
    rows = conn.execute("SELECT id, name, role, read_only, token FROM agents ORDER BY id").fetchall()
    return [{"id": r[0], "name": r[1], "role": r[2], "read_only": bool(r[3]), "token": r[4]} for r in rows]


def read_only(path: Path | str, read):
    """``read(connection)`` on an existing database opened read-only: creating nothing
    (no file, no schema, no seed); sqlite3.Error if it is no database."""
    conn = sqlite3.connect(f"file:{Path(path).resolve().as_posix()}?mode=ro", uri=True)
    try:
        return read(conn)
    finally:
        conn.close()


def read_tokens(path: Path | str) -> list[dict]:
    """The tokens of an existing shop database."""
    return read_only(path, tokens)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def seed_demo(conn: sqlite3.Connection, anchor: float) -> None:
    """The demo shop of the fixtures plus seven days of generated history before
    ``anchor`` (see history.py), in one transaction: conversations at version 1 (stage
    "agent" when assigned, else "queued"; a snooze ends a day after ``anchor``), messages
    with seqs in time order (the bot's marked automatic), then the customer notes and the
    team's follow-ups (ids in due order)."""
    from agentdesk.demo import fixtures
    from agentdesk.shop import bot, content, history

    data = fixtures.load(anchor)
    raw_agents = {
        a["id"]: a
        for a in json.loads((resources.files("agentdesk.demo") / "fixtures" / "shop.json").read_text("utf-8"))["agents"]
    }
    scripts = content.load()  # the package's own: the demo's past never depends on a test's content
    taken = {c.name for c in data.customers} | {d.get("customer", "") for d in scripts.dialogues}
    past = history.generate(anchor, [{"id": a.id, "role": a.role, "groups": list(a.groups)} for a in data.agents],
                            scripts.dialogues, bot.Bot(scripts.faq, data.shop_name), taken=taken)
    conn.execute("BEGIN IMMEDIATE")
    try:
        _seed(conn, data, raw_agents, anchor, past)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _seed(conn: sqlite3.Connection, data, raw_agents: dict, anchor: float, past) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        [("shop_id", data.shop_id), ("shop_name", data.shop_name)],
    )
    conn.executemany(
        "INSERT INTO agents (id, name, role, read_only, groups, token) VALUES (?, ?, ?, ?, ?, ?)",
        [(a.id, a.name, a.role, int(bool(raw_agents.get(a.id, {}).get("read_only"))), _dumps(list(a.groups)),
          data.tokens[a.id]) for a in data.agents],
    )
    conn.executemany(
        "INSERT INTO customers (id, name, vip_level, tags, location, first_seen, updated_at, opt_out) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(c.id, c.name, c.vip_level, _dumps(list(c.tags)), c.location, c.first_seen, anchor, int(c.opt_out))
         for c in data.customers]
        + [(*c[:3], _dumps(c[3]), *c[4:]) for c in past.customers],
    )
    conn.executemany(
        "INSERT INTO orders (id, customer_id, items, amount, status, carrier, tracking_no, address, created_at, "
        "paid_at, shipped_at, delivered_at, updated_at, refund) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(o.id, o.customer_id, _dumps([{"title": i.title, "sku": i.sku, "qty": i.qty, "price": i.price} for i in o.items]),
          o.amount, o.status, o.carrier, o.tracking_no, o.address, o.created_at, o.paid_at, o.shipped_at,
          o.delivered_at, anchor, _dumps(o.refund) if o.refund else None) for o in data.orders],
    )
    messages = []
    for cv in data.conversations:
        first = cv.messages[0].at if cv.messages else anchor
        last = cv.messages[-1].at if cv.messages else anchor
        conn.execute(
            "INSERT INTO conversations (id, customer_id, grp, status, snoozed_until, assignee_id, priority, tags, "
            "order_id, stage, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            [cv.id, cv.customer_id, cv.group, cv.status, anchor + 86400 if cv.status == "snoozed" else None,
             cv.assignee_id,
             PRIORITY_NAMES.get(cv.priority, "normal"),
             _dumps(list(cv.tags)), cv.order_id, "agent" if cv.assignee_id else "queued", first, last],
        )
        messages += [(m.at, cv.id, m.sender, m.agent_id, m.body) for m in cv.messages]
    conn.executemany(
        "INSERT INTO conversations (id, customer_id, grp, status, snoozed_until, assignee_id, priority, tags, "
        "order_id, stage, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
        [(*cv[:7], _dumps(cv[7]), *cv[8:]) for cv in past.conversations],
    )
    messages += past.messages
    messages.sort(key=lambda m: m[0])
    conn.executemany(
        "INSERT INTO messages (conversation_id, sender, agent_id, body, created_at, auto) VALUES (?, ?, ?, ?, ?, ?)",
        [(cid, sender, agent, body, at, int(sender == "bot")) for at, cid, sender, agent, body in messages],
    )
    conn.execute("UPDATE messages SET id = printf('m_%06d', seq) WHERE id IS NULL")
    conn.executemany(
        "INSERT INTO notes (customer_id, agent_id, body, created_at) VALUES (?, ?, ?, ?)",
        [(n.customer_id, n.agent_id, n.body, n.at) for n in sorted(data.notes, key=lambda n: n.at)],
    )
    conn.execute("UPDATE notes SET id = printf('n_%06d', seq) WHERE id IS NULL")
    conn.executemany(
        "INSERT INTO followups (customer_id, order_id, conversation_id, agent_id, due_at, note, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(f.customer_id, f.order_id, f.conversation_id, f.agent_id, f.due_at, f.note, f.created_at, anchor)
         for f in sorted(data.followups, key=lambda f: f.due_at)],
    )
    conn.execute("UPDATE followups SET id = printf('f_%06d', seq) WHERE id IS NULL")
