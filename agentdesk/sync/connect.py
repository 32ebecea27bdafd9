"""Building the API client and sync engine for a real shop or for the demo.

The demo runs the reference shop server *in-process* (httpx ASGI transport: no
sockets, no network) with its own SQLite file beside the demo cache, so the demo goes
through exactly the client, sync engine and outbox a real shop uses.
"""

from __future__ import annotations

from pathlib import Path

from agentdesk.config import ConfigError, Settings
from agentdesk.demo.build import DEMO_AGENT
from agentdesk.store import CacheError, Store, writes
from agentdesk.sync.client import BadEndpoint, ShopClient, ShopReader
from agentdesk.sync.engine import CURSOR, HEAD

DEMO_URL = "http://demo.shop"
DEMO_SUPERVISOR = "s01"
#: Customer messages a minute in the monitor demo (the history has ~40 an hour at peak).
MONITOR_DEMO_RATE = 0.6  # 林姐, the demo shop's read-only supervisor


def shop_client(settings: Settings, *, read_only: bool = False) -> ShopReader:
    """The client for the shop in the config; a missing url or token is a config error."""
    where = str(settings.source) if settings.source else "config"
    if not settings.shop.url:
        raise ConfigError(f"{where}: [shop] url is not set (or run `agentdesk --demo`)")
    if not settings.shop.token:
        raise ConfigError(f"{where}: [shop] token is not set (or export AGENTDESK_TOKEN)")
    cls = ShopReader if read_only else ShopClient
    try:
        return cls(settings.shop.url, settings.shop.token)
    except BadEndpoint as exc:
        raise ConfigError(f"{where}: {exc}") from None


def monitor_client(settings: Settings, cache_path: Path, *, demo: bool) -> ShopReader:
    """The supervisor's client: a :class:`ShopReader`, which has no write methods, so
    nothing the monitor does can change the shop. The demo signs in as the demo shop's
    read-only supervisor, over a demo shop whose agents work on their own."""
    if demo:  # customers arrive at the pace of the demo's seeded history, not the agent demo's rush
        simulate = min(settings.demo.simulate, MONITOR_DEMO_RATE)
        return demo_client(cache_path, agent=DEMO_SUPERVISOR, simulate=simulate, read_only=True,
                           source=str(settings.source or "config"), colleagues=True)
    return shop_client(settings, read_only=True)


def demo_server_path(cache_path: Path) -> Path:
    return cache_path.with_name(cache_path.stem + "-shop.sqlite")


def demo_token(agent: str = "", source: str = "config") -> str:
    """The demo token of ``agent`` (a name or id of the demo shop; default 小美)."""
    from agentdesk.demo import fixtures

    shop = fixtures.load_shop()
    wanted = agent or DEMO_AGENT
    for a in shop.agents:
        if wanted in (a.id, a.name):
            return shop.tokens[a.id]
    names = ", ".join(a.name for a in shop.agents)
    raise ConfigError(f"{source}: [agent] name: no demo agent called {agent!r} (demo agents: {names})")


def demo_client(cache_path: Path, *, agent: str = "", simulate: float = 4.0, read_only: bool = False,
                source: str = "config", colleagues: bool = False):
    """A client wired to the in-process demo shop (seeded from the fixtures on first use).
    ``colleagues``: the shop's agents answer customers themselves (the monitor demo,
    where nobody else is at a keyboard)."""
    import httpx

    token = demo_token(agent, source)
    from agentdesk.shop.server import create_app

    extra = {"colleagues": True} if colleagues else {}
    app = create_app(demo_server_path(cache_path), seed="demo", simulate=simulate, **extra)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    cls = ShopReader if read_only else ShopClient
    return cls(DEMO_URL, token, transport=transport)


def check_demo_cache(store: Store) -> None:
    """A demo cache from before the demo went through the sync path has no sync
    position and cannot be merged with the demo shop: say so, never wipe silently."""
    def read(conn):
        return (writes.get_meta(conn, "shop_id"), writes.get_meta(conn, CURSOR), writes.get_meta(conn, HEAD))

    shop, cursor, head = store.read(read)
    if shop and not cursor and not head:
        raise CacheError(
            f"{store.path}: this demo cache was built by an older agentdesk; "
            "run again with --reset-cache to rebuild it"
        )
