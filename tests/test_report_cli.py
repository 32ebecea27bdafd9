"""``agentdesk report`` as a user runs it: csv, json and table from a monitor cache,
one-line errors, the unreachable shop, and the demo end to end."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from dataclasses import asdict
from datetime import date, timedelta

import pytest
from conftest import ANCHOR

from agentdesk.cli import main
from agentdesk.clock import FixedClock
from agentdesk.config import KpiSettings, Settings, load_settings
from agentdesk.demo.build import open_demo
from agentdesk.store import Store, writes
from agentdesk.sync.engine import CURSOR
from agentdesk.workflow import kpi, report, report_commands

DAY = ANCHOR - 14.5 * 3600  # 2026-11-20 00:00 Asia/Shanghai


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(report_commands, "CLOCK", FixedClock(ANCHOR))


@pytest.fixture
def config(tmp_path):
    """A config whose monitor cache (``x-monitor.sqlite``) holds the demo shop at the anchor."""
    path = tmp_path / "config.toml"
    path.write_text(f'[cache]\npath = "{tmp_path / "x.sqlite"}"\n[ui]\nlanguage = "zh"\n', encoding="utf-8")
    monitor = load_settings(path).cache_path(monitor=True)
    assert monitor == tmp_path / "x-monitor.sqlite"
    open_demo(monitor, anchor=ANCHOR).close()
    return path


def expected(config, start: float, end: float) -> kpi.KpiReport:
    store = Store(load_settings(config).cache_path(monitor=True))
    try:
        return store.read(kpi.compute, start, end, KpiSettings())
    finally:
        store.close()


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("agentdesk: ") and "Traceback" not in err, err
    return lines[0]


def test_csv_is_the_computed_kpis(config, clock, capsys):
    assert main(["report", "--offline", "--config", str(config), "--format", "csv"]) == 0
    out = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert out.splitlines()[0] == ",".join(report.FIELDS)
    r = expected(config, DAY, ANCHOR)
    assert [(row["scope"], row["key"]) for row in rows] == [("agent", a.key) for a in r.agents] + [("team", "")]
    for row, k in zip(rows, [*r.agents, r.team]):
        for name in report.FIELDS:
            value = getattr(k, name)
            if value is None:
                assert row[name] == "", name
            elif name in report.SECONDS:
                assert row[name] == f"{value:.1f}"
            elif name in report.SHARES:
                assert row[name] == f"{value:.4f}" and len(row[name].split(".")[1]) == 4
            else:
                assert row[name] == str(value)
    assert r.team.rounds > 50 and rows[-1]["rounds"] == str(r.team.rounds)


def test_csv_by_group_and_by_team(config, clock, capsys):
    assert main(["report", "--offline", "--config", str(config), "--format", "csv", "--by", "group"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["scope"], r["key"]) for r in rows] == [
        ("group", "售前"), ("group", "售后"), ("group", "客诉"), ("team", "")
    ]
    assert main(["report", "--offline", "--config", str(config), "--format", "csv", "--by", "team"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["scope"] for r in rows] == ["team"]


def test_json_has_the_fields_and_the_window(config, clock, capsys):
    argv = ["report", "--offline", "--config", str(config), "--format", "json", "--since", "2026-11-18",
            "--until", "2026-11-19"]
    assert main(argv) == 0
    items = json.loads(capsys.readouterr().out)
    r = expected(config, DAY - 2 * 86400, DAY)
    assert [i["start"] for i in items] == ["2026-11-17T16:00:00.000Z"] * len(items)
    assert [i["end"] for i in items] == ["2026-11-19T16:00:00.000Z"] * len(items)
    assert [{k: v for k, v in i.items() if k not in ("start", "end")} for i in items] == [
        asdict(k) for k in [*r.agents, r.team]
    ]


def test_table_in_the_configured_language_with_misses_in_red(config, clock, capsys):
    assert main(["report", "--offline", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    r = expected(config, DAY, ANCHOR)
    assert "客服 KPI 报表 2026-11-20 00:00 – 2026-11-20 14:30" in out
    assert "小美 (a01)" in out and "团队" in out and "首响中位" in out and "3分钟响应率" in out
    team_line = next(line for line in out.splitlines() if "团队" in line)
    assert report.duration(r.team.first_response_median) in team_line
    assert report.percent(r.team.response_rate_3min) in team_line

    settings = KpiSettings()
    table = report.table(r, report.rows(r, "agent"), settings, "en", "agent")
    from rich.console import Console

    console = Console(file=io.StringIO(), force_terminal=True, color_system="standard", width=200)
    console.print(table)
    rendered = console.file.getvalue()
    red = r"\x1b\[1;31m *"  # bold red, then the cell's right-justifying spaces
    # The team's median first response (3:00) misses 0:30: red; a count never is.
    assert r.team.first_response_median == 180.0
    assert re.search(red + r"3:00", rendered) and not re.search(red + rf"{r.team.handled}\x1b", rendered)
    # 小雨's p90 (3:00) meets its target of 3:00: not red.
    xiaoyu = next(line for line in rendered.splitlines() if "(a03)" in line)
    assert re.search(red + "2:00", xiaoyu) and not re.search(red + "3:00", xiaoyu)
    assert "FRT median" in rendered and "Team" in rendered


def test_durations_and_percentages_read_as_people_say_them():
    assert [report.duration(s) for s in (0, 9.6, 75, 180, 3723, None)] == [
        "0:00", "0:10", "1:15", "3:00", "62:03", "—"
    ]
    assert [report.percent(v) for v in (0.8, 0.98765, 1, None)] == ["80.0%", "98.8%", "100.0%", "—"]


@pytest.mark.parametrize("argv, window", [
    ([], (DAY, ANCHOR)),
    (["--since", "2026-11-19"], (DAY - 86400, ANCHOR)),
    (["--since", "2026-11-18", "--until", "2026-11-19"], (DAY - 2 * 86400, DAY)),
    (["--until", "2026-11-19"], (DAY - 86400, DAY)),
    (["--since", "2026-11-20", "--until", "2026-11-30"], (DAY, ANCHOR)),  # never past now
])
def test_the_window(argv, window):
    args = dict(zip(argv[::2], argv[1::2]))
    assert report_commands.window(args.get("--since"), args.get("--until"), ANCHOR) == window


@pytest.mark.parametrize("argv, says", [
    (["--since", "2026-13-01"], "--since: '2026-13-01' is not a date (YYYY-MM-DD)"),
    (["--since", "yesterday"], "--since: 'yesterday' is not a date"),
    (["--until", "2026/11/19"], "--until: '2026/11/19' is not a date"),
    (["--since", "20261119"], "is not a date"),
    (["--since", "2026-11-21"], "is empty"),  # tomorrow
    (["--since", "2026-11-19", "--until", "2026-11-18"], "is empty"),
])
def test_bad_dates_are_one_line_and_exit_2(config, clock, capsys, argv, says):
    assert main(["report", "--offline", "--config", str(config), *argv]) == 2
    assert says in one_error_line(capsys)
    assert capsys.readouterr().out == ""


def test_bad_config_is_one_line_and_exit_2(tmp_path, clock, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[kpi]\nbusiness_hours = "8-23"\n', encoding="utf-8")
    assert main(["report", "--offline", "--config", str(bad)]) == 2
    line = one_error_line(capsys)
    assert "config error" in line and str(bad) in line and "[kpi] business_hours" in line


def test_offline_without_a_cache_says_so(tmp_path, clock, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[cache]\npath = "{tmp_path / "none.sqlite"}"\n', encoding="utf-8")
    assert main(["report", "--offline", "--config", str(cfg)]) == 2
    assert "no monitor cache" in one_error_line(capsys)
    assert not (tmp_path / "none-monitor.sqlite").exists()


def test_no_shop_configured_points_at_offline(tmp_path, clock, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[cache]\npath = "{tmp_path / "new.sqlite"}"\n', encoding="utf-8")
    assert main(["report", "--config", str(cfg)]) == 2
    line = one_error_line(capsys)
    assert "[shop] url is not set" in line and "--offline" in line
    assert not (tmp_path / "new-monitor.sqlite").exists()  # no empty cache left behind


def test_offline_on_a_cache_that_was_never_synced_says_so(tmp_path, clock, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[cache]\npath = "{tmp_path / "new.sqlite"}"\n', encoding="utf-8")
    Store(tmp_path / "new-monitor.sqlite").close()  # created, never synced (a sync that failed)
    assert main(["report", "--offline", "--config", str(cfg)]) == 2
    assert "no monitor cache" in one_error_line(capsys)


def unreachable(tmp_path, cache: str) -> str:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = tmp_path / "shop.toml"
    cfg.write_text(f'[shop]\nurl = "http://127.0.0.1:{port}"\ntoken = "t"\n[cache]\npath = "{cache}"\n',
                   encoding="utf-8")
    return str(cfg)


def test_an_unreachable_shop_warns_and_reports_from_the_cache(config, clock, capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(report_commands, "SYNC_RETRIES", 0)
    cfg = unreachable(tmp_path, str(tmp_path / "x.sqlite"))  # the same monitor cache as `config`
    store = Store(tmp_path / "x-monitor.sqlite")
    store.write(writes.set_meta, CURSOR, "1")  # it has been synced before
    store.close()
    assert main(["report", "--config", cfg, "--format", "csv", "--by", "team"]) == 0
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("agentdesk: warning: cannot reach the shop")
    assert "reporting from the cache" in err
    assert out.splitlines()[1].startswith(f"team,,,{expected(config, DAY, ANCHOR).team.handled},")


def test_an_unreachable_shop_without_a_synced_cache_is_an_error(tmp_path, clock, capsys, monkeypatch):
    monkeypatch.setattr(report_commands, "SYNC_RETRIES", 0)
    cfg = unreachable(tmp_path, str(tmp_path / "fresh.sqlite"))
    assert main(["report", "--config", cfg]) == 2
    line = one_error_line(capsys)
    assert "cannot reach the shop" in line and "fresh-monitor.sqlite" in line


def test_demo_end_to_end_syncs_its_own_monitor_cache(capsys, monkeypatch):
    now = time.time()
    monkeypatch.setattr(report_commands, "CLOCK", FixedClock(now))
    since = (date.fromtimestamp(now) - timedelta(days=6)).isoformat()
    assert main(["report", "--demo", "--since", since, "--format", "csv", "--by", "group"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    path = Settings().cache_path(demo=True, monitor=True)
    assert path.name == "demo-monitor.sqlite" and path.is_file()
    assert not Settings().cache_path(demo=True).exists()  # the workstation's demo cache is untouched
    store = Store(path)
    try:
        assert store.read(writes.get_meta, "me") == "s01"  # signed in as the read-only supervisor
        r = store.read(kpi.compute, *kpi.last_days(now), KpiSettings())
    finally:
        store.close()
    assert [(row["key"], row["rounds"], row["handled"]) for row in rows] == [
        (k.key, str(k.rounds), str(k.handled)) for k in [*r.groups, r.team]
    ]
    assert r.team.rounds > 0 and r.team.handled > 0

    # Again, offline: the same cache, the same numbers.
    assert main(["report", "--demo", "--offline", "--since", since, "--format", "csv", "--by", "group"]) == 0
    assert list(csv.DictReader(io.StringIO(capsys.readouterr().out))) == rows
