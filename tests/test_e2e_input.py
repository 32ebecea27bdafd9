"""End to end, the installed ``agentdesk`` in tmux against ``agentdesk shop serve`` on
loopback: keys sent as ONE write (``send-keys -l`` of a whole string with ``\\r`` inside,
raw bytes with ``send-keys -H``), as a fast typist, a paste or SSH deliver them, and what
the shop received read from the shop's own database."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time

import pytest

from shop_helpers import free_port
from test_e2e_tmux import AGENTDESK, TMUX, Terminal, env  # noqa: F401 (env: a fixture)

pytestmark = pytest.mark.e2e


@pytest.fixture
def shop(tmp_path, env):  # noqa: F811
    """``agentdesk shop serve`` on 127.0.0.1 (its own process); yields (url, its database)."""
    port = free_port()
    db = tmp_path / "shop.sqlite"
    proc = subprocess.Popen([AGENTDESK, "shop", "serve", "--port", str(port), "--db", str(db), "--seed", "demo"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/v1/events/head", headers={"Authorization": "Bearer demo-a01-xiaomei"}).is_success:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline and proc.poll() is None, "the shop server did not start"
        time.sleep(0.1)
    try:
        yield url, db
    finally:  # not SIGTERM: uvicorn would wait out the long polls still open (up to 30 s)
        proc.kill()
        proc.wait(10)


@pytest.fixture
def workstation(tmp_path, env, shop):  # noqa: F811
    """The command that opens 小美's workstation on that shop (exec: the pane's pid is agentdesk's)."""
    url, _ = shop
    (tmp_path / "config.toml").write_text(f'[shop]\nurl = "{url}"\n[ui]\nlanguage = "zh"\n', encoding="utf-8")
    env["AGENTDESK_TOKEN"] = "demo-a01-xiaomei"
    return f"cd {tmp_path} && exec {AGENTDESK}"


def shop_bodies(db, like: str) -> list[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return [r[0] for r in conn.execute(
            "SELECT body FROM messages WHERE sender = 'agent' AND body LIKE ? ORDER BY seq", [like])]


def wait(condition, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.05)
    return value


def picker_query(screen: str) -> str | None:
    """The text in the quick-reply picker's search line, if the picker is open."""
    lines = screen.splitlines()
    head = next((i for i, line in enumerate(lines) if "话术库" in line and "Esc" in line), None)
    return None if head is None else lines[head + 1].split("│")[1].strip()


def shows(term: Terminal, *texts: str, timeout: float = 60.0) -> str:
    """The screen once it shows all of ``texts`` (polled every 50 ms: 20 restarts add up)."""
    return wait(lambda: (lambda screen: screen if all(t in screen for t in texts) else "")(term.screen()),
                f"{texts} on screen", timeout)


def open_first(term: Terminal) -> None:
    shows(term, "拾光生活旗舰店", "售后")  # the inbox rows are on screen: Enter has one to open
    term.keys("Enter")
    shows(term, "输入回复")  # the conversation's composer, focused


def test_bursts_reach_the_shop_whole_once_and_in_order(env, workstation, shop):  # noqa: F811
    _, db = shop
    term = Terminal(env, workstation)
    try:
        open_first(term)
        term.keys("e2e-A\re2e-B\r", literal=True)  # one write: A, Enter, B, Enter
        wait(lambda: len(shop_bodies(db, "e2e-%")) >= 2, "two replies at the shop")
        assert shop_bodies(db, "e2e-%") == ["e2e-A", "e2e-B"]

        term.keys("/tk", literal=True)  # one write: the picker opens with the query "tk"
        wait(lambda: picker_query(term.screen()) == "tk", "the picker with the query tk")
        term.keys("Escape")
        term.wait_for("输入回复")  # the composer is empty again: "tk" was never typed into it

        term.keys("e2e-line1", literal=True)
        term.keys("-H", "1b", "0d")  # Alt+Enter as terminals send it: ESC CR
        term.keys("e2e-line2\r", literal=True)
        wait(lambda: shop_bodies(db, "e2e-line%"), "the reply")
        assert shop_bodies(db, "e2e-line%") == ["e2e-line1\ne2e-line2"]
        assert shop_bodies(db, "e2e-%") == ["e2e-A", "e2e-B", "e2e-line1\ne2e-line2"]
        term.quit()
    finally:
        term.kill()


def test_sigkill_right_after_a_send_never_leaves_the_sent_text_as_a_draft(env, workstation, shop, tmp_path):  # noqa: F811
    """20 times: open a conversation, type a reply and Enter in one write, SIGKILL at once
    (every other time once the reply has left the composer). A reply that got into the
    cache is delivered from there; it must never also be a draft (it was sent again inside
    the next reply, growing over restarts)."""
    cache = tmp_path / "home/.local/share/agentdesk/cache.sqlite"
    started = time.monotonic()
    for n in range(20):
        term = Terminal(env, workstation)
        try:
            open_first(term)
            pid = int(subprocess.run([TMUX, "display", "-p", "-t", term.name, "#{pane_pid}"], env=env,
                                     capture_output=True, text=True, check=True).stdout)
            term.keys(f"kill-{n:02d}\r", literal=True)
            if n % 2:
                shows(term, f"kill-{n:02d}", "输入回复")  # in the thread (stored), the composer empty
            os.kill(pid, signal.SIGKILL)
            wait(lambda: not term.alive(), "the killed app's pane to close", timeout=10)
        finally:
            term.kill()
    assert time.monotonic() - started < 240
    with sqlite3.connect(f"file:{cache}?mode=ro", uri=True) as conn:
        stored = {r[0] for r in conn.execute("SELECT body FROM messages WHERE sender = 'agent' AND body LIKE 'kill-%'")}
        drafts = [r[0] for r in conn.execute("SELECT body FROM drafts")]
    assert len(stored) >= 10, stored  # at least every round that waited for the thread
    assert not [d for d in drafts if any(s in d for s in stored)], (drafts, stored)
