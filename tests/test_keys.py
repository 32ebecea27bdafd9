"""Keys: the tab keys from every tab, the "anywhere" keys from the composer, transfer
search by pinyin, initials and id, and ``[keys]`` remapping any action by its binding id."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agentdesk.config import ConfigError, Settings, UISettings, parse_dict
from agentdesk.ui import actions
from agentdesk.ui.keymap import checked, key_name_ok
from agentdesk.ui.screens.handoff import HandoffScreen
from agentdesk.ui.screens.help import HelpScreen
from agentdesk.ui.screens.outreach import OutreachScreen
from agentdesk.ui.screens.tags import TagsScreen
from agentdesk.ui.widgets.composer import Composer
from agentdesk.ui.widgets.followup_list import FollowupList
from agentdesk.ui.widgets.inbox_list import InboxList

from conftest import make_app, screen_text, until
from test_workstation import SIZE, open_first, settle


async def test_every_tab_key_works_from_the_follow_up_tab(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        for key, tab in (("u", "unassigned"), ("a", "all"), ("m", "mine")):
            await pilot.press("f")
            await settle(pilot, app)
            assert isinstance(app.focused, FollowupList) and app.query_one(FollowupList).display
            await pilot.press(key)
            await settle(pilot, app)
            assert app.filter.tab == tab and app.query_one(InboxList).display
            assert isinstance(app.focused, InboxList)


def test_no_key_that_acts_from_anywhere_is_taken_by_the_composer():
    """TextArea binds F6 to "select line": in the composer it swallowed outreach."""
    anywhere = {k for a in actions.ACTIONS if a.scope == "app" for k in actions.keys_of(a)}
    own = {k for a in actions.ACTIONS if a.scope == "composer" for k in actions.keys_of(a)}
    composer_keys = {k for b in Composer.BINDINGS for k in b.key.split(",")} - own
    assert "f6" in anywhere and not composer_keys & anywhere
    assert {"ctrl+a", "ctrl+e", "home", "ctrl+z"} <= composer_keys  # the editing keys stay


async def test_anywhere_keys_work_from_the_composer(demo_store):
    app = make_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await open_first(pilot, app)
        for key, screen in (("f6", OutreachScreen), ("ctrl+t", HandoffScreen), ("alt+t", TagsScreen),
                            ("f1", HelpScreen)):
            assert isinstance(app.focused, Composer)
            await pilot.press(key)
            await until(pilot, lambda: isinstance(app.screen, screen), f"{key} opens {screen.__name__}")
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, screen), f"{screen.__name__} closes")
            await settle(pilot, app)
        assert app.query_one(Composer).text == ""  # none of them typed anything


@pytest.mark.parametrize("typed", ["jie", "aj", "a02", "阿杰", "AJ"])
async def test_transfer_search_finds_a_colleague_by_pinyin_initials_and_id(demo_store, typed):
    found = await transfer_search(demo_store, typed)
    assert found and found[0].agent_id == "a02", [t.name for t in found]


async def test_transfer_search_finds_a_group_by_its_initials(demo_store):
    assert (await transfer_search(demo_store, "ks"))[0].group == "客诉"


async def transfer_search(store, typed: str):
    """The transfer targets shown, in order, once ``typed`` is in its filter."""
    app = make_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await open_first(pilot, app)
        await until(pilot, lambda: app.name_syllables is not None, "the names' pinyin")
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, HandoffScreen), "the transfer screen")
        await pilot.press(*typed)
        await settle(pilot, app)
        return list(app.screen.shown)


# -- [keys] ---------------------------------------------------------------------------------------


def remapped(**keys: str) -> Settings:
    return parse_dict({"ui": {"language": "en"}, "keys": keys})


async def test_a_remapped_key_acts_and_shows_in_help_footer_and_palette(demo_store):
    settings = parse_dict({"ui": {"language": "en"}, "keys": {"app": {"outreach": "f9"}, "inbox.status": "z"}})
    app = make_app(demo_store, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("f6")  # the old key does nothing now
        await settle(pilot, app)
        assert not isinstance(app.screen, OutreachScreen)
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, OutreachScreen), "F9 opens outreach")
        await pilot.press("escape")
        await settle(pilot, app)
        footer = screen_text(app).splitlines()[-1]
        assert "z Status" in footer and "s Status" not in footer
        await pilot.press("z")
        await settle(pilot, app)
        assert app.filter.status == "pending"
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        box = app.screen.query_one("#help-box")
        text = screen_text(app)
        while box.scroll_offset.y < box.max_scroll_y:
            box.scroll_to(y=box.scroll_offset.y + box.size.height - 1, animate=False, immediate=True)
            await pilot.pause()
            text += screen_text(app)
        line = next(ln for ln in text.splitlines() if "Message filtered customers" in ln)
        assert "F9" in line and "F6" not in line
        await pilot.press("escape")
        await settle(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.press(*"outreach")
        await until(pilot, lambda: "Outreach (F9)" in screen_text(app), "the palette entry with its new key")


def test_key_names_are_checked():
    for good in ("ctrl+o", "alt+n", "f9", "enter", "question_mark", "ctrl+shift+k", "j", "?"):
        assert key_name_ok(good), good
    for bad in ("ctrl+", "hyperspace", "ctrl+ctrl+a", "cmd+k", "f99x", ""):
        assert not key_name_ok(bad), bad


@pytest.mark.parametrize("keys, says", [
    ({"app.nxt": "alt+n"}, "[keys] app.nxt: no such binding id (known: "),
    ({"app.outreach": "ctrl+hyperspace"}, '[keys] app.outreach = "ctrl+hyperspace": "ctrl+hyperspace" is not a key name'),
    ({"app.next": "alt+k"}, '[keys] app.next = "alt+k": alt+k is already app.prev'),
    ({"app.outreach": "ctrl+j"}, '[keys] app.outreach = "ctrl+j": ctrl+j is already composer.newline'),
    ({"app.outreach": "ctrl+k"}, '[keys] app.outreach = "ctrl+k": ctrl+k edits text in the composer'),
    ({"app.outreach": ""}, '[keys] app.outreach must be a key name such as "ctrl+o"'),
])
def test_a_bad_remap_is_one_line_naming_the_file_and_the_key(tmp_path, keys, says):
    where = tmp_path / "config.toml"
    with pytest.raises(ConfigError) as err:
        checked(parse_dict({"keys": keys}, where))
    message = str(err.value)
    assert message.startswith(f"{where}: ") and says in message and "\n" not in message


def test_remaps_are_normalised_and_may_swap_two_actions():
    keymap = checked(remapped(**{"app.next": "Alt+K", "app.prev": "alt+j", "composer.newline": "ctrl+k"}))
    assert keymap == {"app.next": "alt+k", "app.prev": "alt+j", "composer.newline": "ctrl+k"}
    assert checked(Settings(ui=UISettings(language="en"))) == {}


def test_the_command_exits_2_on_a_bad_remap(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[keys]\n"app.outreach" = "ctrl+nope"\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "agentdesk", "--config", str(config)], cwd=tmp_path,
                          capture_output=True, text=True, encoding="utf-8", timeout=30,
                          env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "TERM": "dumb"})
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("agentdesk: config error: ")
    assert str(config) in done.stderr and "app.outreach" in done.stderr and "ctrl+nope" in done.stderr
