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


@dataclass
class OlderLoaded(Message):
    conversation_id: str
    messages: list[ChatMessage]
    has_older: bool


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
