"""Presence – online, away, offline – end to end: the reference shop's
``PUT /v1/me/status`` with its events and the read-only refusal, then the client, the
sync engine's ``request_presence`` and the cache against the real server over httpx's
ASGI transport."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from agentdesk.store import Store, agents
from agentdesk.sync import apply, wire
from agentdesk.sync.client import ShopReader
from agentdesk.sync.engine import IDLE_PAUSE, Changes, SyncEngine

from conftest import ANCHOR
from shop_helpers import Clock, asgi_client as client_for, asgi_http as http

A01, A02, S01 = "demo-a01-xiaomei", "demo-a02-ajie", "demo-s01-linjie"



@pytest.fixture
def clock():
    return Clock(ANCHOR)


@pytest.fixture
def shop(tmp_path, clock):
    from agentdesk.shop.server import create_app

    return create_app(tmp_path / "shop.sqlite", seed="demo", anchor=ANCHOR, clock=clock)


def statuses(state, after: int) -> list[tuple[str, str]]:
    return [(e["data"]["id"], e["data"]["status"]) for e in state.events(after, 1000) if e["type"] == "agent.status"]


# -- the server ------------------------------------------------------------------------------------


async def test_away_survives_activity_and_online_ends_it(shop, clock):
    state = shop.state.shop
    head = state.head
    async with http(shop) as c:
        r = await c.put("/v1/me/status", json={"status": "away"}, headers={"Idempotency-Key": "k1"})
        assert r.status_code == 200
        assert r.json() == {"id": "a01", "name": "小美", "role": "agent", "groups": ["售前", "售后"], "online": False,
                            "status": "away"}
        clock.now += 30
        await c.get("/v1/conversations", params={"limit": 1})  # activity does not end a break
        await c.post("/v1/conversations/cv-c001-1/messages", json={"body": "亲，马上回来"})
        assert state.presence("a01") == "away"
        me = (await c.get("/v1/me")).json()["agent"]
        assert (me["status"], me["online"]) == ("away", False)
        listed = {a["id"]: a["status"] for a in (await c.get("/v1/agents")).json()["items"]}
        assert listed["a01"] == "away"
        again = await c.put("/v1/me/status", json={"status": "away"}, headers={"Idempotency-Key": "k1"})
        assert again.json() == r.json()  # a retried write answers the same and changes nothing
        same = await c.put("/v1/me/status", json={"status": "away"})  # the status it has: no event
        assert same.status_code == 200 and same.json()["status"] == "away"
        back = await c.put("/v1/me/status", json={"status": "online"})
        assert back.json()["status"] == "online" and back.json()["online"] is True
    # a01 came online with its first request, went away, came back; nothing else
    assert statuses(state, head) == [("a01", "online"), ("a01", "away"), ("a01", "online")]
    assert state.agent("a01")["status"] == "online"


async def test_silence_takes_an_away_agent_offline_and_a_request_brings_it_online(shop, clock):
    state = shop.state.shop
    async with http(shop) as c:
        await c.put("/v1/me/status", json={"status": "away"})
        head = state.head
        clock.now += 121
        state.tick()
        assert state.presence("a01") == "offline" and state.agent("a01")["status"] == "offline"
        await c.get("/v1/me")
    assert state.presence("a01") == "online"
    assert statuses(state, head) == [("a01", "offline"), ("a01", "online")]


async def test_read_only_token_and_bad_values_are_refused(shop):
    state = shop.state.shop
    async with http(shop, S01) as c:
        r = await c.put("/v1/me/status", json={"status": "away"})
    assert r.status_code == 403 and r.json()["code"] == "read_only"
    assert state.presence("s01") == "offline"  # refused before the supervisor was even seen
    async with http(shop) as c:
        for body in ({"status": "offline"}, {"status": "busy"}, {}, {"status": None}):
            r = await c.put("/v1/me/status", json=body)
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status", body
        assert (await c.put("/v1/me/status", content=b"nope")).status_code == 422
    async with http(shop, None) as c:
        assert (await c.put("/v1/me/status", json={"status": "away"})).status_code == 401
    assert state.presence("a01") == "online"


def test_presence_is_kept_in_the_database_across_a_restart(tmp_path, clock):
    from agentdesk.shop.state import ShopState

    state = ShopState(tmp_path / "s.sqlite", anchor=ANCHOR, clock=clock)
    a02 = state.agent("a02", with_read_only=True)
    state.seen("a02")
    assert state.set_status(a02, {"status": "away"}, None)[1]["status"] == "away"
    state.close()
    again = ShopState(tmp_path / "s.sqlite", anchor=ANCHOR, clock=clock)
    assert again.presence("a02") == "away" and again.agent("a02")["status"] == "away"
    again.close()


# -- the wire and the cache --------------------------------------------------------------------------


def test_wire_reads_status_and_falls_back_to_the_online_flag():
    base = {"id": "a01", "name": "小美", "role": "agent", "groups": ["售前"]}
    assert wire.agent({**base, "status": "away", "online": False})["status"] == "away"
    assert wire.agent({**base, "online": True}) == {**base, "status": "online", "online": True}
    assert wire.agent(base)["status"] == "offline"
    assert wire.agent({**base, "status": "online"})["online"] is True
    with pytest.raises(wire.PayloadError, match="status"):
        wire.agent({**base, "status": "napping"})


def test_the_cache_keeps_status_and_online(tmp_path):
    store = Store(tmp_path / "c.sqlite")
    base = {"id": "a01", "name": "小美", "role": "agent", "groups": ["售前"]}
    assert store.write(apply.agent, wire.agent({**base, "status": "away"}))
    assert not store.write(apply.agent, wire.agent({**base, "status": "away"}))  # nothing changed
    [me] = store.read(agents.all_agents)
    assert (me.status, me.online) == ("away", False)
    assert store.write(apply.agent, wire.agent({**base, "status": "online"}))
    [me] = store.read(agents.all_agents)
    assert (me.status, me.online) == ("online", True)
    assert store.read(lambda c: c.execute("SELECT online FROM agents").fetchone()[0]) == 1
    store.close()


# -- the client and the sync engine -------------------------------------------------------------------


async def test_client_set_status_and_the_reader_has_no_such_write(shop):
    client = client_for(shop)
    answer = await client.set_status("away", "k-1")
    assert answer["status"] == "away" and shop.state.shop.presence("a01") == "away"
    await client.aclose()
    assert not hasattr(ShopReader, "set_status") and not hasattr(ShopReader, "write")


class RunningEngine:
    """A sync engine running as the app runs it: its own event loop in a worker thread."""

    def __init__(self, engine: SyncEngine) -> None:
        self.engine = engine
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        try:
            await self.engine.run()
        except asyncio.CancelledError:
            pass

    def __enter__(self) -> SyncEngine:
        self.thread.start()
        deadline = time.monotonic() + 10
        while self.engine.status.state != "online":
            assert time.monotonic() < deadline, "the engine did not come online"
            time.sleep(0.02)
        return self.engine

    def __exit__(self, *exc) -> None:
        self.engine.stop()
        self.thread.join(10)


def test_request_presence_writes_on_the_engines_loop_and_updates_the_cache(shop, tmp_path):
    store = Store(tmp_path / "cache.sqlite")
    changes: list[Changes] = []
    engine = SyncEngine(store, client_for(shop), wait=1.0, on_change=changes.append)
    assert engine.request_presence("away") is None  # not running: nothing to send it with
    with RunningEngine(engine):
        future = engine.request_presence("away")  # from this thread, not the engine's
        agent = future.result(timeout=10)
        assert agent["status"] == "away"
        assert shop.state.shop.presence("a01") == "away"
        me = next(a for a in store.read(agents.all_agents) if a.id == "a01")
        assert (me.status, me.online) == ("away", False)
        assert any(c.agents for c in changes)
        assert engine.request_presence("online").result(timeout=10)["status"] == "online"
        me = next(a for a in store.read(agents.all_agents) if a.id == "a01")
        assert (me.status, me.online) == ("online", True)
    assert engine.request_presence("away") is None  # stopped
    store.close()


def test_request_presence_with_a_reader_does_nothing(shop, tmp_path):
    store = Store(tmp_path / "cache.sqlite")
    engine = SyncEngine(store, client_for(shop, S01, ShopReader), wait=1.0)
    writes = shop.state.shop.write_count
    with RunningEngine(engine):
        assert engine.request_presence("away") is None
    assert shop.state.shop.write_count == writes and shop.state.shop.presence("s01") == "online"
    store.close()


async def test_away_is_said_again_after_a_reconnect(shop, clock, tmp_path):
    store = Store(tmp_path / "cache.sqlite")
    engine = SyncEngine(store, client_for(shop), wait=0)
    await engine.set_presence("away")
    state = shop.state.shop
    clock.now += 200  # the connection was gone long enough to show offline
    state.tick()
    assert state.presence("a01") == "offline"
    await engine._restore_presence(await engine.identify())  # what run() does on every (re)connect
    assert state.presence("a01") == "away"
    assert next(a for a in store.read(agents.all_agents) if a.id == "a01").status == "away"
    await engine.client.aclose()
    store.close()


class CountingFeed:
    """ASGI middleware in front of the shop counting the feed requests."""

    def __init__(self, app) -> None:
        self.app, self.state, self.polls = app, app.state, 0

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/v1/events":
            self.polls += 1
        await self.app(scope, receive, send)


def test_a_feed_wait_under_a_second_pauses_between_empty_answers(shop, tmp_path):
    """The API long-polls in whole seconds, so ``wait=0`` asks it not to wait: an empty
    answer is followed by a pause, not an immediate re-ask that starves the engine's loop
    (over the in-process transport it used to hang there, presence writes included)."""
    feed = CountingFeed(shop)
    store = Store(tmp_path / "cache.sqlite")
    engine = SyncEngine(store, client_for(feed), wait=0)
    with RunningEngine(engine):
        polls = feed.polls
        assert engine.request_presence("away").result(timeout=10)["status"] == "away"
        time.sleep(IDLE_PAUSE * 4)
        asked = feed.polls - polls
    assert 1 <= asked <= 8, asked  # about one per pause; without it, thousands
    store.close()
