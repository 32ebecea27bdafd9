"""Bringing the Find indexes of a cache up to date in the background.

A cache made before the indexes existed (or filled by a bulk import) is indexed here,
in transactions sized to hold the single writer for about :data:`TARGET` seconds: the
size adapts to how fast this machine indexes, so the sync's own writes and the UI's
never wait behind the indexer for more than a moment, and between two transactions the
indexer rests as long as it held the lock. Searching stays complete meanwhile (what is
not indexed yet is scanned, see :mod:`agentdesk.store.history`).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from agentdesk import textfold
from agentdesk.quickreply import pinyin
from agentdesk.store import Store, history, lookup, quickreplies

#: Seconds one indexing transaction aims to hold the writer.
TARGET = 0.015
_FIRST = 200  # messages in the first transaction, before the rate is known
_MIN, _MAX = 20, 20_000


@dataclass
class Step:
    messages: int
    entities: int
    #: Seconds the transaction ran (BEGIN to the end of the work; COMMIT in WAL mode is a
    #: page append), on the clock and on this thread's CPU (what the work itself costs,
    #: whatever else the machine runs meanwhile).
    held: float
    cpu: float


@dataclass
class Indexer:
    store: Store
    target: float = TARGET
    chunk: int = _FIRST
    entity_chunk: int = _FIRST // 4
    holds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def step(self) -> Step:
        """One transaction of indexing work (pinyin for the customers it will index is
        computed before, outside the transaction)."""
        textfold.prepare()  # the folding table's first build (~40 ms) outside the transaction
        runs = self.store.read(lookup.unknown_runs, self.entity_chunk)
        if runs:
            self.store.write(quickreplies.save_pinyin_keys, pinyin.compute(runs))

        def work(conn) -> Step:
            start, cpu = time.perf_counter(), time.thread_time()
            entities = lookup.index_new(conn, self.entity_chunk)
            middle = time.perf_counter()
            messages = history.backfill(conn, self.chunk) if entities < self.entity_chunk else 0
            end = time.perf_counter()
            self.entity_chunk = _adapt(self.entity_chunk, entities, middle - start, self.target / 2)
            self.chunk = _adapt(self.chunk, messages, end - middle, self.target)
            return Step(messages, entities, end - start, time.thread_time() - cpu)

        # No collector pause while the writer is held (a full collection of the app's heap
        # takes tens of ms): it runs after the commit instead.
        collecting = gc.isenabled()
        gc.disable()
        try:
            done = self.store.write(work)
        finally:
            if collecting:
                gc.enable()
        self.holds.append(done.held)
        self.cpu.append(done.cpu)
        return done

    def run(self, *, cancelled: Callable[[], bool] = lambda: False,
            progress: Callable[[float, int], None] | None = None) -> bool:
        """Index until nothing is left (True) or ``cancelled()`` (False)."""
        while not cancelled():
            done = self.step()
            if progress is not None:
                progress(*self.store.read(lambda c: (history.progress(c), lookup.progress(c))))
            if not done.messages and not done.entities:
                return True
            time.sleep(max(done.held, 0.002))  # the writer is free at least as long as it was held
        return False


def _adapt(chunk: int, did: int, took: float, target: float) -> int:
    """The next chunk from the rate just seen (only a full chunk tells the rate)."""
    if did < chunk or took <= 0:
        return chunk
    ratio = min(2.0, max(0.25, target / took))  # no overshoot on one noisy reading
    return max(_MIN, min(_MAX, int(chunk * ratio)))


def pending(store: Store) -> bool:
    """Is there anything to index (a quick look, for deciding to start the indexer)?"""
    return store.read(lambda c: history.progress(c) < 1.0 or lookup.progress(c) > 0)
