"""``agentdesk replies check [PATH]`` and ``agentdesk replies search QUERY``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replies", help="check or search the quick-reply library (话术库)")
    rsub = p.add_subparsers(dest="replies_command", metavar="ACTION", required=True)

    c = rsub.add_parser("check", help="validate reply files: TOML errors, duplicates, unknown variables, empty bodies")
    c.add_argument("path", nargs="?", help="a .toml file or a directory (default: the shipped and your personal library)")
    c.set_defaults(run=run_check)

    s = rsub.add_parser("search", help="print the ranked replies for QUERY (characters, pinyin, initials, shortcodes)")
    s.add_argument("query")
    s.add_argument("--json", action="store_true", help="stable JSON for scripts")
    s.add_argument("--limit", type=int, default=10, metavar="N", help="how many results (default 10)")
    s.add_argument("--dir", metavar="PATH", help="search only the library in PATH (before deploying it)")
    s.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help="read settings from PATH")
    s.set_defaults(run=run_search)


def run_check(args: argparse.Namespace) -> int:
    """Problems go to stderr as ``file:line: message`` (like a compiler's), one line
    each; the count of what loads goes to stdout. Exit 1 when there is a problem."""
    from agentdesk.quickreply import library, synonyms
    from agentdesk.quoting import path_text

    targets = [Path(args.path)] if args.path else [library.bundled_dir(), library.personal_dir()]
    if args.path and not os.path.lexists(targets[0]):
        print(f"agentdesk: {path_text(args.path)}: no such file or directory", file=sys.stderr)
        return 2
    replies = files = 0
    problems: list[library.Problem] = []
    for target in targets:
        lib = library.load_dir(target)
        replies += len(lib.replies)
        files += len(list(target.rglob("*.toml"))) if target.is_dir() else int(os.path.lexists(target))
        problems.extend(lib.problems)
        problems.extend(synonyms.load_dirs([target])[1])
    for problem in problems:
        print(problem, file=sys.stderr)
    where = ", ".join(path_text(t) for t in targets)
    if problems:
        print(f"{len(problems)} problem(s); {replies} replies in {files} file(s) load ({where})")
        return 1
    print(f"ok: {replies} replies in {files} file(s) ({where})")
    return 0


def run_search(args: argparse.Namespace) -> int:
    import time

    from agentdesk.config import ConfigError, load_settings
    from agentdesk.quickreply import loader
    from agentdesk.store import CacheError, Store

    try:
        settings = load_settings(getattr(args, "config", None))
        store = Store(settings.cache_path(demo=args.demo))
    except ConfigError as exc:
        print(f"agentdesk: config error: {exc}", file=sys.stderr)
        return 2
    except CacheError as exc:
        print(f"agentdesk: cache error: {exc}", file=sys.stderr)
        return 2
    only = Path(args.dir) if args.dir else None
    if only is not None and not only.exists():
        print(f"agentdesk: {args.dir}: no such file or directory", file=sys.stderr)
        return 2
    try:
        opened = loader.open_library(store, now=time.time(), only=only)
    finally:
        store.close()
    for problem in opened.library.problems:
        print(f"warning: {problem}", file=sys.stderr)
    hits = opened.index.search(args.query, limit=max(1, args.limit))
    if args.json:
        out = {
            "query": args.query,
            "results": [
                {
                    "id": h.reply.id,
                    "shortcode": h.reply.shortcode,
                    "title": h.reply.title,
                    "score": round(h.score, 1),
                    "category": h.reply.category,
                    "layer": h.reply.layer,
                    "field": h.field,
                    "typo": h.typo,
                    "partial": h.partial,
                }
                for h in hits
            ],
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from agentdesk.safetext import one_line

    table = Table(box=None, header_style="bold")
    for col in ("id", "shortcode", "title", "score"):
        table.add_column(col, justify="right" if col == "score" else "left")
    for h in hits:
        mark = " ≈" if h.partial else ""  # found by shared words, not as typed
        table.add_row(Text(h.reply.id), Text(h.reply.shortcode), Text(one_line(h.reply.title) + mark), f"{h.score:.0f}")
    console = Console()
    if hits:
        console.print(table)
    else:
        console.print(Text(f"no reply matches {args.query!r}"))
    return 0
