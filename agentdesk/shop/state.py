"""The reference shop's logic: reads, writes with their events, idempotency, presence,
the customer side and time passing. Plain synchronous code over one SQLite connection
guarded by a lock (tests also call it from other threads); server.py only does HTTP.

Every write is ONE transaction holding the change, the events it emits and the
idempotency record, so the feed never shows half a write and a retried write replays
exactly the original answer.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from agentdesk.shop import bot, content, db, rows
from agentdesk.shop.colleagues import Colleagues
from agentdesk.shop.faults import FAULT_KINDS, Faults
from agentdesk.shop.problems import Problem, invalid
from agentdesk.shop.simulator import Simulator

GROUPS = ("售前", "售后", "客诉")
STATUSES = ("open", "pending", "snoozed", "resolved")
AGENT_STATUSES = ("online", "away")  # what an agent may say; "offline" only silence makes
PRIORITIES = ("low", "normal", "high", "urgent")
OFFLINE_AFTER = 120.0  # seconds of silence before an agent shows offline
REOPEN_WITHIN = 86400.0  # a customer writing after this long starts a new conversation
TICK_EVERY = 0.5  # seconds between ticks inside a long-poll wait
HOUSEKEEPING_EVERY = 1.0
MAX_BODY = 10_000
MAX_ADDRESS = 200
MAX_CAMPAIGN = 100
ADDRESS_CHANGES_WHILE = ("待付款", "待发货")  # the parcel has not left yet
#: Why a refund cannot be requested in these states.
NOT_REFUNDABLE = {"待付款": "nothing was paid", "退款中": "a refund is already requested",
                  "已退款": "it is already refunded"}
FOLLOWUP_STATUSES = ("open", "done", "cancelled")
OUTREACH_LIMIT = 30  # outreach messages per agent …
OUTREACH_WINDOW = 60.0  # … per this many seconds


class Key(str):
    """An Idempotency-Key together with the request it came with (method, path and a
    digest of the body; None from callers that are not HTTP). Stripe's rule: the same
    key on the same request replays the stored answer; on another request it is refused
    with 422 ``idempotency_mismatch`` instead of answering for a request never made."""

    request: str | None

    def __new__(cls, key: str, request: str | None = None) -> Key:
        made = super().__new__(cls, key)
        made.request = request
        return made


class ShopState:
    """The shop at ``db_path``. ``seed="demo"`` seeds an empty database with the demo
    shop (fixtures and seven days of history, relative to ``anchor``, default now);
    ``simulate`` is the simulated customers' messages a minute; ``colleagues`` has the
    shop's agents work by themselves; ``fail_rate``, ``latency_ms`` and ``fault_seed``
    make the API unreliable (``fault_seed`` also seeds the simulations); ``clock`` is
    "now"; ``content_dir`` replaces the scripted content."""

    FAULT_KINDS = FAULT_KINDS

    def __init__(
        self,
        db_path: Path | str,
        *,
        seed: str | None = "demo",
        simulate: float = 0.0,
        colleagues: bool = False,
        fail_rate: float = 0.0,
        latency_ms: int = 0,
        fault_seed: int = 0,
        anchor: float | None = None,
        clock: Callable[[], float] = time.time,
        content_dir: Path | str | None = None,
    ) -> None:
        if seed not in ("demo", None):
            raise ValueError(f"seed must be 'demo' or None, not {seed!r}")
        self.clock = clock
        self.lock = threading.RLock()
        self.conn = db.connect(db_path)
        if seed == "demo" and db.is_empty(self.conn):
            db.seed_demo(self.conn, anchor if anchor is not None else clock())
        self.content = content.load(content_dir)
        self.bot = bot.Bot(self.content.faq, self.shop()["name"])
        self.faults = Faults(fault_seed, fail_rate)
        self.latency_ms = latency_ms
        self.write_count = 0
        self.head = self._head()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._waiters_lock = threading.Lock()
        now = clock()
        # Presence lives in memory (a request must not cost a disk write); the
        # database keeps the status, written when it flips. Agents not in _present are offline.
        self._present: dict[str, str] = dict(self.conn.execute(
            "SELECT id, status FROM agents WHERE status IN ('online', 'away') ORDER BY id").fetchall())
        self._last_seen = dict.fromkeys(self._present, now)
        self._housekept = float("-inf")
        self._outreach: dict[str, deque[float]] = {}  # agent id -> times of recent outreach messages
        self.simulator = Simulator(simulate, fault_seed + 1, self.content.dialogues,
                                   say=self.say, customer_exists=self.customer_exists)
        self.colleagues = Colleagues(self, fault_seed + 2) if colleagues else None

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    # -- faults --------------------------------------------------------------------------------

    def set_faults(self, *, fail_rate: float = 0.0, kinds: tuple[str, ...] | None = None,
                   timeout_s: float | None = None) -> None:
        """Fail this share of API requests from now on, with one of ``kinds``."""
        self.faults.set(fail_rate=fail_rate, kinds=kinds, timeout_s=timeout_s)

    @property
    def fail_rate(self) -> float:
        return self.faults.fail_rate

    @property
    def fault_kinds(self) -> tuple[str, ...]:
        return self.faults.kinds

    # -- transactions, events and waiting for them ------------------------------------------------

    def _head(self) -> int:
        return self.conn.execute("SELECT coalesce(max(cursor), 0) FROM events").fetchone()[0]

    def _txn(self, fn: Callable[[], object]):
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn()
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
            head = self._head()
            moved, self.head = head > self.head, head
        if moved:
            self._wake()
        return result

    def _event(self, type_: str, data: dict) -> None:
        self.conn.execute("INSERT INTO events (type, at, data) VALUES (?, ?, ?)",
                          [type_, self.clock(), json.dumps(data, ensure_ascii=False)])

    def _wake(self) -> None:
        with self._waiters_lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)  # writers may run in another thread
            except RuntimeError:  # that loop is closed
                pass

    async def wait_for_events(self, after: int, wait: float) -> None:
        """Return when there is an event after ``after`` or ``wait`` seconds passed,
        ticking the shop every half second meanwhile."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while self.head <= after:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            entry = (loop, asyncio.Event())
            with self._waiters_lock:
                self._waiters.add(entry)
            try:
                if self.head > after:  # arrived while registering
                    return
                try:
                    await asyncio.wait_for(entry[1].wait(), min(TICK_EVERY, remaining))
                except TimeoutError:
                    pass
            finally:
                with self._waiters_lock:
                    self._waiters.discard(entry)
            self.tick()

    # -- reads ------------------------------------------------------------------------------------

    def _one(self, sql: str, params=()):
        with self.lock:
            return self.conn.execute(sql, params).fetchone()

    def _all(self, sql: str, params=()):
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def query(self, sql: str, params=()) -> list[tuple]:
        """Rows of a read of the shop's own database (the simulated colleagues look
        for work with it; they change things only through the write methods)."""
        return self._all(sql, params)

    def shop(self) -> dict:
        meta = dict(self._all("SELECT key, value FROM meta"))
        return {"id": meta.get("shop_id", "shop"), "name": meta.get("shop_name", "本店")}

    def tokens(self) -> list[dict]:
        return db.tokens(self.conn)

    def agent(self, agent_id: str, *, with_read_only: bool = False) -> dict | None:
        r = self._one(f"SELECT {rows.AGENT} FROM agents WHERE id = ?", [agent_id])
        return rows.agent(r, with_read_only=with_read_only) if r else None

    def agent_by_token(self, token: str) -> dict | None:
        r = self._one(f"SELECT {rows.AGENT} FROM agents WHERE token = ?", [token])
        return rows.agent(r, with_read_only=True) if r else None

    def agents(self) -> list[dict]:
        return [rows.agent(r) for r in self._all(f"SELECT {rows.AGENT} FROM agents ORDER BY id")]

    def groups(self) -> list[dict]:
        members: dict[str, list[str]] = {g: [] for g in GROUPS}
        for a in self.agents():
            if a["role"] == "agent":
                for g in a["groups"]:
                    members.setdefault(g, []).append(a["id"])
        return [{"name": g, "agent_ids": ids} for g, ids in members.items()]

    def customer(self, customer_id: str) -> dict | None:
        r = self._one(f"SELECT {rows.CUSTOMER} FROM customers WHERE id = ?", [customer_id])
        return rows.customer(r) if r else None

    def customer_exists(self, id_or_name: str) -> bool:
        return self._customer_id(id_or_name) is not None

    def _customer_id(self, who: str) -> str | None:
        r = self._one("SELECT id FROM customers WHERE id = ? OR name = ? ORDER BY id = ? DESC, id LIMIT 1",
                      [who, who, who])
        return r[0] if r else None

    def conversation(self, conversation_id: str) -> dict | None:
        r = self._one(f"SELECT {rows.CONVERSATION} FROM conversations WHERE id = ?", [conversation_id])
        return rows.conversation(r) if r else None

    def message(self, seq: int) -> dict:
        return rows.message(self._one(f"SELECT {rows.MESSAGE} FROM messages WHERE seq = ?", [seq]))

    def messages_of(self, conversation_id: str) -> list[dict]:
        found = self._all(f"SELECT {rows.MESSAGE} FROM messages WHERE conversation_id = ? ORDER BY seq",
                          [conversation_id])
        return [rows.message(r) for r in found]

    def order(self, order_id: str) -> dict | None:
        r = self._one(f"SELECT {rows.ORDER} FROM orders WHERE id = ?", [order_id])
        return rows.order(r) if r else None

    def followup(self, followup_id: str) -> dict | None:
        r = self._one(f"SELECT {rows.FOLLOWUP} FROM followups WHERE id = ?", [followup_id])
        return rows.followup(r) if r else None

    def quick_replies(self) -> list[dict]:
        return self.content.quick_replies

    def page(self, resource: str, after: str | None, limit: int) -> dict:
        """One keyset page of a resource: ``after`` is an id (a seq for messages and notes)."""
        key, cols, convert = rows.PAGES[resource]
        if key == "seq":
            if after and not (after.isascii() and after.isdigit() and len(after) <= 19 and int(after) < 2**63):
                raise invalid("after", "expected a sequence number")
            after_value: object = int(after) if after else 0
        else:
            after_value = after or ""
        found = self._all(f"SELECT {cols} FROM {resource} WHERE {key} > ? ORDER BY {key} LIMIT ?",
                          [after_value, limit])
        items = [convert(r) for r in found]
        nxt = str(items[-1][key if key == "seq" else "id"]) if len(items) == limit else None
        return {"items": items, "next": nxt}

    def thread(self, conversation_id: str, before: int | None, limit: int) -> dict:
        """A newest-first page of one conversation's messages, older than ``before``."""
        if self.conversation(conversation_id) is None:
            raise Problem(404, "not_found", f"conversation {conversation_id}")
        found = self._all(
            f"SELECT {rows.MESSAGE} FROM messages WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
            [conversation_id, before if before is not None else 2**62, limit],
        )
        items = [rows.message(r) for r in found]
        return {"items": items, "next": str(items[-1]["seq"]) if len(items) == limit else None}

    def events(self, after: int, limit: int) -> list[dict]:
        found = self._all(f"SELECT {rows.EVENT} FROM events WHERE cursor > ? ORDER BY cursor LIMIT ?", [after, limit])
        return [rows.event(r) for r in found]

    def events_before(self, after: int, n: int) -> list[dict]:
        """The last ``n`` events up to and including ``after`` (already delivered)."""
        found = self._all(f"SELECT {rows.EVENT} FROM events WHERE cursor <= ? ORDER BY cursor DESC LIMIT ?",
                          [after, n])
        return [rows.event(r) for r in reversed(found)]

    # -- presence -----------------------------------------------------------------------------------

    def seen(self, agent_id: str) -> None:
        """An authenticated request: an offline agent comes online (an event when that
        flips); one who said "away" stays away until they say otherwise."""
        with self.lock:
            self._last_seen[agent_id] = self.clock()
            if agent_id not in self._present:
                self._txn(lambda: self._store_status(agent_id, "online"))

    def presence(self, agent_id: str) -> str:
        """online | away | offline, as the shop shows the agent now."""
        with self.lock:
            return self._present.get(agent_id, "offline")

    def _store_status(self, agent_id: str, status: str) -> dict:
        """Inside a transaction: the agent's status changes, with its agent.status event."""
        if status == "offline":
            self._present.pop(agent_id, None)
        else:
            self._present[agent_id] = status
        self.conn.execute("UPDATE agents SET status = ?, last_seen = ? WHERE id = ?",
                          [status, self._last_seen.get(agent_id), agent_id])
        agent = self.agent(agent_id)
        self._event("agent.status", agent)
        return agent

    def set_status(self, agent: dict, body: dict, key: str | None) -> tuple[int, dict]:
        """The agent says they are online or away (``PUT /v1/me/status``); setting the
        status they already have changes nothing. Silence still takes anyone offline."""
        status = body.get("status")
        if status not in AGENT_STATUSES:
            raise invalid("status", f"must be one of {', '.join(AGENT_STATUSES)}")

        def fn():  # under the lock, in the write's transaction
            if self._present.get(agent["id"]) == status:
                return 200, self.agent(agent["id"])
            self._last_seen[agent["id"]] = self.clock()
            return 200, self._store_status(agent["id"], status)

        return self.write(agent, key, fn)

    # -- time passing ---------------------------------------------------------------------------------

    def tick(self, now: float | None = None) -> int:
        """Do what is due by ``now``: agents silent for two minutes go offline, snoozes
        end, the simulator's customers write (at most 20 messages per tick) and the
        simulated colleagues work (when the shop has them). Called at every request and
        inside long-poll waits, and on a timer by ``serve()``. Returns the number of
        simulated customer messages."""
        now = self.clock() if now is None else now
        with self.lock:
            if now - self._housekept >= HOUSEKEEPING_EVERY:
                self._housekept = now
                for aid in sorted(self._present):
                    if now - self._last_seen.get(aid, now) > OFFLINE_AFTER:
                        self._txn(lambda aid=aid: self._store_status(aid, "offline"))
                for (cid,) in self.conn.execute(
                    "SELECT id FROM conversations WHERE status = 'snoozed' AND snoozed_until <= ? ORDER BY id", [now]
                ).fetchall():
                    self._txn(lambda cid=cid: self._bump(cid, status="open", snoozed_until=None))
            said = self.simulator.tick(now)
            if self.colleagues is not None:
                self.colleagues.tick(now)
            return said

    # -- agents' writes -----------------------------------------------------------------------------

    def write(self, agent: dict, key: str | None, fn: Callable[[], tuple[int, dict]]) -> tuple[int, dict]:
        """Run a write once per (agent, Idempotency-Key); a retry returns the original
        answer and changes nothing. A refused write (a Problem) is not remembered. The
        key reused on a different request (see :class:`Key`) answers 422."""
        request = getattr(key, "request", None)

        def go():
            if key:
                r = self.conn.execute("SELECT status, body, request FROM idempotency WHERE agent_id = ? AND key = ?",
                                      [agent["id"], key]).fetchone()
                if r:
                    if request and r[2] and r[2] != request:
                        first = r[2].rsplit(" ", 1)[0]
                        raise Problem(422, "idempotency_mismatch",
                                      f"this Idempotency-Key was first used for {first} with another body or "
                                      "route; a new request needs a new key")
                    return r[0], json.loads(r[1])
            status, body = fn()
            if key:
                self.conn.execute(
                    "INSERT INTO idempotency (agent_id, key, status, body, request) VALUES (?, ?, ?, ?, ?)",
                    [agent["id"], key, status, json.dumps(body, ensure_ascii=False), request])
            return status, body

        return self._txn(go)

    def _bump(self, cid: str, **changes) -> dict:
        """Change a conversation: version + 1, updated_at now, a conversation.updated event."""
        sets = "".join(f"{column} = ?, " for column in changes)
        self.conn.execute(f"UPDATE conversations SET {sets}version = version + 1, updated_at = ? WHERE id = ?",
                          [*changes.values(), self.clock(), cid])
        conv = self.conversation(cid)
        self._event("conversation.updated", conv)
        return conv

    def _later(self, previous: float | None) -> float:
        """Now, or a millisecond after ``previous``: an object's updated_at moves forward
        with every change (times are served to the millisecond), so clients keep the
        newest version by it even when two changes share a clock reading."""
        now = self.clock()
        return now if previous is None or now >= previous + 0.001 else previous + 0.001

    def _add_message(self, cid: str, sender: str, body: str, *, agent_id: str | None = None,
                     client_id: str | None = None, auto: bool = False, meta: dict | None = None) -> dict:
        seq = self.conn.execute(
            "INSERT INTO messages (conversation_id, sender, agent_id, body, created_at, client_id, auto, meta) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [cid, sender, agent_id, body, self.clock(), client_id, int(auto),
             json.dumps(meta, ensure_ascii=False) if meta else None],
        ).lastrowid
        self.conn.execute("UPDATE messages SET id = printf('m_%06d', seq) WHERE seq = ?", [seq])
        msg = self.message(seq)
        self._event("message.created", msg)
        return msg

    def _conv(self, cid: str) -> dict:
        conv = self.conversation(cid)
        if conv is None:
            raise Problem(404, "not_found", f"conversation {cid}")
        return conv

    def _owned(self, conv: dict, agent: dict) -> None:
        """Refuse when another agent has the conversation (supervisors may act anyway)."""
        owner = conv["assignee_id"]
        if owner and owner != agent["id"] and agent["role"] != "supervisor":
            other = self.agent(owner)
            name = other["name"] if other else owner
            raise Problem(409, "owned_by_other", f"{name} has this conversation", assignee_id=owner,
                          assignee_name=name)

    def post_message(self, agent: dict, cid: str, body: dict, key: str | None) -> tuple[int, dict]:
        text, kind, auto = body.get("body"), body.get("kind", "reply"), body.get("auto", False)
        _text("body", text)
        if kind not in ("reply", "note"):
            raise invalid("kind", "must be reply or note")
        if not isinstance(auto, bool):
            raise invalid("auto", "must be true or false")

        def fn():
            conv = self._conv(cid)
            if kind == "reply":
                self._owned(conv, agent)
                if conv["assignee_id"] is None or conv["stage"] != "agent":  # replying claims it
                    self._bump(cid, assignee_id=conv["assignee_id"] or agent["id"], stage="agent")
            msg = self._add_message(cid, "agent" if kind == "reply" else "note", text, agent_id=agent["id"],
                                    client_id=key, auto=auto)
            return 201, msg

        answer = self.write(agent, key, fn)
        if kind == "reply":
            with self.lock:
                self.simulator.on_agent_reply(cid, self.clock())
        return answer

    def claim(self, agent: dict, cid: str, key: str | None) -> tuple[int, dict]:
        def fn():
            conv = self._conv(cid)
            self._owned(conv, agent)
            if conv["assignee_id"] == agent["id"] and conv["stage"] == "agent":
                return 200, conv
            return 200, self._bump(cid, assignee_id=agent["id"], stage="agent")

        return self.write(agent, key, fn)

    def transfer(self, agent: dict, cid: str, body: dict, key: str | None) -> tuple[int, dict]:
        to_agent, to_group, note = body.get("to_agent_id"), body.get("to_group"), body.get("note")
        said = body.get("customer_message")
        if to_agent is not None and not isinstance(to_agent, str):
            raise invalid("to_agent_id", "must be an agent id")
        if to_group is not None and to_group not in GROUPS:
            raise invalid("to_group", f"must be one of {', '.join(GROUPS)}")
        if not to_agent and not to_group:
            raise invalid("to_agent_id", "give to_agent_id or to_group")
        for field, value in (("note", note), ("customer_message", "" if said is None else said)):
            if not isinstance(value, str):  # note is required: "" says "no handoff note" on purpose
                raise invalid(field, "required: a string (may be empty)" if value is None else "must be a string")
            if len(value) > MAX_BODY:
                raise invalid(field, f"longer than {MAX_BODY} characters")

        def fn():
            conv = self._conv(cid)
            self._owned(conv, agent)
            target = self.agent(to_agent) if to_agent else None
            if to_agent and (target is None or target["role"] != "agent"):
                raise invalid("to_agent_id", f"no agent {to_agent!r}")
            handoff = {"from": agent["id"], "from_name": agent["name"], "to_agent": target["id"] if target else None,
                       "to_agent_name": target["name"] if target else None, "to_group": to_group, "note": note}
            self._add_message(cid, "system", f"会话已由 {agent['name']} 转接给 {target['name'] if target else to_group}",
                              meta={"handoff": handoff})
            if said and said.strip():  # the customer sees system lines: tell them who takes over
                self._add_message(cid, "system", said)
            if note.strip():
                self._add_message(cid, "note", note, agent_id=agent["id"], client_id=key)
            changes = {"assignee_id": target["id"], "stage": "agent"} if target else \
                {"assignee_id": None, "stage": "queued"}
            if to_group:
                changes["grp"] = to_group
            return 200, self._bump(cid, **changes)

        return self.write(agent, key, fn)

    def patch(self, agent: dict, cid: str, body: dict, key: str | None) -> tuple[int, dict]:
        changes: dict = {}
        if "status" in body:
            if body["status"] not in STATUSES:
                raise invalid("status", f"must be one of {', '.join(STATUSES)}")
            changes["status"] = body["status"]
        if "snoozed_until" in body:
            changes["snoozed_until"] = rows.parse_time(body["snoozed_until"], "snoozed_until")
        if changes.get("status") == "snoozed" and changes.get("snoozed_until") is None:
            raise invalid("snoozed_until", "required when status is snoozed")
        if "priority" in body:
            if body["priority"] not in PRIORITIES:
                raise invalid("priority", f"must be one of {', '.join(PRIORITIES)}")
            changes["priority"] = body["priority"]
        if "tags" in body:
            tags = body["tags"]
            if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
                raise invalid("tags", "must be a list of non-empty strings")
            changes["tags"] = json.dumps(list(dict.fromkeys(t.strip() for t in tags)), ensure_ascii=False)
        if "group" in body:
            if body["group"] not in GROUPS:
                raise invalid("group", f"must be one of {', '.join(GROUPS)}")
            changes["grp"] = body["group"]
        expected = body.get("expected_version")
        if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
            raise invalid("expected_version", "must be an integer")
        if not changes:
            raise invalid("body", "nothing to change")

        def fn():
            conv = self._conv(cid)
            if expected is not None and expected != conv["version"]:
                raise Problem(409, "stale_version", f"version is {conv['version']}, not {expected}",
                              version=conv["version"])
            self._owned(conv, agent)
            if changes.get("status", conv["status"]) != "snoozed":  # only a snooze has an end
                if changes.get("snoozed_until") is not None:
                    raise invalid("snoozed_until", "only with status snoozed")
                changes["snoozed_until"] = None
            return 200, self._bump(cid, **changes)

        return self.write(agent, key, fn)

    def add_note(self, agent: dict, customer_id: str, body: dict, key: str | None) -> tuple[int, dict]:
        text = body.get("body")
        _text("body", text)

        def fn():
            if self.customer(customer_id) is None:
                raise Problem(404, "not_found", f"customer {customer_id}")
            seq = self.conn.execute(
                "INSERT INTO notes (customer_id, agent_id, body, created_at, client_id) VALUES (?, ?, ?, ?, ?)",
                [customer_id, agent["id"], text, self.clock(), key],
            ).lastrowid
            self.conn.execute("UPDATE notes SET id = printf('n_%06d', seq) WHERE seq = ?", [seq])
            note = rows.note(self.conn.execute(f"SELECT {rows.NOTE} FROM notes WHERE seq = ?", [seq]).fetchone())
            self._event("note.created", note)
            return 201, note

        return self.write(agent, key, fn)

    # -- orders: exceptions (订单异常) -----------------------------------------------------------

    def _order_for_change(self, oid: str) -> tuple[dict, dict]:
        """(the order as served, what is stored of it: remarks, refund and updated_at with
        epoch times), or 404."""
        r = self.conn.execute("SELECT remarks, refund, updated_at FROM orders WHERE id = ?", [oid]).fetchone()
        if r is None:
            raise Problem(404, "not_found", f"order {oid}")
        return self.order(oid), {"remarks": json.loads(r[0] or "[]"), "refund": json.loads(r[1]) if r[1] else None,
                                 "updated_at": r[2]}

    def _change_order(self, oid: str, stored: dict, **changes) -> dict:
        """Change an order: updated_at forward, an order.updated event."""
        sets = "".join(f"{column} = ?, " for column in changes)
        at = self._later(stored["updated_at"])
        self.conn.execute(f"UPDATE orders SET {sets}updated_at = ? WHERE id = ?", [*changes.values(), at, oid])
        order = self.order(oid)
        self._event("order.updated", order)
        return order

    def order_address(self, agent: dict, oid: str, body: dict, key: str | None) -> tuple[int, dict]:
        address = body.get("address")
        _text("address", address, MAX_ADDRESS)

        def fn():
            order, stored = self._order_for_change(oid)
            if order["status"] not in ADDRESS_CHANGES_WHILE:
                raise Problem(409, "already_shipped",
                              f"order {oid} is {order['status']}: the address can no longer change")
            return 200, self._change_order(oid, stored, address=address.strip())

        return self.write(agent, key, fn)

    def order_refund(self, agent: dict, oid: str, body: dict, key: str | None) -> tuple[int, dict]:
        reason, amount = body.get("reason"), body.get("amount")
        _text("reason", reason)
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, (int, float))):
            raise invalid("amount", "must be a number")

        def fn():
            order, stored = self._order_for_change(oid)
            if order["status"] in NOT_REFUNDABLE:
                raise Problem(409, "not_refundable",
                              f"order {oid} is {order['status']}: {NOT_REFUNDABLE[order['status']]}")
            value = order["amount"] if amount is None else float(amount)
            if not 0 < value <= order["amount"]:  # also refuses NaN
                raise invalid("amount", f"must be more than 0 and at most the order amount {order['amount']}")
            refund = {"reason": reason.strip(), "amount": value, "agent_id": agent["id"], "at": self.clock(),
                      "status": "requested"}
            return 200, self._change_order(oid, stored, status="退款中", refund=_dumps(refund))

        return self.write(agent, key, fn)

    def order_refund_approve(self, agent: dict, oid: str, key: str | None) -> tuple[int, dict]:
        def fn():
            order, stored = self._order_for_change(oid)
            if order["status"] != "退款中":
                raise Problem(409, "no_refund_request",
                              f"order {oid} is {order['status']}: there is no refund request to approve")
            refund = stored["refund"] or {"reason": "", "amount": order["amount"], "agent_id": None, "at": None}
            return 200, self._change_order(oid, stored, status="已退款", refund=_dumps({**refund, "status": "approved"}))

        return self.write(agent, key, fn)

    def order_remark(self, agent: dict, oid: str, body: dict, key: str | None) -> tuple[int, dict]:
        text = body.get("body")
        _text("body", text)

        def fn():
            _, stored = self._order_for_change(oid)
            remarks = [*stored["remarks"], {"body": text, "agent_id": agent["id"], "at": self.clock()}]
            return 200, self._change_order(oid, stored, remarks=_dumps(remarks))

        return self.write(agent, key, fn)

    # -- follow-ups (回访), shared by the team --------------------------------------------------------

    def add_followup(self, agent: dict, body: dict, key: str | None) -> tuple[int, dict]:
        customer_id, order_id, cid = body.get("customer_id"), body.get("order_id"), body.get("conversation_id")
        for field, value, required in (("customer_id", customer_id, True), ("order_id", order_id, False),
                                       ("conversation_id", cid, False)):
            if (value is not None or required) and (not isinstance(value, str) or not value):
                raise invalid(field, "must be an id" if required else "must be an id or null")
        if body.get("due_at") is None:
            raise invalid("due_at", "required: an RFC 3339 time")
        due = rows.parse_time(body["due_at"], "due_at")
        note = body.get("note")
        if not isinstance(note, str):
            raise invalid("note", "required: a string (may be empty)")
        if len(note) > MAX_BODY:
            raise invalid("note", f"longer than {MAX_BODY} characters")

        def fn():
            if self.customer(customer_id) is None:
                raise invalid("customer_id", f"no customer {customer_id!r}")
            for field, table, value in (("order_id", "orders", order_id), ("conversation_id", "conversations", cid)):
                if value is None:
                    continue
                owner = self.conn.execute(f"SELECT customer_id FROM {table} WHERE id = ?", [value]).fetchone()
                if owner is None or owner[0] != customer_id:
                    raise invalid(field, f"{value!r} is no {table[:-1]} of customer {customer_id}")
            now = self.clock()
            seq = self.conn.execute(
                "INSERT INTO followups (customer_id, order_id, conversation_id, agent_id, due_at, note, client_id, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [customer_id, order_id, cid, agent["id"], due, note, key, now, now],
            ).lastrowid
            self.conn.execute("UPDATE followups SET id = printf('f_%06d', seq) WHERE seq = ?", [seq])
            followup = rows.followup(self.conn.execute(
                f"SELECT {rows.FOLLOWUP} FROM followups WHERE seq = ?", [seq]).fetchone())
            self._event("followup.updated", followup)
            return 201, followup

        return self.write(agent, key, fn)

    def patch_followup(self, agent: dict, fid: str, body: dict, key: str | None) -> tuple[int, dict]:
        """``fid`` is the server id or the Idempotency-Key it was created with: a client
        may mark it done before it learned the server id."""
        status = body.get("status")
        if status not in FOLLOWUP_STATUSES:
            raise invalid("status", f"must be one of {', '.join(FOLLOWUP_STATUSES)}")

        def fn():
            r = self.conn.execute(
                "SELECT id, status, updated_at FROM followups WHERE id = ?1 OR client_id = ?1 "
                "ORDER BY id = ?1 DESC, agent_id = ?2 DESC, seq LIMIT 1", [fid, agent["id"]],
            ).fetchone()
            if r is None:
                raise Problem(404, "not_found", f"follow-up {fid}")
            if r[1] != status:
                self.conn.execute("UPDATE followups SET status = ?, updated_at = ? WHERE id = ?",
                                  [status, self._later(r[2]), r[0]])
                self._event("followup.updated", self.followup(r[0]))
            return 200, self.followup(r[0])

        return self.write(agent, key, fn)

    # -- outreach ---------------------------------------------------------------------------------

    def outreach(self, agent: dict, customer_id: str, body: dict, key: str | None) -> tuple[int, dict]:
        """An agent writes to a customer first (a campaign, a follow-up call): into their
        open conversation, else a new one that stays resolved until the customer answers.
        Refused for customers who opted out, for an open conversation another agent has
        (409 owned_by_other, as a reply there is), and while the customer waits for an answer
        there (a campaign is no answer); at most OUTREACH_LIMIT per agent a window. The
        message is ``auto`` (it answers nobody: no KPI counts it as a reply) with
        ``meta.outreach``."""
        text, campaign = body.get("body"), body.get("campaign")
        _text("body", text)
        if campaign is not None:
            _text("campaign", campaign, MAX_CAMPAIGN)

        def fn():
            r = self.conn.execute("SELECT opt_out FROM customers WHERE id = ?", [customer_id]).fetchone()
            if r is None:
                raise Problem(404, "not_found", f"customer {customer_id}")
            if r[0]:
                raise Problem(409, "opted_out", f"customer {customer_id} asked not to receive outreach")
            now = self.clock()
            sent = self._outreach.setdefault(agent["id"], deque())
            while sent and sent[0] <= now - OUTREACH_WINDOW:
                sent.popleft()
            if len(sent) >= OUTREACH_LIMIT:
                wait = max(1, math.ceil(sent[0] + OUTREACH_WINDOW - now))
                raise Problem(429, "rate_limited", f"at most {OUTREACH_LIMIT} outreach messages a minute; "
                              f"try again in {wait} s", headers={"Retry-After": str(wait)})
            last = self.conn.execute(
                "SELECT id, status FROM conversations WHERE customer_id = ? "
                "ORDER BY updated_at DESC, created_at DESC, id DESC LIMIT 1", [customer_id],
            ).fetchone()
            if last and last[1] != "resolved":
                cid = last[0]
                self._owned(self._conv(cid), agent)  # another agent's customer: theirs to write to
                if last[1] == "open" and self._customer_waiting(cid):
                    raise Problem(409, "customer_waiting",
                                  f"customer {customer_id} is waiting for an answer in {cid}: no outreach into it")
            else:
                cid = self._conversation_id(customer_id)
                self.conn.execute(
                    "INSERT INTO conversations (id, customer_id, grp, status, assignee_id, stage, version, created_at, "
                    "updated_at) VALUES (?, ?, '售前', 'resolved', ?, 'agent', 1, ?, ?)",
                    [cid, customer_id, agent["id"], now, now],
                )
                self._event("conversation.updated", self.conversation(cid))
            meta = {"outreach": True, **({"campaign": campaign} if campaign else {})}
            msg = self._add_message(cid, "agent", text, agent_id=agent["id"], client_id=key, auto=True, meta=meta)
            sent.append(now)
            return 201, {"conversation": self.conversation(cid), "message": msg}

        return self.write(agent, key, fn)

    def _customer_waiting(self, cid: str) -> bool:
        """The customer wrote after the last human answer (bots and automatic messages
        answer nobody)."""
        r = self.conn.execute(
            "SELECT (SELECT max(seq) FROM messages WHERE conversation_id = ?1 AND sender = 'customer') > "
            "coalesce((SELECT max(seq) FROM messages WHERE conversation_id = ?1 AND sender = 'agent' AND auto = 0), 0)",
            [cid],
        ).fetchone()
        return bool(r[0])

    # -- the customer side ------------------------------------------------------------------------

    def say(self, customer: str, body: str) -> dict:
        """A customer writes in, by id or name (a new name is a new customer). Answers
        ``{"customer_id", "conversation_id", "message"}``."""
        if not isinstance(customer, str) or not customer.strip():
            raise invalid("customer", "must be a non-empty string")
        _text("body", body)
        return self._txn(lambda: self._say(customer.strip(), body))

    def _say(self, who: str, body: str) -> dict:
        now = self.clock()
        cust_id = self._customer_id(who) or self._new_customer(who, now)
        last = self.conn.execute(
            "SELECT id, status, stage, assignee_id, updated_at FROM conversations WHERE customer_id = ? "
            "ORDER BY updated_at DESC, created_at DESC, id DESC LIMIT 1", [cust_id],
        ).fetchone()
        if last and (last[1] != "resolved" or now - last[4] <= REOPEN_WITHIN):
            cid, status, stage, assignee = last[:4]
            if status != "open":  # writing in reopens it
                stage = stage if stage == "bot" else ("agent" if assignee else "queued")
                self._bump(cid, status="open", snoozed_until=None, stage=stage)
        else:
            cid = self._new_conversation(cust_id, body, now)
        msg = self._add_message(cid, "customer", body)
        conv = self.conversation(cid)
        if conv["stage"] == "bot":
            answer = self.bot.answer(body)
            if answer:
                self._add_message(cid, "bot", answer, auto=True)
            else:  # the bot cannot help: a human will
                self._add_message(cid, "bot", self.bot.greeting, auto=True)
                conv = self._bump(cid, stage="queued")
        if bot.is_complaint(body) and conv["group"] != "客诉":
            priority = conv["priority"] if conv["priority"] == "urgent" else "high"
            self._bump(cid, grp="客诉", priority=priority)
        return {"customer_id": cust_id, "conversation_id": cid, "message": msg}

    def _new_customer(self, name: str, now: float) -> str:
        n = self.conn.execute("SELECT count(*) FROM customers").fetchone()[0] + 1001
        while self.conn.execute("SELECT 1 FROM customers WHERE id = ?", [f"c{n}"]).fetchone():
            n += 1
        self.conn.execute("INSERT INTO customers (id, name, first_seen, updated_at) VALUES (?, ?, ?, ?)",
                          [f"c{n}", name, now, now])
        self._event("customer.updated", self.customer(f"c{n}"))
        return f"c{n}"

    def _conversation_id(self, cust_id: str) -> str:
        n = self.conn.execute("SELECT count(*) FROM conversations WHERE customer_id = ?", [cust_id]).fetchone()[0] + 1
        while self.conn.execute("SELECT 1 FROM conversations WHERE id = ?", [f"cv-{cust_id}-{n}"]).fetchone():
            n += 1
        return f"cv-{cust_id}-{n}"

    def _new_conversation(self, cust_id: str, body: str, now: float) -> str:
        cid = self._conversation_id(cust_id)
        group, priority = bot.classify(body)
        self.conn.execute(
            "INSERT INTO conversations (id, customer_id, grp, status, priority, stage, version, created_at, "
            "updated_at) VALUES (?, ?, ?, 'open', ?, 'bot', 1, ?, ?)",
            [cid, cust_id, group, priority, now, now],
        )
        self._event("conversation.updated", self.conversation(cid))
        return cid


def _text(field: str, value, limit: int = MAX_BODY) -> None:
    if not isinstance(value, str) or not value.strip():
        raise invalid(field, "must be a non-empty string")
    if len(value) > limit:
        raise invalid(field, f"longer than {limit} characters")


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)
