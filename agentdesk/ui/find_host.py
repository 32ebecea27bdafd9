"""Find for both apps (the workstation and the supervisor's monitor): Ctrl+F, the Find
screen's searches, opening what it found at the matched message, the search inside the
open thread (n / N), and the background indexer.

A mixin like :class:`~agentdesk.ui.cache_readers.CacheReaders`: the app provides
``store``, ``clock``, ``t``, and three hooks – ``thread_view()`` and
``thread_search_bar()`` (the visible ones, or None) and ``open_found(row, marked,
terms, query)`` (open that conversation at that message its own way: the monitor
read-only). Handlers are named ``on_…`` (``@on`` does not register on a mixin).
"""

from __future__ import annotations

from textual import work
from textual.widgets import Input

from agentdesk.find import finder
from agentdesk.find.indexer import Indexer, pending
from agentdesk.find.query import parse
from agentdesk.store import inbox, thread
from agentdesk.textfold import fold_terms
from agentdesk.ui.cache_readers import THREAD_PAGE
from agentdesk.ui.messages import FindAnswered, FindMore, NewerLoaded, ThreadMatches, ThreadWindow
from agentdesk.ui.screens.find import FindScreen, Target
from agentdesk.ui.widgets.thread_search import ThreadSearchBar
from agentdesk.ui.widgets.thread_view import ThreadView

#: Messages shown before the one a thread is opened at.
BEFORE_MARKED = 10


class FindHost:
    # -- Ctrl+F ---------------------------------------------------------------------------

    def action_find(self) -> None:
        """In the thread: search this conversation. In its search bar, or anywhere else:
        Find over everything (the bar's words carried over)."""
        focused = self.focused  # type: ignore[attr-defined]
        bar = self.thread_search_bar()  # type: ignore[attr-defined]
        view = self.thread_view()  # type: ignore[attr-defined]
        if isinstance(focused, ThreadView) and focused.conversation_id and bar is not None:
            bar.open()
            return
        if any(isinstance(s, FindScreen) for s in self.screen_stack):  # type: ignore[attr-defined]
            return
        carried = bar.text if bar is not None and isinstance(focused, Input) and focused.parent is bar else ""
        if view is not None and carried:
            view.focus()
        self.push_screen(  # type: ignore[attr-defined]
            FindScreen(t=self.t, now=self.clock.now, host=self, query=carried), self._find_chosen)  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, group="find", exit_on_error=False)
    def find_search(self, screen: FindScreen, text: str, generation: int) -> None:
        query = parse(text, self.clock.now())  # type: ignore[attr-defined]
        found = self.store.read(finder.find, query)  # type: ignore[attr-defined]
        screen.post_message(FindAnswered(generation, found))

    @work(thread=True, group="find-more", exit_on_error=False)
    def find_more(self, screen: FindScreen, text: str, after: tuple, generation: int) -> None:
        query = parse(text, self.clock.now())  # type: ignore[attr-defined]
        page = self.store.read(finder.messages, query, after=after)  # type: ignore[attr-defined]
        screen.post_message(FindMore(generation, page))

    def _find_chosen(self, target: Target | None) -> None:
        if target is not None:
            self.open_target(target)

    @work(thread=True, exclusive=True, group="find-open", exit_on_error=False)
    def open_target(self, target: Target) -> None:
        """Which conversation and message a result leads to, and its inbox row."""
        row, store = target.row, self.store  # type: ignore[attr-defined]
        item = row.item
        marked: int | None = None
        terms = target.terms
        if row.kind == "message":
            conversation_id, marked = item.conversation_id, item.message_id  # type: ignore[attr-defined]
        elif row.kind == "order":
            conversation_id = item.conversation_id  # type: ignore[attr-defined]
            marked = store.read(finder.order_message, item)
        else:  # a customer: their latest conversation, at its newest message
            conversation_id, terms = item.conversation_id, ()  # type: ignore[attr-defined]
        found = store.read(inbox.get, conversation_id) if conversation_id else None
        if found is None:
            self.call_from_thread(self.notify, self.t("find.no_conversation_open"))  # type: ignore[attr-defined]
            return
        query = target.query if terms else ""
        self.call_from_thread(self.open_found, found, marked, terms, query)  # type: ignore[attr-defined]

    # -- reading a thread at a message ------------------------------------------------------

    def read_thread_at(self, conn, conversation_id: str, marked: int | None, query: str):
        """What ConversationLoaded carries for a thread opened at ``marked`` (with the
        matches of ``query`` in it): (messages, has_older, has_newer, marked, matches).
        A message gone meanwhile (withdrawn) opens the thread at its newest."""
        window = thread.around(conn, conversation_id, marked, before=BEFORE_MARKED,
                               limit=THREAD_PAGE) if marked is not None else None
        if window is None:
            msgs = thread.latest(conn, conversation_id, THREAD_PAGE + 1)
            window, marked = (msgs[-THREAD_PAGE:], len(msgs) > THREAD_PAGE, False), None
        matches = finder.thread_matches(conn, conversation_id, query.split()) if query else []
        return (*window, marked, tuple(matches))

    # -- searching inside the thread ----------------------------------------------------------

    def on_thread_search_bar_changed(self, event: ThreadSearchBar.Changed) -> None:
        view = self.thread_view()  # type: ignore[attr-defined]
        if view is not None and view.conversation_id:
            self.search_thread(view.conversation_id, event.text)

    @work(thread=True, exclusive=True, group="thread-search", exit_on_error=False)
    def search_thread(self, conversation_id: str, text: str) -> None:
        matches = self.store.read(finder.thread_matches, conversation_id, text.split())  # type: ignore[attr-defined]
        self.post_message(ThreadMatches(conversation_id, text, fold_terms(text.split()), matches))  # type: ignore[attr-defined]

    def on_thread_matches(self, event: ThreadMatches) -> None:
        view, bar = self.thread_view(), self.thread_search_bar()  # type: ignore[attr-defined]
        if view is None or bar is None or view.conversation_id != event.conversation_id or bar.text != event.query:
            return  # another conversation, or words typed since
        view.set_search(event.conversation_id, event.terms, event.matches)
        bar.count(*view.match_position)

    def on_thread_search_bar_done(self, event: ThreadSearchBar.Done) -> None:
        view = self.thread_view()  # type: ignore[attr-defined]
        if view is None:
            return
        if event.closed:
            view.clear_search()
        view.focus()

    def on_thread_view_marked(self, event: ThreadView.Marked) -> None:
        bar = self.thread_search_bar()  # type: ignore[attr-defined]
        if bar is not None and bar.display:
            bar.count(event.index, event.total)

    def on_thread_view_need_message(self, event: ThreadView.NeedMessage) -> None:
        self.load_window(event.conversation_id, event.message_id)

    @work(thread=True, exclusive=True, group="thread-window", exit_on_error=False)
    def load_window(self, conversation_id: str, message_id: int) -> None:
        window = self.store.read(thread.around, conversation_id, message_id,  # type: ignore[attr-defined]
                                 before=BEFORE_MARKED, limit=THREAD_PAGE)
        if window is not None:
            self.post_message(ThreadWindow(conversation_id, *window, message_id))  # type: ignore[attr-defined]

    def on_thread_window(self, event: ThreadWindow) -> None:
        view = self.thread_view()  # type: ignore[attr-defined]
        if view is not None and view.conversation_id == event.conversation_id:
            view.show(event.conversation_id, view.customer_name, event.messages, event.has_older,
                      has_newer=event.has_newer, marked=event.marked)

    def on_thread_view_need_newer(self, event: ThreadView.NeedNewer) -> None:
        self.load_newer(event.conversation_id, event.after)

    @work(thread=True, group="newer", exit_on_error=False)
    def load_newer(self, conversation_id: str, after: tuple) -> None:
        msgs = self.store.read(thread.newer, conversation_id, after, THREAD_PAGE + 1)  # type: ignore[attr-defined]
        self.post_message(NewerLoaded(conversation_id, msgs[:THREAD_PAGE], len(msgs) > THREAD_PAGE))  # type: ignore[attr-defined]

    def on_newer_loaded(self, event: NewerLoaded) -> None:
        view = self.thread_view()  # type: ignore[attr-defined]
        if view is not None:
            view.extend_newer(event.conversation_id, event.messages, event.has_newer)

    def show_search(self, event) -> None:
        """After a ConversationLoaded: the thread's search bar shows the words it was
        opened with (their matches highlighted, n / N ready), or closes."""
        view, bar = self.thread_view(), self.thread_search_bar()  # type: ignore[attr-defined]
        if view is None or bar is None:
            return
        if event.query:
            view.set_search(event.row.id, event.terms, list(event.matches), event.marked)
            bar.open(event.query, focus=False)
            bar.count(*view.match_position)
        else:
            bar.display = False
            if view.terms:
                view.clear_search()
        if event.marked is not None:
            view.focus()

    # -- the indexer ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="indexer", exit_on_error=False)
    def run_indexer(self) -> None:
        """Index what the cache holds unindexed – after an upgrade, a bulk import, and the
        customers and orders each sync brings (the sync's own transaction indexes only
        messages) – in short transactions; stops with the app."""
        from textual.worker import get_current_worker

        store = self.store  # type: ignore[attr-defined]
        if not pending(store):
            return
        worker = get_current_worker()
        #: The last indexer run (its transactions' hold times, for the curious and the tests).
        self.indexer = Indexer(store)
        self.indexer.run(cancelled=lambda: worker.is_cancelled)
