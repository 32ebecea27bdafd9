"""Find: one query over customers, orders and the whole message history – what Ctrl+F
shows, grouped, and what ``agentdesk search`` prints.

Customers and orders are found by the query's words alone; with a filter in the query
(see :mod:`agentdesk.find.query`) only messages are listed. Messages come newest first
in pages (``more`` continues a page's ``next``), each group bounded, so a one-character
query over millions of messages costs one page.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from agentdesk.find.query import Query
from agentdesk import textfold
from agentdesk.store import agents, history, lookup
from agentdesk.store.history import Page, Scope

#: Customers and orders listed at most (a nickname or a number is meant to be precise).
ENTITY_LIMIT = 50


@dataclass(frozen=True)
class Found:
    query: Query
    customers: list[lookup.CustomerHit]
    orders: list[lookup.OrderHit]
    messages: Page
    #: Share of the message history in the index (below 1.0 the rest is scanned).
    indexed: float
    #: Customers and orders still queued for the index (checked directly meanwhile).
    queued: int


def terms(query: Query) -> tuple[str, ...]:
    """The folded words, as the matches are highlighted."""
    return textfold.fold_terms(query.words)


def scope(conn: sqlite3.Connection, query: Query) -> Scope | None:
    """The query's filters as a history scope; None when a filter matches nothing (an
    agent or a customer nobody is called)."""
    agent_ids = conversations = None
    if query.agent is not None:
        agent_ids = agents.ids_matching(conn, query.agent)
        if not agent_ids:
            return None
    if query.customer is not None:
        conversations = lookup.customer_conversations(conn, query.customer.split())
        if not conversations:
            return None
    return Scope(since=query.since, until=query.until, conversations=conversations, agents=agent_ids,
                 group=query.group, status=query.status)


def messages(conn: sqlite3.Connection, query: Query, *, after: tuple | None = None, limit: int = 50,
             budget: int | None = history.BUDGET) -> Page:
    """A page of the messages the query finds, newest first."""
    where = scope(conn, query)
    if where is None or query.empty:
        return Page([], None)
    return history.search(conn, query.words, where, after=after, limit=limit, budget=budget)


def find(conn: sqlite3.Connection, query: Query, *, limit: int = 50) -> Found:
    """Everything the query finds: customers, orders, the first page of messages."""
    found_customers: list[lookup.CustomerHit] = []
    found_orders: list[lookup.OrderHit] = []
    if query.words and not query.filtered:
        found_customers = lookup.customers(conn, query.words, ENTITY_LIMIT)
        found_orders = lookup.orders(conn, query.words, ENTITY_LIMIT)
    page = messages(conn, query, limit=limit)
    return Found(query, found_customers, found_orders, page, history.progress(conn), lookup.progress(conn))


def order_message(conn: sqlite3.Connection, order: lookup.OrderHit) -> int | None:
    """The newest message of the order's conversation that names the order (its number
    or tracking number): where Enter on an order lands."""
    if order.conversation_id is None:
        return None
    inside = Scope(conversations=(order.conversation_id,))
    for word in (order.id, order.tracking_no):
        if word:
            page = history.search(conn, [word], inside, limit=1)
            if page.hits:
                return page.hits[0].message_id
    return None


#: Matches of a search inside one conversation that n / N step through.
THREAD_MATCHES = 1000


def thread_matches(conn: sqlite3.Connection, conversation_id: str, words) -> list[int]:
    """Ids of this conversation's messages holding every word, newest first."""
    if not textfold.fold_terms(words):
        return []
    page = history.search(conn, words, Scope(conversations=(conversation_id,)), limit=THREAD_MATCHES, budget=None)
    return [h.message_id for h in page.hits]
