"""The ``agentdesk`` command as a user runs it: a real subprocess, in an empty
directory, with a home of its own (so no real config or cache is ever read)."""

from __future__ import annotations

import random
import subprocess

import pytest

import agentdesk
from cli_helpers import AGENTDESK, user_env


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return user_env(home)


@pytest.fixture
def run(tmp_path, env):
    def run(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*AGENTDESK, *args],
            cwd=tmp_path,
            env={**env, **(extra_env or {})},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=30,  # if a bad file were accepted the app would start: fail, don't hang
        )

    return run


def one_error_line(done: subprocess.CompletedProcess) -> str:
    """The whole of stderr, which must be a single ``agentdesk: …`` line."""
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("agentdesk: ")
    return lines[0]


def test_version(run):
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout == f"agentdesk {agentdesk.__version__}\n"
    assert done.stderr == ""


def test_help_lists_the_options(run):
    done = run("--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: agentdesk")
    for option in ("--demo", "--config", "--reset-cache", "--version"):
        assert option in done.stdout
    assert done.stderr == ""


def test_unknown_flag_exits_2_with_usage(run):
    done = run("--frobnicate")
    assert done.returncode == 2
    assert done.stderr.startswith("usage: agentdesk")
    assert "unrecognized arguments: --frobnicate" in done.stderr
    assert done.stdout == ""


def test_monitor_without_a_shop_says_what_to_set(run):
    """The monitor reads a shop (or the demo): with neither, one line naming the setting."""
    done = run("--monitor")
    assert done.returncode == 2
    line = one_error_line(done)
    assert "[shop] url" in line and "--demo" in line
    assert done.stdout == ""


def test_bad_config_via_flag_exits_2_with_one_line(run, tmp_path):
    config = tmp_path / "mine.toml"
    config.write_text("[ui]\nlangauge = 'zh'\n", encoding="utf-8")
    done = run("--config", str(config))
    assert done.returncode == 2
    line = one_error_line(done)
    assert str(config) in line and "langauge" in line
    assert done.stdout == ""


def test_bad_config_in_the_current_directory_is_found_and_reported(run, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[timers]\namber_seconds = \"soon\"\n", encoding="utf-8")
    done = run("--demo")
    assert done.returncode == 2
    line = one_error_line(done)
    assert str(config) in line and "amber_seconds" in line


def test_bad_config_via_environment_is_reported(run, tmp_path):
    config = tmp_path / "env.toml"
    config.write_text("[shop]\nurl = 'ftp://shop'\n", encoding="utf-8")
    done = run(extra_env={"AGENTDESK_CONFIG": str(config)})
    assert done.returncode == 2
    line = one_error_line(done)
    assert str(config) in line and "url" in line


def test_missing_config_file_is_reported(run, tmp_path):
    done = run("--config", str(tmp_path / "nowhere.toml"))
    assert done.returncode == 2
    assert "nowhere.toml" in one_error_line(done)


def test_a_corrupt_cache_exits_2_and_is_left_untouched(run, tmp_path):
    cache = tmp_path / "shop-cache.sqlite"
    garbage = random.Random(7).randbytes(8192)
    cache.write_bytes(garbage)
    config = tmp_path / "config.toml"
    config.write_text(f"[cache]\npath = '{cache}'\n", encoding="utf-8")

    done = run()

    assert done.returncode == 2
    line = one_error_line(done)
    assert "--reset-cache" in line and str(cache) in line
    assert cache.read_bytes() == garbage
    # the lock file of "one app per cache" is all that is new
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "home", "shop-cache.sqlite",
                                                           "shop-cache.sqlite.lock"]


def test_the_demo_does_not_touch_the_real_cache(run, tmp_path):
    # A broken real cache does not stop the demo from getting as far as its own cache:
    # with a demo agent that does not exist it stops there, never reading the real one.
    cache = tmp_path / "shop-cache.sqlite"
    cache.write_bytes(b"not a database" * 100)
    config = tmp_path / "config.toml"
    config.write_text(f"[cache]\npath = '{cache}'\n[agent]\nname = '没有这个人'\n", encoding="utf-8")

    done = run("--demo")

    assert done.returncode == 2
    line = one_error_line(done)
    assert "没有这个人" in line and str(config) in line
    assert cache.read_bytes() == b"not a database" * 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "home", "shop-cache.sqlite"]
