"""Fault injection for the reference shop: with probability ``fail_rate`` an API
request fails in one of several ways, from a seeded random source so a test run
can be replayed.

Kinds: ``500`` ``503`` ``429`` (both with ``Retry-After: 1``), ``timeout`` (the answer
comes ``timeout_s`` late), ``drop`` (the response starts, then the connection is cut),
``malformed`` (a truncated JSON body), and for the event feed only ``duplicate``
(already delivered events come again) and ``reorder`` (a page arrives backwards).
For writes, half of the ``500``/``drop``/``timeout`` faults strike AFTER the write
committed: the change is made, the answer is lost, and only an idempotent retry
tells the client what happened.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass

from starlette.responses import Response

from agentdesk.shop.problems import Problem

FAULT_KINDS = ("500", "503", "429", "timeout", "drop", "malformed", "duplicate", "reorder")
EVENTS_ONLY = frozenset({"duplicate", "reorder"})
MAY_STRIKE_LATE = frozenset({"500", "drop", "timeout"})


@dataclass(frozen=True)
class Fault:
    kind: str
    late: bool = False  # for a write: strikes after the write committed


class Faults:
    def __init__(self, seed: int = 0, fail_rate: float = 0.0) -> None:
        self.rng = random.Random(seed)
        self.fail_rate = 0.0
        self.kinds: tuple[str, ...] = FAULT_KINDS
        self.timeout_s = 15.0
        self.set(fail_rate=fail_rate)

    def set(self, *, fail_rate: float = 0.0, kinds: tuple[str, ...] | None = None,
            timeout_s: float | None = None) -> None:
        if not 0.0 <= fail_rate <= 1.0:
            raise ValueError(f"fail_rate must be between 0 and 1, not {fail_rate}")
        unknown = set(kinds or ()) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {', '.join(sorted(unknown))}")
        self.fail_rate = fail_rate
        self.kinds = tuple(kinds) if kinds else FAULT_KINDS
        if timeout_s is not None:
            self.timeout_s = timeout_s

    def pick(self, *, events: bool = False, write: bool = False) -> Fault | None:
        """The fault for one request, or None (most of the time)."""
        if self.fail_rate <= 0 or self.rng.random() >= self.fail_rate:
            return None
        kinds = [k for k in self.kinds if events or k not in EVENTS_ONLY]
        if not kinds:
            return None
        kind = self.rng.choice(kinds)
        late = write and kind in MAY_STRIKE_LATE and self.rng.random() < 0.5
        return Fault(kind, late)


# -- what a fault looks like on the wire -----------------------------------------------------


class DropConnection(Exception):
    """Raised half-way through a response: uvicorn cuts the connection."""


class Dropped(Response):
    """Starts an answer and dies half-way. Over a socket the client sees the
    connection cut; over httpx's ASGI transport, a truncated body."""

    def __init__(self) -> None:
        super().__init__(b"")

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")]})
        await send({"type": "http.response.body", "body": b'{"partial": ', "more_body": True})
        raise DropConnection("injected fault: connection dropped")


def problem_response(p: Problem, headers: dict | None = None) -> Response:
    return Response(json.dumps(p.body(), ensure_ascii=False), status_code=p.status, headers=headers,
                    media_type="application/problem+json")


def failure(kind: str, *, late: bool = False) -> Response:
    """The answer of a status fault (and of a drop)."""
    if kind == "500":
        detail = "injected fault after commit" if late else "injected fault"
        return problem_response(Problem(500, "server_error", detail))
    if kind == "503":
        return problem_response(Problem(503, "unavailable", "injected fault"), {"Retry-After": "1"})
    if kind == "429":
        return problem_response(Problem(429, "rate_limited", "slow down"), {"Retry-After": "1"})
    if kind == "drop":
        return Dropped()
    if kind == "malformed":
        return Response(b'{"items": [', status_code=200, media_type="application/json")
    raise ValueError(kind)


def garble_events(kind: str, events: list[dict], delivered: list[dict]) -> list[dict]:
    """An event page as a faulty feed sends it: ``delivered`` are events the client
    already had (just before its cursor)."""
    if kind == "duplicate" and events:
        return delivered + events + events[: max(1, len(events) // 3)]
    if kind == "reorder":
        return list(reversed(events))
    return events


class _QuietDrops(logging.Filter):
    """uvicorn logs a traceback for every injected drop; they are on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _is_drop(record.exc_info[1] if record.exc_info else None)


def _is_drop(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, DropConnection):
            return True
        if isinstance(exc, BaseExceptionGroup):
            return any(_is_drop(e) for e in exc.exceptions)
        exc = exc.__cause__ or exc.__context__
    return False


def quiet_drops() -> None:
    log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDrops) for f in log.filters):
        log.addFilter(_QuietDrops())
