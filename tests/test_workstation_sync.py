"""The workstation driven by the real sync engine against the in-process reference
shop: live arrivals, pending → sent, the 409 conflict notice that keeps the draft, and
the header's connection state."""

from __future__ import annotations


import httpx
import pytest

from agentdesk.clock import Clock
from agentdesk.config import Settings, UISettings
from agentdesk.store import Store
from agentdesk.sync.client import ShopClient
from agentdesk.sync.engine import SyncEngine
from agentdesk.ui.app import AgentDeskApp
from agentdesk.ui.widgets.composer import Composer
from agentdesk.ui.widgets.header import HeaderBar
from agentdesk.ui.widgets.inbox_list import InboxList
from agentdesk.ui.widgets.thread_view import ThreadView

from conftest import screen_text
from shop_helpers import no_sleep, until

SIZE = (160, 45)



@pytest.fixture
def shop(tmp_path):
    from agentdesk.shop.server import create_app

    return create_app(tmp_path / "shop.sqlite", seed="demo", fault_seed=3)


def make_synced_app(shop, tmp_path, token="demo-a01-xiaomei", name="cache.sqlite"):
    transport = httpx.ASGITransport(app=shop, raise_app_exceptions=False)
    client = ShopClient("http://shop.test", token, transport=transport, sleep=no_sleep)
    store = Store(tmp_path / name)
    engine = SyncEngine(store, client, wait=1.0)
    app = AgentDeskApp(store=store, settings=Settings(ui=UISettings(language="zh")), sync=engine, clock=Clock())
    return app, store



async def test_live_customer_message_reply_pending_then_sent(shop, tmp_path):
    app, store = make_synced_app(shop, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        header = app.query_one(HeaderBar)
        await until(pilot, lambda: header.connection == "online")
        lst = app.query_one(InboxList)
        await pilot.press("u")  # the unassigned queue
        said = shop.state.shop.say("直播间来的小满", "在吗 卫衣燕麦色L码今天能发吗")
        await until(pilot, lambda: any(r.customer_name == "直播间来的小满" for r in lst.rows))
        row = next(r for r in lst.rows if r.customer_name == "直播间来的小满")
        while lst.highlighted.id != row.id:
            await pilot.press("down")
        await pilot.press("enter")
        await until(pilot, lambda: app.query_one(ThreadView).conversation_id == row.id)
        await pilot.press(*"亲在的哦")
        await pilot.press("enter")
        view = app.query_one(ThreadView)
        await until(pilot, lambda: any(m.body == "亲在的哦" for m in view.messages))
        await until(pilot, lambda: next(m for m in view.messages if m.body == "亲在的哦").state == "sent")
        server_msgs = shop.state.shop.messages_of(row.id) if hasattr(shop.state.shop, "messages_of") else None
        if server_msgs is not None:
            assert sum(1 for m in server_msgs if m["body"] == "亲在的哦") == 1
        assert "直播间来的小满" in screen_text(app)
        del said
    store.close()


async def test_conflict_keeps_the_draft_and_says_who_took_it(shop, tmp_path):
    said = shop.state.shop.say("被抢走的顾客", "你好，想问下羽绒服的含绒量")
    cv = said["conversation_id"] if "conversation_id" in said else said["conversation"]["id"]
    app, store = make_synced_app(shop, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.query_one(HeaderBar).connection == "online")
        await pilot.press("u")
        lst = app.query_one(InboxList)
        await until(pilot, lambda: any(r.id == cv for r in lst.rows))
        while lst.highlighted.id != cv:
            await pilot.press("down")
        await pilot.press("enter")
        # 阿杰 (another agent, another client) takes it first, straight through the API.
        other = ShopClient("http://shop.test", "demo-a02-ajie",
                           transport=httpx.ASGITransport(app=shop), sleep=no_sleep)
        await other.write("POST", f"/v1/conversations/{cv}/claim", {}, "claim-1")
        await other.aclose()
        await pilot.press(*"90白鸭绒")
        await pilot.press("enter")
        composer = app.query_one(Composer)
        await until(pilot, lambda: "90白鸭绒" in composer.text, timeout=15)
        view = app.query_one(ThreadView)
        await until(pilot, lambda: all(m.body != "90白鸭绒" for m in view.messages))
        assert "阿杰" in " ".join(str(n.message) for n in app._notifications)
    store.close()
