"""Routing words and complaint signals, read from the settings once.

Customers type on phone keyboards that switch between full- and half-width forms
(``！`` vs ``!``, ``１２３１５`` vs ``12315``) and mixed case, so every configured word is
compiled into a pattern that accepts either width of each character, case-insensitively.
Matching the raw text that way (instead of normalising every message first) keeps the
common case – a message with no signal at all – to one regex search: triage runs this
over every new customer message.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from agentdesk.config import Settings
from agentdesk.models import PRIORITIES

#: Full-width forms U+FF01..U+FF5E are ASCII ! .. ~ shifted by this much.
_FULL_WIDTH_SHIFT = 0xFEE0


def _char(ch: str) -> str:
    """A pattern for one character that also accepts its other width and case (spelled
    out as a class: cheaper than re.IGNORECASE on every message)."""
    if "!" <= ch <= "~":
        forms = dict.fromkeys((ch.lower(), ch.upper()))
        forms.update(dict.fromkeys(chr(ord(f) + _FULL_WIDTH_SHIFT) for f in list(forms)))
        return "[" + "".join(re.escape(f) for f in forms) + "]"
    if ch == " ":
        return "[ \u3000]"
    return re.escape(ch.lower()) if ch.lower() == ch.upper() else f"[{re.escape(ch.lower())}{re.escape(ch.upper())}]"


def word_pattern(word: str) -> str:
    """The width- and case-insensitive pattern of a configured word (itself typed in
    either width or case: it is NFKC-normalised and lower-cased first)."""
    return "".join(_char(ch) for ch in unicodedata.normalize("NFKC", word.strip()).lower())


def _compile(words: tuple[str, ...]) -> tuple[tuple[str, re.Pattern], ...]:
    """(word as configured, its pattern), without blanks or duplicates."""
    seen: dict[str, str] = {}
    for word in words:
        if word.strip():
            seen.setdefault(word_pattern(word), word.strip())
    return tuple((original, re.compile(p)) for p, original in seen.items())


def _any(patterns: list[str]) -> re.Pattern | None:
    """One alternation: a single scan rules most messages out."""
    return re.compile("|".join(patterns)) if patterns else None


@dataclass(frozen=True)
class Rules:
    after_sale: tuple[str, ...] = ()
    complaint_route: tuple[str, ...] = ()
    complaint_words: tuple[str, ...] = ()
    #: Minimum length of a run of ! ? (either width) that counts as anger.
    repeated_marks: int = 3
    #: Move newly flagged conversations to 客诉.
    move: bool = True
    #: Priority (0..3) a moved conversation gets at least.
    priority: int = PRIORITIES["high"]
    _compiled: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        c = settings.complaints
        return cls(
            after_sale=settings.routing.after_sale,
            complaint_route=settings.routing.complaint,
            complaint_words=c.words,
            repeated_marks=c.repeated_marks,
            move=c.move,
            priority=PRIORITIES[c.priority],
        )

    def __post_init__(self) -> None:
        words = _compile(self.complaint_words)
        marks = f"[!！?？]{{{self.repeated_marks},}}"
        self._compiled.update(
            after_sale=_any([word_pattern(w) for w in self.after_sale if w.strip()]),
            route_complaint=_any([word_pattern(w) for w in self.complaint_route if w.strip()]),
            words=words,
            marks=re.compile(marks),
            any_signal=_any([p.pattern for _, p in words] + [marks]),
        )

    def classify(self, text: str) -> str:
        """The group a message belongs to: 客诉 over 售后 over 售前 (a customer who
        threatens a bad review about a refund is a complaint first)."""
        route_complaint, after_sale = self._compiled["route_complaint"], self._compiled["after_sale"]
        if route_complaint is not None and route_complaint.search(text):
            return "客诉"
        if after_sale is not None and after_sale.search(text):
            return "售后"
        return "售前"

    def has_signal(self, text: str) -> bool:
        """Whether :meth:`complaint_signals` would find anything (one regex search)."""
        return self._compiled["any_signal"].search(text) is not None

    def complaint_signals(self, text: str) -> tuple[str, ...]:
        """The complaint words found (as configured, in configured order), then each run
        of repeated marks as typed (e.g. ``"！！！"``). Empty: no signal."""
        c = self._compiled
        if not self.has_signal(text):
            return ()
        found = [original for original, pattern in c["words"] if pattern.search(text)]
        found.extend(m.group(0) for m in c["marks"].finditer(text))
        return tuple(found)
