"""Headless commands: ``agentdesk sync [--once | --problems [--json]]`` and
``agentdesk export --json``."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sync", help="sync the local cache with the shop (no UI)")
    p.add_argument("--once", action="store_true", help="catch up, send the outbox, print a summary and exit")
    p.add_argument("--page-size", type=int, default=500, metavar="N", help="objects per page (1-1000, default 500)")
    p.add_argument("--problems", action="store_true",
                   help="list the objects from the shop that could not be used (quarantined), then exit")
    p.add_argument("--json", action="store_true", help="with --problems: as JSON")
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

    from agentdesk.cli import claimed
    from agentdesk.config import ConfigError, load_settings
    from agentdesk.store import CacheError, Store, outbox, problems
    from agentdesk.sync import connect
    from agentdesk.sync.client import ApiError
    from agentdesk.sync.engine import SyncEngine
    from agentdesk.sync.wire import PayloadError

    if args.json and not args.problems:
        return _fail("--json goes with --problems")
    console = Console(stderr=True)
    try:
        settings = load_settings(getattr(args, "config", None))
        path = settings.cache_path(demo=args.demo)
        if args.problems:
            return show_problems(Store(path), as_json=args.json)
        source = str(settings.source or "config")
        if args.demo:
            connect.demo_token(settings.agent.name, source)  # a wrong demo agent: before any file is made
            make = lambda: connect.demo_client(path, agent=settings.agent.name, simulate=0, source=source)  # noqa: E731
        else:
            make = lambda: connect.shop_client(settings)  # noqa: E731
        store, client = claimed(args, path, make, demo=args.demo)
    except ConfigError as exc:
        return _fail(f"config error: {exc}")
    except CacheError as exc:
        return _fail(f"cache error: {exc}")

    progress = Progress(
        TextColumn("{task.description:<14}"), BarColumn(), TextColumn("{task.completed:>9,} {task.fields[unit]}"),
        TimeElapsedColumn(), console=console, transient=False,
        disable=not console.is_terminal,  # a log file gets the summary line, not bars
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
        engine.on_status = lambda s: console.print(status_line(s, time.strftime("%H:%M:%S")),
                                                   markup=False, highlight=False, soft_wrap=True)
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
    except (ApiError, PayloadError) as exc:
        return _fail(f"sync failed: {one_line(str(exc))} (nothing synced so far is lost; run again to resume)")
    except Exception as exc:  # noqa: BLE001 - whatever the shop sent, one line, never a traceback
        return _fail(f"sync failed unexpectedly ({type(exc).__name__}: {one_line(str(exc))}); "
                     "nothing synced so far is lost; run again to resume")
    finally:
        pending = store.read(outbox.pending_count)
        skipped = store.read(problems.count)
        store.close()
    took = time.perf_counter() - started
    rate = objects / took if took else 0.0
    console.print(
        f"synced {objects:,} objects and {events:,} events in {took:.1f} s ({rate:,.0f}/s); "
        f"sent {sent}; {pending} still to send"
        + (f"; {skipped} objects skipped (agentdesk sync --problems lists them)" if skipped else ""),
        markup=False, highlight=False, soft_wrap=True,
    )
    return 0


def status_line(status, clock: str) -> str:
    """One line per change of the engine's state (``agentdesk sync`` without --once)."""
    import math
    import time

    parts = [f"[{clock}] {status.state}"]
    if status.pending:
        parts.append(f"{status.pending} to send")
    if status.skipped:
        parts.append(f"{status.skipped} objects skipped")
    if status.error:
        parts.append(one_line(status.error))
    if status.retry_at is not None:
        parts.append(f"retry in {max(0, math.ceil(status.retry_at - time.monotonic()))} s")
    return " · ".join(parts)


def one_line(text: str) -> str:
    from agentdesk.safetext import one_line as clean

    return clean(text, limit=1_000)


def show_problems(store, *, as_json: bool) -> int:
    """``agentdesk sync --problems``: what the shop sent that could not be used, newest
    first, as a table or JSON (ASCII-escaped: nothing the shop sent reaches the terminal raw)."""
    import json

    from agentdesk.store import problems
    from agentdesk.timefmt import rfc3339

    try:
        rows = store.read(problems.listing)
    finally:
        store.close()
    if as_json:
        out = [{"resource": r.resource, "id": r.object_id, "field": r.field, "reason": r.reason,
                "first_seen": rfc3339(r.first_seen), "last_seen": rfc3339(r.last_seen), "times": r.times,
                "bytes": r.raw_bytes, "raw": r.raw} for r in rows]
        sys.stdout.write(json.dumps(out, ensure_ascii=True, indent=1) + "\n")
        return 0
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    if not console.is_terminal:
        console.width = 200  # a file or a pipe: never wrap the columns
    if not rows:
        console.print("no problems: every object the shop sent could be used", markup=False, highlight=False)
        return 0
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in ("last seen", "resource", "id", "field", "reason", "times"):
        table.add_column(name, no_wrap=name != "reason")
    import time

    for r in rows:
        table.add_row(Text(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.last_seen))), Text(r.resource),
                      Text(one_line(r.object_id or "?")), Text(one_line(r.field)), Text(one_line(r.reason)),
                      Text(str(r.times)))
    console.print(table)
    console.print(f"{len(rows)} objects skipped; each is kept until the shop sends a good version of it "
                  "(--json shows what was sent)", markup=False, highlight=False)
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
