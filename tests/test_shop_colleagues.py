"""The demo shop's simulated colleagues (``ShopState(colleagues=True)``), on a fake
clock stepped by hand: they come online and take breaks, claim, answer (FAQ answers
where one fits), hand complaints to 客诉, resolve, work with the simulated customers,
and do the same things every time for a seed. Without colleagues nothing happens."""

from __future__ import annotations

import random
import statistics

import pytest

from agentdesk.shop import colleagues as col
from agentdesk.shop.state import ShopState

from conftest import ANCHOR
from shop_helpers import Clock

AGENTS = ("a01", "a02", "a03", "a04")


@pytest.fixture
def clock():
    return Clock(ANCHOR)


@pytest.fixture
def make(tmp_path, clock):
    made = []

    def make(name: str = "shop.sqlite", **options) -> ShopState:
        options.setdefault("anchor", ANCHOR)
        options.setdefault("clock", clock)
        options.setdefault("colleagues", True)
        state = ShopState(tmp_path / name, **options)
        made.append(state)
        return state

    yield make
    for state in made:
        state.close()


def run(state: ShopState, clock: Clock, seconds: float, step: float = 2.0) -> None:
    end = clock.now + seconds
    while clock.now < end:
        clock.now += step
        state.tick()


def until(state: ShopState, clock: Clock, predicate, limit: float, step: float = 1.0) -> float:
    """Step the clock until ``predicate()``; the seconds it took (fails after ``limit``)."""
    start = clock.now
    while not predicate():
        assert clock.now - start <= limit, "not reached in time"
        clock.now += step
        state.tick()
    return clock.now - start


def conversation_of(state: ShopState, cid: str) -> dict:
    return state.conversation(cid)


def agent_lines(state: ShopState, cid: str) -> list[dict]:
    return [m for m in state.messages_of(cid) if m["sender"] == "agent"]


# -- presence ----------------------------------------------------------------------------------------


def test_they_come_online_and_one_takes_a_break_each_hour(make, clock):
    state = make()
    head = state.head
    state.tick()
    assert [state.presence(a) for a in AGENTS] == ["online"] * 4
    assert state.presence("s01") == "offline"  # the supervisor is nobody's colleague
    run(state, clock, 3 * 3600, step=10)
    flips = [(e["data"]["id"], e["data"]["status"], e["at"]) for e in state.events(head, 100_000)
             if e["type"] == "agent.status"]
    assert {s for _, s, _ in flips} == {"online", "away"}
    assert "offline" not in {s for _, s, _ in flips}  # they never fall silent
    breaks = [(aid, at) for aid, s, at in flips if s == "away"]
    assert 2 <= len(breaks) <= 4  # one an hour over three hours (a break may straddle the start)


def test_a_break_is_10_to_15_minutes_and_one_agent_at_a_time(make, clock):
    state = make()
    team = state.colleagues
    for hour in range(24):
        start = (int(ANCHOR // 3600) + hour) * 3600
        away = {a: sum(team.on_break(a, start + s) for s in range(0, 3600, 10)) * 10 for a in AGENTS}
        on = [a for a, seconds in away.items() if seconds]
        assert len(on) == 1, away
        assert 600 - 10 <= away[on[0]] <= 900 + 10
        assert all(sum(team.on_break(a, start + s) for a in AGENTS) <= 1 for s in range(0, 3600, 60))


# -- the work ----------------------------------------------------------------------------------------


def test_a_new_customer_is_claimed_answered_and_resolved(make, clock):
    state = make()
    run(state, clock, 900)  # the fixtures' backlog first
    said = state.say("来问尺码的新顾客", "你好 我想问下卫衣的尺码")
    cid = said["conversation_id"]
    assert conversation_of(state, cid)["stage"] == "queued"  # the bot could not help
    run(state, clock, 10, step=1)
    conv = conversation_of(state, cid)
    assert conv["assignee_id"] in ("a01", "a03") and conv["stage"] == "agent"  # 售前: 小美 or 小雨
    until(state, clock, lambda: agent_lines(state, cid), col.MAX_DELAY + 30)
    [reply] = agent_lines(state, cid)
    assert reply["agent_id"] == conv["assignee_id"] and not reply["auto"]
    assert reply["body"].removeprefix(col.SORRY_PREFIX) in col.REPLIES["售前"]
    assert conversation_of(state, cid)["status"] == "open"  # a question answered is not done yet …
    state.say(said["customer_id"], "发什么快递啊")  # … the customer goes on: an FAQ
    until(state, clock, lambda: len(agent_lines(state, cid)) == 2, col.MAX_DELAY + 30)
    faq = agent_lines(state, cid)[-1]
    assert faq["body"].removeprefix(col.SORRY_PREFIX) == state.bot.answer("发什么快递啊")
    quiet = until(state, clock, lambda: conversation_of(state, cid)["status"] == "resolved", col.QUIET[1] + 30)
    assert quiet >= col.QUIET[0] - 1  # … then goes quiet: resolved a few minutes later
    assert conversation_of(state, cid)["assignee_id"] == conv["assignee_id"]


def test_a_complaint_goes_to_the_complaint_group(make, clock):
    state = make()
    run(state, clock, 600)
    said = state.say("想买卫衣的顾客", "你好 卫衣燕麦色还有货吗")
    cid = said["conversation_id"]
    until(state, clock, lambda: agent_lines(state, cid), col.MAX_DELAY + 30)
    first = conversation_of(state, cid)["assignee_id"]
    assert first in ("a01", "a03")  # 售前 agents, not in 客诉
    state.say(said["customer_id"], "都三天了还没发货 再不处理我就投诉")
    assert conversation_of(state, cid)["group"] == "客诉"  # the shop moves it, as for anyone
    until(state, clock, lambda: len(agent_lines(state, cid)) == 2, col.MAX_DELAY + 30)
    apology = agent_lines(state, cid)[1]
    assert apology["agent_id"] == first and apology["body"].removeprefix(col.SORRY_PREFIX) in col.REPLIES["客诉"]

    def handoffs():
        return [m["meta"]["handoff"] for m in state.messages_of(cid) if (m["meta"] or {}).get("handoff")]

    until(state, clock, handoffs, 5)  # handed on at the next pass
    assert handoffs()[0]["to_group"] == "客诉" and handoffs()[0]["from"] == first
    # 老周, the one agent of 客诉, takes it over (after his break, if he is on one)
    until(state, clock, lambda: conversation_of(state, cid)["assignee_id"] == "a04", 900 + 60)
    conv = conversation_of(state, cid)
    assert conv["group"] == "客诉" and conv["priority"] == "high" and conv["stage"] == "agent"


def test_they_work_with_the_simulated_customers_within_bounds(make, clock):
    state = make(simulate=3.0)
    team = state.colleagues
    per_pass: list[int] = []
    real_tick = team.tick

    def counting(now):
        n = real_tick(now)
        per_pass.append(n)
        return n

    team.tick = counting
    head = state.head
    run(state, clock, 3600)
    assert max(per_pass) <= col.BURST
    assert team.claims > 20 and team.replies > 50 and team.resolved > 20
    events = state.events(head, 100_000)
    replies = [e["data"] for e in events if e["type"] == "message.created" and e["data"]["sender"] == "agent"]
    assert {r["agent_id"] for r in replies} == set(AGENTS)
    # Simulated customers answered the colleagues' replies: conversations that began this
    # hour went on for several rounds.
    rounds = {}
    for e in events:
        m = e["data"]
        if e["type"] == "message.created" and m["sender"] in ("customer", "agent"):
            rounds.setdefault(m["conversation_id"], []).append(m["sender"])
    assert sum(1 for senders in rounds.values() if senders.count("agent") >= 2 and senders.count("customer") >= 3) > 10
    # Nobody is left waiting for long at the end of the hour.
    open_now = state.query("SELECT count(*) FROM conversations WHERE status = 'open' AND stage = 'queued'")[0][0]
    assert open_now <= 10


def test_the_same_seed_and_clock_do_the_same_things(make, clock, tmp_path):
    def story(name: str) -> list[tuple]:
        clock.now = ANCHOR
        state = make(name, simulate=2.0, fault_seed=5)
        head = state.head
        run(state, clock, 1800, step=3)
        return [(e["type"], e["at"], e["data"]) for e in state.events(head, 100_000)]

    first = story("one.sqlite")
    assert len(first) > 100
    assert story("two.sqlite") == first
    assert story("three.sqlite") == first


def test_without_colleagues_nothing_happens(make, clock):
    state = make(colleagues=False)
    assert state.colleagues is None
    head = state.head
    run(state, clock, 1800, step=5)
    assert state.events(head, 100) == []
    assert [state.presence(a) for a in AGENTS] == ["offline"] * 4


# -- the pace -------------------------------------------------------------------------------------------


def test_reply_delays_look_like_a_real_team():
    rng = random.Random(1)
    delays = [col.reply_delay(rng) for _ in range(20_000)]
    assert 15 <= statistics.median(delays) <= 25
    assert 0.03 <= sum(d > 180 for d in delays) / len(delays) <= 0.12
    assert min(delays) >= 3 and max(delays) <= col.MAX_DELAY
    busy = [col.reply_delay(rng, busy=4) for _ in range(20_000)]
    assert statistics.median(busy) > 1.4 * statistics.median(delays)


def test_answers_pick_faq_greeting_thanks_and_stock_lines():
    rng = random.Random(2)
    assert col.answer_for(rng, "亲，默认发中通", "售前", ["发什么快递"], 10) == "亲，默认发中通"
    assert col.answer_for(rng, None, "售前", ["在吗"], 10) == col.GREETING_REPLY
    assert col.answer_for(rng, None, "售后", ["好的 谢谢"], 10) in col.THANKS
    assert col.answer_for(rng, None, "售后", ["快递一直不动"], 10) in col.REPLIES["售后"]
    assert col.answer_for(rng, "亲，默认发中通", "售前", ["我要投诉 发什么快递"], 10) in col.REPLIES["客诉"]
    assert col.answer_for(rng, None, "售前", ["在吗"], 200) == col.SORRY_PREFIX + col.GREETING_REPLY
    said = list(col.REPLIES["售前"][:-1])
    assert col.answer_for(rng, None, "售前", ["这款有货吗"], 10, avoid=said) == col.REPLIES["售前"][-1]
