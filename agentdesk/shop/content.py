"""The simulator's scripted dialogues, the bot's FAQ and the shop-wide quick replies:
package data files (dialogues.json, faq.json, quick_replies.json) when present."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

GREETING = "亲，您好！拾光生活旗舰店智能助手为您服务~ 人工客服马上就来哦"

_FALLBACK_DIALOGUES = [
    {"id": "size-hoodie", "group": "售前", "customer": "爱穿卫衣的阿泽",
     "lines": ["在吗", "卫衣燕麦色L码还有吗 175 140斤穿什么码", "好的 那我拍了"]},
    {"id": "ship-when", "group": "售前", "customer": "等快递的小葵",
     "lines": ["我昨天拍的羽绒服什么时候发货啊", "能今天发吗 周末要穿", "行吧 谢谢"]},
    {"id": "stuck", "group": "售后", "customer": "急性子老陈",
     "lines": ["快递三天没动了？？", "单号你们查一下", "那你们催一下啊"]},
    {"id": "broken", "group": "售后", "customer": "碎碎平安",
     "lines": ["花瓶收到就碎了", "我拍了照片 怎么处理", "补发要多久"]},
    {"id": "angry", "group": "客诉", "customer": "再也不买了123",
     "lines": ["什么破质量 洗一次就起球", "不给我退我就给差评", "那行 你们尽快处理"]},
]
_FALLBACK_FAQ = [
    {"keywords": ["发什么快递", "哪个快递", "什么快递"], "answer": "亲，默认发中通快递哦，江浙沪一般次日达~"},
    {"keywords": ["运费险"], "answer": "亲，本店商品都赠送运费险哦，退换货运费可以理赔~"},
    {"keywords": ["发票"], "answer": "亲，可以开电子发票的哦，确认收货后在订单页申请即可~"},
]


def _package_json(name: str) -> dict | None:
    path = resources.files("agentdesk.shop") / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


@cache
def dialogues() -> list[dict]:
    data = _package_json("dialogues.json")
    return (data or {}).get("dialogues") or _FALLBACK_DIALOGUES


@cache
def faq() -> list[dict]:
    data = _package_json("faq.json")
    return (data or {}).get("faq") or _FALLBACK_FAQ


@cache
def quick_replies() -> list[dict]:
    data = _package_json("quick_replies.json")
    return (data or {}).get("items") or []


def faq_answer(text: str) -> str | None:
    for entry in faq():
        if any(k and k in text for k in entry.get("keywords", ())):
            return entry.get("answer")
    return None


AFTER_SALE = ("退款", "退货", "换货", "破损", "碎", "快递", "物流", "没收到", "补发")
COMPLAINT = ("差评", "投诉", "12315", "骗", "曝光", "垃圾")


def classify(text: str) -> tuple[str, str]:
    """(group, priority) for a new conversation, by keyword."""
    if any(k in text for k in COMPLAINT):
        return "客诉", "high"
    if any(k in text for k in AFTER_SALE):
        return "售后", "normal"
    return "售前", "normal"
