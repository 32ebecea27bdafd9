"""Customer text is hostile: make it safe to put on a terminal.

Everything a customer (or a server) wrote passes through :func:`clean` before it is
shown. It removes whole escape sequences (not just the ESC byte, which would leave
``[2J`` behind), C0/C1 control characters, bidi overrides that reorder what the agent
reads, and zero-width characters that hide text. Callers then wrap the result in
``rich.text.Text`` – never in markup – so ``[bold]`` stays literal.
"""

from __future__ import annotations

import re

from rich.cells import cell_len

# CSI (ESC [ … final), OSC (ESC ] … BEL/ST), DCS/SOS/PM/APC (ESC P/X/^/_ … ST), and
# two-byte escapes. Also the 8-bit C1 forms of CSI (0x9b) and OSC (0x9d).
_ESCAPES = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]            # CSI
  | (?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?   # OSC, to BEL or ST (or end)
  | \x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?      # DCS / SOS / PM / APC
  | \x1b(?:[ -/]*[0-~])?                         # nF / Fp / Fe / Fs escapes (ESC ( B, ESC 7), or a lone ESC
    """,
    re.VERBOSE,
)
# C0 except \t and \n, DEL, C1; bidi embeddings/overrides/isolates and marks;
# zero-width space/joiners, word joiner, BOM; line/paragraph separators.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u2028\u2029]"
)
_SPACES = re.compile(r"\s+")

#: Longest body shown in the thread; a 1 MB paste would otherwise cost seconds to lay out.
MAX_SHOWN_CHARS = 4000


def clean(text: str | None, *, limit: int = MAX_SHOWN_CHARS) -> str:
    """Return ``text`` with escapes and invisible characters removed, tabs expanded
    and at most ``limit`` characters (a marker says when it was cut)."""
    if not text:
        return ""
    cut = len(text) > limit * 4
    if cut:  # strip only what could be shown: linear cost whatever the input size
        text = text[: limit * 4]
    text = _INVISIBLE.sub("", _ESCAPES.sub("", text)).replace("\t", "    ")
    if len(text) > limit:
        text, cut = text[:limit], True
    return text + " …[truncated]" if cut else text


def one_line(text: str | None, *, limit: int = 400) -> str:
    """Clean ``text`` and fold all whitespace, for previews and list rows."""
    return _SPACES.sub(" ", clean(text, limit=limit)).strip()


def fit(text: str, width: int, ellipsis: str = "…") -> str:
    """Truncate to at most ``width`` terminal cells, CJK-safe (a wide character
    never gets split in half), adding ``ellipsis`` when cut."""
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    budget = width - cell_len(ellipsis)
    out: list[str] = []
    used = 0
    for ch in text:
        w = cell_len(ch)
        if used + w > budget:
            break
        out.append(ch)
        used += w
    return "".join(out) + ellipsis


def pad(text: str, width: int) -> str:
    """Fit ``text`` into exactly ``width`` cells (truncate, then pad with spaces)."""
    text = fit(text, width)
    return text + " " * (width - cell_len(text))
