"""Customer-facing text is in the shop's language (``[shop] language``, default zh),
whatever the UI's: greeting, apology, handoff message, follow-up and outreach suggestions."""

from __future__ import annotations

import pytest

from agentdesk import shoptext
from agentdesk.config import ConfigError, Settings, ShopSettings, UISettings, parse_dict
from agentdesk.store import followups, writes
from agentdesk.ui.screens.outreach import OutreachScreen
from agentdesk.ui.widgets.composer import Composer
from agentdesk.ui.widgets.followup_list import FollowupList

from conftest import make_app, until
from test_workstation import SIZE, settle


def test_the_defaults_follow_the_shop_language_not_the_ui():
    zh = parse_dict({"ui": {"language": "en"}})
    assert zh.shop.language == "zh"
    assert (zh.greeting.text, zh.replies.apology, zh.handoff.customer_message) == (
        shoptext.text("greeting", "zh"), "亲，非常抱歉让您久等了！", shoptext.text("handoff", "zh"))
    en = parse_dict({"ui": {"language": "zh"}, "shop": {"language": "en"}})
    assert en.greeting.text.startswith("Hello! This is {agent_name}")
    assert en.replies.apology == "So sorry to keep you waiting! "
    assert "{to}" in en.handoff.customer_message and en.handoff.customer_message.isascii()
    # Written out, a text is sent as written, in whatever language it is in.
    mine = parse_dict({"shop": {"language": "en"}, "replies": {"apology": "亲，久等啦"}})
    assert mine.replies.apology == "亲，久等啦" and mine.greeting.text.startswith("Hello!")


def test_a_bad_shop_language_names_the_file_and_key(tmp_path):
    with pytest.raises(ConfigError) as err:
        parse_dict({"shop": {"language": "fr"}}, tmp_path / "c.toml")
    assert str(err.value) == f'{tmp_path / "c.toml"}: [shop] language must be "zh" or "en", got \'fr\''


async def test_a_follow_up_opened_from_the_english_ui_is_filled_in_chinese_once(demo_store):
    app = make_app(demo_store, language="en")  # shop language: the default zh
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f")
        await settle(pilot, app)
        lst = app.query_one(FollowupList)
        assert lst.items and app.focused is lst
        await pilot.press("enter")
        await settle(pilot, app)
        row = app.current
        expected = shoptext.text("followup", "zh", agent="小美")
        composer = app.query_one(Composer)
        assert composer.text == expected and "Hello" not in composer.text
        await until(pilot, lambda: demo_store.read(writes.get_draft, row.id) == expected, "kept as the draft")
        await pilot.press("escape", "enter")  # the same follow-up again
        await settle(pilot, app)
        assert composer.conversation_id == row.id and composer.text == expected  # one copy, not two


async def test_an_english_shop_gets_english_suggestions_under_a_chinese_ui(demo_store):
    settings = Settings(ui=UISettings(language="zh"), shop=ShopSettings(language="en"))
    app = make_app(demo_store, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        due = demo_store.read(followups.page, None, 100)
        assert due
        await pilot.press("f", "enter")
        await settle(pilot, app)
        assert app.query_one(Composer).text == shoptext.text("followup", "en", agent="小美")
        await pilot.press("f6")
        await until(pilot, lambda: isinstance(app.screen, OutreachScreen), "outreach")
        assert app.screen.query_one("#outreach-body").placeholder == shoptext.text("outreach", "en")
