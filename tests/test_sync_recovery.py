"""The workstation while sync goes wrong: an exception inside apply is shown (header and
one line) and the engine comes back by itself; a sync worker that dies says so and
the header never goes on saying online; the header keeps what is wrong, the retry
countdown and the clock in view at 80 columns; an object the cache refuses to store
is quarantined instead of stopping every page after it."""

from __future__ import annotations

import dataclasses
import time

import httpx
import pytest
from rich.cells import cell_len
from textual.app import App

from agentdesk.clock import Clock
from agentdesk.config import Settings, UISettings
from agentdesk.i18n import Catalog
from agentdesk.store import Store, problems, thread
from agentdesk.sync import apply
from agentdesk.sync.client import ShopClient
from agentdesk.sync.engine import SyncEngine, SyncStatus
from agentdesk.ui.app import AgentDeskApp
from agentdesk.ui.widgets.header import HeaderBar

from conftest import ANCHOR, screen_text
from shop_helpers import A01, asgi_client, no_sleep, until

SIZE = (160, 45)


@pytest.fixture
def shop(tmp_path):
    from agentdesk.shop.server import create_app

    return create_app(tmp_path / "shop.sqlite", seed="demo", anchor=ANCHOR)


def synced_app(shop, tmp_path, language="zh"):
    transport = httpx.ASGITransport(app=shop, raise_app_exceptions=False)
    client = ShopClient("http://shop.test", A01, transport=transport, sleep=no_sleep)
    store = Store(tmp_path / "cache.sqlite")
    engine = SyncEngine(store, client, wait=1.0, offline_retry=(0.2, 0.4))
    app = AgentDeskApp(store=store, settings=Settings(ui=UISettings(language=language)), sync=engine, clock=Clock())
    return app, store, engine


def header_line(app) -> str:
    return screen_text(app).splitlines()[0]


async def test_an_exception_inside_apply_is_shown_and_sync_comes_back(shop, tmp_path, monkeypatch):
    app, store, engine = synced_app(shop, tmp_path)
    real = apply.UPSERTS["messages"]
    failures = []

    def flaky(conn, m):  # a bug that strikes once, in the middle of applying the feed
        if not failures:
            failures.append(m["id"])
            raise RuntimeError("boom: injected into apply")
        return real(conn, m)

    async with app.run_test(size=SIZE) as pilot:
        header = app.query_one(HeaderBar)
        await until(pilot, lambda: header.connection == "online")
        monkeypatch.setitem(apply.UPSERTS, "messages", flaky)
        said = shop.state.shop.say("c002", "在吗？我的快递到哪了")
        await until(pilot, lambda: header.error_kind == "crashed")
        assert header.connection == "offline"
        line = header_line(app)
        assert "同步意外中断，正在重启：RuntimeError: boom: injected into apply" in line and "秒后重试" in line
        toasts = " ".join(str(n.message) for n in app._notifications)
        assert "sync stopped by an unexpected error (RuntimeError: boom: injected into apply); restarting" in toasts
        await until(pilot, lambda: header.connection == "online" and not header.error)
        await until(pilot, lambda: store.read(thread.last_customer_message, said["conversation_id"]) is not None)
    assert failures == [said["message"]["id"]]
    assert store.read(thread.last_customer_message, said["conversation_id"]).body == "在吗？我的快递到哪了"
    store.close()


async def test_a_sync_worker_that_dies_says_so_and_never_stays_online(shop, tmp_path, monkeypatch):
    app, store, engine = synced_app(shop, tmp_path, language="en")
    started = []

    async def broken_run():  # the engine's own loop with a bug in it: it ends
        started.append(True)
        engine.on_status(SyncStatus("online"))
        raise RuntimeError("the loop itself broke")

    monkeypatch.setattr(engine, "run", broken_run)
    async with app.run_test(size=SIZE) as pilot:
        header = app.query_one(HeaderBar)
        await until(pilot, lambda: header.error_kind == "stopped")
        assert started and header.connection == "offline"
        assert "sync stopped: RuntimeError: the loop itself broke" in header_line(app)
        await pilot.pause(0.3)
        assert header.connection == "offline", "nothing brings it back to online"
    store.close()


class HeaderOnly(App):
    """The header alone, as wide as the terminal (the whole workstation is tested elsewhere)."""

    def compose(self):
        header = HeaderBar(now=lambda: ANCHOR, t=Catalog("en"))
        header.shop, header.agent = "拾光生活旗舰店", "小美"
        yield header


TROUBLE = SyncStatus("offline", last_sync_at=ANCHOR - 600, pending=3, skipped=2,
                     error="GET http://127.0.0.1:8080/v1/me: ConnectError (All connection attempts failed)",
                     retry_at=None, error_kind="unreachable", error_params=(("host", "127.0.0.1"),))


@pytest.mark.parametrize("width", [80, 100, 160])
async def test_the_header_keeps_what_is_wrong_and_the_countdown_in_view(width):
    app = HeaderOnly()
    async with app.run_test(size=(width, 3)) as pilot:
        header = app.query_one(HeaderBar)
        header.show_sync(dataclasses.replace(TROUBLE, retry_at=time.monotonic() + 41.5), demo=False)
        await pilot.pause()
        line = header_line(app)
        assert cell_len(line.rstrip()) <= width
        assert "● offline" in line and "retry in 42 s" in line and "cannot reach the shop" in line
        if width >= 100:
            assert "cannot reach the shop at 127.0.0.1" in line and line.rstrip().endswith("14:30:00")
        if width == 160:
            assert "3 to send" in line and "2 objects skipped" in line and " agentdesk " in line
        header.show_sync(SyncStatus("online", skipped=2), demo=False)
        await pilot.pause()
        line = header_line(app)
        assert "● online" in line and "2 objects skipped" in line and "retry" not in line
        assert line.rstrip().endswith("14:30:00")


async def test_an_object_the_cache_refuses_is_quarantined_and_the_page_goes_on(shop, tmp_path, monkeypatch):
    """Two messages of one page with the same client id: the UNIQUE index refuses the
    second, which used to fail the page (and every sync after it) for good."""
    from agentdesk.sync import wire

    store = Store(tmp_path / "cache.sqlite")
    engine = SyncEngine(store, asgi_client(shop))
    await engine.identify()
    real_page = wire.page

    def twins(resource, body, **kw):
        page = real_page(resource, body, **kw)
        if resource == "messages" and kw["after"] is None:  # on the first page only
            page.items[1] = dict(page.items[1], client_id="same-key")
            page.items[2] = dict(page.items[2], client_id="same-key")
        return page

    monkeypatch.setattr(wire, "page", twins)
    await engine.initial_sync()
    refused = store.read(problems.listing)
    assert len(refused) == 1 and refused[0].resource == "messages"
    assert refused[0].reason.startswith("cannot be stored: IntegrityError: UNIQUE constraint failed: messages.client_id")
    total = shop.state.shop.query("SELECT count(*) FROM messages")[0][0]
    assert store.read(lambda c: c.execute("SELECT count(*) FROM messages").fetchone()[0]) == total - 1
    assert engine.synced()
    await engine.client.aclose()
    store.close()
