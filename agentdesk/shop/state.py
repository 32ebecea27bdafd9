"""The reference shop's logic: reads, writes with events, idempotency, the customer
side, the bot, the simulator and fault settings. Plain synchronous code over one SQLite
connection guarded by a lock; the Starlette layer (server.py) only does HTTP.

Every write is ONE transaction holding the change, the events it emits and the
idempotency record, so the feed never shows half a write and a retried write replays
exactly the original answer.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from agentdesk.shop import content, db
from agentdesk.shop.problems import Problem, invalid

GROUPS = ("售前", "售后", "客诉")
STATUSES = ("open", "pending", "snoozed", "resolved")
PRIORITIES = ("low", "normal", "high", "urgent")
FAULT_KINDS = ("500", "503", "429", "timeout", "drop", "malformed", "duplicate", "reorder")
OFFLINE_AFTER = 120.0


def rfc3339(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value, field: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(field, "expected an RFC 3339 time")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(field, "expected an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise invalid(field, "time needs a timezone")
    return moment.timestamp()


class ShopState:
    FAULT_KINDS = FAULT_KINDS

    def __init__(
        self,
        db_path: Path | str,
        *,
        seed: str | None = "demo",
        simulate: float = 0.0,
        fail_rate: float = 0.0,
        latency_ms: int = 0,
        fault_seed: int = 0,
        anchor: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock
        self.conn = db.connect(db_path)
        self.lock = threading.RLock()
        if seed == "demo" and db.is_empty(self.conn):
            db.seed_demo(self.conn, anchor if anchor is not None else clock())
        self.write_count = 0
        self.latency_ms = latency_ms
        self.fault_rng = random.Random(fault_seed)
        self.fail_rate = 0.0
        self.fault_kinds: tuple[str, ...] = FAULT_KINDS
        self.timeout_s = 15.0
        self.set_faults(fail_rate=fail_rate)
        self.head = self._head()
        # simulator
        self.sim_rate = simulate
        self.sim_rng = random.Random(fault_seed + 1)
        self.sim_next_at: float | None = None
        self.sim_active: dict[str, dict] = {}  # conversation id -> {"dialogue", "line", "due"}
        self.sim_count = 0

    # -- faults ------------------------------------------------------------------------

    def set_faults(self, *, fail_rate: float = 0.0, kinds: tuple[str, ...] | None = None,
                   timeout_s: float | None = None) -> None:
        unknown = set(kinds or ()) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self.fail_rate = fail_rate
        self.fault_kinds = tuple(kinds) if kinds else FAULT_KINDS
        if timeout_s is not None:
            self.timeout_s = timeout_s

    def pick_fault(self, *, events: bool, write: bool) -> str | None:
        if self.fail_rate <= 0 or self.fault_rng.random() >= self.fail_rate:
            return None
        kinds = [k for k in self.fault_kinds if events or k not in ("duplicate", "reorder")]
        return self.fault_rng.choice(kinds) if kinds else None

    def after_commit(self) -> bool:
        """For a faulted write: does the fault strike after the write committed?"""
        return self.fault_rng.random() < 0.5

    # -- basics ------------------------------------------------------------------------

    def _head(self) -> int:
        return self.conn.execute("SELECT coalesce(max(cursor), 0) FROM events").fetchone()[0]

    def shop(self) -> dict:
        rows = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
        return {"id": rows.get("shop_id", "shop"), "name": rows.get("shop_name", "shop")}

    def tokens(self) -> list[dict]:
        rows = self.conn.execute("SELECT id, name, role, read_only, token FROM agents ORDER BY id").fetchall()
        return [{"id": r[0], "name": r[1], "role": r[2], "read_only": bool(r[3]), "token": r[4]} for r in rows]

    def agent_by_token(self, token: str) -> dict | None:
        r = self.conn.execute("SELECT id FROM agents WHERE token = ?", [token]).fetchone()
        return self.agent(r[0]) if r else None

    def agent(self, agent_id: str) -> dict | None:
        r = self.conn.execute(
            "SELECT id, name, role, groups, status, read_only FROM agents WHERE id = ?", [agent_id]
        ).fetchone()
        if not r:
            return None
        return {"id": r[0], "name": r[1], "role": r[2], "groups": json.loads(r[3]), "online": r[4] == "online",
                "status": r[4], "read_only": bool(r[5])}

    def _event(self, type_: str, data: dict) -> None:
        self.conn.execute(
            "INSERT INTO events (type, at, data) VALUES (?, ?, ?)",
            [type_, self.clock(), json.dumps(data, ensure_ascii=False)],
        )

    def _txn(self, fn: Callable[[], object]):
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn()
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
            self.head = self._head()
            return result

    # -- objects -----------------------------------------------------------------------

    def customer(self, cid: str) -> dict | None:
        r = self.conn.execute(
            "SELECT id, name, vip_level, tags, location, first_seen, updated_at FROM customers WHERE id = ?", [cid]
        ).fetchone()
        return _customer(r) if r else None

    def conversation(self, cid: str) -> dict | None:
        r = self.conn.execute(f"SELECT {_CONV} FROM conversations WHERE id = ?", [cid]).fetchone()
        return _conversation(r) if r else None

    def message(self, seq: int) -> dict:
        return _message(self.conn.execute(f"SELECT {_MSG} FROM messages WHERE seq = ?", [seq]).fetchone())

    def messages_of(self, conversation_id: str) -> list[dict]:
        rows = self.conn.execute(f"SELECT {_MSG} FROM messages WHERE conversation_id = ? ORDER BY seq",
                                 [conversation_id]).fetchall()
        return [_message(r) for r in rows]

    # -- reads (keyset pages) ------------------------------------------------------------

    def page(self, resource: str, after: str | None, limit: int) -> dict:
        spec = _PAGES[resource]
        key, cols, convert = spec
        if key == "seq":
            try:
                after_value: object = int(after) if after else 0
            except ValueError:
                raise invalid("after", "expected a sequence number") from None
        else:
            after_value = after or ""
        with self.lock:
            rows = self.conn.execute(
                f"SELECT {cols} FROM {resource if resource != 'notes' else 'notes'} WHERE {key} > ? "
                f"ORDER BY {key} LIMIT ?",
                [after_value, limit],
            ).fetchall()
        items = [convert(r) for r in rows]
        nxt = None
        if len(rows) == limit:
            nxt = str(items[-1]["seq"] if key == "seq" else items[-1]["id"])
        return {"items": items, "next": nxt}

    def thread(self, conversation_id: str, before: int | None, limit: int) -> dict:
        if self.conversation(conversation_id) is None:
            raise Problem(404, "not_found", f"conversation {conversation_id}")
        rows = self.conn.execute(
            f"SELECT {_MSG} FROM messages WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
            [conversation_id, before or 2**62, limit],
        ).fetchall()
        items = [_message(r) for r in rows]
        return {"items": items, "next": str(items[-1]["seq"]) if len(items) == limit else None}

    def agents(self) -> list[dict]:
        ids = [r[0] for r in self.conn.execute("SELECT id FROM agents ORDER BY id")]
        out = []
        for i in ids:
            a = self.agent(i)
            a.pop("read_only")
            out.append(a)
        return out

    def groups(self) -> list[dict]:
        members: dict[str, list[str]] = {g: [] for g in GROUPS}
        for a in self.agents():
            if a["role"] == "agent":
                for g in a["groups"]:
                    members.setdefault(g, []).append(a["id"])
        return [{"name": g, "agent_ids": ids} for g, ids in members.items()]

    def events(self, after: int, limit: int) -> list[dict]:
        rows = self.conn.execute(
            "SELECT cursor, type, at, data FROM events WHERE cursor > ? ORDER BY cursor LIMIT ?", [after, limit]
        ).fetchall()
        return [_event(r) for r in rows]

    def events_before(self, after: int, n: int) -> list[dict]:
        rows = self.conn.execute(
            "SELECT cursor, type, at, data FROM events WHERE cursor <= ? ORDER BY cursor DESC LIMIT ?", [after, n]
        ).fetchall()
        return [_event(r) for r in reversed(rows)]

    # -- presence ----------------------------------------------------------------------------

    def seen(self, agent_id: str) -> None:
        now = self.clock()
        with self.lock:
            r = self.conn.execute("SELECT status FROM agents WHERE id = ?", [agent_id]).fetchone()
            if r and r[0] != "online":
                def go():
                    self.conn.execute("UPDATE agents SET status = 'online', last_seen = ? WHERE id = ?", [now, agent_id])
                    self._event("agent.status", self._public_agent(agent_id))
                self._txn(go)
            else:
                self.conn.execute("UPDATE agents SET last_seen = ? WHERE id = ?", [now, agent_id])

    def _public_agent(self, agent_id: str) -> dict:
        a = self.agent(agent_id)
        a.pop("read_only")
        return a

    # -- idempotent writes ----------------------------------------------------------------------

    def write(self, agent: dict, key: str | None, fn: Callable[[], tuple[int, dict]]) -> tuple[int, dict]:
        """Run a write once per (agent, Idempotency-Key); a retry returns the original answer."""
        def go():
            if key:
                r = self.conn.execute(
                    "SELECT status, body FROM idempotency WHERE agent_id = ? AND key = ?", [agent["id"], key]
                ).fetchone()
                if r:
                    return r[0], json.loads(r[1])
            status, body = fn()
            if key:
                self.conn.execute(
                    "INSERT INTO idempotency (agent_id, key, status, body) VALUES (?, ?, ?, ?)",
                    [agent["id"], key, status, json.dumps(body, ensure_ascii=False)],
                )
            return status, body

        return self._txn(go)

    def _bump(self, cid: str, **changes) -> dict:
        sets = ", ".join(f"{k} = ?" for k in changes)
        self.conn.execute(
            f"UPDATE conversations SET {sets}{', ' if sets else ''}version = version + 1, updated_at = ? WHERE id = ?",
            [*changes.values(), self.clock(), cid],
        )
        conv = self.conversation(cid)
        self._event("conversation.updated", conv)
        return conv

    def _add_message(self, cid: str, sender: str, body: str, *, agent_id: str | None = None,
                     client_id: str | None = None, auto: bool = False) -> dict:
        cur = self.conn.execute(
            "INSERT INTO messages (conversation_id, sender, agent_id, body, created_at, client_id, auto) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [cid, sender, agent_id, body, self.clock(), client_id, int(auto)],
        )
        seq = cur.lastrowid
        self.conn.execute("UPDATE messages SET id = printf('m_%06d', seq) WHERE seq = ?", [seq])
        msg = self.message(seq)
        self._event("message.created", msg)
        return msg

    def _owned(self, conv: dict, agent: dict) -> None:
        owner = conv["assignee_id"]
        if owner and owner != agent["id"] and agent["role"] != "supervisor":
            other = self.agent(owner)
            raise Problem(409, "owned_by_other", f"{other['name'] if other else owner} has this conversation",
                          assignee_id=owner, assignee_name=other["name"] if other else owner)

    def _get_conv(self, cid: str) -> dict:
        conv = self.conversation(cid)
        if conv is None:
            raise Problem(404, "not_found", f"conversation {cid}")
        return conv

    def post_message(self, agent: dict, cid: str, body: dict, key: str | None) -> tuple[int, dict]:
        text = body.get("body")
        kind = body.get("kind", "reply")
        if not isinstance(text, str) or not text.strip():
            raise invalid("body", "must be a non-empty string")
        if len(text) > 10_000:
            raise invalid("body", "longer than 10000 characters")
        if kind not in ("reply", "note"):
            raise invalid("kind", "must be reply or note")
        auto = bool(body.get("auto", False))

        def fn():
            conv = self._get_conv(cid)
            if kind == "reply":
                self._owned(conv, agent)
                if conv["assignee_id"] is None or conv["stage"] != "agent":
                    self._bump(cid, assignee_id=agent["id"], stage="agent")
            msg = self._add_message(cid, "agent" if kind == "reply" else "note", text,
                                    agent_id=agent["id"], client_id=key, auto=auto)
            if kind == "reply" and cid in self.sim_active:
                state = self.sim_active[cid]
                if state["due"] is None:
                    state["due"] = self.clock() + self.sim_rng.uniform(4, 15)
            return 201, msg

        return self.write(agent, key, fn)

    def claim(self, agent: dict, cid: str, key: str | None) -> tuple[int, dict]:
        def fn():
            conv = self._get_conv(cid)
            self._owned(conv, agent)
            if conv["assignee_id"] == agent["id"] and conv["stage"] == "agent":
                return 200, conv
            return 200, self._bump(cid, assignee_id=agent["id"], stage="agent")

        return self.write(agent, key, fn)

    def transfer(self, agent: dict, cid: str, body: dict, key: str | None) -> tuple[int, dict]:
        to_agent, to_group, note = body.get("to_agent_id"), body.get("to_group"), body.get("note", "")
        if not to_agent and not to_group:
            raise invalid("to_agent_id", "give to_agent_id or to_group")
        if to_group is not None and to_group not in GROUPS:
            raise invalid("to_group", f"must be one of {', '.join(GROUPS)}")
        if not isinstance(note, str):
            raise invalid("note", "must be a string")

        def fn():
            conv = self._get_conv(cid)
            self._owned(conv, agent)
            target = None
            if to_agent:
                target = self.agent(to_agent)
                if target is None or target["role"] != "agent":
                    raise invalid("to_agent_id", f"no agent {to_agent!r}")
            frm = agent["name"]
            to_name = target["name"] if target else to_group
            self._add_message(cid, "system", f"会话已由 {frm} 转接给 {to_name}")
            if note.strip():
                self._add_message(cid, "note", f"转接备注：{note}", agent_id=agent["id"], client_id=key)
            changes = {"assignee_id": target["id"] if target else None, "stage": "agent" if target else "queued"}
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
            changes["snoozed_until"] = parse_time(body["snoozed_until"], "snoozed_until")
        if changes.get("status") == "snoozed" and changes.get("snoozed_until") is None:
            raise invalid("snoozed_until", "required when status is snoozed")
        if "priority" in body:
            if body["priority"] not in PRIORITIES:
                raise invalid("priority", f"must be one of {', '.join(PRIORITIES)}")
            changes["priority"] = body["priority"]
        if "tags" in body:
            tags = body["tags"]
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise invalid("tags", "must be a list of strings")
            changes["tags"] = json.dumps(tags, ensure_ascii=False)
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
            conv = self._get_conv(cid)
            if expected is not None and expected != conv["version"]:
                raise Problem(409, "stale_version", f"version is {conv['version']}, not {expected}",
                              version=conv["version"])
            self._owned(conv, agent)
            if changes.get("status") and changes["status"] != "snoozed":
                changes.setdefault("snoozed_until", None)
            return 200, self._bump(cid, **changes)

        return self.write(agent, key, fn)

    def add_note(self, agent: dict, customer_id: str, body: dict, key: str | None) -> tuple[int, dict]:
        text = body.get("body")
        if not isinstance(text, str) or not text.strip():
            raise invalid("body", "must be a non-empty string")

        def fn():
            if self.customer(customer_id) is None:
                raise Problem(404, "not_found", f"customer {customer_id}")
            cur = self.conn.execute(
                "INSERT INTO notes (customer_id, agent_id, body, created_at, client_id) VALUES (?, ?, ?, ?, ?)",
                [customer_id, agent["id"], text, self.clock(), key],
            )
            self.conn.execute("UPDATE notes SET id = printf('n_%06d', seq) WHERE seq = ?", [cur.lastrowid])
            note = _note(self.conn.execute(f"SELECT {_NOTE} FROM notes WHERE seq = ?", [cur.lastrowid]).fetchone())
            self._event("note.created", note)
            return 201, note

        return self.write(agent, key, fn)

    # -- the customer side ----------------------------------------------------------------------------

    def say(self, customer: str, body: str) -> dict:
        """A customer writes in (by id or name; a new name is a new customer)."""
        if not isinstance(customer, str) or not customer.strip():
            raise invalid("customer", "must be a non-empty string")
        if not isinstance(body, str) or not body.strip():
            raise invalid("body", "must be a non-empty string")
        return self._txn(lambda: self._say(customer.strip(), body))

    def _say(self, who: str, body: str) -> dict:
        now = self.clock()
        r = self.conn.execute("SELECT id FROM customers WHERE id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1",
                              [who, who, who]).fetchone()
        if r:
            cust_id = r[0]
        else:
            n = self.conn.execute("SELECT count(*) FROM customers").fetchone()[0] + 1001
            while self.conn.execute("SELECT 1 FROM customers WHERE id = ?", [f"c{n}"]).fetchone():
                n += 1
            cust_id = f"c{n}"
            self.conn.execute(
                "INSERT INTO customers (id, name, first_seen, updated_at) VALUES (?, ?, ?, ?)", [cust_id, who, now, now]
            )
            self._event("customer.updated", self.customer(cust_id))
        r = self.conn.execute(
            "SELECT id, status, updated_at FROM conversations WHERE customer_id = ? ORDER BY updated_at DESC LIMIT 1",
            [cust_id],
        ).fetchone()
        if r and (r[1] != "resolved" or now - r[2] < 86400):
            cid = r[0]
            conv = self.conversation(cid)
            if conv["status"] != "open":
                conv = self._bump(cid, status="open", snoozed_until=None)
            elif conv["stage"] == "bot":
                conv = self._bump(cid, stage="queued")  # writing again after the bot: wants a human
            new = False
        else:
            count = self.conn.execute("SELECT count(*) FROM conversations WHERE customer_id = ?", [cust_id]).fetchone()[0]
            cid = f"cv-{cust_id}-{count + 1}"
            while self.conversation(cid):
                count += 1
                cid = f"cv-{cust_id}-{count + 1}"
            group, priority = content.classify(body)
            self.conn.execute(
                "INSERT INTO conversations (id, customer_id, grp, status, priority, stage, version, created_at, "
                "updated_at) VALUES (?, ?, ?, 'open', ?, 'bot', 1, ?, ?)",
                [cid, cust_id, group, priority, now, now],
            )
            self._event("conversation.updated", self.conversation(cid))
            new = True
        msg = self._add_message(cid, "customer", body)
        if new:
            answer = content.faq_answer(body)
            if answer:
                self._add_message(cid, "bot", answer, auto=True)
            else:
                self._add_message(cid, "bot", content.GREETING, auto=True)
                self._bump(cid, stage="queued")
        group, priority = content.classify(body)
        conv = self.conversation(cid)
        if group == "客诉" and conv["group"] != "客诉":
            self._bump(cid, grp="客诉", priority="high")
        return {"customer_id": cust_id, "conversation_id": cid, "message": msg}

    # -- time passing: presence and the simulator ---------------------------------------------------

    def tick(self, now: float | None = None) -> int:
        """Emit what is due: simulated customer messages (at most 20 per tick) and
        agents going offline. Called at every request, inside long-poll waits and by
        ``serve()``'s timer, so the shop moves under ASGI transport with no task."""
        now = self.clock() if now is None else now
        emitted = 0
        with self.lock:
            stale = self.conn.execute(
                "SELECT id FROM agents WHERE status = 'online' AND last_seen < ?", [now - OFFLINE_AFTER]
            ).fetchall()
            for (aid,) in stale:
                def off(aid=aid):
                    self.conn.execute("UPDATE agents SET status = 'offline' WHERE id = ?", [aid])
                    self._event("agent.status", self._public_agent(aid))
                self._txn(off)
            if self.sim_rate <= 0:
                return 0
            for cid, st in list(self.sim_active.items()):
                if st["due"] is not None and st["due"] <= now and emitted < 20:
                    lines = st["dialogue"]["lines"]
                    if st["line"] < len(lines):
                        self.say(st["customer_id"], lines[st["line"]])
                        st["line"] += 1
                        emitted += 1
                    st["due"] = None
                    if st["line"] >= len(lines):
                        del self.sim_active[cid]
            if self.sim_next_at is None:
                self.sim_next_at = now + self.sim_rng.expovariate(self.sim_rate / 60.0)
            while self.sim_next_at <= now and emitted < 20:
                self._simulate_one()
                emitted += 1
                self.sim_next_at += self.sim_rng.expovariate(self.sim_rate / 60.0)
            if self.sim_next_at <= now:  # a long pause: do not replay a backlog
                self.sim_next_at = now + self.sim_rng.expovariate(self.sim_rate / 60.0)
        return emitted

    def _simulate_one(self) -> None:
        waiting = [cid for cid, st in self.sim_active.items() if st["due"] is None]
        if waiting and self.sim_rng.random() < 0.2:
            st = self.sim_active[self.sim_rng.choice(waiting)]
            self.say(st["customer_id"], self.sim_rng.choice(["在吗？？", "人呢", "？？？", "有人吗 急"]))
            return
        dialogue = self.sim_rng.choice(content.dialogues())
        self.sim_count += 1
        name = f"{dialogue['customer']}{self.sim_count:02d}"
        lines = dialogue["lines"]
        said = self.say(name, lines[0])
        line = 1
        if len(lines) > 1 and len(lines[0]) <= 4:  # "在吗" comes with the real question
            self.say(said["customer_id"], lines[1])
            line = 2
        if line < len(lines):
            self.sim_active[said["conversation_id"]] = {
                "dialogue": dialogue, "line": line, "due": None, "customer_id": said["customer_id"],
            }


# -- rows to JSON ----------------------------------------------------------------------------------

_CONV = ("id, customer_id, grp, status, snoozed_until, assignee_id, priority, tags, order_id, stage, version, "
         "created_at, updated_at")
_MSG = "id, seq, conversation_id, sender, agent_id, body, created_at, client_id, auto"
_NOTE = "id, seq, customer_id, agent_id, body, created_at, client_id"
_CUST = "id, name, vip_level, tags, location, first_seen, updated_at"
_ORDER = ("id, customer_id, items, amount, status, carrier, tracking_no, address, created_at, paid_at, shipped_at, "
          "delivered_at, updated_at")


def _conversation(r) -> dict:
    return {"id": r[0], "customer_id": r[1], "group": r[2], "status": r[3], "snoozed_until": rfc3339(r[4]),
            "assignee_id": r[5], "priority": r[6], "tags": json.loads(r[7]), "order_id": r[8], "stage": r[9],
            "version": r[10], "created_at": rfc3339(r[11]), "updated_at": rfc3339(r[12])}


def _message(r) -> dict:
    return {"id": r[0], "seq": r[1], "conversation_id": r[2], "sender": r[3], "agent_id": r[4], "body": r[5],
            "created_at": rfc3339(r[6]), "client_id": r[7], "auto": bool(r[8])}


def _note(r) -> dict:
    return {"id": r[0], "seq": r[1], "customer_id": r[2], "agent_id": r[3], "body": r[4],
            "created_at": rfc3339(r[5]), "client_id": r[6]}


def _customer(r) -> dict:
    return {"id": r[0], "name": r[1], "vip_level": r[2], "tags": json.loads(r[3]), "location": r[4],
            "first_seen": rfc3339(r[5]), "updated_at": rfc3339(r[6])}


def _order(r) -> dict:
    return {"id": r[0], "customer_id": r[1], "items": json.loads(r[2]), "amount": r[3], "status": r[4],
            "carrier": r[5], "tracking_no": r[6], "address": r[7], "created_at": rfc3339(r[8]),
            "paid_at": rfc3339(r[9]), "shipped_at": rfc3339(r[10]), "delivered_at": rfc3339(r[11]),
            "updated_at": rfc3339(r[12])}


def _event(r) -> dict:
    return {"cursor": str(r[0]), "type": r[1], "at": rfc3339(r[2]), "data": json.loads(r[3])}


_PAGES = {
    "customers": ("id", _CUST, _customer),
    "orders": ("id", _ORDER, _order),
    "conversations": ("id", _CONV, _conversation),
    "messages": ("seq", _MSG, _message),
    "notes": ("seq", _NOTE, _note),
}
