"""The message history's full-text index, and searching it newest first.

Kept up to date inside the writer's own transaction: whoever writes messages – the sync's
apply step, a sent reply or note – calls :func:`index_new` before committing, which
indexes every message above ``search.indexed_to`` (what this transaction wrote, and what
any writer that did not call it left). A message removed (an outbox reply withdrawn after
a refusal) or edited loses its docid by trigger (an edited one is queued). The messages of
a cache made before the index existed are indexed by :func:`backfill` in short
transactions (newest first); until that is done, and for anything not indexed yet, a
search also scans those messages directly, so it is complete at every moment.

Order: docid = (the second of ``at`` << 10) + a free slot, so the index returns the
newest first by walking rowids down (to the second; within one, in the order written),
and a page ends where the next one starts (a keyset on the docid). Every candidate is checked against its body (see
:mod:`agentdesk.store.textindex`), so results are exactly the messages that contain
every term after folding.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from agentdesk import textfold
from agentdesk.store import textindex

INDEX = "search"
_SLOT_BITS = 10
_MAX_SECONDS = 1 << 52
#: How far a 'to:' bound looks above its second for slots that spilled over (over 1024
#: messages stamped with the same second).
_SPILL = 60 << _SLOT_BITS
#: Candidates read from the index per round trip while filling a page: a little more than
#: the page at first (most candidates hold the words), four times more each round after.
_FIRST_BATCH, _MAX_BATCH = 60, 2000
#: A page stops after this many candidates when its filters reject most of them (the
#: next page goes on from there): the UI's bound on one search's work. None: no bound.
BUDGET = 20_000
#: Messages of a scope (a conversation, a customer's conversations) up to which the scope
#: is read directly instead of through the index.
SCAN_SCOPE = 50_000
TOP = "search.indexed_to"
BELOW = "search.backfill_below"
TOTAL = "search.backfill_total"


@dataclass(frozen=True)
class Scope:
    """Filters of a search; None means no filter."""

    since: float | None = None  # at >= since
    until: float | None = None  # at < until
    conversations: tuple[str, ...] | None = None
    agents: tuple[str, ...] | None = None  # written by these agents
    group: str | None = None
    status: str | None = None

    @property
    def empty(self) -> bool:
        return self == Scope()


@dataclass(frozen=True)
class Hit:
    message_id: int
    conversation_id: str
    customer_id: str
    customer: str  # the customer's name ("" when the cache does not know them)
    sender: str
    agent_id: str | None
    author: str  # the agent's name, for agent messages and notes
    body: str
    at: float
    #: Where this hit sits in the result order (the next page starts below it).
    key: tuple


@dataclass(frozen=True)
class Page:
    hits: list[Hit]
    #: Where the next page starts, or None when nothing is left.
    next: tuple | None
    examined: int = 0


# -- keeping the index -------------------------------------------------------------------


def _base(at: float) -> int:
    seconds = int(at) if math.isfinite(at) else (_MAX_SECONDS - 1 if at > 0 else 0)
    return min(max(seconds, 0), _MAX_SECONDS - 1) << _SLOT_BITS


def _allocate(conn: sqlite3.Connection, rows: Sequence[tuple[int, str, float]]) -> list[tuple[int, int]]:
    """(docid, message id) for each (id, body, at): the next free slot of its second, in
    id order so messages of one second keep the order they were written in. One
    statement reads every second's highest docid (an index seek each)."""
    ordered = sorted(rows, key=lambda r: r[0])
    bases = sorted({_base(at) for _, _, at in ordered})
    width = 1 << _SLOT_BITS
    # What a sync writes is mostly newer than anything indexed: those seconds are empty.
    newest = conn.execute("SELECT max(docid) FROM search_docs").fetchone()[0]
    taken = {base: base - 1 for base in bases if newest is None or base > newest}
    older = [base for base in bases if base not in taken]
    if older:
        taken.update(
            (base, base - 1 if top is None else top)
            for base, top in conn.execute(
                "SELECT b.value, (SELECT max(docid) FROM search_docs WHERE docid >= b.value AND docid < b.value + ?) "
                "FROM json_each(?) b", [width, json.dumps(older)]))
    out: list[tuple[int, int]] = []
    assigned: set[int] = set()
    for mid, _, at in ordered:
        base = _base(at)
        docid = taken[base] + 1
        # over 1024 in one second: spill to the next docid free in the cache and here
        while docid in assigned or (docid >= base + width and conn.execute(
                "SELECT 1 FROM search_docs WHERE docid = ?", [docid]).fetchone()):
            docid += 1
        taken[base] = docid
        assigned.add(docid)
        out.append((docid, mid))
    return out


def _index(conn: sqlite3.Connection, rows: Sequence[tuple[int, str, float]]) -> None:
    if not rows:
        return
    bodies = {mid: body for mid, body, _ in rows}
    pairs = _allocate(conn, rows)
    conn.executemany("INSERT INTO search_docs (docid, message_id) VALUES (?, ?)", pairs)
    textindex.add(conn, INDEX, [(docid, textfold.fold(bodies[mid])) for docid, mid in pairs])


def index_new(conn: sqlite3.Connection, limit: int = 5000) -> int:
    """Index what this transaction (or any writer before it) added: up to ``limit``
    messages above ``search.indexed_to``, and the edited ones queued, so a writer's
    transaction stays bounded; the indexer takes the rest. Returns how many were indexed."""
    top = _meta_int(conn, TOP)
    rows = conn.execute(
        "SELECT id, body, at, EXISTS (SELECT 1 FROM search_docs d WHERE d.message_id = m.id) FROM messages m "
        "WHERE id > ? ORDER BY id LIMIT ?", [top, limit]).fetchall()
    queued = conn.execute(
        "SELECT m.id, m.body, m.at, 0 FROM search_queue q JOIN messages m ON m.id = q.message_id LIMIT ?",
        [limit]).fetchall() if conn.execute("SELECT 1 FROM search_queue LIMIT 1").fetchone() else []
    fresh = {mid: (mid, body, at) for mid, body, at, known in rows if not known}
    fresh.update((mid, (mid, body, at)) for mid, body, at, _ in queued)  # written and edited: once
    _index(conn, list(fresh.values()))
    if rows:
        conn.execute("UPDATE meta SET value = ? WHERE key = ?", [str(rows[-1][0]), TOP])
    if queued:
        conn.executemany("DELETE FROM search_queue WHERE message_id = ?", [(r[0],) for r in queued])
    return len(fresh)


def _meta_int(conn: sqlite3.Connection, key: str) -> int:
    r = conn.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return int(r[0]) if r and r[0] else 0


def backfill(conn: sqlite3.Connection, limit: int) -> int:
    """Index up to ``limit`` messages cached before the index existed, the newest first,
    and the queue's leftovers. Returns how many messages it looked at (0: all done)."""
    below = _meta_int(conn, BELOW)
    done = index_new(conn, limit)
    if below <= 1 or done >= limit:
        return done
    rows = conn.execute("SELECT id, body, at FROM messages WHERE id < ? ORDER BY id DESC LIMIT ?",
                        [below, limit - done]).fetchall()
    fresh = [r for r in rows if not conn.execute(
        "SELECT 1 FROM search_docs WHERE message_id = ?", [r[0]]).fetchone()]
    _index(conn, fresh)
    lowest = rows[-1][0] if len(rows) == limit - done else 1
    conn.execute("UPDATE meta SET value = ? WHERE key = ?", [str(lowest), BELOW])
    return done + max(len(rows), 1)


def _pending(conn: sqlite3.Connection) -> bool:
    """Anything above ``search.indexed_to``, or queued?"""
    return bool(conn.execute("SELECT 1 FROM messages WHERE id > ? LIMIT 1", [_meta_int(conn, TOP)]).fetchone()
                or conn.execute("SELECT 1 FROM search_queue LIMIT 1").fetchone())


def progress(conn: sqlite3.Connection) -> float:
    """Share of the cached messages the index covers (1.0: searches use the index alone)."""
    below, total = _meta_int(conn, BELOW), _meta_int(conn, TOTAL)
    if below <= 1 and not _pending(conn):
        return 1.0
    share = 1.0 - (below - 1) / max(1, total - 1) if total > 1 else 1.0
    return max(0.0, min(share, 0.999))


# -- searching ---------------------------------------------------------------------------

_HIT_COLUMNS = (
    "m.id, m.conversation_id, coalesce(c.customer_id, ''), coalesce(cu.name, ''), m.sender, m.agent_id, "
    "coalesce(a.name, ''), m.body, m.at"
)
_HIT_JOINS = (
    "LEFT JOIN conversations c ON c.id = m.conversation_id LEFT JOIN customers cu ON cu.id = c.customer_id "
    "LEFT JOIN agents a ON a.id = m.agent_id"
)


def _scope_sql(scope: Scope) -> tuple[str, list]:
    in_json = "IN (SELECT value FROM json_each(?))"
    conditions = (
        ("m.at >= ?", scope.since), ("m.at < ?", scope.until),
        (f"m.conversation_id {in_json}", scope.conversations), (f"m.agent_id {in_json}", scope.agents),
        ("c.grp = ?", scope.group), ("c.status = ?", scope.status),
    )
    used = [(sql, json.dumps(v) if isinstance(v, tuple) else v) for sql, v in conditions if v is not None]
    return "".join(f" AND {sql}" for sql, _ in used), [v for _, v in used]


def _hit(r: tuple, key: tuple) -> Hit:
    return Hit(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], key)


def search(
    conn: sqlite3.Connection,
    terms: Sequence[str],
    scope: Scope = Scope(),
    *,
    after: tuple | None = None,
    limit: int = 50,
    budget: int | None = BUDGET,
) -> Page:
    """Messages containing every (folded) term within ``scope``, newest first, from
    ``after`` (a previous page's ``next``). No terms: every message of the scope."""
    terms = textfold.fold_terms(terms)
    if scope.conversations is not None and _scope_size(conn, scope.conversations) <= SCAN_SCOPE:
        return _scan_scope(conn, terms, scope, after, limit)
    return _search_index(conn, terms, scope, after, limit, budget)


def _scope_size(conn: sqlite3.Connection, conversations: tuple[str, ...]) -> int:
    return conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM messages WHERE conversation_id IN (SELECT value FROM json_each(?)) "
        "LIMIT ?)", [json.dumps(conversations), SCAN_SCOPE + 1]).fetchone()[0]


def _scan_scope(conn, terms, scope: Scope, after: tuple | None, limit: int) -> Page:
    """A small scope read whole (through the thread index) and checked in Python: a
    customer's few hundred messages cost less than any index walk would."""
    where, args = _scope_sql(scope)
    rows = conn.execute(f"SELECT {_HIT_COLUMNS} FROM messages m {_HIT_JOINS} WHERE 1{where}", args).fetchall()
    found = sorted(((r[8], r[0]), r) for r in rows if textfold.contains_all(textfold.fold(r[7]), terms))
    found.reverse()
    if after is not None:
        found = [f for f in found if f[0] < after]
    page = [_hit(r, key) for key, r in found[:limit]]
    return Page(page, page[-1].key if len(found) > limit else None, len(rows))


def _search_index(conn, terms, scope: Scope, after: tuple | None, limit: int, budget: int | None) -> Page:
    where, args = _scope_sql(scope)
    floor = _base(scope.since) if scope.since is not None else 0
    top = (_base(scope.until) + _SPILL) if scope.until is not None else (1 << 63) - 1
    below = min(top, after[0] + 1) if after is not None else top
    hits: list[Hit] = []
    examined = 0
    exhausted = False
    batch = max(_FIRST_BATCH, limit + limit // 5)
    while len(hits) < limit and (budget is None or examined < budget):
        if terms:
            docids = textindex.candidates(conn, INDEX, terms, below=below, floor=floor, limit=batch)
        else:
            docids = [r[0] for r in conn.execute(
                "SELECT docid FROM search_docs WHERE docid < ? AND docid >= ? AND message_id IS NOT NULL "
                "ORDER BY docid DESC LIMIT ?", [below, floor, batch])]
        if not docids:
            exhausted = True
            break
        examined += len(docids)
        rows = conn.execute(
            f"SELECT d.docid, {_HIT_COLUMNS} FROM search_docs d JOIN messages m ON m.id = d.message_id {_HIT_JOINS} "
            f"WHERE d.docid IN (SELECT value FROM json_each(?)){where} ORDER BY d.docid DESC",
            [json.dumps(docids), *args]).fetchall()
        for r in rows:
            key = (r[0], r[1])
            if after is not None and key >= after:
                continue
            if textfold.contains_all(textfold.fold(r[8]), terms):
                hits.append(_hit(r[1:], key))
        below = docids[-1]
        if len(docids) < batch:
            exhausted = True
            break
        batch = min(_MAX_BATCH, batch * 4)
    # Where the index was read down to: nothing below it has been looked at yet.
    frontier: tuple = (-1, -1) if exhausted else (below, -1)
    unindexed = _unindexed(conn, terms, where, args, after, frontier)
    merged = sorted([*hits, *unindexed], key=lambda h: h.key, reverse=True)
    if len(merged) > limit or (len(merged) == limit and not exhausted):
        page = merged[:limit]
        return Page(page, page[-1].key, examined)
    return Page(merged, None if exhausted else frontier, examined)


def _unindexed(conn, terms, where: str, args: list, after: tuple | None, frontier: tuple) -> list[Hit]:
    """Matches among messages the index does not cover yet (the backfill's remaining
    range, the queue), with the key the index will give them, above ``frontier``."""
    below = _meta_int(conn, BELOW)
    if below <= 1 and not _pending(conn):
        return []
    rows = conn.execute(
        f"SELECT {_HIT_COLUMNS} FROM messages m {_HIT_JOINS} "
        "WHERE (m.id < ? AND NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.message_id = m.id) "
        f"OR m.id > ? OR m.id IN (SELECT message_id FROM search_queue)){where}",
        [below, _meta_int(conn, TOP), *args]).fetchall()
    out: list[Hit] = []
    for r in rows:
        key = (_base(r[8]) + (1 << _SLOT_BITS) - 1, r[0])
        if (after is not None and key >= after) or key <= frontier:
            continue
        if textfold.contains_all(textfold.fold(r[7]), terms):
            out.append(_hit(r, key))
    return out
