"""The agent workstation.

Layout: header · [inbox | thread + composer | customer sidebar] · footer.
Rules kept here: widgets render state and post messages; every cache read or write
runs in a thread worker that posts its result back; handlers (``@on``) own the state.
Keys are handled in arrival order, each by the widget that has the focus once the keys
before it have had their effect (:mod:`agentdesk.ui.key_order`). The agent's writes
(drafts, replies, status changes) are queued in the order they were made
(:meth:`write_in_order`), so a delivered reply never comes back as a draft.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date
from functools import partial

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static, Tab, Tabs
from textual.worker import Worker, WorkerState

from agentdesk.clock import Clock
from agentdesk.config import Settings
from agentdesk.i18n import Catalog
from agentdesk.models import Agent, CustomerCard, InboxRow
from agentdesk.quickreply import loader
from agentdesk.quickreply.search import Context, ReplyIndex
from agentdesk.quickreply.variables import context_values, fill
from agentdesk.safetext import one_line
from agentdesk.store import CacheError, Store, customers, inbox, outbox, quickreplies, thread, writes
from agentdesk.workflow import sla
from agentdesk.store.inbox import TABS, InboxFilter
from agentdesk.sync.engine import Changes, SyncEngine, SyncStatus
from agentdesk.ui import actions, keymap
from agentdesk.ui.commands import ActionCommands
from agentdesk.ui.key_order import KeyOrder
from agentdesk.ui.messages import (
    CardLoaded,
    ConversationLoaded,
    DraftRestored,
    InboxLoaded,
    InboxPage,
    MessageStored,
    OlderLoaded,
    RepliesLoaded,
    SendFailed,
    SyncChanged,
    SyncStatusChanged,
    TabCounts,
    ThreadRefreshed,
)
from agentdesk.ui.screens.help import HelpScreen
from agentdesk.ui.screens.reply_picker import Picked, ReplyPicker, styled
from agentdesk.ui.widgets.composer import Composer
from agentdesk.ui.widgets.header import HeaderBar
from agentdesk.ui.widgets.inbox_list import InboxList
from agentdesk.ui.widgets.sidebar import Sidebar
from agentdesk.ui.widgets.followup_list import FollowupList
from agentdesk.ui.widgets.thread_title import handoff_text, title_text
from agentdesk.ui.widgets.thread_view import ThreadView
from agentdesk.ui.cache_readers import PAGE, STATUS_CYCLE, THREAD_PAGE, CacheReaders
from agentdesk.ui.find_host import FindHost
from agentdesk.ui.widgets.thread_search import ThreadSearchBar
from agentdesk.ui.sync_host import SyncHost
from agentdesk.ui.terminal_guard import TerminalGuard
from agentdesk.ui.textual_internals import read_alt_keys
from agentdesk.ui.workflows import WorkflowMixin

#: Replies sent this session, kept until the shop takes them (a refused one comes back).
ASIDE = 50


class AgentDeskApp(TerminalGuard, KeyOrder, FindHost, WorkflowMixin, SyncHost, CacheReaders, App[int]):
    CSS_PATH = "agentdesk.tcss"
    TITLE = "agentdesk"
    BINDINGS = actions.bindings("app")
    #: Under 120 columns the inbox and the card narrow (agentdesk.tcss): at their full
    #: widths an 80-column terminal left the thread and its composer no column at all.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    COMMANDS = App.COMMANDS | {ActionCommands}
    #: Their answer opens a conversation: keys typed meanwhile wait for its composer.
    FOCUS_WORKER_GROUPS = frozenset({"longest", "followup-open", "write-then-open"})

    def __init__(
        self,
        *,
        store: Store,
        settings: Settings,
        demo: bool = False,
        clock: Clock | None = None,
        read_only: bool = False,
        sync: SyncEngine | None = None,
        background_rules: bool = True,
    ) -> None:
        super().__init__()
        #: Alerts, auto-greetings and due follow-ups on a timer (tests step them by hand).
        self.background_rules = background_rules
        self.sync = sync
        self.store = store
        self.settings = settings
        self.demo = demo
        self.clock = clock or Clock()
        self.read_only = read_only
        self.t = Catalog(settings.language)
        self.filter = InboxFilter(tab="mine", status="open")
        self.me: str | None = None
        self.me_name = ""
        self.agent_names: dict[str, str] = {}
        self.current: InboxRow | None = None
        self.card: CustomerCard | None = None
        self.shop_name = ""
        self.replies: ReplyIndex | None = None
        #: Reply-file problems already told: the library reloads with every change to the
        #: shop's layer, and a bad file is news once, not every ten minutes.
        self.reply_problems_told: set[str] = set()
        self.started = time.perf_counter()
        self.first_paint_ms: float | None = None
        #: client id -> (conversation id, text) of replies sent and maybe refused later.
        self.sent_aside: dict[str, tuple[str, str]] = {}
        #: ``[keys]`` of the config, checked (a bad one raises ConfigError).
        self.keymap = keymap.checked(settings)
        read_alt_keys()
        actions.localize(self._bindings, self.t)
        self.init_workflows()

    # -- layout --------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        now = self.clock.now
        t = self.t
        yield HeaderBar(now=now, t=t, id="header")
        with Horizontal(id="main"):
            with Vertical(id="inbox-pane"):
                yield Tabs(
                    Tab(t("tab.mine"), id="tab-mine"),
                    Tab(t("tab.unassigned"), id="tab-unassigned"),
                    Tab(t("tab.all"), id="tab-all"),
                    Tab(t("tab.followups"), id="tab-followups"),
                    id="inbox-tabs",
                )
                yield Static(id="inbox-filter")
                yield InboxList(now=now, timers=self.settings.timers, t=t, id="inbox")
                yield FollowupList(now=now, t=t, id="followups")
                yield Static(t("followups.hint"), id="followups-hint")
            with Vertical(id="thread-pane"):
                yield Static(id="thread-title")
                yield Static(id="handoff-banner")
                yield ThreadView(now=now, t=t, id="thread")
                yield ThreadSearchBar(t=t, id="thread-search")
                yield Static(id="suggestions")
                yield Composer(t=t, keymap=self.keymap, id="composer")
            yield Sidebar(now=now, t=t, id="sidebar")
        yield Static(id="myday")
        yield Footer()

    def on_mount(self) -> None:
        self.set_keymap(self.keymap)
        self.query_one("#inbox-tabs", Tabs).can_focus = False
        self.query_one("#sidebar").border_title = Text(self.t("sidebar.title"))
        self.query_one(InboxList).focus()
        self.query_one(Composer).disabled = True
        self._show_filter()
        self._render_thread_title()
        self.load_identity()
        self.query_one("#suggestions").display = False
        self.query_one(FollowupList).display = False
        self.query_one("#followups-hint").display = False
        self.query_one("#handoff-banner").display = False
        self.start_workflows()
        if not self.read_only:
            self.load_replies()
        self.set_interval(1.0, self._tick)
        self._inbox_dirty = False
        self._triage_dirty = False
        self._thread_reads = 0  # generations of thread re-reads asked for …
        self._thread_shown = 0  # … and the newest one applied
        self.set_interval(0.3, self._flush_inbox_refresh)
        self.start_sync()

    def get_key_display(self, binding: Binding) -> str:
        """Keys read the same in the footer as in help ("Ctrl+T", not "^t"), remapped too."""
        return binding.key_display or actions.key_label(binding.key)

    async def action_quit(self) -> None:
        """Keep what is typed but not yet saved: queued behind every earlier write, and
        committed before the cache closes (Store.close)."""
        pending = self.query_one(Composer).take_pending_draft() if self._main_screen_up() else None
        if pending is not None and not self.read_only:
            self.store.queue(writes.save_draft, *pending, self.clock.now())
        self.exit()

    def _tick(self) -> None:
        """Wait timers are computed at draw time; redraw the lines that show them."""
        if not self._main_screen_up():  # a worker's answer can land while the app shuts down
            return
        self.query_one(InboxList).refresh()
        self._render_thread_title()

    # -- workers: reading ------------------------------------------------------------

    def _identity_loaded(self, everyone: list[Agent], me: str, shop: str) -> None:
        if not self._main_screen_up():  # a worker's answer can land while the app shuts down
            return
        self.agents = everyone
        names = {a.id: a.name for a in everyone}
        self.agent_names = names
        self.me = me or None
        self.me_name = names.get(me, me or self.settings.agent.name)
        header = self.query_one(HeaderBar)
        header.shop = shop
        self.shop_name = shop or ""
        header.agent = self.me_name
        header.away = any(a.id == me and a.status == "away" for a in everyone)
        if self.sync is None:
            header.connection = "demo" if self.demo else "offline"
        self.query_one(InboxList).agent_names = names
        self.filter = self.inbox_filter()
        self.reload_inbox()
        self.load_my_day()
        if not self.read_only and self.me:
            self.run_triage()
        if not self.read_only:
            self.load_name_keys()

    @work(thread=True, exclusive=True, group="inbox", exit_on_error=False)
    def reload_inbox(
        self, keep: str | None = None, anchor: tuple | None = None, open_kept: bool = False
    ) -> None:
        """Read the page at ``anchor`` (inclusive) or the first page, plus tab counts."""
        f = self.filter

        def read(conn):
            if anchor is not None:
                before = inbox.page_before(conn, f, anchor, limit=1)
                if before:
                    rows = inbox.page_after(conn, f, before[0].key, limit=PAGE + 1)
                else:
                    rows = inbox.first_page(conn, f, limit=PAGE + 1)
                more_before = bool(before)
            else:
                rows = inbox.first_page(conn, f, limit=PAGE + 1)
                more_before = False
            return rows, more_before

        rows, more_before = self.store.read(read)
        more_after = len(rows) > PAGE
        self.post_message(InboxLoaded(f, rows[:PAGE], more_before, more_after, None, keep, open_kept))
        # Tab counts cost a range count each (tens of ms at 100k): after the rows are shown.
        counts = self.store.read(
            lambda conn: {tab: inbox.count(conn, replace(f, tab=tab)) for tab in TABS}
        )
        self.post_message(TabCounts(f, counts))

    @work(thread=True, exclusive=True, group="conversation", exit_on_error=False)
    def load_conversation(self, row: InboxRow, marked: int | None = None, terms: tuple[str, ...] = (),
                          query: str = "") -> None:
        """The thread (at its newest message, or opened at ``marked`` with the matches of
        ``query`` in it), the draft, the customer card."""
        def read(conn):
            window = self.read_thread_at(conn, row.id, marked, query)
            return window, customers.card(conn, row.customer_id)

        # The draft as the agent left it: after the draft saves still queued for it.
        pending_draft = self.store.queue_read(writes.get_draft, row.id)
        (msgs, has_older, has_newer, at, matches), card = self.store.read(read)
        draft = pending_draft.result()
        handoff = self.store.read(thread.latest_handoff, row.id)
        if row.unread and not self.read_only:
            self.store.write(writes.mark_read, row.id)
        self.post_message(ConversationLoaded(row, msgs, has_older, draft, card, handoff, marked=at,
                                             has_newer=has_newer, terms=terms, matches=matches, query=query))

    @work(thread=True, exclusive=True, group="longest", exit_on_error=False)
    def find_longest_waiting(self) -> None:
        f = self.inbox_filter(status="open")
        row = self.store.read(inbox.longest_waiting, f)
        if row is None and f.tab != "all":  # nobody waits in this tab: look everywhere
            row = self.store.read(inbox.longest_waiting, InboxFilter(tab="all", status="open", me=self.me))
        self.call_from_thread(self._jump_to, row)

    @work(thread=True, exclusive=True, group="integrity", exit_on_error=False)
    def check_cache(self) -> None:
        """The full page check, after the inbox is on screen (it reads the whole file)."""
        try:
            self.store.check_integrity()
        except CacheError as exc:
            self.call_from_thread(self.notify, str(exc), severity="error", timeout=60, markup=False)

    @work(thread=True, exclusive=True, group="replies", exit_on_error=False)
    def load_replies(self) -> None:
        """The merged reply library with its pinyin keys from the cache (computed only
        for text never seen before)."""
        opened = loader.open_library(self.store, now=self.clock.now())
        self.post_message(RepliesLoaded(opened.index, [str(p) for p in opened.library.problems]))

    # -- workers: writing ------------------------------------------------------------

    @work(thread=True, group="write", exit_on_error=False)
    def record_reply_use(self, reply_id: str) -> None:
        self.store.write(quickreplies.record_use, reply_id, self.clock.now())

    def write_in_order(self, fn, *args, then=None, failed=None, opens=False, **kwargs) -> None:
        """Queue ``fn(conn, …)`` behind every write queued before it (Store.queue): the
        agent's drafts, replies and status changes are committed in the order made.
        Once it is committed, ``then(result)`` runs in a worker thread (``failed(exc)``
        instead if it raised; without ``failed`` the error is shown). ``opens``: ``then``
        opens another conversation, so keys typed meanwhile wait for it."""
        future = self.store.queue(fn, *args, **kwargs)
        self.run_worker(partial(self._await_write, future, then, failed), thread=True,
                        group="write-then-open" if opens else "write", exit_on_error=False)

    def _await_write(self, future, then, failed) -> None:
        try:
            result = future.result()
        except Exception as exc:
            if failed is None:
                raise
            failed(exc)
            return
        if then is not None:
            then(result)

    def save_draft(self, conversation_id: str, text: str) -> None:
        self.write_in_order(writes.save_draft, conversation_id, text, self.clock.now())

    def store_reply(self, conversation_id: str, text: str, after: tuple | None, kind: str = "reply") -> None:
        """Queue the reply in the outbox (shown at once as pending); the sync engine
        delivers it, now or whenever the shop is reachable again. It is set aside until
        then: a refused reply comes back into the composer (see _draft_restored)."""
        client_id = outbox.new_id()
        self.sent_aside[client_id] = (conversation_id, text)
        while len(self.sent_aside) > ASIDE:
            self.sent_aside.pop(next(iter(self.sent_aside)))

        def stored(_) -> None:
            self._kick()
            fresh = self.store.read(thread.newer, conversation_id, after or (0.0, 0))
            self.post_message(MessageStored(conversation_id, fresh))

        def failed(exc: Exception) -> None:  # keep what the agent typed
            self.post_message(SendFailed(conversation_id, text, str(exc)))

        self.write_in_order(outbox.send_message, conversation_id, text, self.clock.now(), agent_id=self.me,
                            kind=kind, client_id=client_id, then=stored, failed=failed)

    def retry_failed(self, conversation_id: str) -> None:
        def write(conn):
            ids = [r[0] for r in conn.execute(
                "SELECT client_id FROM messages WHERE conversation_id = ? AND state = 'failed'", [conversation_id])]
            return sum(outbox.retry(conn, i, self.clock.now()) for i in ids)

        def retried(n: int) -> None:
            if n:
                self._kick()
            self.call_from_thread(
                self.notify, self.t("notify.retrying", n=n) if n else self.t("notify.nothing_to_retry")
            )
            self.refresh_thread(conversation_id, None)

        self.write_in_order(write, then=retried)

    def refresh_thread(self, conversation_id: str, first: tuple | None) -> None:
        self._thread_reads += 1
        self._read_thread(conversation_id, first, self._thread_reads)

    @work(thread=True, group="thread-refresh", exit_on_error=False)
    def _read_thread(self, conversation_id: str, first: tuple | None, generation: int) -> None:
        msgs = self.store.read(thread.since, conversation_id, first, THREAD_PAGE)
        self.post_message(ThreadRefreshed(conversation_id, msgs, generation))

    @work(thread=True, group="card", exit_on_error=False)
    def reload_card(self, conversation_id: str, customer_id: str) -> None:
        self.post_message(CardLoaded(conversation_id, self.store.read(customers.card, customer_id)))

    @work(thread=True, group="draft", exit_on_error=False)
    def reload_draft(self, conversation_id: str) -> None:
        """After a refusal: the draft (the shop's refusal put the reply back there) and
        the replies set aside for this conversation that are no longer in its thread."""
        aside = {cid: text for cid, (conv, text) in self.sent_aside.items() if conv == conversation_id}
        draft = self.store.queue_read(writes.get_draft, conversation_id).result()
        gone = self.store.read(outbox.withdrawn, list(aside))
        self.post_message(DraftRestored(conversation_id, draft, [aside[cid] for cid in gone]))

    # -- handlers: state ---------------------------------------------------------------

    @on(InboxLoaded)
    def _inbox_loaded(self, event: InboxLoaded) -> None:
        if not self._main_screen_up():  # a worker's answer can land while the app shuts down
            return
        if event.filter != self.filter:
            return  # a stale answer for a filter the agent already left
        lst = self.query_one(InboxList)
        lst.set_rows(event.rows, more_before=event.more_before, more_after=event.more_after, keep=event.keep)
        if self.current is not None:  # keep the open conversation's header current
            self.current = next((r for r in event.rows if r.id == self.current.id), self.current)
            self._render_thread_title()
        if self.first_paint_ms is None:
            self.first_paint_ms = (time.perf_counter() - self.started) * 1000
            self.log(f"inbox first paint after {self.first_paint_ms:.1f} ms")
            self.check_cache()
            self.run_indexer()
        if event.open_kept and lst.highlighted and lst.highlighted.id == event.keep:
            self._open(lst.highlighted)

    @on(TabCounts)
    def _tab_counts(self, event: TabCounts) -> None:
        if not self._main_screen_up():  # a worker's answer can land while the app shuts down
            return
        if event.filter == self.filter:
            for tab in TABS:
                self.query_one(f"#tab-{tab}", Tab).label = Text(f"{self.t('tab.' + tab)} {event.counts[tab]}")

    @on(InboxPage)
    def _inbox_page(self, event: InboxPage) -> None:
        if not self._main_screen_up():  # a worker's answer can land while the app shuts down
            return
        if event.filter == self.filter:
            self.query_one(InboxList).add_rows(event.direction, event.rows, event.more)

    @on(InboxList.NeedRows)
    def _need_rows(self, event: InboxList.NeedRows) -> None:
        self.load_list_page(self.filter, event.direction, event.key)

    @on(InboxList.Opened)
    def _opened(self, event: InboxList.Opened) -> None:
        self._open(event.row)

    def _open(self, row: InboxRow, focus_composer: bool = True, *, marked: int | None = None,
              terms: tuple[str, ...] = (), query: str = "") -> None:
        composer = self.query_one(Composer)
        composer.flush_draft()
        self.current = row
        self.card = None
        self.query_one("#handoff-banner").display = False
        self._update_suggestions()
        self.query_one(InboxList).opened_id = row.id
        self.query_one(InboxList).refresh()
        self._render_thread_title()
        self.load_conversation(row, marked, terms, query)
        if not self.read_only:
            composer.disabled = False
            composer.begin(row.id)
            if focus_composer:
                composer.focus()

    @on(ConversationLoaded)
    def _conversation_loaded(self, event: ConversationLoaded) -> None:
        if not self._main_screen_up():  # a worker's answer can land while the app shuts down
            return
        if self.current is None or event.row.id != self.current.id:
            return
        self.query_one(ThreadView).show(event.row.id, event.row.customer_name, event.messages, event.has_older,
                                        has_newer=event.has_newer, marked=event.marked)
        self.query_one(Composer).load_draft(event.row.id, event.draft)
        self.query_one(Sidebar).show(event.card, event.row.id)
        self.card = event.card
        self._show_handoff(event.handoff)
        self._update_suggestions()
        self.show_search(event)
        if event.row.unread:
            self._refresh_inbox()

    @on(ThreadView.NeedOlder)
    def _need_older(self, event: ThreadView.NeedOlder) -> None:
        self.load_older(event.conversation_id, event.before)

    @on(OlderLoaded)
    def _older_loaded(self, event: OlderLoaded) -> None:
        self.query_one(ThreadView).prepend(event.conversation_id, event.messages, event.has_older)

    @on(Composer.DraftChanged)
    def _draft_changed(self, event: Composer.DraftChanged) -> None:
        if not self.read_only:
            self.save_draft(event.conversation_id, event.text)

    @on(Composer.Submitted)
    def _submitted(self, event: Composer.Submitted) -> None:
        view = self.query_one(ThreadView)
        last = view.messages[-1].key if view.conversation_id == event.conversation_id and view.messages else None
        self.store_reply(event.conversation_id, event.text.strip(), last, event.kind)

    @on(MessageStored)
    def _message_stored(self, event: MessageStored) -> None:
        if not self._main_screen_up():  # a worker's answer can land while the app shuts down
            return
        view = self.query_one(ThreadView)
        if view.has_newer and view.conversation_id == event.conversation_id and self.current is not None:
            self.load_conversation(self.current)  # reading old history: go to the newest, with the reply
            self._refresh_inbox()
            return
        view.append(event.conversation_id, event.messages)  # shown at once …
        if view.conversation_id == event.conversation_id and view.messages:
            # … and re-read after everything before it: the sync may already have
            # sent it, or withdrawn it (409), while this answer was on its way.
            self.refresh_thread(event.conversation_id, view.messages[0].key)
        self._refresh_inbox()

    @on(SendFailed)
    def _send_failed(self, event: SendFailed) -> None:
        composer = self.query_one(Composer)
        if composer.conversation_id == event.conversation_id:
            composer.put_back(event.text)
        self.notify(self.t("notify.error", e=event.error), severity="error")

    # -- sync ---------------------------------------------------------------------------

    @on(SyncChanged)
    def _sync_changed(self, event: SyncChanged) -> None:
        if not self._main_screen_up():
            return
        changes: Changes = event.changes  # type: ignore[assignment]
        if changes.agents:
            self.load_identity()
        if changes.quick_replies and not self.read_only:
            self.load_replies()
        if changes.conversations:
            self._inbox_dirty = True  # coalesced: at most one inbox re-read per 0.3 s
        if changes.threads and not self.read_only and self.me:
            self._triage_dirty = True  # coalesced like the inbox: one pass per 0.3 s
        if changes.followups:
            self.load_followups()
        if changes.customers:
            self.run_indexer()  # new or changed customers and orders: into Find's index
        current = self.current
        if current is not None:
            if current.id in changes.threads:
                view = self.query_one(ThreadView)
                first = view.messages[0].key if view.conversation_id == current.id and view.messages else None
                self.refresh_thread(current.id, first)
            if current.customer_id in changes.customers:
                self.reload_card(current.id, current.customer_id)
        for conversation_id, name in changes.conflicts:
            self.notify(self.t("notify.conflict", name=name), severity="warning", timeout=10)
            if current is not None and conversation_id == current.id:
                self.reload_draft(conversation_id)
        for failure in changes.failures[:3]:
            self.notify(failure, severity="error", timeout=8)
        if changes.skipped:
            self.notify(self.t("notify.skipped", n=changes.skipped), severity="warning", timeout=8)

    def _flush_inbox_refresh(self) -> None:
        if self._triage_dirty and self._main_screen_up():
            self._triage_dirty = False
            self.run_triage()
        if self._inbox_dirty and self._main_screen_up():
            self._inbox_dirty = False
            self._refresh_inbox()

    # -- Find's hooks (see FindHost) ------------------------------------------------------

    def thread_view(self) -> ThreadView | None:
        return self.screen_stack[0].query_one(ThreadView) if self._main_screen_up() else None

    def thread_search_bar(self) -> ThreadSearchBar | None:
        return self.screen_stack[0].query_one(ThreadSearchBar) if self._main_screen_up() else None

    def open_found(self, row: InboxRow, marked: int | None, terms: tuple[str, ...], query: str) -> None:
        """A Find result: the conversation, at the message (the thread has focus to read
        it, the composer is ready), or a customer's conversation with the composer focused."""
        if self._main_screen_up():
            self._open(row, focus_composer=marked is None, marked=marked, terms=terms, query=query)

    def _main_screen_up(self) -> bool:
        """Sync news can arrive while the app shuts down: only act while the panes exist."""
        return bool(self.screen_stack) and bool(self.screen_stack[0].query(InboxList))

    @on(SyncStatusChanged)
    def _sync_status(self, event: SyncStatusChanged) -> None:
        if not self._main_screen_up():
            return
        status: SyncStatus = event.status  # type: ignore[assignment]
        self.query_one(HeaderBar).show_sync(status, demo=self.demo)

    @on(ThreadRefreshed)
    def _thread_refreshed(self, event: ThreadRefreshed) -> None:
        # Reads run in parallel threads and may finish out of order: a read asked for
        # before the newest one shown (or before a reply was appended) is stale.
        if event.generation <= self._thread_shown:
            return
        self._thread_shown = event.generation
        self.query_one(ThreadView).refresh_from(event.conversation_id, event.messages)
        self._update_suggestions()

    @on(CardLoaded)
    def _card_loaded(self, event: CardLoaded) -> None:
        if not self._main_screen_up():  # a worker's answer can land while the app shuts down
            return
        if self.current is not None and self.current.id == event.conversation_id:
            self.query_one(Sidebar).show(event.card, event.conversation_id)
            self.card = event.card
            self._update_suggestions()

    # -- quick replies ------------------------------------------------------------------

    @on(RepliesLoaded)
    def _replies_loaded(self, event: RepliesLoaded) -> None:
        self.replies = event.index  # type: ignore[assignment]
        news = [p for p in event.problems if p not in self.reply_problems_told]
        self.reply_problems_told.update(news)
        for problem in news[:3]:  # file names and values from the file: never markup
            self.notify(self.t("notify.reply_problem", problem=problem), severity="warning", timeout=12, markup=False)
        if len(news) > 3:
            self.notify(self.t("notify.reply_problems_more", n=len(news) - 3), severity="warning", timeout=12)
        self._update_suggestions()

    def _reply_context(self) -> Context:
        view = self.query_one(ThreadView)
        last = ""
        if self.current is not None and view.conversation_id == self.current.id:
            last = next((m.body for m in reversed(view.messages) if m.sender == "customer"), "")
        return Context(group=self.current.group if self.current else "", last_message=last)

    def _reply_values(self) -> tuple[list[dict[str, str | None]], list[str]]:
        """Variable values for each of the customer's orders (latest first), and the ids."""
        card = self.card
        customer = {"name": card.customer.name, "vip_level": card.customer.vip_level} if card else None
        if customer is None and self.current is not None:
            customer = {"name": self.current.customer_name, "vip_level": self.current.vip_level}
        orders = list(card.orders) if card else []
        today = date.fromtimestamp(self.clock.now())
        base = dict(customer=customer, agent_name=self.me_name, shop_name=self.shop_name, today=today)
        if not orders:
            return [context_values(**base)], []
        values = [
            context_values(**base, order={"id": o.id, "status": o.status, "carrier": o.carrier, "tracking_no": o.tracking_no})
            for o in orders
        ]
        return values, [o.id for o in orders]

    def _update_suggestions(self) -> None:
        bar = self.query_one("#suggestions", Static)
        composer = self.query_one(Composer)
        context = self._reply_context()
        row = self.current
        now = self.clock.now()
        apology = bool(row and row.waiting_since is not None and not self.read_only
                       and sla.needs_apology(row.waiting_since, now, self.settings.timers))
        composer.offer_apology(self.settings.replies.apology if apology else "")
        if self.replies is None or row is None or not context.last_message or self.read_only:
            composer.suggestions = []
            bar.display = False
            return
        hits = self.replies.suggest(context.last_message, limit=3, context=context)
        values = self._reply_values()[0][0]
        composer.suggestions = [(h.reply.id, fill(h.reply.body, values).text) for h in hits]
        line = Text(self.t("suggest.label") + " ", style="bold")
        for n, h in enumerate(hits, 1):
            line.append(f" Alt+{n} ", style="reverse")
            line.append_text(styled([(one_line(h.reply.title, limit=40), "text")]))
            line.append("  ")
        bar.update(line)
        bar.display = bool(hits)

    @on(Composer.PickerRequested)
    def _picker_requested(self, event: Composer.PickerRequested) -> None:
        self.action_open_picker()

    def action_open_picker(self) -> None:
        if self.read_only or self.current is None:
            return
        if self.replies is None:
            self.notify(self.t("notify.loading"), timeout=3)
            return
        values, orders = self._reply_values()
        composer = self.query_one(Composer)
        composer.focus()

        def done(picked: Picked | None) -> None:
            if picked is None or composer.conversation_id is None:
                return
            composer.insert_reply(picked.reply_id, picked.text)
            if picked.send:
                composer.action_send()

        self.push_screen(
            ReplyPicker(self.replies, t=self.t, context=self._reply_context(), values=values, orders=orders), done
        )

    @on(Composer.ReplyUsed)
    def _reply_used(self, event: Composer.ReplyUsed) -> None:
        if self.replies is not None:  # ranks at once; the cache keeps it for next time
            self.replies.usage[event.reply_id] = self.replies.usage.get(event.reply_id, 0.0) + 1.0
        self.record_reply_use(event.reply_id)

    @on(DraftRestored)
    def _draft_restored(self, event: DraftRestored) -> None:
        """A refused reply came back: the composer shows it (anything typed since follows).
        The cached draft has it unless a draft saved since overwrote it; the replies set
        aside cover that."""
        for text in event.withdrawn:
            for cid, (conv, kept) in list(self.sent_aside.items()):
                if conv == event.conversation_id and kept == text:
                    del self.sent_aside[cid]
        back = event.draft
        for text in event.withdrawn:
            if text not in back:
                back = text + ("\n" + back if back.strip() else "")
        composer = self.query_one(Composer)
        if composer.conversation_id != event.conversation_id or not back:
            return
        composer.put_back(back)

    def action_retry_failed(self) -> None:
        if self.current is not None and not self.read_only:
            self.retry_failed(self.current.id)

    @on(Tabs.TabActivated)
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        tab = (event.tab.id or "tab-mine").removeprefix("tab-")
        showing_followups = tab == "followups"
        self.query_one(InboxList).display = not showing_followups
        self.query_one("#inbox-filter").display = not showing_followups
        self.query_one(FollowupList).display = showing_followups
        self.query_one("#followups-hint").display = showing_followups
        if showing_followups:
            self.query_one(FollowupList).focus()
            self.load_followups()
            return
        if self.focused is self.query_one(FollowupList):
            self.query_one(InboxList).focus()
        if tab != self.filter.tab:
            self.filter = self.inbox_filter(tab=tab)
            self.reload_inbox()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.notify(self.t("notify.error", e=event.worker.error), severity="error", timeout=8)

    def _refresh_inbox(self) -> None:
        """Re-read the visible window in place (keeping cursor and scroll)."""
        lst = self.query_one(InboxList)
        # At the very top, stay at the top: rows that now sort first (a customer who
        # just started waiting, a fresh sync) must appear, not hide above the anchor.
        at_top = lst.top == 0 and not lst.more_before
        anchor = lst.rows[lst.top].key if lst.rows and not at_top else None
        keep = lst.highlighted.id if lst.highlighted else None
        self.reload_inbox(keep=keep, anchor=anchor)

    # -- actions -------------------------------------------------------------------------

    def action_tab(self, tab: str) -> None:
        self.query_one("#inbox-tabs", Tabs).active = f"tab-{tab}"

    def action_cycle_status(self) -> None:
        index = STATUS_CYCLE.index(self.filter.status)
        status = STATUS_CYCLE[(index + 1) % len(STATUS_CYCLE)]
        self.filter = self.inbox_filter(status=status)
        self._show_filter()
        self.reload_inbox()

    def action_next_conversation(self) -> None:
        self._step(1)

    def action_prev_conversation(self) -> None:
        self._step(-1)

    def _step(self, delta: int) -> None:
        lst = self.query_one(InboxList)
        if self.current is not None and lst.highlighted and lst.highlighted.id == self.current.id:
            lst.move(delta)
        elif self.current is None:
            lst.move(0)
        if lst.highlighted:
            self._open(lst.highlighted, focus_composer=self.focused is not lst)

    def action_longest_waiting(self) -> None:
        self.find_longest_waiting()

    def _jump_to(self, row: InboxRow | None) -> None:
        if row is None:
            self.notify(self.t("notify.nobody_waiting"))
            return
        tab = self.filter.tab
        if row.assignee_id != self.me and tab == "mine":
            tab = "all" if row.assignee_id else "unassigned"
        if tab != self.filter.tab:
            self.query_one("#inbox-tabs", Tabs).active = f"tab-{tab}"
        self.filter = self.inbox_filter(tab=tab, status="open")
        self._show_filter()
        # Opened now, not when the list has been re-read: keys typed after Alt+W wait
        # for this (FOCUS_WORKER_GROUPS) and belong in this customer's composer.
        self._open(row)
        self.reload_inbox(keep=row.id)

    def action_focus_inbox(self) -> None:
        if self.query_one(FollowupList).display:
            self.query_one(FollowupList).focus()
        else:
            self.query_one(InboxList).focus()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.t, read_only=self.read_only, keymap=self.keymap))

    # -- drawing helpers -------------------------------------------------------------------

    def _show_filter(self) -> None:
        status = self.filter.status
        label = self.t(f"status.{status}") if status else self.t("status.any")
        group = one_line(self.group_label(), limit=40)  # the shop names the agent's groups
        self.query_one("#inbox-filter", Static).update(
            Text(f" {self.t('inbox.filter')}: {label} (s) · {self.t('inbox.group')}: {group} (g)"))

    def _render_thread_title(self) -> None:
        title = self.query_one("#thread-title", Static)
        row = self.current
        if row is None:
            title.update("")
            return
        text = title_text(row, t=self.t, agent_names=self.agent_names, now=self.clock.now(),
                          timers=self.settings.timers)
        title.update(text)

    def _show_handoff(self, handoff) -> None:
        """The newest transfer line as a banner over the thread: who handed the customer
        over, when, and their note, so nobody asks the customer to repeat themselves."""
        banner = self.query_one("#handoff-banner", Static)
        line = handoff_text(handoff, t=self.t, agent_names=self.agent_names, now=self.clock.now())
        if line is not None:
            banner.update(line)
        banner.display = line is not None

