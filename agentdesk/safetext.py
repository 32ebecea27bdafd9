"""Outside text is hostile: make it safe to put on a terminal, with one width model.

Everything a customer, an agent name, a server or a file brings is passed through
:func:`clean` (or :func:`one_line`, :func:`fit`, :func:`pad`) before it is shown, and
shown as ``rich.text.Text`` – never as markup – so ``[bold]`` or ``[/]`` stays literal.

What :func:`clean` does, in order:

1. **Bounded.** Only a prefix of ``4 × limit`` characters is looked at, and at most
   ``limit`` characters come out (when cut, the last ones say `` …[truncated]``, or
   ``…`` under 100): a 1 MB paste costs the same as a 16 kB one.
2. **Escapes removed whole** – CSI, OSC (to BEL or ST, or to the end when unterminated,
   so an OSC 52 clipboard write or an OSC 8 link leaves nothing of its payload), DCS,
   SOS, PM, APC, their 8-bit C1 forms, and two-byte escapes (``ESC c``, ``ESC # 8``,
   ``ESC ( 0``, a lone ``ESC``).
3. **One width model.** Every character left is one that Rich (which lays out the
   screen) and the terminal measure alike, so a row is exactly as wide as Rich thinks:

   =====================================================  ===================================
   characters                                             become
   =====================================================  ===================================
   C0 and C1 controls and DEL (not ``\\n``)                removed; a tab is 4 spaces
   format characters (category Cf: bidi controls          removed
   U+202A–202E, U+2066–2069, U+061C, U+200E/F,
   zero-width space and joiners, U+2060–2064, BOM,
   soft hyphen U+00AD, U+180E, U+FFF9–FFFB, tag
   characters U+E0000–E007F) and the rest of Unicode's
   Default_Ignorable set (U+034F, variation selectors
   U+FE00–FE0F and U+E0100–E01EF – the VS16 of ❤️ –,
   U+1160, U+17B4/5, U+180B–180F, U+FFF0–FFF8, …)
   Hangul fillers U+3164, U+FFA0, U+115F                  a space
   emoji skin-tone modifiers U+1F3FB–1F3FF                removed (👍🏽 → 👍)
   regional indicators U+1F1E6–1F1FF                      their letter (🇨🇳 → CN)
   U+2028 / U+2029 (line / paragraph separator)           ``\\n``
   lone surrogates, code points this Python does not      U+FFFD (�)
   know (unassigned, or newer than its Unicode),
   spacing combining marks (category Mc: Rich counts
   0 cells, terminals 1), characters Rich measures
   otherwise than Unicode 14.0 did (emoji newer than
   14.0 such as 🫨, U+2630–2637 trigrams, U+4DC0–4DFF
   hexagrams, counting rods), U+3248–324F (narrow to
   Rich, wide to glibc)
   a combining mark with nothing to sit on (at the start,  removed
   after a space or a line break), and the fifth and
   later marks on one character ("zalgo")
   =====================================================  ===================================

   So an emoji ZWJ sequence shows as its parts (🏳️‍🌈 → 🏳🌈, 👩‍💻 → 👩💻): each part is a
   character both sides measure alike, where the joined glyph is one cell to some
   terminals, two to others. Ambiguous-width characters (East Asian Width "A": “”,
   …, ·, ①, Greek in CJK text) are narrow, as to Rich, tmux and every terminal's default
   – a terminal set to draw them wide misaligns them (the app's own ●, … and · too).

   Measured against tmux 3.3a on glibc 2.36 (``tests/test_terminal_widths.py`` prints
   every trap in tmux and compares the columns).

:func:`fit` and :func:`pad` apply the same model, so ``cell_len(fit(s, w)) <= w`` for
any string. :func:`same_cells` is the model at the very last step (the app's line
filter): it keeps Rich's cell count exactly. :func:`json_dumps` escapes what JSON
leaves raw (C1, bidi and other format characters, surrogates) as ``\\uXXXX``;
:func:`inert` and :func:`editable` keep text faithful (for CSV, or a field that is
sent on) and only take out what a terminal would act on.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache

from rich.cells import cell_len, set_cell_size

# CSI (ESC [ … final), OSC (ESC ] … BEL/ST), DCS/SOS/PM/APC (ESC P/X/^/_ … ST), and
# two-byte escapes; each also in its 8-bit C1 form (0x9b, 0x9d, 0x90/0x98/0x9e/0x9f).
_ESCAPES = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]                        # CSI
  | (?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?    # OSC, to BEL or ST (or the end)
  | (?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?  # DCS / SOS / PM / APC
  | \x1b(?:[ -/]*[0-~])?                                    # ESC c, ESC # 8, ESC ( B, a lone ESC
    """,
    re.VERBOSE,
)

#: Characters that need no second look: printable ASCII, Latin, CJK ideographs and
#: punctuation, kana, Hangul syllables, fullwidth forms, box drawing and shapes.
#: (A test checks each of them is kept as it is by the full model below.)
_PLAIN = (
    "\n\x20-\x7e\u00a0-\u00ac\u00ae-\u02ff\u2010-\u2027\u2030-\u205e\u2190-\u21ff"
    "\u2500-\u25ff\u3000-\u3029\u3030-\u303f\u3041-\u3096\u309b-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7a3\uff01-\uff9f\ufffd"
)
_NEEDS_LOOK = re.compile(f"[^{_PLAIN}]")
_SPACES = re.compile(r"\s+")

#: Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt), less what is
#: handled as a filler; category Cf is removed as well, whatever the version.
_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x1160, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)
_FILLERS = frozenset("\u115f\u3164\uffa0")
#: Ambiguous-width to Unicode (narrow to Rich) that glibc's wcwidth, and so tmux, draws wide.
_GLIBC_WIDE = range(0x3248, 0x3250)
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_REGIONAL = range(0x1F1E6, 0x1F200)
#: Marks kept on one character: enough for Vietnamese, Thai or Indic clusters.
MAX_MARKS = 4
#: The Unicode version whose widths the model trusts (Python 3.11's, glibc 2.35's): a
#: character Rich's newer tables measure otherwise (a new wide emoji) is replaced, on
#: any Python; one this Python does not know at all is replaced as unassigned.
_BASE_UNICODE = "14.0.0"

REPLACEMENT = "\ufffd"
TRUNCATED = " …[truncated]"
#: Longest body shown in the thread; a 1 MB paste would otherwise cost seconds to lay out.
MAX_SHOWN_CHARS = 4000


@lru_cache(maxsize=8192)
def _disposition(ch: str) -> tuple[str, bool]:
    """What ``ch`` becomes ("" to drop it), and whether it is a combining mark that
    needs a character to sit on."""
    cp = ord(ch)
    if ch == "\t":
        return "    ", False
    if ch == "\n":
        return ch, False
    if 0xD800 <= cp <= 0xDFFF:
        return REPLACEMENT, False
    category = unicodedata.category(ch)
    if category == "Cc":
        return "", False
    if ch in "\u2028\u2029":
        return "\n", False
    if ch in _FILLERS:
        return " ", False
    if category == "Cf" or any(a <= cp <= b for a, b in _IGNORABLE):
        return "", False
    if cp in _SKIN_TONES:
        return "", False
    if cp in _REGIONAL:
        return chr(ord("A") + cp - _REGIONAL.start), False
    if category in ("Cn", "Mc") or cp in _GLIBC_WIDE:
        return REPLACEMENT, False
    if cell_len(ch) != cell_len(ch, _BASE_UNICODE):
        return REPLACEMENT, False
    if category in ("Mn", "Me"):
        return ch, True
    return ch, False


def _normalise(text: str) -> str:
    """The width model over ``text`` (escapes already removed)."""
    if not _NEEDS_LOOK.search(text):
        return text
    out: list[str] = []
    carries = False  # the last character out can take a combining mark
    marks = 0
    pos = 0
    for found in _NEEDS_LOOK.finditer(text):
        start = found.start()
        if start > pos:
            out.append(text[pos:start])
            carries, marks = not text[start - 1].isspace(), 0
        pos = start + 1
        becomes, is_mark = _disposition(text[start])
        if is_mark:
            if carries and marks < MAX_MARKS:
                out.append(becomes)
                marks += 1
        elif becomes:
            out.append(becomes)
            carries, marks = not becomes[-1].isspace(), 0
        # A dropped character leaves no trace: a mark after it sits on what came before.
    if pos < len(text):
        out.append(text[pos:])
    return "".join(out)


def _sanitise(text: str) -> str:
    if not isinstance(text, str):
        text = str(text)
    return _normalise(_ESCAPES.sub("", text))


def clean(text: str | None, *, limit: int = MAX_SHOWN_CHARS) -> str:
    """``text`` safe for the terminal (see the module docstring), at most ``limit``
    characters (the last ones say it was cut). Newlines are kept."""
    if not text:
        return ""
    cut = len(text) > limit * 4
    if cut:  # look only at what could be shown: linear cost whatever the input size
        text = text[: limit * 4]
    text = _sanitise(text)
    if len(text) > limit:
        cut = True
    if cut:
        marker = TRUNCATED if limit >= 100 else "…"
        text = text[: max(0, limit - len(marker))] + marker
    return text


def one_line(text: str | None, *, limit: int = 400) -> str:
    """Clean ``text`` and fold all whitespace, for previews, names and list rows."""
    return _SPACES.sub(" ", clean(text, limit=limit)).strip()


def fit(text: str, width: int, ellipsis: str = "…") -> str:
    """At most ``width`` terminal cells of ``text`` (cleaned, on one line), CJK-safe (a
    wide character never gets split in half), ending in ``ellipsis`` when cut."""
    if width <= 0 or not text:
        return ""
    bound = width * 4 + 64  # wider than any row, whatever the zero-width junk
    cut = len(text) > bound
    text = _sanitise(text[:bound] if cut else text).replace("\n", " ")
    if not cut and cell_len(text) <= width:
        return text
    budget = width - cell_len(ellipsis)
    if budget < 0:
        return ""
    out: list[str] = []
    used = 0
    for ch in text:  # additive: the model leaves no joiner or selector that widens a neighbour
        w = cell_len(ch)
        if used + w > budget:
            break
        out.append(ch)
        used += w
    return "".join(out) + ellipsis


def pad(text: str, width: int) -> str:
    """``text`` in exactly ``width`` cells (fitted, then padded with spaces)."""
    text = fit(text, width)
    return text + " " * max(0, width - cell_len(text))


def same_cells(text: str) -> str:
    """The width model with Rich's cell count of ``text`` kept exactly (padded or cut
    to it), for text already laid out: the last line of defence before the terminal."""
    if not _NEEDS_LOOK.search(text) and "\n" not in text:
        return text
    safe = _sanitise(text).replace("\n", "")
    cells = cell_len(text)
    return safe if cell_len(safe) == cells else set_cell_size(safe, cells)


def kept(ch: str) -> bool:
    """Does the width model let ``ch`` through as it is (a combining mark: where it
    has a character to sit on)? Anything else must never reach a terminal."""
    return _disposition(ch)[0] == ch


# --- machine output -------------------------------------------------------------------

#: What ``json.dumps(ensure_ascii=False)`` leaves raw and a terminal would act on or hide:
#: DEL and C1, format characters (bidi controls, zero-width, tags), line separators, surrogates.
_JSON_RAW = re.compile(
    "[\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e007f]"
)


def _json_escape(found: re.Match[str]) -> str:
    cp = ord(found.group())
    if cp > 0xFFFF:  # JSON escapes are UTF-16: a surrogate pair
        cp -= 0x10000
        return f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}"
    return f"\\u{cp:04x}"


def json_dumps(value, **options) -> str:
    """``json.dumps`` with readable CJK (``ensure_ascii=False``) and every character a
    terminal would act on, or hide, escaped as ``\\uXXXX``: the output is lossless
    (``json.loads`` gives back the same text) and inert when printed."""
    return _JSON_RAW.sub(_json_escape, json.dumps(value, ensure_ascii=False, **options))


_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def inert(text: str | None) -> str:
    """``text`` with nothing a terminal acts on – escapes, controls (not ``\\t``/``\\n``),
    bidi controls – and lone surrogates replaced; otherwise as it was. For machine
    output (CSV) that must stay faithful yet harmless when printed."""
    if not text:
        return ""
    text = _CONTROLS.sub("", _ESCAPES.sub("", text))
    return _SURROGATES.sub(REPLACEMENT, _BIDI.sub("", text))


#: What nobody can see, so nobody can knowingly edit: zero-width spaces, bidi marks, soft
#: hyphen, fillers, tags (hidden ASCII). Not the joiner and selectors that make an emoji.
_UNSEEN = re.compile(
    "[\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b\u200c\u2060-\u206f\u3164\ufeff"
    "\uffa0\ufff0-\ufffb\U000e0000-\U000e0fff]"
)


def editable(text: str | None, *, limit: int = 2000) -> str:
    """:func:`inert` text on one line without what nobody can see, for a field the agent
    edits and then sends (an address, the handoff message): the customer gets the very
    emoji that were there (the screen applies the width model when it draws them)."""
    return _SPACES.sub(" ", _UNSEEN.sub("", inert((text or "")[:limit]))).strip()
