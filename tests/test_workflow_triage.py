"""Triage on a real cache: complaint counts, moving flagged conversations to 客诉, routing
new ones, the first pass over history that changes nothing, and the ownership guard."""

from __future__ import annotations

import pytest
from workflow_helpers import COLLEAGUE, ME, NOW, conversation, outbox_rows, reply, row, say

from agentdesk.config import ComplaintSettings, Settings
from agentdesk.store import Store, writes
from agentdesk.workflow import triage
from agentdesk.workflow.rules import Rules

RULES = Rules.from_settings(Settings())


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "cache.sqlite")
    yield s
    s.close()


def run(store: Store, rules: Rules = RULES, me: str = ME) -> triage.Triage:
    return store.write(triage.triage, rules, me, NOW)


def baseline(store: Store) -> None:
    """History plus the first pass, so what the test writes next is "new"."""
    store.write(lambda c: (conversation(c, "old"), say(c, "old", "你好", NOW - 9000)))
    assert run(store).first_run


# --- the first pass --------------------------------------------------------------------


def test_first_run_counts_history_but_changes_and_queues_nothing(store):
    def history(c):
        conversation(c, "angry", assignee=None)
        say(c, "angry", "再不发货我就投诉！！！", NOW - 5000)
        say(c, "angry", "差评！", NOW - 4000)
        say(c, "angry", "好吧", NOW - 3000)
        conversation(c, "refund", assignee=None)  # would be routed to 售后 if it were new
        say(c, "refund", "我要退款", NOW - 2000)

    store.write(history)
    result = run(store)

    assert result.first_run
    assert result.flagged == ["angry"] and result.moved == [] and result.routed == []
    rows = store.read(lambda c: (row(c, "angry"), row(c, "refund")))
    assert rows[0]["complaint"] == 2 and rows[0]["grp"] == "售前" and rows[0]["priority"] == 1
    assert rows[1]["complaint"] == 0 and rows[1]["grp"] == "售前"
    assert store.read(outbox_rows) == []
    top = store.read(lambda c: c.execute("SELECT max(id) FROM messages WHERE sender = 'customer'").fetchone()[0])
    assert store.read(writes.get_meta, triage.MARK) == str(top)


def test_an_empty_cache_stays_in_first_run_mode(store):
    assert run(store).first_run
    assert store.read(writes.get_meta, triage.MARK) == ""
    store.write(lambda c: (conversation(c, "x", assignee=None), say(c, "x", "投诉你们", NOW)))
    assert run(store).first_run  # the synced history is a baseline, not news
    assert store.read(outbox_rows) == []


def test_the_demo_shop_history_is_counted_without_a_single_patch(demo_store):
    result = demo_store.write(triage.triage, RULES, "a01", NOW)
    assert result.first_run and result.flagged and not result.moved and not result.routed
    assert demo_store.read(outbox_rows) == []
    flagged = demo_store.read(lambda c: c.execute("SELECT count(*) FROM conversations WHERE complaint > 0").fetchone()[0])
    assert flagged == len(result.flagged)
    again = demo_store.write(triage.triage, RULES, "a01", NOW)
    assert again == triage.Triage()  # nothing new: nothing counted twice


# --- complaint flags -----------------------------------------------------------------------


def test_a_new_complaint_moves_my_conversation_to_complaints_with_one_patch(store):
    baseline(store)
    store.write(lambda c: (conversation(c, "c1"), say(c, "c1", "在吗", NOW - 100), reply(c, "c1", NOW - 90)))
    store.write(lambda c: (say(c, "c1", "还不发货？我要投诉！！！", NOW - 10), say(c, "c1", "差评", NOW - 5)))

    result = run(store)

    assert (result.flagged, result.moved, result.routed, result.first_run) == (["c1"], ["c1"], [], False)
    r = store.read(row, "c1")
    assert (r["grp"], r["priority"], r["complaint"]) == ("客诉", 2, 2)  # two messages with signals
    assert [(o["kind"], o["conversation_id"], o["payload"]) for o in store.read(outbox_rows)] == [
        ("patch", "c1", {"group": "客诉", "priority": "high"})
    ]

    # more anger later: counted, but the conversation is already flagged – no second patch
    store.write(say, "c1", "骗子", NOW)
    assert run(store) == triage.Triage()
    assert store.read(row, "c1")["complaint"] == 3
    assert len(store.read(outbox_rows)) == 1


def test_a_nothing_new_pass_changes_nothing(store):
    baseline(store)
    mark = store.read(writes.get_meta, triage.MARK)
    assert run(store) == triage.Triage()
    assert store.read(writes.get_meta, triage.MARK) == mark


def test_priority_is_raised_never_lowered(store):
    baseline(store)
    store.write(lambda c: (conversation(c, "vip", priority=3), say(c, "vip", "投诉", NOW)))
    run(store)
    assert store.read(row, "vip")["priority"] == 3
    assert store.read(outbox_rows)[0]["payload"] == {"group": "客诉", "priority": "urgent"}


def test_configured_priority_is_used(store):
    baseline(store)
    rules = Rules.from_settings(Settings(complaints=ComplaintSettings(priority="urgent")))
    store.write(lambda c: (conversation(c, "c1", priority=0), say(c, "c1", "投诉", NOW)))
    run(store, rules)
    assert store.read(row, "c1")["priority"] == 3
    assert store.read(outbox_rows)[0]["payload"]["priority"] == "urgent"


def test_unassigned_complaints_move_too(store):
    baseline(store)
    store.write(lambda c: (conversation(c, "c1", assignee=None), say(c, "c1", "我要去消协", NOW)))
    assert run(store).moved == ["c1"]


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(dict(assignee=COLLEAGUE), id="a-colleagues-conversation"),
        pytest.param(dict(status="resolved"), id="resolved"),
        pytest.param(dict(group="客诉"), id="already-a-complaint"),
    ],
)
def test_flagged_but_not_moved(store, setup):
    baseline(store)
    store.write(lambda c: (conversation(c, "c1", **setup), say(c, "c1", "差评！！！", NOW)))
    result = run(store)
    assert result.flagged == ["c1"] and result.moved == []
    r = store.read(row, "c1")
    assert r["complaint"] == 1 and r["grp"] == setup.get("group", "售前") and r["priority"] == 1
    assert store.read(outbox_rows) == []


def test_move_can_be_turned_off(store):
    baseline(store)
    rules = Rules.from_settings(Settings(complaints=ComplaintSettings(move=False)))
    store.write(lambda c: (conversation(c, "c1"), say(c, "c1", "垃圾店", NOW)))
    result = run(store, rules)
    assert result.flagged == ["c1"] and result.moved == [] and result.routed == []
    assert store.read(row, "c1")["grp"] == "售前" and store.read(outbox_rows) == []


def test_only_customer_messages_count(store):
    baseline(store)
    store.write(lambda c: (conversation(c, "c1"), say(c, "c1", "你好", NOW - 10)))
    run(store)

    def others(c):
        writes.add_message(c, "c1", "note", "客户说要投诉！！！", NOW, agent_id=ME)
        writes.add_message(c, "c1", "bot", "差评会影响……", NOW)
        reply(c, "c1", NOW, body="亲，不要给差评哦")

    store.write(others)
    assert run(store) == triage.Triage()
    assert store.read(row, "c1")["complaint"] == 0


# --- routing -------------------------------------------------------------------------------


def test_a_new_conversation_is_routed_by_its_first_message(store):
    baseline(store)

    def new(c):
        conversation(c, "broken", assignee=None)
        say(c, "broken", "收到的碗破损了", NOW - 20)
        say(c, "broken", "在吗", NOW - 10)
        conversation(c, "mine")
        say(c, "mine", "质量太差了", NOW - 5)

    store.write(new)
    result = run(store)
    assert sorted(result.routed) == ["broken", "mine"] and result.flagged == []
    assert store.read(row, "broken")["grp"] == "售后"
    assert sorted((o["conversation_id"], o["payload"]["group"]) for o in store.read(outbox_rows)) == [
        ("broken", "售后"), ("mine", "售后")
    ]
    assert all(o["kind"] == "patch" and set(o["payload"]) == {"group"} for o in store.read(outbox_rows))


def test_routing_uses_the_first_message_only(store):
    baseline(store)
    store.write(lambda c: (conversation(c, "c1"), say(c, "c1", "在吗", NOW - 10), say(c, "c1", "我要退货", NOW)))
    assert run(store).routed == []
    assert store.read(row, "c1")["grp"] == "售前"


def test_no_match_never_overrides_the_shops_group(store):
    baseline(store)
    store.write(lambda c: (conversation(c, "c1", group="售后"), say(c, "c1", "在吗", NOW)))
    assert run(store).routed == []
    assert store.read(row, "c1")["grp"] == "售后"


def test_a_routing_complaint_word_routes_to_complaints(store):
    baseline(store)  # 骗 is a routing word, not a complaint signal ("骗子" is)
    store.write(lambda c: (conversation(c, "c1"), say(c, "c1", "你们是不是骗人的", NOW)))
    result = run(store)
    assert result.routed == ["c1"] and result.flagged == []
    assert store.read(outbox_rows)[0]["payload"] == {"group": "客诉"}


@pytest.mark.parametrize(
    "name",
    ["colleagues", "older-customer-message", "agent-replied", "already-complaints", "same-group"],
)
def test_not_routed(store, name):
    baseline(store)

    def setup(c):
        if name == "colleagues":
            conversation(c, "c1", assignee=COLLEAGUE)
        elif name == "already-complaints":
            conversation(c, "c1", group="客诉")
        elif name == "same-group":
            conversation(c, "c1", group="售后")
        else:
            conversation(c, "c1")
        if name == "older-customer-message":
            say(c, "c1", "你好", NOW - 500)
        if name == "agent-replied":
            reply(c, "c1", NOW - 400, body="亲，欢迎光临")

    store.write(setup)
    run(store)
    store.write(say, "c1", "我要退款", NOW)
    assert run(store).routed == []
    assert store.read(outbox_rows) == []


def test_an_automatic_greeting_is_not_an_agent_reply(store):
    baseline(store)
    store.write(lambda c: (conversation(c, "c1"), reply(c, "c1", NOW - 50, auto=True), say(c, "c1", "退货", NOW)))
    assert run(store).routed == ["c1"]


def test_a_flagged_new_conversation_is_moved_not_routed(store):
    baseline(store)
    store.write(lambda c: (conversation(c, "c1"), say(c, "c1", "退款！不退就投诉", NOW)))
    result = run(store)
    assert result.moved == ["c1"] and result.routed == []
    assert len(store.read(outbox_rows)) == 1


def test_a_deleted_pending_message_cannot_hide_a_new_customer_message(store):
    """SQLite may reuse the id of a deleted last row; the mark is a customer message's id,
    so a withdrawn local reply can never make the next customer message look old."""
    baseline(store)
    store.write(lambda c: (conversation(c, "c1"), say(c, "c1", "你好", NOW - 20)))
    run(store)
    pending = store.write(reply, "c1", NOW - 10, state="pending")
    run(store)
    store.write(lambda c: c.execute("DELETE FROM messages WHERE id = ?", [pending]))
    new_id = store.write(say, "c1", "投诉", NOW)
    assert new_id == pending  # the id came back
    assert run(store).flagged == ["c1"]
