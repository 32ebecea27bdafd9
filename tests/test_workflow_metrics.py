"""My day and the team queue on a hand-built day; outreach audiences and paced sending."""

from __future__ import annotations

import pytest
from workflow_helpers import COLLEAGUE, ME, NOW, conversation, customer, outbox_rows, reply, say

from agentdesk.config import KpiSettings, TimerSettings
from agentdesk.store import Store, outbox, writes
from agentdesk.workflow import board, kpi, metrics, outreach

TIMERS = TimerSettings()  # amber 30, red 100, late 180
DAY = NOW - 14.5 * 3600  # 00:00 of the anchor day


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "cache.sqlite")
    yield s
    s.close()


def a_day(c) -> None:
    """Four responses of mine today (10, 100, 200, 30 s), plus things that must not count."""
    conversation(c, "a")
    say(c, "a", "在吗", DAY + 100)
    reply(c, "a", DAY + 110)  # 10 s
    say(c, "a", "L码有吗", DAY + 200)
    say(c, "a", "？", DAY + 205)
    reply(c, "a", DAY + 300)  # 100 s from the first message of the round
    reply(c, "a", DAY + 310)  # a second line: answers nothing new

    conversation(c, "b")
    say(c, "b", "发货了吗", DAY - 60)  # yesterday's round, answered today:
    reply(c, "b", DAY + 60)  # handled today, but a response of yesterday's

    conversation(c, "c")
    say(c, "c", "退款", DAY + 500)
    reply(c, "c", DAY + 520, auto=True)  # the greeting does not end the wait
    reply(c, "c", DAY + 700)  # 200 s: late

    conversation(c, "d", assignee=COLLEAGUE)
    say(c, "d", "你好", DAY + 1000)
    reply(c, "d", DAY + 1010, agent=COLLEAGUE)  # my colleague's response: d's first
    say(c, "d", "还有", DAY + 1100)
    reply(c, "d", DAY + 1130)  # 30 s: exactly amber, within it

    conversation(c, "yesterday")
    say(c, "yesterday", "在吗", DAY - 500)
    reply(c, "yesterday", DAY - 400)

    conversation(c, "failed")
    say(c, "failed", "在吗", DAY + 3000)
    reply(c, "failed", DAY + 3010, state="failed")  # never reached the customer

    conversation(c, "waiting")
    say(c, "waiting", "人呢", DAY + 4000)
    conversation(c, "theirs", assignee=COLLEAGUE)
    say(c, "theirs", "人呢", DAY + 4000)
    conversation(c, "done")
    say(c, "done", "好的", DAY + 4000)
    writes.set_status(c, "done", "resolved")


def test_my_day_on_a_hand_built_day(store):
    store.write(a_day)
    day = store.read(metrics.my_day, ME, DAY, DAY + 5000, TIMERS)
    assert day == metrics.MyDay(
        handled=4,  # a, b, c, d
        first_response_median=105.0,  # a's 10 s and c's 200 s; d's first response is my colleague's
        within_amber_share=0.5,  # 10 and 30 of [10, 100, 200, 30]
        within_late_share=0.75,  # all but 200
        waiting_now=1,  # "waiting"; "theirs" is my colleague's, "done" is resolved
        responses=4,
    )


def test_my_day_counts_only_up_to_now(store):
    store.write(a_day)
    day = store.read(metrics.my_day, ME, DAY, DAY + 150, TIMERS)
    assert (day.handled, day.responses, day.first_response_median) == (2, 1, 10.0)  # a and b; a's 10 s


def test_my_day_is_what_the_kpis_and_the_board_say_for_me(store):
    def agents(c):
        c.executemany("INSERT INTO agents (id, name, role) VALUES (?, ?, 'agent')",
                      [(ME, "小美"), (COLLEAGUE, "阿杰")])

    store.write(agents)
    store.write(a_day)
    day = store.read(metrics.my_day, ME, DAY, DAY + 5000, TIMERS)
    settings = KpiSettings(reply_within_seconds=TIMERS.amber_seconds)
    mine = store.read(kpi.compute, DAY, DAY + 5000, settings).agents[0]
    assert (day.handled, day.responses, day.first_response_median, day.within_amber_share) == (
        mine.handled, mine.answered, mine.first_response_median, mine.within_share
    )
    assert store.read(board.board, DAY + 5000, DAY, TIMERS).agents[0].handled_today == day.handled


def test_an_empty_day_has_no_median_or_shares(store):
    store.write(a_day)
    day = store.read(metrics.my_day, "a09", DAY, DAY + 5000, TIMERS)
    assert day == metrics.MyDay(0, None, None, None, 0, 0)


# --- outreach ------------------------------------------------------------------------------


@pytest.fixture
def shop(store):
    def scene(c):
        customer(c, "v5", "金牌买家", vip=5)
        customer(c, "v3", "老客户", vip=3)
        customer(c, "v3-out", "别打扰我", vip=3, opt_out=True)
        customer(c, "v1", "新客", vip=1)
        customer(c, "v0-out", "路人", vip=0, opt_out=True)
        for oid, cust, days_ago in [("o1", "v5", 40), ("o2", "v3", 5), ("o3", "v3-out", 2), ("o4", "v1", 1)]:
            c.execute(
                "INSERT INTO orders (id, customer_id, status, created_at) VALUES (?, ?, '已签收', ?)",
                [oid, cust, NOW - days_ago * 86400],
            )
        conversation(c, "k", customer_id="v1", group="客诉")
        conversation(c, "s", customer_id="v3", group="售后")

    store.write(scene)
    return store


@pytest.mark.parametrize(
    "aud, ids, opted_out",
    [
        (outreach.Audience(), ["v5", "v3", "v1"], 2),
        (outreach.Audience(vip_min=3), ["v5", "v3"], 1),
        (outreach.Audience(bought_within_days=7), ["v3", "v1"], 1),
        (outreach.Audience(bought_within_days=60, vip_min=4), ["v5"], 0),
        (outreach.Audience(group="客诉"), ["v1"], 0),
        (outreach.Audience(vip_min=9), [], 0),
    ],
)
def test_audience_excludes_opt_outs_and_counts_them(shop, aud, ids, opted_out):
    assert [r[0] for r in shop.read(outreach.audience, aud, NOW)] == ids
    found = shop.read(outreach.preview, aud, NOW, sample=2)
    assert (found.count, found.opted_out, found.waiting) == (len(ids), opted_out, 0)
    assert [r[0] for r in found.sample] == ids[:2]


def test_audience_rows_are_id_name_vip(shop):
    assert shop.read(outreach.audience, outreach.Audience(vip_min=5), NOW) == [("v5", "金牌买家", 5)]
    assert shop.read(outreach.audience, outreach.Audience(), NOW, limit=1) == [("v5", "金牌买家", 5)]


def test_send_queues_one_item_per_customer_spaced_by_the_rate(shop):
    n = shop.write(outreach.send, outreach.Audience(), "双十二老客专享券已发放～", "1212", NOW, 20)
    assert n == 3
    items = shop.read(outbox_rows)
    assert [(o["kind"], o["customer_id"], o["conversation_id"]) for o in items] == [
        ("outreach", "v5", None), ("outreach", "v3", None), ("outreach", "v1", None)
    ]
    assert all(o["payload"] == {"body": "双十二老客专享券已发放～", "campaign": "1212"} for o in items)
    assert [o["next_at"] - NOW for o in items] == [0.0, 3.0, 6.0]  # 20 a minute
    assert [o.customer_id for o in shop.read(outbox.due, NOW + 3)] == ["v5", "v3"]


def test_a_second_campaign_queues_after_the_first(shop):
    shop.write(outreach.send, outreach.Audience(vip_min=3), "第一波", "a", NOW, 20)  # at +0, +3
    shop.write(outreach.send, outreach.Audience(vip_min=5), "第二波", "b", NOW + 1, 20)
    assert [(o["payload"]["campaign"], o["next_at"] - NOW) for o in shop.read(outbox_rows)] == [
        ("a", 0.0), ("a", 3.0), ("b", 6.0)
    ]


def test_send_at_the_fastest_rate_and_to_nobody(shop):
    assert shop.write(outreach.send, outreach.Audience(vip_min=3), "hi", "c", NOW, 60) == 2
    assert [o["next_at"] - NOW for o in shop.read(outbox_rows)] == [0.0, 1.0]
    assert shop.write(outreach.send, outreach.Audience(vip_min=9), "hi", "c", NOW, 60) == 0


@pytest.mark.parametrize("body, rate", [("hi", 0), ("hi", 61), ("  ", 20)])
def test_send_refuses_bad_rates_and_empty_bodies(shop, body, rate):
    with pytest.raises(ValueError):
        shop.write(outreach.send, outreach.Audience(), body, "c", NOW, rate)
    assert shop.read(outbox_rows) == []
