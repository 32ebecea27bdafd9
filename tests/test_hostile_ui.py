"""The hostile corpus through every render path of the real apps, on a real cache.

Every field of :mod:`hostile_scene` carries every string of :mod:`hostile`; the tests
walk the screens as an agent (and a supervisor) would – each tab, each conversation,
the dialogs, toasts – and check what each screen would send to the terminal (see
:mod:`render_check`): no escape, control, bidi or width-disputed character, no escape's
payload, every row exactly the terminal's width. The app's last line of defence, its
line filter, is off for everything but the fields the agent edits (whose text is sent
as it is and drawn through the filter): every other call site must clean what it shows.
Each test then asserts which (field, string) pairs it saw on screen.
"""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App
from textual.widgets import Input, OptionList, Static, TextArea

from agentdesk.safetext import one_line
from agentdesk.store import writes
from agentdesk.sync.engine import Changes
from agentdesk.ui.messages import RepliesLoaded, SendFailed, SyncChanged
from agentdesk.ui.screens.choice import ChoiceScreen
from agentdesk.ui.screens.confirm import ConfirmScreen
from agentdesk.ui.screens.followup import FollowupScreen
from agentdesk.ui.screens.handoff import HandoffScreen
from agentdesk.ui.screens.help import HelpScreen
from agentdesk.ui.screens.outreach import OutreachScreen
from agentdesk.ui.screens.reply_picker import ReplyPicker
from agentdesk.ui.screens.snooze import SnoozeScreen
from agentdesk.ui.screens.tags import TagsScreen
from agentdesk.ui.terminal_guard import CellGuard
from agentdesk.ui.widgets.followup_list import FollowupList
from agentdesk.ui.widgets.header import HeaderBar
from agentdesk.ui.widgets.inbox_list import InboxList
from agentdesk.ui.widgets.sidebar import Sidebar
from agentdesk.ui.widgets.thread_view import ThreadView
from conftest import make_app
from hostile import CORPUS, OSC52
from hostile_scene import FIELDS, NOW, hostile_store, value
from render_check import check_lines, check_screen
from shop_helpers import until

WIDE, NARROW = (160, 60), (80, 24)
N = len(CORPUS)
EVERY = set(range(N))
RAW = [text for _, text in CORPUS]


def tell(name: str, found: set[tuple[str, int]]) -> None:
    """The count of what a test saw (``pytest -s`` prints it)."""
    fields = {f for f, _ in found}
    print(f"\nhostile corpus, {name}: {len(found)} (field, string) pairs on screen, {len(fields)} fields "
          f"(not here: {' '.join(sorted(set(FIELDS) - fields))}), every screen inert")


def covered(found: set[tuple[str, int]], *fields: str, expect: set[int] = EVERY) -> None:
    for field in fields:
        missing = expect - {i for f, i in found if f == field}
        assert not missing, f"{FIELDS[field]} was not shown for corpus entries {sorted(missing)[:12]}"


@pytest.fixture
def strict(monkeypatch):
    """The app's line filter only for the editable fields (Input, TextArea)."""
    guard = CellGuard()

    def editable_filters(self):
        return [*App.get_line_filters(self.app), guard]

    for cls in (Input, TextArea):
        monkeypatch.setattr(cls, "get_line_filters", editable_filters)

    def switch_off(app):
        app.cell_guard.enabled = False
        return app

    return switch_off


@pytest.fixture
def store(tmp_path):
    store = hostile_store(tmp_path / "cache.sqlite")
    yield store
    store.close()


async def settled(pilot, app) -> None:
    await until(pilot, lambda: not any(w.is_running for w in app.workers))
    await pilot.pause()


async def started(pilot, app) -> InboxList:
    inbox = app.query_one(InboxList)
    await until(pilot, lambda: len(inbox.rows) > 0 and bool(app.query_one(HeaderBar).agent))
    await settled(pilot, app)
    return inbox


async def page_through(pilot, app, widget, where: str) -> set[tuple[str, int]]:
    """Check each page of a list, PageDown to the end."""
    found = check_screen(app, where)
    for _ in range(40):
        before = (getattr(widget, "cursor", None), getattr(widget, "highlighted", None), len(getattr(widget, "rows", ())))
        await pilot.press("pagedown")
        await settled(pilot, app)
        found |= check_screen(app, where)
        after = (getattr(widget, "cursor", None), getattr(widget, "highlighted", None), len(getattr(widget, "rows", ())))
        if after == before:
            return found
    raise AssertionError(f"{where}: PageDown never reached the end")


async def each_conversation(pilot, app, visit, *, whole_card: bool = True, step: int = 1) -> set[tuple[str, int]]:
    """Open my first conversation, then Alt+J through every one (every ``step``-th:
    Alt+J pressed ``step`` times); ``visit`` checks each (and with ``whole_card`` the
    customer card is scrolled to its end, page by page)."""
    view, sidebar = app.query_one(ThreadView), app.query_one(Sidebar)
    await pilot.press("home", "enter")
    found: set[tuple[str, int]] = set()
    visited = set()
    for n in range(0, N, step):
        await until(pilot, lambda: app.current is not None)
        current = app.current
        await until(pilot, lambda: view.conversation_id == current.id and sidebar.card is not None
                    and sidebar.card.customer.id == current.customer_id)
        await settled(pilot, app)
        found |= check_screen(app, f"conversation {current.id}")
        found |= check_lines(view._lines, view._laid_out_width, f"thread {current.id}")
        while whole_card and sidebar.scroll_y < sidebar.max_scroll_y:  # the card's end, a page at a time, as an agent scrolls
            sidebar.scroll_page_down(animate=False)
            await pilot.pause()
            found |= check_screen(app, f"card of {current.id}, scrolled")
        found |= await visit(n, current.id)
        visited.add(current.id)
        if n + step < N:
            await pilot.press(*["alt+j"] * step)
            await until(pilot, lambda: app.current.id != current.id)
    assert visited == {f"v{i:03d}" for i in range(0, N, step)}
    return found


async def dialog(pilot, app, keys: tuple[str, ...], screen: type, where: str) -> set[tuple[str, int]]:
    """Open a dialog with ``keys``, check it over the workstation, close it with Esc."""
    await pilot.press(*keys)
    await until(pilot, lambda: isinstance(app.screen, screen))
    await pilot.pause()
    found = check_screen(app, where)
    await pilot.press("escape")
    await until(pilot, lambda: not isinstance(app.screen, screen))
    return found


async def test_the_workstation_shows_every_hostile_field_inert(store, strict):
    app = strict(make_app(store, settings=None))
    found: set[tuple[str, int]] = set()
    async with app.run_test(size=WIDE) as pilot:
        inbox = await started(pilot, app)
        found |= await page_through(pilot, app, inbox, "inbox, mine")
        covered(found, "CN", "GR", "MB")

        await pilot.press("a", "s")  # everyone's, pending: the colleagues' conversations
        await settled(pilot, app)
        found |= await page_through(pilot, app, inbox, "inbox, all pending")
        covered(found, "GW", "MW")

        await pilot.press("m", "s", "s", "s", "s")  # mine, open again
        await settled(pilot, app)

        async def nothing_more(n: int, conversation: str) -> set:
            return set()

        found |= await each_conversation(pilot, app, nothing_more)
        covered(found, "CN", "CL", "CG", "GR", "GW", "MW", "MB", "MA", "MN", "MO", "MS", "ME",
                "HF", "HN", "AN", "OS", "OT", "OK", "OC", "OR", "OM", "RR", "NB", "FN")

        # Transfer: every colleague and their groups, page by page.
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, HandoffScreen))
        targets = app.screen.query_one("#handoff-targets", OptionList)
        targets.focus()
        found |= await page_through(pilot, app, targets, "transfer")
        covered(found, "AN", "AG")
        await pilot.press("escape")

        # The quick-reply picker: every reply of the shop's library, ten at a time.
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, ReplyPicker))
        picker = app.screen
        # The shop's layer is checked like a reply file: a reply whose id, title, tag or body
        # holds a control or invisible character is skipped and reported (never shown).
        loaded = {int(r.shortcode[1:]) for r in app.replies.replies if r.layer == "shop"}
        skipped = [p for p in app.reply_problems_told if p.startswith("shop library")]
        assert len(loaded) >= 40
        for i in sorted(set(range(N)) - loaded):  # each one skipped is named in a problem (a too long id: its length)
            assert any(f"QI{i:03d}" in p for p in skipped) or len(value("QI", i)) > 80, (i, skipped[:3])
        for tens in sorted({i // 10 for i in loaded}):
            prefix = f"h{tens:02d}"  # the shortcodes h000 … h112, ten at a time
            picker.query_one("#picker-input", Input).value = prefix
            await until(pilot, lambda: picker.hits and picker.hits[0].reply.shortcode.startswith(prefix))
            await settled(pilot, app)
            found |= check_screen(app, f"picker, {prefix}")
            await pilot.press("tab")  # the whole text of each, in turn
            for _ in (h for h in picker.hits if h.reply.shortcode.startswith(prefix)):
                await settled(pilot, app)
                found |= check_screen(app, f"picker preview, {prefix}")
                await pilot.press("down")
            await pilot.press("tab")
        short = {i for i in loaded if len(one_line(RAW[i])) <= 20}  # a long title leaves no room for the category
        covered(found, "QT", "QB", expect=loaded)
        covered(found, "QC", expect=short)
        await pilot.press("escape")

        await pilot.press("f6")  # outreach: a sample of who would get it
        await until(pilot, lambda: isinstance(app.screen, OutreachScreen) and app.screen.audience is not None)
        await settled(pilot, app)
        found |= check_screen(app, "outreach")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, OutreachScreen))
        for keys, screen in ((("alt+p",), SnoozeScreen), (("f1",), HelpScreen)):
            found |= await dialog(pilot, app, keys, screen, screen.__name__)

        await pilot.press("escape", "f")  # the follow-ups tab lists the first 100 by due time
        await until(pilot, lambda: app.query_one(FollowupList).option_count >= 100)
        found |= await page_through(pilot, app, app.query_one(FollowupList), "follow-ups tab")
        covered(found, "FN", expect=set(range(100)))

        # Toasts from every path that raises them, with the raw strings (lone surrogates too).
        await toasts(pilot, app, store)
        found |= check_screen(app, "after the toasts")
        assert app.is_running and app.return_code is None
    tell("workstation", found)


async def toasts(pilot, app, store) -> None:
    """Each path that notifies, fed every raw hostile string, ten toasts at a time."""
    for start in range(0, N, 10):
        batch = RAW[start:start + 10]
        app.post_message(SyncChanged(Changes(conflicts=[("nobody", text) for text in batch[:5]],
                                             failures=batch[5:8])))
        app.post_message(SendFailed("nobody", "", batch[8 % len(batch)]))
        app.post_message(RepliesLoaded(app.replies, batch[:3]))
        app.notify(batch[-1], title=batch[0], severity="error")
        await settled(pilot, app)
        check_screen(app, f"toasts {start}…")
        app.clear_notifications()

    # A worker that dies with the shop's words: the one place that reports worker errors.
    def dies() -> None:
        raise RuntimeError(RAW[0] + RAW[-1])

    app.run_worker(dies, thread=True, exit_on_error=False)
    # The repro: a customer called [/] complains; triage flags it and notifies.
    complaint = next(i for i, (name, _) in enumerate(CORPUS) if name == "rich-close")
    store.write(writes.add_message, f"v{complaint:03d}", "customer", "你们是骗子，我要投诉，差评", NOW + 1)
    app.run_triage()
    app.check_waiting()  # everyone has waited past red: one alert each
    await settled(pilot, app)
    await until(pilot, lambda: any("[/]" in n.message for n in app._notifications))
    check_screen(app, "complaint and red-wait toasts")


async def test_the_dialogs_on_a_small_terminal(store, strict):
    """80×24: every third conversation opens one of the five dialogs that show its own
    fields (customer note, tags, follow-up, order actions, address change), in turn, so
    each dialog gets hostile strings from every family of the corpus (a dialog costs
    Textual about a second here: every string in every dialog would take minutes)."""
    app = strict(make_app(store))
    kinds = (
        (("alt+c",), ConfirmScreen, "customer note", "CN"),
        (("alt+t",), TagsScreen, "tags", "CT"),
        (("alt+h",), FollowupScreen, "follow-up", "OT"),
        (("f4",), ChoiceScreen, "order actions", "OS"),
        (("f4", "1"), ConfirmScreen, "address change", "OA"),  # the unshipped order's, confirmed first
    )

    async def one_dialog(n: int, conversation: str) -> set[tuple[str, int]]:
        keys, screen, name, _ = kinds[n // 3 % len(kinds)]
        if len(keys) > 1:
            await pilot.press(*keys[:-1])
            await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        return await dialog(pilot, app, keys[-1:], screen, f"{name}, {conversation}")

    async with app.run_test(size=NARROW) as pilot:
        await started(pilot, app)
        found = await each_conversation(pilot, app, one_dialog, whole_card=False, step=3)
        assert app.is_running
    covered(found, "CN", "MB", expect=set(range(0, N, 3)))
    for k, (_, _, _, field) in enumerate(kinds):
        covered(found, field, expect={i for i in range(0, N, 3) if i // 3 % len(kinds) == k})
    tell("narrow", found)


async def test_the_guard_draws_raw_hostile_text_inert_whatever_a_widget_does(store):
    """The last line of defence on its own: widgets given the raw strings (markup off,
    no cleaning) still send nothing a terminal would act on, in rows of the right width."""
    app = make_app(store)
    async with app.run_test(size=WIDE) as pilot:
        await started(pilot, app)
        probe = Static(id="probe")
        await app.query_one("#thread-pane").mount(probe, before=0)
        for name, text in CORPUS:
            probe.update(Text(f"{name}: {text}"[:3000]))
            await pilot.pause()
            check_screen(app, f"raw {name}")
        # Without it the same widget does send the escape: the check above means something,
        # and Textual still calls the app's line filters (else this passes and that fails).
        app.cell_guard.enabled = False
        probe.update(Text(f"x{OSC52}y\u3164"))
        await pilot.pause()
        with pytest.raises(AssertionError, match="U\\+001B"):
            check_screen(app, "unguarded")


async def test_the_monitor_shows_every_hostile_field_inert(store, strict):
    """The supervisor's board over the same cache: every agent and their presence in the
    panels, every conversation in the list (each naming its agent), KPIs per agent, the
    filter naming an agent, and conversations read with their card."""
    from textual.geometry import Region

    from agentdesk.clock import FixedClock
    from agentdesk.config import Settings, UISettings
    from agentdesk.ui.monitor.app import MonitorApp
    from agentdesk.ui.monitor.panels import AgentsPanel, KpiPanel
    from agentdesk.ui.monitor.screens import ConversationScreen

    app = strict(MonitorApp(store=store, settings=Settings(ui=UISettings(language="zh")), clock=FixedClock(NOW)))
    found: set[tuple[str, int]] = set()
    async with app.run_test(size=WIDE) as pilot:
        board = app.screen_stack[0]
        await until(pilot, lambda: bool(board.query_one(AgentsPanel).lines) and board.query_one(KpiPanel).report
                    is not None and bool(board.query_one(InboxList).rows))
        await settled(pilot, app)
        for panel in (board.query_one(AgentsPanel), board.query_one(KpiPanel)):  # every line, also below the box
            found |= check_lines(panel.render_lines(Region(0, 0, *panel.size)), panel.size.width, type(panel).__name__)
        covered(found, "AN")
        covered(found, "AS", expect={i for i in EVERY if i % 4 == 3})
        lst = board.query_one(InboxList)
        found |= await page_through(pilot, app, lst, "board, open")
        await pilot.press("s")  # pending: the colleagues' conversations, each naming its agent
        await settled(pilot, app)
        found |= await page_through(pilot, app, lst, "board, pending")
        covered(found, "CN", "GR", "GW", "MB", "MW")
        for _ in range(6):  # the filter line names the agent
            await pilot.press("c")
            await settled(pilot, app)
            found |= check_screen(app, "board, agent filter")
        await pilot.press("a", "s", "s", "s", "s", "home", "enter")  # everyone's, open again: read the first ones
        await until(pilot, lambda: isinstance(app.screen, ConversationScreen))
        for n in range(6):
            current = app.current
            reader = app.screen
            await until(pilot, lambda: reader.query_one(ThreadView).conversation_id == current.id
                        and reader.query_one(Sidebar).card is not None)
            await settled(pilot, app)
            found |= check_screen(app, f"reading {current.id}")
            await pilot.press("alt+j")
            await until(pilot, lambda: app.current.id != current.id)
        found |= await dialog(pilot, app, ("f1",), HelpScreen, "monitor help")
        assert app.is_running
    tell("monitor", found)
