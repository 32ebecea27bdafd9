"""Inbox and thread at scale: is the workstation still instant with 100k conversations?

Builds a synthetic cache (default 100,000 conversations, 1,000,000 messages) and
measures, each time against a baseline run in the same process:

1. query cost of one inbox page deep in the list: keyset (what the app does) vs
   ``LIMIT … OFFSET`` (the naive way), at increasing depths;
2. query cost of the latest thread page: keyset vs OFFSET from the start;
3. the real app (Textual, headless): time to first paint on the big cache vs an empty
   cache, and per-scroll-step time (PageDown in the inbox) vs a 300-conversation cache.

Run:  python bench/inbox.py [--conversations 100000] [--messages 1000000]
Prints ratios; no numbers here are asserted in the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from agentdesk.clock import FixedClock
from agentdesk.store import Store, inbox, thread, writes
from agentdesk.store.inbox import InboxFilter
from agentdesk.store.rows import INBOX_COLUMNS, inbox_row

NOW = 1_795_156_200.0
AGENTS = ("a01", "a02", "a03", "a04")
GROUPS = ("售前", "售后", "客诉")
STATUSES = ("open", "open", "open", "pending", "resolved", "snoozed")
PREVIEWS = (
    "在吗？这件卫衣L码还有货吗",
    "我的快递三天没动了，单号 YT7712345678901",
    "收到的碗碎了两个，怎么处理",
    "不退我就给差评！！！",
    "亲，这边帮您查询一下哦，请稍等~",
)


def build(path: Path, conversations: int, messages: int) -> float:
    """Fill a cache with executemany in one transaction; returns seconds taken."""
    rnd = random.Random(7)
    store = Store(path)
    customers = max(1, conversations // 5)

    def fill(conn):
        writes.set_meta(conn, "me", "a01")
        writes.set_meta(conn, "shop_name", "基准测试店")
        conn.executemany(
            "INSERT INTO agents (id, name) VALUES (?, ?)", [(a, f"客服{a}") for a in AGENTS]
        )
        conn.executemany(
            "INSERT INTO customers (id, name, vip_level) VALUES (?, ?, ?)",
            [(f"c{i}", f"顾客{i:06d}", i % 6) for i in range(customers)],
        )
        rows = []
        for i in range(conversations):
            status = STATUSES[i % len(STATUSES)]
            last = NOW - rnd.uniform(5, 86400 * 30)
            waiting = last if status == "open" and i % 2 else None
            assignee = None if i % 5 == 0 else AGENTS[i % 4]
            rows.append(
                (f"cv{i:07d}", f"c{i % customers}", assignee, GROUPS[i % 3], status,
                 last, waiting, PREVIEWS[i % len(PREVIEWS)], i % 4)
            )
        conn.executemany(
            "INSERT INTO conversations (id, customer_id, assignee_id, grp, status, last_message_at,"
            " waiting_since, preview, unread) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        # One long-running thread (a customer who has written for months) gets 2% of
        # the messages; the rest are spread evenly.
        long_thread = messages // 50
        rest = messages - long_thread
        per = max(1, rest // max(1, conversations))
        batch = []
        for i in range(messages):
            j = i - long_thread
            cv = 0 if j < 0 else (j // per if j // per < conversations else j % conversations)
            batch.append((f"cv{cv:07d}", "customer" if i % 2 else "agent",
                          PREVIEWS[i % len(PREVIEWS)], NOW - 86400 * 30 + i))
            if len(batch) == 50_000:
                conn.executemany(
                    "INSERT INTO messages (conversation_id, sender, body, at) VALUES (?, ?, ?, ?)", batch
                )
                batch.clear()
        if batch:
            conn.executemany(
                "INSERT INTO messages (conversation_id, sender, body, at) VALUES (?, ?, ?, ?)", batch
            )

    t = time.perf_counter()
    store.write(fill)
    took = time.perf_counter() - t
    store.close()
    return took


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def query_bench(store: Store, depths: list[int]) -> None:
    f = InboxFilter(tab="all", status=None)
    where, args = f.where()
    # The naive way: same columns, same row objects, position by OFFSET.
    offset_sql = (
        f"SELECT {INBOX_COLUMNS} FROM conversations c LEFT JOIN customers cu ON cu.id = c.customer_id "
        f"WHERE {where} ORDER BY c.wait_rank, c.rank_ts, c.id LIMIT 50 OFFSET ?"
    )

    def by_offset(depth: int) -> list:
        return [inbox_row(r) for r in conn.execute(offset_sql, [*args, depth])]

    print("\n1. inbox page of 50 rows, tab=all (ms, p50 of 20)")
    print(f"{'depth':>8} {'keyset':>9} {'OFFSET':>9} {'OFFSET/keyset':>14}")
    with store.reading() as conn:
        ordered = [r.id for r in inbox.first_page(conn, f, limit=max(depths) + 1)]
        for depth in depths:
            row = inbox.get(conn, ordered[depth])
            key = row.key
            ks = timed(lambda: inbox.page_after(conn, f, key, 50), 20)
            off = timed(lambda: by_offset(depth), 20)
            print(f"{depth:>8} {p(ks, .5):>9.3f} {p(off, .5):>9.3f} {p(off, .5) / p(ks, .5):>13.1f}x")

        cv = "cv0000000"  # the long thread build() makes
        n = conn.execute("SELECT count(*) FROM messages WHERE conversation_id = ?", [cv]).fetchone()[0]
        ks = timed(lambda: thread.latest(conn, cv, 50), 50)
        off = timed(
            lambda: conn.execute(
                "SELECT * FROM messages WHERE conversation_id = ? ORDER BY at, id LIMIT 50 OFFSET ?",  # noqa: E501
                [cv, max(0, n - 50)],
            ).fetchall(),
            50,
        )
        print(f"\n2. latest 50 messages of a {n}-message thread (ms, p50 of 50)")
        print(f"   keyset {p(ks, .5):.3f}   OFFSET-from-start {p(off, .5):.3f}   ratio {p(off, .5) / p(ks, .5):.1f}x")


async def ui_bench(path: Path, steps: int) -> tuple[float, list[float]]:
    """First paint (ms) and per-PageDown times (ms) of the real app over ``path``."""
    from agentdesk.config import Settings, UISettings
    from agentdesk.ui.app import AgentDeskApp
    from agentdesk.ui.widgets.inbox_list import InboxList

    store = Store(path)
    app = AgentDeskApp(
        store=store, settings=Settings(ui=UISettings(language="zh")), demo=True, clock=FixedClock(NOW)
    )
    app.check_cache = lambda: None  # the background page check is not what we measure
    times: list[float] = []
    idle: list[float] = []
    async with app.run_test(size=(160, 45)) as pilot:
        while app.first_paint_ms is None:
            await asyncio.sleep(0.005)
        first = app.first_paint_ms
        await pilot.press("a")  # the "All" tab: every open conversation
        await pilot.pause(0.2)
        lst = app.query_one(InboxList)
        for _ in range(steps):
            t = time.perf_counter()
            await pilot.press("pagedown")
            await pilot.pause()
            times.append((time.perf_counter() - t) * 1000)
        rows = len(lst.rows)
        for _ in range(20):  # what Pilot itself costs: a key nothing is bound to
            t = time.perf_counter()
            await pilot.press("f19")
            await pilot.pause()
            idle.append((time.perf_counter() - t) * 1000)
    store.close()
    print(f"   {path.name}: window held {rows} rows after {steps} steps; "
          f"an unbound key costs Pilot {p(idle, .5):.1f} ms")
    return first, times, p(idle, .5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--steps", type=int, default=150, help="PageDown presses in the UI run")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        big, small, empty = Path(tmp) / "big.sqlite", Path(tmp) / "small.sqlite", Path(tmp) / "empty.sqlite"
        took = build(big, args.conversations, args.messages)
        build(small, 300, 3000)
        build(empty, 0, 0)
        print(f"built {args.conversations:,} conversations / {args.messages:,} messages in {took:.1f} s, "
              f"{os.path.getsize(big) / 1e6:.0f} MB")

        store = Store(big)
        depths = [d for d in (0, 1_000, 10_000, 50_000, 90_000) if d < args.conversations - 50]
        query_bench(store, depths)
        store.close()

        print(f"\n3. real app, headless 160x45, {args.steps} PageDown steps through tab=all")
        first_empty, _, _ = asyncio.run(ui_bench(empty, 1))
        first_small, steps_small, idle_small = asyncio.run(ui_bench(small, args.steps))
        first_big, steps_big, idle_big = asyncio.run(ui_bench(big, args.steps))
        print(f"   first paint: {first_big:.0f} ms on {args.conversations:,} vs {first_empty:.0f} ms on an empty "
              f"cache → {first_big / first_empty:.2f}x ({first_small:.0f} ms on 300)")
        for name, q in (("p50", .5), ("p95", .95)):
            b, s = p(steps_big, q), p(steps_small, q)
            net_b, net_s = b - idle_big, s - idle_small
            print(f"   scroll step {name}: {b:.1f} ms vs {s:.1f} ms → {b / s:.2f}x "
                  f"(net of Pilot: {net_b:.1f} vs {net_s:.1f} ms)")


if __name__ == "__main__":
    sys.exit(main())
