"""The shop's vocabulary as plain, immutable records.

Times are epoch seconds (UTC floats) everywhere in the core; only the UI formats them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GROUPS = ("售前", "售后", "客诉")
#: An agent's presence: online, away (said so themselves), offline (not connected).
AGENT_STATUSES = ("online", "away", "offline")
CONVERSATION_STATUSES = ("open", "pending", "snoozed", "resolved")
ORDER_STATUSES = ("待付款", "待发货", "已发货", "已签收", "退款中", "已退款", "纠纷中")
SENDER_KINDS = ("customer", "agent", "bot", "system", "note")
#: Stored as integers so "most urgent first" is a plain ORDER BY.
PRIORITIES = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
PRIORITY_NAMES = {v: k for k, v in PRIORITIES.items()}
#: The shop API's limit on a message body (docs/shop-api.md); every text agentdesk may
#: send – a reply file's body, the greeting, the handoff message – stays within it.
MAX_MESSAGE_CHARS = 10_000


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    name: str
    role: str = "agent"  # agent | supervisor
    groups: tuple[str, ...] = ()
    online: bool = False  # status == "online"
    status: str = "offline"  # one of AGENT_STATUSES


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    name: str
    vip_level: int = 0
    tags: tuple[str, ...] = ()
    location: str = ""
    first_seen: float | None = None
    #: Asked not to receive outreach (campaigns, holiday greetings).
    opt_out: bool = False


@dataclass(frozen=True, slots=True)
class OrderItem:
    title: str
    sku: str = ""
    qty: int = 1
    price: float = 0.0


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    customer_id: str
    items: tuple[OrderItem, ...]
    amount: float
    status: str
    carrier: str | None = None
    tracking_no: str | None = None
    address: str = ""
    created_at: float | None = None
    paid_at: float | None = None
    shipped_at: float | None = None
    delivered_at: float | None = None
    #: Internal remarks, oldest first: ({"body", "agent_id", "at"}, …).
    remarks: tuple[dict, ...] = ()
    #: The refund request while one is open or done: {"reason", "amount", "agent_id", "at"}.
    refund: dict | None = None

    @property
    def shipped(self) -> bool:
        """Past the point where the address can change."""
        return self.status not in ("待付款", "待发货")


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One line of the inbox: exactly what the list needs, read by a keyset page."""

    id: str
    customer_id: str
    customer_name: str
    vip_level: int
    preview: str
    group: str
    status: str
    assignee_id: str | None
    priority: int
    unread: int
    last_message_at: float
    waiting_since: float | None
    #: The keyset position: (wait_rank, rank_ts, id). See store/schema.py.
    key: tuple[int, float, str] = field(default=(0, 0.0, ""), compare=False)
    #: Customer messages with complaint signals (差评, 投诉, 12315, ！！！…) seen by triage.
    complaint: int = 0
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """A conversation as the sidebar lists it under "previous conversations"."""

    id: str
    group: str
    status: str
    assignee_id: str | None
    preview: str
    last_message_at: float
    message_count: int = 0


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    conversation_id: str
    sender: str  # one of SENDER_KINDS
    body: str
    at: float
    agent_id: str | None = None
    author: str = ""  # the agent's display name, joined in for rendering
    server_id: str | None = None
    state: str = "sent"  # pending | sent | failed: where the outbox has got with it
    client_id: str | None = None  # the Idempotency-Key it is (or was) sent with
    error: str | None = None  # why sending failed, shown under a failed message
    auto: bool = False  # sent automatically (auto-greeting)
    meta: dict | None = None  # structured extras, e.g. {"handoff": {...}} on a transfer line

    @property
    def key(self) -> tuple[float, int]:
        return (self.at, self.id)


@dataclass(frozen=True, slots=True)
class CustomerNote:
    id: int
    customer_id: str
    body: str
    at: float
    agent_id: str | None = None
    author: str = ""


FOLLOWUP_STATUSES = ("open", "done", "cancelled")


@dataclass(frozen=True, slots=True)
class Followup:
    """A follow-up (回访) scheduled on a customer or one of their orders."""

    id: int
    customer_id: str
    due_at: float
    note: str = ""
    order_id: str | None = None
    conversation_id: str | None = None
    agent_id: str | None = None
    status: str = "open"
    server_id: str | None = None
    customer_name: str = ""


@dataclass(frozen=True, slots=True)
class CustomerCard:
    """Everything the sidebar shows about one customer, read in one worker call."""

    customer: Customer
    orders: tuple[Order, ...]
    order_count: int
    conversations: tuple[ConversationSummary, ...]
    notes: tuple[CustomerNote, ...]
    #: Conversations of this customer that were complaints (客诉 or flagged).
    complaints: int = 0
    followups: tuple[Followup, ...] = ()
