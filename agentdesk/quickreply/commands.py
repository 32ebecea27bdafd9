"""``agentdesk replies check [PATH]`` and ``agentdesk replies search QUERY``."""

from __future__ import annotations

import argparse
import os
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
    """Problems go to stderr as ``file:line: message`` (like a compiler's), one cleaned
    line each; the count of what loads goes to stdout. Exit 1 when there is a problem."""
    from agentdesk.cli_output import fail, say
    from agentdesk.quickreply import library, synonyms
    from agentdesk.quoting import path_text

    targets = [Path(args.path)] if args.path else [library.bundled_dir(), library.personal_dir()]
    if args.path and not os.path.lexists(targets[0]):
        return fail(f"{path_text(args.path)}: no such file or directory")
    replies = files = 0
    problems: list[library.Problem] = []
    for target in targets:
        lib = library.load_dir(target)
        replies += len(lib.replies)
        files += len(list(target.rglob("*.toml"))) if target.is_dir() else int(os.path.lexists(target))
        problems.extend(lib.problems)
        problems.extend(synonyms.load_dirs([target])[1])
    for problem in problems:  # a file's own words (a reply id "[/]", an escape): cleaned
        say(problem, err=True)
    where = ", ".join(path_text(t) for t in targets)
    if problems:
        say(f"{len(problems)} problem(s); {replies} replies in {files} file(s) load ({where})")
        return 1
    say(f"ok: {replies} replies in {files} file(s) ({where})")
    return 0


def run_search(args: argparse.Namespace) -> int:
    import time

    from agentdesk.cli_output import fail, say
    from agentdesk.config import ConfigError, load_settings
    from agentdesk.quickreply import loader
    from agentdesk.safetext import json_dumps, one_line
    from agentdesk.store import CacheError, Store

    try:
        settings = load_settings(getattr(args, "config", None))
        store = Store(settings.cache_path(demo=args.demo))
    except ConfigError as exc:
        return fail(f"config error: {exc}")
    except CacheError as exc:
        return fail(f"cache error: {exc}")
    only = Path(args.dir) if args.dir else None
    if only is not None and not only.exists():
        return fail(f"{args.dir}: no such file or directory")
    try:
        opened = loader.open_library(store, now=time.time(), only=only)
    finally:
        store.close()
    for problem in opened.library.problems:
        say(f"warning: {problem}", err=True)
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
        print(json_dumps(out, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold")
    for col in ("id", "shortcode", "title", "score"):
        table.add_column(col, justify="right" if col == "score" else "left")
    for h in hits:
        mark = " ≈" if h.partial else ""  # found by shared words, not as typed
        table.add_row(Text(one_line(h.reply.id, limit=200)), Text(one_line(h.reply.shortcode, limit=200)),
                      Text(one_line(h.reply.title, limit=200) + mark), f"{h.score:.0f}")
    console = Console()
    if hits:
        console.print(table)
    else:
        console.print(Text(one_line(f"no reply matches {args.query!r}")))
    return 0
