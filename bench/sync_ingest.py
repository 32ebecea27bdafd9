"""How fast does a cold cache fill from a big shop, and does the UI stay smooth meanwhile?

1. Seeds a reference shop with N messages (default 200,000) and serves it with uvicorn
   on 127.0.0.1; runs the real command `agentdesk sync --once` against it into an empty
   cache and reports messages/s. Baseline, same run: a raw `executemany` of the same
   rows into the same cache schema (no HTTP, no JSON, no checks) — the ceiling.
2. Runs the app headless over the same shop while its sync engine does the initial
   sync, and records the UI event loop's worst stall (a 10 ms timer's lateness).

Run:  python bench/sync_ingest.py [--messages 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

NOW = 1_795_156_200.0


def seed_big_shop(path: Path, messages: int) -> None:
    """The demo shop plus synthetic traffic, written straight into the shop's database."""
    from agentdesk.shop import db

    conn = db.connect(path)
    db.seed_demo(conn, NOW)
    rnd = random.Random(3)
    n_conv = max(1, messages // 20)
    bodies = ["在吗？这件卫衣L码还有货吗", "亲，这边帮您查询一下哦，请稍等~", "我的快递三天没动了", "好的 谢谢亲"]
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO customers (id, name, updated_at) VALUES (?, ?, ?)",
        [(f"b{i:06d}", f"压测顾客{i:06d}", NOW) for i in range(n_conv)],
    )
    conn.executemany(
        "INSERT INTO conversations (id, customer_id, grp, status, assignee_id, stage, version, created_at, updated_at) "
        "VALUES (?, ?, '售前', ?, ?, 'agent', 1, ?, ?)",
        [(f"bv{i:06d}", f"b{i:06d}", "resolved" if i % 4 else "open", "a01" if i % 3 else "a02", NOW, NOW)
         for i in range(n_conv)],
    )
    conn.executemany(
        "INSERT INTO messages (id, conversation_id, sender, agent_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [(f"bm_{i:07d}", f"bv{i % n_conv:06d}", "customer" if i % 2 == 0 else "agent", None if i % 2 == 0 else "a01",
          bodies[i % 4], NOW - 86400 + i * 0.01) for i in range(messages)],
    )
    conn.execute("COMMIT")
    conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(path: Path):
    import uvicorn

    from agentdesk.shop.server import create_app

    app = create_app(path, seed=None)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, f"http://127.0.0.1:{port}"


def raw_baseline(shop_path: Path, cache_path: Path) -> tuple[int, float]:
    """The same message rows into the same cache schema with one executemany."""
    import sqlite3

    from agentdesk.store import Store

    src = sqlite3.connect(shop_path)
    rows = src.execute("SELECT conversation_id, sender, agent_id, body, created_at, id, seq FROM messages").fetchall()
    src.close()
    store = Store(cache_path)
    t = time.perf_counter()
    store.write(lambda c: c.executemany(
        "INSERT INTO messages (conversation_id, sender, agent_id, body, at, server_id, seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows))
    took = time.perf_counter() - t
    store.close()
    return len(rows), took


def cold_sync(url: str, cache_path: Path) -> tuple[float, str]:
    config = cache_path.with_suffix(".toml")
    config.write_text(f'[shop]\nurl = "{url}"\ntoken = "demo-a01-xiaomei"\n[cache]\npath = "{cache_path}"\n',
                      encoding="utf-8")
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "agentdesk", "--config", str(config), "sync", "--once",
                           "--page-size", "1000"], capture_output=True, text=True)
    took = time.perf_counter() - t
    if done.returncode:
        raise SystemExit(done.stderr)
    return took, done.stderr.strip().splitlines()[-1]


async def ui_during_sync(url: str, cache_path: Path) -> tuple[float, float, int]:
    """Worst and p99 lateness (ms) of a 10 ms timer on the UI loop while the app syncs."""
    from agentdesk.config import Settings, UISettings
    from agentdesk.store import Store
    from agentdesk.sync.client import ShopClient
    from agentdesk.sync.engine import SyncEngine
    from agentdesk.ui.app import AgentDeskApp

    store = Store(cache_path)
    engine = SyncEngine(store, ShopClient(url, "demo-a01-xiaomei"), page_size=1000)
    app = AgentDeskApp(store=store, settings=Settings(ui=UISettings(language="zh")), sync=engine)
    lateness: list[float] = []
    async with app.run_test(size=(160, 45)) as pilot:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while not engine.synced() and loop.time() - started < 600:
            t = loop.time()
            await asyncio.sleep(0.01)
            lateness.append((loop.time() - t - 0.01) * 1000)
        await pilot.pause()
    store.close()
    lateness.sort()
    return lateness[-1], lateness[int(len(lateness) * 0.99)], len(lateness)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=200_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shop = tmp / "shop.sqlite"
        seed_big_shop(shop, args.messages)
        total = 0
        import sqlite3

        with sqlite3.connect(shop) as c:
            total = c.execute("SELECT count(*) FROM messages").fetchone()[0]
        server, url = start_server(shop)
        took, summary = cold_sync(url, tmp / "cold.sqlite")
        n, raw = raw_baseline(shop, tmp / "raw.sqlite")
        sync_rate, raw_rate = total / took, n / raw
        print(f"shop: {total:,} messages, {os.path.getsize(shop) / 1e6:.0f} MB, served on {url}")
        print(f"1. cold `agentdesk sync --once`: {took:.1f} s → {sync_rate:,.0f} messages/s  ({summary})")
        print(f"   raw executemany of the same rows: {raw:.2f} s → {raw_rate:,.0f} rows/s")
        print(f"   ratio sync / raw = {sync_rate / raw_rate:.3f}")
        worst, p99, samples = asyncio.run(ui_during_sync(url, tmp / "ui.sqlite"))
        print(f"2. UI loop during the app's own initial sync: worst stall {worst:.1f} ms, p99 {p99:.1f} ms "
              f"({samples} samples of a 10 ms timer)")
        server.should_exit = True


if __name__ == "__main__":
    main()
