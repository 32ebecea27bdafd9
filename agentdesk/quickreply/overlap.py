"""Replies ranked by what they share with a customer's own words, when no reply holds
the words as typed: ``退款多久到账`` → 退款到账, ``快递单号`` → 物流单号, ``damged item``
→ 破损处理.

Each reply is a bag of *units*: its pairs of adjacent Han characters (Chinese words are
mostly two characters) and its Latin words (the reply id's English words too:
``aftersale-damaged``); its title and tags also by single characters and the pinyin of
each pair (a homophone typo, 退宽, still meets 退款). A query is cut the same way; a Latin word not in the library
counts as its closest words (rapidfuzz, so ``damged`` is ``damaged``), and a word of a
synonym group (:mod:`agentdesk.quickreply.synonyms`) brings the group's other words.
Scores are BM25 (k1 1.2, b 0.75): a unit found in few replies counts much more than one
in many, and the title and tags count twice the body.

Bounded per keystroke at any library size: units in more than a quarter of the replies
are skipped (they tell nothing apart), each unit's postings are ordered by their
contribution and kept :data:`KEEP` deep, a query reads :data:`BUDGET` entries over all
its units (rare ones deeper), and the units of a query are cached.
"""

from __future__ import annotations

import heapq
import math
import re
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from agentdesk.quickreply.library import Reply
from agentdesk.quickreply.pinyin import HAN
from agentdesk.quickreply.synonyms import Group

K1, B = 1.2, 0.75
#: How much each kind of unit of the query weighs.
WEIGHTS = {"w": 1.0, "c": 0.35, "p": 0.45, "l": 1.0}
#: A synonym's units count this much of the word the query held.
SYNONYM = 0.75
#: Entries kept per unit (its best-scoring replies), and read per query over all its
#: units: each unit gets a share by how much it can add (rare units read deeper).
KEEP = 3000
BUDGET = 6000
_LATIN = re.compile(r"[a-z0-9]+")
_TITLE_WEIGHT = 2.0


@dataclass(frozen=True)
class Partial:
    index: int  # into the library's replies
    score: float
    #: The query's words found in the reply (to highlight).
    words: tuple[str, ...]


def _units(text: str, syllables: Callable[[str], list[str]] | None, weight: float, out: dict[str, float]) -> None:
    """Add the units of ``text`` to ``out``; without ``syllables`` only its pairs and Latin
    words (a body: its single characters and their pinyin would only add noise and bulk)."""
    low = text.lower()
    syl = syllables(low) if syllables is not None and HAN.search(low) else None
    for m in HAN.finditer(low):
        run, start = m.group(0), m.start()
        for i, ch in enumerate(run):
            if syl is not None:
                key = "c" + ch
                out[key] = out.get(key, 0.0) + weight
            if i + 1 < len(run):
                key = "w" + run[i : i + 2]
                out[key] = out.get(key, 0.0) + weight
                if syl is not None and syl[start + i] and syl[start + i + 1]:
                    key = f"p{syl[start + i]} {syl[start + i + 1]}"
                    out[key] = out.get(key, 0.0) + weight
    for word in _LATIN.findall(low):
        if len(word) >= 2:
            out["l" + word] = out.get("l" + word, 0.0) + weight


class OverlapIndex:
    def __init__(self, replies: Sequence[Reply], syllables: Callable[[str], list[str]],
                 synonyms: Iterable[Group] = ()) -> None:
        self.replies = replies
        self._syllables = syllables
        # One pass: every reply's units straight into per-unit (reply, weighted count)
        # arrays (a library of 100k replies holds millions: no per-reply dicts kept).
        docs: dict[str, array] = defaultdict(lambda: array("i"))
        tfs: dict[str, array] = defaultdict(lambda: array("f"))
        lengths = array("f")
        self._chars: dict[str, str] = {}  # Han character -> a syllable seen for it in the library
        for i, r in enumerate(replies):
            units: dict[str, float] = {}
            _units(r.title + " " + " ".join(r.tags), syllables, _TITLE_WEIGHT, units)
            _units(r.id.replace("-", " ").replace("_", " "), None, 1.0, units)
            _units(r.body, None, 1.0, units)
            for u, tf in units.items():
                docs[u].append(i)
                tfs[u].append(tf)
            lengths.append(sum(units.values()))
        n = len(replies) or 1
        self.n = n
        avg = sum(lengths) / n or 1.0
        common = max(3, n // 4)
        self._postings: dict[str, tuple[array, array]] = {}
        for u, ds in docs.items():
            df = len(ds)
            if df > common:  # in most replies: tells nothing apart
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            entries = sorted(((idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths[i] / avg)), i)
                              for i, tf in zip(ds, tfs[u])), reverse=True)[:KEEP]
            self._postings[u] = (array("i", (i for _, i in entries)), array("f", (s for s, _ in entries)))
        del docs, tfs
        self._latin = sorted({u[1:] for u in self._postings if u[0] == "l"})
        self._syllable_set = {s for u in self._postings if u[0] == "p" for s in u[1:].split(" ")}
        for r in replies[:5000]:  # enough of the library to know how it reads its characters
            text = r.title + r.body
            for ch, syl in zip(text, syllables(text)):
                if syl:
                    self._chars.setdefault(ch, syl)
        self._groups = [tuple(w.lower() for w in g) for g in synonyms]
        self._cache: dict[str, dict[str, float]] = {}

    # -- the query ---------------------------------------------------------------------

    def _query_syllables(self, run: str) -> list[str]:
        """Pinyin of a query's run: the library's own keys, else each character as the
        library reads it (a query is never sent to pypinyin: that costs a frame)."""
        known = self._syllables(run)
        return [k or self._chars.get(ch, "") for k, ch in zip(known, run)]

    def query_units(self, text: str) -> dict[str, float]:
        """The weighted units of a query (synonyms and Latin typos included)."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        low = text.lower()
        units: dict[str, float] = {}
        _units(low, self._query_syllables, 1.0, units)
        for word in _LATIN.findall(low):
            if len(word) >= 3 and "l" + word not in self._postings:
                self._latin_units(word, units)
        for group in self._groups:
            held = [w for w in group if _holds(low, w)]
            if held:
                for other in group:
                    if other not in held:
                        extra: dict[str, float] = {}
                        _units(other, self._query_syllables, SYNONYM, extra)
                        for u, w in extra.items():
                            units[u] = max(units.get(u, 0.0), w)
        weighted = {u: w * WEIGHTS[u[0]] for u, w in units.items() if u in self._postings}
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[text] = weighted
        return weighted

    def _latin_units(self, word: str, units: dict[str, float]) -> None:
        """A word the library does not have: its closest words, and read as pinyin."""
        from rapidfuzz import fuzz, process

        for alt, score, _ in process.extract(word, self._latin, scorer=fuzz.ratio, score_cutoff=75, limit=2):
            units["l" + alt] = max(units.get("l" + alt, 0.0), score / 100)
        syl = _segment(word, self._syllable_set)
        for a, b in zip(syl, syl[1:]):
            units[f"p{a} {b}"] = max(units.get(f"p{a} {b}", 0.0), 1.0)

    # -- ranking -----------------------------------------------------------------------

    def scores(self, text: str) -> dict[int, float]:
        units = self.query_units(text)
        postings = self._postings
        # A unit's share of the budget follows its best contribution (weight × top impact).
        tops = {u: w * postings[u][1][0] for u, w in units.items()}
        total = sum(tops.values()) or 1.0
        acc: dict[int, float] = defaultdict(float)
        for unit, weight in units.items():
            docs, impact = postings[unit]
            depth = min(len(docs), max(50, int(BUDGET * tops[unit] / total)))
            for k in range(depth):
                acc[docs[k]] += weight * impact[k]
        return acc

    def rank(self, text: str, limit: int, *, exclude: set[int] = frozenset(),  # type: ignore[assignment]
             boost: Callable[[int], float] | None = None) -> list[Partial]:
        """The ``limit`` best replies sharing units with ``text`` (not in ``exclude``)."""
        acc = self.scores(text)
        for i in exclude:
            acc.pop(i, None)
        if boost is not None:
            for i in acc:
                acc[i] += boost(i)
        best = heapq.nlargest(limit, acc.items(), key=lambda kv: kv[1])
        words = self._words(text)
        return [Partial(i, s, words) for i, s in best if s > 0]

    def _words(self, text: str) -> tuple[str, ...]:
        """What to highlight: the query's Han pairs and Latin words, and its synonyms'."""
        units = self.query_units(text)
        return tuple(u[1:] for u in units if u[0] in "wl")


def _holds(text: str, word: str) -> bool:
    if _LATIN.fullmatch(word):
        return word in _LATIN.findall(text)
    return word in text


def _segment(word: str, syllables: set[str]) -> list[str]:
    """Greedy longest-first split of typed letters into known syllables ("kuaidi" →
    kuai di); [] when it does not split."""
    out: list[str] = []
    i = 0
    while i < len(word):
        for j in range(min(len(word), i + 6), i, -1):
            if word[i:j] in syllables:
                out.append(word[i:j])
                i = j
                break
        else:
            return []
    return out
