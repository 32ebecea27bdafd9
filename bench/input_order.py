"""What does the ordered input path cost? A burst of keys typed into the composer (one
terminal read: every key queued before the app handles one) until the last is in the
text, with agentdesk's path (each key waits until the app has settled after the one
before) against Textual's own (every key handed to the focused widget at once), in the
same process, interleaved.

Run:  python bench/input_order.py [--keys 40] [--runs 7]
Prints min / median / max per burst and per key; nothing here is asserted by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

NOW = 1_795_156_200.0


def apps(store):
    from textual.app import App

    from agentdesk.clock import FixedClock
    from agentdesk.config import Settings, UISettings
    from agentdesk.ui.app import AgentDeskApp

    import agentdesk.ui.app as ui_app

    class Unordered(AgentDeskApp):
        """Textual's own key path: KeyOrder.on_event bypassed."""

        CSS_PATH = str(Path(ui_app.__file__).parent / AgentDeskApp.CSS_PATH)

        async def on_event(self, event):
            await App.on_event(self, event)

    def make(cls):
        return cls(store=store, settings=Settings(ui=UISettings(language="zh")), demo=True,
                   clock=FixedClock(NOW), background_rules=False)

    return {"ordered": lambda: make(AgentDeskApp), "textual": lambda: make(Unordered)}


async def burst_ms(app_factory, keys: int) -> float:
    from conftest import burst

    from agentdesk.ui.widgets.composer import Composer

    app = app_factory()
    text = "".join("好的亲马上帮您查"[i % 8] for i in range(keys))
    async with app.run_test(size=(160, 45)) as pilot:
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        await pilot.press("enter")
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        composer = app.query_one(Composer)
        start = time.perf_counter()
        burst(app, text)
        while composer.text != text:
            await asyncio.sleep(0)
        took = (time.perf_counter() - start) * 1000
        composer.load_text("")
    return took


async def main(keys: int, runs: int) -> None:
    from agentdesk.demo.build import open_demo

    with tempfile.TemporaryDirectory() as tmp:
        store = open_demo(Path(tmp) / "demo.sqlite", anchor=NOW)
        makers = apps(store)
        seen: dict[str, list[float]] = {name: [] for name in makers}
        for _ in range(runs):
            for name, make in makers.items():  # interleaved
                seen[name].append(await burst_ms(make, keys))
        store.close()
    print(f"a burst of {keys} keys into the composer, {runs} runs each, interleaved (ms)")
    for name, values in seen.items():
        lo, mid, hi = min(values), statistics.median(values), max(values)
        print(f"  {name:8}  burst min {lo:7.1f}  median {mid:7.1f}  max {hi:7.1f}"
              f"   per key median {mid / keys:5.2f}")
    ratio = statistics.median(seen["ordered"]) / statistics.median(seen["textual"])
    print(f"  ordered / textual (median): {ratio:.2f}x")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--keys", type=int, default=40)
    p.add_argument("--runs", type=int, default=7)
    a = p.parse_args()
    asyncio.run(main(a.keys, a.runs))
