"""``agentdesk chatwoot-double serve|tokens|say``: run the Chatwoot test double, list its
tokens, and write to it as a customer (through the double's ``/_double/say`` test route:
Chatwoot's public client API cannot find a contact by name)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    double = sub.add_parser("chatwoot-double", help="a Chatwoot test double (Application API v1 and its socket)")
    cmds = double.add_subparsers(dest="double_command", metavar="COMMAND", required=True)

    s = cmds.add_parser("serve", help="serve the double with uvicorn")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=3000)
    s.add_argument("--db", required=True, metavar="PATH", help="the double's own SQLite file")
    s.add_argument("--seed", choices=("demo", "none"), default="demo", help="seed an empty database (default demo)")
    s.add_argument("--simulate", type=float, default=0.0, metavar="RATE", help="customer messages per minute")
    s.add_argument("--fail-rate", type=float, default=0.0, metavar="X", help="share of API requests that fail (0-1)")
    s.add_argument("--latency", type=int, default=0, metavar="MS", help="added latency per request")
    s.add_argument("--fault-seed", type=int, default=0, metavar="N", help="seed of faults and simulator")
    s.set_defaults(run=run_serve)

    t = cmds.add_parser("tokens", help="list every user of a double's database with role and tokens")
    t.add_argument("--db", required=True, metavar="PATH")
    t.set_defaults(run=run_tokens)

    y = cmds.add_parser("say", help="write in as a customer (a new name starts a new contact)")
    y.add_argument("--url", required=True, help="the double, e.g. http://127.0.0.1:3000")
    y.add_argument("--inbox", type=int, default=1, metavar="ID")
    y.add_argument("--contact", required=True, metavar="NAME_OR_ID")
    y.add_argument("text", help="what the customer writes")
    y.set_defaults(run=run_say)


def _fail(message: str, code: int = 2) -> int:
    print(f"agentdesk chatwoot-double: {message}", file=sys.stderr)
    return code


def run_serve(args: argparse.Namespace) -> int:
    from agentdesk.chatwoot_double.server import serve
    from agentdesk.shop.commands import serve_until_stopped

    if not 0 <= args.fail_rate <= 1:
        return _fail("--fail-rate must be between 0 and 1")
    if args.simulate < 0 or args.latency < 0:
        return _fail("--simulate and --latency cannot be negative")
    print(f"Chatwoot double on http://{args.host}:{args.port} (db {args.db}); Ctrl+C stops it", file=sys.stderr)
    return serve_until_stopped(serve, args.host, args.port, args.db, seed=None if args.seed == "none" else "demo",
                               simulate=args.simulate, fail_rate=args.fail_rate, latency_ms=args.latency,
                               fault_seed=args.fault_seed)


def run_tokens(args: argparse.Namespace) -> int:
    import sqlite3
    from pathlib import Path

    from agentdesk.chatwoot_double import db
    from agentdesk.shop.commands import print_table

    if not Path(args.db).is_file():
        return _fail(f"{args.db}: no such database (`agentdesk chatwoot-double serve --db {args.db}` creates one)")
    try:
        users = db.read_tokens(args.db)
    except sqlite3.Error as exc:
        return _fail(f"{args.db}: not a Chatwoot double database ({exc})")
    print_table(("id", "name", "role", "access_token", "pubsub_token"),
                ((str(u["id"]), u["name"], u["role"], u["access_token"], u["pubsub_token"]) for u in users))
    return 0


def run_say(args: argparse.Namespace) -> int:
    import httpx

    url = args.url.rstrip("/") + "/_double/say"
    try:
        response = httpx.post(url, json={"inbox_id": args.inbox, "contact": args.contact, "content": args.text},
                              timeout=10)
    except httpx.HTTPError as exc:
        return _fail(f"cannot reach {args.url}: {type(exc).__name__}", 1)
    if response.status_code >= 400:
        try:
            detail = response.json().get("error", response.text)
        except ValueError:
            detail = response.text
        return _fail(f"{response.status_code}: {detail}", 1)
    print(response.json()["conversation_id"])
    return 0
