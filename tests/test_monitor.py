"""The supervisor's monitor against the real reference shop (httpx ASGI transport),
a real SQLite cache and the real TUI: the board, reading a conversation, filters, the
KPI period, live updates, and – the point of the mode – that nothing a supervisor can
press, pick from the palette or call reaches the shop as a write."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from agentdesk import timefmt
from agentdesk.clock import FixedClock
from agentdesk.config import Settings, UISettings
from agentdesk.store import Store, outbox
from agentdesk.sync.client import ShopClient, ShopReader
from agentdesk.sync.engine import SyncEngine
from agentdesk.ui.actions import ACTIONS
from agentdesk.ui.commands import ActionCommands
from agentdesk.ui.monitor.actions import CONVERSATION, WRITE_ACTIONS, all_specs
from agentdesk.ui.monitor.app import MonitorApp
from agentdesk.ui.monitor.panels import AgentsPanel, KpiPanel, QueuesPanel
from agentdesk.ui.monitor.screens import BoardScreen, ConversationScreen
from agentdesk.ui.monitor.traffic_chart import TrafficChart
from agentdesk.ui.widgets.composer import Composer
from agentdesk.ui.widgets.header import HeaderBar
from agentdesk.ui.widgets.inbox_list import InboxList
from agentdesk.ui.widgets.sidebar import Sidebar
from agentdesk.ui.widgets.thread_view import ThreadView
from agentdesk.workflow import kpi

from conftest import ANCHOR, screen_text
from shop_helpers import no_sleep, until

SIZE = (160, 45)
SUPERVISOR = "demo-s01-linjie"


class Recorder:
    """ASGI middleware in front of the shop: every request the monitor makes."""

    def __init__(self, app) -> None:
        self.app = app
        self.requests: list[tuple[str, str]] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            self.requests.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] not in ("GET", "HEAD")]



@pytest.fixture
def shop(tmp_path):
    from agentdesk.shop.server import create_app

    # The shop's time runs (its long-polls wait on it) from the demo's anchor.
    started = time.time()
    return create_app(tmp_path / "shop.sqlite", seed="demo", anchor=ANCHOR,
                      clock=lambda: ANCHOR + time.time() - started)


def make_monitor(shop, tmp_path, clock=None):
    recorder = Recorder(shop)
    client = ShopReader("http://shop.test", SUPERVISOR, transport=httpx.ASGITransport(app=recorder), sleep=no_sleep)
    # The monitor cache a config with ``[cache] path = "x.sqlite"`` points at (see report_config).
    store = Store(tmp_path / "x-monitor.sqlite")
    engine = SyncEngine(store, client, wait=1.0)
    clock = clock or FixedClock(ANCHOR)
    app = MonitorApp(store=store, settings=Settings(ui=UISettings(language="zh")), sync=engine, clock=clock)
    return app, store, recorder



def board_ready(app) -> bool:
    board = app.screen_stack[0]
    return (bool(board.query_one(AgentsPanel).lines) and board.query_one(KpiPanel).report is not None
            and board.query_one(TrafficChart).traffic is not None and bool(board.query_one(InboxList).rows))


async def quiet(pilot, app) -> None:
    """Every read the board asked for has answered (the sync worker runs for good)."""
    await until(pilot, lambda: not any(w.is_running and w.group != "sync" for w in app.workers))
    await pilot.pause()


async def settled(pilot, app, store) -> None:
    """Online, and the board shows the synced cache (not a read from halfway through)."""
    # …and the header names the supervisor: identity is re-read when the agents arrive, which
    # under load can land after the board's first full read.
    await until(pilot, lambda: board_ready(app) and app.query_one(HeaderBar).connection == "online"
                and " · " in app.query_one(HeaderBar).agent)
    start, end = kpi.today(ANCHOR)
    report = store.read(kpi.compute, start, end, app.settings.kpi)
    await until(pilot, lambda: app.screen_stack[0].query_one(KpiPanel).report == report)
    await quiet(pilot, app)


async def test_the_board_shows_agents_queues_kpis_and_every_conversation(shop, tmp_path):
    app, store, _ = make_monitor(shop, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app, store)
        board = app.screen_stack[0]
        agents = board.query_one(AgentsPanel).lines
        assert [a.name for a in agents] == ["小美", "阿杰", "小雨", "老周"]  # the supervisor is not an agent
        text = screen_text(app)
        for heading in ("客服", "队列", "KPI · 今日", "每小时客户消息", "只读监控", "林姐"):
            assert heading in text
        # The figures on screen are the core's, read from the same cache at the same instant.
        start, end = kpi.today(ANCHOR)
        report = store.read(kpi.compute, start, end, app.settings.kpi)
        assert board.query_one(KpiPanel).report == report
        assert "团队" in text
        queues = board.query_one(QueuesPanel).lines
        waiting = store.read(lambda c: c.execute(
            "SELECT count(*) FROM conversations WHERE status = 'open' AND waiting_since IS NOT NULL").fetchone()[0])
        assert sum(q.waiting for q in queues) == waiting
        # Every agent's conversations are in the list, each row naming its agent.
        rows = board.query_one(InboxList).rows
        assert {r.assignee_id for r in rows} >= {"a01", "a02"}
        assert "小美" in text and "阿杰" in text


async def test_a_new_customer_message_moves_the_board_live(shop, tmp_path):
    app, store, _ = make_monitor(shop, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app, store)
        board = app.screen_stack[0]

        def unassigned_waiting() -> int:
            return store.read(lambda c: c.execute(
                "SELECT count(*) FROM conversations WHERE status = 'open' AND assignee_id IS NULL "
                "AND waiting_since IS NOT NULL").fetchone()[0])

        before = unassigned_waiting()  # the board catches up with the synced cache first
        await until(pilot, lambda: sum(q.unassigned for q in board.query_one(QueuesPanel).lines) == before)
        shop.state.shop.say("直播间来的小满", "在吗 卫衣燕麦色L码今天能发吗")
        lst = board.query_one(InboxList)
        await until(pilot, lambda: any(r.customer_name == "直播间来的小满" for r in lst.rows))
        await until(pilot, lambda: sum(q.unassigned for q in board.query_one(QueuesPanel).lines) == before + 1)
        await pilot.press("o")  # shortest wait first: the newcomer is on top
        await until(pilot, lambda: lst.rows and lst.rows[0].customer_name == "直播间来的小满")
        await pilot.pause()
        assert "直播间来的小满" in screen_text(app)


async def test_enter_reads_a_conversation_without_a_composer_and_esc_goes_back(shop, tmp_path):
    app, store, _ = make_monitor(shop, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app, store)
        lst = app.screen_stack[0].query_one(InboxList)
        first = lst.highlighted
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConversationScreen))
        view = app.screen.query_one(ThreadView)
        await until(pilot, lambda: view.conversation_id == first.id and bool(view.messages))
        await until(pilot, lambda: app.screen.query_one(Sidebar).query("*"))
        await pilot.pause()
        text = screen_text(app)
        assert first.customer_name in text
        assert "只读" in text
        assert not any(screen.query(Composer) for screen in app.screen_stack)
        await pilot.press("alt+j")  # the next conversation of the board's list
        index = next(i for i, r in enumerate(lst.rows) if r.id == first.id)
        second = lst.rows[index + 1]  # (the cursor stays on its conversation across live re-reads)
        await until(pilot, lambda: view.conversation_id == second.id)
        await pilot.press("k")
        await until(pilot, lambda: view.conversation_id == first.id)
        before = (app.period, app.agent_filter, app.filter, [r.id for r in lst.rows])
        await pilot.press("t", "c", "o")  # the board's own keys are off while reading
        await quiet(pilot, app)
        assert (app.period, app.agent_filter, app.filter, [r.id for r in lst.rows]) == before
        assert not set("tco") & set(app.screen.active_bindings)  # nor offered in the footer
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))


async def test_find_opens_the_conversation_at_the_message_read_only(shop, tmp_path):
    from agentdesk.ui.screens.find import FindScreen
    from agentdesk.ui.widgets.find_list import FindList
    from agentdesk.ui.widgets.thread_search import ThreadSearchBar

    app, store, recorder = make_monitor(shop, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app, store)
        target, conversation = store.read(lambda c: c.execute(
            "SELECT id, conversation_id FROM messages WHERE body LIKE '%机洗%' ORDER BY at DESC LIMIT 1").fetchone())
        await pilot.press("ctrl+f")
        await until(pilot, lambda: isinstance(app.screen, FindScreen))
        app.screen.query_one("#find-input").value = "机洗"
        results = app.screen.query_one(FindList)
        await until(pilot, lambda: results.highlighted is not None and results.highlighted.kind == "message")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConversationScreen))
        view = app.screen.query_one(ThreadView)
        await until(pilot, lambda: view.conversation_id == conversation and view.marked == target)
        await quiet(pilot, app)
        assert "机洗" in screen_text(app) and "只读" in screen_text(app)
        assert not any(screen.query(Composer) for screen in app.screen_stack)
        # Ctrl+F again, in the thread: this conversation's matches, n / N
        view.focus()
        await pilot.press("ctrl+f")
        bar = app.screen.query_one(ThreadSearchBar)
        await until(pilot, lambda: bar.display and bar.text == "机洗")
        await pilot.press("escape", "escape")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))
    assert recorder.writes == []


async def test_filters_by_agent_group_and_status_and_order_by_wait(shop, tmp_path):
    app, store, _ = make_monitor(shop, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app, store)
        lst = app.screen_stack[0].query_one(InboxList)

        async def after(*keys):
            for key in keys:
                await pilot.press(key)
            await quiet(pilot, app)
            await pilot.pause()

        await after("c")  # everyone → nobody's yet
        assert lst.rows and all(r.assignee_id is None for r in lst.rows)
        await after("c")  # → 小美
        assert lst.rows and all(r.assignee_id == "a01" for r in lst.rows)
        assert "客服: 小美 (c)" in screen_text(app)
        await after("g", "g")  # any group → 售前 → 售后
        assert lst.rows and all(r.assignee_id == "a01" and r.group == "售后" for r in lst.rows)
        await after("a", "g", "g", "s")  # everyone, any group, pending
        assert lst.rows and all(r.status == "pending" for r in lst.rows)
        await after("s", "s", "s", "s")  # back round to open
        assert app.filter.status == "open"
        longest_first = [r.key for r in lst.rows]
        assert longest_first == sorted(longest_first)
        await after("o")  # the waiting customers turn round: newest arrival first
        waits = [r.waiting_since for r in lst.rows if r.waiting_since is not None]
        assert waits and waits == sorted(waits, reverse=True)
        assert lst.rows[0].waiting_since == max(waits)
        assert "等待最短在前" in screen_text(app)


async def test_t_switches_the_kpis_to_the_last_seven_days(shop, tmp_path):
    app, store, _ = make_monitor(shop, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app, store)
        await pilot.press("t")
        panel = app.screen_stack[0].query_one(KpiPanel)
        start, end = kpi.last_days(ANCHOR, 7)
        await until(pilot, lambda: panel.report is not None and panel.report.start == start)
        assert panel.report == store.read(kpi.compute, start, end, app.settings.kpi)
        assert "近 7 天" in screen_text(app)
        await pilot.press("t")
        await until(pilot, lambda: panel.report is app.today)


async def test_nothing_the_supervisor_presses_or_picks_writes_to_the_shop(shop, tmp_path):
    app, store, recorder = make_monitor(shop, tmp_path)
    every_key = sorted({key for spec in ACTIONS for key in spec.keys.split(",")}
                       | {key for spec in all_specs() for key in spec.keys.split(",")})
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app, store)

        async def press_everything() -> None:
            for key in every_key:
                if key in ("ctrl+q", "escape", "ctrl+p"):
                    continue
                await pilot.press(key)
                await pilot.pause()
                while app.screen.is_modal:  # help or a dialog: close it, keep going
                    await pilot.press("escape")
                    await pilot.pause()
                if isinstance(app.screen, ConversationScreen):
                    continue
            await pilot.press(*"hello 亲在的")

        await press_everything()  # on the board
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConversationScreen))
        await press_everything()  # reading a conversation
        # Every command the palette offers, run as the palette runs it.
        provider = ActionCommands(app.screen)
        offered = [action for _, _, action in provider._entries()]
        assert offered and not set(offered) & WRITE_ACTIONS
        for action in offered:
            if action != "quit":
                await app.run_action(action)
                await pilot.pause()
                while app.screen.is_modal:
                    await pilot.press("escape")
                    await pilot.pause()
        # A crafted call of any write action is refused by check_action.
        for action in sorted(WRITE_ACTIONS):
            assert await app.run_action(action) is False
        await quiet(pilot, app)
        await pilot.pause(0.5)
    assert recorder.requests and all(method == "GET" for method, _ in recorder.requests)
    assert recorder.writes == []
    assert shop.state.shop.write_count == 0
    assert store.read(outbox.pending_count) == 0
    assert store.read(lambda c: c.execute("SELECT count(*) FROM outbox").fetchone()[0]) == 0


def test_the_monitor_client_has_no_write_methods_and_the_server_refuses_the_token(shop, tmp_path):
    reader = ShopReader("http://shop.test", SUPERVISOR, transport=httpx.ASGITransport(app=shop))
    assert not hasattr(reader, "write")
    store = Store(tmp_path / "m.sqlite")
    try:
        with pytest.raises(ValueError, match="read-only client"):
            MonitorApp(store=store, settings=Settings(),
                       sync=SyncEngine(store, ShopClient("http://shop.test", SUPERVISOR,
                                                         transport=httpx.ASGITransport(app=shop))))
    finally:
        store.close()

    async def crafted() -> int:  # the third layer: the token itself is read-only
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=shop), base_url="http://shop.test") as http:
            answer = await http.post("/v1/conversations/cv-c001-1/messages", json={"body": "hi"},
                                     headers={"Authorization": f"Bearer {SUPERVISOR}", "Idempotency-Key": "k1"})
            return answer.status_code

    assert asyncio.run(crafted()) == 403


async def test_help_and_palette_offer_no_write_action(shop, tmp_path):
    app, store, _ = make_monitor(shop, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app, store)
        await pilot.press("f1")
        await pilot.pause()
        text = screen_text(app)
        assert "今日与近 7 天" in text and "按客服筛选" in text
        for word in ("转接", "标记会话已解决", "发起/同意退款", "群发"):
            assert word not in text
        await pilot.press("escape")
        for binding in CONVERSATION:
            assert binding.action not in WRITE_ACTIONS


def report_config(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f'[cache]\npath = "{tmp_path / "x.sqlite"}"\n', encoding="utf-8")
    return path


async def test_report_csv_gives_the_figures_the_board_shows(shop, tmp_path, capsys, monkeypatch):
    from agentdesk.cli import main
    from agentdesk.workflow import report, report_commands

    monkeypatch.setattr(report_commands, "CLOCK", FixedClock(ANCHOR))
    app, store, _ = make_monitor(shop, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app, store)
        shown = app.screen_stack[0].query_one(KpiPanel).report
        text = screen_text(app)
    # The app is gone (its output capture too); the cache it showed is what the report reads.
    capsys.readouterr()
    assert main(["report", "--offline", "--format", "csv", "--config", str(report_config(tmp_path))]) == 0
    csv_text = capsys.readouterr().out
    assert csv_text == report.to_csv(report.rows(shown, "agent"))
    team = csv_text.strip().splitlines()[-1].split(",")
    assert team[0] == "team"
    # …and the same numbers are what the supervisor reads on the board.
    team_line = next(line for line in text.splitlines() if "│  团队" in line or "团队 " in line)
    assert str(shown.team.handled) in team_line
    assert timefmt.duration(shown.team.first_response_median) in team_line
    assert f"{shown.team.response_rate_3min * 100:.1f}%" in team_line
