"""Searching the reply library the way Chinese agents type.

One query matches characters (退款), full pinyin (tuikuan), initials (tk), any mix of
them (退k, tuik, tkuan), shortcodes (tk7) and Latin words, with typos forgiven on Latin
text. The whole rule is one regular expression over a per-reply *stream*: every character
becomes a unit ``|`` + its syllable + char (``|tui退|kuan款``, ``|v|i|p``); a run of typed
letters must match consecutive units, each unit taking a prefix of its syllable. Syllable
first means every Latin pattern starts with a literal (``|t``) that the regex engine
scans for at C speed.

Per keystroke the work is bounded, so a 100k-reply library stays inside one frame:

* **prefilter** – postings by the first two letters of a unit's key and by the pair of
  initials of two adjacent units (any match of ``tk…`` is in one of the two lists), and by
  Han character; a single letter looks only at shortcodes and title starts;
* **narrowing** – when the query extends the previous one, only the previous survivors
  (and what was not yet examined) are checked again;
* **early stop** – candidates are examined in library order until ``enough`` match; the
  survivors are scored (field, position, frecency, the conversation's context) and the
  best are returned with the matched characters to highlight.

When fewer replies match than asked for, the rest are ranked by what they share with
the query – characters, pinyin, words, the trade's synonyms, BM25-weighted – and come
after, marked ``partial`` (:mod:`agentdesk.quickreply.overlap`). The suggestions over a
customer's message use that same ranking.
"""

from __future__ import annotations

import heapq
import math
import re
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain

from agentdesk.quickreply.library import Reply
from agentdesk.quickreply.overlap import OverlapIndex
from agentdesk.quickreply.pinyin import HAN
from agentdesk.quickreply.synonyms import Group

FIELDS = ("shortcode", "title", "tags", "body")
_TIER = {"shortcode": 600.0, "title": 300.0, "tags": 220.0, "body": 100.0}
#: A reply holding the query as typed (in its body) counts this share of the best
#: shared-words score more than one that only shares words (see ``_with_partial``).
LITERAL_BONUS = 0.3
_LATIN = re.compile(r"[a-z0-9]+")
#: Which reply categories suit a conversation group (context boost).
GROUP_CATEGORIES = {
    "售前": ("售前", "活动与优惠", "通用"),
    "售后": ("售后", "物流"),
    "客诉": ("投诉安抚", "售后"),
}


@dataclass(frozen=True)
class Hit:
    reply: Reply
    score: float
    field: str
    #: Matched character ranges, per field ("title", "body", "tags", "shortcode").
    spans: dict[str, tuple[tuple[int, int], ...]]
    typo: bool = False
    #: Found by shared words (characters, pinyin, synonyms), not by the query as typed.
    partial: bool = False


@dataclass(frozen=True)
class Context:
    """What the open conversation tells the ranking."""

    group: str = ""
    last_message: str = ""


@dataclass
class _State:
    query: str
    matched: list[int]
    pending: Iterator[int]
    remaining: int = 0  # how many candidates ``pending`` may still hold


@dataclass
class Stats:
    """What the last search did (for the benchmark and tests)."""

    candidates: int = 0
    examined: int = 0
    narrowed: bool = False
    typo: bool = False
    complete: bool = True


class ReplyIndex:
    """An immutable index over one merged library; usage and context only re-rank."""

    def __init__(
        self,
        replies: list[Reply],
        syllables: Callable[[str], list[str]],
        *,
        usage: dict[str, float] | None = None,
        enough: int = 80,
        budget: int = 2500,
        synonyms: Iterable[Group] = (),
    ) -> None:
        self.replies = replies
        self.usage = usage or {}
        self.enough = enough
        self.budget = budget
        self.streams: list[str] = []
        self.offsets: list[tuple[int, int, int, int]] = []  # field starts, in units
        self.field_at: list[tuple[int, int, int, int]] = []  # field starts, in stream positions
        # Signatures: the two ways the first 2 typed letters can start a match at a unit,
        # its key's first two letters ("tu" of tui) or two units' initials ("tk").
        self._sig2: dict[str, array] = defaultdict(lambda: array("i"))
        self._word_sigs: dict[tuple[str, ...], frozenset[str]] = {}
        self._han: dict[str, array] = defaultdict(lambda: array("i"))
        self._first: dict[str, array] = defaultdict(lambda: array("i"))
        self._state: _State | None = None
        self.stats = Stats()
        vocab: set[str] = set()
        for i, r in enumerate(replies):
            self._add(i, r, syllables, vocab)
        self._vocab = sorted(vocab)
        self.overlap = OverlapIndex(replies, syllables, synonyms)
        self._position = {r.id: i for i, r in enumerate(replies)}
        self._suggested: dict[str, dict[int, float]] = {}
        self._last: list[tuple[int, int]] = []

    # -- building ---------------------------------------------------------------------

    def _add(self, i: int, r: Reply, syllables: Callable[[str], list[str]], vocab: set[str]) -> None:
        fields = (r.shortcode, r.title, " ".join(r.tags), r.body)
        text = _fold("\x1f".join(fields))
        starts, pos = [], 0
        for f in fields:
            starts.append(pos)
            pos += len(f) + 1
        self.offsets.append(tuple(starts))  # type: ignore[arg-type]
        syl = syllables(text)
        keys = [s or ch for ch, s in zip(text, syl)]
        stream = "".join(f"|{s}{ch}" for ch, s in zip(text, syl)) + "|"
        self.streams.append(stream)
        self.field_at.append(tuple(_nth_bar(stream, u) for u in starts))  # type: ignore[arg-type]
        sigs: set[str] = set()
        han: set[str] = set()
        word: list[str] = []
        cache = self._word_sigs
        for ch, k in zip(text, keys):
            if ch in _BREAKS:  # no match spans a field boundary or a space
                if word:
                    sigs |= _signatures(tuple(word), cache)
                    word = []
                continue
            word.append(k)
            if "\u3400" <= ch <= "\u9fff":
                han.add(ch)
        if word:
            sigs |= _signatures(tuple(word), cache)
        for k in sigs:
            self._sig2[k].append(i)
        for k in han:
            self._han[k].append(i)
        title_keys = keys[starts[1] : starts[1] + len(r.title)]
        firsts = {title_keys[0][0]} if title_keys else set()
        if r.shortcode:
            firsts.add(r.shortcode[0].lower())
        for k in firsts:
            self._first[k].append(i)
        vocab.update(_LATIN.findall(text))
        for part in (r.title, *r.tags):  # whole words, so "tuikaun" finds tuikuan
            for run in HAN.findall(part):
                vocab.add("".join(syllables(run)))

    # -- searching --------------------------------------------------------------------

    def search(self, query: str, *, limit: int = 20, context: Context | None = None) -> list[Hit]:
        q = " ".join(_fold(query).split())
        self.stats = Stats()
        if not q:
            self._state = None
            return self._browse(limit, context)
        found = self._matches(q)
        hits = self._rank(found, q, context, typo=False)
        if len(hits) < 5 and len(q) >= 4 and _LATIN.fullmatch(q.replace(" ", "")):
            seen = {i for i, _, _ in hits}
            for alt in self._corrections(q):
                if alt == q:
                    continue
                self.stats.typo = True
                more = self._scan(alt, self._candidates(alt)[1], record=False, enough=limit, budget=800)
                hits.extend(h for h in self._rank(more, alt, context, typo=True) if h[0] not in seen)
                seen.update(i for i, _ in more)
        best = heapq.nlargest(limit, hits, key=lambda h: h[1])
        out = [self._hit(i, score, matched_query, matched_query != q) for i, score, matched_query in best]
        if len(out) < limit and not (len(q) == 1 and _LATIN.fullmatch(q)):
            return self._with_partial(q, out, limit, context)
        return out

    def _with_partial(self, q: str, found: list[Hit], limit: int, context: Context | None) -> list[Hit]:
        """Fewer matches than asked for: those in a shortcode, title or tags first; then
        the body-only and typo matches and the replies sharing words with the query,
        together by shared words (a literal match counts a bonus, :data:`LITERAL_BONUS`
        of the best score)."""
        strong = [h for h in found if h.field != "body" and not h.typo]
        weak = {self._position[h.reply.id]: h for h in found if h.field == "body" or h.typo}
        categories = GROUP_CATEGORIES.get(context.group, ()) if context else ()
        usage = self.usage

        def boost(i: int) -> float:
            r = self.replies[i]
            return (0.5 if r.category in categories else 0.0) + 0.3 * math.log2(1 + usage.get(r.id, 0.0))

        exclude = {self._position[h.reply.id] for h in strong}
        pool = self.overlap.rank(q, limit - len(strong) + len(weak), exclude=exclude, boost=boost)
        bonus = LITERAL_BONUS * max((p.score for p in pool), default=1.0)
        ranked: list[tuple[float, Hit]] = []
        for p in pool:
            if p.index in weak:
                ranked.append((p.score + bonus, weak.pop(p.index)))
            else:
                hit = Hit(self.replies[p.index], p.score, "body", self._word_spans(p.index, p.words), partial=True)
                ranked.append((p.score, hit))
        ranked.extend((bonus, h) for h in weak.values())
        ranked.sort(key=lambda e: e[0], reverse=True)
        return strong + [h for _, h in ranked[: limit - len(strong)]]

    def _word_spans(self, i: int, words: tuple[str, ...]) -> dict[str, tuple[tuple[int, int], ...]]:
        r = self.replies[i]
        spans: dict[str, tuple[tuple[int, int], ...]] = {}
        for name, text in (("title", r.title), ("body", r.body)):
            low = text.lower()
            found = sorted({(m, m + len(w)) for w in words for m in _find_all(low, w)})
            if found:
                spans[name] = tuple(found)
        return spans

    def _matches(self, q: str) -> list[tuple[int, int]]:
        prev = self._state
        if prev is not None and q == prev.query:
            return self._last
        size, candidates = self._candidates(q)
        if prev is not None and q.startswith(prev.query) and len(prev.query) > 1:
            narrowed = len(prev.matched) + prev.remaining
            if narrowed <= size:  # the survivors are the smaller set: narrow them
                self.stats.narrowed = True
                size, candidates = narrowed, chain(prev.matched, prev.pending)
        self.stats.candidates = size
        return self._scan(q, candidates, record=True, size=size)

    def _scan(
        self, q: str, candidates: Iterable[int], *, record: bool, enough: int = 0, size: int = 0,
        budget: int = 0,
    ) -> list[tuple[int, int]]:
        """(reply, stream position of the first term's first match) for candidates that
        match every term, examined in order until ``enough`` match or the budget is spent."""
        patterns = [_pattern(t) for t in q.split(" ")]
        first, rest = patterns[0].search, [p.search for p in patterns[1:]]
        streams = self.streams
        matched: list[tuple[int, int]] = []
        it = iter(candidates)
        examined = 0
        enough, budget = enough or self.enough, budget or self.budget
        for i in it:
            examined += 1
            s = streams[i]
            m = first(s)
            if m is not None and all(f(s) for f in rest):
                matched.append((i, m.start()))
                if len(matched) >= enough:
                    break
            if examined >= budget:
                self.stats.complete = False
                break
        else:
            it = iter(())
        self.stats.examined += examined
        if record:
            self._state = _State(q, [i for i, _ in matched], it, max(0, size - examined)) if len(q) > 1 else None
            self._last = matched
        return matched

    def _candidates(self, q: str) -> tuple[int, Iterable[int]]:
        if len(q) == 1 and _LATIN.fullmatch(q):
            first = self._first.get(q, array("i"))
            return len(first), first
        return min((self._postings(t) for t in q.split(" ")), key=lambda x: x[0])

    def _postings(self, term: str) -> tuple[int, Iterable[int]]:
        """A superset of the replies ``term`` can match, and its size."""
        han = [self._han.get(ch, array("i")) for ch in term if "\u3400" <= ch <= "\u9fff"]
        if han:
            best = min(han, key=len)
            return len(best), best
        m = _LATIN.match(term)
        if not m or len(m.group(0)) == 1:  # a symbol or a lone letter first: everything
            return len(self.replies), range(len(self.replies))
        run = m.group(0)
        post = self._sig2.get(run[:2], array("i"))
        return len(post), post

    def _browse(self, limit: int, context: Context | None) -> list[Hit]:
        """Empty query: what this conversation most likely needs, then the most used."""
        ranked: dict[int, float] = {}
        if context and context.last_message:
            for i, s in self._suggest_scores(context.last_message).items():
                ranked[i] = s * 10
        for rid, u in self.usage.items():
            i = self._position.get(rid)
            if i is not None:
                ranked[i] = ranked.get(i, 0.0) + 40 * math.log2(1 + u)
        order = heapq.nlargest(limit, ranked, key=ranked.__getitem__)
        rest = (i for i in range(len(self.replies)) if i not in ranked)
        while len(order) < limit:
            nxt = next(rest, None)
            if nxt is None:
                break
            order.append(nxt)
        return [Hit(self.replies[i], ranked.get(i, 0.0), "title", {}) for i in order]

    # -- ranking ----------------------------------------------------------------------

    def _rank(self, found: list[tuple[int, int]], q: str, context: Context | None, *, typo: bool) -> list[tuple[int, float, str]]:
        """(reply, score, the query it matched) from the field and position of the first match, the
        shortcode, frecency and the conversation's context."""
        out: list[tuple[int, float, str]] = []
        suggest = self._suggest_scores(context.last_message) if context and context.last_message else {}
        categories = GROUP_CATEGORIES.get(context.group, ()) if context else ()
        typed = len(q.replace(" ", ""))
        usage = self.usage
        for i, pos in found:
            r = self.replies[i]
            at = self.field_at[i]
            f = 3 if pos >= at[3] else 2 if pos >= at[2] else 1 if pos >= at[1] else 0
            score = _TIER[FIELDS[f]] + (40.0 if pos == at[f] else 0.0)
            if f == 1:
                score += 60.0 * min(1.0, typed / max(1, len(r.title)))
            code = r.shortcode
            if code and code == q:
                score += 1000.0
            elif code and code.startswith(q):
                score += 700.0 + 50.0 * typed / len(code)
            if usage:
                score += 40.0 * math.log2(1 + usage.get(r.id, 0.0))
            if r.category in categories:
                score += 30.0
            if suggest:
                score += 8.0 * suggest.get(i, 0.0)
            if typo:
                score -= 200.0
            out.append((i, score, q))
        return out

    def _hit(self, i: int, score: float, q: str, typo: bool) -> Hit:
        spans, field = self._spans(i, [_pattern(t) for t in q.split(" ")])
        return Hit(self.replies[i], score, field, spans, typo)

    def _spans(self, i: int, patterns: list[re.Pattern]) -> tuple[dict, str]:
        """Matched character ranges per field, and the best field matched."""
        stream = self.streams[i]
        starts = self.offsets[i]
        spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for p in patterns:
            for m in p.finditer(stream):
                a = stream.count("|", 0, m.start())
                b = stream.count("|", 0, m.end())
                f = _field_of(starts, a)
                spans[FIELDS[f]].append((a - starts[f], b - starts[f]))
        best_field = next((f for f in FIELDS if f in spans), "body")
        return {k: tuple(sorted(v)) for k, v in spans.items()}, best_field

    def _corrections(self, q: str) -> list[str]:
        """Latin typos: the closest words of the library (Latin words, shortcodes, the full
        pinyin of titles and tags), by rapidfuzz."""
        from rapidfuzz import fuzz, process

        found = process.extract(q, self._vocab, scorer=fuzz.ratio, score_cutoff=75, limit=2)
        return [w for w, _, _ in found]

    # -- suggestions ------------------------------------------------------------------

    def _suggest_scores(self, message: str) -> dict[int, float]:
        """Replies sharing words with the message (see :mod:`agentdesk.quickreply.overlap`)."""
        cached = self._suggested.get(message)
        if cached is not None:
            return cached
        if len(self._suggested) > 64:
            self._suggested.clear()
        self._suggested[message] = scores = dict(self.overlap.scores(message))
        return scores

    def suggest(self, message: str, *, limit: int = 3, context: Context | None = None) -> list[Hit]:
        """The replies most likely to answer a customer's message (shown above the composer)."""
        scores = self._suggest_scores(message)
        categories = GROUP_CATEGORIES.get(context.group, ()) if context else ()
        ranked = {
            i: s + (1.0 if self.replies[i].category in categories else 0.0)
            + 0.5 * math.log2(1 + self.usage.get(self.replies[i].id, 0.0))
            for i, s in scores.items()
        }
        best = heapq.nlargest(limit, ranked, key=ranked.__getitem__)
        return [Hit(self.replies[i], ranked[i], "body", {}) for i in best]

    def by_id(self, reply_id: str) -> Reply | None:
        i = self._position.get(reply_id)
        return None if i is None else self.replies[i]


_BREAKS = frozenset("\x1f \t\n")


def _find_all(text: str, word: str) -> Iterator[int]:
    start = text.find(word)
    while start >= 0 and word:
        yield start
        start = text.find(word, start + len(word))


def _fold(text: str) -> str:
    """Lower case without changing the length (so match positions map back), and no
    ``|``, which separates units in a stream."""
    low = text.lower()
    if len(low) != len(text):
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return low.replace("|", "¦")


def _signatures(word: tuple[str, ...], cache: dict) -> frozenset[str]:
    """The 2-letter starts a match can have at each unit of one word (cached: words
    repeat across a library)."""
    sigs = cache.get(word)
    if sigs is None:
        out = {k[:2] for k in word}
        out.update(a[0] + b[0] for a, b in zip(word, word[1:]))
        sigs = cache[word] = frozenset(out)
    return sigs


def _nth_bar(stream: str, n: int) -> int:
    """Position of the ``n``-th unit separator (the start of unit ``n``)."""
    pos = -1
    for _ in range(n + 1):
        pos = stream.index("|", pos + 1)
    return pos


def _field_of(starts: tuple[int, ...], unit: int) -> int:
    f = 0
    for n, s in enumerate(starts):
        if unit >= s:
            f = n
    return f


_cache: dict[str, re.Pattern] = {}


def _pattern(term: str) -> re.Pattern:
    """The stream pattern for one typed term (see the module docstring)."""
    p = _cache.get(term)
    if p is not None:
        return p
    rest_of_unit = r"[a-z]*[^\x00-\x7f|]?"  # the rest of a syllable, then its character
    parts: list[str] = []
    i = 0
    while i < len(term):
        m = _LATIN.match(term, i)
        if m:
            run = m.group(0)
            piece = r"\|" + re.escape(run[0])
            for ch in run[1:]:
                piece += r"(?:" + rest_of_unit + r"\|)?" + re.escape(ch)
            parts.append(piece)
            i = m.end()
            if i < len(term):
                parts.append(rest_of_unit)
        else:
            parts.append(r"\|[a-z]*" + re.escape(term[i]))
            i += 1
    p = re.compile("".join(parts))
    if len(_cache) > 512:
        _cache.clear()
    _cache[term] = p
    return p
