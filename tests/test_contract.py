"""docs/shop-api.yaml is valid OpenAPI 3.1, names the same routes as the reference
server and as docs/shop-api.md, and the server's real answers (successes and each
kind of problem) are ones the contract declares for that operation, in its media
type, fitting its schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from conftest import ANCHOR

DOCS = Path(__file__).resolve().parent.parent / "docs"
SPEC = yaml.safe_load((DOCS / "shop-api.yaml").read_text(encoding="utf-8"))
PAGE = (DOCS / "shop-api.md").read_text(encoding="utf-8")
METHODS = {"get", "post", "patch", "put", "delete"}
#: a method and a /v1 path as the readable page writes them: `GET /v1/customers?after=&limit=`
PAGE_ROUTE = re.compile(r"\b(GET|POST|PATCH|PUT|DELETE) (/v1/[^\s`?]*)")

A01 = "demo-a01-xiaomei"
A02 = "demo-a02-ajie"
S01 = "demo-s01-linjie"  # read-only supervisor


def documented_routes() -> set[tuple[str, str]]:
    return {(m.upper(), path) for path, item in SPEC["paths"].items() for m in item if m in METHODS}


@pytest.fixture
def app(tmp_path):
    from agentdesk.shop.server import create_app

    return create_app(tmp_path / "s.sqlite", seed="demo", anchor=ANCHOR)


def test_the_yaml_is_valid_openapi_31():
    validate(SPEC)
    assert SPEC["openapi"].startswith("3.1.")


def test_every_documented_route_is_served_and_vice_versa(app):
    served = {(m, r.path) for r in app.routes for m in (getattr(r, "methods", None) or ()) if m != "HEAD"}
    assert documented_routes() == served


def test_the_readable_page_names_every_route_and_no_other():
    on_page = {(m, p) for m, p in PAGE_ROUTE.findall(PAGE)}
    assert documented_routes() - on_page == set(), "routes missing from docs/shop-api.md"
    assert on_page - documented_routes() == set(), "routes on docs/shop-api.md but not in the yaml"
    for path in SPEC["paths"]:
        assert path in PAGE, path


def test_every_write_takes_an_idempotency_key_and_only_the_customer_side_needs_no_token():
    for (method, path) in documented_routes():
        op = SPEC["paths"][path][method.lower()]
        params = [p.get("$ref", "") for p in op.get("parameters", ())]
        if path == "/v1/customer/say":
            assert op["security"] == []
            continue
        assert "security" not in op, path  # the global bearer scheme applies
        assert "401" in op["responses"], (method, path)
        if method != "GET":
            assert "#/components/parameters/IdempotencyKey" in params, (method, path)
            assert {"403", "422"} <= set(op["responses"]), (method, path)


# -- real answers against the declared ones ----------------------------------------------------


def _as_defs(value):
    """A schema with its refs to component schemas rewritten to ``#/$defs/…``."""
    return json.loads(json.dumps(value, ensure_ascii=False).replace("#/components/schemas/", "#/$defs/"))


DEFS = _as_defs(SPEC["components"]["schemas"])


def _validator(schema: dict) -> Draft202012Validator:
    """``schema`` with the document's component schemas as ``$defs``."""
    return Draft202012Validator({"$defs": DEFS, **_as_defs(schema)})


def _declared(path: str, method: str, status: int) -> dict:
    responses = SPEC["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} answered {status}, which the contract does not declare"
    declared = responses[str(status)]
    if "$ref" in declared:
        declared = SPEC["components"]["responses"][declared["$ref"].rsplit("/", 1)[1]]
    return declared


def check(response: httpx.Response, path: str) -> dict:
    """Assert ``response`` is an answer the contract declares for its operation."""
    method = response.request.method
    declared = _declared(path, method, response.status_code)
    media = response.headers.get("content-type", "").split(";")[0].strip()
    assert media in declared.get("content", {}), f"{method} {path} {response.status_code}: media type {media!r}"
    for name, header in declared.get("headers", {}).items():
        if "$ref" in header:
            header = SPEC["components"]["headers"][header["$ref"].rsplit("/", 1)[1]]
        if header.get("required"):
            assert name.lower() in response.headers, f"{method} {path}: missing header {name}"
    body = response.json()
    errors = sorted(_validator(declared["content"][media]["schema"]).iter_errors(body), key=str)
    assert not errors, f"{method} {path} {response.status_code}: {errors[0].message} at {list(errors[0].path)}"
    return body


def client(app, token: str | None = A01) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop", headers=headers)


async def test_reads_fit_the_contract(app):
    async with client(app) as c:
        check(await c.get("/v1/me"), "/v1/me")
        check(await c.get("/v1/agents"), "/v1/agents")
        check(await c.get("/v1/groups"), "/v1/groups")
        check(await c.get("/v1/quick-replies"), "/v1/quick-replies")
        head = check(await c.get("/v1/events/head"), "/v1/events/head")
        customers = check(await c.get("/v1/customers", params={"limit": 1000}), "/v1/customers")
        check(await c.get(f"/v1/customers/{customers['items'][0]['id']}"), "/v1/customers/{id}")
        check(await c.get("/v1/orders", params={"limit": 1000}), "/v1/orders")
        conversations = check(await c.get("/v1/conversations", params={"limit": 1000}), "/v1/conversations")
        cv = conversations["items"][0]["id"]
        check(await c.get(f"/v1/conversations/{cv}"), "/v1/conversations/{id}")
        thread = check(await c.get(f"/v1/conversations/{cv}/messages", params={"limit": 2}),
                       "/v1/conversations/{id}/messages")
        if thread["next"] is not None:
            check(await c.get(f"/v1/conversations/{cv}/messages", params={"before": thread["next"], "limit": 2}),
                  "/v1/conversations/{id}/messages")
        page = check(await c.get("/v1/messages", params={"limit": 50}), "/v1/messages")
        check(await c.get("/v1/messages", params={"after": page["next"], "limit": 1000}), "/v1/messages")
        check(await c.get("/v1/notes", params={"limit": 1000}), "/v1/notes")
        feed = check(await c.get("/v1/events", params={"after": 0, "limit": 1000}), "/v1/events")
        idle = check(await c.get("/v1/events", params={"after": head["cursor"], "wait": 0}), "/v1/events")
    assert idle == {"events": [], "next": head["cursor"]}
    assert len(customers["items"]) > 0 and len(feed["events"]) > 0


async def test_writes_and_their_events_fit_the_contract(app):
    async with client(app, None) as anyone:
        said = check(await anyone.post("/v1/customer/say", json={"customer": "契约测试的顾客", "body": "在吗 卫衣有L码吗"}),
                     "/v1/customer/say")
    cv = said["conversation_id"]
    async with client(app) as c:
        head = (await c.get("/v1/events/head")).json()["cursor"]
        check(await c.post(f"/v1/conversations/{cv}/claim", json={}, headers={"Idempotency-Key": "k-claim"}),
              "/v1/conversations/{id}/claim")
        check(await c.post(f"/v1/conversations/{cv}/messages", json={"body": "亲，在的呢~", "kind": "reply"},
                           headers={"Idempotency-Key": "k-reply"}), "/v1/conversations/{id}/messages")
        check(await c.post(f"/v1/conversations/{cv}/messages", json={"body": "新客，问L码", "kind": "note"}),
              "/v1/conversations/{id}/messages")
        conv = check(await c.patch(f"/v1/conversations/{cv}", json={"priority": "high", "tags": ["尺码"]}),
                     "/v1/conversations/{id}")
        check(await c.patch(f"/v1/conversations/{cv}", json={"status": "pending", "expected_version": conv["version"]}),
              "/v1/conversations/{id}")
        check(await c.post(f"/v1/customers/{said['customer_id']}/notes", json={"body": "175/140，推荐L"}),
              "/v1/customers/{id}/notes")
        check(await c.post(f"/v1/conversations/{cv}/transfer", json={"to_group": "售后", "note": "要换货"}),
              "/v1/conversations/{id}/transfer")
        feed = check(await c.get("/v1/events", params={"after": head}), "/v1/events")
    assert {e["type"] for e in feed["events"]} >= {"conversation.updated", "message.created", "note.created"}


async def test_problems_fit_the_contract(app):
    async with client(app, None) as anyone:
        check(await anyone.get("/v1/me"), "/v1/me")  # 401
        check(await anyone.post("/v1/customer/say", json={"customer": "", "body": "在吗"}), "/v1/customer/say")
    async with client(app, "no-such-token") as c:
        check(await c.get("/v1/conversations"), "/v1/conversations")  # 401
    async with client(app, S01) as c:
        check(await c.post("/v1/conversations/cv-c001-1/claim", json={}), "/v1/conversations/{id}/claim")  # 403
    async with client(app, A02) as c:  # cv-c001-1 belongs to a01
        owned = check(await c.post("/v1/conversations/cv-c001-1/messages", json={"body": "亲，在的"}),
                      "/v1/conversations/{id}/messages")
        assert owned["code"] == "owned_by_other" and owned["assignee_id"] == "a01"
    async with client(app) as c:
        check(await c.get("/v1/conversations/no-such-conversation"), "/v1/conversations/{id}")  # 404
        check(await c.get("/v1/customers/no-such-customer"), "/v1/customers/{id}")  # 404
        check(await c.get("/v1/conversations/no-such/messages"), "/v1/conversations/{id}/messages")  # 404
        check(await c.post("/v1/customers/no-such/notes", json={"body": "x"}), "/v1/customers/{id}/notes")  # 404
        check(await c.get("/v1/customers", params={"limit": 0}), "/v1/customers")  # 422
        check(await c.get("/v1/events", params={"wait": 31}), "/v1/events")  # 422
        check(await c.post("/v1/conversations/cv-c001-1/messages", json={"body": "  "}),
              "/v1/conversations/{id}/messages")  # 422
        check(await c.post("/v1/conversations/cv-c001-1/transfer", json={"note": "nobody"}),
              "/v1/conversations/{id}/transfer")  # 422
        stale = check(await c.patch("/v1/conversations/cv-c001-1", json={"status": "resolved", "expected_version": 999}),
                      "/v1/conversations/{id}")
        assert stale["code"] == "stale_version" and stale["version"] >= 1
        for kind, status in (("429", 429), ("500", 500), ("503", 503)):
            app.state.shop.set_faults(fail_rate=1.0, kinds=(kind,))
            r = await c.get("/v1/conversations")
            assert r.status_code == status
            check(r, "/v1/conversations")
        app.state.shop.set_faults(fail_rate=0.0)


# -- the service workflows: order exceptions, follow-ups, outreach ----------------------------------


def _order_with(app, status: str) -> str:
    return next(o["id"] for o in app.state.shop.page("orders", None, 1000)["items"] if o["status"] == status)


async def test_workflow_writes_and_their_events_fit_the_contract(app):
    waiting, delivered = _order_with(app, "待发货"), _order_with(app, "已签收")
    async with client(app) as c:
        head = (await c.get("/v1/events/head")).json()["cursor"]
        check(await c.post(f"/v1/orders/{waiting}/address", json={"address": "浙江省杭州市西湖区文三路 90 号"},
                           headers={"Idempotency-Key": "k-addr"}), "/v1/orders/{id}/address")
        check(await c.post(f"/v1/orders/{delivered}/remarks", json={"body": "客户说包装破了"}), "/v1/orders/{id}/remarks")
        check(await c.post(f"/v1/orders/{delivered}/refund", json={"reason": "破损", "amount": 10}),
              "/v1/orders/{id}/refund")
        order = check(await c.post(f"/v1/orders/{delivered}/refund/approve"), "/v1/orders/{id}/refund/approve")
        assert order["refund"]["status"] == "approved" and order["remarks"][0]["agent_id"] == "a01"
        made = check(await c.post("/v1/followups", json={"customer_id": "c001", "due_at": "2026-11-21T10:00:00+08:00",
                                                         "note": "回访满意度", "order_id": _first_order(app, "c001")},
                                  headers={"Idempotency-Key": "k-f"}), "/v1/followups")
        check(await c.patch("/v1/followups/k-f", json={"status": "done"}), "/v1/followups/{id}")
        page = check(await c.get("/v1/followups", params={"limit": 2}), "/v1/followups")
        check(await c.get("/v1/followups", params={"after": page["next"]}), "/v1/followups")
        check(await c.post("/v1/customers/c005/messages", json={"body": "亲，活动开始啦", "campaign": "双十二"}),
              "/v1/customers/{id}/messages")
        check(await c.post("/v1/customers/c055/messages", json={"body": "亲，新品上架啦"}), "/v1/customers/{id}/messages")
        check(await c.post("/v1/conversations/cv-c001-1/transfer",
                           json={"to_agent_id": "a02", "note": "换货", "customer_message": "亲，已为您转接售后"}),
              "/v1/conversations/{id}/transfer")
        feed = check(await c.get("/v1/events", params={"after": head, "limit": 1000}), "/v1/events")
        customer = check(await c.get("/v1/customers/c047"), "/v1/customers/{id}")
    assert made["client_id"] == "k-f" and customer["opt_out"] is True
    assert {e["type"] for e in feed["events"]} >= {"order.updated", "followup.updated", "message.created",
                                                   "conversation.updated"}
    assert any(e["type"] == "message.created" and (e["data"]["meta"] or {}).get("handoff") for e in feed["events"])


def _first_order(app, customer_id: str) -> str:
    return next(o["id"] for o in app.state.shop.page("orders", None, 1000)["items"] if o["customer_id"] == customer_id)


async def test_workflow_problems_fit_the_contract(app):
    shipped, unpaid = _order_with(app, "已发货"), _order_with(app, "待付款")
    async with client(app) as c:
        for path, route, body, code in (
            (f"/v1/orders/{shipped}/address", "/v1/orders/{id}/address", {"address": "上海"}, "already_shipped"),
            (f"/v1/orders/{unpaid}/refund", "/v1/orders/{id}/refund", {"reason": "x"}, "not_refundable"),
            (f"/v1/orders/{shipped}/refund/approve", "/v1/orders/{id}/refund/approve", {}, "no_refund_request"),
            ("/v1/customers/c047/messages", "/v1/customers/{id}/messages", {"body": "亲"}, "opted_out"),
            ("/v1/customers/c003/messages", "/v1/customers/{id}/messages", {"body": "亲"}, "customer_waiting"),
            ("/v1/orders/nope/remarks", "/v1/orders/{id}/remarks", {"body": "x"}, "not_found"),
            ("/v1/customers/nope/messages", "/v1/customers/{id}/messages", {"body": "x"}, "not_found"),
            (f"/v1/orders/{shipped}/refund", "/v1/orders/{id}/refund", {"reason": "x", "amount": -1}, "invalid"),
            ("/v1/followups", "/v1/followups", {"customer_id": "c001", "due_at": "soon", "note": ""}, "invalid"),
        ):
            assert check(await c.post(path, json=body), route)["code"] == code, path
        assert check(await c.patch("/v1/followups/nope", json={"status": "done"}), "/v1/followups/{id}")["code"] == \
            "not_found"
        check(await c.patch("/v1/followups/f_000001", json={"status": "x"}), "/v1/followups/{id}")  # 422
        check(await c.get("/v1/followups", params={"limit": 0}), "/v1/followups")  # 422
        answers = [await c.post("/v1/customers/c005/messages", json={"body": f"通知{i}"}) for i in range(31)]
        limited = check(answers[-1], "/v1/customers/{id}/messages")
        assert limited["code"] == "rate_limited" and int(answers[-1].headers["retry-after"]) >= 1
    async with client(app, S01) as c:  # read-only: every new write is 403
        for path, route in ((f"/v1/orders/{shipped}/remarks", "/v1/orders/{id}/remarks"), ("/v1/followups", "/v1/followups"),
                            ("/v1/customers/c001/messages", "/v1/customers/{id}/messages")):
            assert check(await c.post(path, json={"body": "x"}), route)["code"] == "read_only"
        check(await c.patch("/v1/followups/f_000001", json={"status": "done"}), "/v1/followups/{id}")


# -- presence ------------------------------------------------------------------------------------------


async def test_presence_and_its_event_fit_the_contract(app):
    async with client(app) as c:
        head = (await c.get("/v1/events/head")).json()["cursor"]
        away = check(await c.put("/v1/me/status", json={"status": "away"}, headers={"Idempotency-Key": "k-away"}),
                     "/v1/me/status")
        assert away["status"] == "away" and away["online"] is False
        check(await c.put("/v1/me/status", json={"status": "online"}), "/v1/me/status")
        feed = check(await c.get("/v1/events", params={"after": head}), "/v1/events")
        assert check(await c.put("/v1/me/status", json={"status": "offline"}), "/v1/me/status")["code"] == "invalid"
        assert check(await c.put("/v1/me/status", json={}), "/v1/me/status")["code"] == "invalid"
        agents = check(await c.get("/v1/agents"), "/v1/agents")
    assert [e["data"]["status"] for e in feed["events"] if e["type"] == "agent.status"] == ["away", "online"]
    assert {a["status"] for a in agents["items"]} <= {"online", "away", "offline"}
    async with client(app, S01) as c:
        assert check(await c.put("/v1/me/status", json={"status": "away"}), "/v1/me/status")["code"] == "read_only"
    async with client(app, None) as anyone:
        check(await anyone.put("/v1/me/status", json={"status": "away"}), "/v1/me/status")  # 401
