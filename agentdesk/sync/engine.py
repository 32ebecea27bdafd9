"""The sync engine: initial sync by keyset pages, then the event feed, plus the outbox.

Crash safety: every page of objects or events is applied in ONE write transaction
together with the position it brings us to (the page cursor or the feed cursor, kept in
``meta``). Killed at any instant, the next start resumes from the last committed
position; what the server re-sends is absorbed by idempotent upserts.

The engine is asyncio code with no Textual in it. The app runs it on its own event loop
in a worker thread, so neither HTTP nor SQLite ever blocks the UI; it reports through
two callbacks: ``on_change(Changes)`` once per applied batch (coalesced) and
``on_status(SyncStatus)``.

Nothing from the server stops it: a malformed object is quarantined (the ``problems``
table, in the same transaction as its page, so the cursor moves past it); an object
the cache cannot store is retried alone and quarantined if it still fails; a cursor
that does not move is an error, not a loop; and any unexpected exception is caught,
shown and followed by a restart with backoff.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import sqlite3
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from agentdesk.store import Store, outbox, problems, quickreplies, writes
from agentdesk.sync import apply, wire
from agentdesk.sync.client import ApiError, BadAnswer, SetupError, ShopClient, ShopReader, Unavailable

log = logging.getLogger(__name__)

#: Initial sync order: what later pages refer to comes first.
RESOURCES = ("customers", "orders", "conversations", "messages", "notes", "followups")
#: meta keys
CURSOR = "sync.cursor"  # the feed cursor once the initial sync is complete
HEAD = "sync.head"  # the feed head taken before paging (the initial sync is under way)
PAGE = "sync.page."  # + resource: next page cursor, "done" when finished
LAST_SYNC = "sync.last_at"
#: The shop-wide reply library has no change events: it is re-read this often (seconds).
REPLIES_EVERY = 600.0
#: The shop long-polls in whole seconds, so a ``wait`` under 1 s asks it not to wait at
#: all; an empty answer is then followed by this pause instead of an immediate re-ask.
IDLE_PAUSE = 0.5
#: After an error only a change of config fixes (token, redirect, TLS): try again after this.
SETUP_RETRY = 60.0
#: Errors of one object the cache refuses to store (a duplicate client id, …): that
#: object is quarantined; any other exception stops the batch and restarts the engine.
STORAGE_ERRORS = (sqlite3.IntegrityError, sqlite3.DataError, OverflowError, UnicodeError)


@dataclass
class Changes:
    """What one batch changed, so the UI re-reads only that."""

    conversations: set[str] = field(default_factory=set)  # rows whose inbox line may differ
    threads: set[str] = field(default_factory=set)  # conversations with new/changed messages
    customers: set[str] = field(default_factory=set)  # customer cards (profile, orders, notes)
    agents: bool = False
    followups: bool = False  # the team's follow-up list
    quick_replies: bool = False  # the shop-wide reply library was replaced
    conflicts: list[tuple[str, str]] = field(default_factory=list)  # (conversation id, message)
    failures: list[str] = field(default_factory=list)  # one-line errors to show
    skipped: int = 0  # objects the server sent that were quarantined in this batch

    def __bool__(self) -> bool:
        return bool(self.conversations or self.threads or self.customers or self.agents or self.followups
                    or self.quick_replies or self.conflicts or self.failures or self.skipped)


@dataclass(frozen=True)
class SyncStatus:
    state: str  # syncing | online | offline
    last_sync_at: float | None = None
    pending: int = 0  # outbox rows waiting to go
    error: str | None = None  # one line, in English (the CLI prints it)
    progress: tuple[str, int] | None = None  # (resource, objects so far) during initial sync
    retry_at: float | None = None  # time.monotonic() of the next attempt, while waiting for it
    skipped: int = 0  # objects quarantined in the cache (problems rows)
    #: What the error is, for a screen to say in its language: ApiError.kind
    #: (auth, tls, redirect, busy, timeout, unreachable, bad_answer, crashed, …) and its values.
    error_kind: str = ""
    error_params: tuple[tuple[str, str], ...] = ()


class SyncEngine:
    def __init__(
        self,
        store: Store,
        client: ShopReader,
        *,
        clock: Callable[[], float] = time.time,
        on_change: Callable[[Changes], None] | None = None,
        on_status: Callable[[SyncStatus], None] | None = None,
        page_size: int = 500,
        wait: float = 25.0,
        offline_retry: tuple[float, ...] = (1, 2, 5, 10, 30),
        setup_retry: float = SETUP_RETRY,
    ) -> None:
        self.store = store
        self.client = client
        self.clock = clock
        self.on_change = on_change or (lambda changes: None)
        self.on_status = on_status or (lambda status: None)
        self.page_size = page_size
        self.wait = wait
        self.offline_retry = offline_retry
        self.setup_retry = setup_retry
        self.status = SyncStatus("offline", last_sync_at=self._last_sync())
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kick: asyncio.Event | None = None
        self._stopping = False
        self._replies_at = 0.0
        self._presence: str | None = None  # what I last asked to be shown as
        self._failures = 0  # restarts in a row; reset once a session reaches the feed
        self._recent_cursors: deque[str] = deque(maxlen=64)  # feed cursors passed, to see a cycle

    # -- status ----------------------------------------------------------------------------

    def _last_sync(self) -> float | None:
        value = self.store.read(writes.get_meta, LAST_SYNC)
        return float(value) if value else None

    def _set_status(self, state: str, *, error: str | None = None, progress=None, retry_at: float | None = None,
                    kind: str = "", params: dict | None = None) -> None:
        try:
            def counts(conn):
                return outbox.pending_count(conn), problems.count(conn), writes.get_meta(conn, LAST_SYNC)

            pending, skipped, last = self.store.read(counts)
            last_sync = float(last) if last else None
        except sqlite3.Error:  # the cache cannot be read just now: keep the last figures
            pending, skipped, last_sync = self.status.pending, self.status.skipped, self.status.last_sync_at
        status = SyncStatus(state, last_sync, pending, error, progress, retry_at, skipped,
                            kind if error else "", tuple(sorted((params or {}).items())) if error else ())
        if status != self.status:
            self.status = status
            self.on_status(status)

    def _show_failure(self, state: str, exc: BaseException, retry_at: float | None) -> None:
        """``state`` with ``exc`` (an ApiError or PayloadError) as the error to show."""
        self._set_status(state, error=str(exc), retry_at=retry_at, kind=getattr(exc, "kind", "bad_answer"),
                         params=getattr(exc, "params", None))

    def _retrying(self, delay: float, exc: Unavailable, write: bool) -> None:
        """The client waits before asking again: show why and for how long. A read that
        cannot get through means offline; a write waiting leaves the feed's state alone."""
        self._show_failure(self.status.state if write else "offline", exc, time.monotonic() + delay)

    @property
    def stopping(self) -> bool:
        """stop() was called: the engine ends and is not coming back."""
        return self._stopping

    # -- quarantine ----------------------------------------------------------------------

    def _quarantine(self, conn, found: list[wire.Problem], changes: Changes) -> None:
        """Keep the objects the server sent that cannot be used (see store.problems)."""
        for p in found:
            log.info("server object skipped: %s", p)  # kept in problems; never raw on a terminal
            problems.record(conn, p.resource, p.object_id, p.field, p.reason, p.raw, self.clock())
        changes.skipped += len(found)

    def _store_records(self, conn, batch: list[tuple[str, dict]], upsert_all, changes: Changes) -> list[tuple[str, dict]]:
        """``upsert_all(conn, batch)`` (which returns the (resource, record) pairs that
        changed the cache) in a savepoint. If the cache refuses one object, each is
        stored alone and the refused ones are quarantined, so one cannot stop the rest."""
        conn.execute("SAVEPOINT batch")
        refused: set[int] = set()  # positions in batch the cache refused
        try:
            changed = upsert_all(conn, batch)
        except STORAGE_ERRORS:
            conn.execute("ROLLBACK TO batch")
            changed = []
            for n, (resource, record) in enumerate(batch):
                conn.execute("SAVEPOINT one")
                try:
                    changed += upsert_all(conn, [(resource, record)])
                except STORAGE_ERRORS as exc:
                    conn.execute("ROLLBACK TO one")
                    refused.add(n)
                    raw = json.dumps(record, ensure_ascii=False, default=str).encode()
                    self._quarantine(conn, [wire.Problem(resource, str(record.get("id")), "",
                                                         f"cannot be stored: {type(exc).__name__}: {exc}", raw)],
                                     changes)
                conn.execute("RELEASE one")
        conn.execute("RELEASE batch")
        if problems.any_problems(conn):  # good versions end the problems of the same objects
            by_resource: dict[str, list[str]] = {}
            for n, (resource, record) in enumerate(batch):
                if n not in refused:
                    by_resource.setdefault(resource, []).append(str(record["id"]))
            for resource, ids in by_resource.items():
                problems.clear(conn, resource, ids)
        return changed

    # -- identity ----------------------------------------------------------------------

    async def identify(self) -> wire.Me:
        """Who this token is and which shop: stored so the app can show them offline."""
        me = await self.client.me()
        agents = await self.client.agents()
        changes = Changes(agents=True)

        def write(conn):
            self._quarantine(conn, agents.problems, changes)
            self._store_records(conn, [("agents", a) for a in agents.items], _upsert_each, changes)
            apply.agent(conn, me.agent)
            writes.set_meta(conn, "me", me.agent["id"])
            writes.set_meta(conn, "shop_id", me.shop_id)
            writes.set_meta(conn, "shop_name", me.shop_name)
            writes.set_meta(conn, "read_only", "1" if me.read_only else "0")

        self.store.write(write)
        self.on_change(changes)
        return me

    # -- presence --------------------------------------------------------------------------------

    def request_presence(self, status: str) -> concurrent.futures.Future | None:
        """Ask the shop to show me ``online`` or ``away`` (callable from any thread). The
        write runs on the engine's own loop; the Agent it answers goes into the cache,
        then ``on_change(Changes(agents=True))``. Returns a future of that Agent, or None
        when nothing can send it: a read-only client, or an engine that is not running."""
        loop = self._loop
        if not isinstance(self.client, ShopClient) or loop is None or loop.is_closed() or self._stopping:
            return None
        coro = self.set_presence(status)
        try:
            return asyncio.run_coroutine_threadsafe(coro, loop)
        except RuntimeError:  # the loop closed meanwhile
            coro.close()
            return None

    async def set_presence(self, status: str) -> dict:
        """``PUT /v1/me/status`` on this loop; the answer is applied to the cache. Being
        away is remembered: after a reconnect (silence shows me offline, a request online
        again) the engine says so again."""
        assert isinstance(self.client, ShopClient)
        answer = await self.client.set_status(status, str(uuid.uuid4()))
        agent = wire.agent(answer)
        self._presence = status
        self.store.write(apply.agent, agent)
        self.on_change(Changes(agents=True))
        return agent

    async def _restore_presence(self, me: wire.Me) -> None:
        if self._presence == "away" and me.agent["status"] != "away" and isinstance(self.client, ShopClient):
            await self.set_presence("away")

    # -- initial sync --------------------------------------------------------------------------

    def synced(self) -> bool:
        return bool(self.store.read(writes.get_meta, CURSOR))

    async def initial_sync(self, progress: Callable[[str, int, bool], None] | None = None) -> int:
        """Page through every resource (resuming where a previous run stopped). A cache
        synced before a resource existed (follow-ups) pages just that one; the feed
        keeps its cursor. Returns the number of objects applied (quarantined ones not
        counted). A ``next`` cursor seen before in this run is an error: paging in a circle."""
        synced = self.synced()
        todo = [r for r in RESOURCES if self.store.read(writes.get_meta, PAGE + r) != "done"]
        if not todo:
            return 0
        head = self.store.read(writes.get_meta, HEAD)
        if not head:
            head = await self.client.events_head()
            self.store.write(writes.set_meta, HEAD, head)
        total = 0
        for resource in todo:
            after = self.store.read(writes.get_meta, PAGE + resource) or None
            visited = {after}
            count = 0
            while True:
                page = await self.client.page(resource, after, self.page_size)
                nxt = page.next
                if nxt is not None and nxt in visited:
                    raise BadAnswer(f"{self.client.base_url}/v1/{resource}",
                                    f"the next cursor {nxt!r} was already visited: paging would go round forever")
                visited.add(nxt)
                changes = Changes()
                last = resource == todo[-1] and not nxt and not synced

                def write(conn, page=page, nxt=nxt, last=last, changes=changes):
                    self._quarantine(conn, page.problems, changes)
                    self._apply_items(conn, resource, page.items, changes)
                    writes.set_meta(conn, PAGE + resource, nxt or "done")
                    if last:  # the initial sync is complete: the feed takes over from the head
                        writes.set_meta(conn, CURSOR, head)
                        writes.set_meta(conn, LAST_SYNC, repr(self.clock()))

                self.store.write(write)
                count += len(page.items)
                total += len(page.items)
                if progress:
                    progress(resource, count, not nxt)
                self._set_status("syncing", progress=(resource, count))
                if changes:
                    self.on_change(changes)
                if not nxt:
                    break
                after = nxt
        return total

    async def sync_quick_replies(self) -> int:
        """The shop-wide reply library (``GET /v1/quick-replies``) replaces the cached one
        when it differs; each reply is checked when the library loads, so one bad row is
        reported and skipped there, never stored half-parsed here. What is not even an
        object is quarantined."""
        page = await self.client.quick_replies()
        items = page.items
        if page.problems:
            changes = Changes()
            self.store.write(self._quarantine, page.problems, changes)
            self.on_change(changes)
        if self.store.read(quickreplies.shop_replies) == items:
            self._replies_at = self.clock()
            return 0
        self.store.write(quickreplies.replace_shop_replies, items)
        self._replies_at = self.clock()
        self.on_change(Changes(quick_replies=True))
        return len(items)

    def _apply_items(self, conn, resource: str, items: list[dict], changes: Changes) -> None:
        upsert_all = _upsert_messages if resource == "messages" else _upsert_each  # messages: one batch a page
        for res, obj in self._store_records(conn, [(resource, i) for i in items], upsert_all, changes):
            _note_change(res, obj, changes)

    # -- the event feed ----------------------------------------------------------------------------

    async def poll(self, wait: float | None = None) -> int:
        """One request to the feed; applies what it brings. Returns the events applied.
        A ``next`` cursor already passed is an error: the feed would go round in a circle."""
        cursor = self.store.read(writes.get_meta, CURSOR)
        feed = await self.client.events(cursor, wait=self.wait if wait is None else wait, limit=self.page_size)
        nxt = feed.next
        if nxt != cursor and nxt in self._recent_cursors:
            raise BadAnswer(f"{self.client.base_url}/v1/events",
                            f"the next cursor {nxt!r} was already passed: the feed goes round in a circle")
        changes = Changes()
        # Out-of-order delivery: messages go in seq order; everything else is guarded
        # by versions and update times inside the upserts.
        events = sorted(feed.events, key=lambda ev: (ev.resource == "messages", ev.record.get("seq", 0)))

        def write(conn):
            self._quarantine(conn, feed.problems, changes)
            changed = self._store_records(conn, [(ev.resource, ev.record) for ev in events], _upsert_each, changes)
            for resource, obj in changed:
                _note_change(resource, obj, changes)
            if nxt != cursor:
                writes.set_meta(conn, CURSOR, nxt)
            writes.set_meta(conn, LAST_SYNC, repr(self.clock()))
            return len(changed)

        applied = self.store.write(write)
        if nxt != cursor:
            self._recent_cursors.append(cursor)
        if changes.skipped:  # the header counts them at once
            self._set_status(self.status.state, progress=self.status.progress)
        if changes:
            self.on_change(changes)
        return applied

    async def catch_up(self) -> int:
        """Drain the feed without waiting (used by ``agentdesk sync --once``): until the
        cursor stops moving, or reaches the head the shop named when this began (so a
        shop that never stops sending cannot keep it here)."""
        head = _cursor_int(await self.client.events_head())
        total = 0
        while True:
            before = self.store.read(writes.get_meta, CURSOR)
            total += await self.poll(wait=0)
            now = self.store.read(writes.get_meta, CURSOR)
            if now == before:
                return total
            position = _cursor_int(now)
            if head is not None and position is not None and position >= head:
                return total

    # -- the outbox ---------------------------------------------------------------------------------

    async def flush_outbox(self) -> int:
        """Send due outbox rows oldest first; stop at the first transient failure so
        replies in one conversation never overtake each other. Returns rows acknowledged.
        A failure that is not the row's own (the shop down, an answer that cannot be
        read, the token refused) leaves it pending: nothing typed is lost."""
        if not isinstance(self.client, ShopClient):
            return 0  # read-only: nothing can be sent (and nothing is ever queued)
        sent = 0
        while True:
            items = self.store.read(outbox.due, self.clock())
            if not items:
                return sent
            for item in items:
                changes = Changes()
                try:
                    answer = await self.client.write(item.method, item.path, item.body, item.id)
                except (Unavailable, BadAnswer, SetupError) as exc:
                    retry_after = exc.retry_after if isinstance(exc, Unavailable) else None
                    self.store.write(outbox.postpone, item.id, self.clock(), str(exc), retry_after)
                    wake = self.store.read(outbox.next_due_at)
                    retry_at = time.monotonic() + max(0.0, wake - self.clock()) if wake is not None else None
                    self._show_failure(self.status.state, exc, retry_at)
                    raise
                except ApiError as exc:
                    await self._refused(item, exc, changes)
                else:
                    self.store.write(self._acknowledge, item, answer, changes)
                    sent += 1
                if item.conversation_id:
                    changes.conversations.add(item.conversation_id)
                    changes.threads.add(item.conversation_id)
                if item.customer_id:
                    changes.customers.add(item.customer_id)
                self.on_change(changes)

    def _acknowledge(self, conn, item: outbox.OutboxItem, answer, changes: Changes) -> None:
        try:
            if item.kind in ("reply", "note"):
                apply.message(conn, wire.message(answer))
            elif item.kind == "customer_note":
                apply.note(conn, wire.note(answer))
            elif item.kind.startswith("order_"):
                apply.order(conn, wire.order(answer))
            elif item.kind in ("followup", "followup_patch"):
                apply.followup(conn, wire.followup(answer))
                changes.followups = True
            elif item.kind == "outreach":
                parts = answer if isinstance(answer, dict) else {}
                conv, msg = wire.conversation(parts.get("conversation")), wire.message(parts.get("message"))
                apply.conversation(conn, conv)
                apply.message(conn, msg)
                changes.conversations.add(conv["id"])
                changes.threads.add(conv["id"])
            else:
                apply.conversation(conn, wire.conversation(answer))
        except wire.PayloadError as exc:  # it was accepted; the feed will bring the object
            self._quarantine(conn, [exc.problem], changes)
        outbox.done(conn, item.id)
        conn.execute("UPDATE messages SET state = 'sent', error = NULL WHERE client_id = ? AND state != 'sent'",
                     [item.id])

    async def _refused(self, item: outbox.OutboxItem, exc: ApiError, changes: Changes) -> None:
        """A definite no. 409 owned_by_other on a reply: take it back into the draft,
        refresh the conversation, tell the agent. Other refusals mark the row failed."""
        if exc.code == "owned_by_other" and item.kind in ("reply", "note", "claim"):
            name = exc.problem.get("assignee_name") or exc.problem.get("assignee_id") or "?"
            self.store.write(outbox.withdraw, item.id, self.clock())
            changes.conflicts.append((item.conversation_id or "", str(name)))
        else:  # a failed row is not sent again unless the agent asks
            error = f"{exc.status} {exc.code}: {exc.detail}"

            self.store.write(outbox.fail, item.id, error)
            changes.failures.append(error)
            changes.followups = changes.followups or item.kind == "followup"
        if item.conversation_id and exc.code in ("owned_by_other", "stale_version"):
            try:
                fresh = await self.client.conversation(item.conversation_id)
            except (ApiError, wire.PayloadError):
                return
            self.store.write(apply.conversation, fresh)

    # -- running -------------------------------------------------------------------------------------

    def kick(self) -> None:
        """Something was queued: send now (callable from any thread)."""
        if self._loop is not None and self._kick is not None:
            self._loop.call_soon_threadsafe(self._kick.set)

    def stop(self) -> None:
        self._stopping = True
        if self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(self._cancel_all)
            except RuntimeError:  # the loop already closed: nothing left to stop
                pass

    def _cancel_all(self) -> None:
        for task in asyncio.all_tasks(self._loop):
            task.cancel()

    async def run(self) -> None:
        """Sync until stopped: identity, initial sync, then feed and outbox side by
        side. Whatever stops a session – the shop unreachable, a bad answer, a bug – is
        shown and the engine starts again after a pause (longer each time, and a
        minute when only a change of config can help). Only :meth:`stop` ends it."""
        self._loop = asyncio.get_running_loop()
        self._kick = asyncio.Event()
        self.client.on_retry = self._retrying
        while not self._stopping:
            try:
                await self._session()
            except Exception as exc:  # noqa: BLE001 - every failure is shown, then retried
                if self._stopping:
                    break
                await self._recover(_root_cause(exc))

    async def _session(self) -> None:
        self._set_status("syncing")
        await self._restore_presence(await self.identify())
        await self.initial_sync()
        await self.sync_quick_replies()
        self._set_status("online")
        self._failures = 0
        async with asyncio.TaskGroup() as group:
            group.create_task(self._follow())
            group.create_task(self._outbox_loop())

    async def _recover(self, exc: BaseException) -> None:
        """Show what stopped the session, wait, and let run() start the next one."""
        if isinstance(exc, SetupError):
            delay = self.setup_retry
        else:
            delay = self.offline_retry[min(self._failures, len(self.offline_retry) - 1)]
            self._failures += 1
        retry_at = time.monotonic() + delay
        if isinstance(exc, (ApiError, wire.PayloadError)):
            self._show_failure("offline", exc, retry_at)
        else:  # a bug, or something nobody planned for: say so in one line, keep going
            log.debug("sync engine failed; restarting in %.0f s", delay, exc_info=exc)  # for a developer's log
            what = f"{type(exc).__name__}: {_one_line(exc)}"
            text = f"sync stopped by an unexpected error ({what}); restarting"
            self._set_status("offline", error=text, retry_at=retry_at, kind="crashed", params={"e": what})
            self.on_change(Changes(failures=[text]))
        if isinstance(exc, SetupError):
            await asyncio.sleep(delay)  # a queued reply cannot fix the config: no early retry
        else:
            await self._sleep_or_kick(delay)

    async def _follow(self) -> None:
        while True:
            applied = await self.poll()
            if not applied and self.wait < 1:
                await asyncio.sleep(IDLE_PAUSE)
            if self.clock() - self._replies_at > REPLIES_EVERY:
                await self.sync_quick_replies()
            self._set_status("online")

    async def _outbox_loop(self) -> None:
        assert self._kick is not None
        while True:
            self._kick.clear()
            try:
                await self.flush_outbox()
            except (Unavailable, BadAnswer):
                pass  # postponed; the next attempt time is in the row
            else:
                if self.status.state == "online":
                    self._set_status("online")  # the count of writes to send, and no stale error
            wake = self.store.read(outbox.next_due_at)
            timeout = None if wake is None else max(0.05, wake - self.clock())
            await self._sleep_or_kick(timeout)

    async def _sleep_or_kick(self, timeout: float | None) -> None:
        assert self._kick is not None
        try:
            await asyncio.wait_for(self._kick.wait(), timeout)
        except TimeoutError:
            pass
        self._kick.clear()


def _upsert_each(conn, batch: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    return [(resource, obj) for resource, obj in batch if apply.UPSERTS[resource](conn, obj)]


def _upsert_messages(conn, batch: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    return [("messages", m) for m in apply.messages(conn, [obj for _resource, obj in batch])]


def _root_cause(exc: BaseException) -> BaseException:
    """The failure that matters in a TaskGroup's ExceptionGroup: one that needs the
    user first, then any other ApiError, then whatever came first."""
    leaves: list[BaseException] = []
    todo = [exc]
    while todo:
        e = todo.pop(0)
        if isinstance(e, BaseExceptionGroup):
            todo.extend(e.exceptions)
        else:
            leaves.append(e)
    for kind in (SetupError, ApiError, wire.PayloadError):
        for e in leaves:
            if isinstance(e, kind):
                return e
    return leaves[0] if leaves else exc


def _cursor_int(cursor: str | None) -> int | None:
    """A cursor as a number when it is one (the reference shop's are), else None."""
    try:
        return int(cursor) if cursor is not None else None
    except ValueError:
        return None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


def _note_change(resource: str, obj: dict, changes: Changes) -> None:
    if resource == "messages":
        changes.threads.add(obj["conversation_id"])
        changes.conversations.add(obj["conversation_id"])
    elif resource == "conversations":
        changes.conversations.add(obj["id"])
        changes.threads.add(obj["id"])
    elif resource == "customers":
        changes.customers.add(obj["id"])
        changes.conversations.add("*")  # names and VIP badges show in the inbox
    elif resource in ("orders", "notes"):
        changes.customers.add(obj["customer_id"])
    elif resource == "followups":
        changes.customers.add(obj["customer_id"])  # the card lists open follow-ups
        changes.followups = True
    elif resource == "agents":
        changes.agents = True
