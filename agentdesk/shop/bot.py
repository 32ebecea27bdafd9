"""The shop bot: first contact for a new conversation. It answers FAQ-type questions
by keyword (the conversation stays with the bot) and hands everything else to the
human queue with a greeting; it also routes a new conversation to a group."""

from __future__ import annotations

import re

GREETING = "亲，您好！{shop}智能助手为您服务~ 人工客服马上就来哦"

AFTER_SALE = ("退款", "退货", "换货", "破损", "快递", "物流")
COMPLAINT = ("差评", "投诉", "12315", "骗")

_GREETINGS = {"在吗", "在么", "在不在", "在嘛", "在", "有人吗", "有人在吗", "你好", "您好", "亲", "亲在吗",
              "哈喽", "hello", "hi", "客服", "客服在吗"}
_NOISE = re.compile(r"[\s?？!！~～。.,，、…]+")


def classify(text: str) -> tuple[str, str]:
    """(group, priority) by keyword: complaints first, then after-sale, else pre-sale."""
    if any(k in text for k in COMPLAINT):
        return "客诉", "high"
    if any(k in text for k in AFTER_SALE):
        return "售后", "normal"
    return "售前", "normal"


def is_complaint(text: str) -> bool:
    return any(k in text for k in COMPLAINT)


def is_greeting(text: str) -> bool:
    """"在吗" and friends: a line that only knocks, the question comes next."""
    return _NOISE.sub("", text).lower() in _GREETINGS


class Bot:
    def __init__(self, faq: list[dict], shop_name: str = "本店") -> None:
        self.faq = [(tuple(k for k in e.get("keywords", ()) if k), e.get("answer", "")) for e in faq]
        self.greeting = GREETING.format(shop=shop_name)

    def answer(self, text: str) -> str | None:
        """The FAQ answer for a customer line, or None when a human is needed."""
        for keywords, answer in self.faq:
            if answer and any(k in text for k in keywords):
                return answer
        return None
