"""End to end: the *installed* ``agentdesk --demo`` in a real terminal (tmux), driven
by keys, read back with ``capture-pane`` — exactly what a person would see."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid

import pytest

pytestmark = pytest.mark.e2e

AGENTDESK = shutil.which("agentdesk")
TMUX = shutil.which("tmux")
if not (AGENTDESK and TMUX):  # .ci/run installs both; say so loudly anywhere else
    pytest.fail("the e2e test needs tmux and the installed agentdesk command on PATH", pytrace=False)


class Terminal:
    def __init__(self, env: dict[str, str], cmd: str) -> None:
        self.name = f"agentdesk-{uuid.uuid4().hex[:8]}"
        self.env = env
        subprocess.run(
            [TMUX, "new-session", "-d", "-s", self.name, "-x", "160", "-y", "45", cmd],
            env=env, check=True,
        )

    def keys(self, *keys: str, literal: bool = False) -> None:
        args = [TMUX, "send-keys", "-t", self.name, *(["-l"] if literal else []), *keys]
        subprocess.run(args, env=self.env, check=True)

    def screen(self) -> str:
        out = subprocess.run(
            [TMUX, "capture-pane", "-p", "-t", self.name], env=self.env, capture_output=True, text=True
        )
        return out.stdout

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared on screen:\n{screen}")

    def alive(self) -> bool:
        return subprocess.run([TMUX, "has-session", "-t", self.name], env=self.env).returncode == 0

    def quit(self) -> None:
        """Ctrl+Q, then the session must end (the app exited, not hung)."""
        self.keys("C-q")
        deadline = time.monotonic() + 10
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not self.alive(), "Ctrl+Q quits"

    def kill(self) -> None:
        subprocess.run([TMUX, "kill-session", "-t", self.name], env=self.env, capture_output=True)


@pytest.fixture
def env(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        LANG="C.UTF-8",
        LC_ALL="C.UTF-8",
        TERM="xterm-256color",
        TMUX_TMPDIR=str(tmp_path),  # a private tmux server for this test
    )
    env.pop("TMUX", None)
    return env


def test_demo_in_a_real_terminal(env, tmp_path):
    # Run from an empty folder so the repo's config.toml is not picked up; zh UI.
    cmd = f"cd {tmp_path} && {AGENTDESK} --demo"
    # No simulated arrivals: on a slow run new customers pushed the replied row off screen.
    (tmp_path / "config.toml").write_text('[ui]\nlanguage = "zh"\n[demo]\nsimulate = 0\n', encoding="utf-8")
    term = Terminal(env, cmd)
    try:
        screen = term.wait_for("拾光生活旗舰店")
        assert "我的" in screen and "未分配" in screen
        term.wait_for("售后")  # the inbox rows are read after the header: Enter needs a row
        term.keys("Enter")  # open the longest-waiting conversation, cursor into the composer
        screen = term.wait_for("订单")
        term.keys("nihao tmux e2e", literal=True)
        term.keys("Enter")
        term.wait_for("nihao tmux e2e")
        term.keys("F1")
        term.wait_for("快捷键")
        term.keys("Escape")
        term.quit()
    finally:
        term.kill()

    # A restart shows the reply again: the demo cache persisted it.
    term = Terminal(env, cmd)
    try:
        term.wait_for("拾光生活旗舰店")
        term.wait_for("售后")
        term.keys("a")  # All tab: the replied conversation is no longer waiting, so it
        # sorts after everyone who still waits; page down to it as a person would.
        for _ in range(10):
            try:
                term.wait_for("nihao tmux e2e", timeout=2)
                break
            except AssertionError:
                term.keys("PageDown")
        else:
            term.wait_for("nihao tmux e2e")
    finally:
        term.kill()


def test_monitor_demo_in_a_real_terminal(env, tmp_path):
    """``agentdesk --demo --monitor``: the board over a demo shop whose agents work by
    themselves; it moves without anyone pressing a key, and Enter reads a conversation."""
    (tmp_path / "config.toml").write_text('[ui]\nlanguage = "zh"\n', encoding="utf-8")
    term = Terminal(env, f"cd {tmp_path} && {AGENTDESK} --demo --monitor")
    try:
        term.wait_for("只读监控", timeout=60)
        term.wait_for("团队")
        first = term.wait_for("今日接待")
        for heading in ("只读监控", "队列", "KPI · 今日", "每小时客户消息", "小美", "阿杰", "老周"):
            assert heading in first
        # The colleagues answer the waiting customers: the board changes on its own.
        deadline = time.monotonic() + 45
        while term.screen().splitlines()[3:8] == first.splitlines()[3:8]:
            assert time.monotonic() < deadline, "the board never moved"
            time.sleep(0.5)
        term.keys("Enter")
        screen = term.wait_for("只读：主管可以查看会话")
        assert "返回" in screen
        term.keys("Escape")
        term.wait_for("今日接待")
        term.quit()
    finally:
        term.kill()


def test_find_in_a_real_terminal(env, tmp_path):
    """Ctrl+F in the installed command, as a person: paste an order number, Enter lands
    at the message that names it; two Chinese characters; the same from the CLI."""
    (tmp_path / "config.toml").write_text('[ui]\nlanguage = "zh"\n[demo]\nsimulate = 0\n', encoding="utf-8")
    term = Terminal(env, f"cd {tmp_path} && {AGENTDESK} --demo")
    try:
        term.wait_for("拾光生活旗舰店")
        term.wait_for("售后")
        term.keys("C-f")
        term.wait_for("查找")
        term.keys("3902108847623109945", literal=True)  # pasted: momo酱要早睡's refunded order
        term.wait_for("订单 1")
        term.keys("Enter")
        screen = term.wait_for("本会话查找")  # the thread, its search bar showing the number
        assert "momo酱要早睡" in screen and "3902108847623109945" in screen
        term.keys("C-f")  # the thread has focus: this conversation's search
        term.keys("Escape", "Escape")
        term.keys("C-f")
        term.wait_for("查找")
        term.keys("机洗", literal=True)
        term.wait_for("还有能机洗吗")
        term.keys("Enter")
        term.wait_for("本会话查找")
        term.quit()
    finally:
        term.kill()
    done = subprocess.run([AGENTDESK, "--demo", "search", "机洗", "--json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    import json

    results = json.loads(done.stdout)["results"]
    assert results and all("机洗" in r["body"] for r in results)


def test_hostile_names_reach_the_real_terminal_inert(env, tmp_path):
    """The issue's repro against ``agentdesk shop serve`` over loopback: a colleague
    whose name is an OSC 52 clipboard write, then a customer called ``[/]`` who writes a
    complaint. The app stays up, shows ``[/]`` as text, and not one byte of the escape's
    payload reaches the terminal (the pane's raw output, recorded with pipe-pane)."""
    from agentdesk.shop import db
    from shop_helpers import free_port

    shop_db = tmp_path / "shop.sqlite"
    conn = db.connect(shop_db)
    db.seed_demo(conn, time.time())
    conn.execute("UPDATE agents SET name = ? WHERE id = 'a02'", ["\x1b]52;c;ZXZpbA==\x07x"])
    conn.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    shop = subprocess.Popen([AGENTDESK, "shop", "serve", "--port", str(port), "--db", str(shop_db), "--seed", "none"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    (tmp_path / "config.toml").write_text(
        f'[shop]\nurl = "{url}"\ntoken = "demo-a01-xiaomei"\n[ui]\nlanguage = "zh"\n'
        f'[cache]\npath = "{tmp_path / "cache.sqlite"}"\n', encoding="utf-8")
    raw = tmp_path / "pane.raw"
    # The app starts once the pane's output is being recorded.
    term = Terminal(env, f"cd {tmp_path} && while [ ! -e {raw} ]; do sleep 0.1; done; {AGENTDESK}")
    try:
        subprocess.run([TMUX, "pipe-pane", "-o", "-t", term.name, f"cat >> {raw}"], env=env, check=True)
        term.wait_for("拾光生活旗舰店")
        term.wait_for("在线", timeout=60)  # synced with the shop
        said = subprocess.run([AGENTDESK, "shop", "say", "--url", url, "--customer", "[/]", "你们是骗子，我要投诉，差评"],
                              env=env, capture_output=True, text=True, timeout=30)
        assert said.returncode == 0, said.stderr
        term.keys("a")  # everyone's: the new customer waits there
        screen = term.wait_for("[/]", timeout=30)
        assert "拾光生活旗舰店" in screen
        term.keys("Enter")  # a conversation, then the transfer list names every colleague
        term.wait_for("订单")
        term.keys("C-t")
        term.wait_for("转接")
        term.keys("Escape")
        time.sleep(1)  # a complaint alert, a red-wait alert: give the app the time to raise them
        assert term.alive() and "拾光生活旗舰店" in term.screen()
        term.quit()
    finally:
        term.kill()
        # Ctrl+C twice: uvicorn would otherwise wait out the app's long-poll of the event feed.
        shop.send_signal(signal.SIGINT)
        try:
            shop.wait(2)
        except subprocess.TimeoutExpired:
            shop.send_signal(signal.SIGINT)
            shop.wait(10)
    sent = raw.read_bytes()
    assert len(sent) > 1000, "the pane's output was recorded"
    assert b"ZXZpbA==" not in sent and b"52;c" not in sent
