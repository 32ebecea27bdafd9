"""Pinyin keys: one syllable per Han character, computed once and cached.

pypinyin reads a phrase as a whole (行长 → hang zhang) but never across a non-Han
character, so a maximal run of Han characters is the unit of work and of caching: the
same run in a thousand replies costs one lookup. The cache table lives in SQLite
(:mod:`agentdesk.store.quickreplies`); computing is ~12 µs a character, which is why
startup reads keys and never recomputes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def han_runs(texts: Iterable[str]) -> set[str]:
    runs: set[str] = set()
    for text in texts:
        runs.update(HAN.findall(text))
    return runs


def compute(runs: Iterable[str]) -> dict[str, str]:
    """Syllables for each run, space-separated, one per character (toneless, ü as v)."""
    from pypinyin import Style, lazy_pinyin  # ~180 ms to import: only when needed

    out: dict[str, str] = {}
    for run in runs:
        syllables = lazy_pinyin(run, style=Style.NORMAL, errors=lambda s: [""] * len(s))
        if len(syllables) != len(run):  # never seen; keep alignment whatever happens
            syllables = (syllables + [""] * len(run))[: len(run)]
        out[run] = " ".join(s.lower() for s in syllables)
    return out


class Syllables:
    """Per-character syllables for any text, from a run → syllables mapping."""

    def __init__(self, keys: dict[str, str]) -> None:
        self.keys = keys

    def of(self, text: str) -> list[str]:
        out = [""] * len(text)
        for m in HAN.finditer(text):
            syl = self.keys.get(m.group(0))
            if syl is None:
                continue
            for i, s in enumerate(syl.split(" ")):
                out[m.start() + i] = s
        return out


def spellings(text: str, syllables: list[str]) -> tuple[str, str]:
    """(full pinyin, initials) of ``text`` given its per-character ``syllables`` (from
    :meth:`Syllables.of`): 阿杰 → ("ajie", "aj"), "a02 小美" → ("a02xiaomei", "a02xm").
    Other letters and digits count as themselves in both; anything else is dropped."""
    full, initials = [], []
    for ch, syl in zip(text, syllables):
        if syl:
            full.append(syl)
            initials.append(syl[0])
        elif ch.isascii() and ch.isalnum():
            full.append(ch.lower())
            initials.append(ch.lower())
    return "".join(full), "".join(initials)
