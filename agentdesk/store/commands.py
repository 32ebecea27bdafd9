"""``agentdesk outbox list|export|import``: see and keep what has not reached the shop.

``list`` and ``export`` read the cache without opening it for work (so they also read
a cache too new or too damaged to open, and run beside the app); ``import`` puts saved
writes back with their own ids, so it claims the cache like the app does.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("outbox", help="list, export or import the writes not yet acknowledged by the shop")
    osub = p.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)

    ls = osub.add_parser("list", help="the unsent writes and drafts of the cache (or of a saved FILE)")
    ls.add_argument("file", nargs="?", metavar="FILE", help="a file saved by --reset-cache or outbox export")
    ls.set_defaults(run=run_list)

    ex = osub.add_parser("export", help="save the unsent writes and drafts as JSON (for outbox import)")
    ex.add_argument("--output", "-o", metavar="PATH", help="write to PATH instead of stdout")
    ex.set_defaults(run=run_export)

    im = osub.add_parser("import", help="put saved writes back into the cache, with their own ids (sent once)")
    im.add_argument("file", metavar="FILE")
    im.set_defaults(run=run_import)
    for parser in (ls, ex, im):
        parser.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="read settings from PATH")


def _fail(message: str) -> int:
    print(f"agentdesk: {message}", file=sys.stderr)
    return 2


def _cache_path(args: argparse.Namespace) -> Path:
    from agentdesk.config import load_settings

    return load_settings(getattr(args, "config", None)).cache_path(demo=getattr(args, "demo", False))


def _found(args: argparse.Namespace):
    """(what is unsent, where it was read) from FILE or the cache; raises with one line."""
    from agentdesk.store import unsent

    if getattr(args, "file", None):
        return unsent.load(args.file), Path(args.file)
    path = _cache_path(args)
    return unsent.read(path), path


def run_list(args: argparse.Namespace) -> int:
    from agentdesk.config import ConfigError
    from agentdesk.quoting import literal, path_text
    from agentdesk.safetext import one_line
    from agentdesk.store import unsent

    try:
        found, where = _found(args)
    except ConfigError as exc:
        return _fail(f"config error: {exc}")
    except unsent.BadFile as exc:
        return _fail(str(exc))
    except unsent.Unreadable as exc:
        return _fail(f"{path_text(_cache_path(args))}: cannot read its unsent writes ({exc})")
    if not found:
        print(f"nothing unsent in {path_text(where)}")
        return 0
    for row in found.outbox:
        if not isinstance(row, dict):
            continue
        payload = row.get("payload") if isinstance(row.get("payload"), dict) else {}
        at = row.get("created_at")
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(at)) if isinstance(at, int | float) else "?"
        target = row.get("conversation_id") or row.get("customer_id") or payload.get("order_id") or ""
        text = payload.get("body") or payload.get("note") or ""
        error = f"  ({one_line(str(row['error']), limit=80)})" if row.get("error") else ""
        print(f"{when}  {literal(str(row.get('state', '?')), 10):<8} {literal(str(row.get('kind', '?')), 24):<20} "
              f"{literal(str(target), 40):<12} {one_line(str(text), limit=60)}{error}")
    for draft in found.drafts:
        if isinstance(draft, dict):
            print(f"draft in {literal(str(draft.get('conversation_id', '?')), 40)}: "
                  f"{one_line(str(draft.get('body', '')), limit=60)}")
    print(f"{found.describe()} in {path_text(where)}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from agentdesk.config import ConfigError
    from agentdesk.quoting import path_text
    from agentdesk.store import unsent

    try:
        path = _cache_path(args)
        found = unsent.read(path)
    except ConfigError as exc:
        return _fail(f"config error: {exc}")
    except unsent.Unreadable as exc:
        return _fail(f"{path_text(path)}: cannot read its unsent writes ({exc})")
    text = unsent.dumps(found, path)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="ascii")
        except OSError as exc:
            return _fail(f"{path_text(args.output)}: cannot write it ({exc.strerror or exc})")
        print(f"saved {found.describe()} to {path_text(args.output)}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Exit 0 when every saved write is queued (or was already), 1 when some could not
    be put back (each is named; they stay in the file), 2 when nothing could be done."""
    from agentdesk.cli import claimed
    from agentdesk.config import ConfigError
    from agentdesk.quoting import path_text
    from agentdesk.store import CacheError, unsent

    try:
        found = unsent.load(args.file)
        store, _ = claimed(args, _cache_path(args))
    except ConfigError as exc:
        return _fail(f"config error: {exc}")
    except unsent.BadFile as exc:
        return _fail(str(exc))
    except CacheError as exc:
        return _fail(f"cache error: {exc}")
    try:
        result = store.write(unsent.put_back, found, time.time())
    finally:
        store.close()
    for problem in result.problems:
        print(f"agentdesk: {path_text(args.file)}: {problem}", file=sys.stderr)
    print(f"{result.describe()} into {path_text(store.path)}; the app or `agentdesk sync --once` sends them")
    return 1 if result.problems else 0
