"""``agentdesk shop serve|tokens|say``, and the one test against a real uvicorn on
127.0.0.1: the customer side through the CLI and a dropped connection seen as a
transport error."""

from __future__ import annotations

import httpx
import pytest

from agentdesk.cli import main
from conftest import ANCHOR
from shop_helpers import free_port, loopback_server

TOKENS = {"a01": "demo-a01-xiaomei", "a02": "demo-a02-ajie", "a03": "demo-a03-xiaoyu", "a04": "demo-a04-laozhou",
          "s01": "demo-s01-linjie"}


@pytest.fixture
def shop_db(tmp_path):
    from agentdesk.shop.state import ShopState

    path = tmp_path / "shop.sqlite"
    ShopState(path, seed="demo", anchor=ANCHOR, content_dir=tmp_path).close()
    return path


def test_tokens_lists_every_agent_with_role_and_token(shop_db, capsys):
    assert main(["shop", "tokens", "--db", str(shop_db)]) == 0
    out = capsys.readouterr().out
    lines = [line.split() for line in out.strip().splitlines()]
    assert lines[0] == ["id", "name", "role", "read_only", "token"]
    rows = {row[0]: row for row in lines[1:]}
    assert set(rows) == set(TOKENS)
    for agent_id, token in TOKENS.items():
        assert rows[agent_id][-1] == token
    assert rows["a01"][1:4] == ["小美", "agent", "no"]
    assert rows["s01"][1:4] == ["林姐", "supervisor", "yes"]


def test_tokens_creates_nothing_and_fails_in_one_line(tmp_path, capsys):
    missing = tmp_path / "nope.sqlite"
    assert main(["shop", "tokens", "--db", str(missing)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "nope.sqlite" in err
    assert not missing.exists()
    other = tmp_path / "other.sqlite"
    import sqlite3

    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    assert main(["shop", "tokens", "--db", str(other)]) == 2
    assert "not a shop database" in capsys.readouterr().err
    tables = sqlite3.connect(other).execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert tables == [("t",)]  # no shop schema was added
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database at all" * 10)
    assert main(["shop", "tokens", "--db", str(junk)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_serve_passes_its_options(monkeypatch, tmp_path, capsys):
    import agentdesk.shop.server as server

    calls = []
    monkeypatch.setattr(server, "serve", lambda *a, **kw: calls.append((a, kw)))
    db = str(tmp_path / "s.sqlite")
    assert main(["shop", "serve", "--port", "8123", "--db", db, "--seed", "none", "--simulate", "6",
                 "--fail-rate", "0.2", "--latency", "30", "--fault-seed", "9"]) == 0
    assert calls == [(("127.0.0.1", 8123, db), {"seed": None, "simulate": 6.0, "colleagues": False, "fail_rate": 0.2,
                                                "latency_ms": 30, "fault_seed": 9})]
    assert main(["shop", "serve", "--db", db]) == 0
    assert calls[-1][1] == {"seed": "demo", "simulate": 0.0, "colleagues": False, "fail_rate": 0.0, "latency_ms": 0,
                            "fault_seed": 0}
    assert main(["shop", "serve", "--db", db, "--colleagues"]) == 0
    assert calls[-1][1]["colleagues"] is True
    assert main(["shop", "serve", "--db", db, "--fail-rate", "2"]) == 2
    assert main(["shop", "serve", "--db", db, "--simulate", "-1"]) == 2
    assert len(calls) == 3


def test_say_and_a_dropped_connection_over_loopback(tmp_path, capsys):
    with loopback_server(tmp_path / "shop.sqlite", anchor=ANCHOR, content_dir=tmp_path) as (url, state):
        assert main(["shop", "say", "--url", url, "--customer", "命令行来的顾客", "在吗 有人吗"]) == 0
        cv = capsys.readouterr().out.strip()
        assert cv.startswith("cv-c") and state.messages_of(cv)[0]["body"] == "在吗 有人吗"
        assert main(["shop", "say", "--url", url + "/", "--customer", "c001", "还在吗"]) == 0
        assert "还在吗" in [m["body"] for m in state.messages_of(capsys.readouterr().out.strip())]
        assert main(["shop", "say", "--url", url, "--customer", "c001", " "]) == 1
        assert "422" in capsys.readouterr().err

        state.set_faults(fail_rate=1.0, kinds=("drop",))
        with pytest.raises(httpx.TransportError):
            httpx.get(url + "/v1/me", headers={"Authorization": f"Bearer {TOKENS['a01']}"}, timeout=5)
        assert main(["shop", "say", "--url", url, "--customer", "c001", "顾客那边不受故障影响"]) == 0
        capsys.readouterr()
        state.set_faults(fail_rate=0.0)
        assert httpx.get(url + "/v1/me", headers={"Authorization": f"Bearer {TOKENS['a01']}"}).status_code == 200


def test_say_to_an_unreachable_shop_is_one_line(capsys):
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["shop", "say", "--url", url, "--customer", "x", "在吗"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "cannot reach" in err
