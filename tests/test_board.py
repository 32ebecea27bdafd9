"""The supervisor's board on a hand-built moment: each agent's load, each group's queue."""

from __future__ import annotations

import pytest
from workflow_helpers import COLLEAGUE, ME, NOW, conversation, reply, say

from agentdesk.config import KpiSettings, TimerSettings
from agentdesk.store import Store, writes
from agentdesk.workflow import kpi
from agentdesk.workflow.board import AgentLine, Board, QueueLine, board

TIMERS = TimerSettings()  # amber 30, red 100, late 180
DAY = NOW - 14.5 * 3600  # 00:00 of the anchor day


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "cache.sqlite")
    s.write(lambda c: c.executemany(
        "INSERT INTO agents (id, name, role, groups, status) VALUES (?, ?, ?, ?, ?)",
        [(ME, "小美", "agent", '["售前", "售后"]', "online"),
         (COLLEAGUE, "阿杰", "agent", '["客诉"]', "away"),
         ("a03", "小雨", "agent", "[]", "offline"), ("s01", "林姐", "supervisor", "[]", "online")],
    ))
    yield s
    s.close()


def scene(c) -> None:
    conversation(c, "m1", group="售前")
    say(c, "m1", "在吗", NOW - 50)
    conversation(c, "m2", group="售前")
    say(c, "m2", "在吗", NOW - 400)
    say(c, "m2", "人呢", NOW - 300)  # still waiting since the first
    conversation(c, "m3", group="售后")
    say(c, "m3", "退货", DAY + 9 * 3600)
    reply(c, "m3", DAY + 9 * 3600 + 60)  # open, answered: handled, not waiting
    conversation(c, "m4", group="售后")
    say(c, "m4", "谢谢", DAY + 10 * 3600)
    reply(c, "m4", DAY + 10 * 3600 + 5)
    writes.set_status(c, "m4", "resolved")  # handled today, no longer open

    conversation(c, "c1", group="客诉", assignee=COLLEAGUE)
    say(c, "c1", "投诉", NOW - 100)  # exactly red: "at least"
    conversation(c, "y1", group="售后", assignee=COLLEAGUE)
    say(c, "y1", "在吗", DAY - 600)
    reply(c, "y1", DAY - 500, agent=COLLEAGUE)  # yesterday: not today's
    reply(c, "y1", DAY + 100, agent=COLLEAGUE)  # today: handled today
    reply(c, "y1", DAY + 200, agent="a03", auto=True)  # a greeting is not handling
    reply(c, "y1", DAY + 300, agent="a03", state="failed")  # nor is a failed reply

    conversation(c, "u1", group="售前", assignee=None)
    say(c, "u1", "有货吗", NOW - 30)  # exactly amber
    conversation(c, "snoozed", group="售后", assignee=None)
    say(c, "snoozed", "在吗", NOW - 900)
    writes.set_status(c, "snoozed", "snoozed")
    conversation(c, "bot", group="售后", assignee=None, stage="bot")
    say(c, "bot", "在吗", NOW - 900)  # the shop bot is on it: nobody waits for a human


def test_board_on_a_hand_built_moment(store):
    store.write(scene)
    b = store.read(board, NOW, DAY, TIMERS)
    assert b == Board(
        agents=[
            AgentLine(ME, "小美", "online", ("售前", "售后"), open=3, waiting=2, longest_wait_since=NOW - 400,
                      handled_today=2),
            AgentLine(COLLEAGUE, "阿杰", "away", ("客诉",), open=2, waiting=1, longest_wait_since=NOW - 100,
                      handled_today=1),
            AgentLine("a03", "小雨", "offline", (), open=0, waiting=0, longest_wait_since=None, handled_today=0),
        ],
        queues=[
            QueueLine("售前", waiting=3, unassigned=1, longest_wait_since=NOW - 400, amber=3, red=1, late=1),
            QueueLine("售后", waiting=0, unassigned=0, longest_wait_since=None, amber=0, red=0, late=0),
            QueueLine("客诉", waiting=1, unassigned=0, longest_wait_since=NOW - 100, amber=1, red=1, late=0),
        ],
    )


def test_thresholds_follow_the_timer_settings(store):
    store.write(scene)
    strict = TimerSettings(amber_seconds=10, red_seconds=50, late_seconds=50)
    q = store.read(board, NOW, DAY, strict).queues[0]
    assert (q.amber, q.red, q.late) == (3, 2, 2)  # 50 s now counts red and late; 30 s only amber


def test_handled_today_matches_the_kpis(store, demo_store):
    store.write(scene)
    for s in (store, demo_store):
        b = s.read(board, NOW, DAY, TIMERS)
        r = s.read(kpi.compute, *kpi.today(NOW), KpiSettings())
        assert [(a.id, a.handled_today) for a in b.agents] == [(k.key, k.handled) for k in r.agents]
    assert sum(a.handled_today for a in demo_store.read(board, NOW, DAY, TIMERS).agents) > 10


def test_an_empty_cache_has_every_queue(tmp_path):
    s = Store(tmp_path / "empty.sqlite")
    try:
        b = s.read(board, NOW, DAY, TIMERS)
    finally:
        s.close()
    assert b.agents == [] and [q.group for q in b.queues] == ["售前", "售后", "客诉"]
    assert all(q.waiting == 0 and q.longest_wait_since is None for q in b.queues)


def test_queues_count_waiting_red_and_late_per_group(store):
    """(Moved from the old metrics.team_queue, which the board replaces.)"""
    def waits(c):
        for cid, group, waited in [
            ("p1", "售前", 10), ("p2", "售前", 120), ("p3", "售前", 400),
            ("s1", "售后", 100), ("k1", "客诉", 180),
        ]:
            conversation(c, cid, group=group, assignee=None)
            say(c, cid, "在吗", NOW - waited)
        conversation(c, "answered", group="客诉")
        say(c, "answered", "在吗", NOW - 900)
        reply(c, "answered", NOW - 800)

    store.write(waits)
    q = {line.group: (line.waiting, line.red, line.late) for line in store.read(board, NOW, DAY, TIMERS).queues}
    assert q == {"售前": (3, 2, 1), "售后": (1, 1, 0), "客诉": (1, 1, 1)}
