"""``agentdesk search QUERY [--json] [--limit N]``: the message history from the command line."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="search the cached message history (newest first)",
                       description="Search every cached message; filters as in Find (from: to: agent: "
                                   "group: status: customer:).")
    p.add_argument("query", nargs="+", help="words to find (all of them), and filters")
    p.add_argument("--json", action="store_true", help="print JSON (stable for scripts)")
    p.add_argument("--limit", type=int, default=20, metavar="N", help="at most N messages (default 20)")
    p.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="read settings from PATH")
    p.set_defaults(run=run_search)


def run_search(args: argparse.Namespace) -> int:
    import json
    import time

    from agentdesk.cli import fail as _fail
    from agentdesk.config import ConfigError, load_settings
    from agentdesk.find import finder
    from agentdesk.find.query import parse
    from agentdesk.store import CacheError, Store, history

    if args.limit < 1:
        return _fail("--limit must be at least 1")
    text = " ".join(args.query)
    try:
        settings = load_settings(getattr(args, "config", None))
        path = settings.cache_path(demo=args.demo)
        store = Store(path)
    except ConfigError as exc:
        return _fail(f"config error: {exc}")
    except CacheError as exc:
        return _fail(f"cache error: {exc}")
    try:
        if args.demo:
            _demo_ready(store, path, settings)
        query = parse(text, time.time())
        if query.problems:
            return _fail(f"cannot read {', '.join(query.problems)} (see `agentdesk search --help`)")
        hits: list = []
        after = None
        with store.reading() as conn:
            while len(hits) < args.limit:
                page = finder.messages(conn, query, after=after, limit=args.limit - len(hits), budget=None)
                hits.extend(page.hits)
                if page.next is None:
                    break
                after = page.next
            indexed = history.progress(conn)
    finally:
        store.close()
    if indexed < 1.0:
        print(f"agentdesk: the history is {indexed:.0%} indexed; the rest was scanned (slower, still complete)",
              file=sys.stderr)
    if args.json:
        from agentdesk.timefmt import rfc3339

        json.dump({"query": text, "results": [
            {"conversation_id": h.conversation_id, "message_id": h.message_id, "customer": h.customer,
             "sender": h.sender, "body": h.body, "created_at": rfc3339(h.at)} for h in hits]},
            sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    _print_table(hits)
    return 0


def _print_table(hits: list) -> None:
    from datetime import datetime

    from agentdesk.safetext import fit, one_line, pad

    if not hits:
        print("no messages found")
        return
    for h in hits:
        when = datetime.fromtimestamp(h.at).strftime("%Y-%m-%d %H:%M")
        who = h.customer if h.sender == "customer" else (h.author or h.sender)
        print(f"{when}  {pad(one_line(h.customer or h.conversation_id, limit=40), 18)}  "
              f"{pad(one_line(who, limit=40), 10)}  {fit(one_line(h.body), 80)}  [{h.conversation_id}]")


def _demo_ready(store, path, settings) -> None:
    """A demo never opened yet is built first, from the in-process demo shop, exactly as
    ``agentdesk --demo`` builds it (nothing is sent anywhere)."""
    from agentdesk.cli import first_demo_sync
    from agentdesk.sync import connect
    from agentdesk.sync.engine import SyncEngine

    import asyncio

    client = connect.demo_client(path, agent=settings.agent.name, simulate=0, source=str(settings.source or "config"))
    try:
        first_demo_sync(SyncEngine(store, client))
    finally:
        asyncio.run(client.aclose())
