"""What the agent types is what the customer gets: keys arriving in one terminal read
(a fast typist, a paste, SSH coalescing) are handled in order, each by the widget that
has the focus once the keys before it have had their effect; Enter takes the reply out of
the composer at once; drafts and replies are written in the order they were made.

Bursts are posted with ``conftest.burst`` (Textual's own parser, every event queued before
the app handles one), which is what a real terminal read does and ``pilot.press`` does not.
"""

from __future__ import annotations

import asyncio

from agentdesk.store import inbox, outbox, thread, writes
from agentdesk.store.inbox import InboxFilter
from agentdesk.ui.screens.outreach import OutreachScreen
from agentdesk.ui.screens.reply_picker import ReplyPicker
from agentdesk.ui.widgets.composer import Composer

from conftest import burst, make_app, until
from test_workstation import SIZE, open_first, settle


def mine(store):
    return store.read(inbox.first_page, InboxFilter(tab="mine", status="open", me="a01"), 200)


def my_replies(store, conversation_id: str) -> list[str]:
    return [m.body for m in store.read(thread.latest, conversation_id, 200) if m.sender == "agent" and not m.auto]


def drafts(store) -> dict[str, str]:
    return dict(store.read(lambda c: c.execute("SELECT conversation_id, body FROM drafts").fetchall()))


async def test_slash_tk_in_one_read_opens_the_picker_with_the_query_tk(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_first(pilot, app)
        burst(app, "/tk")
        await until(pilot, lambda: isinstance(app.screen, ReplyPicker) and not app.keys_pending, "the picker")
        await settle(pilot, app)
        assert app.screen.query_one("#picker-input").value == "tk"
        assert app.query_one(Composer).text == ""  # nothing typed into the reply
        assert app.screen.hits and all("tk" in (h.reply.shortcode or "") or h.spans for h in app.screen.hits[:3])


async def test_ctrl_u_then_typing_in_the_picker_keeps_the_new_query(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_first(pilot, app)
        burst(app, "/tk\x15wl")  # Ctrl+U clears the query, "wl" is the new one
        await until(pilot, lambda: isinstance(app.screen, ReplyPicker) and not app.keys_pending, "the keys")
        await settle(pilot, app)
        assert app.screen.query_one("#picker-input").value == "wl"


async def test_a_enter_b_enter_in_one_read_sends_a_and_then_b(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        row = await open_first(pilot, app)
        before = my_replies(demo_store, row.id)
        burst(app, "A\rB\r")
        await until(pilot, lambda: len(my_replies(demo_store, row.id)) == len(before) + 2, "two replies")
        await settle(pilot, app)
        assert my_replies(demo_store, row.id)[len(before):] == ["A", "B"]
        pending = demo_store.read(outbox.due, 1e12)
        assert [i.payload["body"] for i in pending if i.conversation_id == row.id] == ["A", "B"]
        assert app.query_one(Composer).text == ""
        assert row.id not in drafts(demo_store)


async def test_text_after_enter_in_the_same_read_starts_the_next_reply(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        row = await open_first(pilot, app)
        burst(app, "亲，在的\r稍等我查一下")
        await until(pilot, lambda: "亲，在的" in my_replies(demo_store, row.id) and not app.keys_pending, "the reply")
        await settle(pilot, app)
        assert app.query_one(Composer).text == "稍等我查一下"
        await until(pilot, lambda: drafts(demo_store).get(row.id) == "稍等我查一下", "the draft saved")


async def test_esc_cr_is_a_new_line_never_a_send(demo_store):
    """Alt+Enter in most terminals is ESC CR; it used to arrive as Enter and send."""
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        row = await open_first(pilot, app)
        before = my_replies(demo_store, row.id)
        burst(app, "line1\x1b\rline2\nline3\x1b[13;2uline4")  # ESC CR, Ctrl+J, Shift+Enter (kitty)
        await until(pilot, lambda: not app.keys_pending, "the keys")
        await settle(pilot, app)
        assert app.query_one(Composer).text == "line1\nline2\nline3\nline4"
        assert my_replies(demo_store, row.id) == before


async def test_enter_next_conversation_and_quit_leave_no_delivered_text_in_a_draft(demo_store):
    """Enter, Alt+J and quit straight away: the reply is sent once and is nobody's draft
    (it used to be saved as the draft after the send, and sent again inside the next one)."""
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        row = await open_first(pilot, app)
        burst(app, "这条已经发出去了\r\x1bj还没写完")
        await until(pilot, lambda: app.current.id != row.id and not app.keys_pending, "the next conversation")
        await until(pilot, lambda: app.query_one(Composer).text == "还没写完", "typing in the next one")
        nxt = app.current
        await app.action_quit()
    demo_store.close()  # what the command does after the app returns: queued writes commit first
    from agentdesk.store import Store

    reopened = Store(demo_store.path)
    try:
        found = dict(reopened.read(lambda c: c.execute("SELECT conversation_id, body FROM drafts").fetchall()))
        assert "这条已经发出去了" not in "".join(found.values())
        assert found.get(nxt.id) == "还没写完"  # typed, not yet saved when quitting: kept
        sent = [m.body for m in reopened.read(thread.latest, row.id, 200) if m.sender == "agent"]
        assert sent.count("这条已经发出去了") == 1
    finally:
        reopened.close()


async def test_typing_after_alt_w_lands_in_the_longest_waiting_customers_composer(demo_store):
    app = make_app(demo_store)
    longest = mine(demo_store)[0]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("j", "j", "enter")
        await settle(pilot, app)
        start = app.current
        assert start.id != longest.id
        burst(app, "在写给上一个\x1bw马上帮您查")
        await until(pilot, lambda: app.current.id == longest.id and not app.keys_pending, "the longest wait")
        await settle(pilot, app)
        assert app.query_one(Composer).conversation_id == longest.id
        assert app.query_one(Composer).text == "马上帮您查"
        await until(pilot, lambda: drafts(demo_store).get(start.id) == "在写给上一个", "the first draft saved")


async def test_tab_then_typing_in_outreach_lands_in_the_field_tab_moved_to(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_first(pilot, app)
        burst(app, "\x1b[17~5\t\t\t亲爱的{customer.name}")  # F6 from the composer, VIP 5, Tab x3: the message
        await until(pilot, lambda: isinstance(app.screen, OutreachScreen) and not app.keys_pending, "outreach")
        await settle(pilot, app)
        screen = app.screen
        assert screen.query_one("#outreach-vip").value == "5"
        assert screen.query_one("#outreach-campaign").value == ""
        assert screen.query_one("#outreach-body").text == "亲爱的{customer.name}"
        assert app.query_one(Composer).text == ""


async def test_every_key_of_a_long_burst_arrives_once_in_order(demo_store):
    app = make_app(demo_store)
    typed = "".join(f"第{n}句，" for n in range(40))
    async with app.run_test(size=SIZE) as pilot:
        await open_first(pilot, app)
        burst(app, typed)
        await until(pilot, lambda: not app.keys_pending, "the keys")
        await settle(pilot, app)
        assert app.query_one(Composer).text == typed


async def test_writes_queued_on_the_store_commit_in_the_order_queued(demo_store):
    """The agent's writes come from different threads' points of view; the queue keeps
    them in the order made, and a queued read sees everything queued before it."""
    cid = mine(demo_store)[0].id
    futures = [demo_store.queue(writes.save_draft, cid, f"稿{n}", float(n)) for n in range(50)]
    futures.append(demo_store.queue(outbox.send_message, cid, "发出", 60.0, agent_id="a01"))
    futures.append(demo_store.queue(writes.save_draft, cid, "之后", 61.0))
    seen = demo_store.queue_read(writes.get_draft, cid)
    await asyncio.wrap_future(seen)
    assert all(f.done() for f in futures)
    assert seen.result() == "之后"


async def test_a_refused_reply_comes_back_in_front_of_what_was_typed_since(demo_store):
    """409: another agent took the conversation. The reply went out of the composer at
    Enter; it comes back, with what was typed after it (even if that typing was saved as
    the draft after the refusal put the reply there)."""
    from agentdesk.sync.engine import Changes
    from agentdesk.ui.messages import SyncChanged

    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        row = await open_first(pilot, app)
        burst(app, "被退回的回复\r")
        await until(pilot, lambda: "被退回的回复" in my_replies(demo_store, row.id), "the reply stored")
        client_id = next(i.id for i in demo_store.read(outbox.due, 1e12) if i.payload.get("body") == "被退回的回复")
        demo_store.write(outbox.withdraw, client_id, 100.0)  # what the sync engine does on 409 owned_by_other
        burst(app, "接着打的字")
        await until(pilot, lambda: app.query_one(Composer).text == "接着打的字" and not app.keys_pending, "typing")
        demo_store.write(writes.save_draft, row.id, "接着打的字", 101.0)  # a later draft save overwrote it
        app.post_message(SyncChanged(Changes(conflicts=[(row.id, "阿杰")])))
        await until(pilot, lambda: app.query_one(Composer).text == "被退回的回复\n接着打的字", "the reply back")
        await until(pilot, lambda: drafts(demo_store).get(row.id) == "被退回的回复\n接着打的字", "kept as the draft")


async def test_an_80_by_24_terminal_opens_a_conversation_in_either_language(demo_store):
    """At 80x24 the panes once left the composer no width, and Textual's placeholder wrap
    raised at width 0 for the new-line hint, killing the app. The composer is squeezed to
    nothing here on purpose, so that stays covered whatever room the layout gives it."""
    for language in ("zh", "en"):
        app = make_app(demo_store, language=language)
        async with app.run_test(size=(80, 24)) as pilot:
            await open_first(pilot, app)
            app.query_one(Composer).styles.max_width = 2  # its border alone: no column for text
            burst(app, "/tk\x1b")
            await until(pilot, lambda: not app.keys_pending and not isinstance(app.screen, ReplyPicker), "the picker closed")
            await settle(pilot, app)
            assert app.query_one(Composer).content_size.width == 0 and app.query_one(Composer).text == ""
