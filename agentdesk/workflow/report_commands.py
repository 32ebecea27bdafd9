"""``agentdesk report``: the team's KPIs over days, from the supervisor's monitor cache.

Unless ``--offline``, the monitor cache is first brought up to date with a read-only
client (the same sync the monitor runs); an unreachable shop with a synced cache is a
warning, and the report comes from the cache.
"""

from __future__ import annotations

import argparse
import re
import sys

from agentdesk.clock import Clock

#: The wall clock; tests put a FixedClock here.
CLOCK: Clock = Clock()
#: A report syncs once and exits: fail over to the cache after two retries, not five.
SYNC_RETRIES = 2

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report", help="print the team's KPIs (first response, 3-minute rate, resolution, complaints)",
        description="KPIs per agent, group or team over whole local days (default: today so far). "
                    "See README \"KPI definitions\".",
    )
    p.add_argument("--since", metavar="YYYY-MM-DD", help="from local midnight of this day (default: today)")
    p.add_argument("--until", metavar="YYYY-MM-DD", help="through the end of this day (default: now)")
    p.add_argument("--by", choices=("agent", "group", "team"), default="agent",
                   help="one row per agent (default) or group, then the team; or the team alone")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="default: table")
    p.add_argument("--offline", action="store_true", help="report from the monitor cache without syncing it")
    p.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                   help="the built-in demo shop (its own monitor cache)")
    p.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="read settings from PATH")
    p.set_defaults(run=run_report)


def _fail(message: str) -> int:
    from agentdesk.cli_output import fail

    return fail(message)


class _BadWindow(ValueError):
    pass


def _day(option: str, text: str | None):
    from datetime import date

    if text is None:
        return None
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise _BadWindow(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from None


def window(since: str | None, until: str | None, now: float) -> tuple[float, float]:
    """``[start, end)``: from local midnight of ``since`` (default: the ``until`` day, or
    today) to the midnight after ``until`` (default: now), never past now."""
    from datetime import timedelta

    from agentdesk.workflow import kpi

    first, last = _day("--since", since), _day("--until", until)
    if first is None:
        first = last
    start = kpi.midnight(first) if first else kpi.day_start(now)
    end = min(kpi.midnight(last + timedelta(days=1)), now) if last else now
    if start >= end:
        raise _BadWindow(f"the window {since or until or 'today'} … {until or 'now'} is empty "
                       "(--since after --until, or in the future)")
    return start, end


def run_report(args: argparse.Namespace) -> int:
    from agentdesk.cli import claimed
    from agentdesk.config import ConfigError, load_settings
    from agentdesk.quoting import path_text
    from agentdesk.store import CacheError, CacheInUse, Store, writes
    from agentdesk.sync import connect
    from agentdesk.workflow import kpi, report

    demo = bool(getattr(args, "demo", False))
    try:
        settings = load_settings(getattr(args, "config", None))
    except ConfigError as exc:
        return _fail(f"config error: {exc}")
    now = CLOCK.now()
    try:
        start, end = window(args.since, args.until, now)
    except _BadWindow as exc:
        return _fail(str(exc))
    path = settings.cache_path(demo=demo, monitor=True)
    never = f"no monitor cache at {path} yet: run without --offline to sync it"
    client = None
    if args.offline and not path.exists():
        return _fail(never)
    try:
        if args.offline:
            store = Store(path)
        else:
            try:  # the client before the cache is created: a config problem leaves no file behind
                store, client = claimed(args, path, lambda: connect.monitor_client(settings, path, demo=demo),
                                        demo=demo)
            except CacheInUse as exc:  # a running monitor keeps this cache up to date: read it as it is
                from agentdesk.cli_output import warn

                warn(f"{path_text(path)} is synced by a running agentdesk ({exc.holder}); reporting from it as it is")
                store = Store(path)
    except ConfigError as exc:
        return _fail(f"config error: {exc}; or report from the cache with --offline")
    except CacheError as exc:
        return _fail(f"cache error: {exc}")
    try:
        if client is not None:
            problem = _sync(store, client, path)
            if problem:
                return _fail(problem)
        if not store.read(writes.get_meta, "shop_id"):
            return _fail(never)
        with store.reading() as conn:
            result = kpi.compute(conn, start, end, settings.kpi)
    finally:
        store.close()

    lines = report.rows(result, args.by)
    if args.format == "csv":
        sys.stdout.write(report.to_csv(lines))
    elif args.format == "json":
        sys.stdout.write(report.to_json(result, lines))
    else:
        from rich.console import Console

        console = Console()
        if not console.is_terminal:
            console.width = 200  # a file or a pipe: never wrap the columns
        console.print(report.table(result, lines, settings.kpi, settings.language, args.by))
    return 0


def _sync(store, client, path) -> str | None:
    """Bring the monitor cache up to date with the read-only ``client``. Returns a
    one-line error to exit with, or None (an unreachable shop with a synced cache only
    warns)."""
    import asyncio

    from agentdesk.sync.client import ApiError, AuthError, Unavailable
    from agentdesk.sync.engine import SyncEngine
    from agentdesk.sync.wire import PayloadError

    client.max_retries = SYNC_RETRIES
    engine = SyncEngine(store, client)
    had_cache = engine.synced()

    async def sync() -> None:
        try:
            await engine.identify()
            await engine.initial_sync()
            await engine.catch_up()
        finally:
            await client.aclose()

    try:
        asyncio.run(sync())
    except AuthError as exc:
        return str(exc)  # names the token setting to check
    except Unavailable as exc:
        if not had_cache:
            return f"cannot reach the shop ({exc}) and there is no synced monitor cache at {path}"
        from agentdesk.cli_output import warn

        warn(f"cannot reach the shop ({exc}); reporting from the cache")
    except (ApiError, PayloadError) as exc:
        return f"sync failed: {exc}"
    return None
