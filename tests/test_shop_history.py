"""The demo shop's seven days of history (agentdesk/shop/history.py): a shop's daily
curve, realistic rounds and response times, complaints, generated customers only
(the fixtures' customers and the open inbox untouched), the same every time."""

from __future__ import annotations

import json
import re
import sqlite3
import statistics
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta

import pytest

from agentdesk.demo import fixtures
from agentdesk.shop import bot, content, history
from agentdesk.shop.state import ShopState

from conftest import ANCHOR

PEAKS = (9, 10, 11, 14, 15, 16, 20, 21)
NIGHT = range(0, 7)


def agents() -> list[dict]:
    return [{"id": a.id, "role": a.role, "groups": list(a.groups)} for a in fixtures.load_shop().agents]


def make(anchor: float = ANCHOR, seed: int = history.SEED) -> history.History:
    scripts = content.load()
    return history.generate(anchor, agents(), scripts.dialogues, bot.Bot(scripts.faq, "拾光生活旗舰店"), seed=seed)


@pytest.fixture(scope="module")
def past() -> history.History:
    return make()


@pytest.fixture
def shop(tmp_path):
    state = ShopState(tmp_path / "shop.sqlite", anchor=ANCHOR, clock=lambda: ANCHOR)
    conn = sqlite3.connect(tmp_path / "shop.sqlite")
    yield conn
    conn.close()
    state.close()


def local_midnight(days_back: int) -> float:
    today = datetime.fromtimestamp(ANCHOR).date() - timedelta(days=days_back)
    return datetime(today.year, today.month, today.day).timestamp()


def test_seven_full_days_and_today_until_an_hour_before(past):
    starts = [c[10] for c in past.conversations]
    assert min(starts) >= local_midnight(7)
    assert max(starts) < ANCHOR - history.TODAY_UNTIL
    assert max(m[0] for m in past.messages) < ANCHOR and max(c[11] for c in past.conversations) < ANCHOR
    per_day = Counter(datetime.fromtimestamp(s).date() for s in starts)
    full_days = [datetime.fromtimestamp(local_midnight(k)).date() for k in range(7, 0, -1)]
    assert sorted(per_day)[:7] == full_days
    assert all(60 <= per_day[d] <= 90 for d in full_days), per_day
    today = per_day[datetime.fromtimestamp(ANCHOR).date()]
    assert 10 <= today <= 40  # 00:00–13:30 of an ordinary day


def test_hourly_traffic_is_quiet_at_night_and_peaks_by_day(past):
    since = local_midnight(7)
    per_hour = Counter(time.localtime(c[10]).tm_hour for c in past.conversations if c[10] < local_midnight(0))
    assert sum(per_hour.values()) > 400 and min(c[10] for c in past.conversations) >= since
    night = statistics.mean(per_hour[h] for h in NIGHT)
    peak = statistics.mean(per_hour[h] for h in PEAKS)
    assert peak > 6 * night
    top = {h for h, _ in per_hour.most_common(8)}
    assert len(top & set(PEAKS)) >= 6, per_hour
    assert per_hour[12] > per_hour[13] < per_hour[14]  # lunch
    assert per_hour[18] < per_hour[21]  # evening shopping after dinner


def test_conversations_are_resolved_rounds_answered_by_agents_of_their_group(past):
    groups = {a["id"]: set(a["groups"]) for a in agents()}
    by_conv = defaultdict(list)
    for m in past.messages:
        by_conv[m[1]].append(m)
    assert all(c[3] == "resolved" and c[9] == "agent" and c[5] in groups for c in past.conversations)
    for c in past.conversations:
        cid, group, assignee = c[0], c[2], c[5]
        assert group in groups[assignee]
        msgs = by_conv[cid]
        assert [m[0] for m in msgs] == sorted(m[0] for m in msgs) and msgs[0][0] == c[10] and c[11] > msgs[-1][0]
        assert msgs[0][2] == "customer" and msgs[-1][2] == "agent"
        replies = [m for m in msgs if m[2] == "agent"]
        assert 1 <= len(replies) <= 4 and {m[3] for m in replies} == {assignee}
    sizes = [len(v) for v in by_conv.values()]
    assert 4 <= statistics.mean(sizes) <= 6.5
    assert Counter(c[2] for c in past.conversations)["售前"] > 0.4 * len(past.conversations)
    handled = Counter(c[5] for c in past.conversations)
    assert set(handled) == {"a01", "a02", "a03", "a04"} and min(handled.values()) > 0.1 * len(past.conversations)


def test_response_times_are_realistic(past):
    waits = []
    open_since: dict[str, float] = {}
    for at, cid, sender, _agent, _body in sorted(past.messages):
        if sender == "customer":
            open_since.setdefault(cid, at)
        elif sender == "agent":
            waits.append(at - open_since.pop(cid))
    assert not open_since  # every round was answered
    assert 15 <= statistics.median(waits) <= 40
    assert 0.04 <= sum(w > 180 for w in waits) / len(waits) <= 0.15


def test_complaints_are_few_in_the_complaint_group_with_a_tag(past):
    complaints = [c for c in past.conversations if c[2] == "客诉"]
    assert 0.005 <= len(complaints) / len(past.conversations) <= 0.03
    assert all(c[6] == "high" and set(c[7]) & set(history.COMPLAINT_TAGS) and c[5] == "a04" for c in complaints)
    assert all(not c[7] and c[6] == "normal" for c in past.conversations if c[2] != "客诉")


def test_customers_are_generated_nicknames_never_the_fixtures(past):
    fixture_names = {c.name for c in fixtures.load(ANCHOR).customers}
    names = [c[1] for c in past.customers]
    assert len(names) == len(set(names)) and not set(names) & fixture_names
    assert all(re.fullmatch(r"h\d{4}", c[0]) for c in past.customers)
    assert all(re.search(r"[\u4e00-\u9fff]", n) or "_" in n or n.isascii() for n in names)
    assert sum(bool(re.search(r"[\u4e00-\u9fff]", n)) for n in names) > 0.8 * len(names)
    ids = {c[0] for c in past.customers}
    assert {c[1] for c in past.conversations} == ids  # everyone wrote at least once
    returning = Counter(c[1] for c in past.conversations)
    assert any(n > 1 for n in returning.values())
    assert all(("老客户" in c[3]) == (returning[c[0]] > 1) for c in past.customers)


def test_the_same_anchor_and_seed_give_the_same_history(past):
    assert make() == past
    other = make(seed=history.SEED + 1)
    assert other.conversations != past.conversations
    later = make(ANCHOR + 86400)
    assert min(c[10] for c in later.conversations) >= local_midnight(6)


def test_the_seeded_shop_keeps_the_fixture_customers_and_the_open_inbox(shop):
    data = fixtures.load(ANCHOR)
    fixture_convs = {cv.id: cv for cv in data.conversations}
    rows = shop.execute("SELECT id, customer_id, status, assignee_id FROM conversations").fetchall()
    by_customer = defaultdict(set)
    for cid, customer, _status, _assignee in rows:
        by_customer[customer].add(cid)
    for c in data.customers:  # their sidebars: exactly their fixture conversations
        assert by_customer[c.id] == {cv.id for cv in data.conversations if cv.customer_id == c.id}
    not_resolved = {(cid, status, assignee) for cid, _c, status, assignee in rows if status != "resolved"}
    assert not_resolved == {(cv.id, cv.status, cv.assignee_id) for cv in data.conversations if cv.status != "resolved"}
    for cid, cv in fixture_convs.items():
        bodies = [r[0] for r in shop.execute("SELECT body FROM messages WHERE conversation_id = ? ORDER BY seq", [cid])]
        assert bodies == [m.body for m in cv.messages]
    assert shop.execute("SELECT count(*) FROM conversations WHERE customer_id LIKE 'h%'").fetchone()[0] > 500
    assert shop.execute("SELECT count(*) FROM messages WHERE id != printf('m_%06d', seq)").fetchone()[0] == 0
    times = [r[0] for r in shop.execute("SELECT created_at FROM messages ORDER BY seq")]
    assert times == sorted(times)
    tags = shop.execute("SELECT tags FROM conversations WHERE grp = '客诉' AND customer_id LIKE 'h%'").fetchall()
    assert all(set(json.loads(t[0])) & set(history.COMPLAINT_TAGS) for t in tags)
    assert shop.execute("SELECT count(*) FROM events").fetchone()[0] == 0  # the past is no news
