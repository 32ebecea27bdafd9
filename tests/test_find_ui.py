"""Find in the workstation under Pilot: Ctrl+F from the inbox, the composer and the
thread; what an agent pastes or types (a 19-digit order number, a tracking number, a
nickname in pinyin or initials, two Chinese characters) lands in the right conversation
at the right message, marked and on screen; n / N inside a thread."""

from __future__ import annotations

from agentdesk.store import thread
from agentdesk.ui.screens.find import FindScreen
from agentdesk.ui.widgets.composer import Composer
from agentdesk.ui.widgets.find_list import FindList
from agentdesk.ui.widgets.inbox_list import InboxList
from agentdesk.ui.widgets.thread_search import ThreadSearchBar
from agentdesk.ui.widgets.thread_view import ThreadView

from conftest import make_app, screen_text
from shop_helpers import until

SIZE = (160, 45)


async def ready(pilot, app) -> None:
    await until(pilot, lambda: bool(app.query_one(InboxList).rows) and app.replies is not None)
    await until(pilot, lambda: not any(w.is_running for w in app.workers))


def message_id(store, conversation_id: str, needle: str) -> int:
    return store.read(lambda c: c.execute(
        "SELECT id FROM messages WHERE conversation_id = ? AND body LIKE ? ORDER BY at DESC LIMIT 1",
        [conversation_id, f"%{needle}%"]).fetchone()[0])


def conversation_of(store, needle: str) -> str:
    return store.read(lambda c: c.execute(
        "SELECT conversation_id FROM messages WHERE body LIKE ? ORDER BY at DESC LIMIT 1", [f"%{needle}%"]).fetchone()[0])


async def find(pilot, app, text: str) -> FindList:
    """Ctrl+F, paste ``text`` (one change, as a terminal pastes), wait for its answer."""
    await pilot.press("ctrl+f")
    await until(pilot, lambda: isinstance(app.screen, FindScreen))
    screen = app.screen
    screen.query_one("#find-input").value = text
    await until(pilot, lambda: screen.found is not None and screen.found.query.text == text
                and screen.answered == screen.generation)
    return screen.query_one(FindList)


async def landed(pilot, app, conversation_id: str, marked: int | None) -> ThreadView:
    view = app.query_one(ThreadView)
    await until(pilot, lambda: not isinstance(app.screen, FindScreen) and view.conversation_id == conversation_id
                and view.marked == marked and bool(view.messages))
    await until(pilot, lambda: not any(w.is_running for w in app.workers))
    await pilot.pause()
    return view


def on_screen(app, store, message: int) -> bool:
    body = store.read(lambda c: c.execute("SELECT body FROM messages WHERE id = ?", [message]).fetchone()[0])
    return body[:12] in screen_text(app)


async def test_a_pasted_order_number_opens_its_conversation_at_the_message_naming_it(demo_store):
    order = "3902108847623109945"
    conversation = conversation_of(demo_store, order)
    target = message_id(demo_store, conversation, order)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        results = await find(pilot, app, order)
        assert results.highlighted.kind == "order" and results.highlighted.item.id == order
        assert "订单 1" in screen_text(app) and "聊天记录" in screen_text(app)
        await pilot.press("enter")
        view = await landed(pilot, app, conversation, target)
        assert on_screen(app, demo_store, target) and view.marked == target
        assert app.focused is view  # reading it; Tab reaches the composer
        assert app.current.id == conversation


async def test_a_tracking_number_finds_the_message_that_gave_it(demo_store):
    tracking = "SF1127739905462"
    conversation = conversation_of(demo_store, tracking)
    target = message_id(demo_store, conversation, tracking)
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        results = await find(pilot, app, tracking.lower())  # typed in lower case: still found
        kinds = [r.kind for r in results.rows]
        assert "order" in kinds and "message" in kinds
        results.move(10)  # down to the message itself
        assert results.highlighted.kind == "message"
        await pilot.press("enter")
        await landed(pilot, app, conversation, target)
        assert on_screen(app, demo_store, target)
        bar = app.query_one(ThreadSearchBar)
        assert bar.display and bar.text == tracking.lower()  # n / N go on from here


async def test_a_nickname_in_initials_or_pinyin_opens_the_customers_conversation(demo_store):
    name = "芒果布丁不要芒果"
    latest = demo_store.read(lambda c: c.execute(
        "SELECT c.id FROM conversations c JOIN customers u ON u.id = c.customer_id WHERE u.name = ? "
        "ORDER BY c.last_message_at DESC LIMIT 1", [name]).fetchone()[0])
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        for typed in ("mgbd", "mangguobuding"):
            results = await find(pilot, app, typed)
            assert results.highlighted.kind == "customer" and results.highlighted.item.name == name
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, FindScreen))
        await find(pilot, app, "mgbd")
        await pilot.press("enter")
        view = await landed(pilot, app, latest, None)
        newest = demo_store.read(thread.latest, latest, 1)[0]
        assert view.messages[-1].id == newest.id and on_screen(app, demo_store, newest.id)
        assert isinstance(app.focused, Composer)  # a customer, not a message: ready to answer


async def test_two_chinese_characters_land_at_the_message(demo_store):
    conversation = conversation_of(demo_store, "机洗")
    target = message_id(demo_store, conversation, "机洗")
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        results = await find(pilot, app, "机洗")
        assert results.highlighted.kind == "message" and "机洗" in results.highlighted.item.body
        await pilot.press("enter")
        view = await landed(pilot, app, conversation, target)
        assert on_screen(app, demo_store, target)
        assert "机洗" in view.terms


async def test_ctrl_f_from_the_composer_keeps_what_was_typed_before_it(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.focused, Composer) and app.focused.conversation_id is not None)
        await pilot.press(*"亲稍等", "ctrl+f")
        await until(pilot, lambda: isinstance(app.screen, FindScreen))
        assert app.screen.query_one("#find-input").value == ""  # nothing typed leaked into Find
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, FindScreen))
        assert app.query_one(Composer).text == "亲稍等"


async def test_enter_right_after_pasting_opens_the_first_result(demo_store):
    """No waiting for the answer first: Enter opens what the pasted text finds."""
    conversation = conversation_of(demo_store, "机洗")
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("ctrl+f")
        await until(pilot, lambda: isinstance(app.screen, FindScreen))
        app.screen.query_one("#find-input").value = "机洗"
        await pilot.press("enter")
        await landed(pilot, app, conversation, message_id(demo_store, conversation, "机洗"))


async def test_ctrl_f_in_the_thread_searches_this_conversation_and_n_steps_back(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await pilot.press("enter")
        view = app.query_one(ThreadView)
        await until(pilot, lambda: bool(view.messages))
        cid = view.conversation_id
        word = "码" if any("码" in m.body for m in demo_store.read(thread.latest, cid, 500)) else "亲"
        expected = [m.id for m in reversed(demo_store.read(thread.latest, cid, 500)) if word in m.body]
        assert len(expected) >= 2, "the first conversation has the word twice"
        view.focus()
        await pilot.press("ctrl+f")
        bar = app.query_one(ThreadSearchBar)
        await until(pilot, lambda: bar.display and app.focused is bar.query_one("#thread-search-input"))
        await pilot.press(*word, "enter")
        await until(pilot, lambda: view.matches == expected and view.marked == expected[0] and app.focused is view)
        await pilot.press("n")
        await until(pilot, lambda: view.marked == expected[1])
        assert on_screen(app, demo_store, expected[1])
        assert f"第 2/{len(expected)} 处" in screen_text(app)
        await pilot.press("N")
        await until(pilot, lambda: view.marked == expected[0])
        await pilot.press("ctrl+f", "escape")  # Esc closes the bar and the highlighting
        await until(pilot, lambda: not bar.display and view.matches == [] and view.marked is None)


async def test_a_match_pages_back_opens_the_thread_there_and_scrolling_down_reaches_the_newest(demo_store):
    """A long thread: the only match is pages back. Searching in the thread opens it at
    the match; scrolling down loads the newer pages until the newest."""
    from agentdesk.store import writes

    cid, name = demo_store.read(lambda c: c.execute(
        "SELECT c.id, u.name FROM conversations c JOIN customers u ON u.id = c.customer_id "
        "WHERE u.name = '芒果布丁不要芒果' ORDER BY c.last_message_at DESC LIMIT 1").fetchone())

    def write(conn):
        writes.add_message(conn, cid, "customer", "很久以前问过的发票抬头", 1_700_000_000.0)
        for n in range(150):
            writes.add_message(conn, cid, "customer", f"第{n}条闲聊", 1_700_000_100.0 + n)
    demo_store.write(write)
    oldest = message_id(demo_store, cid, "发票抬头")
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot, app)
        await find(pilot, app, "mgbd")  # the customer: their conversation at its newest
        await pilot.press("enter")
        view = await landed(pilot, app, cid, None)
        assert oldest not in {m.id for m in view.messages}
        view.focus()
        await pilot.press("ctrl+f", *"发票抬头", "enter")
        await until(pilot, lambda: view.marked == oldest)
        assert view.has_newer and on_screen(app, demo_store, oldest)
        for _ in range(10):
            if not view.has_newer:
                break
            view.scroll_end(animate=False, immediate=True)
            await until(pilot, lambda: not any(w.is_running for w in app.workers))
            await pilot.pause()
        newest = demo_store.read(thread.latest, cid, 1)[0]
        assert not view.has_newer and view.messages[-1].id == newest.id


async def test_an_existing_cache_is_indexed_in_the_background_while_the_ui_answers(tmp_path):
    """A cache from the release before Find: the app opens at once, indexes after its
    first paint in short transactions, and Find is complete meanwhile ("indexing N%")."""
    from agentdesk.store import Store, history

    from find_helpers import old_cache

    path = tmp_path / "old.sqlite"
    old_cache(path, 20_000)
    store = Store(path)
    try:
        assert store.read(history.progress) == 0.0
        app = make_app(store)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.first_paint_ms is not None)
            results = await find(pilot, app, "退款")  # asked while the indexer works
            found = app.screen.found
            assert found.messages.hits and all("退款" in h.body for h in found.messages.hits)
            assert [h.at for h in found.messages.hits] == sorted((h.at for h in found.messages.hits), reverse=True)
            assert found.messages.hits[0].body == "第19990条 退款"  # the newest, indexed or not
            if found.indexed < 1.0:
                assert "正在建立索引" in screen_text(app)
            await pilot.press("escape")
            await until(pilot, lambda: store.read(history.progress) == 1.0, timeout=60)
            await until(pilot, lambda: not any(w.is_running for w in app.workers), timeout=60)
            indexer = app.indexer
            assert len(indexer.cpu) > 3 and max(indexer.cpu) < 0.05, indexer.cpu
            await pilot.press("ctrl+f")  # and afterwards the index alone answers the same
            await until(pilot, lambda: isinstance(app.screen, FindScreen))
            app.screen.query_one("#find-input").value = "退款"
            await until(pilot, lambda: app.screen.found is not None and app.screen.found.indexed == 1.0)
            assert [h.message_id for h in app.screen.found.messages.hits] == [h.message_id for h in found.messages.hits]
            assert results is not None
    finally:
        store.close()
