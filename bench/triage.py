"""Triage at scale: is one incremental pass cheap enough to run every few seconds?

Builds a synthetic cache (default 10,000 conversations, 100,000 messages, ~3% of the
customer messages angry) and measures, against a naive baseline run in the same process
on an identical copy of the cache:

1. the first pass over the whole history (``workflow.triage``: one rowid-range scan,
   batched reads and updates) vs a per-message Python loop doing the same job (one SELECT
   for the message, one for its conversation, one UPDATE per angry message, and the
   routing checks asked per message);
2. a later pass over 1,000 new customer messages (moves, routes and patches included) vs
   the same loop over those messages.

Both sides must end with the same complaint counts; the script checks that.

Run:  python bench/triage.py [--conversations 10000] [--messages 100000] [--new 1000]
Prints ratios; no numbers here are asserted in the test suite.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from agentdesk.config import Settings
from agentdesk.models import PRIORITY_NAMES
from agentdesk.store import Store, outbox, writes
from agentdesk.workflow import triage
from agentdesk.workflow.rules import Rules

NOW = 1_795_156_200.0
ME = "a01"
AGENTS = (ME, "a02", "a03", None)
CALM = ("在吗？这件卫衣L码还有货吗", "什么时候发货呀", "好的谢谢", "能便宜点吗", "收到了，挺好的",
        "我的快递三天没动了，单号 YT7712345678901", "可以开发票吗")
ANGRY = ("不退我就给差评！！！", "你们是骗子吧", "我要去12315投诉", "垃圾质量？？？")
ROUTED = ("收到的碗破损了两个", "我要退货", "漏发了一件")


def build(path: Path, conversations: int, messages: int) -> float:
    rnd = random.Random(11)
    store = Store(path)
    started = time.perf_counter()

    def fill(conn):
        conn.executemany(
            "INSERT INTO conversations (id, customer_id, grp, status, assignee_id, last_message_at) "
            "VALUES (?, ?, '售前', 'open', ?, 0)",
            [(f"cv{i:06d}", f"c{i}", AGENTS[i % len(AGENTS)]) for i in range(conversations)],
        )
        rows = []
        for n in range(messages):
            cid = f"cv{rnd.randrange(conversations):06d}"
            if n % 4 == 3:
                rows.append((cid, "agent", "亲，这边帮您查询一下哦", NOW - messages + n, AGENTS[n % 3]))
            else:
                body = rnd.choice(ANGRY) if rnd.random() < 0.03 else rnd.choice(CALM)
                rows.append((cid, "customer", body, NOW - messages + n, None))
        conn.executemany(
            "INSERT INTO messages (conversation_id, sender, body, at, agent_id) VALUES (?, ?, ?, ?, ?)", rows
        )

    store.write(fill)
    store.close()
    return time.perf_counter() - started


def add_new(path: Path, conversations: int, count: int) -> None:
    """New traffic: replies in old conversations (some angry) and brand-new conversations."""
    rnd = random.Random(23)
    store = Store(path)

    def fill(conn):
        for n in range(count):
            if n % 5 == 0:
                cid = f"new{n:06d}"
                conn.execute(
                    "INSERT INTO conversations (id, customer_id, grp, status, assignee_id) VALUES (?, ?, '售前', 'open', ?)",
                    [cid, f"nc{n}", AGENTS[n % len(AGENTS)]],
                )
                body = rnd.choice(ROUTED)
            else:
                cid = f"cv{rnd.randrange(conversations):06d}"
                body = rnd.choice(ANGRY) if rnd.random() < 0.05 else rnd.choice(CALM)
            writes.add_message(conn, cid, "customer", body, NOW + n)

    store.write(fill)
    store.close()


def naive(conn: sqlite3.Connection, rules: Rules, mark: int) -> int:
    """The same job done the obvious way: each message, then its conversation, fetched
    one by one, and the routing checks asked per message."""
    first_run = mark == 0
    conn.execute("BEGIN IMMEDIATE")
    ids = [r[0] for r in conn.execute(
        "SELECT id FROM messages WHERE id > ? AND sender = 'customer' ORDER BY id", [mark])]
    for mid in ids:
        cid, body = conn.execute("SELECT conversation_id, body FROM messages WHERE id = ?", [mid]).fetchone()
        grp, status, assignee, priority, complaint = conn.execute(
            "SELECT grp, status, assignee_id, priority, complaint FROM conversations WHERE id = ?", [cid]
        ).fetchone()
        mine_or_free = assignee in (None, ME)
        if rules.complaint_signals(body):
            conn.execute("UPDATE conversations SET complaint = complaint + 1 WHERE id = ?", [cid])
            if complaint == 0 and not first_run and rules.move and grp != "客诉" and mine_or_free \
                    and status != "resolved":
                new = max(priority, rules.priority)
                conn.execute("UPDATE conversations SET grp = '客诉', priority = ? WHERE id = ?", [new, cid])
                outbox.enqueue(conn, "patch", {"group": "客诉", "priority": PRIORITY_NAMES[new]}, NOW,
                               conversation_id=cid)
        elif not first_run and complaint == 0 and grp != "客诉" and mine_or_free:
            earlier = conn.execute(
                "SELECT count(*) FROM messages WHERE conversation_id = ? AND ((sender = 'customer' AND id < ?)"
                " OR (sender = 'agent' AND auto = 0))", [cid, mid]).fetchone()[0]
            target = rules.classify(body)
            if not earlier and target not in (grp, "售前"):
                conn.execute("UPDATE conversations SET grp = ? WHERE id = ?", [target, cid])
                outbox.enqueue(conn, "patch", {"group": target}, NOW, conversation_id=cid)
    if ids:
        writes.set_meta(conn, triage.MARK, str(ids[-1]))
    conn.execute("COMMIT")
    return len(ids)


def complaint_counts(path: Path) -> list[tuple[str, int]]:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute("SELECT id, complaint FROM conversations WHERE complaint > 0 ORDER BY id").fetchall()
    finally:
        conn.close()


def copy(src: Path, dst: Path) -> None:
    for suffix in ("-wal", "-shm", ""):
        Path(str(dst) + suffix).unlink(missing_ok=True)
    shutil.copyfile(src, dst)


def timed_triage(path: Path, rules: Rules) -> tuple[float, triage.Triage]:
    store = Store(path)
    try:
        started = time.perf_counter()
        result = store.write(triage.triage, rules, ME, NOW)
        return time.perf_counter() - started, result
    finally:
        store.close()


def timed_naive(path: Path, rules: Rules, mark: int) -> tuple[float, int]:
    store = Store(path)  # opens and migrates like the app would
    store.close()
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        started = time.perf_counter()
        n = naive(conn, rules, mark)
        return time.perf_counter() - started, n
    finally:
        conn.close()


def compare(label: str, base: Path, work: Path, rules: Rules, mark: int, repeats: int) -> None:
    ours, theirs, result, count = [], [], None, 0
    for _ in range(repeats):
        copy(base, work)
        seconds, result = timed_triage(work, rules)
        ours.append(seconds)
        ours_counts = complaint_counts(work)
        copy(base, work)
        seconds, count = timed_naive(work, rules, mark)
        theirs.append(seconds)
        if complaint_counts(work) != ours_counts:
            sys.exit(f"{label}: triage and the naive loop disagree on complaint counts")
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"{label}: {count:,} customer messages")
    print(f"   triage {a * 1000:8.1f} ms   naive loop {b * 1000:8.1f} ms   naive/triage {b / a:5.1f}x"
          f"   ({count / a:,.0f} messages/s)")
    print(f"   flagged {len(result.flagged)}, moved {len(result.moved)}, routed {len(result.routed)}"
          f"{' (first run: counted only)' if result.first_run else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rules = Rules.from_settings(Settings())

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        history, work = tmp / "history.sqlite", tmp / "work.sqlite"
        seconds = build(history, args.conversations, args.messages)
        print(f"built {args.conversations:,} conversations / {args.messages:,} messages in {seconds:.1f} s\n")

        compare("1. first pass over the history", history, work, rules, 0, args.repeats)

        # The baseline for "later": history already triaged, then new traffic.
        later = tmp / "later.sqlite"
        copy(history, later)
        _, _ = timed_triage(later, rules)
        mark = int(sqlite3.connect(str(later)).execute(
            "SELECT value FROM meta WHERE key = ?", [triage.MARK]).fetchone()[0])
        add_new(later, args.conversations, args.new)
        print()
        compare("2. a later pass over new traffic", later, work, rules, mark, args.repeats)


if __name__ == "__main__":
    main()
