"""``agentdesk search`` as a user runs it: a real subprocess on the demo's cache, JSON
checked against a brute-force scan of the same file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from agentdesk.textfold import fold


@pytest.fixture
def run(tmp_path):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTDESK_", "XDG_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"),
               PYTHONIOENCODING="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "agentdesk", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
    run.cache = home / ".local/share/agentdesk/demo.sqlite"
    return run


def scan(path, words) -> list[tuple[int, float]]:
    """Every message holding each folded word, by reading the whole file."""
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT id, body, at FROM messages").fetchall()
    conn.close()
    terms = [fold(w) for w in words]
    return sorted(((i, at) for i, body, at in rows if all(t in fold(body) for t in terms)), key=lambda r: -r[1])


def test_json_shape_order_and_recall_against_a_scan(run):
    done = run("--demo", "search", "退款", "--json", "--limit", "100000")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["query"] == "退款"
    results = out["results"]
    assert results and set(results[0]) == {"conversation_id", "message_id", "customer", "sender", "body", "created_at"}
    expected = scan(run.cache, ["退款"])
    assert sorted(r["message_id"] for r in results) == sorted(i for i, _ in expected)
    times = [r["created_at"] for r in results]
    assert times == sorted(times, reverse=True)  # RFC 3339 UTC sorts as time does
    assert all(t.endswith("Z") for t in times)
    for word in ("款", "Ｌ码", "sf", "3902108847623109945"):  # 1 character, full-width, case, a number
        got = json.loads(run("--demo", "search", word, "--json", "--limit", "100000").stdout)["results"]
        assert sorted(r["message_id"] for r in got) == sorted(i for i, _ in scan(run.cache, [word])), word


def test_limit_filters_and_a_table(run):
    done = run("--demo", "search", "亲", "--limit", "3")
    assert done.returncode == 0 and len(done.stdout.strip().splitlines()) == 3
    agent = json.loads(run("--demo", "search", "亲", "agent:小美", "--json", "--limit", "50").stdout)["results"]
    assert agent and all(r["sender"] in ("agent", "note") for r in agent)
    bad = run("--demo", "search", "亲", "from:someday")
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "from:someday" in bad.stderr
    assert run("--demo", "search", "x", "--limit", "0").returncode == 2
