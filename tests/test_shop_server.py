"""The reference shop server (docs/shop-api.md) in-process through httpx's ASGI
transport, with a fake clock and tiny stand-ins for its scripted content."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading

import pytest

from conftest import ANCHOR
from shop_helpers import Clock, asgi_http as http

A01, A02, A03, S01 = "demo-a01-xiaomei", "demo-a02-ajie", "demo-a03-xiaoyu", "demo-s01-linjie"
RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

DIALOGUES = {"dialogues": [
    {"id": "size-hoodie", "group": "售前", "customer": "爱穿卫衣的阿泽",
     "lines": ["在吗", "卫衣燕麦色L码还有吗 175 140斤穿什么码", "好的 那我拍了"]},
    {"id": "stuck", "group": "售后", "customer": "急性子老陈",
     "lines": ["快递三天没动了？？", "单号你们查一下", "那你们催一下啊"]},
    {"id": "angry", "group": "客诉", "customer": "再也不买了123",
     "lines": ["什么破质量 洗一次就起球", "不给我退我就给差评"]},
]}
FAQ = {"faq": [
    {"keywords": ["发什么快递", "哪个快递"], "answer": "亲，默认发中通快递哦~"},
    {"keywords": ["发票"], "answer": "亲，可以开电子发票的哦~"},
]}
QUICK = {"items": [{"id": "shop-hello", "title": "问候", "shortcode": "nh", "tags": ["问候"],
                    "body": "亲，在的呢~ {agent.name}为您服务", "category": "通用"}]}


@pytest.fixture
def content(tmp_path):
    folder = tmp_path / "content"
    folder.mkdir()
    for name, data in (("dialogues.json", DIALOGUES), ("faq.json", FAQ), ("quick_replies.json", QUICK)):
        (folder / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.fixture
def clock():
    return Clock(ANCHOR)


@pytest.fixture
def make(tmp_path, clock, content):
    from agentdesk.shop.server import create_app

    def make(name: str = "shop.sqlite", **options):
        options.setdefault("anchor", ANCHOR)
        options.setdefault("clock", clock)
        options.setdefault("content_dir", content)
        return create_app(tmp_path / name, **options)

    return make


@pytest.fixture
def app(make):
    return make()


def reply(text: str, kind: str = "reply") -> dict:
    return {"body": text, "kind": kind}


# -- database and seed ----------------------------------------------------------------------------


def test_seed_follows_the_fixtures_once(make, tmp_path):
    app = make()
    state = app.state.shop
    conn = sqlite3.connect(tmp_path / "shop.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("agents", "customers", "orders", "conversations", "messages", "notes", "events")}
    assert counts["agents"] == 5 and counts["customers"] >= 50 and counts["messages"] > 500
    assert counts["events"] == 0
    stages = conn.execute("SELECT DISTINCT version, assignee_id IS NOT NULL, stage FROM conversations").fetchall()
    assert set(stages) == {(1, 1, "agent"), (1, 0, "queued")}
    times = [r[0] for r in conn.execute("SELECT created_at FROM messages ORDER BY seq")]
    assert times == sorted(times)
    assert conn.execute("SELECT count(*) FROM messages WHERE sender = 'bot' AND auto = 0").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM messages WHERE id != printf('m_%06d', seq)").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM conversations WHERE status = 'snoozed' AND snoozed_until IS NULL"
                        ).fetchone()[0] == 0
    again = make()  # an existing database is never seeded twice
    assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == counts["messages"]
    assert again.state.shop.tokens() == state.tokens()
    assert [t["id"] for t in state.tokens()] == ["a01", "a02", "a03", "a04", "s01"]
    assert state.tokens()[-1] == {"id": "s01", "name": "林姐", "role": "supervisor", "read_only": True,
                                  "token": S01}


def test_an_unseeded_shop_is_empty(make):
    state = make("empty.sqlite", seed=None).state.shop
    assert state.tokens() == [] and state.page("conversations", None, 10) == {"items": [], "next": None}


# -- auth ------------------------------------------------------------------------------------------


async def test_auth_and_problem_json(app):
    async with http(app, None) as c:
        r = await c.get("/v1/me")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body == {"type": "https://agentdesk.dev/problems/unauthorized", "title": body["title"], "status": 401,
                    "detail": body["detail"], "code": "unauthorized"}
    async with http(app, "nope") as c:
        assert (await c.get("/v1/me")).json()["code"] == "unauthorized"
    async with http(app) as c:
        me = (await c.get("/v1/me")).json()
    assert me["agent"] == {"id": "a01", "name": "小美", "role": "agent", "groups": ["售前", "售后"], "online": True,
                           "status": "online", "read_only": False}
    assert me["shop"]["name"] == "拾光生活旗舰店"
    async with http(app, S01) as c:
        assert (await c.get("/v1/me")).json()["agent"]["read_only"] is True


async def test_read_only_supervisor_cannot_write_and_every_write_is_counted(app):
    state = app.state.shop
    head = state.head
    async with http(app, S01) as c:
        assert (await c.get("/v1/conversations", params={"limit": 5})).status_code == 200
        answers = [
            await c.post("/v1/conversations/cv-c001-1/messages", json=reply("x")),
            await c.post("/v1/conversations/cv-c001-1/messages", json=reply("x", "note")),
            await c.post("/v1/conversations/cv-c001-1/claim", json={}),
            await c.post("/v1/conversations/cv-c001-1/transfer", json={"to_agent_id": "a02", "note": "x"}),
            await c.patch("/v1/conversations/cv-c001-1", json={"status": "resolved"}),
            await c.post("/v1/customers/c001/notes", json={"body": "x"}),
        ]
    assert [a.status_code for a in answers] == [403] * 6
    assert {a.json()["code"] for a in answers} == {"read_only"}
    assert state.write_count == 6
    assert state.conversation("cv-c001-1")["version"] == 1
    assert [e["type"] for e in state.events(head, 100)] == ["agent.status"]  # s01 came online, nothing else
    async with http(app, None) as c:
        await c.post("/v1/conversations/cv-c001-1/claim", json={})  # unauthenticated: still a write request
        await c.delete("/v1/conversations/cv-c001-1")  # no such route: still a write request
        await c.post("/v1/customer/say", json={"customer": "c001", "body": "在吗"})  # the customer side: not
        await c.get("/v1/me")
    assert state.write_count == 8


# -- reading ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource,key", [("customers", "id"), ("orders", "id"), ("conversations", "id"),
                                          ("messages", "seq"), ("notes", "seq")])
async def test_keyset_pages_cover_everything_once(app, resource, key):
    async def read_all(c, limit: int) -> tuple[list, int]:
        seen, after, pages = [], None, 0
        while True:
            params = {"limit": limit, **({"after": after} if after else {})}
            data = (await c.get(f"/v1/{resource}", params=params)).json()
            seen += [i[key] for i in data["items"]]
            after = data["next"]
            pages += 1
            if after is None:
                return seen, pages
            assert after == str(data["items"][-1][key])

    async with http(app) as c:  # the demo's seven days of history hold some thousand messages
        seen, pages = await read_all(c, 97 if resource == "messages" else 7)
        full, _ = await read_all(c, 1000)
    assert pages > 1
    assert seen == full == sorted(seen) and len(set(seen)) == len(seen)


async def test_thread_pages_newest_first(app):
    async with http(app) as c:
        seqs, before = [], None
        while True:
            data = (await c.get("/v1/conversations/cv-c001-1/messages",
                                params={"limit": 2, **({"before": before} if before else {})})).json()
            seqs += [m["seq"] for m in data["items"]]
            before = data["next"]
            if before is None:
                break
        missing = await c.get("/v1/conversations/nope/messages")
    assert seqs == sorted(seqs, reverse=True) and len(seqs) > 2
    assert seqs == [m["seq"] for m in reversed(app.state.shop.messages_of("cv-c001-1"))]
    assert missing.status_code == 404


async def test_objects_have_the_contract_shapes(app):
    async with http(app) as c:
        conv = (await c.get("/v1/conversations/cv-c001-1")).json()
        msg = (await c.get("/v1/messages", params={"limit": 1})).json()["items"][0]
        cust = (await c.get("/v1/customers/c001")).json()
        order = (await c.get("/v1/orders", params={"limit": 1})).json()["items"][0]
        note = (await c.get("/v1/notes", params={"limit": 1})).json()["items"][0]
        agents = (await c.get("/v1/agents")).json()["items"]
        groups = (await c.get("/v1/groups")).json()["items"]
        quick = (await c.get("/v1/quick-replies")).json()["items"]
        head = (await c.get("/v1/events/head")).json()
    assert set(conv) == {"id", "customer_id", "group", "status", "snoozed_until", "assignee_id", "priority", "tags",
                         "order_id", "stage", "version", "created_at", "updated_at"}
    assert set(msg) == {"id", "seq", "conversation_id", "sender", "agent_id", "body", "created_at", "client_id", "auto",
                        "meta"}
    assert msg["id"] == f"m_{msg['seq']:06d}"
    assert set(cust) == {"id", "name", "vip_level", "tags", "location", "first_seen", "updated_at", "opt_out"}
    assert set(order) == {"id", "customer_id", "items", "amount", "status", "carrier", "tracking_no", "address",
                          "created_at", "paid_at", "shipped_at", "delivered_at", "updated_at", "remarks", "refund"}
    assert set(note) == {"id", "seq", "customer_id", "agent_id", "body", "created_at", "client_id"}
    for when in (conv["created_at"], conv["updated_at"], msg["created_at"], cust["updated_at"], note["created_at"]):
        assert RFC3339_MS.match(when), when
    assert [a["id"] for a in agents] == ["a01", "a02", "a03", "a04", "s01"] and "token" not in agents[0]
    assert {g["name"]: g["agent_ids"] for g in groups} == {"售前": ["a01", "a03"], "售后": ["a01", "a02", "a04"],
                                                          "客诉": ["a04"]}
    assert quick == QUICK["items"]
    assert head == {"cursor": str(app.state.shop.head)}


async def test_validation_is_422_with_errors_and_unknown_ids_404(app):
    async with http(app) as c:
        cases = [
            (await c.get("/v1/messages", params={"limit": 5000}), "limit"),
            (await c.get("/v1/messages", params={"after": "x"}), "after"),
            (await c.get("/v1/events", params={"wait": 99}), "wait"),
            (await c.post("/v1/conversations/cv-c001-1/messages", json=reply("  ")), "body"),
            (await c.post("/v1/conversations/cv-c001-1/messages", json={"body": "x", "kind": "shout"}), "kind"),
            (await c.post("/v1/conversations/cv-c001-1/messages", content=b"{not json"), "body"),
            (await c.patch("/v1/conversations/cv-c001-1", json={"status": "closed"}), "status"),
            (await c.patch("/v1/conversations/cv-c001-1", json={"status": "snoozed"}), "snoozed_until"),
            (await c.patch("/v1/conversations/cv-c001-1", json={"snoozed_until": "tomorrow"}), "snoozed_until"),
            (await c.patch("/v1/conversations/cv-c001-1", json={"snoozed_until": "2026-11-21T08:00:00Z"}),
             "snoozed_until"),
            (await c.patch("/v1/conversations/cv-c001-1", json={"tags": "尺码"}), "tags"),
            (await c.patch("/v1/conversations/cv-c001-1", json={"priority": "high", "expected_version": "1"}),
             "expected_version"),
            (await c.patch("/v1/conversations/cv-c001-1", json={}), "body"),
            (await c.post("/v1/conversations/cv-c001-1/transfer", json={"note": "x"}), "to_agent_id"),
            (await c.post("/v1/conversations/cv-c001-1/transfer", json={"to_agent_id": "s01", "note": ""}),
             "to_agent_id"),
            (await c.post("/v1/conversations/cv-c001-1/transfer", json={"to_agent_id": "a02"}), "note"),
            (await c.post("/v1/conversations/cv-c001-1/transfer", json={"to_group": "财务"}), "to_group"),
        ]
        missing = [await c.get("/v1/conversations/nope"), await c.get("/v1/customers/nope"),
                   await c.post("/v1/customers/nope/notes", json={"body": "x"}),
                   await c.post("/v1/conversations/nope/claim", json={}), await c.get("/v1/nothing-here")]
    for r, field in cases:
        assert r.status_code == 422, (field, r.text)
        body = r.json()
        assert body["code"] == "invalid" and body["errors"][0]["field"] == field
        assert set(body["errors"][0]) == {"field", "message"}
    assert [r.status_code for r in missing] == [404] * 5
    assert {r.json()["code"] for r in missing} == {"not_found"}
    assert app.state.shop.conversation("cv-c001-1")["version"] == 1


async def test_an_unexpected_error_is_a_500_problem(app, monkeypatch):
    def broken():
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(app.state.shop, "shop", broken)
    async with http(app) as c:
        r = await c.get("/v1/me")
    assert r.status_code == 500 and r.json()["code"] == "server_error" and "fire" not in r.text


# -- writing ---------------------------------------------------------------------------------------


async def test_idempotent_retry_returns_the_original_and_changes_nothing(app):
    state = app.state.shop
    async with http(app) as c:
        key = {"Idempotency-Key": "k-1"}
        first = await c.post("/v1/conversations/cv-c001-1/messages", json=reply("亲，在的哦"), headers=key)
        head = state.head
        again = await c.post("/v1/conversations/cv-c001-1/messages", json=reply("亲，在的哦"), headers=key)
        note1 = await c.post("/v1/customers/c001/notes", json={"body": "怕冷"}, headers={"Idempotency-Key": "k-2"})
        note2 = await c.post("/v1/customers/c001/notes", json={"body": "怕冷"}, headers={"Idempotency-Key": "k-2"})
        plain = [await c.post("/v1/conversations/cv-c001-1/messages", json=reply("无键")) for _ in range(2)]
    async with http(app, A02) as c:  # keys are per agent: a02's k-1 is a different write
        other = await c.post("/v1/customers/c002/notes", json={"body": "阿杰的备注"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and first.json()["client_id"] == "k-1"
    assert note1.status_code == note2.status_code == 201 and note1.json() == note2.json()
    assert [m["body"] for m in state.messages_of("cv-c001-1")].count("亲，在的哦") == 1
    assert [m["body"] for m in state.messages_of("cv-c001-1")].count("无键") == 2  # no key, no dedup
    assert [p.json()["client_id"] for p in plain] == [None, None]
    assert other.status_code == 201 and other.json()["body"] == "阿杰的备注"
    events = state.events(head, 100)
    assert sum(e["type"] == "note.created" for e in events) == 2  # k-2 once, a02's k-1 once


async def test_writes_appear_in_the_feed_in_order(app):
    async with http(app) as c:
        head = (await c.get("/v1/events/head")).json()["cursor"]
        await c.post("/v1/conversations/cv-c001-1/messages", json=reply("第一条"))
        await c.post("/v1/conversations/cv-c001-1/messages", json=reply("备注", "note"))
        await c.patch("/v1/conversations/cv-c001-1", json={"status": "resolved", "tags": ["尺码", "已解决"]})
        await c.post("/v1/customers/c001/notes", json={"body": "喜欢燕麦色"})
        data = (await c.get("/v1/events", params={"after": head})).json()
        paged = (await c.get("/v1/events", params={"after": head, "limit": 2})).json()
    events = data["events"]
    cursors = [int(e["cursor"]) for e in events]
    assert cursors == sorted(cursors) and all(isinstance(e["cursor"], str) for e in events)
    assert data["next"] == events[-1]["cursor"] and int(head) < cursors[0]
    assert [e["type"] for e in events if e["type"] != "agent.status"] == [
        "message.created", "message.created", "conversation.updated", "note.created"]
    bodies = [e["data"]["body"] for e in events if e["type"] == "message.created"]
    assert bodies == ["第一条", "备注"]
    conv = next(e["data"] for e in events if e["type"] == "conversation.updated")
    assert conv["status"] == "resolved" and conv["tags"] == ["尺码", "已解决"] and conv["version"] == 2
    assert paged["events"] == events[:2] and paged["next"] == events[1]["cursor"]


async def test_long_poll_wakes_on_a_customer_message(app):
    state = app.state.shop
    async with http(app) as c:
        head = (await c.get("/v1/events/head")).json()["cursor"]
        loop = asyncio.get_running_loop()

        async def later():
            await asyncio.sleep(0.2)
            state.say("c001", "还在吗")

        task = asyncio.create_task(later())
        started = loop.time()
        data = (await c.get("/v1/events", params={"after": head, "wait": 20}, timeout=30)).json()
        await task
        assert loop.time() - started < 10  # woke on the message, not at the end of the wait
        assert [e["data"]["body"] for e in data["events"] if e["type"] == "message.created"] == ["还在吗"]

        # A writer in another thread wakes the waiting request too.
        timer = threading.Timer(0.2, state.say, ["c002", "在吗 急"])
        timer.start()
        started = loop.time()
        more = (await c.get("/v1/events", params={"after": data["next"], "wait": 20}, timeout=30)).json()
        timer.join()
        assert loop.time() - started < 10
        assert any(e["type"] == "message.created" and e["data"]["body"] == "在吗 急" for e in more["events"])

        quiet = (await c.get("/v1/events", params={"after": more["next"], "wait": 0.3})).json()
    assert quiet == {"events": [], "next": more["next"]}


async def test_owned_by_other_and_stale_version_are_409(app):
    async with http(app, A02) as c:
        answers = [
            await c.post("/v1/conversations/cv-c001-1/messages", json=reply("抢")),
            await c.post("/v1/conversations/cv-c001-1/claim", json={}),
            await c.post("/v1/conversations/cv-c001-1/transfer", json={"to_agent_id": "a02", "note": ""}),
        ]
    for r in answers:
        assert r.status_code == 409
        assert r.json()["code"] == "owned_by_other"
        assert (r.json()["assignee_id"], r.json()["assignee_name"]) == ("a01", "小美")
    async with http(app) as c:
        r = await c.patch("/v1/conversations/cv-c001-1", json={"priority": "high", "expected_version": 99})
        assert r.status_code == 409 and r.json()["code"] == "stale_version" and r.json()["version"] == 1
        r = await c.patch("/v1/conversations/cv-c001-1", json={"priority": "high", "expected_version": 1})
        assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["priority"] == "high"
        r = await c.patch("/v1/conversations/cv-c001-1", json={"priority": "low", "expected_version": 1})
        assert r.status_code == 409 and r.json()["version"] == 2
    assert app.state.shop.conversation("cv-c001-1")["priority"] == "high"


async def test_agent_reply_claims_an_unassigned_conversation(app):
    state = app.state.shop
    cv = state.say("新顾客", "有没有加厚款")["conversation_id"]
    assert state.conversation(cv)["stage"] == "queued"
    async with http(app, A02) as c:
        r = await c.post(f"/v1/conversations/{cv}/messages", json=reply("亲，有的"))
    assert r.status_code == 201 and r.json()["sender"] == "agent" and r.json()["agent_id"] == "a02"
    conv = state.conversation(cv)
    assert conv["assignee_id"] == "a02" and conv["stage"] == "agent" and conv["version"] == 3
    async with http(app) as c:
        r = await c.post(f"/v1/conversations/{cv}/claim", json={})
    assert r.status_code == 409 and r.json()["assignee_name"] == "阿杰"


async def test_claim_and_snooze(app, clock):
    state = app.state.shop
    cv = state.say("等人的顾客", "这个杯子能装开水吗")["conversation_id"]
    until = "2026-11-21T08:00:00.000Z"
    async with http(app, A03) as c:
        claimed = (await c.post(f"/v1/conversations/{cv}/claim", json={})).json()
        same = (await c.post(f"/v1/conversations/{cv}/claim", json={})).json()
        snoozed = (await c.patch(f"/v1/conversations/{cv}", json={"status": "snoozed", "snoozed_until": until})).json()
    assert claimed["assignee_id"] == "a03" and claimed["stage"] == "agent" and same == claimed
    assert snoozed["status"] == "snoozed" and snoozed["snoozed_until"] == until
    clock.now = ANCHOR + 86400  # 06:30Z: not yet
    state.tick()
    assert state.conversation(cv)["status"] == "snoozed"
    clock.now = ANCHOR + 86400 + 2 * 3600
    state.tick()
    woke = state.conversation(cv)
    assert woke["status"] == "open" and woke["snoozed_until"] is None and woke["version"] == snoozed["version"] + 1


async def test_transfer_to_an_agent_and_to_a_group(app):
    state = app.state.shop
    head = state.head
    async with http(app) as c:
        r = await c.post("/v1/conversations/cv-c001-1/transfer",
                         json={"to_agent_id": "a02", "note": "客户要换货，尺码已确认L"})
    assert r.status_code == 200
    conv = r.json()
    assert conv["assignee_id"] == "a02" and conv["stage"] == "agent" and conv["version"] == 2
    tail = state.messages_of("cv-c001-1")[-2:]
    assert tail[0]["sender"] == "system" and tail[0]["body"] == "会话已由 小美 转接给 阿杰"
    assert tail[1]["sender"] == "note" and tail[1]["agent_id"] == "a01" and tail[1]["body"] == "客户要换货，尺码已确认L"
    types = [e["type"] for e in state.events(head, 50) if e["type"] != "agent.status"]
    assert types == ["message.created", "message.created", "conversation.updated"]
    async with http(app, A02) as c:
        r = await c.post("/v1/conversations/cv-c001-1/transfer", json={"to_group": "客诉", "note": "客户要投诉"})
    conv = r.json()
    assert (conv["assignee_id"], conv["stage"], conv["group"], conv["version"]) == (None, "queued", "客诉", 3)
    assert state.messages_of("cv-c001-1")[-2]["body"] == "会话已由 阿杰 转接给 客诉"


# -- the customer side and the bot ----------------------------------------------------------------


async def test_bot_answers_faq_and_queues_the_rest(app):
    async with http(app, None) as c:
        faq = (await c.post("/v1/customer/say", json={"customer": "问快递的人", "body": "你们发什么快递"})).json()
        human = (await c.post("/v1/customer/say", json={"customer": "要人工的人", "body": "我的衣服洗了掉色"})).json()
        after = (await c.post("/v1/customer/say", json={"customer": "退货的人", "body": "我要退货 尺码不对"})).json()
        angry = (await c.post("/v1/customer/say", json={"customer": "生气的人", "body": "再不处理我就投诉"})).json()
        bad = await c.post("/v1/customer/say", json={"customer": "", "body": "x"})
    state = app.state.shop
    c1 = state.conversation(faq["conversation_id"])
    assert faq["customer_id"] == c1["customer_id"] and faq["message"]["sender"] == "customer"
    assert c1["id"] == f"cv-{c1['customer_id']}-1"
    assert (c1["stage"], c1["assignee_id"], c1["status"]) == ("bot", None, "open")
    last = state.messages_of(c1["id"])[-1]
    assert last["sender"] == "bot" and last["auto"] is True and last["body"] == "亲，默认发中通快递哦~"
    c2 = state.conversation(human["conversation_id"])
    assert (c2["stage"], c2["group"], c2["assignee_id"]) == ("queued", "售前", None)
    assert [m["sender"] for m in state.messages_of(c2["id"])] == ["customer", "bot"]
    assert state.messages_of(c2["id"])[-1]["body"] == "亲，您好！拾光生活旗舰店智能助手为您服务~ 人工客服马上就来哦"
    assert state.conversation(after["conversation_id"])["group"] == "售后"
    c3 = state.conversation(angry["conversation_id"])
    assert c3["group"] == "客诉" and c3["priority"] == "high"
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "customer"
    # While the bot has it, another FAQ question is answered; anything else goes to a human.
    assert state.say("问快递的人", "开发票吗")["conversation_id"] == c1["id"]
    assert state.conversation(c1["id"])["stage"] == "bot"
    state.say(c1["customer_id"], "我要改地址")  # by id this time
    assert state.conversation(c1["id"])["stage"] == "queued"
    assert [m["sender"] for m in state.messages_of(c1["id"])] == ["customer", "bot"] * 3


async def test_customers_reopen_recent_conversations_and_start_new_ones_later(app, clock):
    state = app.state.shop
    cv = state.say("回头客小王", "在吗")["conversation_id"]
    agent = state.agent("a01", with_read_only=True)
    state.post_message(agent, cv, reply("亲，在的"), None)
    state.patch(agent, cv, {"status": "resolved"}, None)
    clock.now += 3600
    assert state.say("回头客小王", "还有个问题")["conversation_id"] == cv
    conv = state.conversation(cv)
    assert (conv["status"], conv["stage"], conv["assignee_id"]) == ("open", "agent", "a01")
    state.patch(agent, cv, {"status": "resolved"}, None)
    clock.now += 2 * 86400
    new = state.say("回头客小王", "又来了 上次的杯子很好用")["conversation_id"]
    assert new == cv.rsplit("-", 1)[0] + "-2" and state.conversation(new)["stage"] == "queued"
    assert state.conversation(cv)["status"] == "resolved"


def test_greetings_and_groups_by_keyword():
    from agentdesk.shop.bot import classify, is_greeting

    assert all(is_greeting(t) for t in ("在吗", "在吗？？", "亲 在吗~", "有人吗!", "Hello"))
    assert not any(is_greeting(t) for t in ("在吗 卫衣有L码吗", "我的快递呢"))
    assert classify("东西破损了要退款") == ("售后", "normal")
    assert classify("物流三天没动") == ("售后", "normal")
    assert classify("你们就是骗子 我要打12315") == ("客诉", "high")
    assert classify("这件有黑色吗") == ("售前", "normal")


# -- presence ----------------------------------------------------------------------------------------


async def test_agents_go_online_on_requests_and_offline_after_silence(app, clock):
    state = app.state.shop
    head = state.head
    async with http(app, A03) as c:
        await c.get("/v1/me")
        await c.get("/v1/agents")
    online = [e for e in state.events(head, 10) if e["type"] == "agent.status"]
    assert [(e["data"]["id"], e["data"]["status"], e["data"]["online"]) for e in online] == [("a03", "online", True)]
    clock.now += 100
    state.tick()
    assert state.agent("a03")["status"] == "online"
    clock.now += 21
    state.tick()
    assert state.agent("a03")["status"] == "offline"
    assert state.events(state.head - 1, 1)[0]["data"] == {**online[0]["data"], "online": False, "status": "offline"}


# -- the simulator ----------------------------------------------------------------------------------


def test_simulator_is_deterministic_and_answers_agents(make):
    def run(name):
        clock = Clock(ANCHOR)
        state = make(name, simulate=6, fault_seed=5, clock=clock).state.shop
        for _ in range(30):
            clock.now += 10
            state.tick()
        rows = state.conn.execute("SELECT conversation_id, sender, body, created_at FROM messages "
                                  "WHERE created_at > ? ORDER BY seq", [ANCHOR]).fetchall()
        return state, clock, [tuple(r) for r in rows]

    state, clock, first = run("a.sqlite")
    _, _, second = run("b.sqlite")
    assert first == second
    customer_lines = [r for r in first if r[1] == "customer"]
    assert 15 <= len(customer_lines) <= 80  # ~6 a minute for 5 minutes (openings may say two lines)
    openers = {d["lines"][0] for d in DIALOGUES["dialogues"]}
    assert {r[2] for r in customer_lines} & openers
    hoodie = [r for r in customer_lines if r[2] == "在吗"]
    if hoodie:  # "在吗" brings the real question right after it
        nxt = customer_lines[customer_lines.index(hoodie[0]) + 1]
        assert nxt[0] == hoodie[0][0] and nxt[2].startswith("卫衣")
    # An agent answers a simulated customer: the dialogue's next line follows a few seconds later.
    cv, script = next(iter(state.simulator.active.items()))
    expected = script.dialogue["lines"][script.line]
    state.post_message(state.agent("a01", with_read_only=True), cv, reply("亲，在的"), "k")
    clock.now += 30
    state.tick()
    after = state.messages_of(cv)
    assert after[-1]["sender"] == "customer" and after[-1]["body"] == expected


def test_simulator_nudges_and_caps_a_burst(make, clock):
    state = make(simulate=30, fault_seed=2).state.shop
    state.tick()
    clock.now += 3600  # an hour with nobody asking: one burst of at most 20, no backlog replay
    assert state.tick() <= 20
    clock.now += 1
    assert state.tick() <= 1 + len(state.simulator.active)
    nudged = state.conn.execute("SELECT count(*) FROM messages WHERE sender = 'customer' AND body IN "
                                "('在吗？？', '人呢', '？？？', '有人吗 急', '还在吗')").fetchone()[0]
    for _ in range(60):
        clock.now += 30
        state.tick()
    later = state.conn.execute("SELECT count(*) FROM messages WHERE sender = 'customer' AND body IN "
                               "('在吗？？', '人呢', '？？？', '有人吗 急', '还在吗')").fetchone()[0]
    assert later > nudged
    names = [r[0] for r in state.conn.execute("SELECT name FROM customers")]
    assert len(names) == len(set(names))


def test_no_dialogues_no_simulated_customers(make, tmp_path, clock):
    state = make("quiet.sqlite", simulate=60, content_dir=tmp_path / "nothing").state.shop
    clock.now += 600
    assert state.tick() == 0 and state.quick_replies() == []


# -- faults --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,status,code", [("500", 500, "server_error"), ("503", 503, "unavailable"),
                                              ("429", 429, "rate_limited")])
async def test_status_faults(app, kind, status, code):
    app.state.shop.set_faults(fail_rate=1.0, kinds=(kind,))
    async with http(app) as c:
        r = await c.get("/v1/me")
        said = await c.post("/v1/customer/say", json={"customer": "c001", "body": "在吗"})
    assert r.status_code == status and r.json()["code"] == code
    assert r.headers["content-type"].startswith("application/problem+json")
    if status in (429, 503):
        assert r.headers["retry-after"] == "1"
    assert said.status_code == 201  # the customer side never fails


async def test_timeout_fault_answers_late(app):
    app.state.shop.set_faults(fail_rate=1.0, kinds=("timeout",), timeout_s=0.3)
    async with http(app) as c:
        with pytest.raises(TimeoutError):  # ASGI transport has no timeouts of its own
            await asyncio.wait_for(c.get("/v1/me"), 0.05)
        loop = asyncio.get_running_loop()
        started = loop.time()
        r = await c.get("/v1/me", timeout=5)
    assert r.status_code == 200 and loop.time() - started >= 0.3


async def test_malformed_drop_duplicate_and_reorder_faults(app):
    state = app.state.shop
    state.set_faults(fail_rate=1.0, kinds=("malformed",))
    async with http(app) as c:
        with pytest.raises(ValueError):
            (await c.get("/v1/me")).json()
        state.set_faults(fail_rate=1.0, kinds=("drop",))  # over ASGI: a cut-off body
        with pytest.raises(ValueError):
            (await c.get("/v1/me")).json()
        state.set_faults(fail_rate=0.0)
        for i in range(6):
            state.say("c002", f"消息{i}")
        clean = (await c.get("/v1/events", params={"after": 2})).json()
        state.set_faults(fail_rate=1.0, kinds=("duplicate",))
        dup = (await c.get("/v1/events", params={"after": 2})).json()
        state.set_faults(fail_rate=1.0, kinds=("reorder",))
        rev = (await c.get("/v1/events", params={"after": 2})).json()
        state.set_faults(fail_rate=1.0, kinds=("duplicate", "reorder"))
        other = await c.get("/v1/me")  # event-only faults never hit other endpoints
    cursors = [e["cursor"] for e in dup["events"]]
    assert len(cursors) > len(set(cursors)) and {"1", "2"} <= set(cursors)  # already delivered ones again
    assert set(cursors) - {"1", "2"} == {e["cursor"] for e in clean["events"]} and dup["next"] == clean["next"]
    assert rev["events"] == list(reversed(clean["events"])) and rev["next"] == clean["next"]
    assert other.status_code == 200


async def test_write_faults_sometimes_strike_after_commit(app):
    """Half the 500s on writes lose the answer of a committed write: an idempotent
    retry then returns the original, so the message exists exactly once either way."""
    state = app.state.shop
    outcomes = []
    async with http(app) as c:
        for i in range(12):
            state.set_faults(fail_rate=1.0, kinds=("500",))
            key = {"Idempotency-Key": f"late-{i}"}
            failed = await c.post("/v1/conversations/cv-c001-1/messages", json=reply(f"回复{i}"), headers=key)
            assert failed.status_code == 500
            committed = any(m["body"] == f"回复{i}" for m in state.messages_of("cv-c001-1"))
            state.set_faults(fail_rate=0.0)
            retry = await c.post("/v1/conversations/cv-c001-1/messages", json=reply(f"回复{i}"), headers=key)
            assert retry.status_code == 201 and retry.json()["body"] == f"回复{i}"
            outcomes.append(committed)
    assert True in outcomes and False in outcomes
    bodies = [m["body"] for m in state.messages_of("cv-c001-1")]
    assert all(bodies.count(f"回复{i}") == 1 for i in range(12))


async def test_faults_and_latency_are_seeded(make):
    def kinds(seed):
        from agentdesk.shop.faults import Faults

        f = Faults(seed, 0.5)
        return [(x.kind, x.late) if x else None for x in (f.pick(write=True) for _ in range(40))]

    assert kinds(3) == kinds(3) != kinds(4)
    assert 5 < sum(k is not None for k in kinds(3)) < 35
    with pytest.raises(ValueError):
        make("x.sqlite").state.shop.set_faults(fail_rate=0.5, kinds=("gremlins",))
    slow = make("slow.sqlite", latency_ms=150)
    async with http(slow) as c:
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert (await c.get("/v1/me")).status_code == 200
        assert loop.time() - started >= 0.15
