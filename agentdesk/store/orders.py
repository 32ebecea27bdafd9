"""Order exceptions (订单异常): address changes, refunds and remarks, queued for the shop.

Nothing changes in the cache until the shop answers: the shop decides (an order may
have shipped since the card was drawn), and its answer or its ``order.updated`` event
brings the order as it now is. A refusal ends as a one-line failure naming the rule.
"""

from __future__ import annotations

import sqlite3

from agentdesk.store import outbox

KINDS = ("order_address", "order_refund", "order_refund_approve", "order_remark")


def request(conn: sqlite3.Connection, kind: str, order_id: str, customer_id: str, payload: dict, now: float) -> str:
    """Queue one order write (``payload``: {"address"}, {"reason", "amount"?}, {} or
    {"body"}); returns its client id."""
    if kind not in KINDS:
        raise ValueError(f"not an order write: {kind!r}")
    return outbox.enqueue(conn, kind, {**payload, "order_id": order_id}, now, customer_id=customer_id)
