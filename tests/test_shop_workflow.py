"""The service workflows end to end: order exceptions (订单异常), team follow-ups (回访),
outreach, transfers with a word to the customer, against the real reference shop
(in-process over httpx's ASGI transport, a fixed clock), then through the client's
outbox, sync engine and cache."""

from __future__ import annotations

import json
import sqlite3
import time

import httpx
import pytest

from agentdesk.store import Store, followups, orders, outbox, writes
from agentdesk.sync.client import ShopClient, Unavailable
from agentdesk.sync.engine import CURSOR, PAGE, SyncEngine

from conftest import ANCHOR
from shop_helpers import Clock, asgi_http as http

A01, A02, S01 = "demo-a01-xiaomei", "demo-a02-ajie", "demo-s01-linjie"
#: Demo orders by status (agentdesk/demo/fixtures).
WAITING_TO_SHIP = "3901017729045318863"  # c004 待发货
SHIPPED = "3901050037188259430"  # c005 已发货
DELIVERED = "3901048273615590214"  # c001 已签收, 99.0
UNPAID = "3901093358120746621"  # c002 待付款
REFUNDING = "3901164415532908147"  # c015 退款中
OPTED_OUT = ("c047", "c049", "c053")


@pytest.fixture
def clock():
    return Clock(ANCHOR)


@pytest.fixture
def app(tmp_path, clock):
    from agentdesk.shop.server import create_app

    return create_app(tmp_path / "shop.sqlite", seed="demo", anchor=ANCHOR, clock=clock)


def key(k: str) -> dict:
    return {"Idempotency-Key": k}


def events_since(state, head: int, type_: str) -> list[dict]:
    return [e["data"] for e in state.events(head, 1000) if e["type"] == type_]


def problem(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code, body
    return body


# -- the shop's rules ---------------------------------------------------------------------------------


def test_the_demo_seeds_follow_ups_opt_outs_and_refund_requests(app):
    state = app.state.shop
    items = state.page("followups", None, 100)["items"]
    assert [f["id"] for f in items] == ["f_000001", "f_000002", "f_000003"]
    due = [(f["customer_id"], f["due_at"], f["status"]) for f in items]
    from agentdesk.shop.rows import rfc3339

    assert due == [("c055", rfc3339(ANCHOR - 3600), "open"), ("c015", rfc3339(ANCHOR + 120), "open"),
                   ("c067", rfc3339(ANCHOR + 3 * 86400), "open")]
    assert all(f["note"] and f["order_id"] and f["conversation_id"] for f in items)
    for cid in OPTED_OUT:
        c = state.customer(cid)
        assert c["opt_out"] is True and "免打扰" in c["tags"]
    assert state.customer("c001")["opt_out"] is False
    assert state.order(REFUNDING)["refund"]["status"] == "requested"
    assert state.order(DELIVERED)["refund"] is None and state.order(DELIVERED)["remarks"] == []


async def test_the_address_changes_only_until_the_order_ships(app):
    state = app.state.shop
    head = state.head
    async with http(app) as c:
        ok = await c.post(f"/v1/orders/{WAITING_TO_SHIP}/address", json={"address": " 浙江省杭州市西湖区文三路 90 号 "})
        late = await c.post(f"/v1/orders/{SHIPPED}/address", json={"address": "上海市徐汇区"})
        blank = await c.post(f"/v1/orders/{WAITING_TO_SHIP}/address", json={"address": "  "})
        long = await c.post(f"/v1/orders/{WAITING_TO_SHIP}/address", json={"address": "路" * 201})
        missing = await c.post("/v1/orders/nope/address", json={"address": "x"})
    assert ok.status_code == 200 and ok.json()["address"] == "浙江省杭州市西湖区文三路 90 号"
    assert events_since(state, head, "order.updated") == [ok.json()]
    body = problem(late, 409, "already_shipped")
    assert body["detail"] == f"order {SHIPPED} is 已发货: the address can no longer change"
    assert state.order(SHIPPED)["address"] != "上海市徐汇区"
    for r in (blank, long):
        assert problem(r, 422, "invalid")["errors"][0]["field"] == "address"
    problem(missing, 404, "not_found")


async def test_a_refund_is_requested_once_then_approved_once(app):
    state = app.state.shop
    async with http(app) as c:
        requested = await c.post(f"/v1/orders/{DELIVERED}/refund", json={"reason": "尺码不合适"})
        twice = await c.post(f"/v1/orders/{DELIVERED}/refund", json={"reason": "再申请一次"})
        approved = await c.post(f"/v1/orders/{DELIVERED}/refund/approve", json={})
        again = await c.post(f"/v1/orders/{DELIVERED}/refund/approve", json={})
        refunded = await c.post(f"/v1/orders/{DELIVERED}/refund", json={"reason": "x"})
        unpaid = await c.post(f"/v1/orders/{UNPAID}/refund", json={"reason": "不想要了"})
        nothing = await c.post(f"/v1/orders/{SHIPPED}/refund/approve")
        bad = [await c.post(f"/v1/orders/{SHIPPED}/refund", json=b) for b in (
            {"reason": "x", "amount": 10_000}, {"reason": "x", "amount": 0}, {"reason": "x", "amount": "10"},
            {"reason": "x", "amount": True}, {"amount": 10})]
        partial = await c.post(f"/v1/orders/{SHIPPED}/refund", json={"reason": "少发一件", "amount": 100.5})
    order = requested.json()
    assert requested.status_code == 200 and order["status"] == "退款中"
    assert {k: v for k, v in order["refund"].items() if k != "at"} == {
        "reason": "尺码不合适", "amount": 99.0, "agent_id": "a01", "status": "requested"}
    assert problem(twice, 409, "not_refundable")["detail"] == \
        f"order {DELIVERED} is 退款中: a refund is already requested"
    assert approved.json()["status"] == "已退款" and approved.json()["refund"]["status"] == "approved"
    assert approved.json()["refund"]["reason"] == "尺码不合适"
    assert problem(again, 409, "no_refund_request")["detail"].startswith(f"order {DELIVERED} is 已退款")
    problem(refunded, 409, "not_refundable")
    assert "nothing was paid" in problem(unpaid, 409, "not_refundable")["detail"]
    problem(nothing, 409, "no_refund_request")
    assert [problem(r, 422, "invalid")["errors"][0]["field"] for r in bad] == ["amount"] * 4 + ["reason"]
    assert partial.json()["refund"]["amount"] == 100.5 and partial.json()["amount"] == 358.0
    assert state.order(UNPAID)["status"] == "待付款"


async def test_remarks_append_and_updated_at_always_moves_forward(app):
    """The clock stands still here: each change still gets a later updated_at, so a
    client keeping the newest version by updated_at never drops one."""
    async with http(app) as c:
        first = (await c.post(f"/v1/orders/{SHIPPED}/remarks", json={"body": "客户要求周末送货"})).json()
        second = (await c.post(f"/v1/orders/{SHIPPED}/remarks", json={"body": "已联系快递"})).json()
    async with http(app, A02) as c:
        third = (await c.post(f"/v1/orders/{SHIPPED}/remarks", json={"body": "快递已改约"})).json()
        blank = await c.post(f"/v1/orders/{SHIPPED}/remarks", json={"body": ""})
    assert [(r["body"], r["agent_id"]) for r in third["remarks"]] == [
        ("客户要求周末送货", "a01"), ("已联系快递", "a01"), ("快递已改约", "a02")]
    assert first["updated_at"] < second["updated_at"] < third["updated_at"]
    assert problem(blank, 422, "invalid")["errors"][0]["field"] == "body"


async def test_follow_ups_are_created_listed_and_closed_by_id_or_client_id(app, clock):
    state = app.state.shop
    head = state.head
    due = "2026-11-21T10:00:00+08:00"
    async with http(app) as c:
        made = await c.post("/v1/followups", headers=key("fk-1"), json={
            "customer_id": "c001", "due_at": due, "note": "确认收货后回访满意度", "order_id": DELIVERED,
            "conversation_id": "cv-c001-2"})
        bare = await c.post("/v1/followups", json={"customer_id": "c002", "due_at": due, "note": ""})
    f = made.json()
    assert made.status_code == 201 and f["id"] == "f_000004" and f["client_id"] == "fk-1"
    assert (f["agent_id"], f["status"], f["order_id"], f["due_at"]) == ("a01", "open", DELIVERED,
                                                                        "2026-11-21T02:00:00.000Z")
    assert bare.status_code == 201 and bare.json()["order_id"] is None and bare.json()["client_id"] is None
    async with http(app, A02) as c:  # the team shares them: another agent closes it by its client id
        done = await c.patch("/v1/followups/fk-1", json={"status": "done"})
        same = await c.patch("/v1/followups/fk-1", json={"status": "done"})
        cancelled = await c.patch(f"/v1/followups/{f['id']}", json={"status": "cancelled"})
        listed = (await c.get("/v1/followups", params={"limit": 2})).json()
        rest = (await c.get("/v1/followups", params={"after": listed["next"]})).json()
        missing = await c.patch("/v1/followups/nope", json={"status": "done"})
    assert done.json()["status"] == "done" and done.json()["id"] == f["id"]
    assert same.json() == done.json()
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["updated_at"] > done.json()["updated_at"]
    assert [x["id"] for x in listed["items"] + rest["items"]] == [f"f_00000{i}" for i in range(1, 6)]
    problem(missing, 404, "not_found")
    updates = events_since(state, head, "followup.updated")
    assert [(u["id"], u["status"]) for u in updates] == [("f_000004", "open"), ("f_000005", "open"),
                                                         ("f_000004", "done"), ("f_000004", "cancelled")]


@pytest.mark.parametrize("body,field", [
    ({"due_at": "2026-11-21T10:00:00Z", "note": ""}, "customer_id"),
    ({"customer_id": "nobody", "due_at": "2026-11-21T10:00:00Z", "note": ""}, "customer_id"),
    ({"customer_id": "c001", "note": ""}, "due_at"),
    ({"customer_id": "c001", "due_at": "tomorrow", "note": ""}, "due_at"),
    ({"customer_id": "c001", "due_at": "2026-11-21T10:00:00Z"}, "note"),
    ({"customer_id": "c001", "due_at": "2026-11-21T10:00:00Z", "note": "", "order_id": UNPAID}, "order_id"),
    ({"customer_id": "c001", "due_at": "2026-11-21T10:00:00Z", "note": "", "conversation_id": "cv-c002-1"},
     "conversation_id"),
])
async def test_a_follow_up_needs_a_real_customer_and_their_own_order(app, body, field):
    async with http(app) as c:
        r = await c.post("/v1/followups", json=body)
        bad_status = await c.patch("/v1/followups/f_000001", json={"status": "later"})
    assert problem(r, 422, "invalid")["errors"][0]["field"] == field
    assert problem(bad_status, 422, "invalid")["errors"][0]["field"] == "status"


async def test_outreach_joins_the_open_conversation_or_starts_a_resolved_one(app):
    state = app.state.shop
    async with http(app) as c:
        joined = await c.post("/v1/customers/c005/messages", json={"body": "亲，双十二活动开始啦", "campaign": "双十二"})
        started = await c.post("/v1/customers/c055/messages", json={"body": "亲，火锅季餐具上新啦"})
        waiting = await c.post("/v1/customers/c003/messages", json={"body": "亲，双十二活动开始啦"})
        refused = await c.post(f"/v1/customers/{OPTED_OUT[0]}/messages", json={"body": "亲，活动开始啦"})
        unknown = await c.post("/v1/customers/nobody/messages", json={"body": "hi"})
        blank = await c.post("/v1/customers/c003/messages", json={"body": "hi", "campaign": " "})
    assert joined.status_code == 201
    conv, msg = joined.json()["conversation"], joined.json()["message"]
    assert conv["id"] == "cv-c005-3" and conv["status"] == "open"
    # auto: a campaign answers nobody (no KPI counts it as a reply).
    assert (msg["sender"], msg["agent_id"], msg["auto"], msg["meta"], msg["conversation_id"]) == (
        "agent", "a01", True, {"outreach": True, "campaign": "双十二"}, "cv-c005-3")
    new = started.json()["conversation"]
    assert new["id"] == "cv-c055-2" and started.json()["message"]["meta"] == {"outreach": True}
    # c003 waits for an answer in her open conversation: a campaign is no answer.
    assert "waiting for an answer in cv-c003-1" in problem(waiting, 409, "customer_waiting")["detail"]
    assert (new["status"], new["group"], new["assignee_id"], new["stage"]) == ("resolved", "售前", "a01", "agent")
    assert problem(refused, 409, "opted_out")["detail"] == f"customer {OPTED_OUT[0]} asked not to receive outreach"
    problem(unknown, 404, "not_found")
    assert problem(blank, 422, "invalid")["errors"][0]["field"] == "campaign"
    # The customer answers: the outreach conversation reopens, with the agent who wrote.
    assert state.say("c055", "好的 有什么新款")["conversation_id"] == "cv-c055-2"
    assert state.conversation("cv-c055-2")["status"] == "open"


async def test_outreach_is_rate_limited_per_agent(app, clock):
    async with http(app) as c:
        sent = [await c.post("/v1/customers/c005/messages", json={"body": f"活动通知 {i}"}, headers=key(f"o-{i}"))
                for i in range(30)]
        clock.now += 20
        limited = await c.post("/v1/customers/c005/messages", json={"body": "第31条"}, headers=key("o-31"))
        replay = await c.post("/v1/customers/c005/messages", json={"body": "活动通知 0"}, headers=key("o-0"))
    async with http(app, A02) as other:  # per agent (c007: 阿杰 has it, pending)
        theirs = await other.post("/v1/customers/c007/messages", json={"body": "阿杰的通知"})
    assert [r.status_code for r in sent] == [201] * 30
    problem(limited, 429, "rate_limited")
    assert limited.headers["retry-after"] == "40"
    assert replay.status_code == 201 and replay.json() == sent[0].json()  # a retry is no new message
    assert theirs.status_code == 201, theirs.text
    clock.now += 40
    async with http(app) as c:
        assert (await c.post("/v1/customers/c005/messages", json={"body": "第31条"}, headers=key("o-31"))
                ).status_code == 201


async def test_a_read_only_token_cannot_use_any_new_write(app):
    state = app.state.shop
    head = state.head
    async with http(app, S01) as c:
        answers = [
            await c.post(f"/v1/orders/{WAITING_TO_SHIP}/address", json={"address": "x"}),
            await c.post(f"/v1/orders/{DELIVERED}/refund", json={"reason": "x"}),
            await c.post(f"/v1/orders/{REFUNDING}/refund/approve", json={}),
            await c.post(f"/v1/orders/{DELIVERED}/remarks", json={"body": "x"}),
            await c.post("/v1/followups", json={"customer_id": "c001", "due_at": "2026-11-21T10:00:00Z", "note": ""}),
            await c.patch("/v1/followups/f_000001", json={"status": "done"}),
            await c.post("/v1/customers/c001/messages", json={"body": "x"}),
        ]
        listed = await c.get("/v1/followups")
    assert [a.status_code for a in answers] == [403] * 7
    assert {a.json()["code"] for a in answers} == {"read_only"}
    assert listed.status_code == 200
    assert [e["type"] for e in state.events(head, 100)] == ["agent.status"]


async def test_transfer_tells_the_customer_and_carries_the_handoff(app):
    state = app.state.shop
    async with http(app) as c:
        r = await c.post("/v1/conversations/cv-c001-1/transfer", json={
            "to_agent_id": "a02", "note": "要换货，尺码已确认L", "customer_message": "亲，已为您转接售后同事阿杰哦~"})
        no_note = await c.post("/v1/conversations/cv-c001-1/transfer", json={"to_group": "售后"})
        bad = await c.post("/v1/conversations/cv-c001-1/transfer",
                           json={"to_group": "售后", "note": "", "customer_message": 1})
    assert r.status_code == 200
    line, told, note = state.messages_of("cv-c001-1")[-3:]
    assert (line["sender"], line["body"]) == ("system", "会话已由 小美 转接给 阿杰")
    assert line["meta"] == {"handoff": {"from": "a01", "from_name": "小美", "to_agent": "a02", "to_agent_name": "阿杰",
                                        "to_group": None, "note": "要换货，尺码已确认L"}}
    assert (told["sender"], told["body"], told["meta"]) == ("system", "亲，已为您转接售后同事阿杰哦~", None)
    assert (note["sender"], note["body"]) == ("note", "要换货，尺码已确认L")
    assert problem(no_note, 422, "invalid")["errors"][0]["field"] == "note"
    assert problem(bad, 422, "invalid")["errors"][0]["field"] == "customer_message"
    async with http(app, A02) as c:
        await c.post("/v1/conversations/cv-c001-1/transfer",
                     json={"to_group": "客诉", "note": "", "customer_message": " "})
    last = state.messages_of("cv-c001-1")[-1]  # blank: no customer line, no note
    assert last["meta"]["handoff"] == {"from": "a02", "from_name": "阿杰", "to_agent": None, "to_agent_name": None,
                                       "to_group": "客诉", "note": ""}


async def test_retried_workflow_writes_act_once(app):
    state = app.state.shop
    head = state.head
    calls = [
        ("post", f"/v1/orders/{DELIVERED}/refund", {"reason": "破损"}),
        ("post", f"/v1/orders/{SHIPPED}/remarks", {"body": "补发一只"}),
        ("post", "/v1/followups", {"customer_id": "c001", "due_at": "2026-11-21T10:00:00Z", "note": "回访"}),
        ("post", "/v1/customers/c005/messages", {"body": "亲，活动开始啦"}),
        ("patch", "/v1/followups/f_000001", {"status": "done"}),
    ]
    async with http(app) as c:
        for n, (method, path, body) in enumerate(calls):
            first = await getattr(c, method)(path, json=body, headers=key(f"r-{n}"))
            again = await getattr(c, method)(path, json=body, headers=key(f"r-{n}"))
            assert first.status_code in (200, 201)
            assert (first.status_code, first.json()) == (again.status_code, again.json())
    types = [e["type"] for e in state.events(head, 100) if e["type"] != "agent.status"]
    assert types == ["order.updated", "order.updated", "followup.updated", "message.created", "followup.updated"]


def test_a_shop_file_from_before_gains_the_new_columns(tmp_path):
    from agentdesk.shop.state import ShopState

    path = tmp_path / "old.sqlite"
    ShopState(path, anchor=ANCHOR).close()
    conn = sqlite3.connect(path)
    for table, column in (("customers", "opt_out"), ("orders", "remarks"), ("orders", "refund"), ("messages", "meta")):
        conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    conn.execute("DROP TABLE followups")
    conn.commit()
    conn.close()
    state = ShopState(path, clock=lambda: ANCHOR)
    agent = state.agent("a01", with_read_only=True)
    assert state.customer("c047")["opt_out"] is False  # the old file knew nothing of it
    assert state.order_remark(agent, SHIPPED, {"body": "旧库也能备注"}, None)[1]["remarks"][0]["body"] == "旧库也能备注"
    assert state.add_followup(agent, {"customer_id": "c001", "due_at": "2026-11-21T10:00:00Z", "note": ""},
                              None)[1]["id"] == "f_000001"
    state.close()


# -- through the client: outbox, engine, cache -----------------------------------------------------


async def no_sleep(_seconds: float) -> None:
    pass


@pytest.fixture
def shop(tmp_path):
    from agentdesk.shop.server import create_app

    return create_app(tmp_path / "shop.sqlite", seed="demo", anchor=time.time())


@pytest.fixture
async def synced(shop, tmp_path):
    """(store, engine, changes seen) after a full sync as 小美."""
    store = Store(tmp_path / "cache.sqlite")
    seen: list = []
    transport = httpx.ASGITransport(app=shop, raise_app_exceptions=False)
    engine = SyncEngine(store, ShopClient("http://shop.test", A01, transport=transport, sleep=no_sleep),
                        on_change=seen.append)
    await engine.identify()
    await engine.initial_sync()
    await engine.catch_up()
    yield store, engine, seen
    await engine.client.aclose()
    store.close()


def one(store: Store, sql: str, params=()):
    return store.read(lambda c: c.execute(sql, params).fetchone())


async def test_sync_brings_follow_ups_opt_outs_remarks_and_meta(synced, shop):
    store, engine, seen = synced
    assert one(store, "SELECT count(*) FROM followups WHERE server_id IS NOT NULL")[0] == 3
    opted = store.read(lambda c: c.execute("SELECT id FROM customers WHERE opt_out = 1").fetchall())
    assert {r[0] for r in opted} == set(OPTED_OUT)
    assert json.loads(one(store, "SELECT refund FROM orders WHERE id = ?", [REFUNDING])[0])["status"] == "requested"
    now = time.time()
    assert [f.customer_id for f in store.read(followups.due, now)] == ["c055"]
    assert store.read(followups.count_due, now + 121) == 2
    page1 = store.read(followups.page, None, 2)
    page2 = store.read(followups.page, (page1[-1].due_at, page1[-1].id), 2)
    assert [f.customer_id for f in page1 + page2] == ["c055", "c015", "c067"]
    assert page1[0].customer_name == "山城火锅要微辣" and page1[0].server_id == "f_000001"
    # Feed: a transfer's handoff meta lands in the cache with the message.
    state = shop.state.shop
    state.transfer(state.agent("a01", with_read_only=True), "cv-c001-1", {"to_agent_id": "a02", "note": "换货"}, None)
    await engine.catch_up()
    meta = one(store, "SELECT meta FROM messages WHERE conversation_id = 'cv-c001-1' AND sender = 'system' "
                      "ORDER BY id DESC")[0]
    assert json.loads(meta)["handoff"]["to_agent_name"] == "阿杰"


async def test_a_follow_up_scheduled_here_merges_with_the_shops_row(synced, shop):
    """Scheduled and closed before the shop has seen it: the close goes by client id,
    and the local row takes the server id instead of a second row appearing."""
    store, engine, seen = synced
    now = time.time()
    fid = store.write(followups.schedule, "c001", now + 3600, "确认收货后回访满意度", now, agent_id="a01",
                      order_id=DELIVERED)
    row = one(store, "SELECT client_id, server_id, status, updated_at FROM followups WHERE id = ?", [fid])
    assert row[1] is None and row[2] == "open" and row[3] is None
    store.write(followups.set_status, fid, "done", now)
    patch = store.read(lambda c: [i for i in outbox.due(c, now) if i.kind == "followup_patch"])[0]
    assert patch.path == f"/v1/followups/{row[0]}" and patch.body == {"status": "done"}
    assert await engine.flush_outbox() == 2
    await engine.catch_up()
    rows = store.read(lambda c: c.execute("SELECT id, server_id, status FROM followups WHERE customer_id = 'c001'"
                                          ).fetchall())
    assert rows == [(fid, "f_000004", "done")]
    assert shop.state.shop.followup("f_000004")["status"] == "done"
    assert any(ch.followups and "c001" in ch.customers for ch in seen)
    assert store.read(outbox.pending_count) == 0
    # Closed again here once the server id is known: the path uses it.
    store.write(followups.set_status, fid, "open", now)
    assert store.read(outbox.due, now + 1)[0].path == "/v1/followups/f_000004"
    assert await engine.flush_outbox() == 1 and shop.state.shop.followup("f_000004")["status"] == "open"


async def test_a_refused_follow_up_leaves_no_local_row(synced):
    store, engine, seen = synced
    now = time.time()
    store.write(followups.schedule, "c001", now, "", now, agent_id="a01", order_id=UNPAID)  # c002's order
    assert await engine.flush_outbox() == 0
    assert one(store, "SELECT count(*) FROM followups WHERE server_id IS NULL")[0] == 0
    assert any("422 invalid: order_id" in f for ch in seen for f in ch.failures)


async def test_order_writes_round_trip_and_a_refusal_is_said_once(synced, shop):
    store, engine, seen = synced
    now = time.time()

    def queue(conn):
        orders.request(conn, "order_address", WAITING_TO_SHIP, "c004", {"address": "浙江省杭州市西湖区文三路 90 号"}, now)
        orders.request(conn, "order_remark", WAITING_TO_SHIP, "c004", {"body": "客户改地址，已确认"}, now)
        orders.request(conn, "order_refund", DELIVERED, "c001", {"reason": "尺码不合适", "amount": 50}, now)
        orders.request(conn, "order_refund_approve", REFUNDING, "c015", {}, now)
        return orders.request(conn, "order_address", SHIPPED, "c005", {"address": "上海市徐汇区"}, now)

    refused = store.write(queue)
    item = store.read(outbox.get, refused)
    assert item.path == f"/v1/orders/{SHIPPED}/address" and item.body == {"address": "上海市徐汇区"}
    assert await engine.flush_outbox() == 4
    address, remarks = one(store, "SELECT address, remarks FROM orders WHERE id = ?", [WAITING_TO_SHIP])
    assert address == "浙江省杭州市西湖区文三路 90 号"
    assert [(r["body"], r["agent_id"]) for r in json.loads(remarks)] == [("客户改地址，已确认", "a01")]
    assert isinstance(json.loads(remarks)[0]["at"], float)  # epoch seconds in the cache, like every time
    status, refund = one(store, "SELECT status, refund FROM orders WHERE id = ?", [DELIVERED])
    assert status == "退款中" and json.loads(refund)["amount"] == 50 and json.loads(refund)["status"] == "requested"
    assert one(store, "SELECT status FROM orders WHERE id = ?", [REFUNDING])[0] == "已退款"
    failures = [f for ch in seen for f in ch.failures]
    assert failures == [f"409 already_shipped: order {SHIPPED} is 已发货: the address can no longer change"]
    assert store.read(outbox.get, refused).state == "failed" and store.read(outbox.pending_count) == 0
    assert await engine.flush_outbox() == 0 and len([f for ch in seen for f in ch.failures]) == 1  # not retried
    assert {"c004", "c001", "c015", "c005"} <= set().union(*(ch.customers for ch in seen))
    await engine.catch_up()  # the feed's copies of the same orders change nothing
    assert one(store, "SELECT status FROM orders WHERE id = ?", [DELIVERED])[0] == "退款中"


async def test_paced_outreach_lands_in_the_cache(synced, shop):
    """Outreach queued with ``next_at`` (a campaign's pace) goes when its time comes,
    and the shop's answer puts the message and its conversation in the cache."""
    store, engine, seen = synced
    now = time.time()

    def queue(conn):
        return [outbox.enqueue(conn, "outreach", {"body": "亲，双十二活动开始啦", "campaign": "双十二"}, now,
                               customer_id=cid, next_at=now + 2 * i) for i, cid in enumerate(("c005", "c055"))]

    first, second = store.write(queue)
    assert store.read(outbox.get, first).path == "/v1/customers/c005/messages"
    assert store.read(outbox.get, second).body == {"body": "亲，双十二活动开始啦", "campaign": "双十二"}
    assert await engine.flush_outbox() == 1  # only the first is due yet
    engine.clock = lambda: now + 10
    assert await engine.flush_outbox() == 1
    msg = one(store, "SELECT sender, auto, meta, state FROM messages WHERE conversation_id = 'cv-c055-2'")
    assert msg == ("agent", 1, json.dumps({"outreach": True, "campaign": "双十二"}, ensure_ascii=False), "sent")
    assert one(store, "SELECT status, assignee_id FROM conversations WHERE id = 'cv-c055-2'") == ("resolved", "a01")
    assert one(store, "SELECT count(*) FROM messages WHERE conversation_id = 'cv-c005-3' "
                      "AND body = '亲，双十二活动开始啦'")[0] == 1
    assert any("cv-c055-2" in ch.threads for ch in seen)
    store.write(outbox.enqueue, "outreach", {"body": "亲，活动开始啦"}, now, customer_id=OPTED_OUT[0])
    assert await engine.flush_outbox() == 0
    assert any(f.startswith(f"409 opted_out: customer {OPTED_OUT[0]}") for ch in seen for f in ch.failures)


async def test_a_rate_limited_outreach_waits_without_holding_up_replies(synced, shop):
    store, engine, seen = synced
    now = time.time()
    for i in range(31):
        store.write(outbox.enqueue, "outreach", {"body": f"通知{i}"}, now, customer_id="c005")
    with pytest.raises(Unavailable):
        await engine.flush_outbox()
    assert store.read(outbox.pending_count) == 1
    waiting = store.read(lambda c: c.execute("SELECT next_at, attempts, error FROM outbox").fetchone())
    assert waiting[0] >= now + 55 and waiting[1] == 1 and "429" in waiting[2]
    store.write(outbox.send_message, "cv-c001-1", "亲，在的呢", now, agent_id="a01")
    assert await engine.flush_outbox() == 1  # the reply goes; the outreach keeps its place in line
    assert store.read(outbox.pending_count) == 1


async def test_an_auto_greeting_keeps_the_customer_waiting(synced, shop):
    store, engine, seen = synced
    said = shop.state.shop.say("c001", "在吗 还有L码吗")
    cv = said["conversation_id"]
    await engine.catch_up()
    waiting = one(store, "SELECT waiting_since FROM conversations WHERE id = ?", [cv])[0]
    assert waiting is not None
    store.write(outbox.send_message, cv, "亲，欢迎光临~ 马上为您服务", time.time(), agent_id="a01", auto=True)
    row = one(store, "SELECT waiting_since, preview FROM conversations WHERE id = ?", [cv])
    assert row == (waiting, "在吗 还有L码吗")  # the inbox still shows what the customer asked
    assert await engine.flush_outbox() == 1
    await engine.catch_up()
    assert one(store, "SELECT waiting_since FROM conversations WHERE id = ?", [cv])[0] == waiting
    assert one(store, "SELECT auto, state FROM messages WHERE body = '亲，欢迎光临~ 马上为您服务'") == (1, "sent")
    store.write(outbox.send_message, cv, "亲，L码有货哦", time.time(), agent_id="a01")
    assert one(store, "SELECT waiting_since FROM conversations WHERE id = ?", [cv])[0] is None


async def test_a_cache_synced_before_follow_ups_existed_pages_just_them(synced):
    store, engine, seen = synced
    cursor = store.read(writes.get_meta, CURSOR)

    def forget(conn):
        conn.execute("DELETE FROM followups")
        conn.execute("DELETE FROM meta WHERE key = ?", [PAGE + "followups"])

    store.write(forget)
    assert await engine.initial_sync() == 3
    assert store.read(writes.get_meta, CURSOR) == cursor
    assert await engine.initial_sync() == 0


def test_wire_names_a_bad_follow_up_or_refund():
    from agentdesk.sync import wire

    with pytest.raises(wire.PayloadError, match=r"followup f_1: status: expected one of open, done, cancelled"):
        wire.followup({"id": "f_1", "customer_id": "c1", "due_at": "2026-11-21T10:00:00Z", "status": "later"})
    with pytest.raises(wire.PayloadError, match=r"order o1: refund.status: expected one of requested, approved"):
        wire.order({"id": "o1", "customer_id": "c1", "status": "退款中",
                    "refund": {"reason": "x", "amount": 1, "status": "maybe"}})
    with pytest.raises(wire.PayloadError, match=r"message m_1: meta: expected an object or null"):
        wire.message({"id": "m_1", "seq": 1, "conversation_id": "cv", "sender": "system", "body": "x",
                      "created_at": "2026-11-21T10:00:00Z", "meta": "handoff"})
    with pytest.raises(wire.PayloadError, match=r"customer c1: opt_out: expected true or false"):
        wire.customer({"id": "c1", "name": "x", "opt_out": "yes"})
    plain = wire.order({"id": "o1", "customer_id": "c1", "status": "已签收"})  # a shop without the new fields
    assert (plain["remarks"], plain["refund"]) == ([], None)
