"""Chatwoot's ActionCable socket at ``/cable``, speaking the ActionCable protocol
(``actioncable-v1-json``):

- on connect the server sends ``{"type": "welcome"}``, then ``{"type": "ping",
  "message": <unix seconds>}`` every 3 s (ActionCable's beat);
- ``{"command": "subscribe", "identifier": "<JSON of {channel: RoomChannel,
  pubsub_token, account_id, user_id}>"}`` is confirmed with ``{"identifier": ...,
  "type": "confirm_subscription"}`` when the pubsub token belongs to that user and the
  user to that account, else ``reject_subscription``; the subscription counts as the
  user's presence and sends ``presence.update`` (RoomChannel#subscribed);
- ``{"command": "message", "identifier": ..., "data": "{\\"action\\":
  \\"update_presence\\"}"}`` renews the presence (the web app does it every 20 s);
- events arrive as ``{"identifier": ..., "message": {"event": name, "data": {...}}}``.

Nothing is queued for a socket that is not connected and nothing is replayed after a
reconnect (chatwoot #995, #14934): a client catches up over REST. Contact-side
subscriptions (a contact's pubsub token without ``user_id``) are not implemented.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading

from starlette.websockets import WebSocket, WebSocketDisconnect

from agentdesk.chatwoot_double.db import ACCOUNT_ID

PING_EVERY = 3.0
SUBPROTOCOL = "actioncable-v1-json"
log = logging.getLogger("agentdesk.chatwoot_double")


class Connection:
    """One socket: its loop, outbox queue and subscriptions (identifier -> (pubsub token, user id))."""

    def __init__(self, ws: WebSocket, loop: asyncio.AbstractEventLoop) -> None:
        self.ws = ws
        self.loop = loop
        self.queue: asyncio.Queue[dict | None] = asyncio.Queue()
        self.subscriptions: dict[str, tuple[str, int]] = {}

    def send(self, payload: dict | None) -> None:
        """From any thread; None closes the socket (an injected drop)."""
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, payload)
        except RuntimeError:  # the loop is gone: so is the socket
            pass


class Hub:
    """Every open socket; ``publish`` is ChatwootState's broadcast target."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: set[Connection] = set()

    def add(self, conn: Connection) -> None:
        with self._lock:
            self._connections.add(conn)

    def remove(self, conn: Connection) -> None:
        with self._lock:
            self._connections.discard(conn)

    def connections(self) -> list[Connection]:
        with self._lock:
            return list(self._connections)

    def subscribed(self) -> int:
        return sum(len(c.subscriptions) for c in self.connections())

    def publish(self, tokens: list[str], event: str, data: dict) -> None:
        wanted = set(tokens)
        for conn in self.connections():
            for identifier, (token, _user) in list(conn.subscriptions.items()):
                if token in wanted:
                    conn.send({"identifier": identifier, "message": {"event": event, "data": data}})

    def drop_all(self) -> int:
        """Cut every socket (the client sees the connection lost); the number cut."""
        conns = self.connections()
        for conn in conns:
            conn.send(None)
        return len(conns)


async def endpoint(ws: WebSocket) -> None:
    state = ws.app.state.chatwoot
    hub: Hub = ws.app.state.hub
    if state.faults.cable_down:
        await ws.close(code=1013)  # before accept: the handshake is refused (HTTP 403)
        return
    offered = ws.headers.get("sec-websocket-protocol", "")
    await ws.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in [p.strip() for p in offered.split(",")] else None)
    conn = Connection(ws, asyncio.get_running_loop())
    hub.add(conn)
    conn.send({"type": "welcome"})
    tasks = [asyncio.create_task(_writer(conn)), asyncio.create_task(_pinger(conn, state))]
    try:
        while True:
            try:
                text = await ws.receive_text()
            except (WebSocketDisconnect, RuntimeError):
                break
            _command(conn, state, text)
    finally:
        hub.remove(conn)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _writer(conn: Connection) -> None:
    while True:
        payload = await conn.queue.get()
        if payload is None:
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1012)  # "service restart": what a dropped server looks like
            return
        try:
            await conn.ws.send_text(json.dumps(payload, ensure_ascii=False))
        except Exception:  # the socket went away; the reader notices
            return


async def _pinger(conn: Connection, state) -> None:
    while True:
        await asyncio.sleep(PING_EVERY)
        conn.send({"type": "ping", "message": int(state.clock())})


def _command(conn: Connection, state, text: str) -> None:
    try:
        msg = json.loads(text)
        command, identifier = msg.get("command"), msg.get("identifier")
    except (ValueError, AttributeError):
        log.info("cable: not an ActionCable command: %.80r", text)
        return
    if not isinstance(identifier, str):
        return
    if command == "subscribe":
        _subscribe(conn, state, identifier)
    elif command == "unsubscribe":
        conn.subscriptions.pop(identifier, None)
    elif command == "message" and identifier in conn.subscriptions:
        try:
            data = json.loads(msg.get("data") or "{}")
        except ValueError:
            return
        if isinstance(data, dict) and data.get("action") == "update_presence":
            _presence(conn, state, identifier)


def _subscribe(conn: Connection, state, identifier: str) -> None:
    try:
        params = json.loads(identifier)
    except ValueError:
        params = None
    user = None
    if isinstance(params, dict) and params.get("channel") == "RoomChannel" and params.get("user_id") not in (None, ""):
        user = state.user_by_pubsub(str(params.get("pubsub_token")), params.get("user_id"))
        if user is not None and str(params.get("account_id")) != str(ACCOUNT_ID):
            user = None  # User#accounts.find(account_id) fails
    if user is None:
        conn.send({"identifier": identifier, "type": "reject_subscription"})
        return
    conn.subscriptions[identifier] = (user["pubsub_token"], user["id"])
    conn.send({"identifier": identifier, "type": "confirm_subscription"})
    _presence(conn, state, identifier)


def _presence(conn: Connection, state, identifier: str) -> None:
    """RoomChannel#update_subscription + #broadcast_presence (to the subscriber's own stream)."""
    state.update_presence(conn.subscriptions[identifier][1])
    conn.send({"identifier": identifier, "message": {"event": "presence.update", "data": state.presence_data()}})
