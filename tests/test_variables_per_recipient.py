"""Variables are checked and filled per recipient: a ``{…}`` that is no variable (the
typo ``{customer.nam}``) blocks a reply and an outreach with its name shown; outreach
fills each customer's own values, never goes into a conversation where the customer is
waiting, and is no reply for the KPIs."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest

from agentdesk.config import Settings, TimerSettings
from agentdesk.store import inbox, outbox, thread
from agentdesk.store.inbox import InboxFilter
from agentdesk.ui.screens.handoff import HandoffScreen
from agentdesk.ui.screens.outreach import OutreachRequest, OutreachScreen
from agentdesk.ui.widgets.composer import Composer
from agentdesk.workflow import kpi, metrics, outreach

from conftest import ANCHOR, burst, make_app, screen_text, until
from test_shop_workflow import shop, synced  # noqa: F401 (fixtures: the reference shop, a synced cache)
from test_workstation import SIZE, open_first, settle
from workflow_helpers import conversation, customer, say

NOW = ANCHOR


def shop_bodies(shop_app, customer_id: str) -> list[str]:
    return [r[0] for r in shop_app.state.shop.conn.execute(
        "SELECT m.body FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        "WHERE c.customer_id = ? AND m.meta LIKE '%outreach%' ORDER BY m.seq", [customer_id])]


# -- replies ------------------------------------------------------------------------------------


async def test_a_typo_variable_blocks_the_reply_with_its_name(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        row = await open_first(pilot, app)
        before = demo_store.read(thread.latest, row.id, 1)[0].id
        burst(app, "{customer.nam}您好\r")
        await until(pilot, lambda: not app.keys_pending, "the keys")
        await settle(pilot, app)
        composer = app.query_one(Composer)
        assert composer.text == "{customer.nam}您好"  # kept, not sent
        assert "{customer.nam}" in str(composer.border_subtitle) and composer.has_class("-unfilled")
        assert demo_store.read(thread.latest, row.id, 1)[0].id == before
        # A note never reaches the customer: braces are fine there.
        await pilot.press("alt+n", "enter")
        await settle(pilot, app)
        assert demo_store.read(thread.latest, row.id, 1)[0].body == "{customer.nam}您好"


async def test_the_handoff_message_refuses_a_variable_it_cannot_fill(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_first(pilot, app)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, HandoffScreen), "the transfer screen")
        screen = app.screen
        screen.query_one("#handoff-message").value = "已转给{to}，{customer.name}稍等"
        screen._choose(0)
        screen.query_one("#handoff-note").text = "客户要退款"
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert isinstance(app.screen, HandoffScreen)  # not transferred
        assert screen.query_one("#handoff-error").display
        assert "{customer.name} 不会被填写" in screen_text(app)


# -- outreach: the audience and each customer's copy ------------------------------------------


@pytest.fixture
def people(store):
    def scene(c):
        customer(c, "v5", "金牌买家", vip=5)
        customer(c, "v4", "等回复的", vip=4)
        customer(c, "v3", "老客户", vip=3)
        customer(c, "v3-out", "别打扰我", vip=3, opt_out=True)
        c.execute("INSERT INTO orders (id, customer_id, status, tracking_no, created_at) "
                  "VALUES ('o5', 'v5', '已发货', 'SF100', ?)", [NOW - 86400])
        conversation(c, "w", customer_id="v4")
        say(c, "w", "在吗？我的快递到哪了", NOW - 50)  # waiting for an answer now
        conversation(c, "k", customer_id="v3", status="resolved")

    store.write(scene)
    return store


@pytest.fixture
def store(tmp_path):
    from agentdesk.store import Store

    s = Store(tmp_path / "cache.sqlite")
    yield s
    s.close()


SENDER = outreach.Sender("小美", "拾光生活旗舰店", date(2026, 11, 20))


def test_the_preview_leaves_out_who_waits_and_counts_who_lacks_a_value(people):
    found = people.read(outreach.preview, outreach.Audience(), NOW, body="{customer.name}，您的{order.tracking_no}",
                        sender=SENDER)
    assert (found.count, found.opted_out, found.waiting) == (2, 1, 1)
    assert [r[0] for r in found.sample] == ["v5", "v3"]
    assert found.unfilled == {"order.tracking_no": 1}  # 老客户 has no order


def test_each_customer_gets_their_own_values(people):
    n = people.write(outreach.send, outreach.Audience(), "亲爱的{customer.name}（V{customer.vip_level}），"
                     "{shop.name}的{agent.name}祝您节日快乐 {today}", "", NOW, 20, SENDER)
    assert n == 2
    items = people.read(outbox.due, NOW + 100)
    assert [(i.customer_id, i.payload) for i in items] == [
        ("v5", {"body": "亲爱的金牌买家（V5），拾光生活旗舰店的小美祝您节日快乐 2026-11-20"}),
        ("v3", {"body": "亲爱的老客户（V3），拾光生活旗舰店的小美祝您节日快乐 2026-11-20"}),
    ]  # no campaign name: no campaign field (the shop refuses an empty one)


@pytest.mark.parametrize("body, names, customers", [
    ("{customer.nam}记得领取哦~", ["customer.nam"], 0),
    ("您的单号{order.tracking_no}", ["order.tracking_no"], 1),
])
def test_a_copy_that_would_keep_a_brace_queues_nothing(people, body, names, customers):
    with pytest.raises(outreach.Unfilled) as refused:
        people.write(outreach.send, outreach.Audience(), body, "双十二", NOW, 20, SENDER)
    assert (refused.value.names, refused.value.customers) == (names, customers)
    assert people.read(outbox.pending_count) == 0


async def test_outreach_screen_refuses_a_typo_and_a_variable_someone_lacks():
    from agentdesk.i18n import Catalog
    from test_workflow_screens import Host

    asked = []

    class OutreachHost(Host):
        def on_outreach_screen_audience_requested(self, event: OutreachScreen.AudienceRequested) -> None:
            asked.append(event.body)
            unfilled = {"order.id": 2} if "{order.id}" in event.body else {}
            event.outreach.show_audience(5, 0, [("金牌买家", 5)], request=event, waiting=1, unfilled=unfilled)

    app = OutreachHost(OutreachScreen(Catalog("zh"), debounce=0.01))
    async with app.run_test(size=(100, 40)) as pilot:
        screen = app.screen
        body = screen.query_one("#outreach-body")
        body.text = "{customer.nam}记得领取哦~"
        await until(pilot, lambda: screen.audience is not None, "the audience")
        await pilot.press("ctrl+s")
        error = screen.query_one("#outreach-error")
        assert error.display and "{customer.nam} 不是变量" in screen_text(app) and not screen.confirming
        body.text = "您的订单{order.id}已发货"
        await until(pilot, lambda: screen.audience is not None and screen.audience.unfilled, "asked again")
        assert asked[-1] == "您的订单{order.id}已发货"
        await pilot.pause()
        text = screen_text(app)
        assert "2 位客户没有 {order.id} 的值" in text and "1 位正在等待回复" in text
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "缺少 {order.id} 的值" in screen_text(app) and not screen.confirming
        body.text = "亲爱的{customer.name}，活动开始啦"
        await until(pilot, lambda: screen.audience is not None and not screen.audience.unfilled, "asked again")
        await pilot.press("ctrl+s", "ctrl+s")
        await settle(pilot, app)
    assert app.result == OutreachRequest(0, None, "", "亲爱的{customer.name}，活动开始啦")


async def test_outreach_through_the_shop_fills_each_copy_skips_the_waiting_and_counts_as_no_reply(synced, shop):  # noqa: F811
    store, engine, seen = synced
    now = time.time()
    day = kpi.day_start(now)
    timers = TimerSettings()
    waiting_before = {r.id: r.waiting_since for r in store.read(
        inbox.first_page, InboxFilter(tab="all", status="open"), 500) if r.waiting_since is not None}
    handled_before = store.read(kpi.compute, day, now + 3600, Settings().kpi).team.handled
    my_day_before = store.read(metrics.my_day, "a01", day, now + 3600, timers).handled
    audience = outreach.Audience(vip_min=4, me="a01")
    found = store.read(outreach.preview, audience, now)
    assert found.waiting >= 1 and found.count >= 1
    assert found.theirs >= 1  # a colleague's open conversation is theirs to write to (409 owned_by_other)
    n = store.write(outreach.send, audience, "亲爱的{customer.name}，双十二老客专享券已发放～", "双十二", now, 60,
                    outreach.Sender("小美", "拾光生活旗舰店"))
    assert n == found.count
    engine.clock = lambda: now + 120  # every copy due
    assert await engine.flush_outbox() == n
    await engine.catch_up()
    recipients = [r[0] for r in store.read(outreach.audience, audience, now)]
    for cid in recipients:
        name = store.read(lambda c: c.execute("SELECT name FROM customers WHERE id = ?", [cid]).fetchone()[0])
        assert shop_bodies(shop, cid) == [f"亲爱的{name}，双十二老客专享券已发放～"]
    everything = [r[0] for r in shop.state.shop.conn.execute("SELECT body FROM messages WHERE meta LIKE '%outreach%'")]
    assert len(everything) == n and not any("{" in b for b in everything)
    # Nobody who waited got it, and everybody still waits exactly as long.
    waiting_customers = store.read(lambda c: [r[0] for r in c.execute(
        "SELECT DISTINCT customer_id FROM conversations WHERE waiting_since IS NOT NULL")])
    assert not any(shop_bodies(shop, cid) for cid in waiting_customers)
    waiting_after = {r.id: r.waiting_since for r in store.read(
        inbox.first_page, InboxFilter(tab="all", status="open"), 500) if r.waiting_since is not None}
    assert waiting_after == waiting_before
    # A campaign answers nobody: handled, first responses and my day do not move.
    assert store.read(kpi.compute, day, now + 3600, Settings().kpi).team.handled == handled_before
    assert store.read(metrics.my_day, "a01", day, now + 3600, timers).handled == my_day_before
    stored = store.read(lambda c: c.execute(
        "SELECT DISTINCT auto, meta FROM messages WHERE body LIKE '%专享券%'").fetchall())
    assert stored == [(1, json.dumps({"outreach": True, "campaign": "双十二"}, ensure_ascii=False))]
