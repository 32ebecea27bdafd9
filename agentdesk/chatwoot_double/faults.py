"""Fault injection for the Chatwoot double, controllable from tests (``state.faults``), the
CLI (``--fail-rate``, ``--latency``) and the test route ``POST /_double/faults``.

A :class:`Rule` strikes requests whose route name (``messages.create``,
``conversations.index``; shell patterns like ``conversations.*``) and method match, with
probability ``rate``, at most ``times`` times (None: until cleared), until ``until``
(a storm). Kinds:

- ``500`` ``502`` ``503`` ``429``: that status, Chatwoot's ``{"error": ...}`` body;
  ``retry_after`` adds a ``Retry-After`` header (503 and 429 default to 1 s);
- ``timeout``: the request waits ``timeout_s`` first (the client has given up; the
  write still happens afterwards, as it would behind a slow proxy);
- ``drop``: the answer starts and the connection is cut;
- ``latency``: only ``latency_ms`` more delay.

``after=True`` strikes AFTER the handler acted: the message is created, the status
changed, and the client sees only the failure. Chatwoot has no idempotency key, so this
is the case exactly-once delivery has to survive. ``fail_rate`` adds random faults of
the status kinds and ``drop`` to every API request (half of those on writes after
acting), from a seeded generator so a run can be replayed. Cable faults: ``cable_down``
refuses new sockets; ``drop_sockets()`` (in state) cuts every open one.
"""

from __future__ import annotations

import fnmatch
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.responses import Response

from agentdesk.shop.faults import Dropped

KINDS = ("500", "502", "503", "429", "timeout", "drop", "latency")
RANDOM_KINDS = ("500", "502", "503", "429", "drop")


@dataclass
class Rule:
    kind: str
    route: str = "*"
    method: str = "*"
    rate: float = 1.0
    times: int | None = None
    after: bool = False
    retry_after: int | None = None
    latency_ms: int = 0
    until: float | None = None
    struck: int = 0

    def matches(self, route: str, method: str, now: float) -> bool:
        if self.times is not None and self.struck >= self.times:
            return False
        if self.until is not None and now >= self.until:
            return False
        return fnmatch.fnmatchcase(route, self.route) and self.method in ("*", method)


@dataclass(frozen=True)
class Strike:
    """A fault that hit one request (kept in ``Faults.log`` for tests)."""

    route: str
    method: str
    kind: str
    after: bool


@dataclass
class Faults:
    clock: Callable[[], float]
    seed: int = 0
    fail_rate: float = 0.0
    latency_ms: int = 0
    timeout_s: float = 15.0
    cable_down: bool = False
    rules: list[Rule] = field(default_factory=list)
    log: list[Strike] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.set_rate(self.fail_rate)

    def set_rate(self, fail_rate: float) -> None:
        if not 0.0 <= fail_rate <= 1.0:
            raise ValueError(f"fail_rate must be between 0 and 1, not {fail_rate}")
        self.fail_rate = fail_rate

    def add(self, kind: str, route: str = "*", *, method: str = "*", rate: float = 1.0, times: int | None = None,
            after: bool = False, retry_after: int | None = None, latency_ms: int = 0,
            seconds: float | None = None) -> Rule:
        """A fault from now on; ``seconds`` makes it a storm that ends by itself."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, not {rate}")
        if kind == "latency" and latency_ms <= 0:
            raise ValueError("a latency fault needs latency_ms > 0")
        rule = Rule(kind, route, method.upper() if method != "*" else "*", rate, times, after, retry_after,
                    latency_ms, self.clock() + seconds if seconds is not None else None)
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        self.rules.clear()
        self.cable_down = False

    def pick(self, route: str, method: str, *, write: bool) -> tuple[Rule | None, int]:
        """(the fault for this request or None, extra latency in ms)."""
        now = self.clock()
        delay = self.latency_ms
        for rule in self.rules:
            if not rule.matches(route, method, now) or self.rng.random() >= rule.rate:
                continue
            rule.struck += 1
            if rule.kind == "latency":
                delay += rule.latency_ms
                continue
            self.log.append(Strike(route, method, rule.kind, rule.after and write))
            return rule, delay
        if self.fail_rate > 0 and self.rng.random() < self.fail_rate:
            kind = self.rng.choice(RANDOM_KINDS)
            after = write and self.rng.random() < 0.5
            self.log.append(Strike(route, method, kind, after))
            return Rule(kind, after=after), delay
        return None, delay


def failure(rule: Rule) -> Response:
    """What the client gets for a struck request."""
    if rule.kind == "drop":
        return Dropped()
    status = int(rule.kind) if rule.kind.isdigit() else 500
    headers = {}
    retry_after = rule.retry_after if rule.retry_after is not None else (1 if status in (429, 503) else None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    text = {500: "injected fault", 502: "Bad Gateway", 503: "Service Unavailable", 429: "Too Many Requests"}
    body = json.dumps({"error": f"{text[status]} (injected{' after acting' if rule.after else ''})"})
    return Response(body, status_code=status, headers=headers, media_type="application/json")
