"""The SQLite cache: opening (and refusing to open) files, the demo build, inbox and
thread paging, the write rules, and use from several threads. Every test works on a
real SQLite file under tmp_path."""

from __future__ import annotations

import random
import sqlite3
import threading
from pathlib import Path

import pytest

from agentdesk.models import CONVERSATION_STATUSES, ORDER_STATUSES
from agentdesk.store import CacheError, Store, customers, inbox, thread, writes
from agentdesk.store.reset import remove_files, reset
from agentdesk.store.inbox import InboxFilter
from agentdesk.store.schema import APPLICATION_ID, SCHEMA_VERSION

#: 2026-11-20 14:30:00 Asia/Shanghai: the demo is built as if "now" were this instant.
ANCHOR = 1_795_156_200.0
T0 = 1_790_000_000.0


@pytest.fixture
def cache_path(tmp_path) -> Path:
    return tmp_path / "cache.sqlite"


@pytest.fixture
def store(cache_path):
    s = Store(cache_path)
    yield s
    s.close()


def raw(path: Path) -> sqlite3.Connection:
    """A plain connection, bypassing agentdesk, to see what is really in the file."""
    return sqlite3.connect(str(path), isolation_level=None)


def add_customer(conn, cid: str, name: str, vip: int = 0) -> None:
    conn.execute("INSERT INTO customers (id, name, vip_level) VALUES (?, ?, ?)", [cid, name, vip])


def add_conversation(conn, cid: str, customer: str = "u1", *, status: str = "open", assignee: str | None = None,
                     last: float = 0.0, waiting: float | None = None, group: str = "售前") -> None:
    conn.execute(
        "INSERT INTO conversations (id, customer_id, grp, status, assignee_id, last_message_at, waiting_since) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [cid, customer, group, status, assignee, last, waiting],
    )


def conversation(store: Store, cid: str) -> dict:
    return store.read(
        lambda c: dict(
            zip(
                ("waiting_since", "unread", "preview", "last_message_at", "status"),
                c.execute(
                    "SELECT waiting_since, unread, preview, last_message_at, status FROM conversations WHERE id = ?",
                    [cid],
                ).fetchone(),
            )
        )
    )


def count_rows(store: Store, table: str) -> int:
    return store.read(lambda c: c.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


# --- opening -------------------------------------------------------------------------


def test_open_creates_a_wal_cache_with_our_schema(cache_path):
    Store(cache_path).close()
    conn = raw(cache_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert {"meta", "agents", "customers", "orders", "conversations", "messages", "customer_notes", "drafts"} <= names
    assert {"ix_inbox_all", "ix_inbox_status", "ix_inbox_assignee", "ix_inbox_assignee_status"} <= names
    conn.close()


def test_open_creates_missing_parent_directories(tmp_path):
    path = tmp_path / "a" / "b" / "cache.sqlite"
    Store(path).close()
    assert path.is_file()


def test_reopening_is_idempotent_and_keeps_data(cache_path):
    s = Store(cache_path)
    s.write(writes.set_meta, "shop_id", "kept")
    schema = s.read(lambda c: c.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall())
    s.close()

    for _ in range(2):
        s = Store(cache_path)
        assert s.read(writes.get_meta, "shop_id") == "kept"
        assert s.read(lambda c: c.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()) == schema
        assert s.read(lambda c: c.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION
        s.close()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_garbage_file_is_refused_and_left_untouched(cache_path):
    cache_path.write_bytes(random.Random(20261120).randbytes(16384))
    before = _files(cache_path.parent)

    with pytest.raises(CacheError) as err:
        Store(cache_path)

    message = str(err.value)
    assert "not a SQLite database" in message and str(cache_path) in message and "\n" not in message
    assert "--reset-cache --force" in message  # it cannot say what unsent writes it holds
    assert _files(cache_path.parent) == before


def test_a_text_file_is_refused_and_left_untouched(cache_path):
    cache_path.write_text("my shopping list\n牛奶\n", encoding="utf-8")
    before = _files(cache_path.parent)
    with pytest.raises(CacheError, match="not a SQLite database.*--reset-cache --force to move it aside"):
        Store(cache_path)
    assert _files(cache_path.parent) == before


def test_someone_elses_sqlite_database_is_refused_and_left_untouched(cache_path):
    conn = raw(cache_path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
    conn.execute("INSERT INTO users (email) VALUES ('boss@example.com')")
    conn.close()
    before = _files(cache_path.parent)

    with pytest.raises(CacheError) as err:
        Store(cache_path)

    assert "another program's SQLite database" in str(err.value) and "never deletes it" in str(err.value)
    assert _files(cache_path.parent) == before
    conn = raw(cache_path)
    assert conn.execute("SELECT email FROM users").fetchall() == [("boss@example.com",)]
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    conn.close()


def test_a_cache_from_a_newer_agentdesk_is_refused_and_left_untouched(cache_path):
    s = Store(cache_path)
    s.write(writes.set_meta, "shop_id", "future")
    s.close()
    conn = raw(cache_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = cache_path.read_bytes()

    with pytest.raises(CacheError) as err:
        Store(cache_path)

    message = str(err.value)
    assert "newer" in message and "--reset-cache" in message and "\n" not in message
    assert "nothing unsent is in it" in message
    assert cache_path.read_bytes() == before
    conn = raw(cache_path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'shop_id'").fetchone() == ("future",)
    conn.close()


def test_a_damaged_cache_is_reported_by_the_integrity_check(cache_path):
    """Opening stays cheap; the full page check (run in the background by the app)
    names the damage and the way out, and never touches the file."""
    s = Store(cache_path)
    add_many = [(f"c{i % 7}", "customer", "x" * 200, T0 + i) for i in range(3000)]
    s.write(lambda c: c.executemany("INSERT INTO messages (conversation_id, sender, body, at) VALUES (?, ?, ?, ?)", add_many))
    s.close()
    data = bytearray(cache_path.read_bytes())
    conn = raw(cache_path)
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    assert len(data) > page * 40
    data[page * 10 : page * 30] = b"\x5a" * (page * 20)  # scribble over b-tree pages
    cache_path.write_bytes(bytes(data))

    with pytest.raises(CacheError) as err:
        store = Store(cache_path)  # may already fail on a damaged schema page
        try:
            store.check_integrity()
        finally:
            store.close()
    assert "damaged" in str(err.value) and "--reset-cache" in str(err.value)
    assert "\n" not in str(err.value)
    assert cache_path.read_bytes() == bytes(data)


def test_removing_a_cache_removes_the_file_and_its_companions(cache_path):
    Store(cache_path).close()
    for suffix in ("-wal", "-shm"):
        Path(f"{cache_path}{suffix}").write_bytes(b"leftover")
    other = cache_path.parent / "keep-me.txt"
    other.write_text("unrelated")

    remove_files(cache_path)

    assert sorted(p.name for p in cache_path.parent.iterdir()) == ["keep-me.txt"]
    remove_files(cache_path)  # nothing there: no error
    s = Store(cache_path)  # and a fresh cache opens
    assert count_rows(s, "conversations") == 0
    s.close()


def test_a_forced_reset_moves_an_unreadable_file_aside_and_a_new_cache_opens(cache_path):
    cache_path.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(CacheError):
        Store(cache_path)
    with pytest.raises(CacheError, match="--force"):
        reset(cache_path)
    assert cache_path.read_bytes() == b"\x00garbage" * 100
    done = reset(cache_path, force=True)
    assert done.moved_to is not None and done.moved_to.read_bytes() == b"\x00garbage" * 100
    Store(cache_path).close()
    conn = raw(cache_path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()


# --- the demo build ------------------------------------------------------------------


@pytest.fixture
def demo(tmp_path):
    from agentdesk.demo.build import open_demo

    s = open_demo(tmp_path / "demo.sqlite", anchor=ANCHOR)
    yield s
    s.close()


def test_demo_has_the_minimum_shop(demo):
    # The minimum shop: a realistic demo needs at least this much to browse.
    counts = demo.read(lambda c: {
        "customers": c.execute("SELECT count(*) FROM customers").fetchone()[0],
        "orders": c.execute("SELECT count(*) FROM orders").fetchone()[0],
        "conversations": c.execute("SELECT count(*) FROM conversations").fetchone()[0],
        "messages": c.execute("SELECT count(*) FROM messages").fetchone()[0],
        "agents": c.execute("SELECT count(*) FROM agents WHERE role = 'agent'").fetchone()[0],
    })
    minimum = {"customers": 50, "orders": 100, "conversations": 60, "messages": 600, "agents": 3}
    short = {k: f"{counts[k]} < {n}" for k, n in minimum.items() if counts[k] < n}
    assert short == {}


def test_demo_orders_cover_every_status(demo):
    statuses = demo.read(lambda c: {r[0] for r in c.execute("SELECT DISTINCT status FROM orders")})
    assert statuses == set(ORDER_STATUSES)
    assert set(ORDER_STATUSES) == {"待付款", "待发货", "已发货", "已签收", "退款中", "已退款", "纠纷中"}


def test_demo_is_consistent(demo):
    # Every reference points at something real, and someone is waiting right now.
    orphans = demo.read(lambda c: c.execute(
        "SELECT "
        "(SELECT count(*) FROM conversations WHERE customer_id NOT IN (SELECT id FROM customers)),"
        "(SELECT count(*) FROM orders WHERE customer_id NOT IN (SELECT id FROM customers)),"
        "(SELECT count(*) FROM messages WHERE conversation_id NOT IN (SELECT id FROM conversations)),"
        "(SELECT count(*) FROM conversations WHERE assignee_id IS NOT NULL AND assignee_id NOT IN (SELECT id FROM agents)),"
        "(SELECT count(*) FROM conversations WHERE order_id IS NOT NULL AND order_id NOT IN (SELECT id FROM orders))"
    ).fetchone())
    assert orphans == (0, 0, 0, 0, 0)
    assert demo.read(writes.get_meta, "me") == "a01"
    waiting = demo.read(inbox.first_page, InboxFilter(tab="all", status="open"), 5)
    assert waiting and waiting[0].waiting_since is not None
    assert all(m.at <= ANCHOR for m in demo.read(thread.latest, waiting[0].id))
    # A non-open conversation never has a customer "waiting".
    stuck = demo.read(lambda c: c.execute(
        "SELECT count(*) FROM conversations WHERE status != 'open' AND (waiting_since IS NOT NULL OR unread != 0)"
    ).fetchone()[0])
    assert stuck == 0


def test_demo_build_is_deterministic(tmp_path):
    from agentdesk.demo.build import open_demo

    dumps = []
    for name in ("one.sqlite", "two.sqlite"):
        s = open_demo(tmp_path / name, anchor=ANCHOR)
        dumps.append(s.read(lambda c: [
            c.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("agents", "customers", "orders", "conversations", "messages", "customer_notes")
        ]))
        s.close()
    assert dumps[0] == dumps[1]


def test_opening_the_demo_again_does_not_reseed(tmp_path):
    from agentdesk.demo.build import open_demo

    path = tmp_path / "demo.sqlite"
    s = open_demo(path, anchor=ANCHOR)
    tables = ("customers", "orders", "conversations", "messages", "customer_notes", "agents")
    counts = {t: count_rows(s, t) for t in tables}
    cid = s.read(inbox.first_page, InboxFilter(tab="all", status=None), 1)[0].id
    s.write(writes.add_message, cid, "agent", "这条回复要留下来", ANCHOR + 5, agent_id="a01")
    s.write(writes.save_draft, cid, "还没写完的草稿", ANCHOR + 6)
    s.close()

    # A later start: a different "now" must not rebuild (or shift) anything.
    s = open_demo(path, anchor=ANCHOR + 86400)
    counts_after = {t: count_rows(s, t) for t in tables}
    assert counts_after == {**counts, "messages": counts["messages"] + 1}
    assert s.read(thread.latest, cid, 1)[0].body == "这条回复要留下来"
    assert s.read(writes.get_draft, cid) == "还没写完的草稿"
    s.close()


def test_demo_agent_can_be_chosen_by_name_or_id(tmp_path):
    from agentdesk.demo.build import open_demo

    path = tmp_path / "demo.sqlite"
    s = open_demo(path, anchor=ANCHOR, agent="阿杰")
    assert s.read(writes.get_meta, "me") == "a02"
    s.close()
    s = open_demo(path, anchor=ANCHOR, agent="a03")
    assert s.read(writes.get_meta, "me") == "a03"
    s.close()
    with pytest.raises(ValueError, match="nobody"):
        open_demo(path, anchor=ANCHOR, agent="nobody")
    with pytest.raises(ValueError, match="nobody"):
        open_demo(tmp_path / "fresh.sqlite", anchor=ANCHOR, agent="nobody")


# --- inbox order ---------------------------------------------------------------------


def test_waiting_first_longest_wait_first_then_most_recent(store):
    def setup(c):
        add_customer(c, "u1", "王女士")
        for cid in ("w100", "w50", "w200", "r300", "r400", "r150"):
            add_conversation(c, cid)
        # Waiting customers, by when they started waiting (50 waited longest).
        writes.add_message(c, "w100", "customer", "在吗", T0 + 100)
        writes.add_message(c, "w100", "customer", "还在吗", T0 + 500)  # does not restart the clock
        writes.add_message(c, "w50", "customer", "发货了吗", T0 + 50)
        writes.add_message(c, "w200", "customer", "能便宜点吗", T0 + 200)
        # Answered ones, newest activity first.
        for cid, at in (("r300", 300), ("r400", 400), ("r150", 150)):
            writes.add_message(c, cid, "customer", "问题", T0 + at - 10)
            writes.add_message(c, cid, "agent", "好的", T0 + at)

    store.write(setup)
    rows = store.read(inbox.first_page, InboxFilter(tab="all", status=None))
    assert [r.id for r in rows] == ["w50", "w100", "w200", "r400", "r300", "r150"]
    assert [r.waiting_since for r in rows[:3]] == [T0 + 50, T0 + 100, T0 + 200]
    assert all(r.waiting_since is None for r in rows[3:])
    assert rows[0].customer_name == "王女士"
    assert store.read(inbox.longest_waiting, InboxFilter(tab="all", status=None)).id == "w50"


def test_longest_waiting_is_none_when_nobody_waits(store):
    def setup(c):
        add_conversation(c, "c1", last=T0)
        writes.add_message(c, "c1", "customer", "hi", T0)
        writes.add_message(c, "c1", "agent", "hello", T0 + 1)

    store.write(setup)
    assert store.read(inbox.longest_waiting, InboxFilter(tab="all", status=None)) is None


def test_customer_name_falls_back_to_id(store):
    store.write(add_conversation, "c1", "u-unknown", last=T0)
    assert store.read(inbox.get, "c1").customer_name == "u-unknown"
    assert store.read(inbox.get, "nope") is None


# --- a synthetic inbox of ~500 conversations ------------------------------------------

ME = "a01"
SYNTH = 517


def synthetic(conn) -> list[dict]:
    """Deterministic rows with many ties (same waiting_since, same last message time) so
    the id tie-break and page boundaries inside a tie are exercised."""
    rng = random.Random(42)
    rows = []
    for i in range(SYNTH):
        cid = f"c{rng.randrange(10**6):06d}-{i}"
        row = {
            "id": cid,
            "customer": f"u{i % 60}",
            "status": rng.choice(CONVERSATION_STATUSES),
            "assignee": rng.choice([None, ME, "a02", "a03"]),
            "last": T0 + rng.randrange(40) * 60,
            "waiting": None if rng.random() < 0.5 else T0 + rng.randrange(25) * 60,
            "group": rng.choice(["售前", "售后", "客诉"]),
        }
        rows.append(row)
        add_conversation(conn, cid, row["customer"], status=row["status"], assignee=row["assignee"],
                         last=row["last"], waiting=row["waiting"], group=row["group"])
    for i in range(0, 60, 2):  # half the customers are known, half only by id
        add_customer(conn, f"u{i}", f"客户{i}")
    return rows


@pytest.fixture
def synth(store):
    rows = store.write(synthetic)
    return store, rows


def expected_ids(rows: list[dict], f: InboxFilter) -> list[str]:
    """The inbox order, computed in Python from the documented rule."""
    def matches(r):
        if f.tab == "mine" and r["assignee"] != f.me:
            return False
        if f.tab == "unassigned" and r["assignee"] is not None:
            return False
        if f.status and r["status"] != f.status:
            return False
        return not f.group or r["group"] == f.group

    def order(r):
        if r["waiting"] is not None:
            return (0, r["waiting"], r["id"])
        return (1, -r["last"], r["id"])

    return [r["id"] for r in sorted(filter(matches, rows), key=order)]


FILTERS = [InboxFilter(tab=tab, status=status, me=ME) for tab in inbox.TABS for status in (None, *CONVERSATION_STATUSES)]
FILTER_IDS = [f"{f.tab}-{f.status or 'any'}" for f in FILTERS]


def walk_forward(store, f, limit):
    out = []
    page = store.read(inbox.first_page, f, limit)
    while page:
        assert len(page) <= limit
        out.extend(page)
        page = store.read(inbox.page_after, f, page[-1].key, limit)
    return out


def walk_backward(store, f, last, limit):
    out = [last]
    page = store.read(inbox.page_before, f, last.key, limit)
    while page:
        assert len(page) <= limit
        out[:0] = page
        page = store.read(inbox.page_before, f, page[0].key, limit)
    return out


@pytest.mark.parametrize("f", FILTERS, ids=FILTER_IDS)
def test_keyset_paging_visits_every_row_once_in_order_both_ways(synth, f):
    store, rows = synth
    expected = expected_ids(rows, f)
    where, args = f.where()
    scan = store.read(lambda c: [r[0] for r in c.execute(
        f"SELECT id FROM conversations c WHERE {where} ORDER BY wait_rank, rank_ts, id", args)])
    assert scan == expected

    for limit in (1, 7, 50):
        forward = walk_forward(store, f, limit)
        assert [r.id for r in forward] == expected
        if expected:
            backward = walk_backward(store, f, forward[-1], limit)
            assert [r.id for r in backward] == expected


@pytest.mark.parametrize("f", FILTERS, ids=FILTER_IDS)
def test_filters_return_exactly_the_matching_rows_and_count_agrees(synth, f):
    store, rows = synth
    expected = expected_ids(rows, f)
    got = store.read(inbox.first_page, f, 10_000)
    assert [r.id for r in got] == expected
    assert store.read(inbox.count, f) == len(expected)
    by_id = {r["id"]: r for r in rows}
    for r in got:
        src = by_id[r.id]
        assert (r.status, r.assignee_id, r.waiting_since, r.last_message_at) == (
            src["status"], src["assignee"], src["waiting"], src["last"])


def test_group_filter(synth):
    store, rows = synth
    f = InboxFilter(tab="all", status="open", group="客诉")
    assert [r.id for r in walk_forward(store, f, 9)] == expected_ids(rows, f)
    assert store.read(inbox.count, f) == len(expected_ids(rows, f))


def test_mine_without_an_agent_shows_nothing(synth):
    store, _ = synth
    f = InboxFilter(tab="mine", status=None, me=None)
    assert store.read(inbox.first_page, f) == []
    assert store.read(inbox.count, f) == 0


def test_page_before_a_middle_row_is_the_rows_just_above_it(synth):
    store, rows = synth
    f = InboxFilter(tab="all", status=None)
    everything = store.read(inbox.first_page, f, 10_000)
    middle = everything[300]
    assert store.read(inbox.page_before, f, middle.key, 20) == everything[280:300]
    assert store.read(inbox.page_after, f, middle.key, 20) == everything[301:321]


PLAN_FILTERS = FILTERS + [InboxFilter(tab=t, status="open", me=ME, group="售后") for t in inbox.TABS]


@pytest.mark.parametrize("f", PLAN_FILTERS, ids=[f"{f.tab}-{f.status or 'any'}-{f.group or 'all'}" for f in PLAN_FILTERS])
def test_every_inbox_page_query_walks_an_inbox_index_without_sorting(synth, f):
    store, _ = synth
    with store.reading() as conn:
        sent: list[str] = []
        conn.set_trace_callback(sent.append)  # the SQL exactly as run, values bound
        try:
            first = inbox.first_page(conn, f, 20)
            key = first[len(first) // 2].key if first else (0, T0, "c")
            inbox.page_after(conn, f, key, 20)
            inbox.page_before(conn, f, key, 20)
        finally:
            conn.set_trace_callback(None)
        assert len(sent) == 3
        for sql in sent:
            plan = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql)]
            table_step = next(step for step in plan if " c " in f" {step} ")
            assert "USING INDEX ix_inbox_" in table_step or "USING COVERING INDEX ix_inbox_" in table_step, plan
            assert not any("TEMP B-TREE" in step for step in plan), plan


# --- thread paging -------------------------------------------------------------------


@pytest.fixture
def long_thread(store):
    def setup(c):
        c.execute("INSERT INTO agents (id, name) VALUES ('a01', '小美')")
        add_conversation(c, "t1")
        add_conversation(c, "t2")
        ids = []
        for i in range(130):
            # Three messages share each second: the id breaks the tie.
            sender = "agent" if i % 4 == 3 else "customer"
            ids.append(writes.add_message(c, "t1", sender, f"第{i}条", T0 + i // 3,
                                          agent_id="a01" if sender == "agent" else None))
            if i % 10 == 0:
                writes.add_message(c, "t2", "customer", f"other {i}", T0 + i // 3)
        return ids

    ids = store.write(setup)
    return store, ids


def test_thread_latest_then_older_pages_cover_the_thread(long_thread):
    store, ids = long_thread
    latest = store.read(thread.latest, "t1", 50)
    assert [m.id for m in latest] == ids[-50:]
    assert [m.body for m in latest][-1] == "第129条"

    seen = list(latest)
    page = latest
    while True:
        page = store.read(thread.older, "t1", page[0].key, 50)
        if not page:
            break
        seen[:0] = page
    assert [m.id for m in seen] == ids
    assert all(m.conversation_id == "t1" for m in seen)
    assert [m.key for m in seen] == sorted(m.key for m in seen)


def test_thread_older_and_newer_around_a_message(long_thread):
    store, ids = long_thread
    everything = store.read(thread.latest, "t1", 1000)
    pivot = everything[61]
    assert store.read(thread.older, "t1", pivot.key, 10) == everything[51:61]
    assert store.read(thread.newer, "t1", pivot.key) == everything[62:]
    assert store.read(thread.newer, "t1", pivot.key, 5) == everything[62:67]
    assert store.read(thread.newer, "t1", everything[-1].key) == []


def test_thread_newer_shows_what_arrived_since(long_thread):
    store, ids = long_thread
    last = store.read(thread.latest, "t1", 1)[-1]
    new_id = store.write(writes.add_message, "t1", "customer", "新消息", last.at)  # same second
    arrived = store.read(thread.newer, "t1", last.key)
    assert [(m.id, m.body) for m in arrived] == [(new_id, "新消息")]


def test_thread_messages_carry_the_agents_name(long_thread):
    store, _ = long_thread
    msgs = store.read(thread.latest, "t1", 8)
    agent = [m for m in msgs if m.sender == "agent"]
    assert agent and all(m.author == "小美" and m.agent_id == "a01" for m in agent)
    assert all(m.author == "" for m in msgs if m.sender == "customer")
    last_customer = store.read(thread.last_customer_message, "t1")
    assert last_customer.body == "第129条"


# --- write rules ---------------------------------------------------------------------


@pytest.fixture
def conv(store):
    store.write(add_conversation, "c1", last=T0)
    return store


def test_a_customer_message_starts_the_clock_and_counts_unread(conv):
    conv.write(writes.add_message, "c1", "customer", "在吗？", T0 + 10)
    assert conversation(conv, "c1") == {
        "waiting_since": T0 + 10, "unread": 1, "preview": "在吗？", "last_message_at": T0 + 10, "status": "open"}

    conv.write(writes.add_message, "c1", "customer", "急！\n快回我", T0 + 20)
    state = conversation(conv, "c1")
    assert state["waiting_since"] == T0 + 10  # still waiting since the first one
    assert state["unread"] == 2
    assert state["preview"] == "急！ 快回我"
    assert state["last_message_at"] == T0 + 20


def test_an_agent_reply_stops_the_clock_and_clears_unread(conv):
    conv.write(writes.add_message, "c1", "customer", "在吗", T0 + 10)
    conv.write(writes.add_message, "c1", "customer", "在吗？？", T0 + 15)
    conv.write(writes.add_message, "c1", "agent", "亲，在的", T0 + 30, agent_id="a01")
    state = conversation(conv, "c1")
    assert (state["waiting_since"], state["unread"], state["preview"]) == (None, 0, "亲，在的")
    assert state["last_message_at"] == T0 + 30


@pytest.mark.parametrize("sender", ["note", "system"])
def test_notes_and_system_lines_change_neither_clock_nor_preview(conv, sender):
    conv.write(writes.add_message, "c1", "customer", "退款呢", T0 + 10)
    conv.write(writes.add_message, "c1", sender, "内部：等仓库回复", T0 + 40)
    state = conversation(conv, "c1")
    assert (state["waiting_since"], state["unread"], state["preview"]) == (T0 + 10, 1, "退款呢")
    assert state["last_message_at"] == T0 + 40


def test_a_bot_reply_updates_the_preview_but_the_customer_still_waits(conv):
    conv.write(writes.add_message, "c1", "customer", "发什么快递", T0 + 10)
    conv.write(writes.add_message, "c1", "bot", "默认顺丰", T0 + 11)
    state = conversation(conv, "c1")
    assert (state["waiting_since"], state["unread"], state["preview"]) == (T0 + 10, 1, "默认顺丰")


def test_an_older_message_arriving_late_does_not_move_last_message_at_back(conv):
    conv.write(writes.add_message, "c1", "customer", "new", T0 + 100)
    conv.write(writes.add_message, "c1", "customer", "old", T0 + 50)
    assert conversation(conv, "c1")["last_message_at"] == T0 + 100


def test_preview_is_cleaned_of_hostile_text(conv):
    conv.write(writes.add_message, "c1", "customer", "hi\x1b]52;c;aGk=\x07 [bold]x[/]\x1b[2J", T0 + 1)
    assert conversation(conv, "c1")["preview"] == "hi [bold]x[/]"
    # The message itself is stored as received; cleaning happens when it is shown.
    assert conv.read(thread.latest, "c1")[-1].body.startswith("hi\x1b]52")


@pytest.mark.parametrize("status", ["pending", "snoozed", "resolved"])
def test_leaving_open_stops_the_clock(conv, status):
    conv.write(writes.add_message, "c1", "customer", "在吗", T0 + 10)
    conv.write(writes.set_status, "c1", status)
    state = conversation(conv, "c1")
    assert (state["status"], state["waiting_since"], state["unread"]) == (status, None, 0)
    # Reopening alone does not invent a wait; the next customer message starts it.
    conv.write(writes.set_status, "c1", "open")
    assert conversation(conv, "c1")["waiting_since"] is None
    conv.write(writes.add_message, "c1", "customer", "又来了", T0 + 99)
    assert conversation(conv, "c1")["waiting_since"] == T0 + 99


@pytest.mark.parametrize("status", ["pending", "snoozed", "resolved"])
def test_a_customer_message_on_a_closed_conversation_counts_unread_without_a_clock(conv, status):
    conv.write(writes.set_status, "c1", status)
    conv.write(writes.add_message, "c1", "customer", "还有个问题", T0 + 10)
    state = conversation(conv, "c1")
    assert (state["status"], state["waiting_since"], state["unread"]) == (status, None, 1)
    assert state["preview"] == "还有个问题"


def test_set_status_open_keeps_a_waiting_customer_waiting(conv):
    conv.write(writes.add_message, "c1", "customer", "在吗", T0 + 10)
    conv.write(writes.set_status, "c1", "open")
    assert (conversation(conv, "c1")["waiting_since"], conversation(conv, "c1")["unread"]) == (T0 + 10, 1)


def test_mark_read(conv):
    conv.write(writes.add_message, "c1", "customer", "在吗", T0 + 10)
    conv.write(writes.mark_read, "c1")
    state = conversation(conv, "c1")
    assert (state["unread"], state["waiting_since"]) == (0, T0 + 10)  # read is not answered


def test_drafts_save_overwrite_and_delete_when_emptied(conv):
    assert conv.read(writes.get_draft, "c1") == ""
    conv.write(writes.save_draft, "c1", "亲，您的订单", T0)
    assert conv.read(writes.get_draft, "c1") == "亲，您的订单"
    conv.write(writes.save_draft, "c1", "亲，您的订单已经发货了", T0 + 5)
    assert conv.read(writes.get_draft, "c1") == "亲，您的订单已经发货了"
    assert count_rows(conv, "drafts") == 1
    conv.write(writes.save_draft, "c1", "  \n ", T0 + 9)
    assert conv.read(writes.get_draft, "c1") == ""
    assert count_rows(conv, "drafts") == 0


def test_meta_set_overwrite_and_default(store):
    assert store.read(writes.get_meta, "shop_id", "none") == "none"
    store.write(writes.set_meta, "shop_id", "a")
    store.write(writes.set_meta, "shop_id", "b")
    assert store.read(writes.get_meta, "shop_id") == "b"


# --- transactions and threads --------------------------------------------------------


def test_write_rolls_back_everything_on_an_exception(conv):
    def half_done(c):
        writes.add_message(c, "c1", "customer", "this never happened", T0 + 10)
        writes.set_meta(c, "half", "done")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        conv.write(half_done)
    assert count_rows(conv, "messages") == 0
    assert conversation(conv, "c1")["unread"] == 0
    assert conv.read(writes.get_meta, "half") == ""
    # The writer is usable afterwards.
    conv.write(writes.add_message, "c1", "customer", "ok", T0 + 20)
    assert count_rows(conv, "messages") == 1


def test_write_returns_the_functions_result(conv):
    new_id = conv.write(writes.add_message, "c1", "customer", "x", T0)
    assert conv.read(thread.latest, "c1")[-1].id == new_id


def test_read_connections_cannot_write(conv):
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conv.read(lambda c: c.execute("DELETE FROM conversations"))
    assert count_rows(conv, "conversations") == 1


def test_a_second_process_sees_committed_writes(conv, cache_path):
    conv.write(writes.add_message, "c1", "customer", "visible", T0)
    other = raw(cache_path)
    assert other.execute("SELECT body FROM messages").fetchall() == [("visible",)]
    other.close()


def test_readers_in_threads_while_a_writer_writes(conv):
    writes_total = 300
    done = threading.Event()
    errors: list[BaseException] = []
    seen: list[list[int]] = [[] for _ in range(4)]

    def snapshot(c):
        # One statement, one snapshot: the message and its conversation's unread count
        # were committed together, so they always agree.
        return c.execute(
            "SELECT (SELECT count(*) FROM messages WHERE conversation_id = 'c1'), "
            "(SELECT unread FROM conversations WHERE id = 'c1')"
        ).fetchone()

    def reader(k):
        try:
            while not done.is_set():
                n, unread = conv.read(snapshot)
                assert n == unread
                seen[k].append(n)
                conv.read(inbox.first_page, InboxFilter(tab="all", status=None), 10)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def writer():
        try:
            for i in range(writes_total):
                conv.write(writes.add_message, "c1", "customer", f"m{i}", T0 + i)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            done.set()

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(4)]
    threads.append(threading.Thread(target=writer))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert all(s == sorted(s) for s in seen)  # nobody ever sees time go backwards
    assert all(s for s in seen)
    assert conv.read(snapshot) == (writes_total, writes_total)


def test_writers_in_several_threads_are_serialised(conv):
    errors: list[BaseException] = []

    def writer(k):
        try:
            for i in range(40):
                conv.write(writes.add_message, "c1", "customer", f"{k}-{i}", T0 + i)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert count_rows(conv, "messages") == 200
    assert conversation(conv, "c1")["unread"] == 200


def test_close_is_idempotent(cache_path):
    s = Store(cache_path)
    s.read(writes.get_meta, "x")
    s.close()
    s.close()


# --- the customer card ---------------------------------------------------------------


def test_closing_while_a_worker_reads_does_not_crash(cache_path):
    """CI once died with a segfault: the app closed the store while a worker thread was
    counting inbox rows on a reader connection. Close interrupts that statement instead,
    and the worker's connection is closed when it is handed back."""
    store = Store(cache_path)
    started, outcome = threading.Event(), []
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"

    def worker():
        def read(conn):
            conn.set_progress_handler(lambda: started.set(), 1000)  # the statement is running
            return conn.execute(endless).fetchone()

        try:
            store.read(read)
        except sqlite3.OperationalError as exc:
            outcome.append(str(exc))

    t = threading.Thread(target=worker)
    t.start()
    assert started.wait(10)
    store.close()
    t.join(10)
    assert not t.is_alive()
    assert outcome == ["interrupted"]
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        store.read(lambda conn: conn.execute("SELECT 1").fetchone())


def test_customer_card_is_bounded_and_complete(store):
    def setup(c):
        c.execute("INSERT INTO agents (id, name) VALUES ('a01', '小美')")
        c.execute("INSERT INTO customers (id, name, vip_level, tags, location, first_seen) "
                  "VALUES ('u1', '李先生', 3, '[\"老客户\", \"爱砍价\"]', '浙江 杭州', ?)", [T0])
        for i in range(45):
            c.execute("INSERT INTO orders (id, customer_id, items, amount, status, created_at) VALUES (?, 'u1', ?, ?, ?, ?)",
                      [f"o{i:02d}", '[{"title": "卫衣", "sku": "L", "qty": 2, "price": 159}]', 318.0,
                       ORDER_STATUSES[i % 7], T0 + i])
        for i in range(3):
            add_conversation(c, f"cv{i}", "u1", last=T0 + i)
            for k in range(i + 1):
                writes.add_message(c, f"cv{i}", "customer", f"q{k}", T0 + i)
        c.execute("INSERT INTO customer_notes (customer_id, agent_id, body, at) VALUES ('u1', 'a01', '只发顺丰', ?)", [T0])

    store.write(setup)
    card = store.read(customers.card, "u1")
    assert card.customer.name == "李先生" and card.customer.tags == ("老客户", "爱砍价")
    assert card.order_count == 45 and len(card.orders) == 20
    assert [o.id for o in card.orders[:3]] == ["o44", "o43", "o42"]  # newest first
    assert card.orders[0].items[0].qty == 2 and card.orders[0].items[0].price == 159.0
    assert [(cv.id, cv.message_count) for cv in card.conversations] == [("cv2", 3), ("cv1", 2), ("cv0", 1)]
    assert [(n.body, n.author) for n in card.notes] == [("只发顺丰", "小美")]
    assert store.read(customers.card, "nobody") is None


def test_shortest_wait_first_pages_through_every_row_once_in_both_directions(tmp_path):
    """The board's second order: waiting customers newest first, then the rest most
    recent first; keyset pages forwards and backwards meet the full sorted list."""
    from dataclasses import replace as dc_replace

    from agentdesk.store import Store, inbox
    from agentdesk.store.inbox import InboxFilter

    store = Store(tmp_path / "c.sqlite")
    try:
        def fill(conn):
            for i in range(37):
                waiting = 1000.0 + i * 7 if i % 3 else None
                conn.execute(
                    "INSERT INTO conversations (id, customer_id, status, last_message_at, waiting_since) "
                    "VALUES (?, 'c1', 'open', ?, ?)", [f"cv{i:02d}", 2000.0 + (i * 13) % 37, waiting])
        store.write(fill)
        f = InboxFilter(tab="all", status="open", descending=True)
        every = store.read(lambda c: [tuple(r) for r in c.execute(
            "SELECT wait_rank, rank_ts, id FROM conversations")])
        expected = sorted([k for k in every if k[0] == 0], key=lambda k: (k[1], k[2]), reverse=True) + \
            sorted([k for k in every if k[0] == 1])
        pages = store.read(inbox.first_page, f, 5)
        seen = list(pages)
        while len(pages) == 5:
            pages = store.read(inbox.page_after, f, seen[-1].key, 5)
            seen += pages
        assert [r.key for r in seen] == expected
        back = []
        key = seen[-1].key
        while True:
            page = store.read(inbox.page_before, f, key, 4)
            if not page:
                break
            back = page + back
            key = page[0].key
        assert [r.key for r in back] == expected[:-1]
        assert store.read(inbox.longest_waiting, f).key == sorted(k for k in every if k[0] == 0)[0]
        assert store.read(inbox.first_page, dc_replace(f, descending=False), 50)[0].key == min(every)
    finally:
        store.close()
