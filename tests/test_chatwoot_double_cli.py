"""``agentdesk chatwoot-double serve|tokens|say``: the installed command serves the double
in a subprocess on a free loopback port; ``say`` writes in as a customer; ``tokens``
lists the seeded users."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest

from agentdesk.chatwoot_double.state import ChatwootState
from agentdesk.cli import main
from chatwoot_helpers import ACCOUNT, LINJIE, XIAOMEI
from conftest import ANCHOR
from shop_helpers import free_port


@pytest.fixture
def double_db(tmp_path):
    path = tmp_path / "chatwoot.sqlite"
    ChatwootState(path, anchor=ANCHOR).close()
    return path


def test_tokens_lists_every_user_with_role_and_tokens(double_db, capsys):
    assert main(["chatwoot-double", "tokens", "--db", str(double_db)]) == 0
    rows = [line.split() for line in capsys.readouterr().out.strip().splitlines()]
    assert rows[0] == ["id", "name", "role", "access_token", "pubsub_token"]
    by_name = {r[1]: r for r in rows[1:]}
    assert set(by_name) == {"小美", "阿杰", "小雨", "老周", "林姐"}
    assert by_name["小美"][2:4] == ["agent", XIAOMEI]
    assert by_name["林姐"][2:4] == ["administrator", LINJIE]


def test_tokens_creates_nothing_and_fails_in_one_line(tmp_path, capsys):
    missing = tmp_path / "nope.sqlite"
    assert main(["chatwoot-double", "tokens", "--db", str(missing)]) == 2
    assert "nope.sqlite" in capsys.readouterr().err and not missing.exists()
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    assert main(["chatwoot-double", "tokens", "--db", str(other)]) == 2
    assert "not a Chatwoot double database" in capsys.readouterr().err


def test_serve_refuses_bad_options(tmp_path, capsys):
    assert main(["chatwoot-double", "serve", "--db", str(tmp_path / "x.sqlite"), "--fail-rate", "2"]) == 2
    assert "--fail-rate" in capsys.readouterr().err


def test_say_without_a_server_fails_in_one_line(capsys):
    port = free_port()
    assert main(["chatwoot-double", "say", "--url", f"http://127.0.0.1:{port}", "--contact", "x", "hi"]) == 1
    assert "cannot reach" in capsys.readouterr().err


def _wait_until_up(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        try:
            if httpx.get(url + "/api/v1/profile", headers={"api_access_token": XIAOMEI}, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # polling a subprocess's port: there is no event to wait on
    raise AssertionError("the double did not come up")


def test_serve_in_a_subprocess_then_say_as_a_customer(tmp_path, capsys):
    command = shutil.which("agentdesk") or sys.executable
    args = [command] if command != sys.executable else [sys.executable, "-m", "agentdesk"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([*args, "chatwoot-double", "serve", "--port", str(port), "--db",
                                str(tmp_path / "served.sqlite")], stderr=subprocess.PIPE, env=os.environ.copy())
    try:
        _wait_until_up(url, process)
        assert main(["chatwoot-double", "say", "--url", url, "--contact", "CLI 来的客人", "请问发什么快递"]) == 0
        cid = int(capsys.readouterr().out.strip())
        with httpx.Client(base_url=url, headers={"api_access_token": XIAOMEI}) as http:
            messages = http.get(f"{ACCOUNT}/conversations/{cid}/messages").json()
            assert messages["meta"]["contact"]["name"] == "CLI 来的客人"
            assert [(m["message_type"], m["content"]) for m in messages["payload"]] == [(0, "请问发什么快递")]
        assert main(["chatwoot-double", "say", "--url", url, "--contact", "CLI 来的客人", " "]) == 1
        assert "422" in capsys.readouterr().err
    finally:
        process.terminate()
        process.wait(10)
        process.stderr.close()
