"""The sync engine and outbox against the real reference shop server: in-process over
httpx's ASGI transport, and over loopback (uvicorn on 127.0.0.1) where real sockets
matter (timeouts, dropped connections, a sync process killed with SIGKILL)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from agentdesk.store import Store, outbox, thread, writes
from agentdesk.sync.client import ApiError, ShopClient, ShopReader, Unavailable
from agentdesk.sync.engine import CURSOR, SyncEngine

from conftest import ANCHOR
from shop_helpers import asgi_client as client_for, loopback_server, no_sleep

TOKEN = "demo-a01-xiaomei"
TOKEN_A02 = "demo-a02-ajie"


@pytest.fixture
def shop(tmp_path):
    from agentdesk.shop.server import create_app

    return create_app(tmp_path / "shop.sqlite", seed="demo", anchor=ANCHOR, fault_seed=7)


async def read_everything(reader: ShopReader) -> dict:
    """Conversations, messages and notes as the server has them, every page."""
    out: dict = {}
    for resource in ("conversations", "messages", "notes"):
        items, after = [], None
        while True:
            page = await reader.page(resource, after, 1000)
            items += page.items
            after = page.next
            if not after:
                break
        out[resource] = items
    await reader.aclose()
    return out


async def server_snapshot(app) -> dict:
    """What the server holds, read through the API with faults switched off meanwhile."""
    state = app.state.shop
    faults = (state.fail_rate, state.fault_kinds)
    state.set_faults(fail_rate=0.0)
    out = await read_everything(ShopReader("http://shop.test", TOKEN, transport=httpx.ASGITransport(app=app)))
    state.set_faults(fail_rate=faults[0], kinds=faults[1])
    return out


def cache_snapshot(store: Store) -> dict:
    def read(conn):
        return {
            "messages": conn.execute(
                "SELECT server_id, conversation_id, sender, body FROM messages ORDER BY server_id"
            ).fetchall(),
            "duplicates": conn.execute(
                "SELECT count(*) - count(DISTINCT server_id) FROM messages"
            ).fetchone()[0],
            "local_only": conn.execute("SELECT count(*) FROM messages WHERE server_id IS NULL").fetchone()[0],
            "conversations": conn.execute(
                "SELECT id, status, assignee_id, grp, version FROM conversations ORDER BY id"
            ).fetchall(),
            "notes": conn.execute("SELECT server_id, body FROM customer_notes ORDER BY server_id").fetchall(),
        }

    return store.read(read)


def assert_cache_equals_server(store: Store, server: dict) -> None:
    cache = cache_snapshot(store)
    assert cache["duplicates"] == 0
    assert cache["local_only"] == 0
    expected = sorted((m["id"], m["conversation_id"], m["sender"], m["body"]) for m in server["messages"])
    assert [tuple(r) for r in cache["messages"]] == expected
    expected_convs = sorted(
        (c["id"], c["status"], c["assignee_id"], c["group"], c["version"]) for c in server["conversations"]
    )
    assert [tuple(r) for r in cache["conversations"]] == expected_convs
    assert [tuple(r) for r in cache["notes"]] == sorted((n["id"], n["body"]) for n in server["notes"])


async def full_sync(engine: SyncEngine) -> None:
    await engine.identify()
    await engine.initial_sync()
    await engine.catch_up()


async def sync_through_faults(engine: SyncEngine, attempts: int) -> None:
    """Run the full sync again after each give-up, as the app's run loop does."""
    for _ in range(attempts):
        try:
            await full_sync(engine)
            break
        except Unavailable:
            continue
    assert engine.synced()


async def test_initial_sync_equals_server_state(shop, tmp_path):
    store = Store(tmp_path / "cache.sqlite")
    engine = SyncEngine(store, client_for(shop), page_size=97)
    await full_sync(engine)
    assert_cache_equals_server(store, await server_snapshot(shop))
    assert store.read(writes.get_meta, "me") == "a01"
    assert store.read(writes.get_meta, "shop_name") == "拾光生活旗舰店"
    # The inbox rules hold after sync exactly as for local traffic: somebody waits.
    waiting = store.read(lambda c: c.execute("SELECT count(*) FROM conversations WHERE waiting_since IS NOT NULL").fetchone()[0])
    assert waiting > 5
    store.close()


async def test_feed_brings_new_customer_messages(shop, tmp_path):
    store = Store(tmp_path / "cache.sqlite")
    seen = []
    engine = SyncEngine(store, client_for(shop), on_change=seen.append)
    await full_sync(engine)
    said = shop.state.shop.say("新来的顾客小林", "在吗？卫衣L码还有货吗")
    applied = await engine.poll(wait=0)
    assert applied >= 1
    cv = said["conversation_id"] if "conversation_id" in said else said["conversation"]["id"]
    assert any(cv in ch.threads for ch in seen)
    last = store.read(thread.last_customer_message, cv)
    assert last is not None and last.body == "在吗？卫衣L码还有货吗"
    store.close()


async def test_long_poll_wakes_when_a_customer_writes(shop, tmp_path):
    store = Store(tmp_path / "cache.sqlite")
    engine = SyncEngine(store, client_for(shop))
    await full_sync(engine)

    async def later():
        await asyncio.sleep(0.3)
        shop.state.shop.say("c001", "还在吗？？")

    started = time.perf_counter()
    task = asyncio.create_task(later())
    applied = await engine.poll(wait=10)
    await task
    assert applied >= 1
    assert time.perf_counter() - started < 8, "answered when the event arrived, not at the end of the wait"
    store.close()


@pytest.mark.parametrize("kinds", [("500",), ("503",), ("429",), ("duplicate",), ("malformed",), ("reorder",),
                                   ("500", "503", "429", "duplicate", "malformed", "reorder")])
async def test_faults_converge_to_server_state(shop, tmp_path, kinds):
    """Initial sync, live traffic and replies through heavy fault injection: the cache
    ends equal to the server, with no duplicate and no missing message."""
    state = shop.state.shop
    state.set_faults(fail_rate=0.35, kinds=kinds)
    store = Store(tmp_path / "cache.sqlite")
    engine = SyncEngine(store, client_for(shop, max_retries=8), page_size=61)
    await sync_through_faults(engine, attempts=40)
    for i in range(6):
        state.say(f"c00{i + 1}", f"第{i}条：我的快递到哪了")
        cv = store.read(lambda c, i=i: c.execute(
            "SELECT id FROM conversations WHERE customer_id = ? ORDER BY last_message_at DESC", [f"c00{i + 1}"]
        ).fetchone()[0])
        store.write(outbox.send_message, cv, f"亲，这边帮您查询一下哦 #{i}", ANCHOR + i, agent_id="a01")
    for _ in range(60):
        try:
            await engine.flush_outbox()
            await engine.catch_up()
        except Unavailable:
            store.write(lambda c: c.execute("UPDATE outbox SET next_at = 0"))
            continue
        if store.read(outbox.pending_count) == 0:
            try:
                await engine.catch_up()
                break
            except Unavailable:
                continue
    state.set_faults(fail_rate=0.0)
    await engine.catch_up()
    assert store.read(outbox.pending_count) == 0
    server = await server_snapshot(shop)
    sent = [m for m in server["messages"] if m["body"].startswith("亲，这边帮您查询一下哦 #")]
    assert len(sent) == 6, "each reply delivered exactly once despite lost answers and retries"
    assert_cache_equals_server(store, server)
    store.close()


async def test_duplicate_and_reordered_events_are_harmless(shop, tmp_path):
    """Apply one feed page twice and reversed: nothing changes the second time."""
    store = Store(tmp_path / "cache.sqlite")
    client = client_for(shop)
    engine = SyncEngine(store, client)
    await full_sync(engine)
    cursor = store.read(writes.get_meta, CURSOR)
    for i in range(5):
        shop.state.shop.say("c002", f"补充说明{i}")
    events = (await client.events(cursor, wait=0)).events
    assert len(events) >= 5
    from agentdesk.sync import apply

    def apply_all(conn, evs):
        for e in evs:
            apply.UPSERTS[e.resource](conn, e.record)

    store.write(apply_all, list(reversed(events)))
    before = cache_snapshot(store)
    store.write(apply_all, events)
    assert cache_snapshot(store) == before
    await engine.catch_up()
    assert_cache_equals_server(store, await server_snapshot(shop))
    store.close()


async def test_bad_payload_is_named_and_skipped(tmp_path):
    """A malformed object costs only itself: a one-line error naming the field."""
    from agentdesk.sync import wire

    with pytest.raises(wire.PayloadError, match=r"conversation cv-9: status: expected one of"):
        wire.conversation({"id": "cv-9", "customer_id": "c1", "status": "weird", "version": 1})
    with pytest.raises(wire.PayloadError, match=r"message m_1: created_at: expected an RFC 3339 time"):
        wire.message({"id": "m_1", "seq": 1, "conversation_id": "cv", "sender": "customer", "body": "x",
                      "created_at": "yesterday"})


async def test_reply_while_server_down_is_delivered_once_when_it_returns(shop, tmp_path):
    store = Store(tmp_path / "cache.sqlite")
    engine = SyncEngine(store, client_for(shop, token=TOKEN_A02, max_retries=1))
    await full_sync(engine)
    cv = "cv-c021-2"  # 阿杰's
    client_id = store.write(outbox.send_message, cv, "亲，破损的碗我们给您补发哦", ANCHOR, agent_id="a02")
    # Down: every request fails. The reply stays pending in the cache, retried later.
    shop.state.shop.set_faults(fail_rate=1.0, kinds=("503",))
    with pytest.raises(Unavailable):
        await engine.flush_outbox()
    row = store.read(outbox.get, client_id)
    assert row is not None and row.attempts == 1 and row.state == "pending"
    msg = store.read(lambda c: c.execute("SELECT state FROM messages WHERE client_id = ?", [client_id]).fetchone())
    assert msg == ("pending",)
    # The app restarts in between: a new Store and engine on the same file.
    store.close()
    store = Store(tmp_path / "cache.sqlite")
    engine = SyncEngine(store, client_for(shop, token=TOKEN_A02), clock=lambda: time.time() + 3600)
    shop.state.shop.set_faults(fail_rate=0.0)
    assert await engine.flush_outbox() == 1
    await engine.catch_up()
    server = await server_snapshot(shop)
    mine = [m for m in server["messages"] if m.get("client_id") == client_id]
    assert len(mine) == 1
    assert store.read(lambda c: c.execute("SELECT state, server_id FROM messages WHERE client_id = ?", [client_id]).fetchone()) == ("sent", mine[0]["id"])
    assert_cache_equals_server(store, server)
    store.close()


async def test_retry_with_the_same_key_never_sends_twice(shop):
    client = client_for(shop, token=TOKEN_A02)
    body = {"body": "同一条回复", "kind": "reply"}
    first = await client.write("POST", "/v1/conversations/cv-c021-2/messages", body, "key-1")
    again = await client.write("POST", "/v1/conversations/cv-c021-2/messages", body, "key-1")
    assert first == again
    server = await server_snapshot(shop)
    assert sum(1 for m in server["messages"] if m["body"] == "同一条回复") == 1


async def test_two_agents_claim_one_conversation(shop, tmp_path):
    """Both reply to the same unassigned customer: one wins; the other's reply comes
    back into the draft with a notice, and the conversation shows the winner."""
    said = shop.state.shop.say("抢单测试顾客", "你好 想问下羽绒服M码还有吗")
    cv = said["conversation_id"] if "conversation_id" in said else said["conversation"]["id"]
    stores, engines, changes = [], [], []
    for name, token in (("a.sqlite", TOKEN), ("b.sqlite", "demo-a03-xiaoyu")):
        store = Store(tmp_path / name)
        seen: list = []
        engine = SyncEngine(store, client_for(shop, token=token), on_change=seen.append)
        await full_sync(engine)
        stores.append(store)
        engines.append(engine)
        changes.append(seen)
    stores[0].write(outbox.send_message, cv, "亲，在的，M码有货哦", ANCHOR, agent_id="a01")
    stores[1].write(outbox.send_message, cv, "您好，我帮您看一下", ANCHOR, agent_id="a03")
    stores[1].write(writes.save_draft, cv, "顺便问下身高体重", ANCHOR)
    assert await engines[0].flush_outbox() == 1
    assert await engines[1].flush_outbox() == 0
    conflicts = [c for ch in changes[1] for c in ch.conflicts]
    assert conflicts and conflicts[0][0] == cv and conflicts[0][1] in ("小美", "a01")
    draft = stores[1].read(writes.get_draft, cv)
    assert draft.startswith("您好，我帮您看一下") and "顺便问下身高体重" in draft
    assert stores[1].read(lambda c: c.execute(
        "SELECT count(*) FROM messages WHERE body = '您好，我帮您看一下'").fetchone()[0]) == 0
    assert stores[1].read(lambda c: c.execute("SELECT assignee_id FROM conversations WHERE id = ?", [cv]).fetchone()[0]) == "a01"
    for s in stores:
        s.close()


async def test_token_is_never_shown(shop):
    client = client_for(shop)
    assert TOKEN not in repr(client)
    bad = client_for(shop, token="wrong-token")
    with pytest.raises(ApiError) as info:
        await bad.me()
    assert info.value.status == 401 and "wrong-token" not in str(info.value)


# -- over loopback: real sockets -----------------------------------------------------------


def test_timeouts_and_dropped_connections_over_loopback(tmp_path):
    """Real sockets: requests that time out and connections cut mid-answer."""
    with loopback_server(tmp_path / "shop.sqlite", anchor=ANCHOR) as (url, state):
        store = Store(tmp_path / "cache.sqlite")
        state.set_faults(fail_rate=0.3, kinds=("timeout", "drop"), timeout_s=1.5)

        async def run():
            client = ShopClient(url, TOKEN, timeout=0.5, max_retries=10, sleep=no_sleep)
            engine = SyncEngine(store, client, page_size=200)
            await sync_through_faults(engine, attempts=30)
            assert client.requests > 5
            state.set_faults(fail_rate=0.0)
            await engine.catch_up()
            await client.aclose()
            return await loopback_snapshot(url)

        assert_cache_equals_server(store, asyncio.run(run()))
        store.close()


async def loopback_snapshot(url: str) -> dict:
    return await read_everything(ShopReader(url, TOKEN))


def test_sync_killed_mid_batch_resumes_without_loss(tmp_path):
    """`agentdesk sync --once` is SIGKILLed while pages are being written; the rerun
    converges to the server with nothing duplicated or missing."""
    with loopback_server(tmp_path / "shop.sqlite", anchor=ANCHOR, latency_ms=40) as (url, state):
        config = tmp_path / "config.toml"
        cache = tmp_path / "cache.sqlite"
        config.write_text(f'[shop]\nurl = "{url}"\ntoken = "{TOKEN}"\n[cache]\npath = "{cache}"\n', encoding="utf-8")
        env = dict(os.environ)
        cmd = [sys.executable, "-m", "agentdesk", "--config", str(config), "sync", "--once", "--page-size", "20"]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        progressed = False
        while time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
            if cache.exists():
                try:
                    import sqlite3

                    with sqlite3.connect(cache, timeout=1) as c:
                        done = c.execute("SELECT value FROM meta WHERE key = 'sync.page.messages'").fetchone()
                except sqlite3.Error:
                    continue
                if done and done[0] != "done":
                    progressed = True
                    break
        assert progressed, "the sync reached the message pages"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "synced" in result.stderr
        store = Store(cache)
        assert_cache_equals_server(store, asyncio.run(loopback_snapshot(url)))
        store.close()


def test_export_json_has_every_cached_conversation(tmp_path, shop, monkeypatch):
    store = Store(tmp_path / "cache.sqlite")
    asyncio.run(full_sync(SyncEngine(store, client_for(shop))))
    n_conv, n_msg = store.read(lambda c: (c.execute("SELECT count(*) FROM conversations").fetchone()[0],
                                          c.execute("SELECT count(*) FROM messages").fetchone()[0]))
    store.close()
    config = tmp_path / "config.toml"
    config.write_text(f'[cache]\npath = "{tmp_path / "cache.sqlite"}"\n', encoding="utf-8")
    out = tmp_path / "export.json"
    from agentdesk.cli import main

    assert main(["--config", str(config), "export", "--json", "--output", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data) == n_conv
    assert sum(len(c["messages"]) for c in data) == n_msg
    assert all(m["at"].endswith("Z") for c in data for m in c["messages"])


async def test_notes_transfers_and_status_changes_go_through_the_outbox(shop, tmp_path):
    """Every kind of write is queued first and delivered once, like replies."""
    store = Store(tmp_path / "cache.sqlite")
    engine = SyncEngine(store, client_for(shop))
    await full_sync(engine)
    cv = "cv-c001-1"  # 小美's

    def queue(conn):
        outbox.send_message(conn, cv, "客户175/140，推荐L", ANCHOR, agent_id="a01", kind="note")
        outbox.enqueue(conn, "patch", {"priority": "high", "tags": ["尺码", "加急"]}, ANCHOR, conversation_id=cv)
        outbox.enqueue(conn, "customer_note", {"body": "怕冷，买衣服偏大一码"}, ANCHOR, customer_id="c001")
        outbox.enqueue(conn, "transfer", {"to_agent_id": "a02", "note": "要换货，交给售后"}, ANCHOR, conversation_id=cv)

    store.write(queue)
    assert store.read(outbox.pending_count) == 4
    assert await engine.flush_outbox() == 4
    await engine.catch_up()
    state = shop.state.shop
    conv = state.conversation(cv)
    assert conv["assignee_id"] == "a02" and conv["priority"] == "high" and conv["tags"] == ["尺码", "加急"]
    bodies = [m["body"] for m in state.messages_of(cv)]
    assert bodies.count("客户175/140，推荐L") == 1 and "会话已由 小美 转接给 阿杰" in bodies
    assert store.read(outbox.pending_count) == 0
    assert store.read(lambda c: c.execute("SELECT assignee_id FROM conversations WHERE id = ?", [cv]).fetchone()[0]) == "a02"
    assert_cache_equals_server(store, await server_snapshot(shop))
    store.close()


async def test_batch_apply_keeps_the_same_inbox_rules_as_one_by_one(shop, tmp_path):
    """apply.messages re-states writes.add_message's rules for speed: both must agree on
    every conversation's preview, waiting clock, unread count and last message time,
    also after an automatic greeting (which answers nobody: the customer still waits)."""
    from agentdesk.sync import apply

    state = shop.state.shop
    greeted = state.say("c003", "在吗 卫衣L码有吗")["conversation_id"]
    state.post_message(state.agent("a01", with_read_only=True), greeted,
                       {"body": "亲，欢迎光临~ 马上为您服务", "auto": True}, None)
    client = client_for(shop)
    conversations, after = [], None
    while True:
        page = await client.page("conversations", after, 1000)
        conversations += page.items
        if not (after := page.next):
            break
    messages, after = [], None
    while True:
        page = await client.page("messages", after, 1000)
        messages += page.items
        if not (after := page.next):
            break
    summaries = []
    for name, batch in (("one.sqlite", False), ("batch.sqlite", True)):
        store = Store(tmp_path / name)

        def fill(conn, batch=batch):
            for c in conversations:
                apply.conversation(conn, c)
            parsed = messages
            if batch:
                for start in range(0, len(parsed), 97):
                    apply.messages(conn, parsed[start:start + 97])
            else:
                for m in parsed:
                    apply.message(conn, m)

        store.write(fill)
        summaries.append(store.read(lambda c: c.execute(
            "SELECT id, preview, waiting_since, unread, last_message_at FROM conversations ORDER BY id").fetchall()))
        store.close()
    assert summaries[0] == summaries[1]
    assert any(row[2] is not None for row in summaries[0])
    row = next(r for r in summaries[0] if r[0] == greeted)
    assert row[1] != "亲，欢迎光临~ 马上为您服务" and row[2] is not None and row[3] > 0  # preview: the customer's words


async def test_shop_wide_quick_replies_are_synced_and_merged_below_the_files(shop, tmp_path):
    from agentdesk.quickreply import loader
    from agentdesk.store import quickreplies

    store = Store(tmp_path / "cache.sqlite")
    seen = []
    engine = SyncEngine(store, client_for(shop), on_change=seen.append)
    assert await engine.sync_quick_replies() == 29
    assert any(c.quick_replies for c in seen)
    assert await engine.sync_quick_replies() == 0  # unchanged: nothing rewritten, no change posted
    items = store.read(quickreplies.shop_replies)
    assert [i["id"] for i in items][:2] == ["shop-greeting", "shop-checking"]
    opened = loader.open_library(store, now=ANCHOR, personal=tmp_path / "none")
    lib = opened.library.by_id()
    assert lib["shop-refund-progress"].layer == "shop"
    assert lib["aftersale-refund-7day"].layer == "library"
    # the shop's "tk" shortcode is its own; the exact shortcode ranks first
    assert opened.index.search("tk")[0].reply.id == "shop-refund-progress"
    await engine.client.aclose()
    store.close()
