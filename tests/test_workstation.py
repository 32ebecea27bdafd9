"""The agent's workstation under Pilot: real keys, asserting on the screen and in SQLite."""

from __future__ import annotations

from agentdesk.store import inbox, thread, writes
from agentdesk.store.inbox import InboxFilter
from agentdesk.ui.screens.help import HelpScreen
from agentdesk.ui.widgets.composer import Composer
from agentdesk.ui.widgets.inbox_list import InboxList
from agentdesk.ui.widgets.sidebar import Sidebar
from agentdesk.ui.widgets.thread_view import ThreadView

from conftest import make_app, screen_text

SIZE = (160, 45)


def mine(store, status="open", limit=200):
    return store.read(inbox.first_page, InboxFilter(tab="mine", status=status, me="a01"), limit)


async def settle(pilot, app):
    """Let workers finish and their messages be handled."""
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def open_first(pilot, app):
    """The first conversation of the tab open, its draft read, the cursor in its composer."""
    await settle(pilot, app)
    await pilot.press("enter")
    await settle(pilot, app)
    assert isinstance(app.focused, Composer) and app.current is not None
    return app.current


async def test_demo_opens_on_my_inbox_longest_waiting_first(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        expected = mine(demo_store)
        rows = app.query_one(InboxList).rows
        assert [r.id for r in rows] == [r.id for r in expected[: len(rows)]]
        waits = [r.waiting_since for r in rows if r.waiting_since is not None]
        assert waits == sorted(waits) and waits, "waiting customers come first, longest first"
        text = screen_text(app)
        assert "拾光生活旗舰店" in text and "小美" in text
        assert expected[0].customer_name in text
        assert f"我的 {len(expected)}" in text


async def test_open_conversation_shows_thread_orders_and_focuses_composer(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("j", "enter")
        await settle(pilot, app)
        row = mine(demo_store)[1]
        view = app.query_one(ThreadView)
        assert view.conversation_id == row.id
        latest = demo_store.read(thread.latest, row.id, 50)
        assert [m.id for m in view.messages] == [m.id for m in latest]
        assert isinstance(app.focused, Composer)
        card = app.query_one(Sidebar).card
        assert card is not None and card.customer.id == row.customer_id
        text = screen_text(app)
        if card.orders:  # the customer's newest order is listed in the sidebar
            assert card.orders[0].id in text
        assert demo_store.read(lambda c: c.execute("SELECT unread FROM conversations WHERE id=?", [row.id]).fetchone()[0]) == 0


async def test_reply_shows_persists_and_survives_restart(demo_store, demo_path):
    from agentdesk.demo.build import open_demo

    app = make_app(demo_store)
    row = mine(demo_store)[0]
    assert row.waiting_since is not None
    reply = "亲 这边已经帮您催仓库了 今天一定发出哦~"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.press(*reply)
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.query_one(Composer).text == ""
        assert app.query_one(ThreadView).messages[-1].body == reply
        assert reply in screen_text(app)
    stored = demo_store.read(thread.latest, row.id, 1)[0]
    assert (stored.sender, stored.agent_id, stored.body) == ("agent", "a01", reply)
    assert demo_store.read(inbox.get, row.id).waiting_since is None
    demo_store.close()

    reopened = open_demo(demo_path, anchor=0)  # an existing demo cache is never reseeded
    app2 = make_app(reopened)
    async with app2.run_test(size=SIZE) as pilot:
        await settle(pilot, app2)
        lst = app2.query_one(InboxList)
        lst.cursor = next(i for i, r in enumerate(lst.rows) if r.id == row.id)
        await pilot.press("enter")
        await settle(pilot, app2)
        assert reply in screen_text(app2)
    reopened.close()


async def test_draft_kept_per_conversation(demo_store):
    app = make_app(demo_store)
    first, second = mine(demo_store)[:2]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.press(*"还没写完的草稿")
        await pilot.press("alt+j")  # next conversation, while typing
        await settle(pilot, app)
        composer = app.query_one(Composer)
        assert composer.conversation_id == second.id and composer.text == ""
        assert demo_store.read(writes.get_draft, first.id) == "还没写完的草稿"
        await pilot.press("alt+k")
        await settle(pilot, app)
        assert composer.conversation_id == first.id
        assert composer.text == "还没写完的草稿"


async def test_newline_keys_do_not_send(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        row = app.current
        before = demo_store.read(thread.latest, row.id, 1)[0].id
        await pilot.press("a", "alt+enter", "b", "ctrl+j", "c")
        assert app.query_one(Composer).text == "a\nb\nc"
        assert demo_store.read(thread.latest, row.id, 1)[0].id == before


async def test_single_letters_type_in_the_composer(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.press("m", "u", "a", "s", "j", "k", "question_mark")
        await settle(pilot, app)
        assert app.query_one(Composer).text == "muasjk?"
        assert app.filter.tab == "mine" and app.filter.status == "open"
        assert not isinstance(app.screen, HelpScreen)


async def test_tabs_and_status_filter(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("u")
        await settle(pilot, app)
        rows = app.query_one(InboxList).rows
        assert app.filter.tab == "unassigned" and rows
        assert all(r.assignee_id is None and r.status == "open" for r in rows)
        await pilot.press("a", "s")  # all tabs, then status: pending
        await settle(pilot, app)
        rows = app.query_one(InboxList).rows
        assert app.filter.status == "pending"
        expected = demo_store.read(inbox.first_page, InboxFilter(tab="all", status="pending"), 100)
        assert [r.id for r in rows] == [r.id for r in expected]
        assert "挂起" in screen_text(app)
        await pilot.press("m")
        await settle(pilot, app)
        assert all(r.assignee_id == "a01" and r.status == "pending" for r in app.query_one(InboxList).rows)


async def test_jump_to_longest_waiting(demo_store):
    app = make_app(demo_store)
    everyone = demo_store.read(inbox.first_page, InboxFilter(tab="all", status="open"), 1)[0]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("s", "s")  # away from the open filter
        await settle(pilot, app)
        await pilot.press("alt+w")
        await settle(pilot, app)
        mine_first = mine(demo_store)[0]
        assert app.current is not None and app.current.id == mine_first.id
        assert app.filter.status == "open"
        # from the "all" tab it is the longest-waiting customer of the whole shop
        await pilot.press("escape", "a")
        await settle(pilot, app)
        await pilot.press("alt+w")
        await settle(pilot, app)
        assert app.current.id == everyone.id


async def test_help_overlay_lists_every_binding(demo_store):
    from agentdesk.ui.actions import ACTIONS

    app = make_app(demo_store, language="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        box = app.screen.query_one("#help-box")
        text = screen_text(app)
        while box.scroll_offset.y < box.max_scroll_y:  # the list is longer than the box: scroll it
            box.scroll_to(y=box.scroll_offset.y + box.size.height - 1, animate=False, immediate=True)
            await pilot.pause()
            text += screen_text(app)
        for spec in ACTIONS:
            assert app.t(spec.label + ".help") in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_runs_actions(demo_store):
    app = make_app(demo_store, language="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Unassigned")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.filter.tab == "unassigned"


async def test_english_ui(demo_store):
    app = make_app(demo_store, language="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert "Mine" in text and "Unassigned" in text and "offline demo" in text


async def test_older_messages_load_on_scroll_up(demo_store):
    conv = mine(demo_store)[0]

    def add_history(conn):
        first = conn.execute("SELECT min(at) FROM messages WHERE conversation_id=?", [conv.id]).fetchone()[0]
        for i in range(140):
            writes.add_message(conn, conv.id, "customer" if i % 2 else "agent", f"历史消息 {i}", first - 10_000 + i, agent_id="a01")

    demo_store.write(add_history)
    total = demo_store.read(lambda c: c.execute("SELECT count(*) FROM messages WHERE conversation_id=?", [conv.id]).fetchone()[0])
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        view = app.query_one(ThreadView)
        assert len(view.messages) == 50 and view.has_older
        newest = view.messages[-1].id
        for _ in range(5):
            view.scroll_home(animate=False, immediate=True)
            await settle(pilot, app)
        assert len(view.messages) == total and not view.has_older
        assert view.messages[-1].id == newest
        assert [m.key for m in view.messages] == sorted(m.key for m in view.messages)
        assert "会话开始" in screen_text(app)


async def test_hostile_customer_text_is_shown_literally(demo_store):
    conv = mine(demo_store)[0]
    hostile = [
        "[bold red]x[/] 你好",
        "[link=http://evil]点我[/link]",
        "剪贴板\x1b]52;c;aGk=\x07攻击",
        "清屏\x1b[2J攻击",
        "反转\u202eevil\u202c 零宽\u200b字符\ufeff",
        "大" * 1_000_000,
    ]

    def add(conn):
        for i, body in enumerate(hostile):
            writes.add_message(conn, conv.id, "customer", body, 1_795_156_100.0 + i)

    demo_store.write(add)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        view = app.query_one(ThreadView)
        view.scroll_to(y=max(0, view.virtual_size.height - 200), animate=False, immediate=True)
        await pilot.pause()
        shown = "\n".join(strip.text for strip in view._lines)
        assert "[bold red]x[/] 你好" in shown
        assert "[link=http://evil]点我[/link]" in shown
        assert "剪贴板攻击" in shown and "清屏攻击" in shown
        for bad in ("\x1b", "\x07", "\u202e", "\u200b", "\ufeff", "52;c", "[2J"):
            assert bad not in shown
        assert "[truncated]" in shown
        assert len(view._lines) < 2000, "a 1 MB message is cut, not laid out in full"
        line = app.query_one(InboxList).render_line(1).text
        assert "\x1b" not in line


async def test_inbox_window_pages_through_many_conversations(tmp_path):
    """Virtualization: 3,000 conversations, the widget holds a bounded window and
    walks the whole keyset order one page at a time."""
    from agentdesk.store import Store

    from agentdesk.ui.widgets.inbox_list import WINDOW

    store = Store(tmp_path / "big.sqlite")

    def fill(conn):
        writes.set_meta(conn, "me", "a01")
        writes.set_meta(conn, "shop_name", "测试店")
        conn.execute("INSERT INTO agents (id, name) VALUES ('a01', '小美')")
        conn.execute("INSERT INTO customers (id, name) VALUES ('c1', '顾客')")
        conn.executemany(
            "INSERT INTO conversations (id, customer_id, assignee_id, last_message_at, waiting_since, preview) "
            "VALUES (?, 'c1', 'a01', ?, ?, ?)",
            [(f"cv{i:05d}", 1_795_150_000.0 + i, 1_795_150_000.0 + i if i % 3 else None, f"消息 {i}") for i in range(3000)],
        )

    store.write(fill)
    expected = [r.id for r in store.read(inbox.first_page, InboxFilter(tab="mine", status="open", me="a01"), 5000)]
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        lst = app.query_one(InboxList)
        seen = [lst.highlighted.id]
        for _ in range(80):
            await pilot.press("pagedown")
            await settle(pilot, app)
            seen.append(lst.highlighted.id)
            assert len(lst.rows) <= WINDOW + 50
        position = expected.index(seen[-1])
        assert position > 600, "paged far beyond the first window"
        assert [expected.index(s) for s in seen] == sorted(expected.index(s) for s in seen)
        for _ in range(80):
            await pilot.press("pageup")
            await settle(pilot, app)
        assert lst.highlighted.id == expected[0]
    store.close()


async def test_typing_right_after_enter_is_never_lost(demo_store):
    """Keys typed before the conversation's saved draft arrives are kept after it."""
    first = mine(demo_store)[0]
    demo_store.write(writes.save_draft, first.id, "草稿:", 0.0)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("enter", "o", "k")  # no pause: the draft read is still in flight
        await settle(pilot, app)
        assert app.query_one(Composer).text == "草稿:ok"
        await pilot.pause(0.6)  # the merged draft is saved too
        await settle(pilot, app)
        assert demo_store.read(writes.get_draft, first.id) == "草稿:ok"


async def test_damage_found_after_startup_is_reported(demo_store, monkeypatch):
    """The full integrity check runs after the first paint and names the way out."""
    from agentdesk.store import CacheError

    def damaged():
        raise CacheError(f"{demo_store.path}: the cache is damaged (page 7); run again with --reset-cache")

    monkeypatch.setattr(demo_store, "check_integrity", damaged)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert app.query_one(InboxList).rows, "the cached inbox is still shown"
        assert any("--reset-cache" in str(n.message) for n in app._notifications)


async def test_enter_sends_everything_typed_before_it(demo_store):
    """A burst of keys ending in Enter (a fast typist, or a terminal delivering keys in one
    read) sends the whole text: Enter waits behind the characters queued before it."""
    from textual import events

    first = mine(demo_store)[0]
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        text = "亲在的哦马上发"
        for ch in text:  # all posted at once, no waiting in between
            app.post_message(events.Key(ch, ch))
        app.post_message(events.Key("enter", "\r"))
        await settle(pilot, app)
        await pilot.pause(0.3)
        bodies = [m.body for m in demo_store.read(thread.latest, first.id, 5)]
        assert bodies[-1] == text
        assert app.query_one(Composer).text == ""


def test_every_action_has_a_key_a_real_terminal_delivers():
    """Terminals send Alt+<key> as ESC <key>; Textual reads some of those as other keys
    (ESC b → Ctrl+Left, ESC 1 → "¡"). Each action needs a key that arrives as itself; the
    suggestion keys Alt+1..3 are taken by their characters in the composer instead."""
    from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
    from textual.keys import _character_to_key

    from agentdesk.ui.actions import ACTIONS
    from agentdesk.ui.widgets.composer import OPTION_DIGITS

    from agentdesk.ui.textual_internals import read_alt_keys

    read_alt_keys()  # as the app does: ESC <letter> arrives as alt+<letter> unless Textual names it

    def arrives_as(value) -> str:
        return value[0].value if isinstance(value, tuple) else value

    remapped = {f"alt+{seq[1]}" for seq, value in ANSI_SEQUENCES_KEYS.items()
                if len(seq) == 2 and seq[0] == "\x1b" and arrives_as(value) != f"alt+{seq[1]}"}
    assert {"alt+b", "alt+f", "alt+1"} <= remapped  # what the terminal really does to these
    for spec in ACTIONS:
        keys = set(spec.keys.split(","))
        if spec.id.startswith("composer.suggest"):
            n = int(spec.id[-1])
            assert OPTION_DIGITS[_character_to_key(ANSI_SEQUENCES_KEYS[f"\x1b{n}"])] == n
            continue
        assert keys - remapped, f"{spec.id}: {spec.keys} never arrives from a real terminal"


async def test_an_80_column_terminal_leaves_the_thread_and_composer_room(demo_store):
    """At 80 columns the inbox and the card narrow; the thread keeps columns for its
    composer (with none, Textual's placeholder wrap crashed the English UI at start)."""
    app = make_app(demo_store, language="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert "-narrow" in app.screen.classes
        assert app.query_one(Composer).content_size.width >= 10
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.query_one(ThreadView).conversation_id is not None
        assert "Mine" in screen_text(app)
