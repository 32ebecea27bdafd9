"""The bad-file corpus: broken configs, reply files and caches, each run through the
installed ``agentdesk`` command in a subprocess as an ordinary user.

Every one must end with exactly one line on stderr that names the file (and the key
or field), the documented exit status (2; 1 for ``replies check``), no traceback, and
nothing stored changed: the bytes of every file that was there are the same after.
"""

from __future__ import annotations

import json
import os
import random
import re
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from agentdesk.store import Store, outbox, writes
from agentdesk.store.schema import SCHEMA_VERSION
from cli_helpers import HOLD_LOCK, held, run_agentdesk, user_env

T0 = 1_795_156_200.0
#: Each config goes through a different way in: the workstation, the demo, the monitor,
#: the headless commands. Whichever, the config is read first and must stop it.
CONFIG_COMMANDS = [
    [],
    ["--demo"],
    ["sync", "--once"],
    ["--monitor"],
    ["report", "--offline"],
    ["replies", "search", "退款"],
    ["outbox", "list"],
    ["--demo", "sync", "--once"],
]


@dataclass
class Bad:
    """One bad file: what to run, what the one line must say, what must not change."""

    args: list[str]
    says: list[str]
    names: str  # the file the line must name
    keep: list[Path] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    status: int = 2
    cwd: Path | None = None
    absent: list[Path] = field(default_factory=list)  # must still not exist after


@pytest.fixture
def home(tmp_path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


def snapshot(paths: list[Path]) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for p in paths:  # not -shm: an index SQLite rebuilds, which readers write to
        for q in (p, Path(f"{p}-wal")):
            try:  # an empty WAL is no WAL: SQLite makes one when it opens a WAL-mode file
                out[str(q)] = (q.read_bytes() or None) if q.is_file() else None
            except PermissionError:  # an unreadable file of the corpus: its mode is its content
                out[str(q)] = oct(q.stat().st_mode).encode()
    return out


def check(bad: Bad, home: Path, tmp_path: Path) -> str:
    before = snapshot(bad.keep)
    done = run_agentdesk(bad.args, cwd=bad.cwd or tmp_path, env=user_env(home, **bad.env))
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, f"stderr should be one line:\n{done.stderr}\nstdout:\n{done.stdout[-2000:]}"
    line = lines[0]
    assert done.returncode == bad.status, line
    assert bad.names in line, line
    for words in bad.says:
        assert words in line, line
    assert "\x1b" not in line and len(line) < 1200, line
    assert snapshot(bad.keep) == before, "a stored file changed"
    for p in bad.absent:
        assert not p.exists(), f"{p} was created"
    return line


# -- configs ---------------------------------------------------------------------------------------------

DEEP_ARRAY = "x = " + "[" * 3000 + "]" * 3000 + "\n"
DEEP_TABLE = "x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n"

# (id, file contents (str is UTF-8 text, bytes are written as they are), words the line must hold)
CONFIGS: list[tuple[str, str | bytes, list[str]]] = [
    ("syntax-missing-value", "[ui]\nlanguage = \n", ["not valid TOML", "line 2"]),
    ("syntax-unclosed-string", '[ui]\nlanguage = "zh\n', ["not valid TOML", "line 2"]),
    ("syntax-table-twice", "[ui]\n[ui]\n", ["not valid TOML", "line 2"]),
    ("syntax-key-twice", '[ui]\nlanguage = "zh"\nlanguage = "en"\n', ["not valid TOML"]),
    ("syntax-dotted-overwrite", 'ui.language = "zh"\n[ui]\nlanguage = "en"\n', ["not valid TOML"]),
    ("nul-byte", b"[ui]\x00\nlanguage = 'zh'\n", ["not valid TOML", "line 1"]),
    ("invalid-utf8", b"[agent]\nname = \"\xe5\xb0\x8f\xff\"\n", ["not UTF-8", "line 2"]),
    ("utf16", "[ui]\nlanguage = 'zh'\n".encode("utf-16"), ["not UTF-8", "line 1"]),
    ("deep-arrays", DEEP_ARRAY, ["nested too deeply"]),
    ("deep-inline-tables", DEEP_TABLE, ["nested too deeply"]),
    ("huge-file", "# 注释\n" * 200_000, ["too big"]),
    ("unknown-section", "[shopp]\nurl = 'https://x'\n", ["unknown section [shopp]"]),
    ("unknown-key", "[ui]\nlangauge = 'zh'\n", ["[ui] langauge"]),
    ("escape-in-key", '[ui]\n"\\u001b[31mred" = 1\n', ["unknown key [ui]", "\\x1b[31mred"]),
    ("bidi-in-section", '["\u202eevil"]\nx = 1\n', ["unknown section", "\\u202eevil"]),
    ("huge-key", f'[ui]\n"{"k" * 100_000}" = 1\n', ["unknown key [ui]", "kkkk…"]),
    ("string-for-int", "[timers]\namber_seconds = '30'\n", ["[timers] amber_seconds", "an integer"]),
    ("bool-for-int", "[timers]\nred_seconds = true\n", ["[timers] red_seconds"]),
    ("float-for-int", "[timers]\namber_seconds = 30.5\n", ["[timers] amber_seconds"]),
    ("date-for-int", "[timers]\nlate_seconds = 1979-05-27\n", ["[timers] late_seconds"]),
    ("int-for-string", "[shop]\ntoken = 42\n", ["[shop] token", "a string"]),
    ("list-for-string", "[replies]\napology = ['亲']\n", ["[replies] apology"]),
    ("table-for-string", "[ui.language]\nzh = true\n", ["[ui] language"]),
    ("section-not-a-table", "ui = 'zh'\n", ["[ui] must be a table"]),
    ("negative-timer", "[timers]\nlate_seconds = -5\n", ["[timers] late_seconds"]),
    ("timers-out-of-order", "[timers]\namber_seconds = 150\n", ["amber_seconds < red_seconds"]),
    ("huge-timer", "[timers]\nlate_seconds = 99999999999999999999\n", ["[timers] late_seconds", "at most"]),
    ("simulate-nan", "[demo]\nsimulate = nan\n", ["[demo] simulate"]),
    ("simulate-inf", "[demo]\nsimulate = inf\n", ["[demo] simulate"]),
    ("simulate-too-fast", "[demo]\nsimulate = 601\n", ["[demo] simulate"]),
    ("share-as-percent", "[kpi]\nwithin_share = 80\n", ["[kpi] within_share"]),
    ("bad-hours", "[kpi]\nbusiness_hours = '8-23'\n", ["[kpi] business_hours"]),
    ("outreach-zero", "[outreach]\nper_minute = 0\n", ["[outreach] per_minute"]),
    ("followup-a-year-on", "[followups]\ndefault_days = 366\n", ["[followups] default_days"]),
    ("empty-greeting", "[greeting]\ntext = ' '\n", ["[greeting] text"]),
    ("greeting-over-message-limit", f"[greeting]\ntext = '{'亲' * 10_001}'\n", ["[greeting] text", "10,000"]),
    ("osc52-in-greeting", '[greeting]\ntext = "hi \\u001b]52;c;ZXZpbA==\\u0007"\n', ["[greeting] text", "U+001B"]),
    ("newline-in-name", '[agent]\nname = "小美\\n老周"\n', ["[agent] name", "U+000A"]),
    ("nul-in-cache-path", '[cache]\npath = "/tmp/\\u0000cache.sqlite"\n', ["[cache] path", "U+0000"]),
    ("empty-word", "[complaints]\nwords = ['差评', ' ']\n", ["[complaints] words"]),
    ("number-in-words", "[routing]\ncomplaint = ['差评', 3]\n", ["[routing] complaint"]),
    ("bad-priority", "[complaints]\npriority = 'critical'\n", ["[complaints] priority"]),
    ("bad-language", "[ui]\nlanguage = 'fr'\n", ["[ui] language"]),
    ("url-ipv6-unclosed", '[shop]\nurl = "http://[::1"\ntoken = "t"\n', ["[shop] url", "IPv6"]),
    ("url-port-not-a-number", '[shop]\nurl = "http://127.0.0.1:abc"\ntoken = "t"\n', ["[shop] url", "Port"]),
    ("url-port-99999", '[shop]\nurl = "http://127.0.0.1:99999"\ntoken = "t"\n', ["[shop] url", "Port out of range"]),
    ("url-port-0", '[shop]\nurl = "http://127.0.0.1:0"\ntoken = "t"\n', ["[shop] url", "port 0"]),
    ("url-ftp", '[shop]\nurl = "ftp://shop"\ntoken = "t"\n', ["[shop] url", "http://"]),
    ("url-no-host", '[shop]\nurl = "http://"\ntoken = "t"\n', ["[shop] url", "host"]),
    ("url-credentials", '[shop]\nurl = "http://me:secret@shop"\ntoken = "t"\n', ["[shop] url", "password"]),
    ("url-space", '[shop]\nurl = "http://shop .com"\ntoken = "t"\n', ["[shop] url", "spaces"]),
    ("token-not-ascii", '[shop]\nurl = "http://127.0.0.1:9"\ntoken = "令牌"\n', ["[shop] token", "ASCII"]),
    ("token-with-space", '[shop]\nurl = "http://127.0.0.1:9"\ntoken = "a b"\n', ["[shop] token"]),
]


def _config_cases() -> list:
    return [pytest.param(text, says, CONFIG_COMMANDS[n % len(CONFIG_COMMANDS)], id=name)
            for n, (name, text, says) in enumerate(CONFIGS)]


@pytest.mark.parametrize("text, says, command", _config_cases())
def test_bad_config(tmp_path, home, text, says, command):
    config = tmp_path / "bad config.toml"
    config.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    line = check(Bad(["--config", str(config), *command], says, str(config), keep=[config],
                     absent=[home / ".local"]), home, tmp_path)
    assert "config error" in line
    if "[shop] token" in says:
        assert "令牌" not in line and "a b" not in line  # a token is never shown


def _special_config(kind: str, tmp_path: Path) -> tuple[Path, list[str]]:
    config = tmp_path / "special.toml"
    if kind == "folder":
        config.mkdir()
        return config, ["is a folder"]
    if kind == "fifo":
        os.mkfifo(config)
        return config, ["not a regular file"]
    if kind == "link-loop":
        config.symlink_to(config)
        return config, ["link loop"]
    config.write_text("[ui]\nlanguage = 'zh'\n", encoding="utf-8")
    config.chmod(0)
    return config, ["cannot be read", "permission denied"]


@pytest.mark.parametrize("kind", ["folder", "fifo", "link-loop", "unreadable"])
def test_a_config_that_is_not_a_readable_file(tmp_path, home, kind):
    config, says = _special_config(kind, tmp_path)
    check(Bad(["--config", str(config)], says, str(config)), home, tmp_path)


def test_a_bad_config_found_in_the_current_folder_as_a_folder(tmp_path, home):
    """./config.toml that is a folder is reported, not skipped for the defaults."""
    (tmp_path / "config.toml").mkdir()
    check(Bad(["sync", "--once"], ["is a folder"], str(tmp_path / "config.toml")), home, tmp_path)


def test_a_bad_token_in_the_environment(tmp_path, home):
    check(Bad(["sync", "--once"], ["ASCII"], "$AGENTDESK_TOKEN",
              env={"AGENTDESK_TOKEN": "tok\u00e9n"}), home, tmp_path)


def test_a_bom_is_not_an_error(tmp_path, home):
    """Notepad saves UTF-8 with a byte-order mark; that is still the user's config."""
    config = tmp_path / "bom.toml"
    config.write_bytes(b"\xef\xbb\xbf" + "[agent]\nname = '没有这个人'\n".encode())
    check(Bad(["--config", str(config), "--demo"], ["没有这个人"], str(config)), home, tmp_path)


# -- reply files -------------------------------------------------------------------------------------------

GOOD_REPLY = """category = "售后"

[[reply]]
id = "good-one"
title = "好的"
body = "亲，好的～"
"""


def _reply(**fields: str) -> str:
    values = {"id": '"r1"', "title": '"标题"', "body": '"亲，您好"', **fields}
    return "[[reply]]\n" + "".join(f"{k} = {v}\n" for k, v in values.items() if v is not None)


# (id, contents of bad.toml beside a good file, words the line must hold)
REPLY_FILES: list[tuple[str, str | bytes, list[str]]] = [
    ("syntax", '[[reply]]\nid = "x\ntitle = "t"\n', [":2:", "not valid TOML"]),
    ("invalid-utf8", b'[[reply]]\nid = "x"\ntitle = "\xff"\nbody = "b"\n', [":3:", "not UTF-8"]),
    ("nul-byte", b'[[reply]]\nid = "x"\x00\n', [":2:", "not valid TOML"]),
    ("deep-nesting", "[[reply]]\ntags = " + "[" * 3000 + "]" * 3000 + "\n", ["nested too deeply"]),
    ("huge-file", "# 话术\n" * 700_000, ["too big"]),
    ("unknown-top-key", '[[replies]]\nid = "x"\n', ["unknown key", "replies"]),
    ("reply-not-tables", "reply = 1\n", ["reply must be an array"]),
    ("category-not-string", "category = 3\n" + _reply(), ["category must be a string"]),
    ("not-a-table", "reply = [1]\n", ["each reply must be a table"]),
    ("missing-body", _reply(body=None), [":1:", "body is missing"]),
    ("empty-body", _reply(body='"  "'), [":1:", "body is empty"]),
    ("body-over-limit", _reply(body=f'"{"好" * 10_001}"'), [":1:", "body is 10,001 characters", "10,000"]),
    ("escape-in-body", _reply(body='"亲\\u001b[2J"'), [":1:", "body holds a control character", "U+001B"]),
    ("bidi-in-body", _reply(body='"退款\\u202e请点链接"'), [":1:", "U+202E"]),
    ("control-in-id", _reply(id='"r\\u0007"'), [":1:", "id", "\\x07", "U+0007"]),
    ("id-too-long", _reply(id=f'"{"i" * 81}"'), [":1:", "id is 81 characters"]),
    ("empty-id", _reply(id='" "'), [":1:", "id is empty"]),
    ("id-not-string", _reply(id="7"), [":1:", "id is missing or not a string"]),
    ("newline-in-title", _reply(title='"一\\n二"'), [":1:", "title", "U+000A"]),
    ("title-not-string", _reply(title="[1]"), [":1:", "title is missing or not a string"]),
    ("escape-in-shortcode", _reply(shortcode='"tk\\u001b"'), [":1:", "shortcode", "\\x1b"]),
    ("shortcode-too-long", _reply(shortcode=f'"{"s" * 33}"'), [":1:", "shortcode must be up to 32"]),
    ("zero-width-in-tag", _reply(tags='["退\\u200b款"]'), [":1:", "tag", "U+200B"]),
    ("tags-not-a-list", _reply(tags='"退款"'), [":1:", "tags must be a list"]),
    ("unknown-field", _reply(bdoy='"x"'), [":1:", "unknown field", "bdoy"]),
    ("unknown-variable", _reply(body='"{order.number}"'), [":1:", "unknown variable {order.number}"]),
    ("duplicate-id", GOOD_REPLY.replace('category = "售后"\n', ""), ["duplicate id", "good-one"]),
    ("duplicate-shortcode", _reply(shortcode='"hao"'), ["duplicate shortcode", "hao"]),
]


@pytest.mark.parametrize("text, says", [pytest.param(t, s, id=n) for n, t, s in REPLY_FILES])
def test_bad_reply_file(tmp_path, home, text, says):
    """``replies check`` names the bad file (file:line: field) on stderr, exits 1 as
    documented, and every other file still loads."""
    library = tmp_path / "library"
    library.mkdir()
    good = GOOD_REPLY.replace('title = "好的"', 'title = "好的"\nshortcode = "hao"')
    (library / "a-good.toml").write_text(good, encoding="utf-8")
    bad = library / "bad.toml"
    bad.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    done = run_agentdesk(["replies", "check", str(library)], cwd=tmp_path, env=user_env(home))
    line = check_reply_line(done, bad, says)
    loaded = re.search(r"^1 problem\(s\); (\d) replies in 2 file\(s\) load", done.stdout)
    assert loaded and int(loaded.group(1)) >= 1, done.stdout  # the good file, and a reply only stripped of a duplicate shortcode
    assert line.startswith(str(bad))


def check_reply_line(done: subprocess.CompletedProcess, bad: Path, says: list[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert done.returncode == 1
    for words in says:
        assert words in lines[0], lines[0]
    assert "\x1b" not in lines[0] and len(lines[0]) < 1200
    return lines[0]


@pytest.mark.parametrize("kind", ["fifo", "unreadable"])
def test_a_reply_file_that_cannot_be_read(tmp_path, home, kind):
    library = tmp_path / "library"
    library.mkdir()
    (library / "a-good.toml").write_text(GOOD_REPLY, encoding="utf-8")
    bad = library / "bad.toml"
    if kind == "fifo":
        os.mkfifo(bad)
        says = ["not a regular file"]
    else:
        bad.write_text(_reply(), encoding="utf-8")
        bad.chmod(0)
        says = ["cannot be read", "permission denied"]
    done = run_agentdesk(["replies", "check", str(library)], cwd=tmp_path, env=user_env(home))
    assert check_reply_line(done, bad, says).startswith(str(bad))
    assert "1 replies in 2 file(s) load" in done.stdout


# -- caches ----------------------------------------------------------------------------------------------


def good_cache(path: Path, *, unsent: int = 1) -> Path:
    """A real cache holding a reply not yet sent (what must never be lost)."""
    store = Store(path)
    store.write(writes.set_meta, "shop_id", "shop-1")
    for n in range(unsent):
        store.write(outbox.send_message, f"cv-{n}", f"亲，马上为您处理 {n}", T0 + n, agent_id="a01")
    store.close()
    return path


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _config(tmp_path: Path, cache: Path | str, shop: bool) -> Path:
    config = tmp_path / "config.toml"
    lines = [f"[cache]\npath = {json.dumps(str(cache))}\n"]
    if shop:  # sync --once gets as far as the cache (never to this port)
        lines.append('[shop]\nurl = "http://127.0.0.1:9"\ntoken = "t"\n')
    config.write_text("".join(lines), encoding="utf-8")
    return config


#: How each cache is opened: the workstation, `sync --once`, and the monitor's report.
CACHE_COMMANDS = [[], ["sync", "--once"]]


def _altered(sql: str, *says: str) -> Callable[[Path], list[str]]:
    """A good cache (with an unsent reply) whose schema ``sql`` changes behind agentdesk's back."""
    def make(cache: Path) -> list[str]:
        good_cache(cache)
        conn = raw(cache)
        conn.execute(sql)
        conn.close()
        return list(says)

    return make


def _read_only(cache: Path) -> list[str]:
    good_cache(cache)
    cache.chmod(0o444)
    return ["is read-only", "chmod u+w", "nothing in it is damaged"]


def _unreadable(cache: Path) -> list[str]:
    good_cache(cache)
    cache.chmod(0)
    return ["cannot be read (permission denied)", "not damaged"]


def _folder_read_only(cache: Path) -> list[str]:
    good_cache(cache)
    cache.parent.chmod(0o555)
    return ["is not writable", "-wal"]


def _new_in_read_only_folder(cache: Path) -> list[str]:
    cache.parent.chmod(0o555)
    return ["is not writable"]


def _truncated_header(cache: Path) -> list[str]:
    good_cache(cache)
    cache.write_bytes(cache.read_bytes()[:50])
    return ["is truncated", "header"]


def _truncated_pages(cache: Path) -> list[str]:
    good_cache(cache)
    data = cache.read_bytes()
    cache.write_bytes(data[: len(data) // 2])
    return ["is truncated", "bytes"]


def _garbage(cache: Path) -> list[str]:
    cache.write_bytes(random.Random(7).randbytes(8192))
    return ["is not a SQLite database", "--reset-cache --force"]


def _text(cache: Path) -> list[str]:
    cache.write_text("my shopping list\n牛奶\n", encoding="utf-8")
    return ["is not a SQLite database"]


def _zeros(cache: Path) -> list[str]:
    cache.write_bytes(b"\x00" * 16384)
    return ["is not a SQLite database"]


def _other_app(cache: Path) -> list[str]:
    conn = raw(cache)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)")
    conn.execute("INSERT INTO users (email) VALUES ('boss@example.com')")
    conn.close()
    return ["another program's SQLite database", "never deletes it"]


def _other_app_id(cache: Path) -> list[str]:
    conn = raw(cache)
    conn.execute("PRAGMA application_id = 1234")
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    return ["another program's SQLite database", "application id 0x000004d2"]


def _newer_with_unsent(cache: Path) -> list[str]:
    good_cache(cache, unsent=2)
    conn = raw(cache)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 3}")
    conn.close()
    return ["newer agentdesk", "holds 2 unsent write(s)", "open it with that newer agentdesk"]


def _newer_without_unsent(cache: Path) -> list[str]:
    good_cache(cache, unsent=0)
    conn = raw(cache)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    return ["newer agentdesk", "--reset-cache", "nothing unsent"]


def _a_folder(cache: Path) -> list[str]:
    cache.mkdir()
    return ["is a folder, not a cache file"]


def _a_fifo(cache: Path) -> list[str]:
    os.mkfifo(cache)
    return ["is not a regular file"]


def _link_loop(cache: Path) -> list[str]:
    cache.symlink_to(cache)
    return ["link loop"]


def _scribbled_schema(cache: Path) -> list[str]:
    good_cache(cache)
    data = bytearray(cache.read_bytes())
    data[100:1000] = b"\x5a" * 900  # page 1 past the header: the schema's b-tree
    cache.write_bytes(bytes(data))
    return ["damaged", "--reset-cache --force"]


def _wal_read_only(cache: Path) -> list[str]:
    good_cache(cache)
    conn = raw(cache)  # keep a WAL: another connection's writes not yet copied back
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("INSERT INTO meta VALUES ('x', 'y')")
    wal = Path(f"{cache}-wal")
    data = {s: Path(f"{cache}{s}").read_bytes() for s in ("-wal", "-shm")}
    conn.close()
    for suffix, content in data.items():  # closing checkpointed them away: put them back
        Path(f"{cache}{suffix}").write_bytes(content)
    wal.chmod(0o444)
    return ["-wal is not writable"]


CACHES: list[tuple[str, Callable[[Path], list[str]]]] = [
    ("renamed-table", _altered("ALTER TABLE followups RENAME TO followups_old",
                               "tables are damaged", "table followups is missing")),
    ("dropped-column", _altered("ALTER TABLE messages DROP COLUMN meta", "tables are damaged",
                                "column messages.meta is missing", "1 unsent write(s) are saved")),
    ("outbox-renamed", _altered("ALTER TABLE outbox RENAME TO outbox_old",
                                "table outbox is missing", "--reset-cache --force")),
    ("read-only-file", _read_only),
    ("unreadable-file", _unreadable),
    ("read-only-folder", _folder_read_only),
    ("new-cache-in-read-only-folder", _new_in_read_only_folder),
    ("truncated-header", _truncated_header),
    ("truncated-pages", _truncated_pages),
    ("random-bytes", _garbage),
    ("text-file", _text),
    ("zeros", _zeros),
    ("another-apps-database", _other_app),
    ("another-application-id", _other_app_id),
    ("newer-schema-with-unsent-writes", _newer_with_unsent),
    ("newer-schema-nothing-unsent", _newer_without_unsent),
    ("cache-path-is-a-folder", _a_folder),
    ("cache-path-is-a-pipe", _a_fifo),
    ("cache-path-link-loop", _link_loop),
    ("scribbled-schema-page", _scribbled_schema),
    ("read-only-wal", _wal_read_only),
]


@pytest.mark.parametrize("n, make", [pytest.param(n, make, id=name) for n, (name, make) in enumerate(CACHES)])
def test_bad_cache(tmp_path, home, n, make):
    folder = tmp_path / "cache folder"
    folder.mkdir()
    cache = folder / "cache.sqlite"
    try:
        says = make(cache)
        command = CACHE_COMMANDS[n % len(CACHE_COMMANDS)]
        config = _config(tmp_path, cache, shop=bool(command))
        line = check(Bad(["--config", str(config), *command], says, str(cache), keep=[cache]), home, tmp_path)
    finally:
        folder.chmod(0o755)
    assert "cache error" in line
    if "holds 2 unsent" in " ".join(says):
        assert "--reset-cache" not in line  # it would not be theirs to throw away


def test_cache_whose_folder_is_a_file(tmp_path, home):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file", encoding="utf-8")
    config = _config(tmp_path, blocker / "cache.sqlite", shop=False)
    check(Bad(["--config", str(config)], [f"{blocker} is a file, not a folder"], str(blocker / "cache.sqlite"),
              keep=[blocker]), home, tmp_path)


def test_a_bad_demo_cache_stops_the_demo(tmp_path, home):
    """The demo's own cache in the data dir, opened by the demo workstation and monitor."""
    data = home / ".local" / "share" / "agentdesk"
    data.mkdir(parents=True)
    for name, args in (("demo.sqlite", ["--demo"]), ("demo-monitor.sqlite", ["--demo", "--monitor"])):
        cache = data / name
        cache.write_bytes(random.Random(3).randbytes(4096))
        check(Bad(args, ["is not a SQLite database"], str(cache), keep=[cache]), home, tmp_path)


def test_a_bad_demo_shop_file_stops_the_demo(tmp_path, home):
    """The in-process demo shop keeps its own file beside the demo cache."""
    data = home / ".local" / "share" / "agentdesk"
    data.mkdir(parents=True)
    shop = data / "demo-shop.sqlite"
    shop.write_bytes(random.Random(4).randbytes(4096))
    check(Bad(["--demo", "sync", "--once"], ["the demo shop's file cannot be used", "--demo --reset-cache"],
              str(shop), keep=[shop]), home, tmp_path)


HOLD_SQLITE_WRITE = (
    "import sqlite3, sys\n"
    "c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN IMMEDIATE')\n"
    "print('ready', flush=True); sys.stdin.read()"
)


@pytest.mark.parametrize("code, says", [
    pytest.param(HOLD_LOCK, ["in use by another agentdesk", "pid"], id="another-agentdesk"),
    pytest.param(HOLD_SQLITE_WRITE, ["locked by another program"], id="another-program"),
])
def test_a_cache_held_by_someone_else(tmp_path, home, code, says):
    cache = good_cache(tmp_path / "cache.sqlite")
    config = _config(tmp_path, cache, shop=True)
    with held(cache, code) as holder:
        line = check(Bad(["--config", str(config), "sync", "--once"], says, str(cache), keep=[cache]),
                     home, tmp_path)
    if code is HOLD_LOCK:
        assert f"pid {holder.pid}" in line


def test_the_corpus_is_as_big_as_promised():
    special = 4 + 1 + 1  # configs that are not files, the one in the current folder, the env token
    assert len(CONFIGS) + special >= 40
    assert len(REPLY_FILES) + 2 >= 20
    assert len(CACHES) + 3 + 1 + 2 >= 15  # + the folder that is a file, three demo files, two holders
