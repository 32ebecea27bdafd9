"""Simulated colleagues: the demo shop's agents (role ``agent``) at work by themselves,
for the supervisor monitor's demo, where nobody else is at a keyboard.

Each one is online (one of them takes a 10–15 minute break each hour, shown as away),
claims the longest-waiting unassigned conversation of its groups while it has fewer
than :data:`CAPACITY` customers waiting for it, answers a waiting customer after a
realistic delay (:func:`reply_delay`) with the bot's FAQ answer when one fits or else a
polite line of its group, hands a complaint it cannot take (after an apology) to the
客诉 group, and resolves a conversation a few minutes after its customer went quiet.

Like the customer simulator it has no thread of its own: :meth:`Colleagues.tick` does
what is due by ``now`` and the shop calls it from :meth:`ShopState.tick`. Every change
goes through the shop's own write methods, so its events are exactly those of a real
agent, and a reply wakes the simulator's customer just as a real one does. Given the
seed and the clock it always does the same things.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentdesk.shop.bot import is_complaint, is_greeting
from agentdesk.shop.problems import Problem

if TYPE_CHECKING:  # the state builds its colleagues; only type checkers import it back
    from agentdesk.shop.state import ShopState

CAPACITY = 5  # an agent claims more while fewer than this many customers wait for it
ACT_EVERY = 1.0  # seconds between passes
BURST = 8  # at most this many writes per pass: a long pause is not replayed at once
BREAK_LENGTH = (600.0, 900.0)  # one agent each hour is away this long …
BREAK_STARTS_BY = 45 * 60.0  # … starting within the hour's first 45 minutes
GET_TO_IT = (5.0, 150.0)  # seconds to get to a customer found already overdue (a claim, a backlog):
#: one at a time, so a backlog melts over minutes, not at once
QUIET = (150.0, 420.0)  # seconds a customer stays quiet after a reply before it is resolved
RESOLVE_BACKLOG = (20.0, 300.0)  # … and, for one found already quiet, when it is got to
MAX_DELAY = 1500.0  # a reply never comes later than this (the simulator's customers give up at 30 min)
COMPLAINT_GROUP = "客诉"

GREETING_REPLY = "亲，在的呢~ 请问有什么可以帮您的？"
SORRY_PREFIX = "抱歉让您久等了~ "
CLOSING = ("谢谢", "好的", "拍了", "知道了", "收到", "行", "嗯", "ok", "OK", "好吧", "麻烦了")
REPLIES = {
    "售前": (
        "亲，在的呢~ 这款目前有现货，您看中的颜色尺码我帮您确认一下哦",
        "亲，按您说的身高体重，建议拍常规码就可以的哦，喜欢宽松一点可以大一码~",
        "亲，这个问题我帮您查一下，稍等一下哈[微笑]",
        "亲，可以的呢，拍下后备注一下，仓库会按备注给您安排的~",
        "感谢亲的耐心等待~ 这款是店里的热销款，品质您可以放心的哦",
        "亲，现在下单还可以用店铺满减券，结算时会自动抵扣的哦~",
    ),
    "售后": (
        "亲，非常抱歉给您带来不便，我这边马上帮您核实处理哦",
        "好的亲，已经帮您登记了，仓库核实后会第一时间给您回复~",
        "亲，麻烦您提供一下商品照片，我这边帮您加急处理哦",
        "亲，物流这边已经帮您催促了，有最新进展会及时告诉您的~",
        "收到亲，退换货已经帮您备注好了，您在订单页提交申请就可以哦",
        "亲，这边给您安排补发/换货，新的单号出来后第一时间发给您~",
    ),
    "客诉": (
        "亲，真的非常抱歉让您有这么不好的体验，这个问题我一定负责帮您处理到底",
        "非常抱歉亲，您的心情我完全理解，我这边马上为您申请处理方案，请您再给我们一次机会",
        "亲，给您添麻烦了，这边已经为您加急处理，今天之内一定给您答复",
    ),
}
THANKS = ("好的亲，感谢您的支持~ 有问题随时联系我们哦[爱心]", "不客气亲，祝您生活愉快~",
          "好的呢亲，收到货有任何问题随时找我们哦~")
HANDOFF_NOTE = "客户投诉，转客诉组跟进"
HANDOFF_TO_CUSTOMER = "亲，已为您转接客诉专员，马上为您处理，请稍等~"


def reply_delay(rng: random.Random, busy: int = 0) -> float:
    """Seconds from a customer's first unanswered line to the agent's reply: a few
    seconds of typing plus a lognormal wait (median about 22 s, about 8 % beyond 3
    minutes), 15 % slower for each other customer already waiting for the same agent.
    The shop history uses it too, so live and past response times look alike."""
    delay = (3.0 + rng.lognormvariate(math.log(15.0), 1.5)) * (1.0 + 0.15 * max(0, busy))
    return min(delay, MAX_DELAY)


def answer_for(rng: random.Random, faq_answer: str | None, group: str, lines: list[str], waited: float,
               avoid: Collection[str] = ()) -> str:
    """What an agent writes to ``lines`` (the customer's unanswered lines) in ``group``
    after they waited ``waited`` seconds; a stock line already in ``avoid`` (what the
    agent said earlier in the conversation) is not said again while others are left."""
    text = " ".join(lines)

    def pick(pool: tuple[str, ...]) -> str:
        fresh = [line for line in pool if line not in avoid and SORRY_PREFIX + line not in avoid]
        return rng.choice(fresh or pool)

    if is_complaint(text):
        return pick(REPLIES[COMPLAINT_GROUP])
    if faq_answer:
        body = faq_answer
    elif all(is_greeting(line) for line in lines):
        body = GREETING_REPLY
    elif len(text) <= 12 and any(word in text for word in CLOSING):
        body = pick(THANKS)
    else:
        body = pick(REPLIES.get(group, REPLIES["售前"]))
    return SORRY_PREFIX + body if waited > 90 else body


@dataclass(frozen=True)
class Open:
    """One open conversation as a pass sees it."""

    id: str
    assignee_id: str | None
    group: str
    stage: str
    replied: int  # seq of the last human reply, 0 for none
    waiting_since: float | None  # the first customer line after that reply
    last_at: float  # the last message of any kind


_OPEN = (
    "WITH o AS (SELECT c.id, c.assignee_id, c.grp, c.stage, coalesce((SELECT max(m.seq) FROM messages m "
    "WHERE m.conversation_id = c.id AND m.sender = 'agent' AND m.auto = 0), 0) AS replied "
    "FROM conversations c WHERE c.status = 'open') "
    "SELECT o.id, o.assignee_id, o.grp, o.stage, o.replied, "
    "(SELECT min(m.created_at) FROM messages m WHERE m.conversation_id = o.id AND m.sender = 'customer' "
    "AND m.seq > o.replied), "
    "coalesce((SELECT max(m.created_at) FROM messages m WHERE m.conversation_id = o.id), 0) FROM o ORDER BY o.id"
)


class Colleagues:
    def __init__(self, state: ShopState, seed: int) -> None:
        self.state = state
        self.seed = seed
        self.rng = random.Random(seed)
        self.agents = [a for a in state.agents() if a["role"] == "agent"]
        self._acted = float("-inf")
        self._reply_at: dict[tuple[str, int], float] = {}  # (conversation, last reply seq) -> when
        self._resolve_at: dict[tuple[str, int], float] = {}
        self.replies = self.claims = self.resolved = self.handoffs = 0  # for tests and the curious

    @property
    def on(self) -> bool:
        return bool(self.agents)

    # -- presence ------------------------------------------------------------------------------

    def on_break(self, agent_id: str, now: float) -> bool:
        """Whose break it is this hour and when, from the seed and the hour alone (not
        from when ticks happen to come)."""
        hour = math.floor(now / 3600)
        plan = random.Random(f"{self.seed}:{hour}")
        who = self.agents[plan.randrange(len(self.agents))]["id"]
        start = hour * 3600 + plan.uniform(0, BREAK_STARTS_BY)
        return who == agent_id and start <= now < start + plan.uniform(*BREAK_LENGTH)

    def _presence(self, now: float) -> int:
        writes = 0
        for agent in self.agents:
            self.state.seen(agent["id"])  # keeps it connected; brings it online at the start
            wanted = "away" if self.on_break(agent["id"], now) else "online"
            if self.state.presence(agent["id"]) != wanted:
                self.state.set_status(agent, {"status": wanted}, None)
                writes += 1
        return writes

    # -- a pass ----------------------------------------------------------------------------------

    def tick(self, now: float) -> int:
        """Do what is due by ``now``; the number of writes (at most :data:`BURST`)."""
        if not self.on or now - self._acted < ACT_EVERY:
            return 0
        self._acted = now
        budget = BURST - self._presence(now)
        working = {a["id"]: a for a in self.agents if self.state.presence(a["id"]) == "online"}
        convs = [Open(*r) for r in self.state.query(_OPEN)]
        self._forget_closed(convs)
        waiting: dict[str, list[Open]] = {aid: [] for aid in working}
        for c in convs:
            if c.assignee_id in waiting and c.stage == "agent" and c.waiting_since is not None:
                waiting[c.assignee_id].append(c)
        budget -= self._claim(now, convs, working, waiting, budget)
        for c in convs:
            if budget <= 0:
                break
            agent = working.get(c.assignee_id or "")
            if agent is None or c.stage != "agent":
                continue
            if c.waiting_since is not None:
                budget -= self._maybe_reply(now, agent, c, len(waiting[agent["id"]]) - 1)
            elif c.group == COMPLAINT_GROUP and COMPLAINT_GROUP not in agent["groups"]:
                budget -= self._hand_off(agent, c)  # answered (an apology): now to those who handle complaints
            elif c.replied:
                budget -= self._maybe_resolve(now, agent, c)
        return BURST - budget

    def _forget_closed(self, convs: list[Open]) -> None:
        current = {(c.id, c.replied) for c in convs}
        for plan in (self._reply_at, self._resolve_at):
            for key in [k for k in plan if k not in current]:
                del plan[key]

    def _claim(self, now: float, convs: list[Open], working: dict, waiting: dict, budget: int) -> int:
        # The human queue: customers waiting longest first, then what was handed to a
        # group after its customer had an answer (by when that was)
        queue = sorted((c for c in convs if c.assignee_id is None and c.stage == "queued"),
                       key=lambda c: (c.waiting_since or c.last_at, c.id))
        done = 0
        for aid, agent in working.items():
            if done >= budget or len(waiting[aid]) >= CAPACITY:
                continue
            pick = next((c for c in queue if c.group in agent["groups"]), None)
            if pick is None:
                continue
            queue.remove(pick)
            if self._write(lambda: self.state.claim(agent, pick.id, None)):
                self.claims += 1
                done += 1
                waiting[aid].append(pick)
        return done

    def _maybe_reply(self, now: float, agent: dict, c: Open, busy: int) -> int:
        key = (c.id, c.replied)
        due = self._reply_at.get(key)
        if due is None:
            due = c.waiting_since + reply_delay(self.rng, busy)
            if due < now:  # found overdue (a backlog, a fresh claim): got to in a moment
                due = now + self.rng.uniform(*GET_TO_IT)
            self._reply_at[key] = due
        if due > now:
            return 0
        said = self.state.query(
            "SELECT seq, sender, body FROM messages WHERE conversation_id = ? AND sender IN ('customer', 'agent') "
            "ORDER BY seq", [c.id])
        lines = [text for seq, sender, text in said if sender == "customer" and seq > c.replied]
        body = answer_for(self.rng, self.state.bot.answer(" ".join(lines)), c.group, lines, now - c.waiting_since,
                          avoid=[text for _, sender, text in said if sender == "agent"])
        if not self._write(lambda: self.state.post_message(agent, c.id, {"body": body}, None)):
            return 0
        self.replies += 1
        return 1

    def _hand_off(self, agent: dict, c: Open) -> int:
        body = {"to_group": COMPLAINT_GROUP, "note": HANDOFF_NOTE, "customer_message": HANDOFF_TO_CUSTOMER}
        if not self._write(lambda: self.state.transfer(agent, c.id, body, None)):
            return 0
        self.handoffs += 1
        return 1

    def _maybe_resolve(self, now: float, agent: dict, c: Open) -> int:
        key = (c.id, c.replied)
        due = self._resolve_at.get(key)
        if due is None:
            due = c.last_at + self.rng.uniform(*QUIET)
            if due < now:
                due = now + self.rng.uniform(*RESOLVE_BACKLOG)
            self._resolve_at[key] = due
        if due > now:
            return 0
        if not self._write(lambda: self.state.patch(agent, c.id, {"status": "resolved"}, None)):
            return 0
        self.resolved += 1
        return 1

    @staticmethod
    def _write(fn) -> bool:
        """A refused write (someone else took the conversation meanwhile) is skipped."""
        try:
            fn()
        except Problem:
            return False
        return True
