"""Messages workers post to the app. Workers read and write the cache; these carry
the results back to the UI thread, where handlers own the state."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from agentdesk.models import CustomerCard, InboxRow, Message as ChatMessage
from agentdesk.store.inbox import InboxFilter


@dataclass
class InboxLoaded(Message):
    filter: InboxFilter
    rows: list[InboxRow]
    more_before: bool
    more_after: bool
    counts: dict[str, int] | None  # arrive separately, see TabCounts
    keep: str | None = None
    open_kept: bool = False


@dataclass
class InboxPage(Message):
    filter: InboxFilter
    direction: str
    rows: list[InboxRow]
    more: bool


@dataclass
class ConversationLoaded(Message):
    row: InboxRow
    messages: list[ChatMessage]
    has_older: bool
    draft: str
    card: CustomerCard | None
    handoff: ChatMessage | None = None  # the newest transfer line, for the banner
    #: Opened at this message (from Find): the thread is a window around it …
    marked: int | None = None
    has_newer: bool = False
    #: … with these words highlighted (folded), their matches in this conversation
    #: (newest first) and the query as typed, for the thread's search bar.
    terms: tuple[str, ...] = ()
    matches: tuple[int, ...] = ()
    query: str = ""


@dataclass
class OlderLoaded(Message):
    conversation_id: str
    messages: list[ChatMessage]
    has_older: bool


@dataclass
class NewerLoaded(Message):
    conversation_id: str
    messages: list[ChatMessage]
    has_newer: bool


@dataclass
class ThreadWindow(Message):
    """The thread around one message (a search match that was not loaded)."""

    conversation_id: str
    messages: list[ChatMessage]
    has_older: bool
    has_newer: bool
    marked: int


@dataclass
class ThreadMatches(Message):
    """Where a search inside the open thread matches, newest first."""

    conversation_id: str
    query: str
    terms: tuple[str, ...]
    matches: list[int]


@dataclass
class FindAnswered(Message):
    """Find's first answer for what was typed (agentdesk.find.finder.Found)."""

    generation: int
    found: object


@dataclass
class FindMore(Message):
    """The next page of Find's messages (agentdesk.store.history.Page)."""

    generation: int
    page: object


@dataclass
class MessageStored(Message):
    conversation_id: str
    messages: list[ChatMessage]


@dataclass
class SendFailed(Message):
    conversation_id: str
    text: str
    error: str


@dataclass
class SyncChanged(Message):
    """The sync engine applied a batch (posted from its thread)."""

    changes: object  # agentdesk.sync.engine.Changes


@dataclass
class SyncStatusChanged(Message):
    status: object  # agentdesk.sync.engine.SyncStatus


@dataclass
class ThreadRefreshed(Message):
    conversation_id: str
    messages: list[ChatMessage]
    generation: int = 0


@dataclass
class CardLoaded(Message):
    conversation_id: str
    card: CustomerCard | None


@dataclass
class DraftRestored(Message):
    conversation_id: str
    draft: str
    #: Replies sent from here that the shop refused (no longer in the thread).
    withdrawn: list[str]


@dataclass
class TabCounts(Message):
    filter: InboxFilter
    counts: dict[str, int]


@dataclass
class RepliesLoaded(Message):
    index: object  # agentdesk.quickreply.search.ReplyIndex
    problems: list[str]  # one line each, "file:line: what"


@dataclass
class MyDayLoaded(Message):
    """The agent's own figures for today (workflow.metrics.MyDay)."""

    day: object


@dataclass
class FollowupsLoaded(Message):
    items: list
    due: int  # how many are due now (the tab's count)
