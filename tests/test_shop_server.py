"""The reference shop server: the contract's behaviour, in-process through httpx's ASGI
transport (and the CLI over loopback)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest

from conftest import ANCHOR
from shop_helpers import loopback_server

A01, A02, S01 = "demo-a01-xiaomei", "demo-a02-ajie", "demo-s01-linjie"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock(ANCHOR)


@pytest.fixture
def app(tmp_path, clock):
    from agentdesk.shop.server import create_app

    return create_app(tmp_path / "shop.sqlite", seed="demo", anchor=ANCHOR, clock=clock)


def http(app, token: str | None = A01) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop.test", headers=headers)


async def test_auth_and_problem_json(app):
    async with http(app, None) as c:
        r = await c.get("/v1/me")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "unauthorized" and body["status"] == 401 and body["type"].endswith("/unauthorized")
    async with http(app, "nope") as c:
        assert (await c.get("/v1/me")).status_code == 401
    async with http(app) as c:
        me = (await c.get("/v1/me")).json()
    assert me["agent"]["id"] == "a01" and me["shop"]["name"] == "拾光生活旗舰店" and me["agent"]["read_only"] is False


async def test_read_only_supervisor_cannot_write_anything(app):
    state = app.state.shop
    async with http(app, S01) as c:
        assert (await c.get("/v1/conversations?limit=5")).status_code == 200
        writes = [
            c.post("/v1/conversations/cv-c001-1/messages", json={"body": "x", "kind": "reply"}),
            c.post("/v1/conversations/cv-c001-1/claim", json={}),
            c.post("/v1/conversations/cv-c001-1/transfer", json={"to_agent_id": "a02", "note": "x"}),
            c.patch("/v1/conversations/cv-c001-1", json={"status": "resolved"}),
            c.post("/v1/customers/c001/notes", json={"body": "x"}),
        ]
        answers = [await w for w in writes]
    assert [a.status_code for a in answers] == [403] * 5
    assert {a.json()["code"] for a in answers} == {"read_only"}
    assert state.write_count == 5
    assert state.conversation("cv-c001-1")["version"] == 1


@pytest.mark.parametrize("resource", ["customers", "orders", "conversations", "messages", "notes"])
async def test_keyset_pages_cover_everything_once(app, resource):
    async with http(app) as c:
        seen, after, pages = [], None, 0
        while True:
            params = {"limit": 7, **({"after": after} if after else {})}
            data = (await c.get(f"/v1/{resource}", params=params)).json()
            seen += [i["id"] for i in data["items"]]
            after = data["next"]
            pages += 1
            if after is None:
                break
        full = (await c.get(f"/v1/{resource}", params={"limit": 1000})).json()
    assert pages > 1
    assert seen == [i["id"] for i in full["items"]] and len(set(seen)) == len(seen)


async def test_limit_and_body_validation_are_422(app):
    async with http(app) as c:
        r = await c.get("/v1/messages", params={"limit": 5000})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "limit"
        r = await c.post("/v1/conversations/cv-c001-1/messages", json={"body": "  ", "kind": "reply"})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"
        r = await c.patch("/v1/conversations/cv-c001-1", json={"status": "closed"})
        assert r.status_code == 422
        r = await c.get("/v1/conversations/nope")
        assert r.status_code == 404 and r.json()["code"] == "not_found"


async def test_idempotent_send_returns_the_original(app):
    async with http(app) as c:
        headers = {"Idempotency-Key": "k-1"}
        body = {"body": "亲，在的哦", "kind": "reply"}
        first = await c.post("/v1/conversations/cv-c001-1/messages", json=body, headers=headers)
        again = await c.post("/v1/conversations/cv-c001-1/messages", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and first.json()["client_id"] == "k-1"
    assert sum(1 for m in app.state.shop.messages_of("cv-c001-1") if m["body"] == "亲，在的哦") == 1


async def test_writes_appear_in_the_feed_in_order(app):
    async with http(app) as c:
        head = (await c.get("/v1/events/head")).json()["cursor"]
        await c.post("/v1/conversations/cv-c001-1/messages", json={"body": "第一条", "kind": "reply"})
        await c.post("/v1/conversations/cv-c001-1/messages", json={"body": "备注", "kind": "note"})
        data = (await c.get("/v1/events", params={"after": head})).json()
    cursors = [int(e["cursor"]) for e in data["events"]]
    assert cursors == sorted(cursors) and data["next"] == str(cursors[-1])
    bodies = [e["data"]["body"] for e in data["events"] if e["type"] == "message.created"]
    assert bodies == ["第一条", "备注"]


async def test_long_poll_wakes_on_a_customer_message(app):
    state = app.state.shop
    async with http(app) as c:
        head = (await c.get("/v1/events/head")).json()["cursor"]

        async def later():
            await asyncio.sleep(0.3)
            state.say("c001", "还在吗")

        task = asyncio.create_task(later())
        loop = asyncio.get_running_loop()
        started = loop.time()
        data = (await c.get("/v1/events", params={"after": head, "wait": 10}, timeout=20)).json()
        await task
    assert any(e["type"] == "message.created" for e in data["events"])
    assert loop.time() - started < 5
    async with http(app) as c:
        empty = (await c.get("/v1/events", params={"after": data["next"], "wait": 0})).json()
    assert empty["events"] == [] and empty["next"] == data["next"]


async def test_owned_by_other_and_stale_version_are_409(app):
    async with http(app, A02) as c:
        r = await c.post("/v1/conversations/cv-c001-1/messages", json={"body": "抢", "kind": "reply"})
        assert r.status_code == 409
        assert r.json()["code"] == "owned_by_other" and r.json()["assignee_id"] == "a01"
        assert r.json()["assignee_name"] == "小美"
    async with http(app) as c:
        r = await c.patch("/v1/conversations/cv-c001-1", json={"priority": "high", "expected_version": 99})
        assert r.status_code == 409 and r.json()["code"] == "stale_version" and r.json()["version"] == 1
        r = await c.patch("/v1/conversations/cv-c001-1", json={"priority": "high", "expected_version": 1})
        assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["priority"] == "high"


async def test_transfer_adds_system_line_and_handoff_note(app):
    async with http(app) as c:
        r = await c.post("/v1/conversations/cv-c001-1/transfer",
                         json={"to_agent_id": "a02", "note": "客户要换货，尺码已确认L"})
    assert r.status_code == 200
    conv = r.json()
    assert conv["assignee_id"] == "a02" and conv["stage"] == "agent" and conv["version"] == 2
    tail = app.state.shop.messages_of("cv-c001-1")[-2:]
    assert tail[0]["sender"] == "system" and tail[0]["body"] == "会话已由 小美 转接给 阿杰"
    assert tail[1]["sender"] == "note" and "尺码已确认L" in tail[1]["body"]


async def test_customer_side_bot_answers_faq_and_queues_the_rest(app):
    async with http(app, None) as c:
        faq = (await c.post("/v1/customer/say", json={"customer": "问快递的人", "body": "你们发什么快递"})).json()
        human = (await c.post("/v1/customer/say", json={"customer": "要人工的人", "body": "我的衣服洗了掉色"})).json()
        angry = (await c.post("/v1/customer/say", json={"customer": "生气的人", "body": "再不处理我就投诉"})).json()
    state = app.state.shop
    c1 = state.conversation(faq["conversation_id"])
    assert c1["stage"] == "bot" and c1["assignee_id"] is None
    assert state.messages_of(c1["id"])[-1]["sender"] == "bot"
    c2 = state.conversation(human["conversation_id"])
    assert c2["stage"] == "queued" and c2["group"] == "售前"
    c3 = state.conversation(angry["conversation_id"])
    assert c3["group"] == "客诉" and c3["priority"] == "high"
    # An existing customer writes into their open conversation, by name or id.
    again = state.say("问快递的人", "还是要人工")
    assert again["conversation_id"] == faq["conversation_id"]
    assert state.conversation(faq["conversation_id"])["stage"] == "queued"


async def test_agent_reply_claims_an_unassigned_conversation(app):
    said = app.state.shop.say("新顾客", "有没有加厚款")
    cv = said["conversation_id"]
    async with http(app, A02) as c:
        r = await c.post(f"/v1/conversations/{cv}/messages", json={"body": "亲，有的", "kind": "reply"})
    assert r.status_code == 201
    conv = app.state.shop.conversation(cv)
    assert conv["assignee_id"] == "a02" and conv["stage"] == "agent"


def test_simulator_is_deterministic_and_answers_agents(tmp_path):
    from agentdesk.shop.server import create_app

    def run(folder):
        clock = Clock(ANCHOR)
        app = create_app(tmp_path / folder / "s.sqlite", seed="demo", anchor=ANCHOR, simulate=6, fault_seed=5, clock=clock)
        state = app.state.shop
        said = []
        for _ in range(30):
            clock.now += 10
            state.tick()
        rows = state.conn.execute("SELECT conversation_id, body FROM messages WHERE created_at > ? ORDER BY seq",
                                  [ANCHOR]).fetchall()
        said = [tuple(r) for r in rows]
        return app, state, clock, said

    app, state, clock, first = run("a")
    _, _, _, second = run("b")
    assert first == second and len(first) >= 20  # ~6/min for 5 minutes, plus the bot
    # An agent answers a simulated customer: the dialogue's next line follows.
    cv = next(iter(state.sim_active))
    before = len(state.messages_of(cv))
    agent = state.agent("a01")
    state.post_message(agent, cv, {"body": "亲，在的", "kind": "reply"}, "k")
    clock.now += 30
    state.tick()
    after = state.messages_of(cv)
    assert len(after) >= before + 2 and after[-1]["sender"] == "customer"


@pytest.mark.parametrize("kind,status", [("500", 500), ("503", 503), ("429", 429)])
async def test_status_faults(app, kind, status):
    app.state.shop.set_faults(fail_rate=1.0, kinds=(kind,))
    async with http(app) as c:
        r = await c.get("/v1/me")
    assert r.status_code == status
    if status in (429, 503):
        assert r.headers["retry-after"] == "1"


async def test_malformed_and_event_faults(app):
    state = app.state.shop
    state.set_faults(fail_rate=1.0, kinds=("malformed",))
    async with http(app) as c:
        r = await c.get("/v1/me")
    with pytest.raises(ValueError):
        r.json()
    state.set_faults(fail_rate=0.0)
    for i in range(4):
        state.say("c002", f"消息{i}")
    async with http(app) as c:
        state.set_faults(fail_rate=1.0, kinds=("duplicate",))
        dup = (await c.get("/v1/events", params={"after": 0})).json()["events"]
        state.set_faults(fail_rate=1.0, kinds=("reorder",))
        rev = (await c.get("/v1/events", params={"after": 0})).json()["events"]
    cursors = [e["cursor"] for e in dup]
    assert len(cursors) > len(set(cursors))
    assert [int(e["cursor"]) for e in rev] == sorted((int(e["cursor"]) for e in rev), reverse=True)


def test_drop_is_a_cut_connection_over_loopback(tmp_path):
    with loopback_server(tmp_path / "shop.sqlite", anchor=ANCHOR) as (url, state):
        state.set_faults(fail_rate=1.0, kinds=("drop",))
        with pytest.raises(httpx.TransportError):
            httpx.get(url + "/v1/me", headers={"Authorization": f"Bearer {A01}"}, timeout=5)


def test_cli_tokens_and_say(tmp_path):
    db = tmp_path / "shop.sqlite"
    with loopback_server(db, anchor=ANCHOR) as (url, state):
        said = subprocess.run(
            [sys.executable, "-m", "agentdesk", "shop", "say", "--url", url, "--customer", "命令行来的顾客", "在吗 有人吗"],
            capture_output=True, text=True, timeout=60,
        )
        assert said.returncode == 0, said.stderr
        cv = said.stdout.strip()
        assert state.messages_of(cv)[0]["body"] == "在吗 有人吗"
    tokens = subprocess.run([sys.executable, "-m", "agentdesk", "shop", "tokens", "--db", str(db)],
                            capture_output=True, text=True, timeout=60)
    assert tokens.returncode == 0
    for token in ("demo-a01-xiaomei", "demo-a02-ajie", "demo-a03-xiaoyu", "demo-a04-laozhou", "demo-s01-linjie"):
        assert token in tokens.stdout
    assert "supervisor" in tokens.stdout
    missing = subprocess.run([sys.executable, "-m", "agentdesk", "shop", "tokens", "--db", str(tmp_path / "no.sqlite")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
    down = subprocess.run([sys.executable, "-m", "agentdesk", "shop", "say", "--url", "http://127.0.0.1:9",
                           "--customer", "x", "y"], capture_output=True, text=True, timeout=60)
    assert down.returncode == 1 and "cannot reach" in down.stderr
