"""The reference shop's rules that keep clients honest (issue 11): outreach never writes
into another agent's conversation, an Idempotency-Key belongs to one request (Stripe's
rule), and no parameter or body, however malformed, makes it answer 500."""

from __future__ import annotations

import json

import pytest

from conftest import ANCHOR
from shop_helpers import asgi_http

A01, A02 = "demo-a01-xiaomei", "demo-a02-ajie"


@pytest.fixture
def app(tmp_path):
    from agentdesk.shop.server import create_app

    shop = create_app(tmp_path / "shop.sqlite", seed="demo", anchor=ANCHOR)
    shop.state.shop.tick()  # what is due since the seed (snoozes ending) happens now, not inside a test
    return shop


def key(k: str) -> dict:
    return {"Idempotency-Key": k}


def counts(app) -> tuple[int, int]:
    """Messages, and events other than presence (an agent's first request brings them online)."""
    state = app.state.shop
    return (state.query("SELECT count(*) FROM messages")[0][0],
            state.query("SELECT count(*) FROM events WHERE type != 'agent.status'")[0][0])


# -- outreach ------------------------------------------------------------------------------------


async def test_outreach_into_another_agents_open_conversation_is_refused_like_a_reply(app):
    state = app.state.shop
    assert state.conversation("cv-c001-1")["assignee_id"] == "a01"  # c001's latest: open, 小美's
    before = counts(app)
    async with asgi_http(app, A02) as c:
        refused = await c.post("/v1/customers/c001/messages", json={"body": "阿杰的活动通知"}, headers=key("o-1"))
        reply = await c.post("/v1/conversations/cv-c001-1/messages", json={"body": "阿杰的回复"})
    assert refused.status_code == reply.status_code == 409
    body = refused.json()
    assert (body["code"], body["assignee_id"], body["assignee_name"]) == ("owned_by_other", "a01", "小美")
    assert counts(app) == before, "nothing was written, no event"
    async with asgi_http(app, A02) as c:  # the key of a refused write is not spent
        mine = await c.post("/v1/customers/c007/messages", json={"body": "阿杰的活动通知"}, headers=key("o-1"))
    assert mine.status_code == 201 and mine.json()["conversation"]["id"] == "cv-c007-2"
    async with asgi_http(app, A01) as c:  # the owner may (c005: 小美's, nobody waiting) …
        own = await c.post("/v1/customers/c005/messages", json={"body": "小美的活动通知"})
        free = await c.post("/v1/customers/c003/messages", json={"body": "活动通知"})
    assert own.status_code == 201
    # … and an unassigned conversation belongs to nobody: only its waiting customer stops it
    assert (free.status_code, free.json()["code"]) == (409, "customer_waiting")


# -- idempotency -----------------------------------------------------------------------------------


async def test_the_same_key_on_the_same_request_replays_the_answer(app):
    async with asgi_http(app) as c:
        first = await c.post("/v1/conversations/cv-c001-1/messages", json={"body": "亲，在的", "kind": "reply"},
                             headers=key("k-1"))
        after_first = counts(app)
        # the same request, its body written differently (key order, spacing): the same answer
        again = await c.post("/v1/conversations/cv-c001-1/messages",
                             content='{ "kind": "reply",  "body": "亲，在的" }'.encode(),
                             headers={**key("k-1"), "Content-Type": "application/json"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert counts(app) == after_first


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/v1/conversations/cv-c001-1/messages", {"body": "亲，另一句话"}),  # another body
    ("POST", "/v1/conversations/cv-c003-1/messages", {"body": "亲，在的"}),  # another conversation
    ("POST", "/v1/customers/c003/notes", {"body": "亲，在的"}),  # another route
    ("PATCH", "/v1/conversations/cv-c001-1", {"priority": "high"}),  # another method
])
async def test_the_same_key_on_another_request_is_refused_and_changes_nothing(app, method, path, body):
    state = app.state.shop
    async with asgi_http(app) as c:
        first = await c.post("/v1/conversations/cv-c001-1/messages", json={"body": "亲，在的"}, headers=key("k-1"))
        before = counts(app), state.conversation("cv-c001-1")["version"]
        other = await c.request(method, path, json=body, headers=key("k-1"))
        replay = await c.post("/v1/conversations/cv-c001-1/messages", json={"body": "亲，在的"}, headers=key("k-1"))
    assert first.status_code == 201
    assert other.status_code == 422
    problem = other.json()
    assert problem["code"] == "idempotency_mismatch"
    assert "POST /v1/conversations/cv-c001-1/messages" in problem["detail"]
    assert (counts(app), state.conversation("cv-c001-1")["version"]) == before
    assert replay.json() == first.json(), "the key still replays its own request"


async def test_keys_are_per_agent(app):
    async with asgi_http(app, A01) as mine, asgi_http(app, A02) as theirs:
        a = await mine.post("/v1/customers/c001/notes", json={"body": "小美的备注"}, headers=key("same"))
        b = await theirs.post("/v1/customers/c021/notes", json={"body": "阿杰的备注"}, headers=key("same"))
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]


# -- malformed parameters and bodies ---------------------------------------------------------------

BAD_NUMBERS = ["1" * 40, "9223372036854775808", "-1", "1e3", "abc", "1.5", "٣", "0x10", " 5x", "NaN", "+-1"]
BAD_WAITS = ["nan", "inf", "-1", "31", "1e309", "abc", ""]
GETS = ["/v1/customers", "/v1/orders", "/v1/conversations", "/v1/messages", "/v1/notes", "/v1/followups"]


def _cases():
    for path in GETS:
        for bad in BAD_NUMBERS:
            yield path, {"limit": bad}
            if path in ("/v1/messages", "/v1/notes"):  # keyed by seq
                yield path, {"after": bad}
    for bad in BAD_NUMBERS:
        yield "/v1/events", {"after": bad}
        yield "/v1/events", {"limit": bad}
        yield "/v1/conversations/cv-c001-1/messages", {"before": bad}
        yield "/v1/conversations/cv-c001-1/messages", {"limit": bad}
    for bad in BAD_WAITS:
        yield "/v1/events", {"wait": bad}


CASES = list(_cases())


async def test_malformed_parameters_are_422_never_500(app):
    answers = []
    async with asgi_http(app) as c:
        for path, params in CASES:
            r = await c.get(path, params=params)
            answers.append((path, params, r.status_code, r.json().get("code")))
    wrong = [a for a in answers if (a[2], a[3]) != (422, "invalid") and not (a[1].get("wait") == "" and a[2] == 200)]
    assert wrong == []
    assert len(CASES) > 100


async def test_ids_and_cursors_of_any_shape_never_answer_500(app):
    odd = ["\x00", "💥" * 300, "%ff", "'; DROP TABLE customers; --", "\ud800".encode("utf-8", "surrogatepass").decode(
        "latin-1"), "a" * 5000]
    async with asgi_http(app) as c:
        for value in odd:
            for path in ("/v1/customers", "/v1/orders", "/v1/conversations", "/v1/followups"):
                assert (await c.get(path, params={"after": value})).status_code == 200
            if value.isprintable():  # httpx itself refuses a control character in a path
                assert (await c.get(f"/v1/customers/{value}")).status_code == 404


BAD_BODIES = [
    b"[" * 100_000 + b"]" * 100_000,  # deeper than any parser's stack
    b'{"body": NaN}',
    b'{"body": Infinity}',
    b'{"body": "\\ud800 cut emoji"}',  # a lone surrogate escape
    b'{"body": "\xff\xfe"}',  # not UTF-8
    b'["not", "an", "object"]',
    b'{"body": "x"',  # cut off
    b'"just a string"',
]
WRITES = [
    ("POST", "/v1/conversations/cv-c001-1/messages"), ("POST", "/v1/conversations/cv-c001-1/claim"),
    ("POST", "/v1/conversations/cv-c001-1/transfer"), ("PATCH", "/v1/conversations/cv-c001-1"),
    ("POST", "/v1/customers/c001/notes"), ("POST", "/v1/customers/c003/messages"),
    ("POST", "/v1/orders/x/address"), ("POST", "/v1/followups"), ("PUT", "/v1/me/status"),
]


@pytest.mark.parametrize("raw", BAD_BODIES, ids=["deep", "nan", "infinity", "surrogate", "not-utf8", "array", "cut",
                                                 "string"])
async def test_malformed_bodies_are_422_and_change_nothing(app, raw):
    before = counts(app)
    async with asgi_http(app) as c:
        for method, path in WRITES:
            r = await c.request(method, path, content=raw, headers={"Content-Type": "application/json"})
            assert (r.status_code, r.json()["code"]) == (422, "invalid"), (method, path)
        anyone = await c.post("/v1/customer/say", content=raw, headers={"Content-Type": "application/json"})
    assert (anyone.status_code, anyone.json()["code"]) == (422, "invalid")
    assert counts(app) == before


async def test_a_customer_name_with_a_lone_surrogate_is_refused_not_stored_broken(app):
    async with asgi_http(app, None) as anyone:
        r = await anyone.post("/v1/customer/say", content=json.dumps({"customer": "\ud83d", "body": "在吗"}).encode(),
                              headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid")
