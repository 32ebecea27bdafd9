"""What an agent types into Find: words to look for, and filters written into the query.

    退款 到账                     messages holding both words (any order, anywhere)
    "退款 到账"                   the phrase, space included
    地址 from:2026-11-01 to:11-20  between two days (both included; a year may be left out)
    发票 agent:小美 group:售后      written by 小美, in 售后 conversations
    status:resolved customer:小鹿  in resolved conversations of customers matching 小鹿

``from:`` / ``to:`` take YYYY-MM-DD, MM-DD, today / 今天, yesterday / 昨天, or Nd (N days
ago); ``status:`` open, pending, snoozed, resolved (or 待处理, 挂起, 稍后, 已解决);
``agent:`` an agent's name or id; ``customer:`` anything a customer is found by (name,
pinyin, initials). A full-width colon works too (``agent：小美``). A word with a colon
whose key is none of these (``12:30``) is an ordinary word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

KEYS = ("from", "to", "agent", "group", "status", "customer")
STATUSES = {
    "open": "open", "待处理": "open", "pending": "pending", "挂起": "pending",
    "snoozed": "snoozed", "稍后": "snoozed", "resolved": "resolved", "已解决": "resolved",
}
_TOKEN = re.compile(r'(?:(\w+)[:：])?(?:"([^"]*)"?|(\S+))')
_DAY = re.compile(r"(?:(\d{4})[-/.])?(\d{1,2})[-/.](\d{1,2})")
_DAYS_AGO = re.compile(r"(\d{1,4})d")


@dataclass(frozen=True)
class Query:
    text: str
    words: tuple[str, ...] = ()
    since: float | None = None
    until: float | None = None
    agent: str | None = None
    group: str | None = None
    status: str | None = None
    customer: str | None = None
    #: Filters that could not be read, each as typed (shown to the agent, never dropped silently).
    problems: tuple[str, ...] = field(default=())

    @property
    def filtered(self) -> bool:
        """Any filter at all: then only messages are listed (customers and orders are
        found by words alone)."""
        return any(v is not None for v in (self.since, self.until, self.agent, self.group, self.status,
                                           self.customer))

    @property
    def empty(self) -> bool:
        return not self.words and not self.filtered


def _midnight(day: date) -> float:
    return datetime(day.year, day.month, day.day).timestamp()


def _day(value: str, today: date) -> date | None:
    v = value.lower()
    if v in ("today", "今天"):
        return today
    if v in ("yesterday", "昨天"):
        return today - timedelta(days=1)
    m = _DAYS_AGO.fullmatch(v)
    if m:
        return today - timedelta(days=int(m.group(1)))
    m = _DAY.fullmatch(v)
    if not m:
        return None
    try:
        return date(int(m.group(1)) if m.group(1) else today.year, int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def parse(text: str, now: float) -> Query:
    """Read ``text`` (local days, against ``now``)."""
    today = date.fromtimestamp(now)
    words: list[str] = []
    values: dict[str, object] = {}
    problems: list[str] = []
    for m in _TOKEN.finditer(text):
        key, quoted, plain = m.group(1), m.group(2), m.group(3)
        value = quoted if quoted is not None else plain
        k = key.lower() if key else None
        if k not in KEYS:
            words.append(m.group(0) if key else value)  # "12:30" stays a word
            continue
        if not value:
            problems.append(m.group(0))
        elif k in ("from", "to"):
            day = _day(value, today)
            if day is None:
                problems.append(m.group(0))
            elif k == "from":
                values["since"] = _midnight(day)
            else:
                values["until"] = _midnight(day + timedelta(days=1))
        elif k == "status":
            status = STATUSES.get(value.lower())
            if status is None:
                problems.append(m.group(0))
            else:
                values["status"] = status
        else:
            values[k] = value
    return Query(text=text, words=tuple(w for w in words if w.strip()), problems=tuple(problems),
                 **values)  # type: ignore[arg-type]
