"""What the shop says to its customers, in the shop's language (``[shop] language``).

Not the UI catalog (:mod:`agentdesk.i18n`): an agent may read the workstation in English
while the shop's customers are Chinese, and a customer must never be greeted in the
agent's UI language. These are the defaults; a shop writes its own greeting, apology and
handoff message in ``config.toml`` (see ``agentdesk.config.CUSTOMER_TEXTS``).
"""

from __future__ import annotations

from agentdesk.workflow.templates import fill

TEXTS: dict[str, dict[str, str]] = {
    # {agent_name}: the agent the greeting goes out for.
    "greeting": {
        "zh": "亲，您好～我是{agent_name}，很高兴为您服务，请稍等，马上为您查询～",
        "en": "Hello! This is {agent_name}, happy to help – one moment please, I am looking into it.",
    },
    "apology": {
        "zh": "亲，非常抱歉让您久等了！",
        "en": "So sorry to keep you waiting! ",
    },
    # {to}: who takes over.
    "handoff": {
        "zh": "亲，已为您转接到{to}，TA 会继续为您处理，之前的记录都在，不用重复描述哦～",
        "en": "I have passed you on to {to}, who will take it from here; they can see everything so far, "
              "so there is no need to repeat anything.",
    },
    # {agent}: the agent following up.
    "followup": {
        "zh": "亲，您好～我是{agent}，来回访一下：您之前在本店购买的商品用得还满意吗？有任何问题随时找我哦～",
        "en": "Hello, this is {agent} following up: is everything fine with your purchase? "
              "Let me know if anything is wrong.",
    },
    # An example outreach message: every customer gets their own {customer.name}.
    "outreach": {
        "zh": "亲爱的{customer.name}，本店双十二活动开始啦，全场满200减30，记得来看看哦～",
        "en": "Dear {customer.name}, our winter sale has started: 30 off any order over 200. Come and have a look!",
    },
}

LANGUAGES = ("zh", "en")


def text(key: str, language: str, **values: object) -> str:
    """The text ``key`` in ``language`` (Chinese for any other), ``{name}`` filled from
    ``values`` (anything else stays as written)."""
    by_language = TEXTS[key]
    return fill(by_language.get(language, by_language["zh"]), **values)
