"""The supervisor's monitor: ``agentdesk --monitor``.

Read-only by construction, at three layers:
1. UI: no composer anywhere; bindings, footer, help and palette come from the monitor's
   registry, which has no write action, and ``check_action`` refuses every write action
   of agentdesk should a shared widget ever bind one.
2. Client: the sync engine is handed a :class:`~agentdesk.sync.client.ShopReader`, which
   has no write methods (the app refuses anything else), and nothing here touches the
   outbox – the engine has nothing to send.
3. Server: supervisor tokens are read-only; the shop answers any write with 403.

Figures come from the Textual-free core (workflow.board, workflow.kpi) in thread
workers; sync news marks them dirty and a 1 s flush re-reads what changed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from rich.text import Text
from textual import on, work
from textual.app import App
from textual.message import Message
from textual.widgets import Static

from agentdesk.clock import Clock
from agentdesk.config import Settings
from agentdesk.i18n import Catalog
from agentdesk.models import GROUPS, Agent, InboxRow
from agentdesk.safetext import one_line
from agentdesk.store import Store, customers, inbox, thread
from agentdesk.store.inbox import InboxFilter
from agentdesk.sync.engine import Changes, SyncEngine, SyncStatus
from agentdesk.ui import actions, keymap
from agentdesk.ui.commands import ActionCommands
from agentdesk.ui.key_order import KeyOrder
from agentdesk.ui.textual_internals import read_alt_keys
from agentdesk.ui.messages import ConversationLoaded, InboxLoaded, InboxPage, OlderLoaded, SyncChanged, SyncStatusChanged
from agentdesk.ui.monitor.actions import BOARD, all_specs, allowed
from agentdesk.ui.monitor.panels import AgentsPanel, KpiPanel, QueuesPanel
from agentdesk.ui.monitor.screens import BoardScreen, ConversationScreen
from agentdesk.ui.monitor.traffic_chart import TrafficChart
from agentdesk.ui.screens.help import HelpScreen
from agentdesk.ui.cache_readers import PAGE, STATUS_CYCLE, THREAD_PAGE, CacheReaders
from agentdesk.ui.find_host import FindHost
from agentdesk.ui.widgets.thread_search import ThreadSearchBar
from agentdesk.ui.sync_host import SyncHost
from agentdesk.ui.terminal_guard import TerminalGuard
from agentdesk.ui.widgets.header import HeaderBar
from agentdesk.ui.widgets.inbox_list import InboxList
from agentdesk.ui.widgets.sidebar import Sidebar
from agentdesk.ui.widgets.thread_title import handoff_text, title_text
from agentdesk.ui.widgets.thread_view import ThreadView
from agentdesk.workflow import board as team_board
from agentdesk.workflow import kpi

GROUP_CYCLE: tuple[str | None, ...] = (None, *GROUPS)
#: Figures that move with the clock alone (a wait crossing 3 minutes) are re-read this often.
BOARD_EVERY = 5.0
#: The 7-day KPIs change slowly and read a week of messages: at most this often.
WEEK_EVERY = 30.0


@dataclass
class BoardLoaded(Message):
    board: team_board.Board
    today: kpi.KpiReport
    traffic: kpi.Traffic


@dataclass
class WeekLoaded(Message):
    report: kpi.KpiReport


@dataclass
class ConversationRefreshed(Message):
    row: InboxRow
    messages: list
    card: object


@dataclass
class ListCount(Message):
    filter: InboxFilter
    count: int


class MonitorApp(TerminalGuard, KeyOrder, FindHost, SyncHost, CacheReaders, App[int]):
    CSS_PATH = ["../agentdesk.tcss", "monitor.tcss"]
    TITLE = "agentdesk monitor"
    BINDINGS = [spec.binding() for spec in BOARD]
    COMMANDS = App.COMMANDS | {ActionCommands}
    #: The palette and help read these instead of the workstation's registry.
    action_specs = all_specs()
    read_only = True

    def __init__(
        self,
        *,
        store: Store,
        settings: Settings,
        demo: bool = False,
        clock: Clock | None = None,
        sync: SyncEngine | None = None,
    ) -> None:
        if sync is not None and hasattr(sync.client, "write"):
            raise ValueError("the monitor runs only on a read-only client (ShopReader)")
        super().__init__()
        self.store = store
        self.settings = settings
        self.demo = demo
        self.clock = clock or Clock()
        self.sync = sync
        self.t = Catalog(settings.language)
        self.filter = InboxFilter(tab="all", status="open")
        self.agent_filter: str | None = None  # None: everyone; "unassigned"; or an agent id
        self.period = "today"  # | "week"
        self.agents: list[Agent] = []
        self.agent_names: dict[str, str] = {}
        self.current: InboxRow | None = None
        self.today: kpi.KpiReport | None = None
        self.week: kpi.KpiReport | None = None
        self._week_at = 0.0
        self._early: ConversationLoaded | None = None
        self._dirty = {"board": False, "list": False, "conversation": False}
        self._since_board = 0.0
        self.started = time.perf_counter()
        self.keymap = keymap.checked(settings)
        read_alt_keys()
        actions.localize(self._bindings, self.t)

    def get_default_screen(self) -> BoardScreen:
        return BoardScreen(now=self.clock.now, t=self.t, settings=self.settings)

    @property
    def board_screen(self) -> BoardScreen:
        return self.screen_stack[0]  # type: ignore[return-value]

    def _board_up(self) -> bool:
        """Worker answers can land while the app shuts down: act only while the board exists."""
        return bool(self.screen_stack) and bool(self.screen_stack[0].query(InboxList))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return allowed(action, parameters, on_board=self.screen is self.board_screen)

    # -- start ---------------------------------------------------------------------------

    def on_ready(self) -> None:
        """The board screen is composed by now (``on_mount`` comes before it)."""
        self.set_keymap(self.keymap)
        self._show_filter()
        self.load_identity()
        self.load_board()
        self.run_indexer()
        self.set_interval(1.0, self._tick)
        if not self.start_sync():
            for header in self._headers():
                header.connection = "demo" if self.demo else "offline"

    def _tick(self) -> None:
        """Waits are drawn against the clock: redraw them; re-read what sync changed."""
        if not self._board_up():
            return
        board = self.board_screen
        for widget in (board.query_one(InboxList), board.query_one(AgentsPanel), board.query_one(QueuesPanel)):
            widget.refresh()
        self._render_title()
        now = time.monotonic()
        if self._dirty["board"] or now - self._since_board >= BOARD_EVERY:
            self._dirty["board"] = False
            self._since_board = now
            self.load_board()
            if self.period == "week" and now - self._week_at >= WEEK_EVERY:
                self.load_week()
        if self._dirty["list"]:
            self._dirty["list"] = False
            highlighted = board.query_one(InboxList).highlighted
            self.reload_list(keep=highlighted.id if highlighted else None)
        if self._dirty["conversation"] and self.current is not None:
            self._dirty["conversation"] = False
            self.refresh_conversation(self.current.id)

    # -- workers -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="board", exit_on_error=False)
    def load_board(self) -> None:
        now = self.clock.now()
        start, end = kpi.today(now)

        def read(conn):
            return (team_board.board(conn, now, start, self.settings.timers),
                    kpi.compute(conn, start, end, self.settings.kpi),
                    kpi.traffic(conn, now))

        self.post_message(BoardLoaded(*self.store.read(read)))

    @work(thread=True, exclusive=True, group="week", exit_on_error=False)
    def load_week(self) -> None:
        self._week_at = time.monotonic()
        start, end = kpi.last_days(self.clock.now(), 7)
        self.post_message(WeekLoaded(self.store.read(kpi.compute, start, end, self.settings.kpi)))

    @work(thread=True, exclusive=True, group="list", exit_on_error=False)
    def reload_list(self, keep: str | None = None, open_kept: bool = False) -> None:
        f = self.filter
        rows = self.store.read(inbox.first_page, f, PAGE + 1)
        self.post_message(InboxLoaded(f, rows[:PAGE], False, len(rows) > PAGE, None, keep, open_kept))
        self.post_message(ListCount(f, self.store.read(inbox.count, f)))

    @work(thread=True, exclusive=True, group="conversation", exit_on_error=False)
    def load_conversation(self, row: InboxRow, marked: int | None = None, terms: tuple[str, ...] = (),
                          query: str = "") -> None:
        def read(conn):
            return (self.read_thread_at(conn, row.id, marked, query), customers.card(conn, row.customer_id),
                    thread.latest_handoff(conn, row.id))

        (msgs, has_older, has_newer, at, matches), card, handoff = self.store.read(read)
        self.post_message(ConversationLoaded(row, msgs, has_older, "", card, handoff, marked=at, has_newer=has_newer,
                                             terms=terms, matches=matches, query=query))

    @work(thread=True, exclusive=True, group="conversation-refresh", exit_on_error=False)
    def refresh_conversation(self, conversation_id: str) -> None:
        def read(conn):
            row = inbox.get(conn, conversation_id)
            if row is None:
                return None
            return row, thread.latest(conn, conversation_id, THREAD_PAGE), customers.card(conn, row.customer_id)

        found = self.store.read(read)
        if found is not None:
            self.post_message(ConversationRefreshed(*found))

    @work(thread=True, exclusive=True, group="longest", exit_on_error=False)
    def find_longest_waiting(self) -> None:
        row = self.store.read(inbox.longest_waiting, InboxFilter(tab="all", status="open"))
        self.call_from_thread(self._jump_to, row)

    # -- handlers ---------------------------------------------------------------------------

    def _identity_loaded(self, everyone: list[Agent], me: str | None, shop: str | None) -> None:
        if not self._board_up():
            return
        self.agents = [a for a in everyone if a.role == "agent"]
        self.agent_names = {a.id: a.name for a in everyone}
        self.board_screen.query_one(InboxList).agent_names = self.agent_names
        who = self.agent_names.get(me or "", me or "")
        for header in self._headers():
            header.shop = shop or ""
            header.role = "supervisor"
            header.agent = f"{who} · {self.t('monitor.badge')}" if who else self.t("monitor.badge")
        self._show_filter()
        self.reload_list()

    @on(BoardLoaded)
    def _board_loaded(self, event: BoardLoaded) -> None:
        if not self._board_up():
            return
        board = self.board_screen
        board.query_one(AgentsPanel).show(event.board.agents)
        board.query_one(QueuesPanel).show(event.board.queues)
        board.query_one(TrafficChart).show(event.traffic)
        self.today = event.today
        if self.period == "today":
            self._show_kpi()

    @on(WeekLoaded)
    def _week_loaded(self, event: WeekLoaded) -> None:
        self.week = event.report
        if self._board_up() and self.period == "week":
            self._show_kpi()

    def _show_kpi(self) -> None:
        report = self.today if self.period == "today" else self.week
        self.board_screen.query_one(KpiPanel).show(report)
        self.board_screen.query_one("#kpi-box").border_title = Text(self.t(f"board.kpi.{self.period}"))

    @on(InboxLoaded)
    def _list_loaded(self, event: InboxLoaded) -> None:
        if not self._board_up() or event.filter != self.filter:
            return
        lst = self.board_screen.query_one(InboxList)
        lst.set_rows(event.rows, more_before=event.more_before, more_after=event.more_after, keep=event.keep)
        if event.open_kept and lst.highlighted and lst.highlighted.id == event.keep:
            self._open(lst.highlighted)

    @on(ListCount)
    def _list_count(self, event: ListCount) -> None:
        if self._board_up() and event.filter == self.filter:
            self.board_screen.query_one("#board-list-title", Static).update(
                Text.assemble((" " + self.t("board.conversations"), "bold"), f"  {event.count}"))

    @on(InboxPage)
    def _list_page(self, event: InboxPage) -> None:
        if self._board_up() and event.filter == self.filter:
            self.board_screen.query_one(InboxList).add_rows(event.direction, event.rows, event.more)

    @on(InboxList.NeedRows)
    def _need_rows(self, event: InboxList.NeedRows) -> None:
        self.load_list_page(self.filter, event.direction, event.key)

    @on(InboxList.Opened)
    def _opened(self, event: InboxList.Opened) -> None:
        self._open(event.row)

    def _open(self, row: InboxRow, *, marked: int | None = None, terms: tuple[str, ...] = (),
              query: str = "") -> None:
        self.current = row
        lst = self.board_screen.query_one(InboxList)
        lst.opened_id = row.id
        lst.refresh()
        if not any(isinstance(s, ConversationScreen) for s in self.screen_stack):
            self.push_screen(ConversationScreen(now=self.clock.now, t=self.t))
        self._render_title()
        self.load_conversation(row, marked, terms, query)

    # -- Find's hooks (see FindHost) -------------------------------------------------------

    def thread_view(self) -> ThreadView | None:
        screen = self._conversation_screen()
        return screen.query_one(ThreadView) if screen is not None else None

    def thread_search_bar(self) -> ThreadSearchBar | None:
        screen = self._conversation_screen()
        return screen.query_one(ThreadSearchBar) if screen is not None else None

    def open_found(self, row: InboxRow, marked: int | None, terms: tuple[str, ...], query: str) -> None:
        """A Find result, read-only: the conversation screen at the message."""
        if self._board_up():
            self._open(row, marked=marked, terms=terms, query=query)

    def conversation_screen_ready(self) -> None:
        """The pushed screen is composed: give it the header state and what already arrived."""
        self._sync_headers()
        self._render_title()
        if self._early is not None:
            early, self._early = self._early, None
            self.call_after_refresh(self._conversation_loaded, early)  # once laid out: it opens at the end

    def _conversation_screen(self) -> ConversationScreen | None:
        """The conversation screen once it is composed (None before, or when not open)."""
        screen = next((s for s in self.screen_stack if isinstance(s, ConversationScreen)), None)
        return screen if screen is not None and screen.is_mounted and screen.query(ThreadView) else None

    @on(ConversationLoaded)
    def _conversation_loaded(self, event: ConversationLoaded) -> None:
        screen = self._conversation_screen()
        if self.current is None or event.row.id != self.current.id:
            return
        if screen is None:  # the answer beat the screen's first compose
            self._early = event
            return
        screen.query_one(ThreadView).show(event.row.id, event.row.customer_name, event.messages, event.has_older,
                                          has_newer=event.has_newer, marked=event.marked)
        screen.query_one(Sidebar).show(event.card, event.row.id)  # type: ignore[arg-type]
        banner = screen.query_one("#handoff-banner", Static)
        line = handoff_text(event.handoff, t=self.t, agent_names=self.agent_names, now=self.clock.now())
        if line is not None:
            banner.update(line)
        banner.display = line is not None
        self.show_search(event)

    @on(ConversationRefreshed)
    def _conversation_refreshed(self, event: ConversationRefreshed) -> None:
        screen = self._conversation_screen()
        if screen is None or self.current is None or event.row.id != self.current.id:
            return
        self.current = event.row
        self._render_title()
        screen.query_one(ThreadView).refresh_from(event.row.id, event.messages)
        screen.query_one(Sidebar).show(event.card, event.row.id)  # type: ignore[arg-type]

    @on(ThreadView.NeedOlder)
    def _need_older(self, event: ThreadView.NeedOlder) -> None:
        self.load_older(event.conversation_id, event.before)

    @on(OlderLoaded)
    def _older_loaded(self, event: OlderLoaded) -> None:
        if screen := self._conversation_screen():
            screen.query_one(ThreadView).prepend(event.conversation_id, event.messages, event.has_older)

    @on(SyncChanged)
    def _sync_changed(self, event: SyncChanged) -> None:
        changes: Changes = event.changes  # type: ignore[assignment]
        if changes.agents:
            self.load_identity()
        if changes.conversations or changes.threads or changes.agents:
            self._dirty["board"] = True
            self._dirty["list"] = True
        if self.current is not None and (self.current.id in changes.threads or changes.customers):
            self._dirty["conversation"] = True
        if changes.customers:
            self.run_indexer()  # new or changed customers and orders: into Find's index

    @on(SyncStatusChanged)
    def _sync_status(self, event: SyncStatusChanged) -> None:
        status: SyncStatus = event.status  # type: ignore[assignment]
        for header in self._headers():
            header.show_sync(status, demo=self.demo)

    def _headers(self) -> list[HeaderBar]:
        return [h for screen in self.screen_stack for h in screen.query(HeaderBar)]

    def _sync_headers(self) -> None:
        """A screen pushed later starts with the board header's state."""
        first, *others = self._headers()
        for header in others:
            header.shop, header.agent, header.role = first.shop, first.agent, first.role
            header.copy_sync(first)

    # -- actions ---------------------------------------------------------------------------

    def action_toggle_period(self) -> None:
        self.period = "week" if self.period == "today" else "today"
        if self.period == "week" and (self.week is None or time.monotonic() - self._week_at >= WEEK_EVERY):
            self.load_week()
        self._show_kpi()

    def action_cycle_agent(self) -> None:
        choices: list[str | None] = [None, "unassigned", *(a.id for a in self.agents)]
        index = choices.index(self.agent_filter) if self.agent_filter in choices else 0
        self.agent_filter = choices[(index + 1) % len(choices)]
        self._set_filter()

    def action_cycle_status(self) -> None:
        index = STATUS_CYCLE.index(self.filter.status) if self.filter.status in STATUS_CYCLE else 0
        self._set_filter(status=STATUS_CYCLE[(index + 1) % len(STATUS_CYCLE)])

    def action_cycle_group(self) -> None:
        index = GROUP_CYCLE.index(self.filter.group) if self.filter.group in GROUP_CYCLE else 0
        self._set_filter(group=GROUP_CYCLE[(index + 1) % len(GROUP_CYCLE)])

    def action_toggle_order(self) -> None:
        self._set_filter(descending=not self.filter.descending)

    def action_tab(self, tab: str) -> None:
        """``a`` (everyone) and ``u`` (nobody's yet) from the inbox list's own keys."""
        self.agent_filter = "unassigned" if tab == "unassigned" else None
        self._set_filter()

    def _set_filter(self, **changes) -> None:
        agent = self.agent_filter
        tab, me = ("all", None) if agent is None else ("unassigned", None) if agent == "unassigned" else ("mine", agent)
        self.filter = replace(self.filter, tab=tab, me=me, **changes)
        self._show_filter()
        self.reload_list()

    def action_longest_waiting(self) -> None:
        self.find_longest_waiting()

    def _jump_to(self, row: InboxRow | None) -> None:
        if row is None:
            self.notify(self.t("notify.nobody_waiting"))
            return
        self.agent_filter = None
        self.filter = InboxFilter(tab="all", status="open", descending=False)
        self._show_filter()
        self.reload_list(keep=row.id, open_kept=True)

    def step_conversation(self, delta: int) -> None:
        lst = self.board_screen.query_one(InboxList)
        lst.move(delta)
        if lst.highlighted is not None and (self.current is None or lst.highlighted.id != self.current.id):
            self._open(lst.highlighted)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.t, read_only=True, specs=self.action_specs, keymap=self.keymap))

    # -- drawing -----------------------------------------------------------------------------

    def _show_filter(self) -> None:
        t, f = self.t, self.filter
        if self.agent_filter is None:
            agent = t("board.everyone")
        elif self.agent_filter == "unassigned":
            agent = t("inbox.unassigned")
        else:
            agent = one_line(self.agent_names.get(self.agent_filter, self.agent_filter), limit=30)
        status = t(f"status.{f.status}") if f.status else t("status.any")
        group = f.group or t("group.any")
        order = t("board.order.shortest" if f.descending else "board.order.longest")
        self.board_screen.query_one("#board-filter", Static).update(Text(
            f" {t('inbox.filter')}: {status} (s) · {t('inbox.group')}: {group} (g)\n"
            f" {t('board.agent')}: {agent} (c) · {t('board.order')}: {order} (o)", style="grey66"))

    def _render_title(self) -> None:
        screen = self._conversation_screen()
        if screen is None or self.current is None:
            return
        screen.query_one("#thread-title", Static).update(title_text(
            self.current, t=self.t, agent_names=self.agent_names, now=self.clock.now(), timers=self.settings.timers))
