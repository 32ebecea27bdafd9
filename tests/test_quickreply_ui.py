"""The quick-reply flow under Pilot: ``/tk`` in a refund conversation, the picker's keys,
suggestions on Alt+1..3, unfilled variables blocking the send, a bad reply file."""

from __future__ import annotations

from agentdesk.store import inbox, outbox
from agentdesk.store.inbox import InboxFilter
from agentdesk.ui.screens.reply_picker import ReplyPicker
from agentdesk.ui.widgets.composer import Composer
from agentdesk.ui.widgets.inbox_list import InboxList

from conftest import make_app, screen_text
from test_workstation import SIZE, settle


def refund_row(store):
    rows = store.read(inbox.first_page, InboxFilter(tab="mine", status="open", me="a01"), 200)
    return next(r for r in rows if "退" in r.preview or r.group == "售后")


async def open_row(pilot, app, row):
    await settle(pilot, app)
    ids = [r.id for r in app.query_one(InboxList).rows]
    for _ in range(ids.index(row.id)):
        await pilot.press("down")
    await pilot.press("enter")
    await settle(pilot, app)
    assert app.current.id == row.id


def outbox_texts(store, conversation_id):
    return store.read(
        lambda c: [b for (b,) in c.execute(
            "SELECT body FROM messages WHERE conversation_id = ? AND state IN ('pending','sent') AND sender = 'agent' "
            "ORDER BY id", [conversation_id])]
    )


async def test_slash_tk_enter_inserts_the_filled_refund_reply_and_sends(demo_store):
    app = make_app(demo_store)
    row = refund_row(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_row(pilot, app, row)
        await pilot.press("/", "t", "k")
        await pilot.pause()
        assert isinstance(app.screen, ReplyPicker)
        picker = app.screen
        assert picker.hits[0].reply.shortcode.startswith("tk")
        text = screen_text(app)
        order_id = app.card.orders[0].id
        assert "7天无理由退换" in text and order_id in text  # the preview is filled in
        await pilot.press("enter")
        await pilot.pause()
        composer = app.query_one(Composer)
        assert not isinstance(app.screen, ReplyPicker)
        assert composer.text.startswith("亲，这款商品支持7天无理由退换货哦！订单 " + order_id)
        assert "{" not in composer.text
        await pilot.press("enter")
        await settle(pilot, app)
        assert composer.text == ""
        sent = outbox_texts(demo_store, row.id)
        assert sent[-1].startswith("亲，这款商品支持7天无理由退换货哦！订单 " + order_id)
        assert demo_store.read(outbox.pending_count) >= 1
        used = demo_store.read(lambda c: c.execute("SELECT reply_id, uses FROM reply_usage").fetchall())
        assert used == [("aftersale-refund-7day", 1)]


async def test_picker_keeps_the_draft_moves_previews_and_closes(demo_store):
    app = make_app(demo_store)
    row = refund_row(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_row(pilot, app, row)
        await pilot.press(*"您好", "ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, ReplyPicker)
        await pilot.press(*"tuikuan")
        await pilot.pause()
        picker = app.screen
        second = picker.hits[1].reply
        await pilot.press("down", "tab")
        await pilot.pause()
        assert picker.query_one("#picker-preview").display
        await pilot.press("enter")
        await pilot.pause()
        composer = app.query_one(Composer)
        assert composer.text.startswith("您好" + second.body[:4])  # inserted at the cursor, draft kept
        await pilot.press("ctrl+r", *"wuliu", "escape")
        await pilot.pause()
        assert not isinstance(app.screen, ReplyPicker)
        assert composer.text.startswith("您好" + second.body[:4]) and "wuliu" not in composer.text


async def test_slash_in_the_middle_of_a_line_is_just_a_slash(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_row(pilot, app, refund_row(demo_store))
        await pilot.press("a", "/", "b")
        await pilot.pause()
        assert not isinstance(app.screen, ReplyPicker)
        assert app.query_one(Composer).text == "a/b"


async def test_ctrl_enter_inserts_and_sends(demo_store):
    app = make_app(demo_store)
    row = refund_row(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_row(pilot, app, row)
        await pilot.press("/", *"tkjd", "ctrl+j")
        await settle(pilot, app)
        assert "亲，帮您查了一下，订单 " in outbox_texts(demo_store, row.id)[-1]
        assert app.query_one(Composer).text == ""


async def test_unfilled_variable_is_marked_and_blocks_sending(demo_store):
    app = make_app(demo_store)
    row = refund_row(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_row(pilot, app, row)
        before = outbox_texts(demo_store, row.id)
        composer = app.query_one(Composer)
        composer.insert("单号 {order.tracking_no} 已发出")
        await pilot.pause()
        assert composer.has_class("-unfilled")
        assert "{order.tracking_no}" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot, app)
        assert outbox_texts(demo_store, row.id) == before  # a raw variable is never sent
        assert "{order.tracking_no}" in composer.text
        composer.clear()
        composer.insert("单号 SF1234 已发出")
        await pilot.pause()
        assert not composer.has_class("-unfilled")
        await pilot.press("enter")
        await settle(pilot, app)
        assert outbox_texts(demo_store, row.id)[-1] == "单号 SF1234 已发出"


async def test_suggestions_follow_the_customer_and_alt_number_inserts(demo_store):
    app = make_app(demo_store)
    row = refund_row(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_row(pilot, app, row)
        composer = app.query_one(Composer)
        # the customer asks about a refund: suggestions change with the latest message
        from agentdesk.store import writes

        demo_store.write(writes.add_message, row.id, "customer", "我要退款，东西收到是坏的，怎么申请？", 1_795_156_100.0)
        app.refresh_thread(row.id, None)
        await settle(pilot, app)
        assert app.query_one("#suggestions").display
        assert len(composer.suggestions) == 3
        bar = screen_text(app)
        assert "Alt+1" in bar and "Alt+3" in bar
        reply_id, text = composer.suggestions[0]
        await pilot.press("alt+1")
        await pilot.pause()
        assert composer.text == text
        await settle(pilot, app)
        assert demo_store.read(lambda c: c.execute("SELECT reply_id FROM reply_usage").fetchall()) == [(reply_id,)]
        # A real terminal's Alt+2 (ESC 2) reaches Textual as the character "™": it picks too.
        _, second = composer.suggestions[1]
        await pilot.press("trade_mark_sign")
        await pilot.pause()
        assert composer.text == text + second


async def test_a_bad_reply_file_is_reported_and_the_rest_load(demo_store, tmp_path, monkeypatch):
    from agentdesk.quickreply import library

    personal = tmp_path / "mine"
    personal.mkdir()
    (personal / "broken.toml").write_text('[[reply]]\nid = "x"\ntitle = "坏\n', encoding="utf-8")
    (personal / "good.toml").write_text('[[reply]]\nid = "my-hello"\ntitle = "我的问候"\nshortcode = "wdwh"\nbody = "亲，我是{agent.name}~"\n', encoding="utf-8")
    monkeypatch.setattr(library, "personal_dir", lambda: personal)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        notes = [str(n.message) for n in app._notifications]
        assert any("broken.toml:3" in n and "TOML" in n for n in notes), notes
        assert app.replies.by_id("my-hello") is not None
        assert app.replies.by_id("aftersale-refund-7day") is not None


async def test_reply_file_problems_are_told_once_and_never_as_markup(demo_store, tmp_path, monkeypatch):
    """A file named like markup, a reply whose id is markup: the app tells the bad file
    once (not again when the library reloads for the shop's layer) and keeps running."""
    from agentdesk.quickreply import library

    personal = tmp_path / "mine"
    personal.mkdir()
    (personal / "[red]broken.toml").write_text('[[reply]]\nid = "[b]x"\nbody = "\\u001b[2J"\ntitle = "t"\n',
                                              encoding="utf-8")
    (personal / "hostile.toml").write_text('[[reply]]\nid = "[/]"\ntitle = "[bold]粗[/bold]"\nbody = "[/]亲，在的"\n',
                                           encoding="utf-8")
    monkeypatch.setattr(library, "personal_dir", lambda: personal)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.load_replies()  # what a change to the shop's library does
        await settle(pilot, app)
        told = [str(n.message) for n in app._notifications if "broken.toml" in str(n.message)]
        assert len(told) == 1, told
        assert not any(n.markup for n in app._notifications if "broken.toml" in str(n.message))
        assert f"{personal / '[red]broken.toml'}:1: reply [b]x: body holds a control character (U+001B" in told[0]
        assert app.replies.by_id("[/]").title == "[bold]粗[/bold]"


async def test_the_customers_own_words_find_replies_marked_as_similar(demo_store):
    """退款多久到账: no reply holds it as typed; 退款到账 is found by the words they share,
    first, and the picker says it is similar, not a match."""
    app = make_app(demo_store)
    row = refund_row(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_row(pilot, app, row)
        await pilot.press("ctrl+r", *"退款多久到账")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ReplyPicker)
        assert picker.hits[0].reply.id == "aftersale-refund-arrival" and picker.hits[0].partial
        assert "≈ 相近" in screen_text(app) and "退款到账" in screen_text(app)
