"""The Chatwoot double's own SQLite database: Chatwoot's tables (one account), reduced to
the columns the Application API serves, and the demo seed.

Times are epoch floats. Conversations are keyed by their ``display_id`` (what the API
calls ``id``); message ids are one sequence over the whole account and grow with
``created_at``, as the finders assume (``before``/``after`` compare ids, order by time).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

ACCOUNT_ID = 1
ACCOUNT_NAME = "拾光生活旗舰店"
INBOX_ID = 1
BOT_ID = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, display_name TEXT, email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('agent', 'administrator')),
    access_token TEXT UNIQUE NOT NULL, pubsub_token TEXT UNIQUE NOT NULL,
    availability TEXT NOT NULL DEFAULT 'online' CHECK (availability IN ('online', 'busy', 'offline')),
    auto_offline INTEGER NOT NULL DEFAULT 1,
    always_present INTEGER NOT NULL DEFAULT 0,  -- demo colleagues logged in elsewhere
    demo_id TEXT
);
CREATE TABLE IF NOT EXISTS agent_bots (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS teams (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, description TEXT NOT NULL DEFAULT '',
    allow_auto_assign INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS team_members (team_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
                                         PRIMARY KEY (team_id, user_id));
CREATE TABLE IF NOT EXISTS inboxes (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, channel_type TEXT NOT NULL, channel_id INTEGER NOT NULL,
    inbox_identifier TEXT UNIQUE NOT NULL, lock_to_single_conversation INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS inbox_members (inbox_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
                                          PRIMARY KEY (inbox_id, user_id));
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, phone_number TEXT, identifier TEXT,
    additional_attributes TEXT NOT NULL DEFAULT '{}', custom_attributes TEXT NOT NULL DEFAULT '{}',
    blocked INTEGER NOT NULL DEFAULT 0, last_activity_at REAL, created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_contacts_name ON contacts (name);
CREATE TABLE IF NOT EXISTS contact_inboxes (
    id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL, inbox_id INTEGER NOT NULL,
    source_id TEXT NOT NULL, pubsub_token TEXT UNIQUE NOT NULL, hmac_verified INTEGER NOT NULL DEFAULT 0,
    UNIQUE (inbox_id, source_id)
);
CREATE TABLE IF NOT EXISTS labels (
    id INTEGER PRIMARY KEY, title TEXT UNIQUE NOT NULL, description TEXT NOT NULL DEFAULT '',
    color TEXT NOT NULL DEFAULT '#1f93ff', show_on_sidebar INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY,  -- the display_id
    uuid TEXT UNIQUE NOT NULL, inbox_id INTEGER NOT NULL, contact_id INTEGER NOT NULL,
    contact_inbox_id INTEGER NOT NULL, assignee_id INTEGER, team_id INTEGER,
    status TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'pending', 'snoozed')),
    priority TEXT CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    snoozed_until REAL, labels TEXT NOT NULL DEFAULT '[]',
    additional_attributes TEXT NOT NULL DEFAULT '{}', custom_attributes TEXT NOT NULL DEFAULT '{}',
    first_reply_created_at REAL, waiting_since REAL, last_activity_at REAL NOT NULL,
    agent_last_seen_at REAL, assignee_last_seen_at REAL, contact_last_seen_at REAL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_conversations_activity ON conversations (last_activity_at);
CREATE INDEX IF NOT EXISTS ix_conversations_contact ON conversations (contact_id);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id INTEGER NOT NULL, inbox_id INTEGER NOT NULL,
    content TEXT, message_type INTEGER NOT NULL CHECK (message_type IN (0, 1, 2, 3)),
    content_type TEXT NOT NULL DEFAULT 'text', content_attributes TEXT NOT NULL DEFAULT '{}',
    additional_attributes TEXT NOT NULL DEFAULT '{}', private INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'sent', source_id TEXT, sender_type TEXT, sender_id INTEGER,
    created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_messages_conversation ON messages (conversation_id, id);
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, contact_id INTEGER NOT NULL, user_id INTEGER,
    content TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS canned_responses (
    id INTEGER PRIMARY KEY, short_code TEXT UNIQUE NOT NULL, content TEXT NOT NULL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL
);
"""


def connect(path: Path | str) -> sqlite3.Connection:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.executescript(SCHEMA)
    return conn


def is_empty(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0


def tokens(conn: sqlite3.Connection) -> list[dict]:
    """Every user with role and tokens (raises sqlite3.Error if this is no double's database)."""
    rows = conn.execute("SELECT id, name, role, access_token, pubsub_token FROM users ORDER BY id").fetchall()
    return [{"id": r[0], "name": r[1], "role": r[2], "access_token": r[3], "pubsub_token": r[4]} for r in rows]


def read_tokens(path: Path | str) -> list[dict]:
    """The tokens of an existing double's database, creating nothing."""
    from agentdesk.shop.db import read_only

    return read_only(path, tokens)


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)
