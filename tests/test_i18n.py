"""The UI catalog: every string in both languages, and every name the UI builds
from the shop's vocabulary has an entry."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from agentdesk.i18n import CATALOG, Catalog
from agentdesk.models import CONVERSATION_STATUSES, GROUPS
from agentdesk.store.inbox import TABS

UI = Path(__file__).resolve().parents[1] / "agentdesk" / "ui"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_key_has_chinese_and_english(key):
    zh, en = CATALOG[key]
    assert zh.strip() and en.strip()
    assert placeholders(zh) == placeholders(en)


def test_chinese_entries_are_chinese():
    # Catches an English string left in the Chinese column (or the columns swapped).
    han = re.compile(r"[\u4e00-\u9fff]")
    latin_only = [k for k, (zh, _) in CATALOG.items() if not han.search(zh)]
    assert latin_only == []


def test_catalog_translates_and_formats():
    zh, en = Catalog("zh"), Catalog("en")
    assert zh("tab.mine") == "我的" and en("tab.mine") == "Mine"
    assert zh("inbox.position", n=3) == "3 个会话"
    assert en("inbox.position", n=3) == "3 conversations"
    assert en("thread.waiting", t="1:05") == "customer waiting 1:05"
    assert zh("notify.error", e="网络断开") == "出错了：网络断开"


def test_text_with_braces_is_only_formatted_when_values_are_given():
    assert Catalog("en")("inbox.position") == "{n} conversations"


def test_a_missing_key_shows_itself():
    assert Catalog("zh")("no.such.key") == "[no.such.key]"
    assert Catalog("en")("no.such.key", n=1) == "[no.such.key]"


def test_vocabulary_the_ui_builds_keys_from_is_complete():
    needed = (
        [f"status.{s}" for s in CONVERSATION_STATUSES]
        + [f"tab.{t}" for t in TABS]
        + [f"group.{g}" for g in GROUPS]
        + [f"conn.{c}" for c in ("demo", "offline", "online")]
    )
    assert [k for k in needed if k not in CATALOG] == []


def test_every_action_has_a_label_and_a_help_line():
    from agentdesk.ui.actions import ACTIONS

    missing = [
        f"{spec.id}: {key}"
        for spec in ACTIONS
        for key in (spec.label, spec.label + ".help")
        if key not in CATALOG
    ]
    assert missing == []
    scopes = {spec.scope for spec in ACTIONS}
    assert [s for s in scopes if f"help.scope.{s}" not in CATALOG] == []


#: ``t("key")`` or ``t("key", n=…)``; a key built by concatenation is checked above.
_LITERAL_KEY = re.compile(r"""\b_?t\(\s*["']([\w.]+)["']\s*[,)]""")


def test_every_literal_key_used_by_the_ui_exists():
    used = set()
    for path in UI.rglob("*.py"):
        used |= set(_LITERAL_KEY.findall(path.read_text(encoding="utf-8")))
    assert used, "the pattern found no t(...) calls: it needs updating"
    assert sorted(k for k in used if k not in CATALOG) == []
