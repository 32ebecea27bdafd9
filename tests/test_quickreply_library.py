"""Reply files: the shipped library, loading and precedence, validation with
file:line, variables, the SQLite pinyin cache and the ``agentdesk replies`` commands."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from agentdesk.cli import main
from agentdesk.quickreply import library, loader
from agentdesk.quickreply.variables import VARIABLES, context_values, fill, segments, unfilled
from agentdesk.store import Store, quickreplies

GOOD = """category = "售后"

[[reply]]
id = "refund-7day"
title = "7天无理由退换"
shortcode = "tk7"
tags = ["退款", "售后"]
body = "亲，这款商品支持7天无理由退换货哦！订单 {order.id} 可以直接在订单页申请~"
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_library_is_big_clean_and_covers_the_categories():
    lib = library.load_dir(library.bundled_dir())
    assert lib.problems == []
    assert len(lib.replies) >= 150
    categories = {r.category for r in lib.replies}
    assert {"售前", "售后", "物流", "投诉安抚", "活动与优惠"} <= categories
    used = {name for r in lib.replies for name in VARIABLES if "{" + name + "}" in r.body}
    assert {"customer.name", "order.id", "order.carrier", "order.tracking_no", "agent.name", "shop.name"} <= used


def test_installed_wheel_carries_the_library(tmp_path):
    """A ``pip install .`` user has replies/: the wheel holds it as package data."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
         str(Path(__file__).resolve().parents[1])],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    import zipfile

    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(p.name for p in library.bundled_dir().glob("*.toml"))
    assert sorted(n.rsplit("/", 1)[1] for n in names if n.startswith("agentdesk/library/")) == shipped
    # and the installed package finds them there
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = "from agentdesk.quickreply import library as l; d = l.bundled_dir(); print(d); print(len(l.load_dir(d).replies))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                         env={**__import__("os").environ, "PYTHONPATH": str(site)}, timeout=60)
    where, count = out.stdout.split()
    assert where == str(site / "agentdesk" / "library") and int(count) >= 150, out.stderr


def test_bad_file_is_reported_with_line_and_the_others_still_load(tmp_path):
    write(tmp_path / "a.toml", GOOD)
    write(tmp_path / "b.toml", 'category = "x"\n\n[[reply]]\nid = "oops\ntitle = "t"\n')
    lib = library.load_dir(tmp_path)
    assert [r.id for r in lib.replies] == ["refund-7day"]
    (problem,) = lib.problems
    assert str(problem).startswith(f"{tmp_path / 'b.toml'}:4: not valid TOML")


def test_validation_names_file_line_and_problem(tmp_path):
    write(tmp_path / "a.toml", GOOD + """
[[reply]]
id = "refund-7day"
title = "重复"
body = "重复的 id"

[[reply]]
id = "other"
title = "同短码"
shortcode = "tk7"
body = "短码重复"

[[reply]]
id = "vars"
title = "变量"
body = "亲，{order.number} 不存在"

[[reply]]
id = "empty"
title = "空"
body = "   "
""")
    lib = library.load_dir(tmp_path)
    path = tmp_path / "a.toml"
    assert [str(p) for p in lib.problems] == [
        f"{path}:21: reply vars: unknown variable {{order.number}}",
        f"{path}:26: reply empty: body is empty",
        f"{path}:10: duplicate id 'refund-7day' (first at {path}:3)",
        f"{path}:15: duplicate shortcode 'tk7' (also refund-7day at {path}:3)",
    ]
    # the reply with a clashing shortcode still loads, without the shortcode
    assert {r.id: r.shortcode for r in lib.replies} == {"refund-7day": "tk7", "other": ""}


def test_precedence_personal_over_shipped_over_shop(tmp_path):
    personal = write(tmp_path / "me" / "mine.toml", GOOD.replace("7天无理由退换", "我的退换话术"))
    shipped = write(tmp_path / "lib" / "x.toml", GOOD + '\n[[reply]]\nid = "lib-only"\ntitle = "库"\nshortcode = "ddh"\nbody = "库里的"\n')
    shop = [
        {"id": "refund-7day", "title": "店铺版", "body": "店铺版正文"},
        {"id": "shop-ask-order", "title": "请提供订单号", "shortcode": "ddh", "body": "亲，订单号发一下~"},
        {"id": "shop-only", "title": "店铺独有", "body": "店铺的"},
        {"id": "bad", "title": "坏", "body": ""},
    ]
    lib = library.load_all(personal=personal.parent, library=shipped.parent, shop_items=shop)
    by_id = lib.by_id()
    assert by_id["refund-7day"].title == "我的退换话术" and by_id["refund-7day"].layer == "personal"
    assert by_id["lib-only"].shortcode == "ddh"
    assert by_id["shop-ask-order"].shortcode == ""  # the shortcode belongs to the higher layer
    assert by_id["shop-only"].layer == "shop"
    assert [str(p) for p in lib.problems] == ["shop library (GET /v1/quick-replies): reply bad: body is empty"]


def test_variables_fill_and_what_stays_unfilled():
    values = context_values(
        customer={"name": "小鹿乱撞", "vip_level": 3},
        order={"id": "3901", "status": "已发货", "carrier": "顺丰速运", "tracking_no": ""},
        agent_name="小美", shop_name="拾光生活旗舰店", today=date(2026, 11, 20),
    )
    body = "{customer.name}您好，{order.carrier} 单号 {order.tracking_no}，{agent.name} · {shop.name} · {today} · V{customer.vip_level} {x}"
    filled = fill(body, values)
    assert filled.text == "小鹿乱撞您好，顺丰速运 单号 {order.tracking_no}，小美 · 拾光生活旗舰店 · 2026-11-20 · V3 {x}"
    assert filled.missing == ("order.tracking_no",)
    assert [name for _, _, name in unfilled(filled.text)] == ["order.tracking_no"]
    assert ("{order.tracking_no}", "missing") in segments(body, values)
    no_order = fill("订单 {order.id}", context_values(customer={"name": "x"}))
    assert no_order.text == "订单 {order.id}" and no_order.missing == ("order.id",)


def test_pinyin_keys_are_computed_once_and_read_from_sqlite(tmp_path):
    store = Store(tmp_path / "cache.sqlite")
    try:
        first = loader.open_library(store, now=0.0, personal=tmp_path / "none")
        assert first.computed > 100
        again = loader.open_library(store, now=0.0, personal=tmp_path / "none")
        assert again.computed == 0  # startup never recomputes
        assert store.read(lambda c: c.execute("SELECT syllables FROM pinyin_keys WHERE run = '退款'").fetchone()) == ("tui kuan",)
        assert [h.reply.id for h in again.index.search("tk7")][:1] == ["aftersale-refund-7day"]
    finally:
        store.close()


def test_usage_decays_and_boosts(tmp_path):
    store = Store(tmp_path / "cache.sqlite")
    try:
        store.write(quickreplies.record_use, "a", 0.0)
        store.write(quickreplies.record_use, "a", 0.0)
        week = quickreplies.HALF_LIFE
        assert store.read(quickreplies.usage, 0.0) == {"a": 2.0}
        assert store.read(quickreplies.usage, week) == {"a": 1.0}
    finally:
        store.close()


def test_check_command(tmp_path, capsys):
    assert main(["replies", "check"]) == 0
    assert "ok: " in capsys.readouterr().out
    write(tmp_path / "a.toml", GOOD)
    write(tmp_path / "b.toml", GOOD.replace("{order.id}", "{order.no}"))
    assert main(["replies", "check", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"{tmp_path / 'b.toml'}:3: reply refund-7day: unknown variable {{order.no}}"]
    assert out.startswith("1 problem(s); 1 replies in 2 file(s) load")
    assert main(["replies", "check", str(tmp_path / "missing")]) == 2


def test_search_command_json_and_dir(tmp_path, capsys):
    assert main(["replies", "search", "tk7", "--json", "--limit", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["query"] == "tk7"
    first = out["results"][0]
    assert first["id"] == "aftersale-refund-7day" and first["shortcode"] == "tk7"
    assert set(first) == {"id", "shortcode", "title", "score", "category", "layer", "field", "typo", "partial"}
    write(tmp_path / "lib" / "a.toml", GOOD.replace("tk7", "zz9"))
    assert main(["replies", "search", "tk", "--json", "--dir", str(tmp_path / "lib")]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)["results"]] == ["refund-7day"]
    assert main(["replies", "search", "tuikuan"]) == 0
    table = capsys.readouterr().out
    assert "退款" in table and "score" in table
