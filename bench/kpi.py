"""KPIs at scale: does the supervisor's KPI panel stay cheap on a season of history?

Builds a synthetic monitor cache (default 90 days, ~200,000 messages: rounds of customer
messages answered after a log-normal delay, automatic greetings, bot lines, failed
replies, notes, conversations that come back days later, unanswered rounds) and times
``workflow.kpi.compute`` for today and for the last 7 days against a naive baseline run
in the same process on the same cache: read every message of the cache in Python, walk
each conversation from its first message, and compute the same numbers.

Both must give identical reports (every field of every team, agent and group row); the
script exits non-zero if they do not.

Run:  python bench/kpi.py [--days 90] [--messages 200000] [--repeats 5]
Prints milliseconds and ratios; no numbers here are asserted in the test suite.
"""

from __future__ import annotations

import argparse
import math
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from agentdesk.config import KpiSettings
from agentdesk.models import GROUPS
from agentdesk.store import Store
from agentdesk.workflow import kpi

TZ = ZoneInfo("Asia/Shanghai")
NOW = 1_795_156_200.0  # 2026-11-20 14:30 Asia/Shanghai
AGENTS = [f"a{i:02d}" for i in range(1, 11)]
SUPERVISOR = "s01"
#: Customers write mostly by day, with an evening peak; a few at night.
HOURLY = [1, 1, 0.5, 0.5, 0.5, 0.5, 1, 2, 5, 8, 10, 10, 8, 9, 10, 10, 9, 8, 8, 9, 10, 9, 6, 3]
SETTINGS = KpiSettings()


def build(path: Path, days: int, messages: int) -> tuple[int, int, float]:
    rnd = random.Random(6)
    started = time.perf_counter()
    first_day = kpi._local(NOW, TZ).date() - timedelta(days=days - 1)
    rows: list[tuple] = []
    convs: list[tuple] = []
    n = 0
    while len(rows) < messages:
        cid = f"cv{n:06d}"
        n += 1
        day = first_day + timedelta(days=rnd.randrange(days))
        t = kpi.midnight(day, TZ) + rnd.choices(range(24), weights=HOURLY)[0] * 3600 + rnd.random() * 3600
        if t >= NOW:
            t = NOW - rnd.random() * 6 * 3600
        assignee = rnd.choice(AGENTS + [None])
        grp = rnd.choices(GROUPS, weights=(5, 4, 1))[0]
        thread: list[tuple] = []
        for r in range(rnd.randint(1, 4)):
            for _ in range(rnd.randint(1, 3)):
                thread.append(("customer", None, 0, "sent", t))
                t += rnd.uniform(2, 40)
            if rnd.random() < 0.3:
                thread.append(("agent", assignee, 1, "sent", t + rnd.uniform(5, 20)))  # the greeting
            if rnd.random() < 0.1:
                thread.append(("bot", None, 0, "sent", t + rnd.uniform(1, 5)))
            if rnd.random() < 0.05:
                break  # never answered
            t += rnd.lognormvariate(3.5, 1.3)  # median ~33 s, a long tail
            if rnd.random() < 0.04:
                thread.append(("agent", assignee, 0, "failed", t))
                t += rnd.uniform(5, 60)
            responder = assignee if rnd.random() < 0.85 else rnd.choice(AGENTS + [SUPERVISOR])
            thread.append(("agent", responder, 0, "pending" if rnd.random() < 0.01 else "sent", t))
            if rnd.random() < 0.4:
                t += rnd.uniform(3, 30)
                thread.append(("agent", responder, 0, "sent", t))
            if rnd.random() < 0.05:
                thread.append(("note", responder, 0, "sent", t + 1))
            # The customer answers soon, or comes back days later in the same conversation.
            t += rnd.uniform(1, 5) * 86400 if rnd.random() < 0.08 else rnd.uniform(20, 900)
        thread = [m for m in thread if m[4] < NOW]
        if not thread:
            continue
        thread.sort(key=lambda m: m[4])
        last = thread[-1][4]
        status = "resolved" if NOW - last > 86400 and rnd.random() < 0.95 else rnd.choice(("open", "open", "resolved"))
        waiting = None
        if status == "open":
            for sender, _agent, auto, state, at in thread:
                if sender == "customer" and waiting is None:
                    waiting = at
                elif sender == "agent" and not auto:  # the store's rule: any non-automatic reply
                    waiting = None
        complaint = int(rnd.random() < 0.03)
        convs.append((cid, f"c{n}", grp, status, assignee, thread[0][4], last, waiting, complaint))
        rows.extend((cid, sender, agent, "…", at, auto, state) for sender, agent, auto, state, at in thread)

    rows.sort(key=lambda m: m[4])  # the order a sync stores them in: the shop's seq, i.e. time
    store = Store(path)

    def fill(conn):
        conn.executemany(
            "INSERT INTO agents (id, name, role, groups) VALUES (?, ?, ?, '[]')",
            [(a, f"客服{a}", "agent") for a in AGENTS] + [(SUPERVISOR, "主管", "supervisor")],
        )
        conn.executemany(
            "INSERT INTO conversations (id, customer_id, grp, status, assignee_id, created_at, last_message_at, "
            "waiting_since, complaint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", convs,
        )
        conn.executemany(
            "INSERT INTO messages (conversation_id, sender, agent_id, body, at, auto, state) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", rows,
        )

    store.write(fill)
    store.close()
    return len(convs), len(rows), time.perf_counter() - started


# --- the naive baseline: every message, each conversation walked from its start ---------------


def naive(conn: sqlite3.Connection, start: float, end: float, settings: KpiSettings, tz) -> kpi.KpiReport:
    agents = conn.execute("SELECT id, name FROM agents WHERE role = 'agent' ORDER BY id").fetchall()
    convs = {
        cid: (grp, status, assignee, bool(complaint) or grp == "客诉")
        for cid, grp, status, assignee, complaint in conn.execute(
            "SELECT id, grp, status, assignee_id, complaint FROM conversations")
    }
    threads: dict[str, list[tuple]] = {}
    for cid, sender, agent, auto, state, at, mid in conn.execute(
            "SELECT conversation_id, sender, agent_id, auto, state, at, id FROM messages"):
        threads.setdefault(cid, []).append((at, mid, sender, agent, auto, state))

    rounds = []  # (conversation, start, answered at or None, responder)
    repliers: dict[str, set] = {}
    asked: set[str] = set()
    for cid, msgs in threads.items():
        msgs.sort()
        opened = None
        for at, _mid, sender, agent, auto, state in msgs:
            inside = start <= at < end
            if sender == "customer":
                asked.update([cid] if inside else [])
                opened = at if opened is None else opened
            elif sender == "agent" and not auto and state != "failed":
                if inside:
                    repliers.setdefault(cid, set()).add(agent)
                if opened is not None and start <= opened < end:
                    rounds.append((cid, opened, at, agent))
                opened = None
        if opened is not None and start <= opened < end:
            rounds.append((cid, opened, None, None))

    first_answer: dict[str, tuple] = {}
    for r in rounds:
        if r[2] is not None and (r[0] not in first_answer or r[1] < first_answer[r[0]][1]):
            first_answer[r[0]] = r
    hours = settings.hours()

    def row(scope, key, name, owns_round, handled_convs, asked_convs) -> kpi.Kpi:
        mine = [r for r in rounds if owns_round(r)]
        times = [r[2] - r[1] for r in mine if r[2] is not None]
        firsts = [r[2] - r[1] for r in first_answer.values() if owns_round(r)]
        business = [r for r in mine if kpi.in_hours(r[1], hours, tz) and (r[2] is not None or end - r[1] > 180)]
        met = [r for r in business if r[2] is not None and r[2] - r[1] <= 180]
        resolved = [c for c in handled_convs if convs[c][1] == "resolved"]
        complaints = [c for c in asked_convs if convs[c][3]]
        ordered = sorted(firsts)
        return kpi.Kpi(
            scope, key, name, len(handled_convs), len(asked_convs), len(mine), len(times),
            float(statistics.median(firsts)) if firsts else None,
            float(ordered[math.ceil(len(ordered) * 9 / 10) - 1]) if firsts else None,
            sum(t <= settings.reply_within_seconds for t in times) / len(times) if times else None,
            len(business), len(met) / len(business) if business else None,
            len(resolved) / len(handled_convs) if handled_convs else None,
            len(complaints), len(complaints) / len(asked_convs) if asked_convs else None,
        )

    handled = set(repliers)
    team = row("team", "", "", lambda r: True, handled, asked)
    agent_rows = []
    for aid, name in agents:
        def owns(r, aid=aid):
            return r[3] == aid if r[2] is not None else convs[r[0]][2] == aid
        theirs = {c for c, who in repliers.items() if aid in who}
        agent_rows.append(row("agent", aid, name, owns, theirs, asked & theirs))
    group_rows = []
    for g in GROUPS:
        in_group = {c for c, v in convs.items() if v[0] == g}
        group_rows.append(row("group", g, g, lambda r, s=in_group: r[0] in s, handled & in_group, asked & in_group))
    return kpi.KpiReport(start, end, team, agent_rows, group_rows)


def timed(fn, path: Path, start: float, end: float, repeats: int) -> tuple[float, kpi.KpiReport]:
    store = Store(path)
    try:
        times, result = [], None
        for _ in range(repeats):
            with store.reading() as conn:
                began = time.perf_counter()
                result = fn(conn, start, end, SETTINGS, TZ)
                times.append(time.perf_counter() - began)
        return statistics.median(times), result
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "monitor.sqlite"
        convs, msgs, took = build(path, args.days, args.messages)
        size = path.stat().st_size / 1e6
        print(f"built {convs:,} conversations / {msgs:,} messages over {args.days} days in {took:.1f} s, {size:.0f} MB")
        failed = False
        for label, (start, end) in (("today", kpi.today(NOW, TZ)), ("7 days", kpi.last_days(NOW, 7, TZ)),
                                    ("30 days", kpi.last_days(NOW, 30, TZ))):
            ours, report = timed(kpi.compute, path, start, end, args.repeats)
            base, expected = timed(naive, path, start, end, max(1, args.repeats // 2))
            same = report == expected
            failed |= not same
            t = report.team
            print(f"{label:>8}: kpi.compute {ours * 1000:8.1f} ms   naive {base * 1000:8.1f} ms   "
                  f"naive/compute {base / ours:6.1f}x   {'identical' if same else 'DIFFERENT'}")
            print(f"          {t.rounds:,} rounds, {t.answered:,} answered, {t.handled:,} handled, "
                  f"FRT median {t.first_response_median:.1f} s, p90 {t.first_response_p90:.1f} s, "
                  f"3-min rate {t.response_rate_3min:.3f}")
        if failed:
            sys.exit("kpi.compute and the naive baseline disagree")


if __name__ == "__main__":
    main()
