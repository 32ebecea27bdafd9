"""``agentdesk sync`` as a user runs it against shops that go wrong: one line and exit 2
for what cannot work (a URL no request can be made to, a token that is not ASCII, a
shop that redirects – once counted as success), and ``--problems`` listing what was
quarantined, as a table or JSON."""

from __future__ import annotations

import json

import pytest

import hostile_shop as h
from conftest import ANCHOR
from shop_helpers import A01, loopback_server
from test_cli import env, one_error_line, run  # noqa: F401 - the CLI fixtures, shared

pytestmark = pytest.mark.usefixtures("env")


def config(tmp_path, url: str, token: str = A01) -> str:
    path = tmp_path / "config.toml"
    path.write_text(f'[shop]\nurl = {json.dumps(url)}\ntoken = {json.dumps(token, ensure_ascii=False)}\n'
                    f'[cache]\npath = "{tmp_path / "cache.sqlite"}"\n', encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("url, token, says", [
    ("http://[::1", A01, '[shop] url is not a valid URL (Invalid IPv6 URL), got "http://[::1"'),
    ("http://127.0.0.1:abc", A01, "[shop] url is not a valid URL (Port could not be cast to integer value as 'abc')"),
    ("http://127.0.0.1:99999", A01, "[shop] url is not a valid URL (Port out of range 0-65535)"),
    ("127.0.0.1:8080", A01, "must start with http:// or https://"),
    ("http://", A01, "has no host name"),
    ("http://127.0.0.1:8080", "令牌", "[shop] token must be printable ASCII"),
    ("http://127.0.0.1:8080", "two words", "must be printable ASCII without spaces"),
])
def test_an_unusable_url_or_token_is_one_line_and_exit_2(run, tmp_path, url, token, says):
    for command in (("sync", "--once"), ("sync",), ()):  # headless, following, and the app itself
        done = run("--config", config(tmp_path, url, token), *command) if not command else \
            run(*command, "--config", config(tmp_path, url, token))
        assert done.returncode == 2, (command, done.stderr)
        line = one_error_line(done)
        assert line.startswith("agentdesk: config error: ") and says in line


def test_a_redirecting_shop_is_an_error_not_success(run, tmp_path):
    made = {}

    def wrap(app):
        made["h"] = h.Hostile(app)
        made["h"].on("GET", "/v1/customers", h.redirect("https://api.shop.example/v1/customers?limit=500"))
        return made["h"]

    with loopback_server(tmp_path / "shop.sqlite", wrap=wrap, anchor=ANCHOR) as (url, _state):
        done = run("sync", "--once", "--config", config(tmp_path, url))
    assert done.returncode == 2
    assert "sync failed: the shop URL redirects to https://api.shop.example; set [shop] url to it" in \
        one_error_line(done)


def test_sync_problems_lists_what_was_quarantined(run, tmp_path):
    bad = [b'{"id": "c_bad", "name": "x", "vip_level": 99}', b'{"id": "c_esc\\u001b]52;c;ZXZpbA==\\u0007", "name": 5}']

    def wrap(app):
        hostile = h.Hostile(app)
        hostile.on("GET", "/v1/customers", h.mixed_in(bad), times=1)
        return hostile

    with loopback_server(tmp_path / "shop.sqlite", wrap=wrap, anchor=ANCHOR) as (url, _state):
        cfg = config(tmp_path, url)
        synced = run("sync", "--once", "--config", cfg)
    assert synced.returncode == 0, synced.stderr
    assert "2 objects skipped (agentdesk sync --problems lists them)" in synced.stderr
    table = run("sync", "--problems", "--config", cfg)
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["last", "seen", "resource", "id", "field", "reason", "times"]
    row = next(line for line in lines if "c_bad" in line)
    assert "customers" in row and "vip_level" in row and "out of range: expected an integer <= 10" in row
    assert "\x1b" not in table.stdout and "\x07" not in table.stdout, "nothing the shop sent reaches the terminal raw"
    assert lines[-1].startswith("2 objects skipped")
    listed = run("sync", "--problems", "--json", "--config", cfg)
    found = json.loads(listed.stdout)
    assert listed.stdout.isascii()
    assert {p["id"] for p in found} == {"c_bad", "c_esc\x1b]52;c;ZXZpbA==\x07"}
    one = next(p for p in found if p["id"] == "c_bad")
    assert (one["resource"], one["field"], one["times"]) == ("customers", "vip_level", 1)
    assert json.loads(one["raw"]) == {"id": "c_bad", "name": "x", "vip_level": 99}
    assert one["last_seen"].endswith("Z")


def test_json_needs_problems(run, tmp_path):
    done = run("sync", "--json")
    assert done.returncode == 2 and "--json goes with --problems" in one_error_line(done)
