"""The response clock: how long a customer has waited, and what that means.

Levels use the same ``>=`` boundaries as the inbox timer, so the colour an agent sees and
the alert they get always agree.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Protocol

from agentdesk.config import TimerSettings

LEVELS = ("ok", "amber", "red", "late")


def level(waited_seconds: float, timers: TimerSettings) -> str:
    """The level of a wait: "ok" below amber, then "amber", "red", and "late" from ``late_seconds``."""
    if waited_seconds >= timers.late_seconds:
        return "late"
    if waited_seconds >= timers.red_seconds:
        return "red"
    if waited_seconds >= timers.amber_seconds:
        return "amber"
    return "ok"


def needs_apology(waiting_since: float | None, now: float, timers: TimerSettings) -> bool:
    """Should the reply open with the apology? From ``red_seconds`` on.

    Not from amber: 30 s is the team's own target, a wait no customer minds, and an
    apology in every other reply reads as a script. Not only from late: by three minutes
    the platform already counts the reply as late and the customer has noticed – the
    apology belongs to the reply that is about to be late, which is what red (the
    moment the agent is alerted) marks.
    """
    return waiting_since is not None and now - waiting_since >= timers.red_seconds


class Waiting(Protocol):
    id: str
    waiting_since: float | None


class AlertTracker:
    """Which conversations just crossed red, once per waiting episode.

    An episode is ``(conversation id, waiting_since)``: when the customer is answered and
    writes again, ``waiting_since`` changes and the conversation may alert again. The
    caller passes whatever rows it has (the inbox page on screen, a refresh of "mine");
    a row that scrolls away and comes back does not alert twice. Memory is one entry per
    conversation, dropped when a row shows its wait has ended, and at most ``capacity``
    entries (the longest-unseen forgotten first).

    Without ``timers`` the caller has already picked the rows at red: every row that is
    waiting counts as crossed.
    """

    def __init__(self, timers: TimerSettings | None = None, capacity: int = 10_000) -> None:
        self.timers = timers
        self.capacity = capacity
        self._alerted: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._alerted)

    def crossed(self, rows: Iterable[Waiting], now: float) -> list[str]:
        """Ids of rows at red or later whose current episode has not alerted yet."""
        fresh: list[str] = []
        red = self.timers.red_seconds if self.timers is not None else 0
        for row in rows:
            since = row.waiting_since
            if since is None:
                self._alerted.pop(row.id, None)  # answered: the next wait is a new episode
                continue
            if now - since < red:
                continue
            if self._alerted.get(row.id) != since:
                fresh.append(row.id)
            self._alerted[row.id] = since
            self._alerted.move_to_end(row.id)
        while len(self._alerted) > self.capacity:
            self._alerted.popitem(last=False)
        return fresh
