"""Variables in reply bodies: ``{customer.name}``, ``{order.id}``, …

A body is filled from the open conversation. A variable with no value stays in the text
exactly as written, so the composer can mark it and refuse to send until the agent edits
it: a raw ``{order.id}`` never reaches a customer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

VARIABLES: tuple[str, ...] = (
    "customer.name",
    "customer.vip_level",
    "order.id",
    "order.status",
    "order.carrier",
    "order.tracking_no",
    "agent.name",
    "shop.name",
    "today",
)

#: Anything that looks like a variable; ``{`` followed by other text is plain text.
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\}")


def placeholders(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of every ``{name}`` in ``text``, known or not."""
    return [(m.start(), m.end(), m.group(1)) for m in _PLACEHOLDER.finditer(text)]


def unknown(text: str) -> list[str]:
    """Placeholder names that are not variables agentdesk can fill."""
    return [name for _, _, name in placeholders(text) if name not in VARIABLES]


def unfilled(text: str) -> list[tuple[int, int, str]]:
    """Known variables still in ``text``: the composer marks these and blocks sending."""
    return [p for p in placeholders(text) if p[2] in VARIABLES]


@dataclass(frozen=True)
class Filled:
    text: str
    #: Variables left in ``text`` because the conversation has no value for them.
    missing: tuple[str, ...]


def fill(body: str, values: dict[str, str | None]) -> Filled:
    """Replace each known variable that has a non-empty value; leave the rest as written."""
    missing: list[str] = []

    def sub(m: re.Match) -> str:
        name = m.group(1)
        if name not in VARIABLES:
            return m.group(0)
        value = values.get(name)
        if value is None or str(value) == "":
            missing.append(name)
            return m.group(0)
        return str(value)

    return Filled(_PLACEHOLDER.sub(sub, body), tuple(dict.fromkeys(missing)))


def context_values(
    *,
    customer: dict | None = None,
    order: dict | None = None,
    agent_name: str = "",
    shop_name: str = "",
    today: date | None = None,
) -> dict[str, str | None]:
    """The variable values for one conversation (``order``: its latest order unless the
    agent picked another). Missing facts are None, never a guess."""
    customer = customer or {}
    order = order or {}
    vip = customer.get("vip_level")
    return {
        "customer.name": customer.get("name") or None,
        "customer.vip_level": None if vip is None else str(vip),
        "order.id": order.get("id") or None,
        "order.status": order.get("status") or None,
        "order.carrier": order.get("carrier") or None,
        "order.tracking_no": order.get("tracking_no") or None,
        "agent.name": agent_name or None,
        "shop.name": shop_name or None,
        "today": (today or date.today()).isoformat(),
    }


def segments(
    body: str, values: dict[str, str | None], spans: tuple[tuple[int, int], ...] = ()
) -> list[tuple[str, str]]:
    """The filled body as display pieces: (text, kind) with kind ``text``, ``match``
    (a searched-for character), ``value`` (a filled variable) or ``missing`` (a variable
    left as written). Match positions are in the raw body; they survive the filling."""
    marked = [False] * len(body)
    for a, b in spans:
        for n in range(max(0, a), min(len(body), b)):
            marked[n] = True
    out: list[tuple[str, str]] = []

    def plain(a: int, b: int) -> None:
        n = a
        while n < b:
            m = n
            while m < b and marked[m] == marked[n]:
                m += 1
            out.append((body[n:m], "match" if marked[n] else "text"))
            n = m

    pos = 0
    for start, end, name in placeholders(body):
        plain(pos, start)
        value = values.get(name) if name in VARIABLES else None
        if name not in VARIABLES:
            plain(start, end)
        elif value is None or str(value) == "":
            out.append((body[start:end], "missing"))
        else:
            out.append((str(value), "match" if any(marked[start:end]) else "value"))
        pos = end
    plain(pos, len(body))
    return [s for s in out if s[0]]
