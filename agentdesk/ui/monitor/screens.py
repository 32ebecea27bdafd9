"""The monitor's two screens: the board, and one conversation read-only.

Screens compose and draw; the app's workers read the cache and hand them the figures.
Neither has a composer or any control that could change a conversation.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from agentdesk.config import Settings
from agentdesk.i18n import Catalog
from agentdesk.ui import actions
from agentdesk.ui.monitor.actions import CONVERSATION
from agentdesk.ui.monitor.panels import AgentsPanel, KpiPanel, QueuesPanel
from agentdesk.ui.monitor.traffic_chart import TrafficChart
from agentdesk.ui.widgets.header import HeaderBar
from agentdesk.ui.widgets.inbox_list import InboxList
from agentdesk.ui.widgets.sidebar import Sidebar
from agentdesk.ui.widgets.thread_search import ThreadSearchBar
from agentdesk.ui.widgets.thread_view import ThreadView


class BoardScreen(Screen):
    """Header · [every conversation | agents + queues / KPIs / traffic] · footer."""

    def __init__(self, *, now, t: Catalog, settings: Settings) -> None:
        super().__init__(id="board")
        self._now = now
        self._t = t
        self._settings = settings

    def compose(self) -> ComposeResult:
        now, t, timers = self._now, self._t, self._settings.timers
        yield HeaderBar(now=now, t=t, id="header")
        with Horizontal(id="board-main"):
            with Vertical(id="board-list-pane"):
                yield Static(id="board-list-title")
                yield Static(id="board-filter")
                yield InboxList(now=now, timers=timers, t=t, show_assignee=True, id="board-list")
            with Vertical(id="board-right"):
                with Horizontal(id="board-top"):
                    with Vertical(id="agents-box", classes="box"):
                        yield AgentsPanel(now=now, t=t, timers=timers, id="agents")
                    with Vertical(id="queues-box", classes="box"):
                        yield QueuesPanel(now=now, t=t, timers=timers, id="queues")
                with Vertical(id="kpi-box", classes="box"):
                    yield KpiPanel(now=now, t=t, timers=timers, settings=self._settings.kpi, id="kpi")
                    yield Static(id="kpi-targets")
                with Vertical(id="traffic-box", classes="box"):
                    yield TrafficChart(now=now, t=t, id="traffic")
        yield Footer()

    def on_mount(self) -> None:
        t = self._t
        self.query_one("#agents-box").border_title = Text(t("board.agents"))
        self.query_one("#queues-box").border_title = Text(t("board.queues"))
        self.query_one("#traffic-box").border_title = Text(t("traffic.title"))
        self.query_one("#kpi-targets", Static).update(self.query_one(KpiPanel).targets_line())
        self.query_one(InboxList).focus()


class ConversationScreen(Screen):
    """One conversation as its agent sees it – thread, handoff banner, customer card –
    with no composer: the supervisor reads, the agent answers."""

    BINDINGS = [spec.binding() for spec in CONVERSATION]

    def __init__(self, *, now, t: Catalog) -> None:
        super().__init__(id="conversation")
        self._now = now
        self._t = t
        actions.localize(self._bindings, t)

    def compose(self) -> ComposeResult:
        now, t = self._now, self._t
        yield HeaderBar(now=now, t=t, id="conversation-header")
        with Horizontal(id="conversation-main"):
            with Vertical(id="conversation-pane"):
                yield Static(id="thread-title")
                yield Static(id="handoff-banner")
                yield ThreadView(now=now, t=t, id="thread")
                yield ThreadSearchBar(t=t, id="thread-search")
                yield Static(t("monitor.read_only_hint"), id="read-only-hint")
            yield Sidebar(now=now, t=t, id="sidebar")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#sidebar").border_title = Text(self._t("sidebar.title"))
        self.query_one("#handoff-banner").display = False
        self.query_one(ThreadView).focus()
        self.app.conversation_screen_ready()  # type: ignore[attr-defined]

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_next_conversation(self) -> None:
        self.app.step_conversation(1)  # type: ignore[attr-defined]

    def action_prev_conversation(self) -> None:
        self.app.step_conversation(-1)  # type: ignore[attr-defined]
