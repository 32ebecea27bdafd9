"""Alt+B on the workstation: away and back, through the real sync engine to the
in-process reference shop (httpx ASGI transport), shown in the header."""

from __future__ import annotations


import httpx
import pytest

from agentdesk.clock import Clock
from agentdesk.config import Settings, UISettings
from agentdesk.store import Store
from agentdesk.sync.client import ShopClient, ShopReader
from agentdesk.sync.engine import SyncEngine
from agentdesk.ui.app import AgentDeskApp
from agentdesk.ui.widgets.header import HeaderBar

from conftest import screen_text
from shop_helpers import no_sleep, until

SIZE = (160, 45)



@pytest.fixture
def shop(tmp_path):
    from agentdesk.shop.server import create_app

    return create_app(tmp_path / "shop.sqlite", seed="demo")


def synced_app(shop, tmp_path, token="demo-a01-xiaomei", *, language="zh", read_only=False):
    transport = httpx.ASGITransport(app=shop, raise_app_exceptions=False)
    cls = ShopReader if read_only else ShopClient
    client = cls("http://shop.test", token, transport=transport, sleep=no_sleep)
    store = Store(tmp_path / "cache.sqlite")
    engine = SyncEngine(store, client, wait=1.0)
    app = AgentDeskApp(store=store, settings=Settings(ui=UISettings(language=language)), sync=engine,
                       clock=Clock(), read_only=read_only)
    return app, store



def header_line(app) -> str:
    return screen_text(app).splitlines()[0]


def notices(app) -> str:
    return " ".join(str(n.message) for n in app._notifications)


def my_status(app) -> str | None:
    return next((a.status for a in app.agents if a.id == app.me), None)


async def test_alt_b_goes_away_on_the_shop_and_comes_back(shop, tmp_path):
    state = shop.state.shop
    app, store = synced_app(shop, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.query_one(HeaderBar).connection == "online" and my_status(app) == "online")
        assert "离开" not in header_line(app)
        await pilot.press("alt+b")
        await until(pilot, lambda: state.presence("a01") == "away")
        await until(pilot, lambda: my_status(app) == "away")  # the cache, re-read by the app
        await until(pilot, lambda: "小美 ◐ 离开" in header_line(app))
        await until(pilot, lambda: "已设为离开" in notices(app))
        assert state.agent("a01")["status"] == "away"
        await pilot.pause(1.5)  # the sync keeps talking to the shop: still away
        assert state.presence("a01") == "away"
        await pilot.press("alt+b")
        await until(pilot, lambda: state.presence("a01") == "online")
        await until(pilot, lambda: my_status(app) == "online")
        await until(pilot, lambda: "离开" not in header_line(app))
        await until(pilot, lambda: "已回到在线" in notices(app))
    store.close()


async def test_the_header_says_away_in_english(shop, tmp_path):
    app, store = synced_app(shop, tmp_path, language="en")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: my_status(app) == "online")
        await pilot.press("alt+b")
        await until(pilot, lambda: "◐ away" in header_line(app))
    store.close()


async def test_read_only_cannot_go_away(shop, tmp_path):
    state = shop.state.shop
    app, store = synced_app(shop, tmp_path, token="demo-s01-linjie", read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.query_one(HeaderBar).connection == "online")
        writes = state.write_count
        await pilot.press("alt+b")
        await until(pilot, lambda: "只读" in notices(app))
        await pilot.pause(0.3)
        assert state.write_count == writes and state.presence("s01") == "online"
    store.close()


async def test_without_a_connection_alt_b_says_so(demo_store):
    from conftest import make_app

    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("alt+b")
        await until(pilot, lambda: "未连接店铺" in notices(app))
