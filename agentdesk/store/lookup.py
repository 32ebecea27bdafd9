"""Customers and orders by what an agent pastes or types: a nickname by its characters,
its full pinyin or its initials (小鹿乱撞2018: ``xiaolu``, ``xllz``), a location or a tag;
an order number or any part of it, a tracking number.

One index (``find``, see :mod:`agentdesk.store.textindex`) over one text per customer
and per order, with the customers' docids below :data:`ORDER_DOCIDS` and the orders'
above it, so either kind is a rowid range of the same tables. Triggers queue every new
or changed customer and order (``find_queue``) in the writer's transaction; the
background indexer indexes the queue (:func:`index_new`: pinyin costs a sync page too
much to compute inline), and a lookup checks what is still queued directly, so it is
complete meanwhile. A changed text gets a new docid – contentless tables never forget
a row, so its old docid is unhooked (``ref`` NULL) and leads nowhere.

Pinyin comes from the ``pinyin_keys`` cache the quick-reply library keeps (one lookup
per run of Han characters), computed with pypinyin only for runs never seen.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from agentdesk.quickreply import pinyin
from agentdesk import textfold
from agentdesk.store import quickreplies, textindex

INDEX = "find"
#: Docids of customers are in [1, ORDER_DOCIDS), of orders in [ORDER_DOCIDS, 2 * ORDER_DOCIDS).
ORDER_DOCIDS = 1 << 40
_RANGES = {"customer": (1, ORDER_DOCIDS), "order": (ORDER_DOCIDS, 2 * ORDER_DOCIDS)}
_FIELD = "\x1f"  # between fields: no term spans two of them
#: An order is looked up only by a term with this many digits or more (a part of its
#: number or a tracking number); "订单" alone would match every order.
ORDER_DIGITS = 4
_ORDER_TERM = re.compile(r"[0-9a-z\-]+")
_ASCII_LETTER = re.compile(r"[a-z]")
#: Queued customers or orders a search checks directly while the indexer works the
#: queue off (after the migration on a cache with very many of them it says "indexing").
QUEUE_SCAN = 20_000


@dataclass(frozen=True)
class CustomerHit:
    id: str
    name: str
    vip_level: int
    location: str
    tags: tuple[str, ...]
    #: Their most recent conversation and when it last moved (None: no conversation).
    conversation_id: str | None
    last_contact: float | None


@dataclass(frozen=True)
class OrderHit:
    id: str
    customer_id: str
    customer: str
    status: str
    carrier: str | None
    tracking_no: str | None
    created_at: float | None
    #: The conversation about this order, else the customer's most recent one.
    conversation_id: str | None


# -- texts --------------------------------------------------------------------------------


def customer_text(name: str, location: str, tags: Iterable[str], syllables: Callable[[str], list[str]]) -> str:
    """What a customer is found by: name, its full pinyin and initials (a character
    without pinyin stands for itself), location, tags – folded, one field each."""
    folded = textfold.fold(name)
    syl = syllables(folded)
    full = "".join(s or ch for ch, s in zip(folded, syl) if not ch.isspace())
    initials = "".join(s[0] if s else ch for ch, s in zip(folded, syl) if not ch.isspace())
    return _FIELD.join((folded, full, initials, textfold.fold(location or ""), textfold.fold(" ".join(tags))))


def order_text(order_id: str, tracking_no: str | None) -> str:
    return textfold.fold(order_id) + _FIELD + textfold.fold(tracking_no or "")


def _tags(raw: str | None) -> tuple[str, ...]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return ()
    return tuple(str(t) for t in value) if isinstance(value, list) else ()


def _syllables(conn: sqlite3.Connection, names: Iterable[str], *, compute: bool) -> Callable[[str], list[str]]:
    """Per-character pinyin for these names from the cache (and pypinyin for runs never
    seen when ``compute``: only the writer may, as it stores what it computed)."""
    runs = pinyin.han_runs(textfold.fold(n) for n in names)
    keys = quickreplies.pinyin_keys(conn, runs)
    missing = runs - keys.keys()
    if missing and compute:
        fresh = pinyin.compute(missing)
        quickreplies.save_pinyin_keys(conn, fresh)
        keys.update(fresh)
    return pinyin.Syllables(keys).of


def _customer_rows(conn: sqlite3.Connection, ids: Sequence[str]) -> list[tuple]:
    return conn.execute("SELECT id, name, location, tags, vip_level FROM customers WHERE id IN "
                        "(SELECT value FROM json_each(?))", [json.dumps(list(ids))]).fetchall()


def _order_rows(conn: sqlite3.Connection, ids: Sequence[str]) -> list[tuple]:
    return conn.execute("SELECT id, tracking_no FROM orders WHERE id IN (SELECT value FROM json_each(?))",
                        [json.dumps(list(ids))]).fetchall()


def _no_pinyin(text: str) -> list[str]:
    return [""] * len(text)


def _texts(conn: sqlite3.Connection, kind: str, ids: Sequence[str], *, compute: bool,
           pinyin_needed: bool = True) -> dict[str, str]:
    """The indexed text of each customer or order. Without ``pinyin_needed`` (no term has
    a Latin letter, so none can match inside the pinyin fields) the pinyin is left out:
    checking a candidate then costs no key lookup."""
    if kind == "customer":
        rows = _customer_rows(conn, ids)
        syl = _syllables(conn, [r[1] for r in rows], compute=compute) if pinyin_needed else _no_pinyin
        return {r[0]: customer_text(r[1], r[2], _tags(r[3]), syl) for r in rows}
    return {r[0]: order_text(r[0], r[1]) for r in _order_rows(conn, ids)}


# -- keeping the index -------------------------------------------------------------------


def index_new(conn: sqlite3.Connection, limit: int = 5000) -> int:
    """Index up to ``limit`` queued customers and orders (what this transaction wrote,
    or what the migration queued); returns how many were taken off the queue."""
    queued = conn.execute("SELECT kind, ref FROM find_queue LIMIT ?", [limit]).fetchall()
    if not queued:
        return 0
    for kind in _RANGES:
        ids = [ref for k, ref in queued if k == kind]
        if ids:
            _index(conn, kind, ids)
    conn.executemany("DELETE FROM find_queue WHERE kind = ? AND ref = ?", queued)
    return len(queued)


def _index(conn: sqlite3.Connection, kind: str, ids: list[str]) -> None:
    texts = _texts(conn, kind, ids, compute=True)
    old = {ref: (docid, known) for docid, ref, known in conn.execute(
        "SELECT docid, ref, text FROM find_keys WHERE kind = ? AND ref IN (SELECT value FROM json_each(?))",
        [kind, json.dumps(ids)])}
    lo, hi = _RANGES[kind]
    top = conn.execute("SELECT max(docid) FROM find_keys WHERE docid >= ? AND docid < ?", [lo, hi]).fetchone()[0]
    docid = lo - 1 if top is None else top
    docs: list[tuple[int, str]] = []
    for ref, text in texts.items():
        before = old.get(ref)
        if before is not None:
            if before[1] == text:
                continue
            conn.execute("UPDATE find_keys SET ref = NULL WHERE docid = ?", [before[0]])
        docid += 1
        conn.execute("INSERT INTO find_keys (docid, kind, ref, text) VALUES (?, ?, ?, ?)", [docid, kind, ref, text])
        docs.append((docid, text))
    textindex.add(conn, INDEX, docs)


def unknown_runs(conn: sqlite3.Connection, limit: int) -> set[str]:
    """Runs of Han characters in the names of the next ``limit`` queued customers with no
    pinyin cached yet: computed outside the writer's transaction by the indexer (pypinyin
    takes ~12 µs a character, and its first use imports it for ~0.2 s)."""
    refs = [r[0] for r in conn.execute("SELECT ref FROM find_queue WHERE kind = 'customer' LIMIT ?", [limit])]
    runs = pinyin.han_runs(textfold.fold(r[1]) for r in _customer_rows(conn, refs))
    return runs - quickreplies.pinyin_keys(conn, runs).keys()


def progress(conn: sqlite3.Connection) -> int:
    """Customers and orders still waiting to be indexed (searched directly meanwhile)."""
    return conn.execute("SELECT count(*) FROM find_queue").fetchone()[0]


# -- looking up ---------------------------------------------------------------------------


def _matching(conn: sqlite3.Connection, kind: str, terms: tuple[str, ...], limit: int) -> list[str]:
    """Refs of ``kind`` whose text holds every term – the queued ones (their text made
    now), then the most recently indexed (their text as indexed) – each checked against
    its text; candidates are read a little more than ``limit`` at a time (four times more
    each round) until enough hold the terms."""
    lo, hi = _RANGES[kind]
    latin = any(_ASCII_LETTER.search(t) for t in terms)
    queued = [r[0] for r in conn.execute("SELECT ref FROM find_queue WHERE kind = ? LIMIT ?", [kind, QUEUE_SCAN])]
    texts = _texts(conn, kind, queued, compute=False, pinyin_needed=latin)
    found = [ref for ref in queued if ref in texts and textfold.contains_all(texts[ref], terms)]
    below, batch = hi, limit + limit // 2
    while len(found) < limit:
        docids = textindex.candidates(conn, INDEX, terms, below=below, floor=lo, limit=batch)
        found += [ref for ref, text in conn.execute(
            "SELECT ref, text FROM find_keys WHERE docid IN (SELECT value FROM json_each(?)) AND ref IS NOT NULL "
            "ORDER BY docid DESC", [json.dumps(docids)]) if textfold.contains_all(text, terms)]
        if len(docids) < batch:
            break
        below, batch = docids[-1], min(batch * 4, 5000)
    return list(dict.fromkeys(found))[:limit]


def _latest_conversation(conn: sqlite3.Connection, customer_id: str, order_id: str | None = None) -> tuple | None:
    """The customer's conversation about ``order_id`` if any, else their most recent one."""
    rows = conn.execute("SELECT id, last_message_at, order_id FROM conversations WHERE customer_id = ? "
                        "ORDER BY last_message_at DESC LIMIT 200", [customer_id]).fetchall()
    about = [r for r in rows if order_id is not None and r[2] == order_id]
    return (about or rows or [None])[0]


def customers(conn: sqlite3.Connection, words: Sequence[str], limit: int = 50) -> list[CustomerHit]:
    """Customers matching every word, the most recently in contact first."""
    terms = textfold.fold_terms(words)
    if not terms:
        return []
    refs = _matching(conn, "customer", terms, limit)
    # Each one's latest conversation in one statement (the row of max() is the latest).
    latest = {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT customer_id, id, max(last_message_at) FROM conversations "
        "WHERE customer_id IN (SELECT value FROM json_each(?)) GROUP BY customer_id", [json.dumps(refs)])}
    hits = []
    for r in _customer_rows(conn, refs):
        conversation, last = latest.get(r[0], (None, None))
        hits.append(CustomerHit(r[0], r[1], r[4] or 0, r[2] or "", _tags(r[3]), conversation, last))
    hits.sort(key=lambda h: (h.last_contact is not None, h.last_contact or 0.0), reverse=True)
    return hits


def order_terms(words: Sequence[str]) -> tuple[str, ...]:
    """The terms an order is looked up by, or () when the query is not about an order
    (see :data:`ORDER_DIGITS`)."""
    terms = textfold.fold_terms(words)
    if terms and all(_ORDER_TERM.fullmatch(t) for t in terms) and \
            any(sum(c.isdigit() for c in t) >= ORDER_DIGITS for t in terms):
        return terms
    return ()


def orders(conn: sqlite3.Connection, words: Sequence[str], limit: int = 50) -> list[OrderHit]:
    """Orders whose number or tracking number holds every word, the newest first."""
    terms = order_terms(words)
    if not terms:
        return []
    refs = _matching(conn, "order", terms, limit)
    rows = conn.execute(
        "SELECT o.id, o.customer_id, coalesce(cu.name, ''), o.status, o.carrier, o.tracking_no, o.created_at "
        "FROM orders o LEFT JOIN customers cu ON cu.id = o.customer_id WHERE o.id IN (SELECT value FROM json_each(?))",
        [json.dumps(refs)]).fetchall()
    hits = []
    for r in rows:
        latest = _latest_conversation(conn, r[1], r[0])
        hits.append(OrderHit(*r, conversation_id=latest[0] if latest else None))
    hits.sort(key=lambda h: h.created_at or 0.0, reverse=True)
    return hits


def customer_conversations(conn: sqlite3.Connection, words: Sequence[str], limit: int = 50) -> tuple[str, ...]:
    """Every conversation of the customers matching ``words`` (a ``customer:`` filter)."""
    ids = [h.id for h in customers(conn, words, limit)]
    return tuple(r[0] for r in conn.execute(
        "SELECT id FROM conversations WHERE customer_id IN (SELECT value FROM json_each(?))", [json.dumps(ids)]))
