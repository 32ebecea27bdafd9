"""One ordered input path: every key is handled, in arrival order, by the widget that has
the focus once everything the keys before it set off has happened.

Textual hands each key to the focused widget as soon as the app reads it, by posting it
to that widget's queue. A terminal read often delivers several keys at once (a fast
typist, SSH coalescing, a tmux ``send-keys``), and the app then hands them all to the same
widget before that widget has handled the first. So when the first key moves the focus
(``/`` opens the quick-reply picker, Enter opens a conversation, Tab moves to the next
field, a key opens a dialog), the keys after it still go to the old widget: ``/tk``
opened an empty picker and typed "tk" into the reply.

:class:`KeyOrder` holds keys instead. After handing one key on, the app keeps the keys
that arrive in a queue until the whole app is *settled*: no message pump (the app, every
screen, every widget on them) has a message queued or under way – so the key has been
handled, its bindings have run, and any focus change, pushed or dismissed screen it
caused has taken effect – and no worker whose answer moves the focus is still running
(:attr:`KeyOrder.FOCUS_WORKER_GROUPS`, e.g. "open the longest-waiting customer" reads
the cache first). Then the next key goes to whatever has the focus now. A key is never
dropped: if the app does not settle within :data:`SETTLE_LIMIT` seconds (something keeps
it busy), the next key is handed on anyway, in order.

Pastes (one event for the whole text) travel the same path, in order with the keys.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from textual import events

from agentdesk.ui.textual_internals import busy

#: Seconds between checks whether the app has settled while keys wait.
POLL = 0.001
#: The longest a key waits for the app to settle before it is handed on regardless.
SETTLE_LIMIT = 2.0
#: Loop turns in a row the app must be seen settled.
QUIET_TURNS = 3


class KeyOrder:
    """Mixin for a Textual ``App`` (put it before ``App`` in the bases)."""

    #: Worker groups whose answer moves the focus: keys wait while one of them runs.
    FOCUS_WORKER_GROUPS: frozenset[str] = frozenset()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._keys_waiting: deque[events.Event] = deque()
        self._key_in_flight = False
        self._key_since = 0.0
        self._key_poll: asyncio.Handle | None = None

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            await self._key_arrived(event)
            return
        await super().on_event(event)  # type: ignore[misc]

    async def _key_arrived(self, event: events.Event) -> None:
        if self._key_in_flight or self._keys_waiting:
            self._keys_waiting.append(event)
            self._poll_soon()
            return
        await self._hand_on(event)

    async def _hand_on(self, event: events.Event) -> None:
        self._key_in_flight = True
        self._key_since = time.monotonic()
        try:
            await super().on_event(event)  # type: ignore[misc]
        finally:
            self._poll_soon()

    def _poll_soon(self, later: bool = False) -> None:
        if self._key_poll is None:
            loop = asyncio.get_running_loop()
            self._key_poll = loop.call_later(POLL, self._poll) if later else loop.call_soon(self._poll)

    def _poll(self, quiet: int = 0) -> None:
        """Runs on the event loop between message handlers, never inside one. A task
        woken in this loop iteration runs after this check, so "settled" has to hold
        for :data:`QUIET_TURNS` turns of the loop in a row."""
        self._key_poll = None
        if not self._key_in_flight:
            return
        late = time.monotonic() - self._key_since >= SETTLE_LIMIT
        if not late and not self.keys_settled():
            self._poll_soon(later=True)
            return
        if not late and quiet + 1 < QUIET_TURNS:
            self._key_poll = asyncio.get_running_loop().call_soon(self._poll, quiet + 1)  # type: ignore[assignment]
            return
        self._key_in_flight = False
        if self._keys_waiting:
            self.call_later(self._next_key)  # type: ignore[attr-defined]

    async def _next_key(self) -> None:
        if self._key_in_flight or not self._keys_waiting:
            return
        await self._hand_on(self._keys_waiting.popleft())

    @property
    def keys_pending(self) -> int:
        """Keys read from the terminal and not handed on yet (tests wait on this)."""
        return len(self._keys_waiting)

    def keys_settled(self) -> bool:
        """Nothing queued or under way anywhere, and no focus-moving worker running."""
        app = self
        if any(w.group in self.FOCUS_WORKER_GROUPS and not w.is_finished for w in app.workers):  # type: ignore[attr-defined]
            return False
        pumps = [app]
        for screen in app.screen_stack:  # type: ignore[attr-defined]
            pumps.extend(screen.walk_children(with_self=True))
        return not any(busy(pump) for pump in pumps)
