"""Simulated customers: at RATE messages a minute (a Poisson clock, seeded) new
customers open scripted dialogues, impatient ones nudge ("在吗？？"), and a customer
answers an agent's reply with the dialogue's next line a few seconds later.

It has no thread or task of its own: :meth:`Simulator.tick` emits whatever is due by
``now``. The shop calls it at every request and inside long-poll waits (so it moves
under httpx's ASGI transport with no background task) and ``serve()`` also calls it
on a timer. Given the seed and the clock it always says the same things.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from agentdesk.shop.bot import is_greeting

BURST = 20  # at most this many messages per tick: a long pause is not replayed
NUDGES = ("在吗？？", "人呢", "？？？", "有人吗 急", "还在吗")
NUDGE_AFTER = 90.0  # seconds a customer waits before nudging
MAX_NUDGES = 2
GIVE_UP = 1800.0  # a customer nobody answered for this long stops writing
ANSWER_DELAY = (4.0, 15.0)  # seconds between an agent's reply and the customer's next line


@dataclass
class Script:
    """One simulated customer working through a dialogue."""

    dialogue: dict
    customer_id: str
    line: int  # index of the next line to say
    last_at: float  # when the customer last wrote
    due: float | None = None  # when the next line comes; None while waiting for an agent
    nudges: int = 0


class Simulator:
    def __init__(self, rate: float, seed: int, dialogues: list[dict], *,
                 say: Callable[[str, str], dict], customer_exists: Callable[[str], bool]) -> None:
        self.rate = rate
        self.rng = random.Random(seed)
        self.dialogues = [d for d in dialogues if d.get("lines")]
        self.say = say
        self.customer_exists = customer_exists
        self.next_at: float | None = None
        self.active: dict[str, Script] = {}  # conversation id -> script
        self.opened = 0

    @property
    def on(self) -> bool:
        return self.rate > 0 and bool(self.dialogues)

    def _gap(self) -> float:
        return self.rng.expovariate(self.rate / 60.0)

    def on_agent_reply(self, conversation_id: str, now: float) -> None:
        script = self.active.get(conversation_id)
        if script is not None and script.due is None:
            script.due = now + self.rng.uniform(*ANSWER_DELAY)

    def tick(self, now: float) -> int:
        """Say what is due by ``now``; the number of customer messages written."""
        if not self.on:
            return 0
        emitted = 0
        for cid, script in list(self.active.items()):
            if script.due is None and now - script.last_at > GIVE_UP:
                del self.active[cid]
            elif emitted >= BURST:
                continue
            elif script.due is not None and script.due <= now:
                self._next_line(cid, script, now)
                emitted += 1
        if self.next_at is None:
            self.next_at = now + self._gap()
        while self.next_at <= now and emitted <= BURST - 2:  # an opening may say two lines
            emitted += self._one(now)
            self.next_at += self._gap()
        if self.next_at <= now:
            self.next_at = now + self._gap()
        return emitted

    def _next_line(self, cid: str, script: Script, now: float) -> None:
        lines = script.dialogue["lines"]
        said = self.say(script.customer_id, lines[script.line])
        script.line += 1
        script.due = None
        script.last_at = now
        del self.active[cid]
        if script.line < len(lines):
            self.active[said["conversation_id"]] = script

    def _one(self, now: float) -> int:
        waiting = [cid for cid, s in self.active.items()
                   if s.due is None and s.nudges < MAX_NUDGES and now - s.last_at >= NUDGE_AFTER]
        if waiting and self.rng.random() < 0.25:
            script = self.active[self.rng.choice(waiting)]
            self.say(script.customer_id, self.rng.choice(NUDGES))
            script.nudges += 1
            script.last_at = now
            return 1
        return self._open(now)

    def _open(self, now: float) -> int:
        dialogue = self.rng.choice(self.dialogues)
        lines = dialogue["lines"]
        said = self.say(self._fresh_name(dialogue.get("customer") or "顾客"), lines[0])
        count, line = 1, 1
        if len(lines) > 1 and is_greeting(lines[0]):  # "在吗" comes with the real question
            said = self.say(said["customer_id"], lines[1])
            count, line = 2, 2
        if line < len(lines):
            self.active[said["conversation_id"]] = Script(dialogue, said["customer_id"], line, now)
        self.opened += 1
        return count

    def _fresh_name(self, nickname: str) -> str:
        """The dialogue's nickname, numbered when that customer already exists."""
        name, n = nickname, 1
        while self.customer_exists(name):
            n += 1
            name = f"{nickname}{n}"
        return name
