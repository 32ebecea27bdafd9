"""The ``agentdesk`` command. Imports stay lazy: ``--help`` and ``--version`` must not
pay for Textual, and the app imports its UI only once the cache is open.

Subcommands (``agentdesk shop …``, ``agentdesk sync``, …) live beside the feature they
drive, each module exposing ``register(subparsers)``; ``agentdesk`` alone opens the app.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from agentdesk import __version__

#: Modules that add subcommands; each has ``register(subparsers)`` and keeps its own
#: heavy imports inside the command functions.
COMMAND_MODULES = (
    "agentdesk.shop.commands",
    "agentdesk.sync.commands",
    "agentdesk.quickreply.commands",
    "agentdesk.workflow.report_commands",
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="agentdesk",
        description="Keyboard-driven terminal workstation for e-commerce customer service.",
    )
    p.add_argument("--demo", action="store_true", help="open the offline demo shop (no network, no config needed)")
    p.add_argument("--config", metavar="PATH", help="read settings from PATH instead of the usual places")
    p.add_argument("--monitor", action="store_true", help="supervisor read-only monitor mode")
    p.add_argument("--reset-cache", action="store_true", help="delete and rebuild the local cache before starting")
    p.add_argument("--version", action="version", version=f"agentdesk {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not exc.name or not name.startswith(exc.name):  # a real import error inside
                raise
            continue
        module.register(sub)
    return p


def fail(message: str) -> int:
    print(f"agentdesk: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "run", None) is not None:  # a subcommand
        return int(args.run(args) or 0)
    return run_app(args)


def run_app(args: argparse.Namespace) -> int:
    from agentdesk.config import ConfigError, load_settings
    from agentdesk.store import CacheError

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        return fail(f"config error: {exc}")
    if args.monitor:
        return run_monitor(args, settings)

    path = settings.cache_path(demo=args.demo)
    try:
        store, engine = open_workstation(args, settings, path)
    except CacheError as exc:
        return fail(f"cache error: {exc}")
    except ConfigError as exc:
        return fail(f"config error: {exc}")

    from agentdesk.ui.app import AgentDeskApp

    app = AgentDeskApp(store=store, settings=settings, demo=args.demo, sync=engine)
    try:
        app.run()
    finally:
        store.close()
    return app.return_code or 0


def first_demo_sync(engine) -> None:
    """First run of a demo: build the cache from the in-process demo shop (< 1 s) before
    the app opens, so it opens on a full inbox."""
    import asyncio

    if engine.synced():
        return

    async def first_sync() -> None:
        await engine.identify()
        await engine.initial_sync()

    asyncio.run(first_sync())


def run_monitor(args: argparse.Namespace, settings) -> int:
    """The supervisor's read-only board, on its own cache (never the agent's) and a
    read-only client; with ``--demo``, over a demo shop whose agents work by themselves."""
    from agentdesk.config import ConfigError
    from agentdesk.store import CacheError, Store, reset_cache
    from agentdesk.sync import connect
    from agentdesk.sync.engine import SyncEngine

    path = settings.cache_path(demo=args.demo, monitor=True)
    if args.reset_cache:
        reset_cache(path)
        if args.demo:
            reset_cache(connect.demo_server_path(path))
    try:
        client = connect.monitor_client(settings, path, demo=args.demo)
        store = Store(path)
    except ConfigError as exc:
        return fail(f"config error: {exc}")
    except CacheError as exc:
        return fail(f"cache error: {exc}")
    engine = SyncEngine(store, client)
    if args.demo:
        first_demo_sync(engine)

    from agentdesk.ui.monitor.app import MonitorApp

    app = MonitorApp(store=store, settings=settings, demo=args.demo, sync=engine)
    try:
        app.run()
    finally:
        store.close()
    return app.return_code or 0


def open_workstation(args: argparse.Namespace, settings, path):
    """The cache and its sync engine: the in-process demo shop with ``--demo``, the
    configured shop otherwise (no shop configured: the cache alone, offline)."""
    from agentdesk.store import Store, reset_cache
    from agentdesk.sync import connect
    from agentdesk.sync.engine import SyncEngine

    if args.reset_cache:
        reset_cache(path)
        if args.demo:
            reset_cache(connect.demo_server_path(path))
    if args.demo:
        client = connect.demo_client(path, agent=settings.agent.name, simulate=settings.demo.simulate,
                                     source=str(settings.source or "config"))
        store = Store(path)
        try:
            connect.check_demo_cache(store)
        except Exception:
            store.close()
            raise
        engine = SyncEngine(store, client)
        first_demo_sync(engine)
        return store, engine
    store = Store(path)
    if not settings.shop.url:
        return store, None
    return store, SyncEngine(store, connect.shop_client(settings))
