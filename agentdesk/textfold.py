"""Case- and width-insensitive text: how Find compares what is typed with what is stored.

Each character on its own goes through NFKC and casefold (Ａ → a, １ → 1, ㎏ → kg,
ß → ss). Per character, so the fold of a substring is a substring of the folded text:
a literal substring of a message is always found, whatever its length.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

_ASTRAL = "\U00010000-\U0010ffff"
_table: dict[str, str] = {}
_changing: re.Pattern | None = None


def _fold_char(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).casefold()


def prepare() -> None:
    """Build the folding table now (a writer calls this before its first transaction)."""
    _pattern()


def _pattern() -> re.Pattern:
    """One character class of every character of the Basic Multilingual Plane that folds
    to something else (upper case, full-width forms, ㎏…), and every character beyond it
    (folded one by one): the regex engine skips the rest of a text at C speed. Built on
    first use (~40 ms)."""
    global _changing
    if _changing is None:
        ranges: list[list[int]] = []
        for code in range(0x10000):
            if 0xD800 <= code < 0xE000:
                continue
            ch = chr(code)
            folded = _fold_char(ch)
            if folded != ch:
                _table[ch] = folded
                if ranges and ranges[-1][1] == code - 1:
                    ranges[-1][1] = code
                else:
                    ranges.append([code, code])
        body = "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges)
        _changing = re.compile(f"[{body}{_ASTRAL}]")
    return _changing


def _replace(m: re.Match) -> str:
    ch = m.group(0)
    folded = _table.get(ch)
    return folded if folded is not None else _fold_char(ch)


def fold(text: str) -> str:
    """Case- and width-insensitive form, character by character (see the module doc)."""
    return (_changing or _pattern()).sub(_replace, text)


def fold_terms(words: Iterable[str]) -> tuple[str, ...]:
    """The folded, non-empty, distinct terms of a query; a term inside another is
    dropped (every text containing the longer one contains it)."""
    out: list[str] = []
    for word in words:
        term = fold(word).strip()
        if term and term not in out:
            out.append(term)
    return tuple(t for t in out if not any(t != o and t in o for o in out))


def contains_all(folded: str, terms: Sequence[str]) -> bool:
    return all(t in folded for t in terms)


def spans(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Where ``terms`` (folded) occur in ``text`` (as written), merged, in order: what to
    highlight. Positions map back through the fold, so Ａ is marked when ``a`` matched."""
    if not terms or not text:
        return []
    origin: list[int] = []
    parts: list[str] = []
    for i, ch in enumerate(text):
        f = fold(ch)
        parts.append(f)
        origin.extend([i] * len(f))
    folded = "".join(parts)
    found: list[tuple[int, int]] = []
    for term in terms:
        start = folded.find(term)
        while start >= 0:
            end = start + len(term)
            found.append((origin[start], origin[end - 1] + 1))
            start = folded.find(term, start + 1)
    found.sort()
    merged: list[tuple[int, int]] = []
    for a, b in found:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged
