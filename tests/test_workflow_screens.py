"""The workflow modals under Pilot: each one pushed on a tiny host app (with the real
stylesheet), driven with real keys, and judged by what it dismisses with — and by what
it refuses to dismiss."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import App
from textual.widgets import Checkbox, Input, TextArea

from agentdesk.i18n import Catalog
from agentdesk.ui.screens.confirm import Confirmed, ConfirmScreen
from agentdesk.ui.screens.followup import FollowupRequest, FollowupScreen
from agentdesk.ui.screens.handoff import Handoff, HandoffScreen
from agentdesk.ui.screens.outreach import OutreachRequest, OutreachScreen
from agentdesk.ui.screens.snooze import SnoozeChoice, SnoozeScreen, when_text
from agentdesk.ui.screens.tags import TagsAndPriority, TagsScreen, split_tags

from conftest import ANCHOR, screen_text

CSS = Path(__file__).resolve().parents[1] / "agentdesk" / "ui" / "agentdesk.tcss"
SIZE = (120, 40)
ZH = Catalog("zh")
EN = Catalog("en")
HOSTILE = "[bold red]坏人[/]\x1b[2J"

UNSET = object()


class Host(App):
    CSS_PATH = str(CSS)

    def __init__(self, modal) -> None:
        super().__init__()
        self.modal = modal
        self.results: list = []

    def on_mount(self) -> None:
        self.push_screen(self.modal, self.results.append)

    @property
    def result(self):
        return self.results[-1] if self.results else UNSET


async def typed(pilot, text: str) -> None:
    await pilot.press(*text)


# -- handoff --------------------------------------------------------------------------

AGENTS = [
    ("a01", "我自己", ("售前",), True),
    ("a02", "小美", ("售前", "售后"), True),
    ("a03", "阿强", ("售后",), False),
    ("a04", "Lily", ("客诉",), True),
]


def handoff(t=ZH, message="您好，已为您转接给{to}，请稍候～", agents=AGENTS):
    return HandoffScreen(t, agents, ("售前", "售后", "客诉"), "a01", message)


async def test_handoff_to_an_agent_with_a_note_and_the_customer_told():
    app = Host(handoff())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.modal
        names = [t.name for t in screen.shown]
        assert "我自己" not in names  # never to myself
        assert names[:2] == ["小美", "Lily"] and names[-1] == "阿强"  # online, groups, offline
        await typed(pilot, "小美")
        await pilot.press("enter")
        assert screen.focused is screen.query_one("#handoff-note")
        await typed(pilot, "客户要换尺码")
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.result == Handoff("a02", None, "小美", "客户要换尺码", "您好，已为您转接给小美，请稍候～")


async def test_handoff_to_a_group_by_filter_arrows_and_ctrl_enter_without_telling():
    app = Host(handoff(t=EN))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await typed(pilot, "after")
        screen = app.modal
        # The after-sale team first; colleagues in it follow, half-weighted.
        assert screen.shown[0].group == "售后"
        assert "after-sale team" in screen_text(app)
        await pilot.press("enter")
        await typed(pilot, "refund")
        await pilot.press("tab")
        assert isinstance(screen.focused, Checkbox)
        await pilot.press("space")  # notify off
        await pilot.press("ctrl+enter")
        await pilot.pause()
    assert app.result == Handoff(None, "售后", "after-sale team", "refund", "")


async def test_handoff_list_moves_with_arrows_from_the_filter():
    app = Host(handoff())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("down", "down")  # 小美, Lily, → 售前组
        await pilot.press("enter")
        assert app.modal.target.group == "售前"
        assert "转接给：售前组" in screen_text(app)


async def test_handoff_refuses_without_a_target_or_a_note_or_a_message():
    app = Host(handoff())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.modal
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is UNSET
        assert ZH("handoff.need_target") in screen_text(app)

        await typed(pilot, "没有这个人")
        assert ZH("handoff.none") in screen_text(app)
        await pilot.press("enter")  # nothing to choose
        assert screen.target is None

        screen.query_one("#handoff-filter", Input).value = ""
        await pilot.pause()
        await pilot.press("enter")  # the first: 小美
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is UNSET
        assert ZH("handoff.need_note") in screen_text(app)
        assert screen.focused is screen.query_one("#handoff-note")

        await typed(pilot, "   ")
        await pilot.press("ctrl+s")
        assert app.result is UNSET  # blank is empty

        await typed(pilot, "见备注")
        screen.query_one("#handoff-message", Input).value = "  "
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is UNSET
        assert ZH("handoff.need_message") in screen_text(app)

        screen.query_one("#handoff-message", Input).value = "稍等，{to}马上来"
        await pilot.press("enter")  # Enter in the message field submits
        await pilot.pause()
    assert app.result == Handoff("a02", None, "小美", "见备注", "稍等，小美马上来")


async def test_handoff_escape_cancels_and_names_are_text_not_markup():
    agents = [("x", "[b]坏人[/b]\x1b[2J", ("售前",), True)]
    app = Host(handoff(agents=agents, message=""))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        assert "[b]坏人[/b]" in shown and "[2J" not in shown
        assert app.modal.query_one("#handoff-message", Input).disabled  # nothing to tell: off
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None


# -- snooze ---------------------------------------------------------------------------

PRESETS = [
    ("30m", "30 分钟", ANCHOR + 1800),
    ("2h", "2 小时", ANCHOR + 7200),
    ("tomorrow", "明天 9:00", ANCHOR + 66600),  # 2026-11-21 09:00 in Asia/Shanghai
]


async def test_snooze_digits_pick_directly():
    for key, expected in [("1", SnoozeChoice("snoozed", ANCHOR + 1800)),
                          ("3", SnoozeChoice("snoozed", ANCHOR + 66600)),
                          ("4", SnoozeChoice("pending", None))]:
        app = Host(SnoozeScreen(ZH, ANCHOR, PRESETS))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press(key)
            await pilot.pause()
        assert app.result == expected


async def test_snooze_shows_where_each_preset_lands_and_enter_picks_the_highlighted():
    app = Host(SnoozeScreen(ZH, ANCHOR, PRESETS))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        assert "今天 15:00" in shown and "今天 16:30" in shown and "明天 09:00" in shown
        assert ZH("snooze.pending") in shown
        await pilot.press("down", "enter")
        await pilot.pause()
    assert app.result == SnoozeChoice("snoozed", ANCHOR + 7200)


async def test_snooze_escape_and_digits_past_the_list_do_nothing():
    app = Host(SnoozeScreen(ZH, ANCHOR, PRESETS))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("9")
        assert app.result is UNSET
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None


def test_when_text_today_tomorrow_and_later():
    assert when_text(EN, ANCHOR + 600, ANCHOR) == "today 14:40"
    assert when_text(EN, ANCHOR + 86400, ANCHOR) == "tomorrow 14:30"
    assert when_text(EN, ANCHOR + 3 * 86400, ANCHOR) == "11-23 14:30"


# -- follow-up ------------------------------------------------------------------------

DAY = 86400
ORDERS = [("O1001", "连衣裙 · 已发货"), ("O1002", "T恤 · 已签收")]


def followup(orders=ORDERS, days=3):
    return FollowupScreen(ZH, ANCHOR, "王小姐", orders, days, "确认尺码是否合适")


async def test_followup_default_days_no_order_prefilled_note():
    app = Host(followup())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        assert "明天" in shown and "3 天后" in shown and "7 天后" in shown
        assert "确认收货后 3 天（O1002）" in shown  # an order is delivered
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.result == FollowupRequest(ANCHOR + 3 * DAY, None, "确认尺码是否合适")


async def test_followup_enter_walks_the_fields_and_picks_an_order():
    app = Host(followup())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("down", "enter")  # 7 天后 → order list
        await pilot.press("down", "enter")  # O1001 → note
        assert isinstance(app.modal.focused, Input)
        await pilot.press("end", *"带上优惠券", "enter")
        await pilot.pause()
    assert app.result == FollowupRequest(ANCHOR + 7 * DAY, "O1001", "确认尺码是否合适带上优惠券")


async def test_followup_after_delivery_picks_the_delivered_order():
    app = Host(followup())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("down", "down")
        await pilot.press("tab", "tab")  # order list, note
        await pilot.press("ctrl+a", "ctrl+k", "ctrl+s")  # an empty note is fine
        await pilot.pause()
    assert app.result == FollowupRequest(ANCHOR + 3 * DAY, "O1002", "")


async def test_followup_without_delivered_orders_has_no_delivery_preset():
    app = Host(followup(orders=[("O1", "已发货")], days=1))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert len(app.modal.whens) == 2  # tomorrow (the default), 7 days
        assert "确认收货后" not in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None


# -- outreach -------------------------------------------------------------------------

class OutreachHost(Host):
    """Answers audience requests the way the app would, from a fake table."""

    def __init__(self, modal, answer) -> None:
        super().__init__(modal)
        self.answer = answer
        self.requests: list[tuple[int, int | None]] = []

    def on_outreach_screen_audience_requested(self, event: OutreachScreen.AudienceRequested) -> None:
        self.requests.append((event.vip_min, event.bought_within_days))
        count, opted_out, sample = self.answer(event.vip_min, event.bought_within_days)
        event.outreach.show_audience(count, opted_out, sample, request=event)


def audience(vip_min, days):
    if vip_min >= 5:
        return 0, 0, []
    n = 40 - vip_min * 5 - (10 if days else 0)
    return n, 2, [(f"客户{i}", vip_min) for i in range(n)]


async def test_outreach_filter_is_debounced_and_sending_takes_two_ctrl_s():
    app = OutreachHost(OutreachScreen(ZH), audience)  # the real 0.3 s
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.requests == [(0, None)]
        assert "将发送给 40 位客户（2 位已退订，不发送）" in screen_text(app)
        await pilot.press("backspace", "3", "tab")  # VIP ≥ 3
        await typed(pilot, "30")  # bought within 30 days
        await pilot.pause(0.45)
        assert app.requests == [(0, None), (3, 30)]  # one request for the settled filter
        shown = screen_text(app)
        assert "将发送给 15 位客户" in shown and "客户9·V3" in shown and "客户10" not in shown
        await pilot.press("tab")
        await typed(pilot, "双11")
        await pilot.press("tab")
        await typed(pilot, "亲 双11 满300减50")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is UNSET
        assert "确认发送给 15 位客户？再按 Ctrl+S 发送，Esc 取消" in screen_text(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.result == OutreachRequest(3, 30, "双11", "亲 双11 满300减50")


async def test_outreach_refuses_empty_body_and_nobody_and_escape_withdraws_the_question():
    app = OutreachHost(OutreachScreen(ZH, debounce=0.01), audience)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.modal
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert ZH("outreach.need_body") in screen_text(app)
        assert screen.focused is screen.query_one("#outreach-body")
        await typed(pilot, "hi")

        screen.query_one("#outreach-vip", Input).value = "9"
        await pilot.pause()
        await pilot.press("ctrl+s")
        assert not screen.confirming and ZH("outreach.bad_vip") in screen_text(app)
        assert screen.focused is screen.query_one("#outreach-vip")

        screen.query_one("#outreach-vip", Input).value = "5"  # nobody at VIP 5 here
        await pilot.pause(0.05)
        assert "将发送给 0 位客户" in screen_text(app)
        await pilot.press("ctrl+s", "ctrl+s")
        await pilot.pause()
        assert app.result is UNSET and not screen.confirming
        assert ZH("outreach.no_audience") in screen_text(app)

        screen.query_one("#outreach-vip", Input).value = "1"
        await pilot.pause(0.05)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen.confirming
        await pilot.press("escape")  # withdraws the question, keeps the screen
        await pilot.pause()
        assert not screen.confirming and app.screen is screen
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen.confirming
        screen.query_one("#outreach-body").focus()
        await typed(pilot, "!")  # an edit withdraws it too: confirm what is sent
        assert not screen.confirming
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None


async def test_outreach_bad_days_and_a_late_answer_for_an_old_filter():
    held: list[OutreachScreen.AudienceRequested] = []

    class Slow(Host):  # the app answers when the test says so
        def on_outreach_screen_audience_requested(self, event) -> None:
            held.append(event)

    app = Slow(OutreachScreen(EN, debounce=0.01))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.modal
        screen.query_one("#outreach-body", TextArea).text = "hello"
        screen.query_one("#outreach-days", Input).value = "0"
        await pilot.pause()
        assert EN("outreach.bad_days") in screen_text(app)
        assert screen.wanted is None
        await pilot.press("ctrl+s")
        assert not screen.confirming

        screen.query_one("#outreach-days", Input).value = "7"
        await pilot.pause(0.05)
        seven = held[-1]
        assert (seven.vip_min, seven.bought_within_days) == (0, 7) and seven.control is screen
        screen.query_one("#outreach-days", Input).value = "70"
        await pilot.pause(0.05)
        seventy = held[-1]
        assert seventy.bought_within_days == 70
        await pilot.press("ctrl+s")
        assert not screen.confirming  # still counting
        assert EN("outreach.wait") in screen_text(app)

        screen.show_audience(999, 0, [], request=seven)  # late, for the filter before
        assert screen.audience is None
        screen.show_audience(12, 1, [("Ann", 3)], request=seventy)
        await pilot.pause()
        assert "Will send to 12 customers (1 opted out, not sent)" in screen_text(app)
        await pilot.press("ctrl+s", "ctrl+s")
        await pilot.pause()
    assert app.result == OutreachRequest(0, 70, "", "hello")


async def test_outreach_sample_names_are_text():
    app = OutreachHost(OutreachScreen(ZH, debounce=0.01), lambda v, d: (1, 0, [(HOSTILE, 2)]))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        assert "[bold red]" in shown and "[2J" not in shown


# -- confirm --------------------------------------------------------------------------

async def test_confirm_with_a_required_field():
    lines = ["订单 O1001", Text("新地址将同步到店铺", style="bold"), "当前地址：" + HOSTILE]
    app = Host(ConfirmScreen(ZH, "修改地址", lines, field_label="新地址", field_required=True, danger=True))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        assert "修改地址" in shown and "[bold red]坏人[/]" in shown and ZH("confirm.danger") in shown
        await pilot.press("enter")
        await pilot.pause()
        assert app.result is UNSET
        assert "请填写：新地址" in shown or "请填写：新地址" in screen_text(app)
        await typed(pilot, "上海市浦东新区 yes")  # y and n are letters here
        await pilot.press("enter")
        await pilot.pause()
    assert app.result == Confirmed("上海市浦东新区 yes")


async def test_confirm_y_enter_n_escape_without_a_field():
    for key, expected in [("y", Confirmed("")), ("enter", Confirmed("")), ("n", None), ("escape", None)]:
        app = Host(ConfirmScreen(EN, "Approve the refund", ["¥199 to the customer"]))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press(key)
            await pilot.pause()
        assert app.result == expected, key


async def test_confirm_optional_field_keeps_the_prefill():
    app = Host(ConfirmScreen(ZH, "添加订单备注", [], field_label="备注内容", field_value="  加急  "))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
    assert app.result == Confirmed("加急")


# -- tags -----------------------------------------------------------------------------

def test_split_tags():
    assert split_tags("退款, 物流，退款、#加急  vip") == ("退款", "物流", "加急", "vip")
    assert split_tags(" ,, ") == ()


async def test_tags_typed_toggled_and_priority_by_arrow_and_digit():
    app = Host(TagsScreen(ZH, ["退款"], ["退款", "物流", "加急"], "normal"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.modal
        await typed(pilot, ",差评")  # (Pilot cannot type full-width commas; split_tags is tested above)
        await pilot.press("tab")  # suggestions
        await pilot.press("enter")  # 退款: remove
        await pilot.press("down", "enter")  # 物流: add
        assert screen.query_one("#tags-input", Input).value == "差评 物流"
        await pilot.press("right")
        assert screen.priority == "high"
        await pilot.press("tab")  # the priority bar
        await pilot.press("right", "right")  # wraps: urgent → low
        assert screen.priority == "low"
        await pilot.press("4")
        assert "紧急" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
    assert app.result == TagsAndPriority(("差评", "物流"), "urgent")


async def test_tags_digits_type_in_the_field_and_escape_cancels():
    app = Host(TagsScreen(EN, [], [], "bogus"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.modal
        assert screen.priority == "normal"
        await typed(pilot, "vip1")
        assert screen.priority == "normal"  # "1" went into the tags
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.result == TagsAndPriority(("vip1",), "normal")

    app = Host(TagsScreen(EN, ["a"], [], "high"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None


async def test_every_screen_fits_a_small_terminal():
    """80×24 with CJK everywhere: the keys stay on the border, and the box scrolls so a
    refusal or the send question is in view."""
    screens = [
        (handoff(), "Ctrl+S 转接"),
        (SnoozeScreen(ZH, ANCHOR, PRESETS), "数字键"),
        (followup(), "Ctrl+S 确定"),
        (ConfirmScreen(ZH, "发起退款", ["金额 ¥199"], field_label="退款原因"), "Enter 确认"),
        (TagsScreen(ZH, ["退款"], ["物流"], "high"), "Ctrl+S 保存"),
    ]
    for modal, keys in screens:
        app = Host(modal)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert keys in screen_text(app), type(modal).__name__

    app = Host(handoff())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert ZH("handoff.need_target") in screen_text(app)

    app = OutreachHost(OutreachScreen(ZH, debounce=0.01), audience)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.modal.query_one("#outreach-body", TextArea).text = "hi"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "确认发送给 40 位客户" in screen_text(app)
