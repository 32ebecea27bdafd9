"""Building the demo cache from the fixtures on first run (and only then), so a demo
session – replies sent, drafts typed – survives a restart."""

from __future__ import annotations

from pathlib import Path

from agentdesk.demo import fixtures
from agentdesk.store import Store, seed, writes

DEMO_AGENT = "a01"  # 小美, 售前 + 售后


def open_demo(path: Path, *, anchor: float, agent: str = "") -> Store:
    """Open the demo cache at ``path``, seeding it from the fixtures if it is new.

    ``agent`` (a name or id from the demo shop) chooses who you are; default 小美.
    """
    store = Store(path)
    if not store.read(writes.get_meta, "shop_id"):
        data = fixtures.load(anchor)
        me = _pick_agent(data, agent)
        store.write(seed.write_shop, data, me=me)
    elif agent:
        data_agents = store.read(lambda c: c.execute("SELECT id, name FROM agents").fetchall())
        me = next((i for i, n in data_agents if agent in (i, n)), None)
        if me is None:
            store.close()
            raise ValueError(f"[agent] name: no demo agent called {agent!r}")
        store.write(writes.set_meta, "me", me)
    return store


def _pick_agent(data: fixtures.ShopData, agent: str) -> str:
    if not agent:
        return DEMO_AGENT
    for a in data.agents:
        if agent in (a.id, a.name):
            return a.id
    names = ", ".join(a.name for a in data.agents)
    raise ValueError(f"[agent] name: no demo agent called {agent!r} (demo agents: {names})")
