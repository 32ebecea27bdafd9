"""Hostile customer text: what reaches the terminal is only what the customer could
have typed on a keyboard, shown literally."""

from __future__ import annotations

import io

import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from agentdesk.safetext import (
    _NEEDS_LOOK,
    _PLAIN,
    MAX_SHOWN_CHARS,
    TRUNCATED,
    clean,
    fit,
    inert,
    json_dumps,
    kept,
    one_line,
    pad,
    same_cells,
)

OSC52 = "\x1b]52;c;aGk=\x07"  # "put 'hi' on the clipboard"
CLEAR = "\x1b[2J"
HOSTILE = [
    "[bold red]x[/]",
    "[link=http://evil]click[/link]",
    f"copy {OSC52}me",
    f"before{CLEAR}after",
    "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\",
    "\u202eexe.txt",
    "pay\u200bpal\ufeff",
    "\x9b31mred\x9b0m",
    "title\x1b]0;pwned\x07",
]


def has_control(text: str) -> bool:
    return any(ord(ch) < 0x20 and ch not in "\n" or 0x7F <= ord(ch) <= 0x9F for ch in text)


# --- markup stays literal --------------------------------------------------------------


def test_rich_markup_is_kept_literally():
    assert clean("[bold red]x[/]") == "[bold red]x[/]"
    assert clean("[link=http://evil]click[/link]") == "[link=http://evil]click[/link]"


# --- escape sequences are removed whole ----------------------------------------------


def test_osc52_clipboard_write_is_removed_entirely():
    out = clean(f"copy {OSC52}me")
    assert out == "copy me"
    assert "52;c" not in out and "aGk=" not in out


def test_osc52_terminated_by_st_is_removed_entirely():
    out = clean("a\x1b]52;c;aGk=\x1b\\b")
    assert out == "ab"


def test_unterminated_osc_does_not_leak_its_payload():
    out = clean("hi\x1b]52;c;aGk=")
    assert out == "hi"


def test_csi_is_removed_without_leaving_its_parameters():
    out = clean(f"before{CLEAR}after\x1b[38;2;255;0;0mred\x1b[0m\x1b[?25l")
    assert out == "beforeafterred"
    assert "[2J" not in out and "[0m" not in out


def test_osc8_hyperlink_is_removed_but_its_text_kept():
    assert clean("\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\") == "click"


def test_dcs_and_other_escapes_are_removed():
    assert clean("a\x1bP1;2|payload\x1b\\b") == "ab"
    assert clean("a\x1b(0b\x1b(Bc") == "abc"  # charset switches
    assert clean("a\x1b7b\x1b8c") == "abc"  # save / restore cursor
    assert clean("a\x1bcb") == "ab"  # full reset
    assert clean("lone\x1b") == "lone"


def test_c1_controls_are_removed():
    # 8-bit CSI and OSC, NEL, DCS, and the rest of the C1 range.
    assert clean("\x9b31mred\x9b0m") == "red"
    assert clean("t\x9d0;pwned\x07x") == "tx"
    assert clean("a\x85b\x80c\x8dd") == "abcd"
    # 8-bit DCS and APC take their payload with them, as their ESC P / ESC _ forms do.
    assert clean("a\x90q payload\x9cb\x9fZXZpbA==\x9cc") == "abc"


def test_c0_controls_and_del_are_removed_but_newlines_kept():
    assert clean("a\x00b\x07c\x08d\x7fe\rf") == "abcdef"
    assert clean("line one\nline two\n") == "line one\nline two\n"


def test_tabs_are_expanded():
    assert clean("a\tb") == "a    b"


def test_bidi_overrides_and_isolates_are_removed():
    assert clean("\u202eexe.txt") == "exe.txt"
    text = "".join(f"{ch}{i}" for i, ch in enumerate("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"))
    assert clean(text) == "012345678910"


def test_zero_width_characters_are_removed():
    assert clean("pay\u200bpal\ufeff") == "paypal"
    assert clean("a\u200cb\u200dc\u2060d") == "abcd"


def test_ordinary_chinese_text_and_emoji_are_untouched():
    text = "亲，订单 #20261120-0042 已发货 😀，顺丰 SF1234567890。\n谢谢！"
    assert clean(text) == text


@pytest.mark.parametrize("text", HOSTILE)
def test_nothing_hostile_survives(text):
    out = clean(text)
    assert "\x1b" not in out
    assert not has_control(out)
    assert not any(ch in out for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\ufeff")


def test_empty_and_none():
    assert clean("") == ""
    assert clean(None) == ""
    assert one_line(None) == ""


# --- size limits ---------------------------------------------------------------------


def test_a_one_megabyte_message_is_truncated_with_a_marker():
    text = "这是很长的消息。" * (1_000_000 // 8)
    out = clean(text)
    assert out.endswith(TRUNCATED)
    assert len(out) == MAX_SHOWN_CHARS  # the marker is inside the limit: clean(clean(x)) == clean(x)
    kept = MAX_SHOWN_CHARS - len(TRUNCATED)
    assert out[:kept] == text[:kept]


def test_a_one_megabyte_escape_flood_is_bounded_and_clean():
    # The cost must not depend on the input size: only a bounded prefix is scanned.
    flood = (CLEAR + OSC52 + "\u200b") * 60_000 + "\x1b]52;c;" + "A" * 500_000
    out = clean(flood)
    assert len(out) <= MAX_SHOWN_CHARS
    assert out.endswith(TRUNCATED)
    assert "\x1b" not in out and "52;c" not in out and "[2J" not in out


def test_short_messages_are_not_marked():
    assert not clean("x" * MAX_SHOWN_CHARS).endswith(TRUNCATED)
    assert clean("x" * (MAX_SHOWN_CHARS + 1)).endswith(TRUNCATED)


def test_custom_limit():
    assert clean("abcdef", limit=3) == "ab…"  # under 100 characters the marker is one cell
    assert clean("a" * 300, limit=200) == "a" * (200 - len(TRUNCATED)) + TRUNCATED


def test_one_line_folds_whitespace_and_cleans():
    assert one_line("  hello\n\n  world\t!\x1b[2J  ") == "hello world !"


# --- CJK-safe width --------------------------------------------------------------------

MIXED = ["", "abc", "你好世界", "ab你好c世界😀d", "退款中：顺丰SF123", "a\u4e2d"]


@pytest.mark.parametrize("text", MIXED)
def test_fit_never_exceeds_width_and_never_splits_a_wide_char(text):
    for width in range(0, 16):
        out = fit(text, width)
        assert cell_len(out) <= width
        if width == 0:
            assert out == ""
        elif cell_len(text) <= width:
            assert out == text
        else:
            assert out.endswith("…")
            kept = out[:-1]
            assert text.startswith(kept)  # whole characters only, from the start
            # It keeps as much as fits: one more character would overflow.
            assert cell_len(kept) + cell_len(text[len(kept)]) + 1 > width


@pytest.mark.parametrize("text", MIXED)
def test_pad_is_exactly_the_width(text):
    for width in range(0, 16):
        out = pad(text, width)
        assert cell_len(out) == width
        assert out.rstrip(" ").rstrip("…") in text or out.strip() == ""


def test_fit_examples():
    assert fit("你好世界", 8) == "你好世界"
    assert fit("你好世界", 7) == "你好世…"
    assert fit("你好世界", 6) == "你好…"  # 你好 (4) + … (1); 世 would make it 7
    assert fit("你好世界", 4) == "你…"  # never half a 好
    assert fit("你好", 1) == "…"
    assert fit("hello", 0) == ""
    assert pad("你好世界", 5) == "你好…"
    assert pad("你好世界", 4) == "你… "  # filled with a space where 好 would not fit
    assert pad("ab", 4) == "ab  "


# --- what rich actually draws ----------------------------------------------------------


def render(text: str) -> tuple[str, str]:
    """What a terminal would be sent, and the text it would show."""
    out = io.StringIO()
    console = Console(record=True, width=80, file=out, force_terminal=True, color_system="truecolor")
    console.print(Text(clean(text)))
    return out.getvalue(), console.export_text()


def test_rich_shows_markup_literally_and_sends_no_link_or_clipboard_escape():
    sent, shown = render("[bold red]x[/] [link=http://evil]click[/link] " + OSC52 + CLEAR)
    assert "[bold red]x[/] [link=http://evil]click[/link]" in shown
    assert "\x1b]" not in sent  # no OSC of any kind: no hyperlink, no clipboard write
    assert "\x1b[2J" not in sent
    assert "\x1b[1" not in sent  # nothing turned bold
    assert "52;c" not in shown and "[2J" not in shown


@pytest.mark.parametrize("text", HOSTILE)
def test_rich_render_of_hostile_text_has_no_escapes_beyond_plain_output(text):
    sent, shown = render(text)
    assert "\x1b]" not in sent
    assert "\x1b" not in shown
    assert shown.strip() == clean(text).strip()


# --- one width model ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("❤️ ok", "❤ ok"),  # VS16 dropped: the text-default heart is one cell to everyone
        ("👍🏽", "👍"),  # skin tone dropped
        ("🏳️\u200d🌈", "🏳🌈"),  # a ZWJ sequence shows as its parts
        ("🇨🇳", "CN"),  # regional indicators read as their letters
        ("\u3164\u3164小美\uffa0", "  小美 "),  # Hangul fillers are spaces
        ("\u115f\u1160x", " x"),
        ("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "🏴"),  # tags dropped
        ("a\u061cb\ufff9c\ufffbd\u00ade\u034ff\u180eg", "abcdefg"),
        ("हि", "ह\ufffd"),  # a spacing mark: 0 cells to Rich, 1 to terminals
        ("☰\u3248\U0001fae8", "\ufffd\ufffd\ufffd"),  # widths that differ between versions
        ("\u0378\uffff", "\ufffd\ufffd"),  # unassigned, noncharacter
        ("\ud800x\udfff", "\ufffdx\ufffd"),  # lone surrogates
        ("\u0301a \u0301b\n\u0301c", "a b\nc"),  # marks with nothing to sit on
        ("e\u0301 Vie\u0323\u0302t", "e\u0301 Vie\u0323\u0302t"),  # marks on a letter stay
        ("z" + "\u0301" * 9, "z" + "\u0301" * 4),  # zalgo is capped
        ("a\u2028b", "a\nb"),
        ("\ue000", "\ue000"),  # private use: one cell to both
    ],
)
def test_the_width_model(raw, shown):
    assert clean(raw) == shown


def test_plain_characters_are_exactly_those_the_model_keeps():
    """The fast path skips these: each must be one the full model leaves as it is."""
    import re

    for cp in range(0x110000):
        ch = chr(cp)
        if not 0xD800 <= cp <= 0xDFFF and re.fullmatch(f"[{_PLAIN}]", ch):
            assert kept(ch), f"U+{cp:04X} is on the fast path but the model changes it"
    assert _NEEDS_LOOK.search("\u3164") and not _NEEDS_LOOK.search("你好 abc")


def test_same_cells_keeps_richs_cell_count_exactly():
    for text in ["❤️x", "\u3164" * 5, "a\x1b]52;c;ZXZpbA==\x07b", "👍🏽👍🏽", "\ud800", "ok", "你好\u200b"]:
        out = same_cells(text)
        assert cell_len(out) == cell_len(text)
        assert all(kept(ch) for ch in out) and "\x1b" not in out
    assert same_cells("a\nb") == "ab"


# --- machine output ---------------------------------------------------------------------


def test_json_escapes_what_a_terminal_would_act_on_and_loads_back_the_same():
    import json

    value = {"name": "\x1b]52;c;ZXZpbA==\x07x\x85\u202e\u2066\u200b\ufeff\U000e0041\ud800", "ok": "你好 ❤️"}
    out = json_dumps(value)
    assert json.loads(out) == value
    assert "你好 ❤️" in out  # readable CJK and emoji
    assert not any(0x7F <= ord(ch) <= 0x9F or ch in "\x1b\u202e\u2066\u200b\ufeff" for ch in out)
    assert not any(0xD800 <= ord(ch) <= 0xDFFF or ord(ch) >= 0xE0000 for ch in out)
    assert "\\udb40\\udc41" in out  # an astral tag as its UTF-16 surrogate pair


def test_every_format_character_is_escaped_in_json():
    import unicodedata

    for cp in range(0x110000):
        ch = chr(cp)
        if unicodedata.category(ch) == "Cf" or 0x7F <= cp <= 0x9F or 0xD800 <= cp <= 0xDFFF:
            assert ch not in json_dumps(ch), f"U+{cp:04X} stays raw in JSON"


def test_inert_keeps_data_but_no_escape_or_reordering():
    assert inert("\x1b]52;c;ZXZpbA==\x07小美 ❤️\t1\u202e2\ud800") == "小美 ❤️\t12\ufffd"
    assert inert(None) == ""
