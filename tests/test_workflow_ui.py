"""The service workflows under Pilot, as an agent does them: real keys, then what is on
screen and what is in the cache and its outbox (the sync engine delivers the outbox; its
round trips to the reference server are tested in test_shop_workflow.py / test_sync.py)."""

from __future__ import annotations

import json

from agentdesk.clock import FixedClock
from agentdesk.config import GreetingSettings, Settings, UISettings
from agentdesk.store import inbox, writes
from agentdesk.store.inbox import InboxFilter
from agentdesk.ui.screens.choice import ChoiceScreen
from agentdesk.ui.screens.confirm import ConfirmScreen
from agentdesk.ui.screens.followup import FollowupScreen
from agentdesk.ui.screens.handoff import HandoffScreen
from agentdesk.ui.screens.snooze import SnoozeScreen
from agentdesk.ui.widgets.composer import Composer
from agentdesk.ui.widgets.followup_list import FollowupList
from agentdesk.ui.widgets.inbox_list import InboxList

from conftest import ANCHOR, make_app, screen_text
from test_workstation import SIZE, settle


def mine(store):
    return store.read(inbox.first_page, InboxFilter(tab="mine", status="open", me="a01"), 200)


def outbox_rows(store, kind):
    return store.read(lambda c: [
        (cid, cust, json.loads(p)) for cid, cust, p in c.execute(
            "SELECT conversation_id, customer_id, payload FROM outbox WHERE kind = ? ORDER BY created_at, rowid", [kind])
    ])


def notices(app) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


def conversation(store, cid):
    return store.read(lambda c: c.execute(
        "SELECT grp, status, assignee_id, priority, complaint, snoozed_until, tags FROM conversations WHERE id = ?",
        [cid]).fetchone())


async def open_first(pilot, app):
    await settle(pilot, app)
    await pilot.press("enter")
    await settle(pilot, app)
    assert app.current is not None
    return app.current


async def test_note_mode_writes_an_internal_note_never_a_reply(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        row = await open_first(pilot, app)
        composer = app.query_one(Composer)
        await pilot.press("alt+n")
        assert composer.kind == "note" and composer.has_class("-note")
        assert "客户看不到" in screen_text(app)
        await pilot.press(*"客户要求周五前到", "enter")
        await settle(pilot, app)
        notes = outbox_rows(demo_store, "note")
        assert notes == [(row.id, None, {"body": "客户要求周五前到", "kind": "note"})]
        assert outbox_rows(demo_store, "reply") == []
        last = demo_store.read(lambda c: c.execute(
            "SELECT sender, state FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT 1", [row.id]).fetchone())
        assert last == ("note", "pending")
        await pilot.press("alt+m")
        assert composer.kind == "reply"


async def test_ctrl_t_hands_the_conversation_to_another_agent_with_a_note(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        row = await open_first(pilot, app)
        await pilot.press(*"等一下", "ctrl+t")  # what was typed stays in this draft
        await pilot.pause()
        assert isinstance(app.screen, HandoffScreen)
        await pilot.press(*"阿杰", "enter")
        await pilot.press(*"客户要换成黑色42码库存已确认", "ctrl+s")
        await settle(pilot, app)
        assert not isinstance(app.screen, HandoffScreen)
        (cid, _, payload), = outbox_rows(demo_store, "transfer")
        assert cid == row.id and payload["to_agent_id"] == "a02"
        assert payload["note"] == "客户要换成黑色42码库存已确认"
        assert "阿杰" in payload.get("customer_message", "")
        assert conversation(demo_store, row.id)[2] == "a02"
        assert demo_store.read(writes.get_draft, row.id) == "等一下"
        assert "已转接给 阿杰" in notices(app)


async def test_resolve_and_next_resolves_and_opens_the_longest_waiting(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        row = await open_first(pilot, app)
        await pilot.press("alt+x")
        await settle(pilot, app)
        assert conversation(demo_store, row.id)[1] == "resolved"
        assert outbox_rows(demo_store, "patch")[-1] == (row.id, None, {"status": "resolved"})
        assert app.current is not None and app.current.id != row.id
        assert app.current.waiting_since is not None


async def test_snooze_preset_and_reopen(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        row = await open_first(pilot, app)
        await pilot.press("alt+p")
        await pilot.pause()
        assert isinstance(app.screen, SnoozeScreen)
        await pilot.press("1")  # in 30 minutes
        await settle(pilot, app)
        grp, status, _, _, _, until, _ = conversation(demo_store, row.id)
        assert status == "snoozed" and until == ANCHOR + 1800
        payload = outbox_rows(demo_store, "patch")[-1][2]
        assert payload["status"] == "snoozed" and payload["snoozed_until"].startswith("2026-11-20T")
        await pilot.press("alt+o")
        await settle(pilot, app)
        assert conversation(demo_store, row.id)[1] == "open"


async def test_an_angry_message_lands_in_complaints_with_a_badge_and_priority(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)  # the first triage pass only counts history
        row = next(r for r in mine(demo_store) if r.group != "客诉" and not r.complaint)
        demo_store.write(writes.add_message, row.id, "customer", "再不退钱我就去投诉12315！！！", ANCHOR)
        app.run_triage()
        await settle(pilot, app)
        grp, _, _, priority, complaint, _, _ = conversation(demo_store, row.id)
        assert (grp, complaint) == ("客诉", 1) and priority >= 2
        assert outbox_rows(demo_store, "patch")[-1] == (row.id, None, {"group": "客诉", "priority": "high"})
        assert "投诉风险" in notices(app)
        lst = app.query_one(InboxList)
        shown = next(r for r in lst.rows if r.id == row.id)
        assert shown.complaint == 1 and shown.group == "客诉"


async def test_a_customer_past_100_seconds_alerts_once_with_a_bell(demo_store):
    clock = FixedClock(ANCHOR)
    app = make_app(demo_store, clock=clock)
    bells = []
    async with app.run_test(size=SIZE) as pilot:
        app.bell = lambda: bells.append(1)
        await settle(pilot, app)
        app.check_waiting()
        await settle(pilot, app)
        assert len(bells) == 1
        assert "已等待" in notices(app)
        app.check_waiting()  # the same waiting episodes: no second alert
        await settle(pilot, app)
        assert len(bells) == 1


async def test_apology_prefix_is_offered_after_a_long_wait(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        row = await open_first(pilot, app)
        assert row.waiting_since is not None and ANCHOR - row.waiting_since >= 100
        assert "Alt+A" in screen_text(app)
        await pilot.press(*"马上帮您查", "alt+a")
        composer = app.query_one(Composer)
        assert composer.text == app.settings.replies.apology + "马上帮您查"


async def test_auto_greeting_goes_out_once_and_keeps_the_clock_running(demo_store):
    settings = Settings(ui=UISettings(language="zh"), greeting=GreetingSettings(enabled=True, after_seconds=20))
    app = make_app(demo_store, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.send_greetings()
        await settle(pilot, app)
        sent = outbox_rows(demo_store, "reply")
        assert sent and all(p.get("auto") is True and "小美" in p["body"] for _, _, p in sent)
        waiting = {r.id for r in mine(demo_store) if r.waiting_since is not None}
        assert {cid for cid, _, _ in sent} <= waiting  # still waiting for a human answer
        app.send_greetings()
        await settle(pilot, app)
        assert len(outbox_rows(demo_store, "reply")) == len(sent)


async def test_follow_up_scheduled_shows_in_its_tab_and_is_marked_done(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        row = await open_first(pilot, app)
        await pilot.press("alt+f")
        await pilot.pause()
        assert isinstance(app.screen, FollowupScreen)
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        (_, cust, payload), = outbox_rows(demo_store, "followup")
        assert cust == row.customer_id or payload["customer_id"] == row.customer_id
        await pilot.press("escape")  # back to the inbox
        await pilot.press("f")
        await settle(pilot, app)
        lst = app.query_one(FollowupList)
        assert lst.display and any(f.customer_id == row.customer_id for f in lst.items)
        index = next(i for i, f in enumerate(lst.items) if f.customer_id == row.customer_id)
        lst.highlighted = index
        await pilot.press("d")
        await settle(pilot, app)
        assert outbox_rows(demo_store, "followup_patch")[-1][2]["status"] == "done"


async def test_customer_note_is_shared_in_the_sidebar(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        row = await open_first(pilot, app)
        await pilot.press("alt+c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press(*"只收顺丰", "enter")
        await settle(pilot, app)
        assert outbox_rows(demo_store, "customer_note")[-1] == (None, row.customer_id, {"body": "只收顺丰"})
        assert "只收顺丰" in screen_text(app)


async def test_order_action_is_confirmed_then_queued(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_first(pilot, app)
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        remark = next(key for key, _ in app.screen._choices if key.startswith("remark:"))
        index = [key for key, _ in app.screen._choices].index(remark) + 1
        await pilot.press(str(index))
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press(*"客户要求加急", "enter")
        await settle(pilot, app)
        rows = outbox_rows(demo_store, "order_remark")
        assert rows and rows[-1][2]["body"] == "客户要求加急"


async def test_group_filter_cycles_and_filters(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("a")  # all conversations
        await settle(pilot, app)
        seen = []
        for _ in range(5):
            await pilot.press("g")
            await settle(pilot, app)
            groups = {r.group for r in app.query_one(InboxList).rows}
            seen.append((app.group_label(), groups))
        single = [(label, groups) for label, groups in seen if label in ("售前", "售后", "客诉")]
        assert [label for label, _ in single] == ["售前", "售后", "客诉"]
        assert all(groups <= {label} for label, groups in single)


async def test_next_conversation_keeps_what_was_typed_in_order(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        row = await open_first(pilot, app)
        await pilot.press(*"好的亲", "alt+j")
        await settle(pilot, app)
        assert app.current.id != row.id
        assert demo_store.read(writes.get_draft, row.id) == "好的亲"
        assert app.query_one(Composer).text == ""


async def test_my_day_line_counts_my_replies(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert "今日" in screen_text(app) and "等待中" in screen_text(app)
