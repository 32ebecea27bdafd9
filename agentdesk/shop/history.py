"""Seven days of the demo shop's past: the service history a supervisor's 7-day KPIs
and the traffic chart (today against the 7-day average, hour by hour) are made of.

:func:`generate` is deterministic for a seed and an anchor. It covers the seven full
local days (``time.localtime``) before the anchor's day and today from 00:00 until an
hour before the anchor: 60–90 conversations a day, arriving by a shop's hourly curve
(quiet at night, peaks 9–12, 14–17 and 20–22), each of 1–4 rounds of scripted customer
lines (the simulator's dialogues) answered by an agent of the conversation's group after
a realistic delay (the simulated colleagues' :func:`reply_delay`), then resolved. About
1.5 % are complaints (客诉, priority high, a complaint tag). Every conversation belongs
to a GENERATED customer (a nickname composed from word pools): the fixture customers,
their sidebars and the open inbox stay exactly as the fixtures make them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from agentdesk.shop.bot import Bot, is_complaint, is_greeting
from agentdesk.shop.colleagues import QUIET, answer_for, reply_delay

SEED = 20261120
DAYS = 7
PER_DAY = (60, 90)  # conversations a full day
#: No round starts later than this before the anchor: with the longest reply delay and
#: quiet time after it, nothing of the history is still going on at the anchor.
TODAY_UNTIL = 3600.0
#: Relative traffic by local hour (0–23).
HOURLY = (0.6, 0.3, 0.15, 0.1, 0.1, 0.15, 0.3, 0.8, 2.0, 5.0, 6.0, 6.0, 5.0, 3.5, 5.0, 5.5, 5.5, 4.5, 3.0, 3.5,
          5.5, 6.0, 5.0, 2.5)
ROUNDS = ((1, 0.3), (2, 0.35), (3, 0.2), (4, 0.15))
COMPLAINT_SHARE = 0.015
COMPLAINT_GROUP = "客诉"
COMPLAINT_TAGS = ("投诉风险", "差评风险")
GROUP_SHARE = {"售前": 0.55, "售后": 0.45}
RETURNING = 0.25  # share of conversations from a generated customer who wrote before
NUDGES = ("在吗？？", "人呢", "？？？", "还在吗")
CUSTOMER_TYPES = (15.0, 120.0)  # seconds a customer takes to read a reply and write again
ID_PREFIX = "h"  # generated customers: h0001, h0002, … (fixture customers are c001 …)

_WHO = ("爱吃", "不吃", "想吃", "会做", "偷吃")
_FOOD = ("草莓", "香菜", "火锅", "榴莲", "芒果", "烤红薯", "螺蛳粉", "奶茶", "小龙虾", "蛋挞")
_CRITTER = ("小熊", "橘猫", "兔子", "柴犬", "松鼠", "企鹅", "仓鼠", "鲸鱼", "海豹", "考拉")
_PLACE = ("杭州", "成都", "厦门", "大理", "青岛", "长沙", "苏州", "重庆", "南京", "西安")
_PERSON = ("阿姨", "小姐姐", "老王", "阿明", "小鹿", "打工人", "宝妈", "学生党", "设计师", "程序员")
_ADJ = ("温柔的", "快乐的", "安静的", "迷路的", "睡不醒的", "早起的", "追光的", "慢吞吞的", "会发光的", "不加糖的")
_THING = ("星星", "月亮", "汽水", "云朵", "饭团", "柠檬", "布丁", "海盐", "风铃", "咸鱼")
_TAIL = ("", "", "呀", "酱", "2020", "_", "本人", "同学")
_LATIN = ("Amy", "Coco", "Lily", "Kiki", "Momo", "Vivi", "Tony", "Leo", "Jojo", "Yuki")
_LATIN_TAIL = ("在上海", "的衣橱", "爱购物", "不熬夜", "是吃货", "今天也很忙", "要减肥", "_", "小可爱", "酱")
LOCATIONS = ("浙江 杭州", "上海", "北京", "广东 深圳", "广东 广州", "江苏 南京", "江苏 苏州", "四川 成都", "湖北 武汉",
             "福建 厦门", "山东 青岛", "湖南 长沙", "陕西 西安", "重庆", "天津", "")
VIP = ((0, 0.8), (1, 0.12), (2, 0.05), (3, 0.03))


@dataclass
class History:
    """Rows for the shop database, in the seed's column orders."""

    #: (id, name, vip_level, tags JSON list, location, first_seen, updated_at, opt_out)
    customers: list[tuple] = field(default_factory=list)
    #: (id, customer_id, grp, status, snoozed_until, assignee_id, priority, tags list, order_id, stage,
    #: created_at, updated_at)
    conversations: list[tuple] = field(default_factory=list)
    #: (at, conversation_id, sender, agent_id, body), bot lines automatic
    messages: list[tuple] = field(default_factory=list)


def days(anchor: float) -> list[date]:
    """The seven local days before the anchor's day, then its day."""
    today = datetime.fromtimestamp(anchor).date()
    return [today - timedelta(days=k) for k in range(DAYS, -1, -1)]


def _local(day: date, hour: int = 0) -> float:
    return datetime(day.year, day.month, day.day, hour).timestamp()


def nickname(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice(_WHO) + rng.choice(_FOOD) + "的" + rng.choice(_CRITTER)
    if kind == 1:
        return rng.choice(_PLACE) + rng.choice(("的", "")) + rng.choice(_PERSON)
    if kind == 2:
        return rng.choice(_ADJ) + rng.choice(_THING) + rng.choice(_TAIL)
    return rng.choice(_LATIN) + rng.choice(_LATIN_TAIL)


def _weighted(rng: random.Random, pairs) -> object:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


@dataclass
class _Customer:
    id: str
    name: str
    first_seen: float
    conversations: int = 0
    free_at: float = 0.0  # the end of their latest conversation


class _Builder:
    def __init__(self, anchor: float, agents: list[dict], dialogues: list[dict], bot: Bot, taken: set[str],
                 seed: int) -> None:
        self.anchor = anchor
        self.rng = random.Random(seed)
        self.bot = bot
        self.taken = set(taken)
        # An agent of several groups spends less time on each: its share of a group's
        # conversations goes by 1 / its number of groups.
        self.by_group = {g: [(a["id"], 1 / len(a["groups"])) for a in agents
                             if a.get("role", "agent") == "agent" and g in a["groups"]]
                         for g in (*GROUP_SHARE, COMPLAINT_GROUP)}
        self.dialogues = {g: [d for d in dialogues if d.get("group") == g and d.get("lines")
                              and (g == COMPLAINT_GROUP) == is_complaint(" ".join(d["lines"]))]
                          for g in self.by_group}
        self.customers: list[_Customer] = []
        self.out = History()
        self._faq: dict[str, str | None] = {}  # the scripts repeat: ask the bot once per text

    def run(self) -> History:
        for day in days(self.anchor):
            self._day(day)
        self.out.customers = [
            (c.id, c.name, _weighted(self.rng, VIP), ["老客户"] if c.conversations > 1 else [],
             self.rng.choice(LOCATIONS), c.first_seen, self.anchor, 0)
            for c in self.customers
        ]
        return self.out

    def _day(self, day: date) -> None:
        until = self.anchor - TODAY_UNTIL
        hours = [_local(day, h) for h in range(24)]
        n = self.rng.randint(*PER_DAY)
        starts = []
        for _ in range(n):
            h = self.rng.choices(range(24), HOURLY)[0]
            end = hours[h + 1] if h < 23 else _local(day + timedelta(days=1))
            starts.append((self.rng.uniform(hours[h], end), h))
        for at, h in sorted(starts):
            if at < until:
                self._conversation(at, busy=int(HOURLY[h] // 2))

    def _conversation(self, start: float, busy: int) -> None:
        rng = self.rng
        complaint = rng.random() < COMPLAINT_SHARE
        group = COMPLAINT_GROUP if complaint else _weighted(rng, GROUP_SHARE.items())
        if not self.dialogues[group] or not self.by_group[group]:
            return
        lines = list(rng.choice(self.dialogues[group])["lines"])
        customer = self._customer(start)
        customer.conversations += 1
        cid = f"cv-{customer.id}-{customer.conversations}"
        agent = _weighted(rng, self.by_group[group])
        messages: list[tuple] = []
        at = start
        rounds = min(_weighted(rng, ROUNDS), len(lines))
        limit = self.anchor - TODAY_UNTIL
        for r in range(rounds):
            said = [lines.pop(0)]
            if is_greeting(said[0]) and lines:  # "在吗" comes with the real question
                said.append(lines.pop(0))
            messages.append((at, cid, "customer", None, said[0]))
            for extra in said[1:]:
                at += rng.uniform(3.0, 15.0)
                messages.append((at, cid, "customer", None, extra))
            round_start = messages[-len(said)][0]
            if r == 0:
                at += 1.0
                messages.append((at, cid, "bot", None, self.bot.greeting))
            delay = reply_delay(rng, busy)
            if delay > 120 and rng.random() < 0.5:
                messages.append((round_start + rng.uniform(90.0, delay - 5), cid, "customer", None, rng.choice(NUDGES)))
            at = max(at, round_start + delay, messages[-1][0]) + 0.5
            waited = at - round_start
            text = " ".join(said)
            if text not in self._faq:
                self._faq[text] = self.bot.answer(text)
            body = answer_for(rng, self._faq[text], group, said, waited,
                              avoid=[m[4] for m in messages if m[2] == "agent"])
            messages.append((at, cid, "agent", agent, body))
            at += rng.uniform(*CUSTOMER_TYPES)
            if not lines or at > limit:
                break
        end = messages[-1][0] + rng.uniform(*QUIET)
        customer.free_at = end
        tags = [rng.choice(COMPLAINT_TAGS)] if complaint else []
        self.out.conversations.append((cid, customer.id, group, "resolved", None, agent,
                                       "high" if complaint else "normal", tags, None, "agent", start, end))
        self.out.messages += messages

    def _customer(self, at: float) -> _Customer:
        rng = self.rng
        back = [c for c in self.customers if c.free_at < at]
        if back and rng.random() < RETURNING:
            return rng.choice(back)
        name = nickname(rng)
        while name in self.taken:
            name = nickname(rng) + (str(rng.randint(2, 99)) if rng.random() < 0.3 else "")
        self.taken.add(name)
        customer = _Customer(f"{ID_PREFIX}{len(self.customers) + 1:04d}", name, at)
        self.customers.append(customer)
        return customer


def generate(anchor: float, agents: list[dict], dialogues: list[dict], bot: Bot, *,
             taken: set[str] | frozenset[str] = frozenset(), seed: int = SEED) -> History:
    """The history before ``anchor`` for ``agents`` (dicts with id, groups, role) from
    ``dialogues`` (the simulator's scripts; none: no history) and ``bot`` (its FAQ
    answers and greeting). ``taken``: names no generated customer may have."""
    return _Builder(anchor, agents, dialogues, bot, set(taken), seed).run()
