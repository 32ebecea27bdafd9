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
    "agentdesk.chatwoot_double.commands",
    "agentdesk.sync.commands",
    "agentdesk.quickreply.commands",
    "agentdesk.workflow.report_commands",
    "agentdesk.store.commands",
    "agentdesk.find.commands",
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="agentdesk",
        description="Keyboard-driven terminal workstation for e-commerce customer service.",
    )
    p.add_argument("--demo", action="store_true", help="open the offline demo shop (no network, no config needed)")
    p.add_argument("--config", metavar="PATH", help="read settings from PATH instead of the usual places")
    p.add_argument("--monitor", action="store_true", help="supervisor read-only monitor mode")
    p.add_argument("--reset-cache", action="store_true",
                   help="rebuild the local cache (its unsent writes and drafts are saved to a file and put back)")
    p.add_argument("--force", action="store_true",
                   help="with --reset-cache: move aside a cache whose unsent writes cannot be read, instead of refusing")
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


def say(message: str) -> None:
    """One cleaned line on stderr (paths and names in it may hold anything)."""
    from agentdesk.cli_output import fail as cleaned_fail

    cleaned_fail(message)


def fail(message: str) -> int:
    from agentdesk.cli_output import fail as cleaned_fail

    return cleaned_fail(message)


def main(argv: list[str] | None = None) -> int:
    from agentdesk import cli_output

    cli_output.prepare_streams()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.force and not args.reset_cache:
            parser.error("--force only goes with --reset-cache")
        if getattr(args, "run", None) is not None:  # a subcommand
            code = int(args.run(args) or 0)
        else:
            code = run_app(args)
        sys.stdout.flush()  # inside the guard: a reader that left makes this raise
        return code
    except BrokenPipeError:
        return cli_output.pipe_closed()


class Claim:
    """This process's hold on a cache: the lock (one app per cache), then
    ``--reset-cache`` if asked, then :meth:`open`. Used by every command that syncs a
    cache (the workstation, the monitor, ``sync``, ``report``, ``outbox import``)."""

    def __init__(self, args: argparse.Namespace, path) -> None:
        from agentdesk.store import CacheLock

        self.path = path
        self.lock = CacheLock(path)
        self.lock.acquire()  # CacheInUse names the other process
        self.reset = None
        try:
            if getattr(args, "reset_cache", False):
                self._reset(args)
        except BaseException:
            self.lock.release()
            raise

    def _reset(self, args: argparse.Namespace) -> None:
        from agentdesk.quoting import path_text
        from agentdesk.store.reset import remove_files, reset
        from agentdesk.sync import connect

        self.reset = reset(self.path, force=getattr(args, "force", False))
        if getattr(args, "demo", False):
            remove_files(connect.demo_server_path(self.path))  # the demo shop is rebuilt too
        if self.reset.saved is not None:
            say(f"saved the {self.reset.found.describe()} of {path_text(self.path)} to "
                f"{path_text(self.reset.saved)} before rebuilding it")
        if self.reset.moved_to is not None:
            say(f"moved the unreadable cache aside to {path_text(self.reset.moved_to)}; starting a new one")

    def open(self):
        """The Store (it releases the lock when it closes); saved writes go back in."""
        import time

        from agentdesk.quoting import path_text
        from agentdesk.store import Store, unsent

        try:
            store = Store(self.path, lock=self.lock)
        except BaseException:
            self.lock.release()
            raise
        if self.reset is not None and self.reset.found:
            try:
                result = store.write(unsent.put_back, self.reset.found, time.time())
            except BaseException:
                store.close()
                raise
            say(f"{result.describe()} into the new cache; they go to the shop as soon as it answers"
                + (f" (skipped, kept in {path_text(self.reset.saved)}: {'; '.join(result.problems[:3])})"
                   if result.problems else ""))
        return store


def run_app(args: argparse.Namespace) -> int:
    """The workstation, or with ``--monitor`` the supervisor's read-only board; each on its
    own cache (the monitor never opens the agent's)."""
    from agentdesk.config import ConfigError, load_settings
    from agentdesk.store import CacheError

    try:
        settings = load_settings(args.config)
        from agentdesk.ui.keymap import checked  # [keys] names Textual's keys: checked here

        checked(settings)
    except ConfigError as exc:
        return fail(f"config error: {exc}")
    path = settings.cache_path(demo=args.demo, monitor=args.monitor)
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
    the app opens, so it opens on a full inbox. The demo shop is a file of ours: when it
    does not answer, that is a file to rebuild, said in one line."""
    import asyncio

    from agentdesk.sync.client import ApiError

    if engine.synced():
        return

    async def first_sync() -> None:
        await engine.identify()
        await engine.initial_sync()

    try:
        asyncio.run(first_sync())
    except ApiError as exc:
        engine.store.close()
        raise demo_shop_error(engine.store.path, exc) from None


def claimed(args: argparse.Namespace, path, make_client=None, *, demo: bool = False):
    """Claim the cache and open it, with the client ``make_client()`` builds (or None).
    A shop client is built first, so a config problem leaves no file behind; a demo
    client last, because it opens the demo shop's file, which a reset rebuilds with the
    cache and which is not worth building beside a cache that cannot open."""
    client = make_client() if make_client is not None and not demo else None
    store = Claim(args, path).open()
    if make_client is not None and demo:
        import sqlite3

        try:
            client = make_client()
        except sqlite3.DatabaseError as exc:
            store.close()
            raise demo_shop_error(path, exc) from None
        except BaseException:
            store.close()
            raise
    return store, client


def demo_shop_error(path, exc: Exception):
    """The demo shop's own file (beside the demo cache) will not serve: say which and how
    to rebuild it (it holds nothing of the agent's: unsent writes live in the cache)."""
    from agentdesk.quoting import literal, path_text
    from agentdesk.store import CacheError
    from agentdesk.sync import connect

    return CacheError(
        f"{path_text(connect.demo_server_path(path))}: the demo shop's file cannot be used ({literal(str(exc), 120)}); "
        "run again with --demo --reset-cache to rebuild the demo (your unsent demo writes are kept)"
    )


def open_monitor(args: argparse.Namespace, settings, path):
    """The supervisor's cache and a read-only client; with ``--demo``, over a demo shop
    whose agents work by themselves."""
    from agentdesk.sync import connect
    from agentdesk.sync.engine import SyncEngine

    store, client = claimed(args, path, lambda: connect.monitor_client(settings, path, demo=args.demo),
                            demo=args.demo)
    engine = SyncEngine(store, client)
    if args.demo:
        first_demo_sync(engine)
    return store, engine


def open_workstation(args: argparse.Namespace, settings, path):
    """The cache and its sync engine: the in-process demo shop with ``--demo``, the
    configured shop otherwise (no shop configured: the cache alone, offline)."""
    from agentdesk.sync import connect
    from agentdesk.sync.engine import SyncEngine

    if args.demo:
        source = str(settings.source or "config")
        connect.demo_token(settings.agent.name, source)  # a wrong demo agent: before any file is made
        store, client = claimed(
            args, path, lambda: connect.demo_client(path, agent=settings.agent.name,
                                                    simulate=settings.demo.simulate, source=source),
            demo=True,
        )
        try:
            connect.check_demo_cache(store)
        except Exception:
            store.close()
            raise
        engine = SyncEngine(store, client)
        first_demo_sync(engine)
        return store, engine
    store, client = claimed(args, path, (lambda: connect.shop_client(settings)) if settings.shop.url else None)
    return store, None if client is None else SyncEngine(store, client)
