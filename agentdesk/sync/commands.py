"""Headless commands: ``agentdesk sync [--once]`` and ``agentdesk export --json``."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sync", help="sync the local cache with the shop (no UI)")
    p.add_argument("--once", action="store_true", help="catch up, send the outbox, print a summary and exit")
    p.add_argument("--page-size", type=int, default=500, metavar="N", help="objects per page (1-1000, default 500)")
    p.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="read settings from PATH")
    p.set_defaults(run=run_sync)

    e = sub.add_parser("export", help="write the cached conversations with their messages")
    e.add_argument("--json", action="store_true", required=True, help="as JSON (the only format)")
    e.add_argument("--output", "-o", metavar="PATH", help="write to PATH instead of stdout")
    e.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="read settings from PATH")
    e.set_defaults(run=run_export)


def _fail(message: str) -> int:
    from agentdesk.cli_output import fail

    return fail(message)


def run_sync(args: argparse.Namespace) -> int:
    import asyncio
    import time

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from agentdesk.config import ConfigError, load_settings
    from agentdesk.safetext import one_line
    from agentdesk.store import CacheError, Store, outbox
    from agentdesk.sync import connect
    from agentdesk.sync.client import ApiError
    from agentdesk.sync.engine import SyncEngine

    console = Console(stderr=True)
    try:
        settings = load_settings(getattr(args, "config", None))
        path = settings.cache_path(demo=args.demo)
        if args.demo:
            client = connect.demo_client(path, agent=settings.agent.name, simulate=0, source=str(settings.source or "config"))
        else:
            client = connect.shop_client(settings)
        store = Store(path)
    except ConfigError as exc:
        return _fail(f"config error: {exc}")
    except CacheError as exc:
        return _fail(f"cache error: {exc}")

    progress = Progress(
        TextColumn("{task.description:<14}"), BarColumn(), TextColumn("{task.completed:>9,} {task.fields[unit]}"),
        TimeElapsedColumn(), console=console, transient=False,
    )
    tasks: dict[str, int] = {}

    def on_page(resource: str, count: int, finished: bool) -> None:
        if resource not in tasks:
            tasks[resource] = progress.add_task(resource, total=None, unit="objects")
        progress.update(tasks[resource], completed=count)
        if finished:
            progress.update(tasks[resource], total=count)

    engine = SyncEngine(store, client, page_size=max(1, min(1000, args.page_size)))
    started = time.perf_counter()

    async def once() -> tuple[int, int, int]:
        try:
            await engine.identify()
            with progress:
                objects = await engine.initial_sync(progress=on_page)
            events = await engine.catch_up()
            sent = await engine.flush_outbox()
            return objects, events, sent
        finally:
            await client.aclose()

    async def forever() -> None:
        engine.on_status = lambda s: console.print(
            f"[{time.strftime('%H:%M:%S')}] {s.state}" + (f" · {s.pending} to send" if s.pending else "")
            + (f" · {one_line(s.error, limit=300)}" if s.error else ""), markup=False, highlight=False)
        try:
            await engine.run()
        finally:
            await client.aclose()

    try:
        if args.once:
            objects, events, sent = asyncio.run(once())
        else:
            asyncio.run(forever())
            return 0
    except KeyboardInterrupt:
        return 130
    except ApiError as exc:
        return _fail(f"sync failed: {exc} (nothing synced so far is lost; run again to resume)")
    finally:
        pending = store.read(outbox.pending_count)
        store.close()
    took = time.perf_counter() - started
    rate = objects / took if took else 0.0
    console.print(
        f"synced {objects:,} objects and {events:,} events in {took:.1f} s ({rate:,.0f}/s); "
        f"sent {sent}; {pending} still to send",
        markup=False, highlight=False,
    )
    return 0


def run_export(args: argparse.Namespace) -> int:
    from agentdesk.config import ConfigError, load_settings
    from agentdesk.safetext import json_dumps
    from agentdesk.store import CacheError, Store
    from agentdesk.sync.export import conversations

    try:
        settings = load_settings(getattr(args, "config", None))
        store = Store(settings.cache_path(demo=args.demo))
    except ConfigError as exc:
        return _fail(f"config error: {exc}")
    except CacheError as exc:
        return _fail(f"cache error: {exc}")
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        # Streamed one conversation at a time: memory stays flat on a big cache.
        out.write("[")
        with store.reading() as conn:
            for n, conv in enumerate(conversations(conn)):
                out.write(("," if n else "") + "\n" + json_dumps(conv))  # C1, bidi, surrogates as \\uXXXX
        out.write("\n]\n")
    finally:
        if out is not sys.stdout:
            out.close()
        store.close()
    return 0
