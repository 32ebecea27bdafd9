"""The ``agentdesk`` command. Imports stay lazy: ``--help`` and ``--version`` must not
pay for Textual, and the app imports its UI only once the cache is open.

Subcommands (``agentdesk shop …``, ``agentdesk sync``, …) live beside the feature they
drive, each module exposing ``register(subparsers)``; ``agentdesk`` alone opens the app.
"""

from __future__ import annotations

import argparse
import importlib
import sys

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
    from agentdesk.cli_output import fail as cleaned_fail

    return cleaned_fail(message)


def main(argv: list[str] | None = None) -> int:
    from agentdesk import cli_output

    cli_output.prepare_streams()
    try:
        args = build_parser().parse_args(argv)
        if getattr(args, "run", None) is not None:  # a subcommand
            code = int(args.run(args) or 0)
        else:
            code = run_app(args)
        sys.stdout.flush()  # inside the guard: a reader that left makes this raise
        return code
    except BrokenPipeError:
        return cli_output.pipe_closed()


def run_app(args: argparse.Namespace) -> int:
    """The workstation, or with ``--monitor`` the supervisor's read-only board; each on its
    own cache (the monitor never opens the agent's)."""
    from agentdesk.config import ConfigError, load_settings
    from agentdesk.store import CacheError, reset_cache
    from agentdesk.sync import connect

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        return fail(f"config error: {exc}")
    path = settings.cache_path(demo=args.demo, monitor=args.monitor)
    if args.reset_cache:
        reset_cache(path)
        if args.demo:
            reset_cache(connect.demo_server_path(path))
    try:
        store, engine = (open_monitor if args.monitor else open_workstation)(args, settings, path)
    except CacheError as exc:
        return fail(f"cache error: {exc}")
    except ConfigError as exc:
        return fail(f"config error: {exc}")

    if args.monitor:
        from agentdesk.ui.monitor.app import MonitorApp as TuiApp
    else:
        from agentdesk.ui.app import AgentDeskApp as TuiApp
    app = TuiApp(store=store, settings=settings, demo=args.demo, sync=engine)
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


def open_monitor(args: argparse.Namespace, settings, path):
    """The supervisor's cache and a read-only client; with ``--demo``, over a demo shop
    whose agents work by themselves."""
    from agentdesk.store import Store
    from agentdesk.sync import connect
    from agentdesk.sync.engine import SyncEngine

    client = connect.monitor_client(settings, path, demo=args.demo)
    store = Store(path)
    engine = SyncEngine(store, client)
    if args.demo:
        first_demo_sync(engine)
    return store, engine


def open_workstation(args: argparse.Namespace, settings, path):
    """The cache and its sync engine: the in-process demo shop with ``--demo``, the
    configured shop otherwise (no shop configured: the cache alone, offline)."""
    from agentdesk.store import Store
    from agentdesk.sync import connect
    from agentdesk.sync.engine import SyncEngine

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
