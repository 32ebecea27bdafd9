"""The shop API client on ``httpx.AsyncClient``.

Transient failures (connection errors, timeouts, 429, 5xx, a garbled body) are retried
with exponential backoff and full jitter, honouring ``Retry-After``; anything else is
raised at once as :class:`ApiError` carrying the problem JSON's stable ``code``.
Writes are safe to retry because every write carries an ``Idempotency-Key``.

:class:`ShopReader` has no write methods at all: read-only modes (the supervisor
monitor) are built on it, so they cannot write by construction.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from agentdesk import __version__

#: A write told to come back later than this (seconds) is handed back to its caller at
#: once: the outbox postpones that row and goes on with the others, instead of this
#: request holding every reply behind it (outreach hits a per-minute limit).
WRITE_WAITS_AT_MOST = 5.0


class ApiError(Exception):
    """The server refused (4xx other than 429), or a transient failure outlived the retries."""

    def __init__(self, status: int, code: str, detail: str, problem: dict | None = None) -> None:
        super().__init__(f"{status} {code}: {detail}" if status else f"{code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.problem = problem or {}


class Unavailable(ApiError):
    """Could not get an answer now (network, timeout, 429, 5xx, garbled body); try later."""

    def __init__(self, detail: str, status: int = 0, retry_after: float | None = None) -> None:
        super().__init__(status, "unavailable", detail)
        self.retry_after = retry_after


class AuthError(ApiError):
    """The token was rejected (401): retrying will not help."""


def retry_after_seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class ShopReader:
    """Every read of the API contract (docs/shop-api.md)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": f"agentdesk/{__version__}",
                "Accept": "application/json",
            },
            follow_redirects=False,
        )
        self.requests = 0  # requests sent, retries included (for tests and the bench)

    def __repr__(self) -> str:  # never show the token
        return f"{type(self).__name__}({self.base_url!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    # -- the one request loop --------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        body: dict | None = None,
        key: str | None = None,
        timeout: float | None = None,
        max_wait: float | None = None,
    ) -> dict:
        headers = {"Idempotency-Key": key} if key else None
        last: Unavailable | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                await self._sleep(self._delay(attempt, last.retry_after if last else None))
            self.requests += 1
            try:
                response = await self._http.request(
                    method, path, params=params, json=body, headers=headers,
                    timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except httpx.TransportError as exc:
                last = Unavailable(f"{method} {path}: {type(exc).__name__}")
                continue
            status = response.status_code
            if status == 429 or status >= 500:
                last = Unavailable(
                    f"{method} {path}: HTTP {status}", status, retry_after_seconds(response.headers.get("Retry-After"))
                )
                if max_wait is not None and (last.retry_after or 0) > max_wait:
                    raise last
                continue
            try:
                data = response.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                last = Unavailable(f"{method} {path}: the server sent a body that is not JSON", status)
                continue
            if status >= 400:
                raise _refusal(status, data)
            if not isinstance(data, dict):
                last = Unavailable(f"{method} {path}: expected a JSON object", status)
                continue
            return data
        assert last is not None
        raise last

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Full jitter (AWS style): uniform(0, min(cap, base·2^attempt)), at least Retry-After."""
        ceiling = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        delay = self._rng.uniform(0, ceiling)
        return max(delay, retry_after or 0.0)

    async def get(self, path: str, **params: Any) -> dict:
        params = {k: v for k, v in params.items() if v is not None}
        return await self._request("GET", path, params=params or None)

    # -- reads ----------------------------------------------------------------------------

    async def me(self) -> dict:
        return await self.get("/v1/me")

    async def agents(self) -> list[dict]:
        return (await self.get("/v1/agents")).get("items", [])

    async def groups(self) -> list[dict]:
        return (await self.get("/v1/groups")).get("items", [])

    async def page(self, resource: str, after: str | None = None, limit: int = 500) -> tuple[list, str | None]:
        """One keyset page of customers | orders | conversations | messages | notes."""
        data = await self.get(f"/v1/{resource}", after=after, limit=limit)
        return _items(data, resource), data.get("next")

    async def conversation(self, conversation_id: str) -> dict:
        return await self.get(f"/v1/conversations/{conversation_id}")

    async def thread(self, conversation_id: str, before: int | None = None, limit: int = 50) -> tuple[list, str | None]:
        data = await self.get(f"/v1/conversations/{conversation_id}/messages", before=before, limit=limit)
        return _items(data, "messages"), data.get("next")

    async def quick_replies(self) -> list[dict]:
        return (await self.get("/v1/quick-replies")).get("items", [])

    async def events_head(self) -> str:
        return str((await self.get("/v1/events/head")).get("cursor", "0"))

    async def events(self, after: str, wait: float = 0, limit: int = 500) -> tuple[list[dict], str]:
        """Long-poll the feed; the request timeout stretches to cover ``wait``."""
        params = {"after": after, "wait": int(wait), "limit": limit}
        data = await self._request("GET", "/v1/events", params=params, timeout=self.timeout + wait)
        events = data.get("events")
        if not isinstance(events, list):
            raise Unavailable("GET /v1/events: answer has no events list")
        return events, str(data.get("next") or after)


class ShopClient(ShopReader):
    """Reads plus writes. Every write takes the outbox row's id as Idempotency-Key."""

    async def write(self, method: str, path: str, body: dict, key: str) -> dict:
        return await self._request(method, path, body=body, key=key, max_wait=WRITE_WAITS_AT_MOST)

    async def set_status(self, status: str, key: str) -> dict:
        """Show me ``online`` or ``away`` (``PUT /v1/me/status``); answers my Agent."""
        return await self.write("PUT", "/v1/me/status", {"status": status}, key)


def _items(data: dict, what: str) -> list:
    items = data.get("items")
    if not isinstance(items, list):
        raise Unavailable(f"GET /v1/{what}: answer has no items list")
    return items


def _refusal(status: int, data: Any) -> ApiError:
    problem = data if isinstance(data, dict) else {}
    code = str(problem.get("code") or f"http_{status}")
    detail = str(problem.get("detail") or problem.get("title") or "refused")
    cls = AuthError if status == 401 else ApiError
    return cls(status, code, detail, problem)
