"""The pure workflow rules: routing words, complaint signals, text templates, the
response clock and its alerts, snooze presets. (Triage, lifecycle, greeting, metrics and
outreach work on a real cache: see the other test_workflow_*.py files.)"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agentdesk.config import ComplaintSettings, RoutingSettings, Settings, TimerSettings
from agentdesk.workflow import sla, snooze
from agentdesk.workflow.rules import Rules
from agentdesk.workflow.templates import fill

RULES = Rules.from_settings(Settings())
TIMERS = TimerSettings()  # amber 30, red 100, late 180


# --- classification --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, group",
    [
        ("在吗？这件卫衣L码还有货吗", "售前"),
        ("什么时候发货呀", "售前"),
        ("收到的碗破损了两个", "售后"),
        ("我要退款", "售后"),
        ("发错颜色了，错发了", "售后"),
        ("不给退款我就给差评", "客诉"),  # 客诉 wins over 售后
        ("你们卖假货，我去12315投诉", "客诉"),
        ("我要打１２３１５", "客诉"),  # full-width digits
        ("", "售前"),
    ],
)
def test_classify_complaint_over_after_sale_over_pre_sale(text, group):
    assert RULES.classify(text) == group


def test_classify_ignores_case_and_width_of_configured_words():
    rules = Rules.from_settings(Settings(routing=RoutingSettings(after_sale=("RMA",), complaint=("Fake",))))
    assert rules.classify("need an rma please") == "售后"
    assert rules.classify("ＲＭＡ") == "售后"
    assert rules.classify("this is FAKE") == "客诉"
    assert rules.classify("ｆａｋｅ ＲＭＡ") == "客诉"


def test_empty_word_lists_classify_everything_as_pre_sale():
    rules = Rules.from_settings(Settings(routing=RoutingSettings(after_sale=(), complaint=())))
    assert rules.classify("退款 差评") == "售前"


# --- complaint signals -------------------------------------------------------------------


def test_signals_are_the_matched_words_in_configured_order():
    assert RULES.complaint_signals("再不退钱就投诉，给差评") == ("差评", "投诉", "退钱")


def test_no_signal_in_an_ordinary_message():
    assert RULES.complaint_signals("好的，谢谢亲！") == ()
    assert RULES.complaint_signals("真的吗?!") == ()  # two marks are not a run of three


@pytest.mark.parametrize(
    "text, run",
    [
        ("怎么还没发货！！！", "！！！"),
        ("what!!!", "!!!"),
        ("到底发不发？？？？", "？？？？"),
        ("??!", "??!"),
        ("人呢！?！", "！?！"),  # mixed widths still one run
    ],
)
def test_runs_of_marks_count_as_anger_and_are_reported_as_typed(text, run):
    assert RULES.complaint_signals(text) == (run,)


def test_full_width_and_case_insensitive_words():
    assert RULES.complaint_signals("我要打１２３１５") == ("12315",)
    rules = Rules.from_settings(Settings(complaints=ComplaintSettings(words=("Scam",))))
    assert rules.complaint_signals("total SCAM") == ("Scam",)
    assert rules.complaint_signals("ｓｃａｍ") == ("Scam",)


def test_words_and_runs_together_and_a_longer_threshold():
    assert RULES.complaint_signals("骗子！！！还有？？？") == ("骗子", "！！！", "？？？")
    rules = Rules.from_settings(Settings(complaints=ComplaintSettings(repeated_marks=5)))
    assert rules.complaint_signals("！！！！") == ()
    assert rules.complaint_signals("！！！！！") == ("！！！！！",)


def test_rules_carry_the_complaint_settings():
    assert (RULES.move, RULES.priority, RULES.repeated_marks) == (True, 2, 3)
    rules = Rules.from_settings(Settings(complaints=ComplaintSettings(move=False, priority="urgent")))
    assert (rules.move, rules.priority) == (False, 3)


# --- templates ---------------------------------------------------------------------------


def test_fill_replaces_known_names_and_leaves_every_other_brace():
    assert fill(Settings().greeting.text, agent_name="小美") == "亲，您好～我是小美，很高兴为您服务，请稍等，马上为您查询～"
    assert fill("{to} {unknown} { } {", to="售后组") == "售后组 {unknown} { } {"
    assert fill("{agent_name.__class__} {0}", agent_name="x") == "{agent_name.__class__} {0}"
    assert fill("no placeholders") == "no placeholders"


# --- the response clock ------------------------------------------------------------------


@pytest.mark.parametrize(
    "waited, expected",
    [(0, "ok"), (29.9, "ok"), (30, "amber"), (99, "amber"), (100, "red"), (179, "red"), (180, "late"), (5000, "late")],
)
def test_levels_use_the_inbox_timer_boundaries(waited, expected):
    assert sla.level(waited, TIMERS) == expected


def test_apology_from_red_on():
    assert not sla.needs_apology(None, 1000, TIMERS)
    assert not sla.needs_apology(1000 - 99, 1000, TIMERS)
    assert sla.needs_apology(1000 - 100, 1000, TIMERS)
    assert sla.needs_apology(0, 1000, TIMERS)


@dataclass
class Row:
    id: str
    waiting_since: float | None


def test_alert_once_per_waiting_episode():
    tracker = sla.AlertTracker(TIMERS)
    assert tracker.crossed([Row("c1", 0), Row("c2", 50)], 99) == []  # nobody at red yet
    assert tracker.crossed([Row("c1", 0), Row("c2", 50)], 100) == ["c1"]
    assert tracker.crossed([Row("c1", 0), Row("c2", 50)], 160) == ["c2"]
    assert tracker.crossed([Row("c1", 0), Row("c2", 50)], 500) == []  # late: still the same episode
    # c1 scrolls out of the page and back: no second alert
    assert tracker.crossed([Row("c2", 50)], 510) == []
    assert tracker.crossed([Row("c1", 0)], 520) == []
    # c1 is answered, then waits again: a new episode may alert again, once
    assert tracker.crossed([Row("c1", None)], 530) == []
    assert tracker.crossed([Row("c1", 600)], 650) == []
    assert tracker.crossed([Row("c1", 600)], 700) == ["c1"]
    assert tracker.crossed([Row("c1", 600)], 800) == []


def test_a_new_episode_alerts_even_if_the_answer_was_never_seen():
    tracker = sla.AlertTracker(TIMERS)
    assert tracker.crossed([Row("c1", 0)], 100) == ["c1"]
    assert tracker.crossed([Row("c1", 300)], 400) == ["c1"]  # waiting_since moved on


def test_alert_memory_is_bounded():
    tracker = sla.AlertTracker(TIMERS, capacity=100)
    for i in range(1000):
        tracker.crossed([Row(f"c{i}", 0)], 1000)
    assert len(tracker) == 100
    assert tracker.crossed([Row("c999", 0)], 1000) == []  # the most recent are remembered


def test_without_timers_the_caller_has_picked_the_red_rows():
    tracker = sla.AlertTracker()
    assert tracker.crossed([Row("c1", 990)], 1000) == ["c1"]
    assert tracker.crossed([Row("c1", 990)], 1001) == []


# --- snooze presets ----------------------------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(tz, *args) -> float:
    return datetime(*args, tzinfo=tz).timestamp()


def local(ts: float, tz) -> tuple:
    d = datetime.fromtimestamp(ts, tz)
    return (d.year, d.month, d.day, d.hour, d.minute)


def test_minutes_and_hours():
    now = at(SHANGHAI, 2026, 11, 20, 14, 30)
    assert snooze.snooze_until("30m", now, SHANGHAI) == now + 1800
    assert snooze.snooze_until("2h", now, SHANGHAI) == now + 7200
    assert snooze.snooze_until(" 3D ", now, SHANGHAI) == now + 3 * 86400


@pytest.mark.parametrize(
    "clock, expected",
    [
        ((2026, 11, 20, 14, 30), (2026, 11, 21, 9, 0)),
        ((2026, 11, 20, 23, 59), (2026, 11, 21, 9, 0)),  # a minute before midnight
        ((2026, 11, 21, 0, 1), (2026, 11, 22, 9, 0)),  # just after: the next calendar day
        ((2026, 11, 21, 8, 0), (2026, 11, 22, 9, 0)),
        ((2026, 12, 31, 22, 0), (2027, 1, 1, 9, 0)),  # across the year
    ],
)
def test_tomorrow_is_nine_next_morning_in_the_agents_zone(clock, expected):
    until = snooze.snooze_until("tomorrow", at(SHANGHAI, *clock), SHANGHAI)
    assert local(until, SHANGHAI) == expected


def test_tomorrow_defaults_to_the_local_zone():
    now = at(SHANGHAI, 2026, 11, 20, 23, 30)  # conftest runs the suite in Asia/Shanghai
    assert snooze.snooze_until("tomorrow", now) == at(SHANGHAI, 2026, 11, 21, 9, 0)


def test_tomorrow_follows_the_calendar_across_a_daylight_saving_change():
    new_york = ZoneInfo("America/New_York")  # the tz database is needed anyway (SHANGHAI above)
    now = at(new_york, 2026, 3, 7, 20, 0)  # the night the clocks go forward
    until = snooze.snooze_until("tomorrow", now, new_york)
    assert local(until, new_york) == (2026, 3, 8, 9, 0)
    assert until - now == 12 * 3600  # 13 wall-clock hours, 12 real ones


def test_unknown_presets_are_refused():
    for preset in ("", "soon", "0m", "5x", "-5m"):
        with pytest.raises(ValueError):
            snooze.snooze_until(preset, 0, SHANGHAI)


def test_presets_list_key_label_and_time():
    now = at(SHANGHAI, 2026, 11, 20, 14, 30)
    listed = snooze.presets(now, SHANGHAI, labels={"tomorrow": "明天"})
    assert [(k, label) for k, label, _ in listed] == [("30m", "30m"), ("2h", "2h"), ("tomorrow", "明天")]
    assert [until for *_, until in listed] == [now + 1800, now + 7200, at(SHANGHAI, 2026, 11, 21, 9, 0)]


def test_rules_are_comparable_values():
    assert Rules.from_settings(Settings()) == RULES
    changed = replace(Settings(), complaints=ComplaintSettings(words=("垃圾",)))
    assert Rules.from_settings(changed) != RULES
