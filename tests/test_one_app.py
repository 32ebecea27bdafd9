"""One app per cache: two real processes race for one cache file.

The second workstation, monitor or ``agentdesk sync`` refuses with one line naming the
first (pid and command); the first carries on untouched; a holder killed with SIGKILL
leaves nothing that blocks the next start; ``report`` reads a cache a running monitor
holds instead of syncing it a second time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from agentdesk.store import Store, outbox
from agentdesk.store.lock import lock_path
from cli_helpers import AGENTDESK, held, run_agentdesk, start_agentdesk, user_env
from conftest import ANCHOR
from shop_helpers import A01, loopback_server


def wait_for_holder(cache: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Until ``proc`` has taken the cache's lock (it writes its pid into the lock file)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the first process ended before it held the cache"
        try:
            if json.loads(lock_path(cache).read_text(encoding="utf-8"))["pid"] == proc.pid:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    raise AssertionError("the first process never took the cache")


@pytest.fixture
def slow_shop(tmp_path):
    """A shop over loopback slow enough (40 ms a request, 20 objects a page) that a
    first sync is still running when the second one starts."""
    with loopback_server(tmp_path / "shop.sqlite", anchor=ANCHOR, latency_ms=40) as (url, state):
        home = tmp_path / "home"
        home.mkdir()
        cache = tmp_path / "cache.sqlite"
        config = tmp_path / "config.toml"
        config.write_text(f'[shop]\nurl = "{url}"\ntoken = "{A01}"\n[cache]\npath = "{cache}"\n', encoding="utf-8")
        yield cache, config, user_env(home)


def test_two_syncs_race_the_second_refuses_naming_the_first(slow_shop, tmp_path):
    cache, config, env = slow_shop
    sync = ["--config", str(config), "sync", "--once", "--page-size", "20"]
    first = start_agentdesk(sync, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_holder(cache, first)
        second = run_agentdesk(sync, cwd=tmp_path, env=env)
        assert second.returncode == 2
        (line,) = second.stderr.splitlines()
        assert line.startswith(f"agentdesk: cache error: {cache}: is in use by another agentdesk (pid {first.pid}: ")
        assert "agentdesk --config" in line and "sync --once --page-size 20" in line
        assert first.wait(120) == 0, first.stderr.read()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        first.stderr.close()
    third = run_agentdesk(sync, cwd=tmp_path, env=env)  # the first is done: the lock went with it
    assert third.returncode == 0, third.stderr
    store = Store(cache)
    assert store.read(outbox.pending_count) == 0
    store.close()


def test_a_sigkilled_holder_never_blocks_the_next_start(slow_shop, tmp_path):
    cache, config, env = slow_shop
    forever = start_agentdesk(["--config", str(config), "sync"], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_holder(cache, forever)
    os.kill(forever.pid, signal.SIGKILL)
    forever.wait(10)
    assert json.loads(lock_path(cache).read_text(encoding="utf-8"))["pid"] == forever.pid  # the stale file stays
    after = run_agentdesk(["--config", str(config), "sync", "--once"], cwd=tmp_path, env=env, timeout=180)
    assert after.returncode == 0, after.stderr
    assert json.loads(lock_path(cache).read_text(encoding="utf-8"))["pid"] != forever.pid


def test_reset_cache_never_deletes_a_cache_another_app_is_using(slow_shop, tmp_path):
    cache, config, env = slow_shop
    store = Store(cache)
    store.write(outbox.send_message, "cv-1", "亲，在的", ANCHOR, agent_id="a01")
    store.close()
    before = cache.read_bytes()
    with held(cache) as holder:
        done = run_agentdesk(["--config", str(config), "--reset-cache", "sync", "--once"], cwd=tmp_path, env=env)
    assert done.returncode == 2 and f"in use by another agentdesk (pid {holder.pid}" in done.stderr
    assert cache.read_bytes() == before
    assert not (tmp_path / "home" / ".local" / "share" / "agentdesk" / "unsent").exists()


def test_report_reads_the_cache_a_running_monitor_holds(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = user_env(home)
    built = run_agentdesk(["--demo", "report", "--format", "csv"], cwd=tmp_path, env=env, timeout=180)
    assert built.returncode == 0, built.stderr
    cache = home / ".local" / "share" / "agentdesk" / "demo-monitor.sqlite"
    with held(cache) as holder:
        done = run_agentdesk(["--demo", "report", "--format", "csv"], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    (warning,) = done.stderr.splitlines()
    assert f"{cache} is synced by a running agentdesk (pid {holder.pid}" in warning
    assert done.stdout.splitlines()[0] == built.stdout.splitlines()[0]  # the same report, from the cache


@pytest.mark.e2e
def test_a_second_start_beside_the_workstation_in_a_real_terminal(tmp_path):
    """The workstation runs in tmux; a second ``agentdesk --demo`` and an ``agentdesk
    --demo sync --once`` on its cache refuse, naming it; the first keeps working; after
    it quits, the cache is free."""
    import shutil

    tmux = shutil.which("tmux")
    assert tmux, "the e2e tests need tmux (.ci/run installs it)"
    home = tmp_path / "home"
    home.mkdir()
    env = user_env(home, TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8", TMUX_TMPDIR=str(tmp_path))
    env.pop("TMUX", None)
    (tmp_path / "config.toml").write_text('[ui]\nlanguage = "zh"\n[demo]\nsimulate = 0\n', encoding="utf-8")
    name = "one-app"
    command = " ".join(AGENTDESK) + " --demo"
    subprocess.run([tmux, "new-session", "-d", "-s", name, "-x", "120", "-y", "40", f"cd {tmp_path} && {command}"],
                   env=env, check=True)

    def screen() -> str:
        return subprocess.run([tmux, "capture-pane", "-p", "-t", name], env=env, capture_output=True,
                              text=True).stdout

    def wait_for(text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in screen():
            assert time.monotonic() < deadline, f"{text!r} never appeared:\n{screen()}"
            time.sleep(0.2)

    cache = home / ".local" / "share" / "agentdesk" / "demo.sqlite"
    try:
        wait_for("拾光生活旗舰店")
        wait_for("售后")
        holder = json.loads(lock_path(cache).read_text(encoding="utf-8"))
        for second in (["--demo"], ["--demo", "sync", "--once"]):
            done = run_agentdesk(second, cwd=tmp_path, env=env)
            assert done.returncode == 2, done.stderr
            (line,) = done.stderr.splitlines()
            assert f"{cache}: is in use by another agentdesk (pid {holder['pid']}: agentdesk --demo, since" in line
        subprocess.run([tmux, "send-keys", "-t", name, "F1"], env=env, check=True)  # the first still answers keys
        wait_for("快捷键")
        subprocess.run([tmux, "send-keys", "-t", name, "Escape"], env=env, check=True)
        subprocess.run([tmux, "send-keys", "-t", name, "C-q"], env=env, check=True)
        deadline = time.monotonic() + 15
        while subprocess.run([tmux, "has-session", "-t", name], env=env, capture_output=True).returncode == 0:
            assert time.monotonic() < deadline, "Ctrl+Q quits"
            time.sleep(0.1)
    finally:
        subprocess.run([tmux, "kill-server"], env=env, capture_output=True)
    after = run_agentdesk(["--demo", "sync", "--once"], cwd=tmp_path, env=env, timeout=120)
    assert after.returncode == 0, after.stderr
