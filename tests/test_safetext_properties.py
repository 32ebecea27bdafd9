"""Properties of :mod:`agentdesk.safetext` over any string hypothesis can think of,
lone surrogates included: nothing forbidden comes out, widths hold, nothing raises."""

from __future__ import annotations

import unicodedata

from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from agentdesk.safetext import clean, fit, json_dumps, kept, one_line, pad, same_cells
from hostile import CORPUS

#: Any code point (surrogates too), weighted towards the traps: escapes, controls,
#: joiners, selectors, modifiers, fillers, marks, markup.
TRAPS = st.sampled_from(
    ["\x1b", "\x1b[", "\x1b]", "\x07", "\x9b", "\x9d", "\x9c", "\x1b\\", "\x00", "\r", "\n", "\t", "\x85",
     "\u200d", "\ufe0f", "\U0001f3fd", "\U0001f1e8", "\u3164", "\u0301", "\u093f", "\u202e", "\U000e0041",
     "\ud800", "[/]", "[bold]", "❤", "🏳", "你", "a", " "]
)
TEXT = st.lists(st.one_of(st.characters(), TRAPS), max_size=60).map("".join)
WIDTHS = st.integers(min_value=0, max_value=40)
#: Timing is not a property: under a loaded CI a 100k-character example may take longer.
LOADED = settings(deadline=None)

CONTROLS = {chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]} - {"\n"}
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def forbidden(text: str) -> list[str]:
    return [ch for ch in text if ch in CONTROLS or ch in BIDI or not kept(ch)
            or unicodedata.category(ch) in ("Cf", "Cs", "Cn")]


@LOADED
@given(TEXT)
@example("\ud800")
@example("\x1b]52;c;ZXZpbA==")
def test_clean_lets_nothing_forbidden_through_and_is_idempotent(text):
    out = clean(text)
    assert forbidden(out) == []
    assert clean(out) == out
    out.encode("utf-8")  # never a surrogate that cannot be written


@LOADED
@given(TEXT, st.integers(min_value=1, max_value=300))
def test_limits_hold(text, limit):
    assert len(clean(text, limit=limit)) <= max(limit, 1)
    assert len(one_line(text, limit=limit)) <= max(limit, 1)


@LOADED
@given(TEXT)
def test_one_line_is_one_clean_line(text):
    out = one_line(text)
    assert "\n" not in out and out == out.strip()
    assert forbidden(out) == []
    assert one_line(out) == out


@LOADED
@given(TEXT, WIDTHS)
def test_fit_never_exceeds_its_cells(text, width):
    out = fit(text, width)
    assert cell_len(out) <= width
    assert forbidden(out) == [] and "\n" not in out
    assert fit(out, width) == out


@LOADED
@given(TEXT, WIDTHS)
def test_pad_is_exactly_its_cells(text, width):
    out = pad(text, width)
    assert cell_len(out) == width
    assert forbidden(out) == []


@LOADED
@given(TEXT)
def test_same_cells_keeps_the_count_and_lets_nothing_through(text):
    out = same_cells(text)
    assert cell_len(out) == cell_len(text)
    assert forbidden(out) == [] and "\n" not in out


@LOADED
@given(st.recursive(st.none() | st.booleans() | st.integers() | TEXT,
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                    max_leaves=12))
def test_json_is_lossless_and_inert(value):
    import json

    out = json_dumps(value)
    assert json.loads(out) == value
    assert not any(ch in CONTROLS or ch in BIDI or unicodedata.category(ch) in ("Cf", "Cs") for ch in out)


def test_the_corpus_through_every_function():
    for name, text in CORPUS:
        for out in (clean(text), one_line(text), fit(text, 10), pad(text, 10), same_cells(text)):
            assert forbidden(out) == [], name
            assert "\x1b" not in out, name
