"""Shared test set-up: a fixed clock and timezone, a demo cache built from the real
fixtures at a fixed anchor, and helpers to read what is on the screen."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

# Everything on screen that shows a time must not depend on where CI runs.
os.environ["TZ"] = "Asia/Shanghai"
time.tzset()

#: 2026-11-20 14:30:00 Asia/Shanghai — the demo is built "now" = this instant.
ANCHOR = 1_795_156_200.0


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    """Never read the developer's real config or write into their data dir."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("AGENTDESK_CONFIG", raising=False)
    monkeypatch.delenv("AGENTDESK_TOKEN", raising=False)


@pytest.fixture
def demo_path(tmp_path) -> Path:
    return tmp_path / "demo.sqlite"


@pytest.fixture
def demo_store(demo_path):
    from agentdesk.demo.build import open_demo

    store = open_demo(demo_path, anchor=ANCHOR)
    yield store
    store.close()


def make_app(store, language: str = "zh", clock=None, settings=None, background_rules: bool = False):
    """The workstation on ``store`` at the fixed anchor. The timed background rules
    (alerts, greetings) are off unless asked for: a test steps them itself."""
    from agentdesk.clock import FixedClock
    from agentdesk.config import Settings, UISettings
    from agentdesk.ui.app import AgentDeskApp

    return AgentDeskApp(
        store=store,
        settings=settings or Settings(ui=UISettings(language=language)),
        demo=True,
        clock=clock or FixedClock(ANCHOR),
        background_rules=background_rules,
    )


def screen_text(app) -> str:
    """The text on the app's screen right now, line by line, as a terminal shows it
    (the same render Textual's own screenshot export uses)."""
    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def burst(app, data: str) -> None:
    """``data`` as one terminal read: parsed by Textual's own input parser (as the real
    driver does, so ESC CR, ESC j and CSI sequences arrive as a terminal sends them) and
    every event posted before the app has handled any of them. ``pilot.press`` cannot
    do this: it waits for the app to go idle after each key."""
    from textual._xterm_parser import XTermParser

    from agentdesk.ui.textual_internals import read_alt_keys

    read_alt_keys()
    events = list(XTermParser().feed(data))
    assert events, f"{data!r} parsed to no events"
    for event in events:
        app.post_message(event)


async def until(pilot, condition, what: str, timeout: float = 10.0) -> None:
    """Wait until ``condition()`` holds (the app keeps running meanwhile), or fail
    saying ``what`` never happened."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for: {what}")
        await pilot.pause(0.01)
