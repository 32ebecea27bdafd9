"""The Chatwoot double for tests: in-process over httpx's ASGI transport, or a real
uvicorn on 127.0.0.1 (the socket tests), and the trimmed Chatwoot schemas to check
answers against."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import httpx
import jsonschema

from shop_helpers import serve_in_thread

#: The demo's users: 小美, 阿杰, 小雨, 老周 (agents), 林姐 (administrator).
XIAOMEI, AJIE, XIAOYU, LAOZHOU, LINJIE = "cw-a01-xiaomei", "cw-a02-ajie", "cw-a03-xiaoyu", "cw-a04-laozhou", \
    "cw-s01-linjie"
ACCOUNT = "/api/v1/accounts/1"
_SCHEMAS = json.loads((Path(__file__).parent / "data" / "chatwoot_schemas.json").read_text("utf-8"))


def conforms(name: str, value) -> None:
    """Raise unless ``value`` fits Chatwoot's schema ``name``."""
    jsonschema.validate(value, {"$ref": f"#/schemas/{name}", "schemas": _SCHEMAS["schemas"]})


def client(app, token: str | None = XIAOMEI) -> httpx.AsyncClient:
    headers = {"api_access_token": token} if token else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                             base_url="http://chatwoot.test", headers=headers)


@contextmanager
def loopback_double(db_path, **options):
    """Yield (base url, app) of the double under uvicorn in a thread; stop it after."""
    from agentdesk.chatwoot_double.server import create_app

    app = create_app(db_path, **options)
    with serve_in_thread(app) as url:
        yield url, app
