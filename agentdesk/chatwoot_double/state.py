"""The Chatwoot double's logic: the finders' reads, the controllers' writes with the
events Chatwoot dispatches for them, presence, the customer side and time passing.
Plain synchronous code over one SQLite connection under a lock; server.py does HTTP and
cable.py the socket.

Every write is one transaction; the events it dispatches go to the socket hub only after
it committed, in the order Chatwoot sends them (``conversation.status_changed``, then
``conversation.updated``, then the activity message's ``message.created``, as Chatwoot
writes activity messages in a background job after the change).
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from agentdesk.chatwoot_double import db, views
from agentdesk.chatwoot_double.db import ACCOUNT_ID, BOT_ID, INBOX_ID, dumps
from agentdesk.chatwoot_double.faults import Faults
from agentdesk.chatwoot_double.problems import NOT_AUTHORIZED, ApiError, invalid, not_found

STATUSES = ("open", "resolved", "pending", "snoozed")
PRIORITIES = ("low", "medium", "high", "urgent")
ASSIGNEE_TYPES = ("me", "unassigned", "all", "assigned")
AVAILABILITY = ("online", "busy", "offline")
#: ConversationFinder::SORT_OPTIONS (the legacy names included): name -> (order key, direction)
SORT_OPTIONS = {
    "last_activity_at_asc": ("last_activity_at", "asc"), "last_activity_at_desc": ("last_activity_at", "desc"),
    "created_at_asc": ("created_at", "asc"), "created_at_desc": ("created_at", "desc"),
    "priority_asc": ("priority", "asc"), "priority_desc": ("priority", "desc"),
    "waiting_since_asc": ("waiting_since", "asc"), "waiting_since_desc": ("waiting_since", "desc"),
    "priority_desc_created_at_asc": ("priority_created_at", "desc"), "unread": ("unread", "desc"),
    "latest": ("last_activity_at", "desc"), "sort_on_created_at": ("created_at", "asc"),
    "sort_on_priority": ("priority", "desc"), "sort_on_waiting_since": ("waiting_since", "asc"),
}
PRIORITY_RANK = "CASE c.priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2 WHEN 'medium' THEN 1 WHEN 'low' THEN 0 END"
CONVERSATIONS_PER_PAGE = 25  # ENV CONVERSATION_RESULTS_PER_PAGE default
MESSAGES_BEFORE = 20
MESSAGES_AFTER = 100
MESSAGES_BETWEEN = 1000
CONTACTS_PER_PAGE = 15
CONTACT_CONVERSATIONS = 20
UNREAD_CAP = 10  # unread_incoming_messages is .last(10)
PRESENCE_DURATION = 20.0  # OnlineStatusTracker: a subscription's presence lasts this long
MESSAGE_TYPES = {"incoming": 0, "outgoing": 1, "template": 3}
CONTENT_TYPES = ("text", "input_text", "input_textarea", "input_email", "input_select", "cards", "form", "article",
                 "incoming_email", "input_csat", "integrations", "sticker")
MAX_CONTENT = 150_000
MESSAGE_STATUSES = ("sent", "delivered", "read", "failed")
DELETED = "This message was deleted"  # en.yml conversations.messages.deleted
CONTACT_FIELDS = ("name", "identifier", "email", "phone_number", "blocked")
#: Wording of the activity messages (Chatwoot's en.yml ``conversations.activity``, approximately).
ACTIVITY_STATUS = {"resolved": "Conversation was marked resolved by {name}",
                   "open": "Conversation was reopened by {name}",
                   "pending": "Conversation was marked as pending by {name}",
                   "snoozed": "Conversation was snoozed by {name}"}
SYSTEM_REOPEN = "System reopened the conversation due to a new incoming message."
SYSTEM_UNSNOOZE = "Conversation was unsnoozed by system"


Event = tuple[str, dict]


class ChatwootState:
    """The double at ``db_path``: ``seed="demo"`` seeds an empty database (relative to
    ``anchor``, default now); ``simulate`` is simulated customer messages a minute;
    ``fail_rate``/``latency_ms``/``fault_seed`` make it unreliable; ``clock`` is now."""

    def __init__(self, db_path: Path | str, *, seed: str | None = "demo", anchor: float | None = None,
                 clock: Callable[[], float] = time.time, simulate: float = 0.0, fail_rate: float = 0.0,
                 latency_ms: int = 0, fault_seed: int = 0) -> None:
        if seed not in ("demo", None):
            raise ValueError(f"seed must be 'demo' or None, not {seed!r}")
        self.clock = clock
        self.lock = threading.RLock()
        self.conn = db.connect(db_path)
        if seed == "demo" and db.is_empty(self.conn):
            from agentdesk.chatwoot_double.seed import seed_demo

            seed_demo(self.conn, anchor if anchor is not None else clock())
        self.faults = Faults(clock, fault_seed, fail_rate, latency_ms)
        #: receives (pubsub tokens, event name, data) after each commit: the socket hub
        self.publish: Callable[[list[str], str, dict], None] = lambda tokens, name, data: None
        self.drop_sockets: Callable[[], int] = lambda: 0
        self._present: dict[int, float] = {}  # user id -> last presence update
        self._pending: list[Event] | None = None
        self.requests = 0
        self.simulator = None
        if simulate > 0:
            from agentdesk.shop import content
            from agentdesk.shop.simulator import Simulator

            self.simulator = Simulator(simulate, fault_seed + 1, content.load().dialogues,
                                       say=self._simulated_say, customer_exists=self.contact_exists)

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    # -- plumbing ----------------------------------------------------------------------------------

    def _one(self, sql: str, params=()) -> sqlite3.Row | None:
        with self.lock:
            return self.conn.execute(sql, params).fetchone()

    def _all(self, sql: str, params=()) -> list[sqlite3.Row]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def _txn(self, fn: Callable[[], object]):
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            self._pending = []
            try:
                result = fn()
            except BaseException:
                self.conn.execute("ROLLBACK")
                self._pending = None
                raise
            self.conn.execute("COMMIT")
            events, self._pending = self._pending, None
        for name, data in events:
            self.publish(self.user_tokens(), name, {**data, "account_id": ACCOUNT_ID})
        return result

    def _dispatch(self, name: str, data: dict) -> None:
        assert self._pending is not None, "events are dispatched inside a write"
        self._pending.append((name, data))

    def user_tokens(self) -> list[str]:
        """ActionCableListener#user_tokens: the inbox members and the administrators (the
        one inbox has every user)."""
        return [r[0] for r in self._all("SELECT pubsub_token FROM users ORDER BY id")]

    def account_name(self) -> str:
        r = self._one("SELECT value FROM meta WHERE key = 'account_name'")
        return r[0] if r else db.ACCOUNT_NAME

    def tokens(self) -> list[dict]:
        with self.lock:
            return db.tokens(self.conn)

    # -- users, presence -------------------------------------------------------------------------

    def user_by_token(self, token: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM users WHERE access_token = ?", [token])

    def user(self, user_id) -> sqlite3.Row | None:
        return self._one("SELECT * FROM users WHERE id = ?", [user_id])

    def user_by_pubsub(self, pubsub_token: str, user_id) -> sqlite3.Row | None:
        return self._one("SELECT * FROM users WHERE pubsub_token = ? AND id = ?", [pubsub_token, user_id])

    def present(self, user: sqlite3.Row) -> bool:
        if user["always_present"]:
            return True
        seen = self._present.get(user["id"])
        return seen is not None and self.clock() - seen < PRESENCE_DURATION

    def status(self, user: sqlite3.Row) -> str:
        """availability_status: the configured availability while present, else offline."""
        return user["availability"] if self.present(user) else "offline"

    def update_presence(self, user_id: int) -> None:
        """RoomChannel#update_subscription."""
        self._present[user_id] = self.clock()

    def presence_data(self) -> dict:
        """RoomChannel#broadcast_presence's data: the present users' availability."""
        users = {str(u["id"]): u["availability"] for u in self._all("SELECT * FROM users ORDER BY id")
                 if self.present(u)}
        return {"account_id": ACCOUNT_ID, "users": users, "contacts": {}}

    def _sender(self, sender_type: str | None, sender_id) -> dict | None:
        if sender_type == "User":
            u = self.user(sender_id)
            return views.user_push(u, self.status(u)) if u else None
        if sender_type == "Contact":
            c = self._one("SELECT * FROM contacts WHERE id = ?", [sender_id])
            return views.contact_push(c) if c else None
        if sender_type == "AgentBot":
            b = self._one("SELECT * FROM agent_bots WHERE id = ?", [sender_id])
            return views.bot_push(b) if b else None
        return None

    # -- reads ------------------------------------------------------------------------------------

    def profile(self, user: sqlite3.Row) -> dict:
        return views.profile(user, self.status(user), self.account_name())

    def agents(self) -> list[dict]:
        return [views.agent(u, self.status(u)) for u in self._all("SELECT * FROM users ORDER BY lower(name), id")]

    def teams(self, user: sqlite3.Row) -> list[dict]:
        mine = {r[0] for r in self._all("SELECT team_id FROM team_members WHERE user_id = ?", [user["id"]])}
        return [views.team(t, t["id"] in mine) for t in self._all("SELECT * FROM teams ORDER BY name")]

    def team_members(self, team_id) -> list[dict]:
        if self._one("SELECT 1 FROM teams WHERE id = ?", [team_id]) is None:
            raise not_found()
        rows = self._all("SELECT u.* FROM users u JOIN team_members m ON m.user_id = u.id WHERE m.team_id = ? "
                         "ORDER BY u.id", [team_id])
        return [views.agent(u, self.status(u)) for u in rows]

    def inboxes(self, user: sqlite3.Row) -> list[dict]:
        return [views.inbox(r) for r in self._inboxes_of(user)]

    def _inboxes_of(self, user: sqlite3.Row) -> list[sqlite3.Row]:
        """User#assigned_inboxes: every inbox for an administrator, else its memberships."""
        if user["role"] == "administrator":
            return self._all("SELECT * FROM inboxes ORDER BY id")
        return self._all("SELECT i.* FROM inboxes i JOIN inbox_members m ON m.inbox_id = i.id WHERE m.user_id = ? "
                         "ORDER BY i.id", [user["id"]])

    def labels(self) -> list[dict]:
        return [views.label(r) for r in self._all("SELECT * FROM labels ORDER BY title")]

    def canned_responses(self, search: str | None) -> list[dict]:
        if search:
            pattern = f"%{search}%"
            rows = self._all("SELECT * FROM canned_responses WHERE short_code LIKE ? OR content LIKE ? "
                             "ORDER BY short_code LIKE ? DESC, id", [pattern, pattern, f"{search}%"])
        else:
            rows = self._all("SELECT * FROM canned_responses ORDER BY id")
        return [views.canned_response(r) for r in rows]

    # -- conversations -----------------------------------------------------------------------------

    def _conversation_row(self, user: sqlite3.Row, display_id) -> sqlite3.Row:
        try:
            key = int(display_id)
        except (TypeError, ValueError):
            raise not_found() from None
        row = self._one("SELECT * FROM conversations WHERE id = ?", [key])
        if row is None:
            raise not_found()
        if row["inbox_id"] not in {i["id"] for i in self._inboxes_of(user)}:
            raise ApiError(401, NOT_AUTHORIZED)
        return row

    def _unread(self, c: sqlite3.Row) -> int:
        seen = c["agent_last_seen_at"]
        n = self._one("SELECT count(*) FROM (SELECT 1 FROM messages WHERE conversation_id = ? AND message_type = 0 "
                      "AND created_at > ? LIMIT ?)", [c["id"], seen if seen is not None else -1, UNREAD_CAP])[0]
        return n

    def _last_message(self, c: sqlite3.Row, where: str) -> dict | None:
        m = self._one(f"SELECT * FROM messages WHERE conversation_id = ? {where} ORDER BY created_at DESC, id DESC "
                      "LIMIT 1", [c["id"]])
        return self.message_push(m) if m else None

    def _meta(self, c: sqlite3.Row, *, push: bool, viewer: int | None = None) -> dict:
        contact = self._one("SELECT * FROM contacts WHERE id = ?", [c["contact_id"]])
        ci = self._one("SELECT * FROM contact_inboxes WHERE id = ?", [c["contact_inbox_id"]])
        assignee = self.user(c["assignee_id"]) if c["assignee_id"] is not None else None
        team = self._one("SELECT * FROM teams WHERE id = ?", [c["team_id"]]) if c["team_id"] is not None else None
        inbox = self._one("SELECT channel_type FROM inboxes WHERE id = ?", [c["inbox_id"]])
        if push:  # Conversations::EventDataPresenter#push_meta
            return {"sender": views.contact_push(contact),
                    "assignee": views.user_push(assignee, self.status(assignee)) if assignee else None,
                    "assignee_type": "User" if assignee else None,
                    "team": views.team_push(team) if team else None,
                    "hmac_verified": bool(ci["hmac_verified"]) if ci else None}
        meta = {"sender": views.contact(contact), "channel": inbox["channel_type"] if inbox else None}
        if assignee:
            meta["assignee"] = views.agent(assignee, self.status(assignee))
        if team:
            meta["team"] = views.team(team, self._one("SELECT 1 FROM team_members WHERE team_id = ? AND user_id = ?",
                                                      [team["id"], viewer]) is not None)
        meta["hmac_verified"] = bool(ci["hmac_verified"]) if ci else None
        return meta

    def conversation_json(self, c: sqlite3.Row, viewer: int) -> dict:
        """``api/v1/conversations/partials/_conversation.json.jbuilder`` as ``viewer`` sees it."""
        last = self._last_message(c, "")
        return {
            "meta": self._meta(c, push=False, viewer=viewer), "id": c["id"], "messages": [last] if last else [],
            "account_id": ACCOUNT_ID, "uuid": c["uuid"], "additional_attributes": views._j(c["additional_attributes"]),
            "agent_last_seen_at": views._i(c["agent_last_seen_at"]),
            "assignee_last_seen_at": views._i(c["assignee_last_seen_at"]), "can_reply": True,
            "contact_last_seen_at": views._i(c["contact_last_seen_at"]),
            "custom_attributes": views._j(c["custom_attributes"]), "inbox_id": c["inbox_id"],
            "labels": views._j(c["labels"]) or [], "muted": False, "snoozed_until": _iso(c["snoozed_until"]),
            "status": c["status"], "created_at": views._i(c["created_at"]), "updated_at": c["updated_at"],
            "timestamp": views._i(c["last_activity_at"]), "first_reply_created_at": views._i(c["first_reply_created_at"]),
            "unread_count": self._unread(c),
            "last_non_activity_message": self._last_message(c, "AND message_type != 2"),
            "last_activity_at": views._i(c["last_activity_at"]), "priority": c["priority"],
            "waiting_since": views._i(c["waiting_since"]), "sla_policy_id": None,
        }

    def conversation_push(self, c: sqlite3.Row) -> dict:
        """``Conversations::EventDataPresenter#push_data`` (socket payloads)."""
        ci = self._one("SELECT * FROM contact_inboxes WHERE id = ?", [c["contact_inbox_id"]])
        inbox = self._one("SELECT channel_type FROM inboxes WHERE id = ?", [c["inbox_id"]])
        chat = self._last_message(c, "AND message_type != 2 AND private = 0")
        return {
            "additional_attributes": views._j(c["additional_attributes"]), "can_reply": True,
            "channel": inbox["channel_type"] if inbox else None,
            "contact_inbox": {"id": ci["id"], "contact_id": ci["contact_id"], "inbox_id": ci["inbox_id"],
                              "source_id": ci["source_id"], "hmac_verified": bool(ci["hmac_verified"]),
                              "pubsub_token": ci["pubsub_token"]} if ci else None,
            "id": c["id"], "inbox_id": c["inbox_id"], "messages": [chat] if chat else [],
            "labels": views._j(c["labels"]) or [], "meta": self._meta(c, push=True), "status": c["status"],
            "custom_attributes": views._j(c["custom_attributes"]), "snoozed_until": _iso(c["snoozed_until"]),
            "unread_count": self._unread(c), "first_reply_created_at": _iso(c["first_reply_created_at"]),
            "priority": c["priority"], "waiting_since": views._i(c["waiting_since"]),
            "agent_last_seen_at": views._i(c["agent_last_seen_at"]),
            "contact_last_seen_at": views._i(c["contact_last_seen_at"]),
            "last_activity_at": views._i(c["last_activity_at"]), "timestamp": views._i(c["last_activity_at"]),
            "created_at": views._i(c["created_at"]), "updated_at": c["updated_at"],
        }

    def _finder(self, user: sqlite3.Row, params: dict) -> tuple[str, list, dict]:
        """ConversationFinder#set_up: (WHERE, args, counts) before the assignee filter."""
        inboxes = [i["id"] for i in self._inboxes_of(user)]
        where, args = [f"c.inbox_id IN ({','.join('?' * len(inboxes)) or 'NULL'})"], list(inboxes)
        if params.get("inbox_id") is not None:
            where.append("c.inbox_id = ?")
            args.append(_int(params["inbox_id"], "inbox_id"))
        if params.get("conversation_type") is not None:
            if params["conversation_type"] != "unattended":
                raise invalid(f"conversation_type {params['conversation_type']!r} is not supported by the double "
                              f"(only 'unattended')")
            where.append("(c.first_reply_created_at IS NULL OR c.waiting_since IS NOT NULL)")
        status = params.get("status")
        if status is not None and status not in (*STATUSES, "all"):
            raise invalid(f"status must be one of {', '.join((*STATUSES, 'all'))}")
        if not params.get("q") and status != "all":
            where.append("c.status = ?")
            args.append(status or "open")
        if params.get("team_id") is not None:
            team = _int(params["team_id"], "team_id")
            if self._one("SELECT 1 FROM teams WHERE id = ?", [team]) is None:
                raise not_found()
            where.append("c.team_id = ?")
            args.append(team)
        if params.get("labels"):
            where.append("EXISTS (SELECT 1 FROM json_each(c.labels) WHERE value IN "
                         f"({','.join('?' * len(params['labels']))}))")
            args += params["labels"]
        if params.get("q"):
            where.append("EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.message_type IN (0, 1) "
                         "AND m.content LIKE ?)")
            args.append(f"%{params['q']}%")
        sql = " AND ".join(where)
        r = self._one(f"SELECT count(*) FILTER (WHERE assignee_id = ?), count(*) FILTER (WHERE assignee_id IS NULL), "
                      f"count(*) FROM conversations c WHERE {sql}", [user["id"], *args])
        counts = {"mine_count": r[0], "assigned_count": r[2] - r[1], "unassigned_count": r[1], "all_count": r[2]}
        return sql, args, counts

    def conversations(self, user: sqlite3.Row, params: dict) -> dict:
        """``GET /conversations``: ``{"data": {"meta": counts, "payload": [...]}}``."""
        sql, args, counts = self._finder(user, params)
        kind = params.get("assignee_type") or "all"
        if kind not in ASSIGNEE_TYPES:
            raise invalid(f"assignee_type must be one of {', '.join(ASSIGNEE_TYPES)}")
        if kind == "me":
            sql += " AND c.assignee_id = ?"
            args = [*args, user["id"]]
        elif kind == "unassigned":
            sql += " AND c.assignee_id IS NULL"
        elif kind == "assigned":
            sql += " AND c.assignee_id IS NOT NULL"
        sort = params.get("sort_by") or "last_activity_at_desc"
        if sort not in SORT_OPTIONS:
            raise invalid(f"sort_by must be one of {', '.join(SORT_OPTIONS)}")
        order = _order(*SORT_OPTIONS[sort])
        if params.get("updated_within") is not None:  # the finder does not page then
            within = _int(params["updated_within"], "updated_within")
            rows = self._all(f"SELECT c.* FROM conversations c WHERE {sql} AND c.updated_at > ? ORDER BY {order}",
                             [*args, self.clock() - within])
        else:
            page = _int(params.get("page") or 1, "page", minimum=1)
            rows = self._all(f"SELECT c.* FROM conversations c WHERE {sql} ORDER BY {order} LIMIT ? OFFSET ?",
                             [*args, CONVERSATIONS_PER_PAGE, (page - 1) * CONVERSATIONS_PER_PAGE])
        return {"data": {"meta": counts, "payload": [self.conversation_json(c, user["id"]) for c in rows]}}

    def conversations_meta(self, user: sqlite3.Row, params: dict) -> dict:
        return {"meta": self._finder(user, params)[2]}

    def conversation(self, user: sqlite3.Row, display_id) -> dict:
        return self.conversation_json(self._conversation_row(user, display_id), user["id"])

    def conversation_labels(self, user: sqlite3.Row, display_id) -> dict:
        return {"payload": views._j(self._conversation_row(user, display_id)["labels"]) or []}

    # -- messages ----------------------------------------------------------------------------------

    def message_push(self, m: sqlite3.Row, echo_id: str | int | None = None) -> dict:
        c = self._one("SELECT * FROM conversations WHERE id = ?", [m["conversation_id"]])
        ci = self._one("SELECT source_id FROM contact_inboxes WHERE id = ?", [c["contact_inbox_id"]])
        digest = {"assignee_id": c["assignee_id"], "unread_count": self._unread(c),
                  "last_activity_at": views._i(c["last_activity_at"]),
                  "contact_inbox": {"source_id": ci["source_id"] if ci else None}}
        return views.message_push(m, self._sender(m["sender_type"], m["sender_id"]), digest, echo_id)

    def messages(self, user: sqlite3.Row, display_id, params: dict) -> dict:
        """MessageFinder + ``messages/index.json.jbuilder``."""
        c = self._conversation_row(user, display_id)
        base = "conversation_id = ?"
        if params.get("filter_internal_messages"):
            base += " AND private = 0 AND message_type != 2"
        before = _int(params["before"], "before") if params.get("before") else None
        after = _int(params["after"], "after") if params.get("after") else None
        if after is not None and before is not None:
            rows = self._all(f"SELECT * FROM messages WHERE {base} AND id >= ? AND id < ? ORDER BY created_at, id "
                             "LIMIT ?", [c["id"], after, before, MESSAGES_BETWEEN])
        elif before is not None:
            rows = self._all(f"SELECT * FROM messages WHERE {base} AND id < ? ORDER BY created_at DESC, id DESC "
                             "LIMIT ?", [c["id"], before, MESSAGES_BEFORE])[::-1]
        elif after is not None:
            rows = self._all(f"SELECT * FROM messages WHERE {base} AND id > ? ORDER BY created_at, id LIMIT ?",
                             [c["id"], after, MESSAGES_AFTER])
        elif params.get("before_timestamp"):
            stamp = _int(params["before_timestamp"], "before_timestamp")
            rows = self._all(f"SELECT * FROM messages WHERE {base} AND created_at < ? ORDER BY created_at DESC, "
                             "id DESC LIMIT ?", [c["id"], stamp, MESSAGES_BEFORE])[::-1]
        else:
            rows = self._all(f"SELECT * FROM messages WHERE {base} ORDER BY created_at DESC, id DESC LIMIT ?",
                             [c["id"], MESSAGES_BEFORE])[::-1]
        contact = self._one("SELECT * FROM contacts WHERE id = ?", [c["contact_id"]])
        meta = {"labels": views._j(c["labels"]) or [], "additional_attributes": views._j(c["additional_attributes"]),
                "contact": views.contact_push(contact)}
        assignee = self.user(c["assignee_id"]) if c["assignee_id"] is not None else None
        if assignee:
            meta["assignee"] = views.user_push(assignee, self.status(assignee))
        meta |= {"agent_last_seen_at": _iso(c["agent_last_seen_at"]),
                 "assignee_last_seen_at": _iso(c["assignee_last_seen_at"])}
        return {"meta": meta,
                "payload": [views.message(m, self._sender(m["sender_type"], m["sender_id"])) for m in rows]}

    def _insert_message(self, c: sqlite3.Row, *, content: str | None, message_type: int, private: bool = False,
                        content_type: str = "text", content_attributes: dict | None = None,
                        additional_attributes: dict | None = None, sender: tuple[str | None, int | None],
                        at: float | None = None, echo_id: str | int | None = None) -> sqlite3.Row:
        """Inside a write: a message with Message's callbacks on the conversation (last
        activity, waiting_since, first reply, reopening) and their events."""
        now = self.clock() if at is None else at
        mid = self.conn.execute(
            "INSERT INTO messages (conversation_id, inbox_id, content, message_type, content_type, content_attributes, "
            "additional_attributes, private, sender_type, sender_id, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [c["id"], c["inbox_id"], content, message_type, content_type, dumps(content_attributes or {}),
             dumps(additional_attributes or {}), int(private), sender[0], sender[1], now, now],
        ).lastrowid
        changes: dict = {}
        if message_type != 2:
            changes["last_activity_at"] = now
        human_reply = message_type == 1 and not private and sender[0] == "User"
        if human_reply:
            if c["first_reply_created_at"] is None:
                changes["first_reply_created_at"] = now
            if c["waiting_since"] is not None:
                changes["waiting_since"] = None
        reopen = None
        if message_type == 0:
            if c["waiting_since"] is None:
                changes["waiting_since"] = now
            if c["status"] in ("resolved", "snoozed"):  # Message#reopen_conversation
                reopen = c["status"]
                changes |= {"status": "open", "snoozed_until": None}
        row = self.conn.execute("SELECT * FROM messages WHERE id = ?", [mid]).fetchone()
        self._dispatch("message.created", self.message_push(row, echo_id))
        if changes:
            self._update(c["id"], changes, quiet=not (reopen or {"first_reply_created_at", "waiting_since"} & set(changes)))
        if reopen:
            self._activity(c["id"], SYSTEM_REOPEN)
        if human_reply and self.simulator is not None:
            self.simulator.on_agent_reply(c["id"], now)
        return row

    def _update(self, cid: int, changes: dict, *, quiet: bool = False) -> sqlite3.Row:
        """Inside a write: change a conversation; its status_changed/updated events unless ``quiet``."""
        before = self.conn.execute("SELECT * FROM conversations WHERE id = ?", [cid]).fetchone()
        sets = ", ".join(f"{k} = ?" for k in changes)
        self.conn.execute(f"UPDATE conversations SET {sets}, updated_at = ? WHERE id = ?",
                          [*changes.values(), self.clock(), cid])
        after = self.conn.execute("SELECT * FROM conversations WHERE id = ?", [cid]).fetchone()
        if not quiet:
            if before["status"] != after["status"]:
                self._dispatch("conversation.status_changed", self.conversation_push(after))
            self._dispatch("conversation.updated", self.conversation_push(after))
        return after

    def _fresh(self, cid: int) -> sqlite3.Row:
        """Inside a write: the conversation as it is now (a read before the transaction may be stale)."""
        return self.conn.execute("SELECT * FROM conversations WHERE id = ?", [cid]).fetchone()

    def _activity(self, cid: int, text: str) -> None:
        c = self._fresh(cid)
        self._insert_message(c, content=text, message_type=2, sender=(None, None))

    def create_message(self, user: sqlite3.Row, display_id, body: dict) -> dict:
        """MessagesController#create via Messages::MessageBuilder. ``echo_id`` is echoed in
        the answer and the socket's message.created and stored nowhere."""
        content = body.get("content")
        if content is not None and not isinstance(content, str):
            raise invalid("content must be a string")
        if content is not None and len(content) > MAX_CONTENT:
            raise invalid(f"Content is too long (maximum is {MAX_CONTENT} characters)")
        if not content:
            raise invalid("content is empty (the double has no attachments)")
        mtype = body.get("message_type", "outgoing")
        if isinstance(mtype, int) and not isinstance(mtype, bool):
            mtype = {v: k for k, v in MESSAGE_TYPES.items()}.get(mtype, mtype)
        if mtype not in MESSAGE_TYPES:
            raise invalid(f"message_type must be one of {', '.join(MESSAGE_TYPES)}")
        private = body.get("private", False)
        if not isinstance(private, bool):
            raise invalid("private must be true or false")
        content_type = body.get("content_type") or "text"
        if content_type not in CONTENT_TYPES:
            raise invalid(f"'{content_type}' is not a valid content_type")
        attributes = body.get("content_attributes") or {}
        if not isinstance(attributes, dict):
            raise invalid("content_attributes must be an object")
        echo_id = body.get("echo_id")
        if echo_id is not None and (isinstance(echo_id, bool) or not isinstance(echo_id, str | int)):
            raise invalid("echo_id must be a string or a number")
        c0 = self._conversation_row(user, display_id)
        sender = ("Contact", c0["contact_id"]) if mtype == "incoming" else ("User", user["id"])

        def fn():
            c = self._fresh(c0["id"])
            row = self._insert_message(c, content=content, message_type=MESSAGE_TYPES[mtype], private=private,
                                       content_type=content_type, content_attributes=attributes, sender=sender,
                                       echo_id=echo_id)
            return views.message(row, self._sender(*sender), echo_id)  # passed through as sent

        return self._txn(fn)

    def _message_row(self, c: sqlite3.Row, message_id) -> sqlite3.Row:
        try:
            key = int(message_id)
        except (TypeError, ValueError):
            raise not_found() from None
        row = self._one("SELECT * FROM messages WHERE id = ? AND conversation_id = ?", [key, c["id"]])
        if row is None:
            raise not_found()
        return row

    def _change_message(self, mid: int, **changes) -> sqlite3.Row:
        """Inside a write: Message#update! and its message.updated event."""
        sets = ", ".join(f"{k} = ?" for k in changes)
        self.conn.execute(f"UPDATE messages SET {sets}, updated_at = ? WHERE id = ?",
                          [*changes.values(), self.clock(), mid])
        row = self.conn.execute("SELECT * FROM messages WHERE id = ?", [mid]).fetchone()
        self._dispatch("message.updated", self.message_push(row))
        return row

    def delete_message(self, user: sqlite3.Row, display_id, message_id) -> dict:
        """MessagesController#destroy: the row stays, its content replaced and marked deleted."""
        c = self._conversation_row(user, display_id)
        m = self._message_row(c, message_id)

        def fn():
            attributes = {**views._j(m["content_attributes"]), "deleted": True}
            row = self._change_message(m["id"], content=DELETED, content_type="text",
                                       content_attributes=dumps(attributes))
            return views.message(row, self._sender(row["sender_type"], row["sender_id"]))

        return self._txn(fn)

    def update_message_status(self, user: sqlite3.Row, display_id, message_id, body: dict) -> dict:
        """MessagesController#update (API inboxes only): the delivery ``status``."""
        c = self._conversation_row(user, display_id)
        m = self._message_row(c, message_id)
        status = body.get("status")
        if status not in MESSAGE_STATUSES:
            raise invalid(f"status must be one of {', '.join(MESSAGE_STATUSES)}")
        error = body.get("external_error")

        def fn():
            changes: dict = {"status": status}
            if error is not None:
                changes["content_attributes"] = dumps({**views._j(m["content_attributes"]), "external_error": str(error)})
            row = self._change_message(m["id"], **changes)
            return views.message(row, self._sender(row["sender_type"], row["sender_id"]))

        return self._txn(fn)

    # -- conversation writes -----------------------------------------------------------------------

    def toggle_status(self, user: sqlite3.Row, display_id, body: dict) -> dict:
        c0 = self._conversation_row(user, display_id)
        status = body.get("status")
        snoozed_until = None
        if status is not None:
            if status not in STATUSES:
                raise invalid(f"'{status}' is not a valid status")
            if body.get("snoozed_until") is not None:
                snoozed_until = _unix(body["snoozed_until"], "snoozed_until")
        elif body.get("snoozed_until") is not None:
            raise invalid("snoozed_until needs status snoozed")
        else:  # Conversation#toggle_status
            status = "resolved" if c0["status"] == "open" else "open"

        def fn():
            c = self._fresh(c0["id"])
            changes = {"status": status, "snoozed_until": snoozed_until if status == "snoozed" else None}
            if status == "resolved":
                changes["waiting_since"] = None
            moved = c["status"] != status or c["snoozed_until"] != changes["snoozed_until"]
            after = self._update(c["id"], changes, quiet=not moved)
            if c["status"] != status:
                self._activity(c["id"], ACTIVITY_STATUS[status].format(name=views.available_name(user)))
            return {"meta": {}, "payload": {"success": True, "conversation_id": after["id"],
                                            "current_status": after["status"],
                                            "snoozed_until": _iso(after["snoozed_until"])}}

        return self._txn(fn)

    def toggle_priority(self, user: sqlite3.Row, display_id, body: dict) -> None:
        c0 = self._conversation_row(user, display_id)
        priority = body.get("priority") or None
        if priority not in (*PRIORITIES, None):
            raise invalid(f"'{priority}' is not a valid priority")

        def fn():
            c = self._fresh(c0["id"])
            if c["priority"] == priority:
                return
            self._update(c["id"], {"priority": priority})
            name = views.available_name(user)
            if priority is None:
                text = f"{name} removed the priority"
            elif c["priority"] is None:
                text = f"{name} set the priority to {priority}"
            else:
                text = f"{name} changed the priority from {c['priority']} to {priority}"
            self._activity(c["id"], text)

        self._txn(fn)

    def assign(self, user: sqlite3.Row, display_id, body: dict) -> dict | None:
        """AssignmentsController#create: ``assignee_id`` (an agent, or null to unassign)
        wins over ``team_id``. The last write wins: Chatwoot checks no previous owner."""
        c0 = self._conversation_row(user, display_id)
        if body.get("assignee_type") not in (None, "User"):
            raise invalid("assignee_type AgentBot is not supported by the double")
        name = views.available_name(user)
        if "assignee_id" in body:
            target = None
            if body["assignee_id"] is not None:
                target = self.user(_int(body["assignee_id"], "assignee_id"))

            def fn():
                c = self._fresh(c0["id"])
                new = target["id"] if target else None
                if c["assignee_id"] != new:
                    after = self._update(c["id"], {"assignee_id": new}, quiet=True)
                    self._dispatch("assignee.changed", self.conversation_push(after))
                    self._dispatch("conversation.updated", self.conversation_push(after))
                    if target is None:
                        self._activity(c["id"], f"Conversation unassigned by {name}")
                    elif target["id"] == user["id"]:
                        self._activity(c["id"], f"{name} self-assigned this conversation")
                    else:
                        self._activity(c["id"], f"Assigned to {views.available_name(target)} by {name}")
                return views.agent(target, self.status(target)) if target else None

            return self._txn(fn)
        if "team_id" in body:
            team = None
            if body["team_id"] is not None:
                team = self._one("SELECT * FROM teams WHERE id = ?", [_int(body["team_id"], "team_id")])

            def fn_team():
                c = self._fresh(c0["id"])
                new = team["id"] if team else None
                if c["team_id"] != new:
                    changes: dict = {"team_id": new}
                    members = {r[0] for r in self.conn.execute("SELECT user_id FROM team_members WHERE team_id = ?",
                                                                [new]).fetchall()}
                    if team and c["assignee_id"] is not None and c["assignee_id"] not in members:
                        changes["assignee_id"] = None  # AssignmentHandler: the assignee must be on the team
                    after = self._update(c["id"], changes, quiet=True)
                    self._dispatch("team.changed", self.conversation_push(after))
                    if "assignee_id" in changes:
                        self._dispatch("assignee.changed", self.conversation_push(after))
                    self._dispatch("conversation.updated", self.conversation_push(after))
                    if team:
                        self._activity(c["id"], f"Assigned to {team['name']} by {name}")
                    else:
                        old = self.conn.execute("SELECT name FROM teams WHERE id = ?", [c["team_id"]]).fetchone()
                        self._activity(c["id"], f"Unassigned from {old[0] if old else ''} by {name}")
                return views.team_record(team) if team else None

            return self._txn(fn_team)
        return None

    def set_labels(self, user: sqlite3.Row, display_id, body: dict) -> dict:
        """LabelConcern#create: the list REPLACES the conversation's labels; titles that are
        not labels of the account are dropped silently, as Chatwoot does."""
        c0 = self._conversation_row(user, display_id)
        posted = body.get("labels")
        if posted is None:
            posted = []
        if not isinstance(posted, list) or not all(isinstance(x, str) for x in posted):
            raise invalid("labels must be an array of strings")

        def fn():
            c = self._fresh(c0["id"])
            known = {r[0] for r in self.conn.execute("SELECT title FROM labels").fetchall()}
            new = list(dict.fromkeys(x for x in posted if x in known))
            old = views._j(c["labels"]) or []
            if new != old:
                self._update(c["id"], {"labels": dumps(new)})
                name = views.available_name(user)
                added, removed = [x for x in new if x not in old], [x for x in old if x not in new]
                if added:
                    self._activity(c["id"], f"{name} added {', '.join(added)}")
                if removed:
                    self._activity(c["id"], f"{name} removed {', '.join(removed)}")
            return {"payload": new}

        return self._txn(fn)

    def update_last_seen(self, user: sqlite3.Row, display_id, *, unread: bool = False) -> dict:
        """``update_last_seen`` (now) or ``unread`` (just before the last incoming message)."""
        c0 = self._conversation_row(user, display_id)

        def fn():
            c = self._fresh(c0["id"])
            at = self.clock()
            if unread:
                last = self.conn.execute("SELECT max(created_at) FROM messages WHERE conversation_id = ? AND "
                                         "message_type = 0", [c["id"]]).fetchone()[0]
                at = last - 1 if last is not None else None
            changes = {"agent_last_seen_at": at}
            if unread or c["assignee_id"] == user["id"]:
                changes["assignee_last_seen_at"] = at
            sets = ", ".join(f"{k} = ?" for k in changes)  # update_columns: no callbacks, no events
            self.conn.execute(f"UPDATE conversations SET {sets} WHERE id = ?", [*changes.values(), c["id"]])
            return {"id": c["id"], "agent_last_seen_at": views._i(at), "assignee_last_seen_at": views._i(at)}

        return self._txn(fn)

    def create_conversation(self, user: sqlite3.Row, body: dict) -> dict:
        """ConversationsController#create: a contact_inbox (by ``inbox_id`` + ``contact_id``,
        else ``source_id``), ConversationBuilder, and ``message`` as its first outgoing message."""
        for key in ("additional_attributes", "custom_attributes"):
            if body.get(key) is not None and not isinstance(body[key], dict):
                raise invalid(f"{key} must be an object")
        status = body.get("status") or "open"
        if status not in STATUSES:
            raise invalid(f"'{status}' is not a valid status")
        message = body.get("message")
        if message is not None and (not isinstance(message, dict) or not isinstance(message.get("content"), str)):
            raise invalid("message must be an object with content")
        snoozed = _unix(body["snoozed_until"], "snoozed_until") if body.get("snoozed_until") is not None else None

        def fn():
            ci = self._contact_inbox(user, body)
            now = self.clock()
            assignee = _int(body["assignee_id"], "assignee_id") if body.get("assignee_id") is not None else None
            team = _int(body["team_id"], "team_id") if body.get("team_id") is not None else None
            if assignee is not None and self.user(assignee) is None:
                raise not_found()
            if team is not None and self.conn.execute("SELECT 1 FROM teams WHERE id = ?", [team]).fetchone() is None:
                raise not_found()
            cid = self.conn.execute(
                "INSERT INTO conversations (uuid, inbox_id, contact_id, contact_inbox_id, assignee_id, team_id, status, "
                "snoozed_until, additional_attributes, custom_attributes, waiting_since, last_activity_at, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [str(uuid.uuid4()), ci["inbox_id"], ci["contact_id"], ci["id"], assignee, team, status,
                 snoozed if status == "snoozed" else None, dumps(body.get("additional_attributes") or {}),
                 dumps(body.get("custom_attributes") or {}), now, now, now, now],
            ).lastrowid
            c = self.conn.execute("SELECT * FROM conversations WHERE id = ?", [cid]).fetchone()
            self._dispatch("conversation.created", self.conversation_push(c))
            if message is not None:
                self._insert_message(c, content=message["content"], message_type=1, sender=("User", user["id"]))
            return self.conversation_json(self._fresh(cid), user["id"])

        return self._txn(fn)

    def _contact_inbox(self, user: sqlite3.Row, body: dict) -> sqlite3.Row:
        inbox_id, contact_id, source_id = body.get("inbox_id"), body.get("contact_id"), body.get("source_id")
        if inbox_id is not None and contact_id is not None:
            inbox = _int(inbox_id, "inbox_id")
            if inbox not in {i["id"] for i in self._inboxes_of(user)}:
                raise not_found()
            contact = _int(contact_id, "contact_id")
            if self.conn.execute("SELECT 1 FROM contacts WHERE id = ?", [contact]).fetchone() is None:
                raise not_found()
            if source_id is not None:
                found = self.conn.execute("SELECT * FROM contact_inboxes WHERE inbox_id = ? AND source_id = ?",
                                          [inbox, str(source_id)]).fetchone()
                if found is not None:
                    return found
            else:
                found = self.conn.execute("SELECT * FROM contact_inboxes WHERE inbox_id = ? AND contact_id = ? "
                                          "ORDER BY id LIMIT 1", [inbox, contact]).fetchone()
                if found is not None:
                    return found
            return self._new_contact_inbox(contact, inbox, str(source_id) if source_id is not None else None)
        if source_id is not None:
            found = self.conn.execute("SELECT * FROM contact_inboxes WHERE source_id = ?", [str(source_id)]).fetchone()
            if found is not None:
                return found
        raise not_found()

    def _new_contact_inbox(self, contact: int, inbox: int, source_id: str | None) -> sqlite3.Row:
        ciid = self.conn.execute(
            "INSERT INTO contact_inboxes (contact_id, inbox_id, source_id, pubsub_token) VALUES (?, ?, ?, ?)",
            [contact, inbox, source_id or str(uuid.uuid4()), uuid.uuid4().hex],
        ).lastrowid
        return self.conn.execute("SELECT * FROM contact_inboxes WHERE id = ?", [ciid]).fetchone()

    # -- contacts ----------------------------------------------------------------------------------

    def _contact_view(self, row: sqlite3.Row, with_inboxes: bool) -> dict:
        if not with_inboxes:
            return views.contact(row)
        cis = self._all("SELECT ci.*, i.id AS iid FROM contact_inboxes ci JOIN inboxes i ON i.id = ci.inbox_id "
                        "WHERE ci.contact_id = ? ORDER BY ci.id", [row["id"]])
        return views.contact(row, [views.contact_inbox(ci, self._one("SELECT * FROM inboxes WHERE id = ?", [ci["iid"]]))
                                   for ci in cis])

    def contacts(self, params: dict, *, search: bool = False) -> dict:
        """ContactsController#index (15 a page, ``meta.count`` the total) and #search
        (``q`` over name, email, phone, identifier; ``meta.has_more`` instead)."""
        page = _int(params.get("page") or 1, "page", minimum=1)
        with_inboxes = params.get("include_contact_inboxes", "true") == "true"
        order = _contact_order(params.get("sort"))
        where, args = "1", []
        if params.get("labels"):
            raise invalid("contact labels are not supported by the double")
        if search:
            q = (params.get("q") or "").strip()
            if not q:
                raise invalid("Specify search string with parameter q")
            where = "(name LIKE ?1 OR email LIKE ?1 OR phone_number LIKE ?1 OR identifier LIKE ?1 OR CAST(id AS TEXT) = ?2)"
            args = [f"%{q}%", q if q.isdigit() else ""]
            rows = self._all(f"SELECT * FROM contacts WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                             [*args, CONTACTS_PER_PAGE + 1, (page - 1) * CONTACTS_PER_PAGE])
            has_more = len(rows) > CONTACTS_PER_PAGE
            rows = rows[:CONTACTS_PER_PAGE]
            return {"meta": {"count": len(rows), "current_page": page, "has_more": has_more},
                    "payload": [self._contact_view(r, with_inboxes) for r in rows]}
        total = self._one(f"SELECT count(*) FROM contacts WHERE {where}", args)[0]
        rows = self._all(f"SELECT * FROM contacts WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                         [*args, CONTACTS_PER_PAGE, (page - 1) * CONTACTS_PER_PAGE])
        return {"meta": {"count": total, "current_page": page},
                "payload": [self._contact_view(r, with_inboxes) for r in rows]}

    def _contact_row(self, contact_id) -> sqlite3.Row:
        try:
            key = int(contact_id)
        except (TypeError, ValueError):
            raise not_found() from None
        row = self._one("SELECT * FROM contacts WHERE id = ?", [key])
        if row is None:
            raise not_found()
        return row

    def contact(self, contact_id, params: dict) -> dict:
        return {"payload": self._contact_view(self._contact_row(contact_id),
                                              params.get("include_contact_inboxes", "true") == "true")}

    def update_contact(self, contact_id, body: dict) -> dict:
        """ContactsController#update: attributes replaced, ``custom_attributes`` and
        ``additional_attributes`` MERGED into what the contact has; contact.updated."""
        row = self._contact_row(contact_id)
        for key in ("custom_attributes", "additional_attributes"):
            if body.get(key) is not None and not isinstance(body[key], dict):
                raise invalid(f"{key} must be an object")
        for key in ("name", "identifier", "email", "phone_number"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise invalid(f"{key} must be a string")
        if "blocked" in body and not isinstance(body["blocked"], bool):
            raise invalid("blocked must be true or false")
        if "name" in body and not (body["name"] or "").strip():
            raise invalid("Name can't be blank")

        def fn():
            changes = {k: (int(body[k]) if k == "blocked" else body[k]) for k in CONTACT_FIELDS if k in body}
            for key in ("custom_attributes", "additional_attributes"):
                if body.get(key) is not None:
                    changes[key] = dumps({**views._j(row[key]), **body[key]})
            if changes:
                sets = ", ".join(f"{k} = ?" for k in changes)
                self.conn.execute(f"UPDATE contacts SET {sets}, updated_at = ? WHERE id = ?",
                                  [*changes.values(), self.clock(), row["id"]])
            fresh = self.conn.execute("SELECT * FROM contacts WHERE id = ?", [row["id"]]).fetchone()
            if changes:
                self._dispatch("contact.updated", views.contact_push(fresh))
            return {"payload": self._contact_view(fresh, True)}

        return self._txn(fn)

    def contact_exists(self, id_or_name: str) -> bool:
        return self._one("SELECT 1 FROM contacts WHERE name = ? OR identifier = ?", [id_or_name, id_or_name]) is not None

    def contact_conversations(self, user: sqlite3.Row, contact_id) -> dict:
        """Contacts::ConversationsController#index: the latest 20, newest id first."""
        row = self._contact_row(contact_id)
        inboxes = [i["id"] for i in self._inboxes_of(user)]
        rows = self._all(f"SELECT * FROM conversations WHERE contact_id = ? AND inbox_id IN "
                         f"({','.join('?' * len(inboxes)) or 'NULL'}) ORDER BY id DESC LIMIT ?",
                         [row["id"], *inboxes, CONTACT_CONVERSATIONS])
        return {"payload": [self.conversation_json(c, user["id"]) for c in rows]}

    def notes(self, contact_id) -> list[dict]:
        row = self._contact_row(contact_id)
        return [self._note_view(n) for n in
                self._all("SELECT * FROM notes WHERE contact_id = ? ORDER BY created_at DESC, id DESC", [row["id"]])]

    def _note_view(self, n: sqlite3.Row) -> dict:
        u = self.user(n["user_id"]) if n["user_id"] is not None else None
        return views.note(n, u, self.status(u) if u else "offline")

    def add_note(self, user: sqlite3.Row, contact_id, body: dict) -> dict:
        source = body["note"] if isinstance(body.get("note"), dict) else body
        content = source.get("content")
        if not isinstance(content, str) or not content.strip():
            raise invalid("Content can't be blank")
        row = self._contact_row(contact_id)

        def fn():
            now = self.clock()
            nid = self.conn.execute("INSERT INTO notes (contact_id, user_id, content, created_at, updated_at) "
                                    "VALUES (?, ?, ?, ?, ?)", [row["id"], user["id"], content, now, now]).lastrowid
            return self._note_view(self.conn.execute("SELECT * FROM notes WHERE id = ?", [nid]).fetchone())

        return self._txn(fn)

    # -- profile, labels ---------------------------------------------------------------------------

    def update_profile(self, user: sqlite3.Row, body: dict) -> dict:
        """ProfilesController#update; a new ``availability`` is broadcast as presence.update."""
        profile = body.get("profile")
        if not isinstance(profile, dict):
            raise ApiError(400, "param is missing or the value is empty: profile")
        availability = profile.get("availability")
        if availability is not None and availability not in AVAILABILITY:
            raise invalid(f"'{availability}' is not a valid availability")
        for key in ("name", "display_name"):
            if profile.get(key) is not None and (not isinstance(profile[key], str) or not profile[key].strip()):
                raise invalid(f"{key} must be a non-empty string")
        changes = {k: profile[k] for k in ("name", "display_name", "availability") if profile.get(k) is not None}

        def fn():
            if changes:
                sets = ", ".join(f"{k} = ?" for k in changes)
                self.conn.execute(f"UPDATE users SET {sets} WHERE id = ?", [*changes.values(), user["id"]])
            if "availability" in changes:
                self._dispatch("presence.update", self.presence_data())
            return self.profile(self.conn.execute("SELECT * FROM users WHERE id = ?", [user["id"]]).fetchone())

        return self._txn(fn)

    def create_label(self, user: sqlite3.Row, body: dict) -> dict:
        if user["role"] != "administrator":
            raise ApiError(401, NOT_AUTHORIZED)
        title = body.get("title")
        if not isinstance(title, str) or not title.strip():
            raise invalid("Title can't be blank")

        def fn():
            if self.conn.execute("SELECT 1 FROM labels WHERE title = ?", [title.strip()]).fetchone():
                raise invalid("Title has already been taken")
            lid = self.conn.execute("INSERT INTO labels (title, description, color) VALUES (?, ?, ?)",
                                    [title.strip(), body.get("description") or "", body.get("color") or "#1f93ff"]
                                    ).lastrowid
            return views.label(self.conn.execute("SELECT * FROM labels WHERE id = ?", [lid]).fetchone())

        return self._txn(fn)

    # -- the customer side ------------------------------------------------------------------------

    def say(self, contact: str, content: str, inbox_id: int = INBOX_ID) -> dict:
        """A customer writes in (the double's test route, not Chatwoot's): by contact id,
        identifier or name (a new name is a new contact), into their latest conversation
        in the inbox unless it is resolved (a resolved one reopens when the inbox allows
        messages after resolving, as Chatwoot's API inbox does, so: the latest)."""
        if not isinstance(contact, str | int) or not str(contact).strip():
            raise invalid("contact must be a name or an id")
        if not isinstance(content, str) or not content.strip():
            raise invalid("content must be a non-empty string")
        who = str(contact).strip()

        def fn():
            if self.conn.execute("SELECT 1 FROM inboxes WHERE id = ?", [inbox_id]).fetchone() is None:
                raise not_found()
            now = self.clock()
            row = self.conn.execute("SELECT * FROM contacts WHERE CAST(id AS TEXT) = ?1 OR identifier = ?1 OR name = ?1 "
                                    "ORDER BY CAST(id AS TEXT) = ?1 DESC, identifier = ?1 DESC, id LIMIT 1",
                                    [who]).fetchone()
            if row is None:
                kid = self.conn.execute("INSERT INTO contacts (name, created_at, updated_at) VALUES (?, ?, ?)",
                                        [who, now, now]).lastrowid
                row = self.conn.execute("SELECT * FROM contacts WHERE id = ?", [kid]).fetchone()
                self._dispatch("contact.created", views.contact_push(row))
            ci = self.conn.execute("SELECT * FROM contact_inboxes WHERE contact_id = ? AND inbox_id = ? ORDER BY id "
                                   "LIMIT 1", [row["id"], inbox_id]).fetchone()
            if ci is None:
                ci = self._new_contact_inbox(row["id"], inbox_id, None)
            c = self.conn.execute("SELECT * FROM conversations WHERE contact_inbox_id = ? ORDER BY id DESC LIMIT 1",
                                  [ci["id"]]).fetchone()
            if c is None:
                cid = self.conn.execute(
                    "INSERT INTO conversations (uuid, inbox_id, contact_id, contact_inbox_id, status, waiting_since, "
                    "last_activity_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?)",
                    [str(uuid.uuid4()), inbox_id, row["id"], ci["id"], now, now, now, now]).lastrowid
                c = self.conn.execute("SELECT * FROM conversations WHERE id = ?", [cid]).fetchone()
                self._dispatch("conversation.created", self.conversation_push(c))
            msg = self._insert_message(c, content=content, message_type=0, sender=("Contact", row["id"]))
            self.conn.execute("UPDATE contacts SET last_activity_at = ? WHERE id = ?", [now, row["id"]])
            return {"contact_id": row["id"], "conversation_id": c["id"], "message_id": msg["id"]}

        return self._txn(fn)

    def _simulated_say(self, customer: str, text: str) -> dict:
        said = self.say(customer, text)
        return {"customer_id": str(said["contact_id"]), "conversation_id": said["conversation_id"]}

    # -- time passing -----------------------------------------------------------------------------

    def tick(self) -> None:
        """What is due by now: snoozes that ended reopen; simulated customers write."""
        now = self.clock()
        due = [r[0] for r in self._all("SELECT id FROM conversations WHERE status = 'snoozed' AND snoozed_until IS NOT "
                                       "NULL AND snoozed_until <= ? ORDER BY id LIMIT 50", [now])]
        for cid in due:
            def fn(cid=cid):
                self._update(cid, {"status": "open", "snoozed_until": None})
                self._activity(cid, SYSTEM_UNSNOOZE)

            self._txn(fn)
        if self.simulator is not None:
            self.simulator.tick(now)


def _iso(t: float | None) -> str | None:
    from agentdesk.timefmt import rfc3339

    return rfc3339(t) if t is not None else None


def _int(value, name: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool):
        raise invalid(f"{name} must be an integer")
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise invalid(f"{name} must be an integer") from None
    if n < minimum:
        raise invalid(f"{name} must be at least {minimum}")
    return n


def _unix(value, name: str) -> float:
    """DateRangeHelper#parse_date_time: unix seconds (a number or a numeric string)."""
    if isinstance(value, bool):
        raise invalid(f"{name} must be unix seconds")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return float(value.strip())
    if isinstance(value, str):
        try:  # an ISO time is refused with a pointer, as Chatwoot would mis-parse it
            datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            raise invalid(f"{name} must be unix seconds, not an ISO time")
    raise invalid(f"{name} must be unix seconds")


def _order(key: str, direction: str) -> str:
    """The ORDER BY of a sort_on_* scope (ids break ties so pages are stable)."""
    if key == "priority":
        return f"{PRIORITY_RANK} {direction.upper()} NULLS LAST, c.last_activity_at DESC, c.id DESC"
    if key == "priority_created_at":
        return f"{PRIORITY_RANK} DESC NULLS LAST, c.created_at ASC, c.id ASC"
    if key == "waiting_since":
        return f"c.waiting_since {direction.upper()} NULLS LAST, c.id DESC"
    if key == "unread":
        return ("(SELECT count(*) FROM messages m WHERE m.conversation_id = c.id AND m.message_type = 0 AND "
                "m.created_at > coalesce(c.agent_last_seen_at, -1)) > 0 DESC, c.last_activity_at DESC, c.id DESC")
    return f"c.{key} {direction.upper()}, c.id {direction.upper()}"


def _contact_order(sort: str | None) -> str:
    """Sift's ``sort`` (``name``, ``-last_activity_at``…); default: last activity first."""
    if not sort:
        return "last_activity_at DESC NULLS LAST, id DESC"
    key, desc = sort.lstrip("-"), sort.startswith("-")
    if key not in ("email", "name", "phone_number", "last_activity_at", "created_at"):
        raise invalid(f"sort {sort!r} is not supported")
    return f"{key} {'DESC' if desc else 'ASC'} NULLS LAST, id {'DESC' if desc else 'ASC'}"
