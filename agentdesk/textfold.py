"""Case- and width-insensitive text: how Find compares what is typed with what is stored.

Each character on its own goes through NFKC and casefold (Ａ → a, １ → 1, ㎏ → kg,
ß → ss). Per character, so the fold of a substring is a substring of the folded text:
a literal substring of a message is always found, whatever its length.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

#: Characters whose fold is remembered (every script a shop sees fits many times over).
_FOLD_CACHE = 200_000


class _Fold(dict):
    """code point -> its fold, computed on first sight (``str.translate`` reads it)."""

    def __missing__(self, code: int) -> str:
        value = unicodedata.normalize("NFKC", chr(code)).casefold()
        if len(self) < _FOLD_CACHE:
            self[code] = value
        return value


_FOLD = _Fold()


def fold(text: str) -> str:
    """Case- and width-insensitive form, character by character (see the module doc)."""
    return text.translate(_FOLD)


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
        f = _FOLD[ord(ch)]
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
