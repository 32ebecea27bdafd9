"""The shop's wire format: every object the server sends, decoded and validated by
msgspec while it is read. Nothing else in agentdesk knows these shapes.

A server payload is hostile input like customer text. A page is read in two steps,
the envelope (``{"items": [...], "next": ...}``) and then each object on its own, so one
bad object costs only itself: it becomes a :class:`Problem` (the engine quarantines it in
the cache's ``problems`` table) and everything else on the page is applied.

What is repaired and what is quarantined:

* Text that is not valid Unicode – a lone surrogate escape such as ``"\\ud800"`` (what a
  platform sends when it cuts an emoji in half) or bytes that are not UTF-8 – is
  **repaired** to U+FFFD and kept: the rest of a customer's message matters more than
  one broken character, and it cannot be stored (or shown) as it is.
* Everything else that breaks the contract **quarantines** the whole object: a wrong
  type, a number out of range (a ``seq`` of 2**70, an amount that is NaN or 1e400), an
  unknown enum value, a missing field, a string or list too long, an object too big,
  nesting too deep. Unknown extra fields are ignored (a newer shop may add some).

Text is stored as sent (after that repair) and cleaned where it is shown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field as dataclass_field
from datetime import datetime
from types import UnionType
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec
from msgspec import Meta, Struct

from agentdesk.models import PRIORITIES

#: An object bigger than this (bytes as sent) is quarantined without being decoded.
MAX_OBJECT_BYTES = 1_000_000
#: Nesting deeper than this is quarantined (the schema itself is at most 4 deep).
MAX_DEPTH = 64
#: Message and note bodies, per the contract; other free text gets the same room.
MAX_TEXT = 10_000

Id = Annotated[str, Meta(min_length=1, max_length=200)]
Short = Annotated[str, Meta(max_length=1_000)]
Text = Annotated[str, Meta(max_length=MAX_TEXT)]
Strings = Annotated[list[Short], Meta(max_length=100)]
Seq = Annotated[int, Meta(ge=0, le=2**63 - 1)]  # what SQLite can hold
Count = Annotated[int, Meta(ge=0, le=1_000_000)]
Money = Annotated[float, Meta(ge=-1e12, le=1e12)]  # NaN and infinities fail both bounds
Time = Annotated[datetime, Meta(tz=True)]

Group = Literal["售前", "售后", "客诉"]
ConversationStatus = Literal["open", "pending", "snoozed", "resolved"]
OrderStatus = Literal["待付款", "待发货", "已发货", "已签收", "退款中", "已退款", "纠纷中"]
Sender = Literal["customer", "agent", "bot", "system", "note"]
Priority = Literal["low", "normal", "high", "urgent"]
AgentStatus = Literal["online", "away", "offline"]
FollowupStatus = Literal["open", "done", "cancelled"]


def _ts(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


class _Wire(Struct, kw_only=True):
    def record(self) -> dict:
        raise NotImplementedError


class Agent(_Wire, kw_only=True):
    """``status`` (online | away | offline) is the presence; a server from before it
    existed sends only the ``online`` flag. ``online`` is kept as status == online."""

    id: Id
    name: Short
    role: Literal["agent", "supervisor"] = "agent"
    groups: Strings | None = None
    status: AgentStatus | None = None
    online: bool | None = None

    def record(self) -> dict:
        status = self.status or ("online" if self.online is True else "offline")
        return {"id": self.id, "name": self.name, "role": self.role, "groups": list(self.groups or ()),
                "status": status, "online": status == "online"}


class Customer(_Wire, kw_only=True):
    id: Id
    name: Short
    vip_level: Annotated[int, Meta(ge=0, le=10)] = 0
    tags: Strings | None = None
    location: Short | None = None
    first_seen: Time | None = None
    updated_at: Time | None = None
    opt_out: bool | None = None

    def record(self) -> dict:
        return {"id": self.id, "name": self.name, "vip_level": self.vip_level, "tags": list(self.tags or ()),
                "location": self.location or "", "first_seen": _ts(self.first_seen),
                "updated_at": _ts(self.updated_at), "opt_out": bool(self.opt_out)}


class Item(_Wire, kw_only=True):
    title: Short
    sku: Short | None = None
    qty: Count = 1
    price: Money = 0.0


class Remark(_Wire, kw_only=True):
    body: Text
    agent_id: Id | None = None
    at: Time | None = None


class Refund(_Wire, kw_only=True):
    reason: Text | None = None
    amount: Money
    agent_id: Id | None = None
    at: Time | None = None
    status: Literal["requested", "approved"]


class Order(_Wire, kw_only=True):
    id: Id
    customer_id: Id
    items: Annotated[list[Item], Meta(max_length=1_000)] | None = None
    amount: Money = 0.0
    status: OrderStatus
    carrier: Short | None = None
    tracking_no: Short | None = None
    address: Short | None = None
    created_at: Time | None = None
    paid_at: Time | None = None
    shipped_at: Time | None = None
    delivered_at: Time | None = None
    updated_at: Time | None = None
    remarks: Annotated[list[Remark], Meta(max_length=1_000)] | None = None
    refund: Refund | None = None

    def record(self) -> dict:
        refund = self.refund
        return {
            "id": self.id, "customer_id": self.customer_id,
            "items": [{"title": i.title, "sku": i.sku or "", "qty": i.qty, "price": float(i.price)}
                      for i in self.items or ()],
            "amount": float(self.amount), "status": self.status, "carrier": self.carrier,
            "tracking_no": self.tracking_no, "address": self.address or "",
            "created_at": _ts(self.created_at), "paid_at": _ts(self.paid_at), "shipped_at": _ts(self.shipped_at),
            "delivered_at": _ts(self.delivered_at), "updated_at": _ts(self.updated_at),
            "remarks": [{"body": r.body, "agent_id": r.agent_id, "at": _ts(r.at)} for r in self.remarks or ()],
            "refund": None if refund is None else {
                "reason": refund.reason or "", "amount": float(refund.amount), "agent_id": refund.agent_id,
                "at": _ts(refund.at), "status": refund.status},
        }


class Conversation(_Wire, kw_only=True):
    id: Id
    customer_id: Id
    group: Group = "售前"
    status: ConversationStatus
    snoozed_until: Time | None = None
    assignee_id: Id | None = None
    priority: Priority = "normal"
    tags: Strings | None = None
    order_id: Id | None = None
    stage: Literal["bot", "queued", "agent"] = "agent"
    version: Seq = 1
    created_at: Time | None = None
    updated_at: Time | None = None

    def record(self) -> dict:
        return {
            "id": self.id, "customer_id": self.customer_id, "group": self.group, "status": self.status,
            "snoozed_until": _ts(self.snoozed_until), "assignee_id": self.assignee_id,
            "priority": PRIORITIES[self.priority], "tags": list(self.tags or ()), "order_id": self.order_id,
            "stage": self.stage, "version": self.version, "created_at": _ts(self.created_at),
            "updated_at": _ts(self.updated_at),
        }


class Handoff(_Wire, kw_only=True):
    from_: Short | None = msgspec.field(default=None, name="from")
    from_name: Short | None = None
    to_agent: Short | None = None
    to_agent_name: Short | None = None
    to_group: Short | None = None
    note: Text | None = None


class MessageMeta(_Wire, kw_only=True):
    handoff: Handoff | None = None
    outreach: bool | None = None  # written first to the customer: answers nobody
    campaign: Short | None = None

    def record(self) -> dict | None:
        out: dict = {}
        if self.outreach is not None:
            out["outreach"] = self.outreach
        if self.handoff is not None:
            h = self.handoff
            out["handoff"] = {k: v for k, v in (("from", h.from_), ("from_name", h.from_name),
                                                 ("to_agent", h.to_agent), ("to_agent_name", h.to_agent_name),
                                                 ("to_group", h.to_group), ("note", h.note)) if v is not None}
        if self.campaign is not None:
            out["campaign"] = self.campaign
        return out or None


class Message(_Wire, kw_only=True):
    id: Id
    seq: Seq
    conversation_id: Id
    sender: Sender
    agent_id: Id | None = None
    body: Text
    created_at: Time
    client_id: Id | None = None
    auto: bool | None = None
    meta: MessageMeta | None = None

    def record(self) -> dict:
        return {
            "id": self.id, "seq": self.seq, "conversation_id": self.conversation_id, "sender": self.sender,
            "agent_id": self.agent_id, "body": self.body, "at": self.created_at.timestamp(),
            "client_id": self.client_id, "auto": bool(self.auto),
            "meta": self.meta.record() if self.meta is not None else None,
        }


class Note(_Wire, kw_only=True):
    id: Id
    seq: Seq
    customer_id: Id
    agent_id: Id | None = None
    body: Text
    created_at: Time
    client_id: Id | None = None

    def record(self) -> dict:
        return {"id": self.id, "seq": self.seq, "customer_id": self.customer_id, "agent_id": self.agent_id,
                "body": self.body, "at": self.created_at.timestamp(), "client_id": self.client_id}


class Followup(_Wire, kw_only=True):
    id: Id
    customer_id: Id
    order_id: Id | None = None
    conversation_id: Id | None = None
    agent_id: Id | None = None
    due_at: Time
    note: Text | None = None
    status: FollowupStatus
    client_id: Id | None = None
    created_at: Time | None = None
    updated_at: Time | None = None

    def record(self) -> dict:
        return {
            "id": self.id, "customer_id": self.customer_id, "order_id": self.order_id,
            "conversation_id": self.conversation_id, "agent_id": self.agent_id, "due_at": self.due_at.timestamp(),
            "note": self.note or "", "status": self.status, "client_id": self.client_id,
            "created_at": _ts(self.created_at), "updated_at": _ts(self.updated_at),
        }


#: Each resource: its wire type and how one of them is named in a message.
TYPES: dict[str, type[_Wire]] = {
    "agents": Agent, "customers": Customer, "orders": Order, "conversations": Conversation,
    "messages": Message, "notes": Note, "followups": Followup,
}
SINGULAR = {"agents": "agent", "customers": "customer", "orders": "order", "conversations": "conversation",
            "messages": "message", "notes": "note", "followups": "followup", "events": "event",
            "quick-replies": "quick reply"}
#: The key a keyset page is ordered by (and ``next`` names): an id, or a seq.
PAGE_KEYS = {"customers": "id", "orders": "id", "conversations": "id", "messages": "seq", "notes": "seq",
             "followups": "id"}
#: Event types and the resource their ``data`` is.
EVENTS = {
    "message.created": "messages", "conversation.updated": "conversations", "customer.updated": "customers",
    "order.updated": "orders", "note.created": "notes", "agent.status": "agents", "followup.updated": "followups",
}
_DECODERS = {name: msgspec.json.Decoder(t) for name, t in TYPES.items()}


# -- problems --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One object the server sent that agentdesk cannot use: what, which, where, why."""

    resource: str  # customers | orders | … | events | agents | quick-replies
    object_id: str | None  # its id when one could be read
    field: str  # e.g. "seq", "items[0].qty"; "" for the object as a whole
    reason: str
    raw: bytes = b""  # the object as sent

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{SINGULAR.get(self.resource, self.resource)} {self.object_id or '?'}: {where}{self.reason}"


class PayloadError(ValueError):
    """One object from the server is malformed; nothing of it is stored."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class Garbled(ValueError):
    """The answer is not JSON at all (cut off, or not JSON): asking again may help."""


class Violation(ValueError):
    """The answer is JSON but breaks the contract as a whole (no items list, too many
    items, a cursor that does not move): asking again gives the same."""


# -- text repair -------------------------------------------------------------------------------

_SURROGATE_HINT = re.compile(rb"\\u[dD][89a-fA-F]")
_ESCAPES = re.compile(rb"\\\\|\\u([dD][89abAB][0-9a-fA-F]{2})(\\u[dD][c-fC-F][0-9a-fA-F]{2})?|\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_SURROGATES = re.compile("[\ud800-\udfff]")


def _fix_escape(m: re.Match) -> bytes:
    whole = m.group(0)
    if whole == b"\\\\" or m.group(2):  # an escaped backslash, or a proper pair
        return whole
    return b"\\ufffd"


def repair(body: bytes) -> bytes:
    """JSON bytes whose text is valid Unicode: invalid UTF-8 and lone surrogate escapes
    become U+FFFD (see the module's decisions). Costs a scan when there is nothing to do."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        body = body.decode("utf-8", "replace").encode("utf-8")
    if _SURROGATE_HINT.search(body):
        body = _ESCAPES.sub(_fix_escape, body)
    return body


def repair_text(text: str) -> str:
    """The same repair for a Python string (lone surrogates from anywhere else)."""
    return _SURROGATES.sub("\ufffd", text)


# -- one object --------------------------------------------------------------------------------


class _Named(Struct):
    id: str | int | None = None


_ID = re.compile(rb'"id"\s*:\s*(?:"([^"\\]{1,200})"|(\d{1,30}))')


_CURSOR = re.compile(rb'"cursor"\s*:\s*(?:"([^"\\]{1,200})"|(\d{1,30}))')


def _guess_id(raw: bytes) -> str | None:
    """The object's id, if it can be read at all (for naming it in a problem)."""
    try:
        found = msgspec.json.decode(raw, type=_Named).id
    except (msgspec.MsgspecError, RecursionError):
        m = _ID.search(raw[:10_000])  # an object JSON cannot read (NaN, too deep) may still name itself
        found = (m.group(1) or m.group(2)).decode("utf-8", "replace") if m else None
    return repair_text(str(found))[:200] if found is not None else None


_AT = re.compile(r"^(.*?)(?: - at `\$(.*)`)?$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(.*)`$")
_NAMES = {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false", "null": "null",
          "object": "an object", "array": "a list", "datetime": "an RFC 3339 time"}
_TYPE_WORD = re.compile(r"`([^`]+)`")


def _words(types: str) -> str:
    return " or ".join(_NAMES.get(t.strip(), t.strip()) for t in types.split("|"))


def _allowed(root: type, path: str) -> tuple[str, ...]:
    """The values a Literal field at ``path`` (``.a[0].b``) allows, in the order written."""
    hint: Any = root
    for name in re.findall(r"\.([^.\[]+)|\[\d+\]", path):
        hint = _unwrap(hint)
        if get_origin(hint) is list:
            hint = _unwrap(get_args(hint)[0])
        if name and isinstance(hint, type) and issubclass(hint, Struct):
            hint = next((f.type for f in msgspec.structs.fields(hint) if f.encode_name == name), None)
    hint = _unwrap(hint)
    return tuple(get_args(hint)) if get_origin(hint) is Literal else ()


def _unwrap(hint: Any) -> Any:
    """``Annotated[X, …] | None`` → X."""
    while True:
        origin = get_origin(hint)
        if origin is Annotated:
            hint = get_args(hint)[0]
        elif origin in (Union, UnionType):
            hint = next(a for a in get_args(hint) if a is not type(None))
        else:
            return hint


def explain(message: str, root: type | None = None) -> tuple[str, str]:
    """A msgspec error as (field, reason) in the words the rest of agentdesk uses."""
    m = _AT.match(message)
    reason, path = (m.group(1), m.group(2) or "") if m else (message, "")
    field = path[1:] if path.startswith(".") else path
    if missing := _MISSING.match(reason):
        field = f"{field}.{missing.group(1)}" if field else missing.group(1)
        return field, "missing"
    if reason.startswith("Invalid enum value"):
        allowed = _allowed(root, path) if root is not None else ()
        got = reason.removeprefix("Invalid enum value").strip()
        return field, (f"expected one of {', '.join(allowed)}, got {got}" if allowed else f"unknown value {got}")
    if "RFC3339" in reason:
        return field, "expected an RFC 3339 time"
    if "timezone" in reason:
        return field, "expected an RFC 3339 time with a timezone"
    if reason.startswith("Expected `") and ", got `" in reason:
        want, got = _TYPE_WORD.findall(reason)[:2]
        return field, f"expected {_words(want)}, got {_words(got)}"
    if reason.startswith("Expected `"):  # a bound: "Expected `int` <= 9223372036854775807"
        return field, "out of range: " + _TYPE_WORD.sub(lambda w: _words(w.group(1)), reason[0].lower() + reason[1:])
    if reason == "Number out of range":
        return field, "a number out of range"
    return field, reason[:1].lower() + reason[1:]


def _checked(resource: str, raw: bytes, depth: int, read: Callable[[bytes], Any], *, root: type | None = None,
             name: Callable[[], str | None] | None = None) -> Any:
    """``read(raw)`` within the limits every object has (size, depth, what msgspec
    accepts), or a PayloadError naming ``resource``, the object (``name()``) and why."""
    def fail(field: str, reason: str) -> PayloadError:
        return PayloadError(Problem(resource, name() if name else _guess_id(raw), field, reason, bytes(raw)))

    if depth > MAX_DEPTH:
        raise fail("", f"nested {depth} levels deep, more than {MAX_DEPTH}")
    if len(raw) > MAX_OBJECT_BYTES:
        raise fail("", f"{len(raw):,} bytes, more than the {MAX_OBJECT_BYTES:,} an object may have")
    try:
        return read(raw)
    except msgspec.ValidationError as exc:
        raise fail(*explain(str(exc), root)) from None
    except msgspec.DecodeError as exc:
        raise fail("", f"not JSON ({exc})") from None
    except RecursionError:
        raise fail("", "nested too deeply") from None
    except (ValueError, OverflowError) as exc:  # e.g. a time too far out for a timestamp
        raise fail("", f"cannot be used: {exc}") from None


def decode(resource: str, raw: bytes, depth: int = 0) -> dict:
    """One object of ``resource`` from its JSON bytes, as the record the cache stores;
    raises :class:`PayloadError` naming the field. ``depth``: how deep it nests, when
    already counted (a page split by hand)."""
    # No surrogate pass over the record: bytes come here repaired (see repair), and
    # valid UTF-8 cannot hold a surrogate.
    return _checked(resource, raw, depth, lambda r: _DECODERS[resource].decode(r).record(), root=TYPES[resource])


def convert(resource: str, data: Any) -> dict:
    """:func:`decode` for an object that is already Python data (a write's answer, read
    as a whole): the same validation and the same errors."""
    name = data.get("id") if isinstance(data, dict) else None
    object_id = repair_text(str(name))[:200] if isinstance(name, (str, int)) and not isinstance(name, bool) else None

    def fail(field: str, reason: str) -> PayloadError:
        return PayloadError(Problem(resource, object_id, field, reason))

    try:
        return _clean(msgspec.convert(data, TYPES[resource]).record())
    except msgspec.ValidationError as exc:
        raise fail(*explain(str(exc), TYPES[resource])) from None
    except RecursionError:
        raise fail("", "nested too deeply") from None
    except (ValueError, OverflowError, TypeError) as exc:
        raise fail("", f"cannot be used: {exc}") from None


def _clean(value):
    """Repair lone surrogates in every string of a record (records are shallow)."""
    if isinstance(value, str):
        return repair_text(value) if _SURROGATES.search(value) else value
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def agent(data: Any) -> dict:
    return convert("agents", data)


def customer(data: Any) -> dict:
    return convert("customers", data)


def order(data: Any) -> dict:
    return convert("orders", data)


def conversation(data: Any) -> dict:
    return convert("conversations", data)


def message(data: Any) -> dict:
    return convert("messages", data)


def note(data: Any) -> dict:
    return convert("notes", data)


def followup(data: Any) -> dict:
    return convert("followups", data)


# -- envelopes ---------------------------------------------------------------------------------

_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[][{},:]', re.DOTALL)


def split(body: bytes, key: str) -> tuple[list[tuple[bytes, int]], bytes]:
    """The elements of the array under top-level ``key`` as (bytes, depth), and the
    envelope with that array emptied – without decoding any element, so an element
    that no decoder can read (NaN, 200 000 levels deep) costs only itself. Iterative:
    depth costs no stack. Raises :class:`Garbled` when the brackets do not pair up."""
    target = json.dumps(key).encode()
    opened: list[bytes] = []  # the brackets open now, innermost last
    key_seen = last_string = None
    start = end = None  # the array's brackets
    element = 0
    deepest = 0
    elements: list[tuple[bytes, int]] = []
    for m in _TOKENS.finditer(body):
        token = m.group()
        first = token[:1]
        depth = len(opened)
        if first == b'"':
            last_string = token if depth == 1 else None
            continue
        if first == b":":
            key_seen = last_string if depth == 1 else None
            continue
        if first in b"[{":
            opened.append(b"]" if first == b"[" else b"}")
            if depth == 1 and start is None and first == b"[" and key_seen == target:
                start, element = m.start(), m.end()
            elif start is not None and end is None:
                deepest = max(deepest, depth - 1)
        elif first in b"]}":
            if not opened or opened.pop() != first:
                raise Garbled("brackets that do not pair up")
            if start is not None and end is None and depth == 2:
                piece = body[element:m.start()]
                if piece.strip() or elements:
                    elements.append((piece.strip(), deepest))
                end = m.end()
        elif first == b",":
            if start is not None and end is None and depth == 2:
                elements.append((body[element:m.start()].strip(), deepest))
                element, deepest = m.end(), 0
            key_seen = None
    if opened or start is None or end is None:
        raise Garbled(f"no complete {key!r} list")
    return elements, body[:start] + b"[]" + body[end:]


class _Page(Struct):
    items: list[msgspec.Raw]
    next: str | int | None = None


class _Feed(Struct):
    events: list[msgspec.Raw]
    next: str | int | None = None


def _open(body: bytes, key: str, envelope: type) -> tuple[list[tuple[bytes, int]], Any]:
    """Decode the envelope; if one element breaks the JSON decoder, split by hand."""
    body = repair(body)
    try:
        env = msgspec.json.decode(body, type=envelope)
        return [(bytes(r), 0) for r in getattr(env, key)], env
    except msgspec.ValidationError as exc:  # (a kind of DecodeError: first)
        raise _not_a_list(key, exc) from None
    except (msgspec.DecodeError, RecursionError):
        elements, rest = split(body, key)  # Garbled when the JSON itself is broken
    try:
        return elements, msgspec.json.decode(rest, type=envelope)
    except msgspec.ValidationError as exc:
        raise _not_a_list(key, exc) from None
    except (msgspec.DecodeError, RecursionError) as exc:
        raise Garbled(f"not JSON ({exc})") from None


def _not_a_list(key: str, exc: msgspec.ValidationError) -> Violation:
    return Violation(f"the answer is not a {key} list: {' '.join(explain(str(exc)))}".rstrip())


def _cursor(value: str | int | None) -> str | None:
    return None if value is None else str(value)


@dataclass
class Page:
    """One keyset page: the good objects as records, the bad ones as problems."""

    items: list[dict]
    next: str | None
    problems: list[Problem] = dataclass_field(default_factory=list)


def page(resource: str, body: bytes, *, after: str | None, limit: int) -> Page:
    """A page of ``resource`` (``GET /v1/<resource>?after=&limit=``). Raises
    :class:`Garbled` or :class:`Violation` for the page as a whole, including a ``next``
    that does not move past ``after`` and objects that are not after it."""
    elements, env = _open(body, "items", _Page)
    if len(elements) > limit:
        raise Violation(f"{len(elements):,} items on a page, more than the {limit} asked for")
    nxt = _cursor(env.next)
    if nxt is not None and nxt == after:
        raise Violation(f"the next cursor {nxt!r} is the one asked with: paging would never end")
    if nxt is not None and not elements:
        raise Violation(f"an empty page with a next cursor ({nxt!r}): paging would never end")
    items, problems = [], []
    for raw, depth in elements:
        try:
            items.append(decode(resource, raw, depth))
        except PayloadError as exc:
            problems.append(exc.problem)
    key = PAGE_KEYS.get(resource)
    if after is not None and key is not None:
        floor: Any = after
        if key == "seq":
            try:
                floor = int(after)
            except ValueError:
                floor = None
        behind = [i for i in items if floor is not None and not i[key] > floor]
        if behind:
            raise Violation(f"{resource} {behind[0]['id']} is not after the cursor {after!r} asked with: "
                            "the shop sends the same page again")
    return Page(items, nxt, problems)


def items(resource: str, body: bytes) -> Page:
    """An unpaged list (``{"items": [...]}``: agents, quick replies)."""
    elements, env = _open(body, "items", _Page)
    records, problems = [], []
    for raw, depth in elements:
        try:
            if resource == "quick-replies":
                records.append(_plain_object(resource, raw, depth))
            else:
                records.append(decode(resource, raw, depth))
        except PayloadError as exc:
            problems.append(exc.problem)
    return Page(records, None, problems)


def _plain_object(resource: str, raw: bytes, depth: int) -> dict:
    """Any JSON object, bounded in size and depth (checked field by field later)."""
    value = _checked(resource, raw, depth, msgspec.json.decode)
    if not isinstance(value, dict):
        raise PayloadError(Problem(resource, None, "", f"expected an object, got {type(value).__name__}", raw))
    return value


@dataclass(frozen=True)
class Event:
    type: str
    resource: str
    record: dict
    cursor: str | None = None


@dataclass
class Feed:
    events: list[Event]
    next: str
    problems: list[Problem] = dataclass_field(default_factory=list)


def _int(cursor: str | None) -> int | None:
    try:
        return int(cursor) if cursor is not None else None
    except ValueError:
        return None


def feed(body: bytes, *, after: str, limit: int) -> Feed:
    """A page of the event feed. ``next`` missing means no move. Raises
    :class:`Violation` for a cursor that stays put while events arrive, or goes back."""
    elements, env = _open(body, "events", _Feed)
    if len(elements) > limit:
        raise Violation(f"{len(elements):,} events on a page, more than the {limit} asked for")
    nxt = _cursor(env.next) or after
    if elements and nxt == after:
        raise Violation(f"{len(elements)} events but the next cursor stays at {after!r}: the feed would repeat")
    old, new = _int(after), _int(nxt)
    if old is not None and new is not None and new < old:
        raise Violation(f"the next cursor {nxt!r} is before the one asked with ({after!r})")
    events, problems = [], []
    for raw, depth in elements:
        try:
            events.append(_event(raw, depth))
        except PayloadError as exc:
            problems.append(exc.problem)
    return Feed(events, nxt, problems)


class _EventBody(Struct, kw_only=True):
    cursor: str | int | None = None
    type: str
    data: msgspec.Raw


_EVENT = msgspec.json.Decoder(_EventBody)


def _event(raw: bytes, depth: int) -> Event:
    def cursor_of() -> str | None:  # an event is named by its cursor
        m = _CURSOR.search(raw[:10_000])
        return (m.group(1) or m.group(2)).decode("utf-8", "replace") if m else None

    head = _checked("events", raw, depth, _EVENT.decode, name=cursor_of)
    cursor = repair_text(str(head.cursor))[:200] if head.cursor is not None else None
    resource = EVENTS.get(head.type)
    if resource is None:
        raise PayloadError(Problem("events", cursor, "type", f"unknown event type {repair_text(head.type)[:100]!r}",
                                   raw))
    try:
        record = decode(resource, bytes(head.data))
    except PayloadError as exc:
        p = exc.problem
        raise PayloadError(Problem(p.resource, p.object_id, p.field, f"{p.reason} (event {cursor or '?'})",
                                   raw)) from None
    return Event(head.type, resource, record, cursor)


class _Head(Struct):
    cursor: str | int = "0"


def head(body: bytes) -> str:
    """``GET /v1/events/head``: the feed's newest cursor."""
    try:
        return repair_text(str(msgspec.json.decode(repair(body), type=_Head).cursor))
    except msgspec.ValidationError as exc:
        raise Violation(f"the answer has no cursor: {' '.join(explain(str(exc)))}") from None
    except (msgspec.DecodeError, RecursionError) as exc:
        raise Garbled(f"not JSON ({exc})") from None


def document(body: bytes) -> Any:
    """Any answer as plain Python data (objects checked afterwards with :func:`convert`)."""
    try:
        return msgspec.json.decode(repair(body))
    except (msgspec.DecodeError, RecursionError) as exc:
        raise Garbled(f"not JSON ({exc})") from None


class _Shop(Struct):
    id: Annotated[str, Meta(max_length=200)] | int | None = None
    name: Short | None = None


class _ReadOnly(Struct):
    read_only: bool | None = None


class _Me(Struct):
    agent: msgspec.Raw
    shop: _Shop | None = None


@dataclass(frozen=True)
class Me:
    agent: dict  # my Agent record
    read_only: bool
    shop_id: str
    shop_name: str


def me(body: bytes) -> Me:
    """``GET /v1/me``: who this token is, in which shop."""
    try:
        raw = msgspec.json.decode(repair(body), type=_Me)
    except msgspec.ValidationError as exc:
        raise Violation(f"the answer is not who I am: {' '.join(explain(str(exc)))}") from None
    except (msgspec.DecodeError, RecursionError) as exc:
        raise Garbled(f"not JSON ({exc})") from None
    agent_raw = bytes(raw.agent)
    record = decode("agents", agent_raw)
    try:
        read_only = msgspec.json.decode(agent_raw, type=_ReadOnly).read_only
    except msgspec.MsgspecError:
        read_only = False
    shop = raw.shop or _Shop()
    return Me(record, bool(read_only), repair_text(str(shop.id if shop.id is not None else "")),
              repair_text(shop.name or ""))
