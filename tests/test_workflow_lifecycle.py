"""Lifecycle changes and transfers (local row + outbox row in one transaction) and the
automatic greeting, on a real cache."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from workflow_helpers import COLLEAGUE, ME, NOW, conversation, outbox_rows, reply, row, say

from agentdesk.store import Store, outbox, thread, writes
from agentdesk.sync import apply
from agentdesk.workflow import greeting, lifecycle


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "cache.sqlite")
    s.write(lambda c: c.executemany("INSERT INTO agents (id, name) VALUES (?, ?)", [(ME, "小美"), (COLLEAGUE, "阿杰")]))
    s.write(lambda c: (conversation(c, "c1"), say(c, "c1", "在吗", NOW - 60)))
    yield s
    s.close()


def messages(store: Store, cid: str = "c1") -> list[dict]:
    cur = store.read(
        lambda c: c.execute(
            "SELECT sender, body, agent_id, client_id, state, auto, meta FROM messages WHERE conversation_id = ? "
            "ORDER BY at, id",
            [cid],
        ).fetchall()
    )
    keys = ("sender", "body", "agent_id", "client_id", "state", "auto", "meta")
    return [dict(zip(keys, r)) for r in cur]


# --- patch ---------------------------------------------------------------------------------


def test_resolving_stops_the_clock_and_queues_the_patch(store):
    assert store.read(row, "c1")["waiting_since"] == NOW - 60
    oid = store.write(lifecycle.patch, "c1", NOW, status="resolved")
    r = store.read(row, "c1")
    assert (r["status"], r["waiting_since"], r["unread"]) == ("resolved", None, 0)
    assert store.read(outbox_rows) == [
        {"id": oid, "kind": "patch", "conversation_id": "c1", "customer_id": None,
         "payload": {"status": "resolved"}, "next_at": NOW}
    ]


def test_snooze_sends_rfc3339_utc_and_keeps_the_time_locally(store):
    until = datetime(2026, 11, 21, 1, 0, tzinfo=UTC).timestamp()  # 09:00 in Shanghai
    store.write(lifecycle.patch, "c1", NOW, status="snoozed", snoozed_until=until)
    r = store.read(row, "c1")
    assert (r["status"], r["snoozed_until"], r["waiting_since"]) == ("snoozed", until, None)
    assert store.read(outbox_rows)[0]["payload"] == {"status": "snoozed", "snoozed_until": "2026-11-21T01:00:00.000Z"}


def test_reopening_recomputes_who_waits(store):
    store.write(lifecycle.patch, "c1", NOW, status="snoozed", snoozed_until=NOW + 3600)
    store.write(say, "c1", "人呢", NOW - 30)  # arrives while snoozed: nobody waits on a snoozed chat
    assert store.read(row, "c1")["waiting_since"] is None
    store.write(lifecycle.patch, "c1", NOW, status="open")
    r = store.read(row, "c1")
    assert (r["status"], r["snoozed_until"], r["waiting_since"]) == ("open", None, NOW - 60)
    assert store.read(outbox_rows)[-1]["payload"] == {"status": "open"}


def test_reopening_an_answered_conversation_leaves_nobody_waiting(store):
    store.write(reply, "c1", NOW - 50)
    store.write(lifecycle.patch, "c1", NOW, status="resolved")
    store.write(lifecycle.patch, "c1", NOW, status="open")
    assert store.read(row, "c1")["waiting_since"] is None


def test_pending_clears_a_snooze_like_the_shop_does(store):
    store.write(lifecycle.patch, "c1", NOW, status="snoozed", snoozed_until=NOW + 3600)
    store.write(lifecycle.patch, "c1", NOW, status="pending")
    r = store.read(row, "c1")
    assert (r["status"], r["snoozed_until"]) == ("pending", None)


def test_priority_tags_and_group_in_one_patch(store):
    store.write(
        lifecycle.patch, "c1", NOW, priority="urgent", tags=[" 催发货 ", "老客户", "催发货", ""], group="售后",
        expected_version=7,
    )
    r = store.read(row, "c1")
    assert (r["priority"], json.loads(r["tags"]), r["grp"]) == (3, ["催发货", "老客户"], "售后")
    assert store.read(outbox_rows)[0]["payload"] == {
        "priority": "urgent", "tags": ["催发货", "老客户"], "group": "售后", "expected_version": 7
    }


def test_clearing_tags_sends_an_empty_list(store):
    store.write(lifecycle.patch, "c1", NOW, tags=[])
    assert store.read(outbox_rows)[0]["payload"] == {"tags": []}
    assert store.read(row, "c1")["tags"] == "[]"


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"status": "closed"},
        {"status": "snoozed"},  # a snooze needs its end
        {"status": "pending", "snoozed_until": NOW + 60},
        {"priority": "high!"},
        {"priority": 2},
        {"group": "售中"},
    ],
)
def test_refused_changes_write_nothing(store, changes):
    before = store.read(row, "c1")
    with pytest.raises(ValueError):
        store.write(lifecycle.patch, "c1", NOW, **changes)
    assert store.read(row, "c1") == before
    assert store.read(outbox_rows) == []


# --- transfer ------------------------------------------------------------------------------


def test_transfer_to_an_agent_with_a_note_shows_the_note_at_once(store):
    oid = store.write(
        lifecycle.transfer, "c1", NOW, me=ME, to_agent_id=COLLEAGUE, note="客户要改地址，已核实身份",
        customer_message="亲，已为您转接到阿杰",
    )
    r = store.read(row, "c1")
    assert (r["assignee_id"], r["stage"], r["grp"]) == (COLLEAGUE, "agent", "售前")
    note = messages(store)[-1]
    assert (note["sender"], note["body"], note["agent_id"], note["client_id"], note["state"]) == (
        "note", "客户要改地址，已核实身份", ME, oid, "pending"
    )
    assert json.loads(note["meta"]) == {
        "handoff": {"from": ME, "from_name": "小美", "to_agent": COLLEAGUE, "to_agent_name": "阿杰",
                    "to_group": None, "note": "客户要改地址，已核实身份"}
    }
    assert store.read(outbox_rows) == [
        {"id": oid, "kind": "transfer", "conversation_id": "c1", "customer_id": None, "next_at": NOW,
         "payload": {"to_agent_id": COLLEAGUE, "note": "客户要改地址，已核实身份", "customer_message": "亲，已为您转接到阿杰"}}
    ]
    # the thread shows it as a pending note of mine, and the handoff banner finds it
    shown = store.read(thread.latest, "c1")[-1]
    assert (shown.sender, shown.state, shown.author) == ("note", "pending", "小美")
    assert store.read(thread.latest_handoff, "c1").client_id == oid


def test_the_shops_copy_of_the_note_merges_with_the_local_one(store):
    oid = store.write(lifecycle.transfer, "c1", NOW, me=ME, to_agent_id=COLLEAGUE, note="交接：已退款")
    echo = {"id": "m-900", "conversation_id": "c1", "sender": "note", "body": "交接：已退款", "at": NOW + 1,
            "agent_id": ME, "client_id": oid, "seq": 900, "auto": False}
    assert store.write(apply.message, echo)
    notes = [m for m in messages(store) if m["sender"] == "note"]
    assert len(notes) == 1 and notes[0]["state"] == "sent"


def test_transfer_to_a_group_queues_it_unassigned(store):
    store.write(lifecycle.transfer, "c1", NOW, me=ME, to_group="售后", note="")
    r = store.read(row, "c1")
    assert (r["assignee_id"], r["stage"], r["grp"]) == (None, "queued", "售后")
    assert [m["sender"] for m in messages(store)] == ["customer"]  # an empty note adds nothing
    assert store.read(outbox_rows)[0]["payload"] == {"to_group": "售后", "note": ""}
    assert store.read(thread.latest_handoff, "c1") is None


@pytest.mark.parametrize("target", [{}, {"to_group": "售中"}, {"to_agent_id": "", "to_group": None}])
def test_a_transfer_needs_a_real_target(store, target):
    with pytest.raises(ValueError):
        store.write(lifecycle.transfer, "c1", NOW, me=ME, note="x", **target)
    assert store.read(outbox_rows) == [] and store.read(row, "c1")["assignee_id"] == ME


# --- greeting ------------------------------------------------------------------------------


def test_greeting_is_due_for_my_open_conversations_waiting_long_enough(tmp_path):
    store = Store(tmp_path / "g.sqlite")

    def scene(c):
        for cid, kwargs, waited in [
            ("due", {}, 25),
            ("longer", {}, 300),
            ("fresh", {}, 10),
            ("colleague", {"assignee": COLLEAGUE}, 60),
            ("unassigned", {"assignee": None}, 60),
            ("bot", {"stage": "bot"}, 60),
            ("queued", {"stage": "queued"}, 60),
        ]:
            conversation(c, cid, **kwargs)
            say(c, cid, "在吗", NOW - waited)
        conversation(c, "pending")
        say(c, "pending", "在吗", NOW - 60)
        writes.set_status(c, "pending", "pending")
        conversation(c, "answered")
        say(c, "answered", "在吗", NOW - 60)
        reply(c, "answered", NOW - 50)

    store.write(scene)
    assert store.read(greeting.due, ME, NOW, 20) == ["longer", "due"]  # longest wait first
    assert store.read(greeting.due, ME, NOW, 0) == ["longer", "due", "fresh"]
    store.close()


def test_greeting_is_sent_once_when_the_conversation_reaches_me(store):
    assert store.read(greeting.due, ME, NOW, 20) == ["c1"]
    text = greeting.text("亲，您好～我是{agent_name}，请稍等{x}", "小美")
    oid = store.write(greeting.send, "c1", text, NOW, ME)

    sent = messages(store)[-1]
    assert (sent["sender"], sent["body"], sent["auto"], sent["state"], sent["client_id"]) == (
        "agent", "亲，您好～我是小美，请稍等{x}", 1, "pending", oid
    )
    assert store.read(outbox.get, oid).payload == {"body": text, "kind": "reply", "auto": True}
    assert store.read(greeting.due, ME, NOW + 100, 20) == []

    # The customer writes again before any human reply: same episode, whether or not
    # the automatic message stopped the clock.
    store.write(say, "c1", "快点", NOW + 10)
    assert store.read(row, "c1")["waiting_since"] is not None
    assert store.read(greeting.due, ME, NOW + 100, 20) == []
    store.write(lambda c: c.execute("UPDATE conversations SET waiting_since = ? WHERE id = 'c1'", [NOW - 60]))
    assert store.read(greeting.due, ME, NOW + 100, 20) == []

    # After my answer, the next wait is an ordinary one: no second "hello, I'm 小美".
    store.write(reply, "c1", NOW + 20)
    store.write(say, "c1", "还有个问题", NOW + 30)
    assert store.read(greeting.due, ME, NOW + 50, 20) == []


def test_greeting_is_for_the_start_of_a_wait_only(store):
    """A customer who has waited past the window is owed an answer, not a greeting."""
    waiting = store.read(row, "c1")["waiting_since"]
    assert store.read(greeting.due, ME, waiting + 20, 20) == ["c1"]
    assert store.read(greeting.due, ME, waiting + 20 + greeting.WINDOW, 20) == ["c1"]
    assert store.read(greeting.due, ME, waiting + 21 + greeting.WINDOW, 20) == []


def test_greeting_keeps_the_agents_draft(store):
    store.write(writes.save_draft, "c1", "亲，这款有货的，", NOW - 5)
    store.write(greeting.send, "c1", "您好", NOW, ME)
    assert store.read(writes.get_draft, "c1") == "亲，这款有货的，"


def test_greeting_without_a_draft_leaves_none(store):
    store.write(greeting.send, "c1", "您好", NOW, ME)
    assert store.read(writes.get_draft, "c1") == ""
