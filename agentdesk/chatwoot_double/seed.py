"""The agentdesk demo shop mapped into Chatwoot's model, for ``--seed demo``.

- agents 小美/阿杰/小雨/老周 are ``agent`` users, the supervisor 林姐 an ``administrator``
  (agentdesk runs her token read-only); fixed tokens ``cw-<fixture id and name>``;
- teams 售前/售后/客诉 from the agents' groups; one API inbox all users are members of;
- the fixture customers (and the seven days of generated history) are contacts:
  ``identifier`` is the fixture id, ``custom_attributes`` hold ``vip_level`` and
  ``location`` (and ``opt_out`` where set), ``additional_attributes.city`` the location;
- conversations keep status, assignee, team (the group), labels (the tags) and priority
  (our ``normal`` is Chatwoot's ``null``; a snooze ends a day after the anchor);
- messages: the customer's are incoming (0), agents' outgoing (1), the bot's outgoing
  from an AgentBot, ``note`` lines private outgoing notes, ``system`` lines activity (2);
- contact notes from the fixture notes; canned responses from the shop-wide quick
  replies, their variables in Chatwoot's ``{{contact.name}}`` style (``{shop.name}`` is
  written out, as Chatwoot has no such variable; ``{order.*}`` stay as ``{{order.*}}``,
  which a Chatwoot account would leave unfilled).
"""

from __future__ import annotations

import re
import sqlite3
import uuid

from agentdesk.chatwoot_double.db import ACCOUNT_NAME, BOT_ID, INBOX_ID, dumps
from agentdesk.models import PRIORITY_NAMES

PRIORITY = {"low": "low", "normal": None, "high": "high", "urgent": "urgent"}
BOT_NAME = "拾光智能助手"
#: Demo colleagues shown present (logged in to Chatwoot's web app elsewhere); the
#: agent using agentdesk is present only while its own socket is subscribed.
ALWAYS_PRESENT = ("a02", "a03", "a04")
_VARIABLE = re.compile(r"\{([a-z_]+\.[a-z_]+)\}")
_CHATWOOT_VARIABLE = {"customer.name": "contact.name", "agent.name": "agent.name"}


def token(fixture_token: str) -> str:
    """``demo-a01-xiaomei`` -> ``cw-a01-xiaomei``."""
    return "cw-" + fixture_token.removeprefix("demo-")


def canned_content(body: str, shop_name: str) -> str:
    def swap(m: re.Match) -> str:
        name = m.group(1)
        if name == "shop.name":
            return shop_name
        return "{{" + _CHATWOOT_VARIABLE.get(name, name) + "}}"

    return _VARIABLE.sub(swap, body)


def seed_demo(conn: sqlite3.Connection, anchor: float) -> None:
    """The whole demo in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        _seed(conn, anchor)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _seed(conn: sqlite3.Connection, anchor: float) -> None:
    from agentdesk.demo import fixtures
    from agentdesk.shop import bot, content, history

    data = fixtures.load(anchor)
    scripts = content.load()
    conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                     [("account_name", data.shop_name or ACCOUNT_NAME), ("anchor", str(anchor))])
    users: dict[str, int] = {}
    for n, a in enumerate(data.agents, start=1):
        users[a.id] = n
        slug = data.tokens[a.id].removeprefix("demo-")
        conn.execute(
            "INSERT INTO users (id, name, display_name, email, role, access_token, pubsub_token, availability, "
            "always_present, demo_id) VALUES (?, ?, ?, ?, ?, ?, ?, 'online', ?, ?)",
            [n, a.name, a.name, f"{slug}@shiguang.example", "administrator" if a.role == "supervisor" else "agent",
             token(data.tokens[a.id]), f"ps-{slug}", int(a.id in ALWAYS_PRESENT), a.id],
        )
    conn.execute("INSERT INTO agent_bots (id, name) VALUES (?, ?)", [BOT_ID, BOT_NAME])
    teams: dict[str, int] = {}
    for n, name in enumerate(("售前", "售后", "客诉"), start=1):
        teams[name] = n
        conn.execute("INSERT INTO teams (id, name, created_at) VALUES (?, ?, ?)", [n, name, anchor - 90 * 86400])
    conn.executemany("INSERT INTO team_members (team_id, user_id) VALUES (?, ?)",
                     [(teams[g], users[a.id]) for a in data.agents if a.role == "agent" for g in a.groups])
    conn.execute("INSERT INTO inboxes (id, name, channel_type, channel_id, inbox_identifier) VALUES (?, ?, ?, 1, ?)",
                 [INBOX_ID, f"{data.shop_name} API", "Channel::Api", "shiguang-api-inbox"])
    conn.executemany("INSERT INTO inbox_members (inbox_id, user_id) VALUES (?, ?)",
                     [(INBOX_ID, uid) for uid in users.values()])

    past = history.generate(anchor, [{"id": a.id, "role": a.role, "groups": list(a.groups)} for a in data.agents],
                            scripts.dialogues, bot.Bot(scripts.faq, data.shop_name),
                            taken={c.name for c in data.customers} | {d.get("customer", "") for d in scripts.dialogues})
    people = [(c.id, c.name, c.vip_level, c.location, c.first_seen, c.opt_out) for c in data.customers]
    people += [(c[0], c[1], c[2], c[4], c[5], bool(c[7])) for c in past.customers]
    contacts: dict[str, int] = {}
    for n, (cid, name, vip, location, first_seen, opt_out) in enumerate(people, start=1):
        contacts[cid] = n
        custom = {"vip_level": vip, "location": location} | ({"opt_out": True} if opt_out else {})
        since = first_seen if first_seen is not None else anchor
        conn.execute(
            "INSERT INTO contacts (id, name, identifier, additional_attributes, custom_attributes, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [n, name, cid, dumps({"city": location} if location else {}), dumps(custom), since, since],
        )
        conn.execute("INSERT INTO contact_inboxes (id, contact_id, inbox_id, source_id, pubsub_token) "
                     "VALUES (?, ?, ?, ?, ?)", [n, n, INBOX_ID, f"src-{cid}", f"cps-{cid}"])

    # (created_at, fixture id, contact, team, status, assignee, priority, labels, messages)
    threads = []
    for cv in data.conversations:
        msgs = [(m.at, m.sender, m.agent_id, m.body) for m in cv.messages]
        threads.append((msgs[0][0] if msgs else anchor, cv.id, cv.customer_id, cv.group, cv.status, cv.assignee_id,
                        PRIORITY_NAMES.get(cv.priority, "normal"), list(cv.tags), msgs))
    by_conversation: dict[str, list] = {}
    for at, cid, sender, agent, body in past.messages:
        by_conversation.setdefault(cid, []).append((at, sender, agent, body))
    for cv in past.conversations:
        threads.append((cv[10], cv[0], cv[1], cv[2], cv[3], cv[5], cv[6], list(cv[7]), by_conversation.get(cv[0], [])))
    threads.sort(key=lambda t: (t[0], t[1]))
    labels = sorted({label for t in threads for label in t[7]})
    conn.executemany("INSERT INTO labels (title) VALUES (?)", [(label,) for label in labels])

    rows = []
    for display_id, (start, _fid, cust, group, status, assignee, priority, tags, msgs) in enumerate(threads, start=1):
        contact = contacts[cust]
        human = [m for m in msgs if m[1] == "agent"]
        last = msgs[-1][0] if msgs else start
        waiting = None
        for at, sender, _agent, _body in msgs:
            if sender == "agent":
                waiting = None
            elif sender == "customer" and waiting is None:
                waiting = at
        seen = max((m[0] for m in msgs if m[1] in ("agent", "note")), default=None)
        conn.execute(
            "INSERT INTO conversations (id, uuid, inbox_id, contact_id, contact_inbox_id, assignee_id, team_id, "
            "status, priority, snoozed_until, labels, first_reply_created_at, waiting_since, last_activity_at, "
            "agent_last_seen_at, assignee_last_seen_at, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [display_id, str(uuid.UUID(int=display_id)), INBOX_ID, contact, contact, users.get(assignee),
             teams[group], status, PRIORITY[priority], anchor + 86400 if status == "snoozed" else None, dumps(tags),
             human[0][0] if human else None, None if status == "resolved" else waiting, last,
             last if status == "resolved" else seen, last if status == "resolved" else seen, start, last],
        )
        conn.execute("UPDATE contacts SET last_activity_at = max(coalesce(last_activity_at, 0), ?) WHERE id = ?",
                     [last, contact])
        for at, sender, agent, body in msgs:
            rows.append((at, display_id, *_sender(sender, users.get(agent), contact), body))
    rows.sort(key=lambda r: (r[0], r[1]))
    conn.executemany(
        "INSERT INTO messages (created_at, updated_at, conversation_id, inbox_id, message_type, private, sender_type, "
        "sender_id, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(at, at, cid, INBOX_ID, mtype, private, stype, sid, body) for at, cid, mtype, private, stype, sid, body in rows],
    )
    conn.executemany(
        "INSERT INTO notes (contact_id, user_id, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        [(contacts[n.customer_id], users.get(n.agent_id), n.body, n.at, n.at)
         for n in sorted(data.notes, key=lambda n: n.at)],
    )
    conn.executemany(
        "INSERT INTO canned_responses (short_code, content, created_at, updated_at) VALUES (?, ?, ?, ?)",
        [(q["shortcode"], canned_content(q["body"], data.shop_name), anchor - 30 * 86400, anchor - 30 * 86400)
         for q in scripts.quick_replies if q.get("shortcode") and q.get("body")],
    )


def _sender(kind: str, user: int | None, contact: int) -> tuple:
    """(message_type, private, sender_type, sender_id) of a fixture line."""
    if kind == "customer":
        return 0, 0, "Contact", contact
    if kind == "agent":
        return 1, 0, "User", user
    if kind == "note":
        return 1, 1, "User", user
    if kind == "bot":
        return 1, 0, "AgentBot", BOT_ID
    return 2, 0, None, None
