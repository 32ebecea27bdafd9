"""The sync engine: initial sync by keyset pages, then the event feed, plus the outbox.

Crash safety: every page of objects or events is applied in ONE write transaction
together with the position it brings us to (the page cursor or the feed cursor, kept in
``meta``). Killed at any instant, the next start resumes from the last committed
position; what the server re-sends is absorbed by idempotent upserts.

The engine is asyncio code with no Textual in it. The app runs it on its own event loop
in a worker thread, so neither HTTP nor SQLite ever blocks the UI; it reports through
two callbacks: ``on_change(Changes)`` once per applied batch (coalesced) and
``on_status(SyncStatus)``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from agentdesk.store import Store, outbox, quickreplies, writes
from agentdesk.sync import apply, wire
from agentdesk.sync.client import ApiError, AuthError, ShopClient, ShopReader, Unavailable

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

    def __bool__(self) -> bool:
        return bool(self.conversations or self.threads or self.customers or self.agents or self.followups
                    or self.quick_replies or self.conflicts or self.failures)


@dataclass(frozen=True)
class SyncStatus:
    state: str  # syncing | online | offline
    last_sync_at: float | None = None
    pending: int = 0  # outbox rows waiting to go
    error: str | None = None
    progress: tuple[str, int] | None = None  # (resource, objects so far) during initial sync


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
    ) -> None:
        self.store = store
        self.client = client
        self.clock = clock
        self.on_change = on_change or (lambda changes: None)
        self.on_status = on_status or (lambda status: None)
        self.page_size = page_size
        self.wait = wait
        self.offline_retry = offline_retry
        self.status = SyncStatus("offline", last_sync_at=self._last_sync())
        self._loop: asyncio.AbstractEventLoop | None = None
        self._kick: asyncio.Event | None = None
        self._stopping = False
        self._replies_at = 0.0
        self._presence: str | None = None  # what I last asked to be shown as

    # -- status ----------------------------------------------------------------------------

    def _last_sync(self) -> float | None:
        value = self.store.read(writes.get_meta, LAST_SYNC)
        return float(value) if value else None

    def _set_status(self, state: str, *, error: str | None = None, progress=None) -> None:
        pending = self.store.read(outbox.pending_count)
        status = SyncStatus(state, self._last_sync(), pending, error, progress)
        if status != self.status:
            self.status = status
            self.on_status(status)

    # -- identity ----------------------------------------------------------------------

    async def identify(self) -> dict:
        """Who this token is and which shop: stored so the app can show them offline."""
        me = await self.client.me()
        agent = wire.agent(me.get("agent"))
        shop = me.get("shop") or {}
        agents = [wire.agent(a) for a in await self.client.agents()]

        def write(conn):
            for a in agents:
                apply.agent(conn, a)
            writes.set_meta(conn, "me", agent["id"])
            writes.set_meta(conn, "shop_id", str(shop.get("id", "")))
            writes.set_meta(conn, "shop_name", str(shop.get("name", "")))
            writes.set_meta(conn, "read_only", "1" if me["agent"].get("read_only") else "0")

        self.store.write(write)
        self.on_change(Changes(agents=True))
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

    async def _restore_presence(self, me: dict) -> None:
        shown = (me.get("agent") or {}).get("status")
        if self._presence == "away" and shown != "away" and isinstance(self.client, ShopClient):
            await self.set_presence("away")

    # -- initial sync --------------------------------------------------------------------------

    def synced(self) -> bool:
        return bool(self.store.read(writes.get_meta, CURSOR))

    async def initial_sync(self, progress: Callable[[str, int, bool], None] | None = None) -> int:
        """Page through every resource (resuming where a previous run stopped). A cache
        synced before a resource existed (follow-ups) pages just that one; the feed
        keeps its cursor. Returns the number of objects applied."""
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
            count = 0
            while True:
                items, nxt = await self.client.page(resource, after, self.page_size)
                changes = Changes()
                last = resource == todo[-1] and not nxt and not synced

                def write(conn, items=items, nxt=nxt, last=last, changes=changes):
                    self._apply_items(conn, resource, items, changes)
                    writes.set_meta(conn, PAGE + resource, nxt or "done")
                    if last:  # the initial sync is complete: the feed takes over from the head
                        writes.set_meta(conn, CURSOR, head)
                        writes.set_meta(conn, LAST_SYNC, repr(self.clock()))

                self.store.write(write)
                count += len(items)
                total += len(items)
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
        reported and skipped there, never stored half-parsed here."""
        items = await self.client.quick_replies()
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise wire.PayloadError("quick-replies: items must be a list of objects")
        if self.store.read(quickreplies.shop_replies) == items:
            self._replies_at = self.clock()
            return 0
        self.store.write(quickreplies.replace_shop_replies, items)
        self._replies_at = self.clock()
        self.on_change(Changes(quick_replies=True))
        return len(items)

    def _apply_items(self, conn, resource: str, items: list, changes: Changes) -> None:
        check, upsert = apply.RESOURCES[resource]
        parsed = []
        for raw in items:
            try:
                parsed.append(check(raw))
            except wire.PayloadError as exc:
                self._bad(str(exc), changes)
        if resource == "messages":  # the bulk of any sync: one batch write per page
            for obj in apply.messages(conn, parsed):
                _note_change(resource, obj, changes)
            return
        for obj in parsed:
            if upsert(conn, obj):
                _note_change(resource, obj, changes)

    def _bad(self, error: str, changes: Changes) -> None:
        """A malformed object is skipped (and said so); the rest of its page still applies."""
        log.warning("server payload skipped: %s", error)
        changes.failures.append(f"server payload skipped: {error}")

    # -- the event feed ----------------------------------------------------------------------------

    async def poll(self, wait: float | None = None) -> int:
        """One request to the feed; applies what it brings. Returns the events applied."""
        cursor = self.store.read(writes.get_meta, CURSOR)
        events, nxt = await self.client.events(cursor, wait=self.wait if wait is None else wait)
        changes = Changes()

        def write(conn):
            applied = 0
            parsed = []
            for raw in events:
                try:
                    if not isinstance(raw, dict) or raw.get("type") not in apply.EVENTS:
                        raise wire.PayloadError(f"event {raw.get('cursor', '?') if isinstance(raw, dict) else '?'}: "
                                                f"type: unknown {raw.get('type') if isinstance(raw, dict) else raw!r}")
                    resource, check, upsert = apply.EVENTS[raw["type"]]
                    parsed.append((raw["type"], resource, upsert, check(raw.get("data"))))
                except wire.PayloadError as exc:
                    self._bad(str(exc), changes)
            # Out-of-order delivery: messages go in seq order; everything else is
            # guarded by versions and update times inside the upserts.
            parsed.sort(key=lambda ev: (ev[0] == "message.created", ev[3].get("seq", 0)))
            for _kind, resource, upsert, obj in parsed:
                if upsert(conn, obj):
                    applied += 1
                    _note_change(resource, obj, changes)
            if _cursor_int(nxt) > _cursor_int(cursor):
                writes.set_meta(conn, CURSOR, nxt)
            writes.set_meta(conn, LAST_SYNC, repr(self.clock()))
            return applied

        applied = self.store.write(write)
        if changes:
            self.on_change(changes)
        return applied

    async def catch_up(self) -> int:
        """Drain the feed without waiting (used by ``agentdesk sync --once``)."""
        total = 0
        while True:
            before = self.store.read(writes.get_meta, CURSOR)
            total += await self.poll(wait=0)
            if self.store.read(writes.get_meta, CURSOR) == before:
                return total

    # -- the outbox ---------------------------------------------------------------------------------

    async def flush_outbox(self) -> int:
        """Send due outbox rows oldest first; stop at the first transient failure so
        replies in one conversation never overtake each other. Returns rows acknowledged."""
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
                except Unavailable as exc:
                    self.store.write(outbox.postpone, item.id, self.clock(), str(exc), exc.retry_after)
                    self._set_status(self.status.state, error=str(exc))
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

    def _acknowledge(self, conn, item: outbox.OutboxItem, answer: dict, changes: Changes) -> None:
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
                conv, msg = wire.conversation(answer.get("conversation")), wire.message(answer.get("message"))
                apply.conversation(conn, conv)
                apply.message(conn, msg)
                changes.conversations.add(conv["id"])
                changes.threads.add(conv["id"])
            else:
                apply.conversation(conn, wire.conversation(answer))
        except wire.PayloadError as exc:  # it was accepted; the feed will bring the object
            self._bad(str(exc), changes)
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
                fresh = wire.conversation(await self.client.conversation(item.conversation_id))
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
            self._loop.call_soon_threadsafe(self._cancel_all)

    def _cancel_all(self) -> None:
        for task in asyncio.all_tasks(self._loop):
            task.cancel()

    async def run(self) -> None:
        """Sync until stopped: identity, initial sync, then feed and outbox side by
        side; when the shop is unreachable, go offline and try again with backoff."""
        self._loop = asyncio.get_running_loop()
        self._kick = asyncio.Event()
        failures = 0
        while not self._stopping:
            try:
                self._set_status("syncing")
                await self._restore_presence(await self.identify())
                await self.initial_sync()
                await self.sync_quick_replies()
                self._set_status("online")
                failures = 0
                async with asyncio.TaskGroup() as group:
                    group.create_task(self._follow())
                    group.create_task(self._outbox_loop())
            except* AuthError as eg:
                self._set_status("offline", error=str(eg.exceptions[0]))
                await asyncio.sleep(60)
            except* (Unavailable, wire.PayloadError, ApiError) as eg:
                self._set_status("offline", error=str(eg.exceptions[0]))
                delay = self.offline_retry[min(failures, len(self.offline_retry) - 1)]
                failures += 1
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
            except Unavailable:
                pass  # postponed; the next attempt time is in the row
            self._set_status(self.status.state if self.status.state != "offline" else "online")
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


def _cursor_int(cursor: str | None) -> int:
    try:
        return int(cursor or 0)
    except ValueError:
        return 0
