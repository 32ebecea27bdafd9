"""The hostile corpus through every command's output: ``report`` (table, CSV, JSON),
``shop tokens``, ``export --json``, ``replies search`` (table, JSON), ``replies check``,
and the one-line errors that quote a shop's ``detail`` (``shop say``, ``sync``).

Human output (tables, messages) is cleaned like a screen; machine output stays
faithful: JSON loads back to exactly what was stored (controls escaped as ``\\uXXXX``),
CSV keeps the text less only what a terminal would act on.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import unicodedata

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from agentdesk.cli import main
from agentdesk.safetext import inert, kept
from hostile import CORPUS, OSC52, PAYLOADS
from hostile_scene import ME_NAME, hostile_store, loadable_replies, seen, storable, value
from shop_helpers import serve_in_thread

N = len(CORPUS)
CONTROLS = {chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]} - {"\n", "\t"}
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def raw_controls(text: str) -> list[str]:
    """What no output may carry raw: controls (ESC first), bidi controls, surrogates."""
    return sorted({f"U+{ord(ch):04X}" for ch in text
                   if ch in CONTROLS or ch in BIDI or unicodedata.category(ch) == "Cs"})


def assert_inert(text: str, *, human: bool) -> None:
    """Machine output keeps an escape's text (its ESC escaped, so it does nothing); what a
    person reads loses the whole escape and passes the width model."""
    assert raw_controls(text) == []
    if human:
        for payload in PAYLOADS:
            assert payload not in text, payload
        bad = sorted({f"U+{ord(ch):04X}" for ch in text if ch not in "\n" and not kept(ch)})
        assert bad == []


@pytest.fixture
def config(tmp_path):
    """A config whose cache is the hostile scene, its monitor cache too (``report``)."""
    for name in ("x.sqlite", "x-monitor.sqlite"):
        hostile_store(tmp_path / name).close()
    path = tmp_path / "config.toml"
    path.write_text(f'[cache]\npath = "{tmp_path / "x.sqlite"}"\n[ui]\nlanguage = "en"\n', encoding="utf-8")
    return str(path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_report_table_names_every_hostile_agent_inert(capsys, config):
    code, out, err = run(capsys, "report", "--offline", "--config", config)
    assert code == 0, err
    assert_inert(out, human=True)
    assert {i for f, i in seen(out) if f == "AN"} == set(range(N))  # every agent has a row
    assert "[/]" in out  # markup shows as text


def test_report_csv_keeps_the_names_less_what_a_terminal_acts_on(capsys, config):
    code, out, err = run(capsys, "report", "--offline", "--config", config, "--format", "csv")
    assert code == 0, err
    assert_inert(out, human=False)
    names = {row["name"] for row in csv.DictReader(io.StringIO(out))}
    assert {inert(value("AN", i)) for i in range(N)} <= names


def test_report_json_is_lossless_and_inert(capsys, config):
    code, out, err = run(capsys, "report", "--offline", "--config", config, "--format", "json")
    assert code == 0, err
    assert_inert(out, human=False)
    names = {row["name"] for row in json.loads(out)}
    assert {value("AN", i) for i in range(N)} <= names  # exactly as stored


def test_export_json_is_lossless_and_inert(capsys, config):
    code, out, err = run(capsys, "export", "--json", "--config", config)
    assert code == 0, err
    assert_inert(out, human=False)
    conversations = {c["id"]: c for c in json.loads(out)}
    for i in range(N):
        mine = conversations[f"v{i:03d}"]
        assert mine["customer_name"] == value("CN", i) and mine["group"] == value("GR", i)
        assert value("MB", i) in [m["body"] for m in mine["messages"]]


def test_export_into_a_pipe_that_closes_ends_quietly(config):
    """``agentdesk export --json | head``: the reader leaves after a few bytes."""
    agentdesk = shutil.which("agentdesk")
    assert agentdesk, "the installed agentdesk command"
    proc = subprocess.Popen([agentdesk, "export", "--json", "--config", config],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(timeout=60) == 141
    assert err == ""  # no BrokenPipeError traceback, no "Exception ignored"


def test_replies_search_shows_hostile_replies_inert(capsys, config):
    loadable = loadable_replies(range(N))  # the others hold controls: reported, never shown
    for tens in sorted({i // 10 for i in loadable}):
        prefix, shown = f"h{tens:02d}", {i for i in loadable if i // 10 == tens}
        code, out, err = run(capsys, "replies", "search", prefix, "--config", config, "--limit", "10")
        assert code == 0, err
        assert_inert(out, human=True)
        assert {i for f, i in seen(out) if f == "QT"} == shown
        code, out, err = run(capsys, "replies", "search", prefix, "--config", config, "--limit", "10", "--json")
        assert code == 0, err
        assert_inert(out, human=False)
        matched = {r["id"] for r in json.loads(out)["results"] if not r["partial"]}  # not the similar ones
        assert matched == {value("QI", i) for i in shown}


def test_replies_check_quotes_a_hostile_file_inert(capsys, tmp_path):
    reply = "[[reply]]\nid = {id}\ntitle = {title}\nbody = \"亲，在的\"\n"
    hostile_id = json.dumps(f"[/]{OSC52}\u202e")  # a TOML basic string: \u001b etc.
    text = 'category = "x"\n' + reply.format(id=hostile_id, title=json.dumps(CORPUS[0][1])) * 2
    (tmp_path / "bad.toml").write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "replies", "check", str(tmp_path))
    assert code == 1
    assert "holds a control or invisible character" in err and "[/]" in err
    assert_inert(out + err, human=False)  # the library quotes the id escaped: \x1b as text


def hostile_shop(status: int, body: dict):
    async def answer(request):
        return JSONResponse(body, status_code=status)

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST", "PUT"])])


def test_shop_say_quotes_the_shops_detail_inert(capsys):
    """A 409 whose ``detail`` is each hostile string (the shop echoes the customer's name
    back as its detail): one clean line each."""
    async def refuse(request):
        body = await request.json()
        return JSONResponse({"detail": body["customer"], "code": "conflict"}, status_code=409)

    shop = Starlette(routes=[Route("/v1/customer/say", refuse, methods=["POST"])])
    with serve_in_thread(shop) as url:
        for name, text in CORPUS:
            code, out, err = run(capsys, "shop", "say", "--url", url, "--customer", storable(text)[:5000], "在吗")
            assert code == 1, name
            assert err.startswith("agentdesk shop: 409:") and err.count("\n") == 1, name  # one line
            assert_inert(err, human=True)


def test_shop_say_prints_a_hostile_conversation_id_inert(capsys):
    with serve_in_thread(hostile_shop(200, {"conversation_id": f"{OSC52}v1[/]"})) as url:
        code, out, err = run(capsys, "shop", "say", "--url", url, "--customer", "x", "在吗")
    assert code == 0 and out == "v1[/]\n"


def test_sync_quotes_a_refusal_inert(capsys, tmp_path):
    with serve_in_thread(hostile_shop(403, {"detail": f"{OSC52}[/]\u202e\u3164 denied", "code": "forbidden"})) as url:
        config = tmp_path / "config.toml"
        config.write_text(f'[shop]\nurl = "{url}"\ntoken = "t"\n[cache]\npath = "{tmp_path / "c.sqlite"}"\n',
                          encoding="utf-8")
        code, out, err = run(capsys, "sync", "--once", "--config", str(config))
    assert code == 2
    assert "[/]" in err and "denied" in err
    assert_inert(err, human=True)


def test_shop_tokens_lists_hostile_agents_inert(capsys, tmp_path):
    from agentdesk.shop import db

    path = tmp_path / "shop.sqlite"
    conn = db.connect(path)
    conn.executemany(
        "INSERT INTO agents (id, name, role, read_only, token) VALUES (?, ?, ?, 0, ?)",
        [(f"x{i:03d}", value("AN", i), "agent", f"t{i:03d}{storable(CORPUS[i][1])[:40]}") for i in range(N)]
        + [("me", storable(ME_NAME), "[bold]agent", "tme")],
    )
    conn.close()
    code, out, err = run(capsys, "shop", "tokens", "--db", str(path))
    assert code == 0, err
    assert_inert(out, human=True)
    assert {i for f, i in seen(out) if f == "AN"} == set(range(N))
    assert "[bold]agent" in out
