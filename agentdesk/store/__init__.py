"""The local SQLite cache.

:class:`Store` is the one door to it: any number of readers (WAL lets them run beside
the writer), exactly one writer connection whose transactions are serialised by a lock.
Query functions live in small modules (``inbox``, ``thread``, ``customers``, ``writes``)
and take a plain connection, so benchmarks and tests call them directly.

Writes the agent makes (drafts, replies, status changes) are *queued* (:meth:`Store.queue`):
one thread commits them strictly in the order they were queued, whichever thread asks
to wait for them. A draft saved before a reply can then never be committed after it (a
delivered reply coming back as the draft), and :meth:`Store.close` commits whatever is
still queued before it closes.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from agentdesk.store.db import CacheError, check_integrity, connect, open_cache
from agentdesk.store.lock import CacheInUse, CacheLock

__all__ = ["CacheError", "CacheInUse", "CacheLock", "Store", "open_cache"]

T = TypeVar("T")


class Store:
    def __init__(self, path: Path | str, *, lock: CacheLock | None = None) -> None:
        """``lock``: this app's hold on the cache (see :mod:`agentdesk.store.lock`),
        released when the store closes."""
        self.path = Path(path)
        self.lock = lock
        # Opening the writer validates and migrates; a bad file raises CacheError here.
        self._writer = open_cache(self.path, check_same_thread=False).conn
        self._write_lock = threading.Lock()
        self._readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all_readers: list[sqlite3.Connection] = []
        self._borrowed: set[sqlite3.Connection] = set()
        self._pool_lock = threading.Lock()
        self._closed = False
        # One worker thread: a FIFO of writes (and of reads that must see them).
        self._queued = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agentdesk-writes")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """Borrow a read connection (from any thread).

        A worker may still be reading when the app closes the store; closing a
        connection under a running statement crashes the interpreter, so ``close``
        interrupts borrowed connections and the borrower closes them on return.
        """
        with self._pool_lock:
            if self._closed:
                raise sqlite3.ProgrammingError("the cache is closed")
            try:
                conn = self._readers.get_nowait()
            except queue.Empty:
                conn = None
            if conn is None:
                conn = connect(self.path, check_same_thread=False)
                conn.execute("PRAGMA query_only = ON")
                self._all_readers.append(conn)
            self._borrowed.add(conn)
        try:
            yield conn
        finally:
            with self._pool_lock:
                self._borrowed.discard(conn)
                if self._closed:
                    conn.close()
                else:
                    self._readers.put(conn)

    def read(self, fn: Callable[..., T], *args, **kwargs) -> T:
        with self.reading() as conn:
            return fn(conn, *args, **kwargs)

    def write(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """Run ``fn(conn, …)`` in one transaction on the single writer connection."""
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn, *args, **kwargs)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

    def queue(self, fn: Callable[..., T], *args, **kwargs) -> Future[T]:
        """Queue ``fn(conn, …)`` as one write transaction, committed after every write
        queued before it; the future holds its result (or its exception)."""
        return self._submit(self.write, fn, *args, **kwargs)

    def queue_read(self, fn: Callable[..., T], *args, **kwargs) -> Future[T]:
        """A read that sees every write queued before it (a draft just typed, say)."""
        return self._submit(self.read, fn, *args, **kwargs)

    def _submit(self, run: Callable[..., T], fn: Callable[..., T], *args, **kwargs) -> Future[T]:
        try:
            return self._queued.submit(run, fn, *args, **kwargs)
        except RuntimeError:  # shut down: the same answer as any use after close
            raise sqlite3.ProgrammingError("the cache is closed") from None

    def check_integrity(self) -> None:
        """Full page check (slow on big caches: call it from a worker); raises CacheError."""
        with self.reading() as conn:
            check_integrity(conn, self.path)

    def close(self) -> None:
        """Commit the queued writes, then close every connection."""
        self._queued.shutdown(wait=True)
        with self._pool_lock:
            if self._closed:
                return
            self._closed = True
            for conn in self._all_readers:
                if conn in self._borrowed:
                    conn.interrupt()  # its borrower closes it when the statement stops
                else:
                    conn.close()
        with self._write_lock:
            self._writer.close()
        if self.lock is not None:
            self.lock.release()
