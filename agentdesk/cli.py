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
COMMAND_MODULES = ("agentdesk.shop.commands", "agentdesk.sync.commands")


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
    from agentdesk.store import CacheError, Store, reset_cache

    if args.monitor:
        return fail("monitor mode is not available yet (it arrives with the supervisor board)")
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        return fail(f"config error: {exc}")

    path = settings.cache_path(demo=args.demo)
    if args.reset_cache:
        reset_cache(path)
    try:
        if args.demo:
            from agentdesk.demo.build import open_demo

            store = open_demo(path, anchor=time.time(), agent=settings.agent.name)
        else:
            store = Store(path)
    except CacheError as exc:
        return fail(f"cache error: {exc}")
    except ValueError as exc:  # a demo agent that does not exist
        return fail(f"config error: {exc}")

    from agentdesk.ui.app import AgentDeskApp

    app = AgentDeskApp(store=store, settings=settings, demo=args.demo)
    try:
        app.run()
    finally:
        store.close()
    return app.return_code or 0
