"""The supervisor's KPIs on hand-written timelines, every number worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from workflow_helpers import ME, NOW, conversation, reply, say

from agentdesk.config import KpiSettings
from agentdesk.store import Store, writes
from agentdesk.workflow import kpi

COLLEAGUE = "a02"
SUPERVISOR = "s01"
SETTINGS = KpiSettings()  # 08:00-23:00, within 30 s
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = NOW - 14.5 * 3600  # 2026-11-20 00:00 Asia/Shanghai
H = 3600.0


def at(hh: int, mm: int = 0, ss: float = 0, day: float = DAY) -> float:
    return day + hh * H + mm * 60 + ss


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "cache.sqlite")
    s.write(lambda c: c.executemany(
        "INSERT INTO agents (id, name, role, groups) VALUES (?, ?, ?, '[]')",
        [(ME, "小美", "agent"), (COLLEAGUE, "阿杰", "agent"), ("a03", "小雨", "agent"),
         (SUPERVISOR, "林姐", "supervisor")],
    ))
    yield s
    s.close()


def other(c, cid: str, sender: str, when: float) -> None:
    writes.add_message(c, cid, sender, f"({sender})", when)


def report(store, start: float, end: float, settings: KpiSettings = SETTINGS, tz=None) -> kpi.KpiReport:
    return store.read(kpi.compute, start, end, settings, tz)


def agent(r: kpi.KpiReport, aid: str) -> kpi.Kpi:
    return next(k for k in r.agents if k.key == aid)


def group(r: kpi.KpiReport, name: str) -> kpi.Kpi:
    return next(k for k in r.groups if k.key == name)


def counts(k: kpi.Kpi) -> tuple:
    return (k.handled, k.conversations, k.rounds, k.answered, k.first_response_median)


# --- rounds ---------------------------------------------------------------------------------


def test_a_round_open_at_the_window_start_belongs_to_the_earlier_window(store):
    def scene(c):
        conversation(c, "a")
        say(c, "a", "在吗", DAY - 60)  # yesterday 23:59
        say(c, "a", "？？", DAY + 10)  # the same round, continued today
        reply(c, "a", DAY + 30)  # answers yesterday's round: 90 s

    store.write(scene)
    today = report(store, DAY, DAY + H)
    assert counts(today.team) == (1, 1, 0, 0, None)  # handled today, but no round today
    yesterday = report(store, DAY - 86400, DAY)
    assert counts(yesterday.team) == (0, 1, 1, 1, 90.0)  # the round and its answer, after midnight
    assert yesterday.team.within_share == 0.0


def test_a_day_crossing_midnight(store):
    """23:59 → 00:01: day one has the round (120 s, answered by the next day's reply),
    day two has the handled conversation and nothing else."""
    def scene(c):
        conversation(c, "late")
        say(c, "late", "还在吗", DAY - 60)
        reply(c, "late", DAY + 60)

    store.write(scene)
    d1 = report(store, DAY - 86400, DAY)
    d2 = report(store, DAY, DAY + 86400)
    assert (d1.team.rounds, d1.team.answered, d1.team.first_response_median, d1.team.handled) == (1, 1, 120.0, 0)
    assert (d2.team.rounds, d2.team.answered, d2.team.first_response_median, d2.team.handled) == (0, 0, None, 1)
    assert d1.team.business_rounds == 0  # 23:59 is outside 08:00-23:00
    assert agent(d1, ME).answered == 1 and agent(d2, ME).handled == 1
    both = report(store, DAY - 86400, DAY + 86400)
    assert (both.team.rounds, both.team.handled) == (1, 1)


def test_whether_a_round_is_open_is_read_exactly_however_far_back(store):
    def scene(c):
        conversation(c, "old-open")  # asked five days ago, never answered since
        say(c, "old-open", "在吗", DAY - 5 * 86400)
        reply(c, "old-open", DAY + 100)  # closes that old round: not today's
        say(c, "old-open", "好的", DAY + 200)
        reply(c, "old-open", DAY + 220)  # today's round: 20 s

        conversation(c, "old-closed")  # answered five days ago: today's message is a new round
        say(c, "old-closed", "在吗", DAY - 5 * 86400)
        reply(c, "old-closed", DAY - 5 * 86400 + 10)
        say(c, "old-closed", "又有问题", DAY + 50)
        reply(c, "old-closed", DAY + 80)  # 30 s

        conversation(c, "no-answer-before")  # only bots, greetings, failures and notes before midnight
        say(c, "no-answer-before", "人呢", DAY - 100)
        other(c, "no-answer-before", "bot", DAY - 90)
        reply(c, "no-answer-before", DAY - 80, auto=True)
        reply(c, "no-answer-before", DAY - 70, state="failed")
        other(c, "no-answer-before", "note", DAY - 60)
        other(c, "no-answer-before", "system", DAY - 50)
        reply(c, "no-answer-before", DAY + 5)  # closes yesterday's round

    store.write(scene)
    r = report(store, DAY, DAY + H)
    assert (r.team.rounds, r.team.answered, r.team.handled) == (2, 2, 3)
    assert (r.team.first_response_median, r.team.first_response_p90) == (25.0, 30.0)
    assert r.team.within_share == 1.0


def test_greetings_bots_failures_and_notes_do_not_end_a_round(store):
    def scene(c):
        conversation(c, "a")
        say(c, "a", "退款进度", at(10))
        reply(c, "a", at(10, 0, 10), auto=True)  # the automatic greeting
        other(c, "a", "bot", at(10, 0, 20))
        reply(c, "a", at(10, 0, 30), state="failed")  # never reached the customer
        other(c, "a", "system", at(10, 0, 35))
        other(c, "a", "note", at(10, 0, 40))
        reply(c, "a", at(10, 1))  # the human answer: 60 s
        reply(c, "a", at(10, 1, 5))  # a second line answers nothing new

        conversation(c, "never")  # a greeting and a failed reply only: nobody handled it
        say(c, "never", "在吗", at(10))
        reply(c, "never", at(10, 0, 20), auto=True)
        reply(c, "never", at(10, 0, 40), state="failed")

    store.write(scene)
    r = report(store, DAY, at(12))
    t = r.team
    assert (t.handled, t.conversations, t.rounds, t.answered) == (1, 2, 2, 1)
    assert (t.first_response_median, t.within_share) == (60.0, 0.0)
    assert (t.business_rounds, t.response_rate_3min) == (2, 0.5)  # 60 s met; "never" waited 2 h
    assert agent(r, ME).handled == 1


def test_a_pending_reply_counts_it_is_on_its_way(store):
    def scene(c):
        conversation(c, "a")
        say(c, "a", "在吗", at(9))
        reply(c, "a", at(9, 0, 12), state="pending")

    store.write(scene)
    t = report(store, DAY, at(10)).team
    assert (t.handled, t.answered, t.first_response_median) == (1, 1, 12.0)


# --- the 3-minute rate and business hours ---------------------------------------------------


def test_business_hours_edges_and_the_three_minute_limit(store):
    starts = [  # (conversation, round start, response time)
        ("early", at(7, 59, 59), 10), ("open", at(8), 10), ("slow", at(12), 181), ("limit", at(12, 30), 180),
        ("last", at(22, 59, 59), 10), ("closed", at(23), 10),
    ]

    def scene(c):
        for cid, start, rt in starts:
            conversation(c, cid)
            say(c, cid, "在吗", start)
            reply(c, cid, start + rt)

    store.write(scene)
    t = report(store, DAY, DAY + 86400).team
    assert (t.rounds, t.answered) == (6, 6)
    # 08:00:00, 12:00, 12:30 and 22:59:59 are business hours; 180 s is in time, 181 s is not.
    assert (t.business_rounds, t.response_rate_3min) == (4, 0.75)
    assert t.within_share == pytest.approx(4 / 6)
    assert (t.first_response_median, t.first_response_p90) == (10.0, 181.0)  # [10,10,10,10,180,181]


def test_unanswered_rounds_count_once_they_have_waited_past_three_minutes(store):
    end = at(12)

    def scene(c):
        for cid, waited in [("w179", 179), ("w180", 180), ("w181", 181), ("w3600", 3600)]:
            conversation(c, cid, assignee=None)
            say(c, cid, "在吗", end - waited)
        conversation(c, "ok")
        say(c, "ok", "在吗", end - 1000)
        reply(c, "ok", end - 970)  # 30 s

    store.write(scene)
    t = report(store, DAY, end).team
    assert (t.rounds, t.answered) == (5, 1)
    # Counted: "ok" (met), w181 and w3600 (missed); w179 and w180 could still be answered in time.
    assert (t.business_rounds, t.response_rate_3min) == (3, pytest.approx(1 / 3))
    # The unanswered rounds are nobody's: the conversations are unassigned.
    assert [(a.key, a.rounds, a.business_rounds) for a in report(store, DAY, end).agents] == [
        (ME, 1, 1), (COLLEAGUE, 0, 0), ("a03", 0, 0)
    ]


def test_a_round_open_at_the_window_end_is_answered_by_a_later_reply(store):
    end = at(12)

    def scene(c):
        conversation(c, "a")
        say(c, "a", "在吗", end - 100)
        reply(c, "a", end + 50, agent=COLLEAGUE)  # 150 s, after the window: still this window's round

    store.write(scene)
    r = report(store, DAY, end)
    assert (r.team.rounds, r.team.answered, r.team.first_response_median, r.team.handled) == (1, 1, 150.0, 0)
    assert (r.team.business_rounds, r.team.response_rate_3min) == (1, 1.0)
    assert agent(r, COLLEAGUE).answered == 1 and agent(r, ME).rounds == 0  # the responder, not the assignee


@pytest.mark.parametrize("hours, inside, outside", [
    ("08:00-23:00", ["08:00:00", "22:59:59"], ["07:59:59", "23:00:00", "00:00:00"]),
    ("22:00-02:00", ["22:00:00", "23:59:59", "00:00:00", "01:59:59"], ["02:00:00", "21:59:59", "12:00:00"]),
    ("00:00-24:00", ["00:00:00", "12:00:00", "23:59:59"], []),
])
def test_business_hours_on_the_local_clock(hours, inside, outside):
    span = KpiSettings(business_hours=hours).hours()

    def local(hms: str) -> float:
        h, m, s = map(int, hms.split(":"))
        return at(h, m, s)

    assert [kpi.in_hours(local(t), span, SHANGHAI) for t in inside] == [True] * len(inside)
    assert [kpi.in_hours(local(t), span, SHANGHAI) for t in outside] == [False] * len(outside)
    # The same instant is another hour in another zone: 08:00 in Shanghai is 00:00 UTC.
    assert kpi.in_hours(at(8), KpiSettings().hours(), UTC) is False


# --- first response times -----------------------------------------------------------------------


@pytest.mark.parametrize("n, median, p90", [(10, 55.0, 90.0), (11, 60.0, 100.0), (1, 10.0, 10.0), (2, 15.0, 20.0)])
def test_p90_is_the_nearest_rank(store, n, median, p90):
    def scene(c):
        for i in range(n):  # response times 10, 20, … 10n s, one conversation each
            conversation(c, f"c{i}")
            say(c, f"c{i}", "在吗", at(9, i))
            reply(c, f"c{i}", at(9, i) + 10 * (i + 1))

    store.write(scene)
    t = report(store, DAY, at(10)).team
    assert (t.answered, t.first_response_median, t.first_response_p90) == (n, median, p90)


def test_nearest_rank():
    assert kpi.nearest_rank(list(range(1, 11)), 90) == 9  # ⌈9.0⌉
    assert kpi.nearest_rank(list(range(1, 12)), 90) == 10  # ⌈9.9⌉
    assert kpi.nearest_rank([5.0, 1.0, 3.0], 90) == 5.0
    assert kpi.nearest_rank([7.0], 90) == 7.0


def test_first_response_is_each_conversations_first_answered_round(store):
    def scene(c):
        conversation(c, "a")
        say(c, "a", "在吗", at(9))
        reply(c, "a", at(9, 1))  # 60 s: the FRT
        say(c, "a", "还有", at(9, 10))
        reply(c, "a", at(9, 10, 5))  # 5 s: a round, not a first response

        conversation(c, "b")
        say(c, "b", "在吗", at(9))  # unanswered: no FRT
        conversation(c, "c")
        say(c, "c", "在吗", at(8, 50))  # the first round is never answered…
        other(c, "c", "bot", at(8, 51))
        say(c, "c", "人呢", at(8, 52))  # (the same round)
        reply(c, "c", at(9))  # …until 600 s after its start: c's FRT

    store.write(scene)
    t = report(store, DAY, at(10)).team
    assert (t.rounds, t.answered) == (4, 3)
    assert (t.first_response_median, t.first_response_p90) == (330.0, 600.0)  # over [60, 600]
    assert t.within_share == pytest.approx(1 / 3)  # 5 s of [60, 5, 600]


# --- who gets what ------------------------------------------------------------------------------


def test_attribution_per_agent_group_and_team(store):
    def scene(c):
        conversation(c, "p1", group="售前", assignee=ME)
        say(c, "p1", "在吗", at(9))
        reply(c, "p1", at(9, 0, 20))  # mine: 20 s, p1's FRT
        say(c, "p1", "能便宜点吗", at(9, 10))
        reply(c, "p1", at(9, 11), agent=COLLEAGUE)  # my colleague's: 60 s
        writes.set_status(c, "p1", "resolved")

        conversation(c, "s1", group="售后", assignee=COLLEAGUE)
        say(c, "s1", "退货", at(10))
        reply(c, "s1", at(10, 4), agent=COLLEAGUE)  # 240 s: late

        conversation(c, "k1", group="客诉", assignee=ME)  # a complaint by its group
        say(c, "k1", "我要投诉", at(11))  # unanswered for an hour: mine, as the assignee

        conversation(c, "u1", group="售前", assignee=None)
        say(c, "u1", "在吗", at(11, 30))  # unanswered and unassigned: team and group only

        conversation(c, "sup", group="售后", assignee=COLLEAGUE)
        say(c, "sup", "差评！！！", at(9, 30))
        reply(c, "sup", at(9, 30, 10), agent=SUPERVISOR)  # 10 s by the supervisor: not an agent's
        c.execute("UPDATE conversations SET complaint = 1 WHERE id = 'sup'")  # flagged by triage

        conversation(c, "idle")  # active only before the window
        say(c, "idle", "在吗", DAY - H)
        reply(c, "idle", DAY - H + 20)

    store.write(scene)
    r = report(store, DAY, at(12))
    K = kpi.Kpi
    assert r.team == K("team", "", "", handled=3, conversations=5, rounds=6, answered=4,
                       first_response_median=20.0, first_response_p90=240.0, within_share=0.5,
                       business_rounds=6, response_rate_3min=0.5, resolution_rate=pytest.approx(1 / 3),
                       complaints=2, complaint_rate=0.4)
    assert r.agents == [
        K("agent", ME, "小美", handled=1, conversations=1, rounds=2, answered=1,
          first_response_median=20.0, first_response_p90=20.0, within_share=1.0,
          business_rounds=2, response_rate_3min=0.5, resolution_rate=1.0, complaints=0, complaint_rate=0.0),
        K("agent", COLLEAGUE, "阿杰", handled=2, conversations=2, rounds=2, answered=2,
          first_response_median=240.0, first_response_p90=240.0, within_share=0.0,
          business_rounds=2, response_rate_3min=0.5, resolution_rate=0.5, complaints=0, complaint_rate=0.0),
        K("agent", "a03", "小雨", 0, 0, 0, 0, None, None, None, 0, None, None, 0, None),  # zero rows too
    ]
    assert r.groups == [
        K("group", "售前", "售前", handled=1, conversations=2, rounds=3, answered=2,
          first_response_median=20.0, first_response_p90=20.0, within_share=0.5,
          business_rounds=3, response_rate_3min=pytest.approx(2 / 3), resolution_rate=1.0,
          complaints=0, complaint_rate=0.0),
        K("group", "售后", "售后", handled=2, conversations=2, rounds=2, answered=2,
          first_response_median=125.0, first_response_p90=240.0, within_share=0.5,
          business_rounds=2, response_rate_3min=0.5, resolution_rate=0.0, complaints=1, complaint_rate=0.5),
        K("group", "客诉", "客诉", handled=0, conversations=1, rounds=1, answered=0,
          first_response_median=None, first_response_p90=None, within_share=None,
          business_rounds=1, response_rate_3min=0.0, resolution_rate=None, complaints=1, complaint_rate=1.0),
    ]
    assert (r.start, r.end) == (DAY, at(12))


def test_handled_without_a_customer_message_in_the_window(store):
    """A reply today to yesterday's question is handled today, but the conversation had
    no customer message today: it is not in today's complaint denominator."""
    def scene(c):
        conversation(c, "y", group="客诉")
        say(c, "y", "投诉", DAY - 300)
        reply(c, "y", DAY + 10)
        writes.set_status(c, "y", "resolved")

    store.write(scene)
    t = report(store, DAY, at(1)).team
    assert (t.handled, t.resolution_rate, t.conversations, t.complaints, t.complaint_rate) == (1, 1.0, 0, 0, None)


def test_an_empty_window_has_zeros_and_no_rates(store):
    t = report(store, DAY, at(12)).team
    assert t == kpi.Kpi("team", "", "", 0, 0, 0, 0, None, None, None, 0, None, None, 0, None)


def test_rounds_add_up_over_consecutive_days(demo_store):
    """Rounds belong to the day they start in, so days add up to the week."""
    bounds = [DAY - k * 86400 for k in range(6, -1, -1)] + [NOW]  # no daylight saving in Shanghai
    parts = [demo_store.read(kpi.compute, a, b, SETTINGS) for a, b in zip(bounds, bounds[1:])]
    week = demo_store.read(kpi.compute, *kpi.last_days(NOW), SETTINGS)
    for field in ("rounds", "answered", "business_rounds"):
        assert sum(getattr(p.team, field) for p in parts) == getattr(week.team, field), field
        for i in range(len(week.agents)):
            assert sum(getattr(p.agents[i], field) for p in parts) == getattr(week.agents[i], field)
    assert week.team.rounds > 50  # the demo has a week of traffic


def test_compute_reads_through_indexes_only_and_in_one_transaction(store):
    plans = []
    for sql in (kpi._CONVERSATIONS, kpi._MESSAGES, kpi._HANDLED):
        plans += [r[3] for r in store.read(lambda c, s=sql: c.execute(
            "EXPLAIN QUERY PLAN " + s, {"start": DAY, "end": NOW, "complaint_group": "客诉"}).fetchall())]
    plans += [r[3] for r in store.read(
        lambda c: c.execute("EXPLAIN QUERY PLAN " + kpi._NEXT_REPLY, ["a", NOW]).fetchall())]
    scans = [p for p in plans if p.startswith("SCAN") and p != "SCAN t"]  # t: the touched ids
    assert scans == []

    statements = []
    with store.reading() as conn:
        conn.set_trace_callback(statements.append)
        try:
            kpi.compute(conn, DAY, NOW, SETTINGS)
        finally:
            conn.set_trace_callback(None)
        assert not conn.in_transaction
    assert statements[0] == "BEGIN" and statements[-1] == "ROLLBACK"


def test_compute_inside_the_callers_transaction_leaves_it_open(store):
    def inside(conn):
        kpi.compute(conn, DAY, NOW, SETTINGS)
        return conn.in_transaction

    assert store.write(inside) is True


# --- windows ------------------------------------------------------------------------------------


def test_day_start_today_and_last_days_in_shanghai():
    assert kpi.day_start(NOW) == DAY == kpi.day_start(NOW, SHANGHAI)
    assert kpi.day_start(DAY) == DAY and kpi.day_start(DAY - 1) == DAY - 86400
    assert kpi.today(NOW) == (DAY, NOW)
    assert kpi.last_days(NOW) == (DAY - 6 * 86400, NOW)
    assert kpi.last_days(NOW, days=1, tz=SHANGHAI) == (DAY, NOW)


def test_day_start_across_daylight_saving():
    ny = ZoneInfo("America/New_York")  # 2026-03-08 02:00 EST → 03:00 EDT
    noon = datetime(2026, 3, 8, 12, tzinfo=ny).timestamp()
    assert kpi.day_start(noon, ny) == datetime(2026, 3, 8, 5, tzinfo=UTC).timestamp()  # 00:00 EST
    nxt = datetime(2026, 3, 9, 12, tzinfo=ny).timestamp()
    assert kpi.day_start(nxt, ny) == datetime(2026, 3, 9, 4, tzinfo=UTC).timestamp()  # 00:00 EDT
    assert kpi.last_days(nxt, days=2, tz=ny)[0] == kpi.day_start(noon, ny)  # a 23-hour day back
    santiago = ZoneInfo("America/Santiago")  # 2026-09-06 has no midnight: 00:00 → 01:00
    noon = datetime(2026, 9, 6, 12, tzinfo=santiago).timestamp()
    start = kpi.day_start(noon, santiago)
    assert start == datetime(2026, 9, 6, 4, tzinfo=UTC).timestamp()
    assert datetime.fromtimestamp(start, santiago).strftime("%m-%d %H:%M") == "09-06 01:00"


# --- targets ------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric, value, expected", [
    ("first_response_median", 30.0, True), ("first_response_median", 30.5, False),
    ("first_response_p90", 180.0, True), ("first_response_p90", 181.0, False),
    ("within_share", 0.8, True), ("within_share", 0.79, False),
    ("response_rate_3min", 0.8, True), ("response_rate_3min", 0.7999, False),
    ("resolution_rate", 0.98, True), ("resolution_rate", 0.975, False),
    ("complaint_rate", 0.0199, True), ("complaint_rate", 0.02, False),  # must stay below
    ("complaint_rate", None, None), ("handled", 3, None), ("rounds", 0, None),
])
def test_verdict(metric, value, expected):
    assert kpi.verdict(metric, value, SETTINGS) is expected


def test_verdict_follows_the_configured_targets():
    strict = replace(SETTINGS, first_response_median_seconds=10, complaint_rate=0.5)
    assert kpi.verdict("first_response_median", 20.0, strict) is False
    assert kpi.verdict("complaint_rate", 0.4, strict) is True


def test_within_share_follows_reply_within_seconds(store):
    def scene(c):
        for i, rt in enumerate([5, 30, 31, 60]):
            conversation(c, f"c{i}")
            say(c, f"c{i}", "在吗", at(9, i))
            reply(c, f"c{i}", at(9, i) + rt)

    store.write(scene)
    assert report(store, DAY, at(10)).team.within_share == 0.5
    assert report(store, DAY, at(10), replace(SETTINGS, reply_within_seconds=60)).team.within_share == 1.0
    late = replace(SETTINGS, business_hours="10:00-23:00")
    assert report(store, DAY, at(10), late).team.business_rounds == 0


# --- traffic ------------------------------------------------------------------------------------


def test_traffic_today_against_the_last_seven_days(store):
    def scene(c):
        conversation(c, "a")
        for when in (at(9, 10), at(9, 50), at(14)):  # today, before now (14:30)
            say(c, "a", "在吗", when)
        reply(c, "a", at(9, 20))  # agents' lines are not traffic
        conversation(c, "b")
        for _ in range(7):
            say(c, "b", "在吗", at(9, 30, day=DAY - 86400))  # yesterday 09:30
        say(c, "b", "在吗", at(23, 59, 59, day=DAY - 7 * 86400))  # a week ago, last second
        say(c, "b", "太早了", at(10, day=DAY - 8 * 86400))  # before the seven days
        say(c, "b", "迟到", at(0, 0, 0) - 0.001)  # yesterday's last instant
        say(c, "b", "以后", NOW + 60)  # after now: not counted

    store.write(scene)
    t = store.read(kpi.traffic, NOW)
    assert t.today == [0] * 9 + [2] + [0] * 4 + [1] + [0] * 9
    assert t.average[9] == 1.0 and t.average[23] == pytest.approx(2 / 7)
    assert sum(t.average) == pytest.approx(9 / 7)
    assert len(t.today) == len(t.average) == 24
