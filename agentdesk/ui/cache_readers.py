"""Reads of the cache that the workstation and the supervisor's monitor make alike: who
is signed in, the next page of a conversation list, a thread's older messages. Each runs
in a worker thread and answers with a message (identity: ``_identity_loaded``)."""

from __future__ import annotations

from textual import work

from agentdesk.models import CONVERSATION_STATUSES
from agentdesk.store import agents, inbox, thread, writes
from agentdesk.store.inbox import InboxFilter
from agentdesk.ui.messages import InboxPage, OlderLoaded

#: Rows per keyset page of a conversation list, and messages per page of a thread.
PAGE = 50
THREAD_PAGE = 50
#: What ``s`` cycles through (None: every status).
STATUS_CYCLE: tuple[str | None, ...] = (*CONVERSATION_STATUSES, None)


class CacheReaders:
    """Mixin for an App with a ``store``; handlers use plain names (``@on`` does not
    register on a mixin)."""

    @work(thread=True, exclusive=True, group="identity", exit_on_error=False)
    def load_identity(self) -> None:
        def read(conn):
            return agents.all_agents(conn), writes.get_meta(conn, "me"), writes.get_meta(conn, "shop_name")

        everyone, me, shop = self.store.read(read)  # type: ignore[attr-defined]
        self.call_from_thread(self._identity_loaded, everyone, me, shop)  # type: ignore[attr-defined]

    @work(thread=True, group="list-page", exit_on_error=False)
    def load_list_page(self, f: InboxFilter, direction: str, key: tuple) -> None:
        page = inbox.page_after if direction == "after" else inbox.page_before
        rows = self.store.read(page, f, key, PAGE + 1)  # type: ignore[attr-defined]
        more = len(rows) > PAGE
        rows = rows[:PAGE] if direction == "after" else rows[-PAGE:]
        self.post_message(InboxPage(f, direction, rows, more))  # type: ignore[attr-defined]

    @work(thread=True, group="older", exit_on_error=False)
    def load_older(self, conversation_id: str, before: tuple) -> None:
        msgs = self.store.read(thread.older, conversation_id, before, THREAD_PAGE + 1)  # type: ignore[attr-defined]
        self.post_message(OlderLoaded(conversation_id, msgs[-THREAD_PAGE:], len(msgs) > THREAD_PAGE))  # type: ignore[attr-defined]
