"""Running the real reference shop server on 127.0.0.1 for tests that need sockets."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import httpx

from agentdesk.sync.client import ShopClient

#: The demo shop's tokens: the seeded agent 小美 and the read-only supervisor 林姐.
A01, S01 = "demo-a01-xiaomei", "demo-s01-linjie"
SHOP_URL = "http://shop.test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def loopback_server(db_path, **options):
    """Yield (base url, server state) of a uvicorn server in a thread; stop it after."""
    from agentdesk.shop.server import create_app

    app = create_app(db_path, seed=options.pop("seed", "demo"), **options)
    with serving(app) as url:
        yield url, app.state.shop


@contextmanager
def serving(app):
    """Yield the base url of any ASGI ``app`` served by uvicorn on 127.0.0.1 in a thread."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


class Clock:
    """A settable clock for the shop server (call it for "now")."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def no_sleep(_seconds: float) -> None:
    """A client's backoff sleep that only yields (retries at once, in tests)."""
    import asyncio

    await asyncio.sleep(0)


async def until(pilot, predicate, timeout: float = 15.0) -> None:
    """Wait, pausing the app, until ``predicate()`` holds – a condition, not a time."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await pilot.pause(0.05)


def asgi_http(app, token: str | None = A01) -> httpx.AsyncClient:
    """Raw HTTP to the shop app in-process; a server error answers 500 instead of raising."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=SHOP_URL, headers=headers)


def asgi_client(app, token: str = A01, cls=ShopClient, **kw):
    """agentdesk's own client (``cls``) of the shop app in-process; retries without sleeping."""
    kw.setdefault("sleep", no_sleep)
    return cls(SHOP_URL, token, transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), **kw)
