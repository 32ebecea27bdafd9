"""``agentdesk shop serve|tokens|say``: run the reference shop, list its tokens, and
write to it as a customer."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    shop = sub.add_parser("shop", help="the reference shop server (test double and demo backend)")
    cmds = shop.add_subparsers(dest="shop_command", metavar="SHOP_COMMAND", required=True)

    s = cmds.add_parser("serve", help="serve the shop API with uvicorn")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--db", required=True, metavar="PATH", help="the shop's own SQLite file")
    s.add_argument("--seed", choices=("demo", "none"), default="demo", help="seed an empty database (default demo)")
    s.add_argument("--simulate", type=float, default=0.0, metavar="RATE", help="customer messages per minute")
    s.add_argument("--colleagues", action="store_true",
                   help="the shop's agents work by themselves: claim, answer, take breaks, resolve")
    s.add_argument("--fail-rate", type=float, default=0.0, metavar="X", help="share of requests that fail (0-1)")
    s.add_argument("--latency", type=int, default=0, metavar="MS", help="added latency per request")
    s.add_argument("--fault-seed", type=int, default=0, metavar="N", help="seed of faults and simulator")
    s.set_defaults(run=run_serve)

    t = cmds.add_parser("tokens", help="list every agent of a shop database with role and token")
    t.add_argument("--db", required=True, metavar="PATH")
    t.set_defaults(run=run_tokens)

    y = cmds.add_parser("say", help="write to the shop as a customer (a new name starts a new customer)")
    y.add_argument("--url", required=True, help="the shop, e.g. http://127.0.0.1:8080")
    y.add_argument("--customer", required=True, metavar="NAME_OR_ID")
    y.add_argument("text", help="what the customer writes")
    y.set_defaults(run=run_say)


def _fail(message: str, code: int = 2) -> int:
    from agentdesk.cli_output import fail

    return fail(message, code, prefix="agentdesk shop")


def run_serve(args: argparse.Namespace) -> int:
    from agentdesk.shop.server import serve

    if not 0 <= args.fail_rate <= 1:
        return _fail("--fail-rate must be between 0 and 1")
    if args.simulate < 0 or args.latency < 0:
        return _fail("--simulate and --latency cannot be negative")
    from agentdesk.cli_output import say

    say(f"reference shop on http://{args.host}:{args.port} (db {args.db}); Ctrl+C stops it", err=True)
    return serve_until_stopped(serve, args.host, args.port, args.db, seed=None if args.seed == "none" else "demo",
                               simulate=args.simulate, colleagues=args.colleagues, fail_rate=args.fail_rate,
                               latency_ms=args.latency, fault_seed=args.fault_seed)


def serve_until_stopped(serve, *args, **options) -> int:
    """Run ``serve`` until Ctrl+C: 0, or 1 when uvicorn could not start (it said why,
    e.g. the port is taken)."""
    try:
        serve(*args, **options)
    except KeyboardInterrupt:
        pass
    except SystemExit as exc:
        return 1 if exc.code else 0
    return 0


def print_table(headers: tuple[str, ...], rows) -> None:
    """Every cell as cleaned Text: an agent called [/] or ESC ] 52 is just a name."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from agentdesk.safetext import one_line

    table = Table(*headers, box=None, pad_edge=False)
    for row in rows:
        table.add_row(*(Text(one_line(str(cell if cell is not None else ""), limit=200)) for cell in row))
    Console(soft_wrap=True).print(table)


def run_tokens(args: argparse.Namespace) -> int:
    import sqlite3
    from pathlib import Path

    from agentdesk.shop import db

    if not Path(args.db).is_file():
        return _fail(f"{args.db}: no such shop database (`agentdesk shop serve --db {args.db}` creates one)")
    try:
        agents = db.read_tokens(args.db)
    except sqlite3.Error as exc:
        return _fail(f"{args.db}: not a shop database ({exc})")
    print_table(("id", "name", "role", "read_only", "token"),
                ((a["id"], a["name"], a["role"], "yes" if a["read_only"] else "no", a["token"]) for a in agents))
    return 0


def run_say(args: argparse.Namespace) -> int:
    import httpx

    from agentdesk.safetext import one_line

    url = args.url.rstrip("/") + "/v1/customer/say"
    try:
        response = httpx.post(url, json={"customer": args.customer, "body": args.text}, timeout=10)
    except httpx.HTTPError as exc:
        return _fail(f"cannot reach {args.url}: {type(exc).__name__}", 1)
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code >= 400:
        detail = data.get("detail", response.text) if isinstance(data, dict) else response.text
        return _fail(f"{response.status_code}: {detail}", 1)  # cleaned: the shop's words, not ours
    if not isinstance(data, dict) or "conversation_id" not in data:
        return _fail(f"{url} answered {response.status_code} without a conversation_id", 1)
    from agentdesk.cli_output import say

    say(one_line(str(data["conversation_id"])))
    return 0
