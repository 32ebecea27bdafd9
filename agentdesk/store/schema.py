"""Cache schema as an ordered list of migrations; ``PRAGMA user_version`` is the
number applied. Never edit a released migration: append a new one.

The inbox order ("longest-waiting first, then most recent") lives in two generated
columns, so every inbox page is a keyset range scan over one index:

* ``wait_rank`` – 0 while the customer waits for an answer, else 1;
* ``rank_ts``  – when they started waiting (oldest first), or minus the last
  message time for conversations nobody waits on (newest first).
"""

APPLICATION_ID = 0x41474453  # "AGDS": tells our cache from any other SQLite file

MIGRATIONS: list[str] = [
    # 1: the workstation cache
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);

    CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL DEFAULT 'agent',
        groups TEXT NOT NULL DEFAULT '[]',
        online INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE customers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        vip_level INTEGER NOT NULL DEFAULT 0,
        tags TEXT NOT NULL DEFAULT '[]',
        location TEXT NOT NULL DEFAULT '',
        first_seen REAL
    );

    CREATE TABLE orders (
        id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL,
        items TEXT NOT NULL DEFAULT '[]',
        amount REAL NOT NULL DEFAULT 0,
        status TEXT NOT NULL,
        carrier TEXT,
        tracking_no TEXT,
        address TEXT NOT NULL DEFAULT '',
        created_at REAL,
        paid_at REAL,
        shipped_at REAL,
        delivered_at REAL
    );
    CREATE INDEX ix_orders_customer ON orders (customer_id, created_at DESC);

    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL,
        grp TEXT NOT NULL DEFAULT '售前',
        status TEXT NOT NULL DEFAULT 'open',
        assignee_id TEXT,
        priority INTEGER NOT NULL DEFAULT 1,
        unread INTEGER NOT NULL DEFAULT 0,
        order_id TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        preview TEXT NOT NULL DEFAULT '',
        created_at REAL,
        last_message_at REAL NOT NULL DEFAULT 0,
        waiting_since REAL,
        wait_rank INTEGER GENERATED ALWAYS AS (waiting_since IS NULL) STORED,
        rank_ts REAL GENERATED ALWAYS AS (coalesce(waiting_since, -last_message_at)) STORED
    );
    CREATE INDEX ix_inbox_all ON conversations (wait_rank, rank_ts, id);
    CREATE INDEX ix_inbox_status ON conversations (status, wait_rank, rank_ts, id);
    CREATE INDEX ix_inbox_assignee ON conversations (assignee_id, wait_rank, rank_ts, id);
    CREATE INDEX ix_inbox_assignee_status
        ON conversations (assignee_id, status, wait_rank, rank_ts, id);
    CREATE INDEX ix_conversations_customer ON conversations (customer_id, last_message_at DESC);

    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        sender TEXT NOT NULL,
        agent_id TEXT,
        body TEXT NOT NULL,
        at REAL NOT NULL,
        server_id TEXT UNIQUE,
        client_id TEXT UNIQUE,
        state TEXT NOT NULL DEFAULT 'sent'
    );
    CREATE INDEX ix_messages_thread ON messages (conversation_id, at, id);

    CREATE TABLE customer_notes (
        id INTEGER PRIMARY KEY,
        customer_id TEXT NOT NULL,
        agent_id TEXT,
        body TEXT NOT NULL,
        at REAL NOT NULL,
        server_id TEXT UNIQUE
    );
    CREATE INDEX ix_notes_customer ON customer_notes (customer_id, at DESC);

    CREATE TABLE drafts (
        conversation_id TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    """,
    # 2: syncing with the shop API (issue 3): server versions, the durable outbox
    """
    ALTER TABLE conversations ADD COLUMN stage TEXT NOT NULL DEFAULT 'agent';
    ALTER TABLE conversations ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversations ADD COLUMN snoozed_until REAL;
    ALTER TABLE conversations ADD COLUMN updated_at REAL;
    ALTER TABLE customers ADD COLUMN updated_at REAL;
    ALTER TABLE orders ADD COLUMN updated_at REAL;
    ALTER TABLE messages ADD COLUMN seq INTEGER;
    ALTER TABLE messages ADD COLUMN auto INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN error TEXT;
    ALTER TABLE customer_notes ADD COLUMN client_id TEXT;
    CREATE UNIQUE INDEX ux_notes_client ON customer_notes (client_id) WHERE client_id IS NOT NULL;

    -- Every write to the shop is a row here *before* any network call. ``id`` is the
    -- client UUID sent as Idempotency-Key, so a retry can never act twice.
    CREATE TABLE outbox (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        conversation_id TEXT,
        customer_id TEXT,
        payload TEXT NOT NULL,
        created_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at REAL NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        error TEXT
    );
    CREATE INDEX ix_outbox_due ON outbox (state, next_at, created_at);
    """,
    # 3: the quick-reply library (issue 4): pinyin keys, the shop-wide layer, usage
    """
    -- Syllables of a run of Han characters ("退款" -> "tui kuan"), computed once.
    CREATE TABLE pinyin_keys (run TEXT PRIMARY KEY, syllables TEXT NOT NULL) WITHOUT ROWID;

    -- The shop-wide library from GET /v1/quick-replies, in the shop's order.
    CREATE TABLE shop_replies (
        id TEXT PRIMARY KEY,
        position INTEGER NOT NULL,
        data TEXT NOT NULL
    );

    -- How often and how lately this agent used each reply (frecency, decaying score).
    CREATE TABLE reply_usage (
        reply_id TEXT PRIMARY KEY,
        score REAL NOT NULL,
        uses INTEGER NOT NULL,
        last_used REAL NOT NULL
    );
    """,
    # 4: the service workflows (issue 5): complaint flags, opt-outs, order remarks and
    # refunds, follow-ups (回访), and an index for the inbox's group filter
    """
    -- Structured extras of a message, JSON: {"handoff": {"from", "to_agent", "to_group", "note"}}.
    ALTER TABLE messages ADD COLUMN meta TEXT;
    -- Customer messages with complaint signals in this conversation (set by triage).
    ALTER TABLE conversations ADD COLUMN complaint INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX ix_inbox_group ON conversations (grp, status, wait_rank, rank_ts, id);
    -- The customer asked not to receive outreach (campaigns, holiday greetings).
    ALTER TABLE customers ADD COLUMN opt_out INTEGER NOT NULL DEFAULT 0;
    -- [{"body", "agent_id", "at"}] oldest first, and the open refund request if any.
    ALTER TABLE orders ADD COLUMN remarks TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE orders ADD COLUMN refund TEXT;

    -- Follow-ups shared by the team; a local one has a client_id until the shop's id arrives.
    CREATE TABLE followups (
        id INTEGER PRIMARY KEY,
        server_id TEXT UNIQUE,
        client_id TEXT UNIQUE,
        customer_id TEXT NOT NULL,
        order_id TEXT,
        conversation_id TEXT,
        agent_id TEXT,
        due_at REAL NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'open',
        created_at REAL,
        updated_at REAL
    );
    CREATE INDEX ix_followups_due ON followups (status, due_at, id);
    CREATE INDEX ix_followups_customer ON followups (customer_id, due_at);
    """,
    # 5: the supervisor monitor (issue 6): presence is online | away | offline, not a flag
    """
    ALTER TABLE agents ADD COLUMN status TEXT NOT NULL DEFAULT 'offline';
    UPDATE agents SET status = CASE WHEN online THEN 'online' ELSE 'offline' END;
    """,
    # 6: objects from the shop that could not be used (issue 11): quarantined, not lost
    """
    -- One row per bad object: resource + key (its id, or a hash of what was sent when it
    -- has no readable id), so a page sent again updates its row instead of adding one.
    CREATE TABLE problems (
        id INTEGER PRIMARY KEY,
        resource TEXT NOT NULL,
        key TEXT NOT NULL,
        object_id TEXT,
        field TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL,
        raw TEXT NOT NULL,            -- the object as sent, cut to a bounded size
        raw_bytes INTEGER NOT NULL,   -- its whole size as sent
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL,
        times INTEGER NOT NULL DEFAULT 1
    );
    CREATE UNIQUE INDEX ux_problems_key ON problems (resource, key);
    """,
    # 7: Find (issue 14): full-text indexes of the message history, customers and orders.
    # Self-contained (it reads only tables of migrations 1-5). See store/textindex.py for
    # the two tables of an index, store/history.py and store/lookup.py for their use.
    """
    -- A message's place in the history index. docid = (seconds << 10) + a slot, so docid
    -- order is time order and "newest first" is a descending rowid scan (seconds, not
    -- milliseconds: the gaps between postings, which FTS5 stores, stay small). A removed
    -- message (a withdrawn reply) keeps its row with message_id NULL: its postings stay in
    -- the contentless tables and now lead nowhere; docids are never reused.
    CREATE TABLE search_docs (docid INTEGER PRIMARY KEY, message_id INTEGER UNIQUE);
    CREATE VIRTUAL TABLE search_tri USING fts5(text, content='', columnsize=0, detail=none,
        tokenize='trigram case_sensitive 0');
    CREATE VIRTUAL TABLE search_chars USING fts5(chars, content='', columnsize=0, detail=none,
        tokenize="unicode61 remove_diacritics 0 categories 'L* N* M* P* S* C* Z*' separators ' '");
    -- What is not indexed yet: messages above 'search.indexed_to' (every writer indexes
    -- what it wrote in its own transaction; anything else – a bulk import – waits for the
    -- background indexer), below 'search.backfill_below' (cached before the index existed:
    -- indexed newest first in short transactions; 'search.backfill_total' is where that
    -- started) and edited ones, queued here. A search scans them meanwhile.
    CREATE TABLE search_queue (message_id INTEGER PRIMARY KEY);
    CREATE TRIGGER search_message_removed AFTER DELETE ON messages BEGIN
        UPDATE search_docs SET message_id = NULL WHERE message_id = old.id;
        DELETE FROM search_queue WHERE message_id = old.id;
        -- SQLite hands the highest rowid out again once it is gone: look from below it
        UPDATE meta SET value = (SELECT coalesce(max(id), 0) FROM messages)
            WHERE key = 'search.indexed_to' AND CAST(value AS INTEGER) > (SELECT coalesce(max(id), 0) FROM messages);
    END;
    CREATE TRIGGER search_message_edited AFTER UPDATE OF body ON messages
    WHEN new.body IS NOT old.body BEGIN
        UPDATE search_docs SET message_id = NULL WHERE message_id = old.id;
        INSERT OR IGNORE INTO search_queue (message_id) VALUES (new.id);
    END;
    INSERT OR REPLACE INTO meta (key, value)
        SELECT 'search.indexed_to', coalesce(max(id), 0) FROM messages;
    INSERT OR REPLACE INTO meta (key, value)
        SELECT 'search.backfill_below', coalesce(max(id), 0) + 1 FROM messages;
    INSERT OR REPLACE INTO meta (key, value)
        SELECT 'search.backfill_total', coalesce(max(id), 0) + 1 FROM messages;

    -- Customers (name, its pinyin and initials, location, tags) and orders (id, tracking
    -- number), one index; docids of customers and orders live in separate ranges (see
    -- store/lookup.py). A changed text gets a new docid and its old row ref NULL.
    -- ``text``: what was indexed, folded; a candidate is checked against it in one read.
    CREATE TABLE find_keys (docid INTEGER PRIMARY KEY, kind TEXT NOT NULL, ref TEXT, text TEXT NOT NULL);
    CREATE UNIQUE INDEX ux_find_keys ON find_keys (kind, ref) WHERE ref IS NOT NULL;
    CREATE VIRTUAL TABLE find_tri USING fts5(text, content='', columnsize=0, detail=none,
        tokenize='trigram case_sensitive 0');
    CREATE VIRTUAL TABLE find_pairs USING fts5(pairs, content='', columnsize=0, detail=none,
        tokenize='trigram case_sensitive 0');
    CREATE TABLE find_queue (kind TEXT NOT NULL, ref TEXT NOT NULL, PRIMARY KEY (kind, ref)) WITHOUT ROWID;
    CREATE TRIGGER find_customer_added AFTER INSERT ON customers BEGIN
        INSERT OR IGNORE INTO find_queue (kind, ref) VALUES ('customer', new.id);
    END;
    CREATE TRIGGER find_customer_changed AFTER UPDATE OF name, location, tags ON customers
    WHEN (new.name, new.location, new.tags) IS NOT (old.name, old.location, old.tags) BEGIN
        INSERT OR IGNORE INTO find_queue (kind, ref) VALUES ('customer', new.id);
    END;
    CREATE TRIGGER find_customer_removed AFTER DELETE ON customers BEGIN
        UPDATE find_keys SET ref = NULL WHERE kind = 'customer' AND ref = old.id;
    END;
    CREATE TRIGGER find_order_added AFTER INSERT ON orders BEGIN
        INSERT OR IGNORE INTO find_queue (kind, ref) VALUES ('order', new.id);
    END;
    CREATE TRIGGER find_order_changed AFTER UPDATE OF tracking_no ON orders
    WHEN new.tracking_no IS NOT old.tracking_no BEGIN
        INSERT OR IGNORE INTO find_queue (kind, ref) VALUES ('order', new.id);
    END;
    CREATE TRIGGER find_order_removed AFTER DELETE ON orders BEGIN
        UPDATE find_keys SET ref = NULL WHERE kind = 'order' AND ref = old.id;
    END;
    -- Customers and orders cached before: queued here in one statement each (a shop has
    -- far fewer of them than messages; the indexer works the queue off in chunks).
    INSERT OR IGNORE INTO find_queue (kind, ref) SELECT 'customer', id FROM customers;
    INSERT OR IGNORE INTO find_queue (kind, ref) SELECT 'order', id FROM orders;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
