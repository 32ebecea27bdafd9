"""A real cache full of the hostile corpus: every field that reaches a screen or a
command's output carries every hostile string, behind a marker naming the field and
the string (``§CN007`` = customer name, corpus entry 7), so a test can tell which
field it saw on screen.

One customer per corpus entry, with an open conversation (mine, waiting) and a resolved
one (a colleague's, pending), two orders, a note, a follow-up; one colleague per entry; one
shop-wide quick reply per entry; and the shop and "me" with names that combine the worst.
"""

from __future__ import annotations

import json
import re
import sqlite3

from agentdesk.store import Store, writes
from hostile import CORPUS, OSC52

#: 2026-11-20 14:30:00 Asia/Shanghai, the suite's anchor.
NOW = 1_795_156_200.0
ME = "a01"
ME_NAME = f"[/]{OSC52}\u3164\u3164❤️小美\u202e"
SHOP_NAME = "[bold]拾光[/]\x1b]0;pwned\x07\x1b#8🇨🇳店\ud800"

#: Field codes: where each hostile string is put.
FIELDS = {
    "CN": "customer name", "CL": "customer location", "CG": "customer tag",
    "GR": "conversation group", "CT": "conversation tag", "GW": "previous conversation's group",
    "MB": "customer message", "MA": "agent message", "MN": "internal note", "MO": "bot message",
    "MS": "system line", "ME": "send error", "MW": "previous conversation's message",
    "HF": "handoff from", "HT": "handoff to", "HN": "handoff note",
    "AN": "agent name", "AG": "agent's group", "AS": "agent presence",
    "OS": "order status", "OT": "order item", "OK": "order SKU", "OC": "carrier", "OR": "tracking number",
    "OA": "order address", "OM": "order remark", "RR": "refund reason",
    "NB": "customer note", "FN": "follow-up note",
    "QI": "quick-reply id", "QT": "quick-reply title", "QB": "quick-reply body", "QC": "quick-reply category",
    "QG": "quick-reply tag",
}
MARKER = re.compile(r"§([A-Z]{2})(\d{3})")
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable(text: str) -> str:
    """SQLite stores UTF-8, which has no lone surrogates: the sync boundary stores them
    as U+FFFD, and so does this scene (screens get raw ones through toasts)."""
    return _SURROGATE.sub("\ufffd", text)


def value(field: str, index: int) -> str:
    assert field in FIELDS
    return storable(f"§{field}{index:03d}{CORPUS[index][1]}")


def seen(text: str) -> set[tuple[str, int]]:
    """The (field, corpus index) pairs whose marker is in ``text``."""
    return {(m.group(1), int(m.group(2))) for m in MARKER.finditer(text)}


def build(conn: sqlite3.Connection) -> None:
    n = len(CORPUS)
    writes.set_meta(conn, "shop_id", "hostile")
    writes.set_meta(conn, "shop_name", storable(SHOP_NAME))
    writes.set_meta(conn, "me", ME)
    agents = [(ME, ME_NAME, "agent", json.dumps(["售前", "售后"]), 1, "online")]
    for i in range(n):
        status = ("online", "away", "offline", value("AS", i))[i % 4]
        agents.append((f"x{i:03d}", value("AN", i), "agent", json.dumps([value("AG", i), "售后"], ensure_ascii=False),
                       int(status == "online"), status))
    agents.append(("s01", value("AN", 0) + "主管", "supervisor", "[]", 1, "online"))
    conn.executemany("INSERT INTO agents (id, name, role, groups, online, status) VALUES (?, ?, ?, ?, ?, ?)", agents)
    for i in range(n):
        _customer(conn, i)
    conn.executemany(
        "INSERT INTO shop_replies (id, position, data) VALUES (?, ?, ?)",
        [(value("QI", i), i, json.dumps(reply_item(i), ensure_ascii=False)) for i in range(n)],
    )


def reply_item(i: int) -> dict:
    """The shop-wide quick reply the scene holds for corpus entry ``i``."""
    return {"id": value("QI", i), "title": value("QT", i), "body": value("QB", i), "category": value("QC", i),
            "tags": [value("QG", i)], "shortcode": f"h{i:03d}"}


def loadable_replies(indexes) -> set[int]:
    """Which of those replies pass the library's checks (the rest are reported, not shown)."""
    from agentdesk.quickreply import library

    return {i for i in indexes if not library.from_api([reply_item(i)]).problems}


def _customer(conn: sqlite3.Connection, i: int) -> None:
    cid, colleague = f"c{i:03d}", f"x{i:03d}"
    at = NOW - 4000 + i  # everyone waits past red, the first one longest
    conn.execute(
        "INSERT INTO customers (id, name, vip_level, tags, location, first_seen, opt_out) VALUES (?, ?, ?, ?, ?, ?, 0)",
        [cid, value("CN", i), i % 4, json.dumps([value("CG", i)], ensure_ascii=False), value("CL", i), NOW - 86400 * 30],
    )
    items = json.dumps([{"title": value("OT", i), "sku": value("OK", i), "qty": 2, "price": 9.9}], ensure_ascii=False)
    conn.execute(
        "INSERT INTO orders (id, customer_id, items, amount, status, carrier, tracking_no, address, created_at, "
        "paid_at, remarks, refund) VALUES (?, ?, ?, 19.8, ?, ?, ?, ?, ?, ?, ?, ?)",
        [f"o{i:03d}a", cid, items, value("OS", i), value("OC", i), value("OR", i), value("OA", i), at - 9000,
         at - 8900, json.dumps([{"body": value("OM", i), "agent_id": colleague, "at": at - 100}], ensure_ascii=False),
         json.dumps({"reason": value("RR", i), "amount": storable(CORPUS[i][1]), "status": "requested"},
                    ensure_ascii=False)],
    )
    conn.execute(
        "INSERT INTO orders (id, customer_id, items, amount, status, address, created_at, paid_at) "
        "VALUES (?, ?, ?, 19.8, '待发货', ?, ?, ?)",
        [f"o{i:03d}b", cid, items, value("OA", i), at - 5000, at - 4900],
    )
    mine, theirs = f"v{i:03d}", f"w{i:03d}"
    conn.execute(
        "INSERT INTO conversations (id, customer_id, grp, status, assignee_id, priority, tags, created_at, "
        "last_message_at) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?)",
        [mine, cid, value("GR", i), ME, 1 + i % 3, json.dumps([value("CT", i)], ensure_ascii=False), at - 600, at - 600],
    )
    conn.execute(
        "INSERT INTO conversations (id, customer_id, grp, status, assignee_id, created_at, last_message_at) "
        "VALUES (?, ?, ?, 'open', ?, ?, ?)",
        [theirs, cid, value("GW", i), colleague, at - 86400, at - 86400],
    )
    writes.add_message(conn, theirs, "customer", value("MW", i), at - 86400)
    writes.set_status(conn, theirs, "pending")
    writes.add_message(conn, mine, "bot", value("MO", i), at - 500)
    writes.add_message(conn, mine, "system", value("MS", i), at - 450)
    writes.add_message(conn, mine, "agent", value("MA", i), at - 400, agent_id=colleague)
    handoff = {"from": colleague, "from_name": value("HF", i), "to_agent": ME, "to_agent_name": value("HT", i),
               "to_group": None, "note": value("HN", i)}
    writes.add_message(conn, mine, "note", value("HN", i), at - 300, agent_id=colleague, meta={"handoff": handoff})
    writes.add_message(conn, mine, "note", value("MN", i), at - 200, agent_id=colleague)
    failed = writes.add_message(conn, mine, "agent", "亲，在的", at - 100, agent_id=ME, state="failed")
    conn.execute("UPDATE messages SET error = ? WHERE id = ?", [value("ME", i), failed])
    writes.add_message(conn, mine, "customer", value("MB", i), at)
    conn.execute("INSERT INTO customer_notes (customer_id, agent_id, body, at) VALUES (?, ?, ?, ?)",
                 [cid, colleague, value("NB", i), at - 700])
    conn.execute(
        "INSERT INTO followups (server_id, customer_id, order_id, conversation_id, agent_id, due_at, note, status, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?)",
        [f"f{i:03d}", cid, f"o{i:03d}a", mine, colleague, NOW - 60 + i * 30, value("FN", i), NOW - 86400],
    )


def hostile_store(path) -> Store:
    store = Store(path)
    store.write(build)
    return store
