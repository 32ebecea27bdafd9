"""docs/shop-api.yaml is valid OpenAPI 3.1, matches the reference server route for
route, and the server's real answers fit its schemas."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from conftest import ANCHOR

DOCS = Path(__file__).resolve().parent.parent / "docs"
SPEC = yaml.safe_load((DOCS / "shop-api.yaml").read_text(encoding="utf-8"))
METHODS = {"get", "post", "patch", "put", "delete"}


@pytest.fixture
def app(tmp_path):
    from agentdesk.shop.server import create_app

    return create_app(tmp_path / "shop.sqlite", seed="demo", anchor=ANCHOR)


def test_the_yaml_is_valid_openapi_31():
    validate(SPEC)
    assert SPEC["openapi"].startswith("3.1")


def test_every_documented_route_is_served_and_vice_versa(app):
    documented = {(path, m.upper()) for path, item in SPEC["paths"].items() for m in item if m in METHODS}
    served = {(r.path, m) for r in app.routes for m in (r.methods or ()) if m != "HEAD"}
    assert documented == served


def test_the_readable_page_mentions_every_path():
    page = (DOCS / "shop-api.md").read_text(encoding="utf-8")
    for path in SPEC["paths"]:
        assert path.split("{")[0].rstrip("/") in page, path


def schema_for(name: str) -> Draft202012Validator:
    """A validator of one component schema, resolving $refs inside the document."""
    root = {"$defs": SPEC["components"]["schemas"]}
    text = yaml.safe_dump(root).replace("#/components/schemas/", "#/$defs/")
    defs = yaml.safe_load(text)
    return Draft202012Validator({**defs, "$ref": f"#/$defs/{name}"})


async def test_real_answers_fit_the_schemas(app):
    headers = {"Authorization": "Bearer demo-a01-xiaomei"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", headers=headers) as c:
        checks = {
            "CustomerPage": (await c.get("/v1/customers", params={"limit": 50})).json(),
            "OrderPage": (await c.get("/v1/orders", params={"limit": 200})).json(),
            "ConversationPage": (await c.get("/v1/conversations", params={"limit": 200})).json(),
            "MessagePage": (await c.get("/v1/messages", params={"limit": 1000})).json(),
            "NotePage": (await c.get("/v1/notes", params={"limit": 200})).json(),
            "Message": (await c.post("/v1/conversations/cv-c001-1/messages",
                                     json={"body": "亲，在的", "kind": "reply"})).json(),
            "Conversation": (await c.post("/v1/conversations/cv-c001-1/transfer",
                                          json={"to_agent_id": "a02", "note": "换货"})).json(),
            "Problem": (await c.post("/v1/conversations/cv-c001-1/messages", json={"body": ""})).json(),
        }
        events = (await c.get("/v1/events", params={"after": 0})).json()["events"]
    for name, answer in checks.items():
        errors = list(schema_for(name).iter_errors(answer))
        assert not errors, f"{name}: {errors[0].message}"
    for event in events:
        assert not list(schema_for("Event").iter_errors(event))
