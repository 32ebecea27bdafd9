"""Sync against a hostile shop over loopback (tests/hostile_shop.py around the real
reference shop, served by uvicorn): nothing waits forever, nothing is too big, a bad
object costs only itself, and the outbox loses nothing. Each test checks what the user
is told (the engine's status: what the header and ``agentdesk sync`` show), that
everything good is synced, and that unsent writes stay and go exactly once later.

The engine runs as the app runs it: on its own event loop in a thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from agentdesk.store import Store, outbox, problems, writes
from agentdesk.sync.client import MAX_RETRY_AFTER, ShopClient
from agentdesk.sync.engine import CURSOR, PAGE, SyncEngine, SyncStatus

import hostile_shop as h
from conftest import ANCHOR
from shop_helpers import loopback_server

TOKEN = "demo-a01-xiaomei"
DATA = Path(__file__).resolve().parent / "data"
RESOURCES = ("customers", "orders", "conversations", "messages", "notes", "followups")


@pytest.fixture
def shop(tmp_path):
    """(url, shop state, the Hostile middleware) of a hostile shop on 127.0.0.1."""
    made: dict = {}

    def wrap(app):
        made["hostile"] = h.Hostile(app)
        return made["hostile"]

    with loopback_server(tmp_path / "shop.sqlite", wrap=wrap, anchor=ANCHOR) as (url, state):
        yield url, state, made["hostile"]


class Recorder:
    """The engine's statuses as they were posted (from its thread)."""

    def __init__(self) -> None:
        self.seen: list[SyncStatus] = []

    def __call__(self, status: SyncStatus) -> None:
        self.seen.append(status)

    @property
    def last(self) -> SyncStatus:
        return self.seen[-1]


class RecordingSleep:
    """A client backoff that records what it was asked to wait and waits only a moment."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        await asyncio.sleep(0.01)


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def make_engine(url: str, store: Store, *, token: str = TOKEN, clock=None, sleep=None, setup_retry: float = 0.3,
                **client_options):
    client_options.setdefault("max_retries", 3)
    client = ShopClient(url, token, sleep=sleep or RecordingSleep(), **client_options)
    recorder = Recorder()
    engine = SyncEngine(store, client, clock=clock or time.time, on_status=recorder, page_size=200, wait=0.5,
                        offline_retry=(0.05, 0.1), setup_retry=setup_retry)
    return engine, recorder


class EngineThread:
    """One event loop in its own thread for the engine (as the app runs it): ``once``
    runs a coroutine there to its end, ``running`` runs engine.run() there meanwhile."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def once(self, coro, timeout: float = 60.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @contextmanager
    def running(self, engine: SyncEngine):
        future = asyncio.run_coroutine_threadsafe(engine.run(), self.loop)
        try:
            yield
        finally:
            engine.stop()
            try:
                future.result(15)
            except (asyncio.CancelledError, concurrent.futures.CancelledError):
                pass

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def engine_thread():
    runner = EngineThread()
    yield runner
    runner.close()


def until(predicate, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(0.02)


def server_ids(state) -> dict[str, set[str]]:
    return {r: {row[0] for row in state.query(f"SELECT id FROM {r}")} for r in RESOURCES}


def cache_ids(store: Store) -> dict[str, set[str]]:
    sql = {"customers": "SELECT id FROM customers", "orders": "SELECT id FROM orders",
           "conversations": "SELECT id FROM conversations", "messages": "SELECT server_id FROM messages",
           "notes": "SELECT server_id FROM customer_notes", "followups": "SELECT server_id FROM followups"}
    return store.read(lambda c: {r: {row[0] for row in c.execute(q) if row[0] is not None} for r, q in sql.items()})


def assert_everything_synced(store: Store, state) -> None:
    assert cache_ids(store) == server_ids(state)
    assert store.read(writes.get_meta, CURSOR)


def never_online(recorder: Recorder) -> bool:
    return all(s.state != "online" for s in recorder.seen)


# -- nothing waits forever ----------------------------------------------------------------------


def test_a_body_trickled_a_byte_every_4_s_times_out_at_the_deadline(shop, engine_thread, tmp_path):
    url, state, hostile = shop
    hostile.on("GET", "/v1/me", h.trickle(every=4.0), times=2)
    store = Store(tmp_path / "cache.sqlite")
    engine, seen = make_engine(url, store, deadline=1.0, max_retries=1)
    started = time.monotonic()
    with engine_thread.running(engine):
        until(lambda: seen.seen and seen.last.error_kind == "timeout", what="the timeout shown")
        assert time.monotonic() - started < 4, "gave up at the deadline, not after the next byte"
        assert "no complete answer within 1 s" in seen.last.error and f"{url}/v1/me" in seen.last.error
        assert seen.last.state == "offline" and seen.last.retry_at is not None
        until(lambda: seen.last.state == "online", what="online once the shop answers")
    assert_everything_synced(store, state)
    store.close()


def test_a_503_storm_with_retry_after_100000_waits_a_minute_at_most_and_shows_it(shop, engine_thread, tmp_path):
    url, state, hostile = shop
    hostile.on("GET", "/v1/*", h.status(503, "100000"), times=6)
    store = Store(tmp_path / "cache.sqlite")
    sleep = RecordingSleep()
    engine, seen = make_engine(url, store, sleep=sleep, max_retries=3)
    with engine_thread.running(engine):
        until(lambda: any(s.error_kind == "busy" and s.retry_at for s in seen.seen), what="the wait shown")
        shown = next(s for s in seen.seen if s.error_kind == "busy" and s.retry_at)
        assert shown.state == "offline" and dict(shown.error_params)["http"] == "503"
        assert shown.retry_at - time.monotonic() <= MAX_RETRY_AFTER
        until(lambda: seen.last.state == "online", what="online after the storm")
    assert sleep.asked and max(sleep.asked) == MAX_RETRY_AFTER, "Retry-After obeyed, capped at a minute"
    assert_everything_synced(store, state)
    store.close()


def test_an_http_date_retry_after_far_away_is_capped_too(shop, engine_thread, tmp_path):
    url, state, hostile = shop
    hostile.on("GET", "/v1/me", h.status(429, "Wed, 21 Oct 2099 07:28:00 GMT"), times=1)
    store = Store(tmp_path / "cache.sqlite")
    sleep = RecordingSleep()
    engine, _seen = make_engine(url, store, sleep=sleep)
    engine_thread.once(engine.identify())
    assert sleep.asked == [MAX_RETRY_AFTER]
    store.close()


# -- nothing too big --------------------------------------------------------------------------------


def test_a_huge_page_is_refused_at_the_cap_with_the_url_named(shop, engine_thread, tmp_path):
    url, state, hostile = shop
    hostile.on("GET", "/v1/customers", h.huge(total=600 << 20))  # the 537 MB page, and more
    store = Store(tmp_path / "cache.sqlite")
    engine, seen = make_engine(url, store)
    started = time.monotonic()
    with engine_thread.running(engine):
        until(lambda: any(s.error_kind == "bad_answer" for s in seen.seen), what="the size error")
    error = next(s for s in seen.seen if s.error_kind == "bad_answer").error
    assert error.startswith(f"{url}/v1/customers: a body of more than 67,108,864 bytes")
    assert time.monotonic() - started < 20
    assert never_online(seen) and not store.read(writes.get_meta, PAGE + "customers")
    store.close()


def test_a_gzip_bomb_is_stopped_decompressed_not_after(shop, engine_thread, tmp_path):
    url, state, hostile = shop
    bomb = h.gzip_bomb(256 << 20)
    hostile.on("GET", "/v1/customers", h.bomb(256 << 20))
    store = Store(tmp_path / "cache.sqlite")
    engine, seen = make_engine(url, store)
    with engine_thread.running(engine):
        until(lambda: any(s.error_kind == "bad_answer" for s in seen.seen), what="the size error")
    error = next(s for s in seen.seen if s.error_kind == "bad_answer").error
    assert f"{url}/v1/customers: a body of more than 67,108,864 bytes" in error
    sent = int(error.split("(")[1].split(" sent")[0].replace(",", ""))
    assert sent <= len(bomb) < (1 << 20), "it stopped by the decompressed size; only the small bomb was sent"
    store.close()


def test_a_page_with_more_items_than_asked_is_refused(shop, engine_thread, tmp_path):
    url, state, hostile = shop
    items = [{"id": f"c{n:06d}", "name": "x"} for n in range(401)]
    hostile.on("GET", "/v1/customers", h.raw(json.dumps({"items": items, "next": None}).encode()))
    store = Store(tmp_path / "cache.sqlite")
    engine, seen = make_engine(url, store)
    with engine_thread.running(engine):
        until(lambda: any(s.error_kind == "bad_answer" for s in seen.seen), what="the page error")
    error = next(s for s in seen.seen if s.error_kind == "bad_answer").error
    assert error == f"{url}/v1/customers: 401 items on a page, more than the 200 asked for"
    assert store.read(lambda c: c.execute("SELECT count(*) FROM customers").fetchone()[0]) == 0
    store.close()


# -- cursors that never end -------------------------------------------------------------------------


@pytest.mark.parametrize("name, behaviour, says", [
    ("the same cursor back", h.rewired(lambda after, real: after or "c010"), "paging would never end"),
    ("the first page again, new cursors", h.same_page_forever(lambda after: (after or "") + "x"),
     "the shop sends the same page again"),
    ("a circle", h.rewired(lambda after, real: {None: "c010", "c010": "c020", "c020": "c010"}.get(after, real)),
     "paging would go round forever"),
    ("an empty page that goes on", h.raw(b'{"items": [], "next": "more"}'), "an empty page with a next cursor"),
])
def test_a_cursor_that_does_not_advance_is_an_error_not_a_loop(shop, engine_thread, tmp_path, name, behaviour, says):
    url, state, hostile = shop
    hostile.on("GET", "/v1/customers", behaviour)
    store = Store(tmp_path / "cache.sqlite")
    engine, _seen = make_engine(url, store)
    with pytest.raises(Exception) as info:
        engine_thread.once(engine.initial_sync())
    assert says in str(info.value) and f"{url}/v1/customers" in str(info.value)
    assert hostile.count("GET", "/v1/customers") <= 3, "a few pages, not forever"
    store.close()


@pytest.mark.parametrize("next_of, says", [
    (lambda after, real: after, "the next cursor stays at"),
    (lambda after, real: "1", "is before the one asked with"),
])
def test_a_feed_cursor_that_stays_or_goes_back_while_events_come_is_an_error(shop, engine_thread, tmp_path, next_of, says):
    url, state, hostile = shop
    store = Store(tmp_path / "cache.sqlite")
    engine, _seen = make_engine(url, store)
    engine_thread.once(engine.identify())
    engine_thread.once(engine.initial_sync())
    state.say("c002", "在吗？")
    hostile.on("GET", "/v1/events", h.rewired(next_of))
    with pytest.raises(Exception) as info:
        engine_thread.once(engine.catch_up())
    assert says in str(info.value)
    cursor = store.read(writes.get_meta, CURSOR)
    hostile.calm()
    engine_thread.once(engine.catch_up())
    assert int(store.read(writes.get_meta, CURSOR)) > int(cursor)
    store.close()


# -- answers that are not what they claim ------------------------------------------------------------


def test_a_redirect_is_a_clear_error_not_success(shop, engine_thread, tmp_path):
    url, state, hostile = shop
    hostile.on("GET", "/v1/customers", h.redirect("https://api.shop.example/v1/customers?after=&limit=200"))
    store = Store(tmp_path / "cache.sqlite")
    engine, seen = make_engine(url, store, setup_retry=2.0)
    with engine_thread.running(engine):
        until(lambda: any(s.error_kind == "redirect" for s in seen.seen), what="the redirect shown")
        shown = next(s for s in seen.seen if s.error_kind == "redirect")
        assert shown.error.startswith("the shop URL redirects to https://api.shop.example; set [shop] url to it")
        assert dict(shown.error_params)["to"] == "https://api.shop.example"
        assert never_online(seen)
        requests = hostile.count("GET", "/v1/customers")
        assert requests == 1, "not retried as a blip"
        hostile.calm()
        until(lambda: seen.last.state == "online", what="online once the URL is right")
    assert store.read(lambda c: c.execute("SELECT count(*) FROM customers").fetchone()[0]) == len(
        server_ids(state)["customers"])
    store.close()


def test_malformed_json_is_retried_and_then_synced(shop, engine_thread, tmp_path):
    url, state, hostile = shop
    hostile.on("GET", "/v1/conversations", h.raw(b'{"items": [{"id": "cv-c001-1", "customer_id"'), times=2)
    store = Store(tmp_path / "cache.sqlite")
    engine, seen = make_engine(url, store, max_retries=3)
    engine_thread.once(engine.identify())
    engine_thread.once(engine.initial_sync())
    assert hostile.count("GET", "/v1/conversations") >= 3
    assert_everything_synced(store, state)
    store.close()


def test_html_where_json_belongs_names_the_setting(shop, engine_thread, tmp_path):
    url, state, hostile = shop
    hostile.on("GET", "/v1/me", h.raw(b"<html><body>Please log in to the Wi-Fi</body></html>", b"text/html"))
    store = Store(tmp_path / "cache.sqlite")
    engine, seen = make_engine(url, store)
    with engine_thread.running(engine):
        until(lambda: any(s.error_kind == "bad_answer" for s in seen.seen), what="the error shown")
    error = next(s for s in seen.seen if s.error_kind == "bad_answer").error
    assert error == f"{url}/v1/me: the shop answered text/html, not JSON; is [shop] url the shop's API?"
    assert never_online(seen)
    store.close()


def test_a_refused_token_says_which_setting(shop, engine_thread, tmp_path):
    url, state, hostile = shop
    store = Store(tmp_path / "cache.sqlite")
    engine, seen = make_engine(url, store, token="not-a-real-token")
    with engine_thread.running(engine):
        until(lambda: any(s.error_kind == "auth" for s in seen.seen), what="the token error")
    shown = next(s for s in seen.seen if s.error_kind == "auth")
    assert "check [shop] token" in shown.error and "not-a-real-token" not in shown.error
    assert "\n" not in shown.error and never_online(seen)
    store.close()


def test_a_certificate_that_does_not_verify_is_named_and_not_retried(engine_thread, tmp_path):
    tls = {"ssl_certfile": str(DATA / "selfsigned.pem"), "ssl_keyfile": str(DATA / "selfsigned.key")}
    with loopback_server(tmp_path / "shop.sqlite", tls=tls, anchor=ANCHOR) as (url, state):
        store = Store(tmp_path / "cache.sqlite")
        engine, seen = make_engine(url, store, setup_retry=60.0)
        with engine_thread.running(engine):
            until(lambda: any(s.error_kind == "tls" for s in seen.seen), what="the TLS error")
        shown = next(s for s in seen.seen if s.error_kind == "tls")
        assert shown.error.startswith("certificate verify failed for 127.0.0.1")
        assert engine.client.requests == 1, "a TLS failure is not a network blip: no retries"
        assert never_online(seen)
        store.close()


def test_https_to_a_server_that_speaks_http_says_so(shop, engine_thread, tmp_path):
    url, state, hostile = shop
    store = Store(tmp_path / "cache.sqlite")
    engine, seen = make_engine(url.replace("http://", "https://"), store)
    with pytest.raises(Exception) as info:
        engine_thread.once(engine.identify())
    assert "TLS with 127.0.0.1 failed" in str(info.value) and engine.client.requests == 1
    store.close()


# -- bad objects among good ones ---------------------------------------------------------------------

BAD_MESSAGES = [
    b'{"id": "m_bad1", "seq": 1180591620717411303424, "conversation_id": "cv-c001-1", "sender": "customer", '
    b'"body": "x", "created_at": "2026-11-20T06:00:00Z"}',  # seq 2**70
    b'{"id": "m_bad2", "seq": 5, "conversation_id": "cv-c001-1", "sender": "alien", "body": "x", '
    b'"created_at": "2026-11-20T06:00:00Z"}',  # an unknown enum value
    b'{"id": "m_bad3", "seq": 5, "amount": NaN}',  # not JSON at all
    b"[" * 200_000 + b"]" * 200_000,  # 200k deep
    b'{"id": "m_bad5", "conversation_id": "cv-c001-1", "sender": "customer", "body": "x"}',  # missing fields
    b'"just a string"',
]


def test_bad_objects_on_a_page_are_quarantined_and_the_rest_syncs(shop, engine_thread, tmp_path):
    url, state, hostile = shop
    hostile.on("GET", "/v1/messages", h.mixed_in(BAD_MESSAGES), times=1)
    store = Store(tmp_path / "cache.sqlite")
    engine, seen = make_engine(url, store)
    with engine_thread.running(engine):
        until(lambda: seen.seen and seen.last.state == "online", what="online")
        assert seen.last.skipped == len(BAD_MESSAGES)
    assert_everything_synced(store, state)
    assert store.read(writes.get_meta, PAGE + "messages") == "done", "the cursor moved past them"
    found = store.read(problems.listing)
    assert len(found) == 6 and all(r.resource == "messages" for r in found)
    named = {r.object_id: (r.field, r.reason) for r in found if r.object_id}
    assert named["m_bad1"] == ("seq", "out of range: expected an integer <= 9223372036854775807")
    assert named["m_bad2"][0] == "sender" and named["m_bad2"][1].startswith(
        "expected one of customer, agent, bot, system, note, got 'alien'")
    assert named["m_bad3"][0] == "" and named["m_bad3"][1].startswith("not JSON")
    assert named["m_bad5"] in (("seq", "missing"), ("created_at", "missing"))
    unnamed = sorted(r.reason for r in found if not r.object_id)
    assert unnamed == ["expected an object, got a string", "nested 200000 levels deep, more than 64"]
    deep = next(r for r in found if r.raw_bytes == 400_000)
    assert len(deep.raw) == problems.RAW_KEPT, "the raw object is kept, cut to a bounded size"
    store.close()


def test_a_bad_event_costs_only_itself(shop, engine_thread, tmp_path):
    url, state, hostile = shop
    store = Store(tmp_path / "cache.sqlite")
    engine, seen = make_engine(url, store)
    engine_thread.once(engine.identify())
    engine_thread.once(engine.initial_sync())
    said = state.say("c002", "在吗 卫衣有货吗")
    bad = [b'{"cursor": "999999", "type": "message.exploded", "data": {}}',
           b'{"cursor": "999998", "type": "message.created", "data": {"id": "m_x", "seq": -1}}',
           b'{"cursor": NaN}']
    hostile.on("GET", "/v1/events", h.mixed_in(bad, "events"), times=1)
    engine_thread.once(engine.catch_up())
    assert store.read(lambda c: c.execute("SELECT count(*) FROM messages WHERE server_id = ?",
                                          [said["message"]["id"]]).fetchone()[0]) == 1
    found = store.read(problems.listing)
    assert {(p.resource, p.field) for p in found} == {("events", "type"), ("messages", "seq"), ("events", "")}
    store.close()


def test_a_good_version_of_a_quarantined_object_clears_its_problem(shop, engine_thread, tmp_path):
    url, state, hostile = shop
    hostile.on("GET", "/v1/customers", h.raw(b'{"items": [{"id": "c001", "name": "x", "vip_level": 99}], "next": null}'),
               times=1)
    store = Store(tmp_path / "cache.sqlite")
    engine, seen = make_engine(url, store)
    engine_thread.once(engine.identify())
    engine_thread.once(engine.initial_sync())
    assert [(p.object_id, p.field) for p in store.read(problems.listing)] == [("c001", "vip_level")]
    assert engine.status.skipped == 1
    store.write(lambda c: c.execute("DELETE FROM meta WHERE key LIKE 'sync.page.%'"))  # page everything again
    engine_thread.once(engine.initial_sync())
    assert store.read(problems.listing) == [] and engine.status.skipped == 0
    store.close()


# -- the outbox loses nothing ------------------------------------------------------------------------


def test_unsent_replies_survive_a_hostile_shop_and_go_exactly_once_when_it_recovers(shop, engine_thread, tmp_path):
    url, state, hostile = shop
    store = Store(tmp_path / "cache.sqlite")
    clock = Clock()
    engine, seen = make_engine(url, store, clock=clock)
    engine_thread.once(engine.identify())
    engine_thread.once(engine.initial_sync())
    bodies = [f"亲，这边帮您查询一下哦 #{i}" for i in range(3)]
    # The shop turns hostile: reads meet a 503 storm; writes a 503 with Retry-After
    # 100000, then a redirect, then an HTML page from a proxy.
    storm = hostile.on("GET", "/v1/*", h.status(503, "100000"), times=4)
    writes_met = [hostile.on("POST", "/v1/conversations/*", h.status(503, "100000"), times=1),
                  hostile.on("POST", "/v1/conversations/*", h.redirect("https://elsewhere.example/v1/"), times=1),
                  hostile.on("POST", "/v1/conversations/*", h.raw(b"<html>proxy</html>", b"text/html"), times=1)]
    for body in bodies:
        store.write(outbox.send_message, "cv-c001-1", body, clock(), agent_id="a01")

    def on_server() -> list[str]:
        return [r[0] for r in state.query("SELECT body FROM messages WHERE body LIKE '亲，这边帮您查询一下哦 #%' ORDER BY seq")]

    with engine_thread.running(engine):
        until(lambda: storm.hits == 4 and writes_met[0].hits == 1, what="the storm and the first write")
        def first_retry() -> float:
            return store.read(lambda c: c.execute("SELECT max(next_at) FROM outbox").fetchone()[0] or 0)

        until(lambda: first_retry() > clock() + 5, what="the first reply postponed")
        # postponed by the capped Retry-After, not by 100 000 s; the two behind it wait
        # for it (never overtaking); nothing sent, nothing lost
        assert first_retry() - clock() <= MAX_RETRY_AFTER + 1
        assert store.read(outbox.pending_count) == 3 and on_server() == []

        def later() -> bool:  # time passes for the outbox (an hour a look) until all is sent
            clock.offset += 3600
            engine.kick()
            return store.read(outbox.pending_count) == 0

        until(later, what="every reply sent")
    assert [r.hits for r in writes_met] == [1, 1, 1]
    assert on_server() == bodies, "each reply once, in order"
    assert store.read(lambda c: c.execute("SELECT count(*) FROM messages WHERE state != 'sent' AND body LIKE "
                                          "'亲，这边帮您查询一下哦 #%'").fetchone()[0]) == 0
    store.close()


# -- the payload fault corpus: counted -----------------------------------------------------------------

DEEP = b"[" * 200_000 + b"]" * 200_000
#: Per resource: an enum field with a value it does not allow, a time field, an integer
#: pushed out of range, and a text field (too long; or carrying broken Unicode, repaired).
FIELDS = {
    "customers": ("opt_out", "yes", "updated_at", ("vip_level", 11), "name", 1_000),
    "orders": ("status", "lost", "created_at", ("items", [{"title": "卫衣", "qty": -1}]), "address", 1_000),
    "conversations": ("status", "archived", "created_at", ("version", 2**70), "customer_id", 200),
    "messages": ("sender", "alien", "created_at", ("seq", 2**70), "body", 10_000),
    "notes": ("agent_id", 7, "created_at", ("seq", -1), "body", 10_000),
    "followups": ("status", "later", "due_at", ("due_at", "2026-13-45T99:00:00Z"), "note", 10_000),
}


def fault_corpus(resource: str, base: dict) -> tuple[list[bytes], list[dict]]:
    """(what must be quarantined, what must be repaired and kept), as raw JSON."""
    enum_field, enum_bad, time_field, (int_field, int_bad), text_field, text_max = FIELDS[resource]
    n = iter(range(1000))

    def variant(**changes) -> dict:
        obj = dict(base, id=f"bad-{resource}-{next(n)}")
        for k, v in changes.items():
            if v is _DROP:
                obj.pop(k, None)
            else:
                obj[k] = v
        return obj

    def raw(obj: dict) -> bytes:
        return json.dumps(obj, ensure_ascii=True).encode()

    quarantined = [
        b"null", b"[]", b'"an object it is not"', b"42", b"NaN", DEEP,
        raw(dict(base, id=12345)), raw(dict(base, id="")), raw(dict(base, id="x" * 201)),
        raw({k: v for k, v in base.items() if k != "id"}),
        raw(variant(**{enum_field: enum_bad})),
        raw(variant(**{time_field: "yesterday"})),
        raw(variant(**{time_field: "2026-11-20T14:30:00"})),  # no timezone
        raw(variant(**{int_field: int_bad})),
        raw(variant(**{text_field: "长" * (text_max + 1)})),
        raw(variant(**{text_field: ["not", "text"]})),
        raw(variant(extra={"nested": json.loads("[" * 900 + "]" * 900)})).replace(b"[]", b"[" * 5000 + b"]" * 5000, 1),
        raw(variant(padding="x" * 1_100_000)),  # an object over 1 MB
        raw(variant(amount="<NaN>")).replace(b'"<NaN>"', b"NaN"),  # NaN inside an object: not JSON
        raw(variant(amount="<1e999>")).replace(b'"<1e999>"', b"1e999") if resource == "orders"
        else raw(variant(**{int_field: True})),  # a number out of any range / a boolean for an integer
    ]
    kept = [variant(**{text_field: "好的👍\ud83d"}), variant(**{text_field: "\udc00前后"})]
    if resource == "conversations":  # customer_id is its text field: keep it pointing at the real customer
        kept = [variant(tags=["尺码\ud83d"]), variant(tags=["\udc00"])]
    if resource in ("messages", "notes"):
        kept = [dict(k, seq=10**9 + i) for i, k in enumerate(kept)]
    return quarantined, kept


_DROP = object()


def test_the_payload_fault_corpus_every_fault_survived_nothing_lost(shop, engine_thread, tmp_path):
    url, state, hostile = shop
    tried = quarantined_total = repaired_total = 0
    repaired_ids: dict[str, set[str]] = {r: set() for r in RESOURCES}
    for resource in RESOURCES:
        base = state.page(resource, None, 1)["items"][0]
        bad, kept = fault_corpus(resource, base)
        kept_raw = [json.dumps(k, ensure_ascii=True).encode() for k in kept]
        hostile.on("GET", f"/v1/{resource}", h.mixed_in(bad + kept_raw), times=1)
        tried += len(bad) + len(kept)
        quarantined_total += len(bad)
        repaired_total += len(kept)
        repaired_ids[resource] = {k["id"] for k in kept}
    store = Store(tmp_path / "cache.sqlite")
    engine, seen = make_engine(url, store)
    engine_thread.once(engine.identify())
    engine_thread.once(engine.initial_sync())
    # and on the feed: events nobody knows, events with bad data, events that are not JSON
    state.say("c002", "在吗 卫衣有货吗")
    event_faults = [b'{"cursor": "99999", "type": "order.exploded", "data": {}}', b'{"cursor": NaN}', b"17",
                    b'{"cursor": "99998", "type": "message.created", "data": {"id": "m_x", "seq": "one"}}',
                    b'{"cursor": "99997", "type": "customer.updated"}', DEEP]
    hostile.on("GET", "/v1/events", h.mixed_in(event_faults, "events"), times=1)
    engine_thread.once(engine.catch_up())
    tried += len(event_faults)
    quarantined_total += len(event_faults)

    expected = server_ids(state)
    for resource in RESOURCES:
        expected[resource] |= repaired_ids[resource]
    assert cache_ids(store) == expected, "every good object synced, the repaired ones kept"
    assert store.read(problems.count) == quarantined_total == engine.status.skipped
    for resource in ("customers", "messages", "notes", "followups"):
        text = store.read(lambda c, r=resource: c.execute(
            {"customers": "SELECT name FROM customers WHERE id = ?", "messages": "SELECT body FROM messages WHERE "
             "server_id = ?", "notes": "SELECT body FROM customer_notes WHERE server_id = ?",
             "followups": "SELECT note FROM followups WHERE server_id = ?"}[r], [f"bad-{r}-10"]).fetchone()[0])
        assert text == "好的👍\ufffd"
    # What the counts are (the "payload faults tried / survived, with nothing lost"):
    assert (tried, quarantined_total, repaired_total) == (138, 126, 12)
    assert all(s.state != "offline" for s in seen.seen)
    store.close()
