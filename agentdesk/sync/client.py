"""The shop API client on ``httpx.AsyncClient``.

Transient failures (connection errors, timeouts, 429, 5xx, a body cut off) are retried
with exponential backoff and full jitter, honouring ``Retry-After`` up to
:data:`MAX_RETRY_AFTER`; anything else is raised at once as :class:`ApiError` carrying
the problem JSON's stable ``code``. Writes are safe to retry because every write
carries an ``Idempotency-Key``.

Nothing waits forever and nothing is too big: each request has an overall deadline
(httpx's timeouts are per read, so a body trickled a byte at a time would never end),
the body is capped both as sent and as decompressed (a gzip bomb), and a page may not
hold more than was asked for. What only a change of config fixes – a redirect, a TLS
failure, a refused token – is a :class:`SetupError` that names what to change.

:class:`ShopReader` has no write methods at all: read-only modes (the supervisor
monitor) are built on it, so they cannot write by construction.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from agentdesk import __version__
from agentdesk.quoting import quoted
from agentdesk.sync import wire

#: A write told to come back later than this (seconds) is handed back to its caller at
#: once: the outbox postpones that row and goes on with the others, instead of this
#: request holding every reply behind it (outreach hits a per-minute limit).
WRITE_WAITS_AT_MOST = 5.0
#: The longest ``Retry-After`` obeyed, for reads and writes alike: a shop asking for
#: 100 000 s is asked again after this, and the header counts the wait down meanwhile.
MAX_RETRY_AFTER = 60.0
#: Whole request, body included (a long-poll adds its wait).
DEADLINE = 60.0
#: Largest body accepted, as sent and as decompressed: a full page of 1000 messages
#: of 10 000 Chinese characters each is ~30 MB.
MAX_BODY_BYTES = 64 * 1024 * 1024

T = TypeVar("T")


class ApiError(Exception):
    """The server refused (4xx other than 429), or a transient failure outlived the
    retries. ``kind`` and ``args_`` let a screen say it in its own language."""

    kind = "refused"

    def __init__(self, status: int, code: str, detail: str, problem: dict | None = None, **params: str) -> None:
        super().__init__(f"{status} {code}: {detail}" if status else f"{code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.problem = problem or {}
        self.params = params


class Unavailable(ApiError):
    """Could not get an answer now (network, timeout, 429, 5xx, a body cut off); try later."""

    kind = "unavailable"

    def __init__(self, detail: str, status: int = 0, retry_after: float | None = None, *, kind: str = "",
                 **params: str) -> None:
        super().__init__(status, "unavailable", detail, **params)
        self.retry_after = retry_after
        if kind:
            self.kind = kind

    def __str__(self) -> str:
        return self.detail


class BadAnswer(ApiError):
    """The shop answered something agentdesk cannot use (too big, not JSON where JSON
    belongs, a page that breaks the contract). Asking again at once gives the same."""

    kind = "bad_answer"

    def __init__(self, url: str, detail: str, **params: str) -> None:
        super().__init__(0, "bad_answer", f"{url}: {detail}", url=url, **params)

    def __str__(self) -> str:
        return self.detail


class SetupError(ApiError):
    """Only a change of configuration helps (a redirect, TLS, a refused token): retrying
    soon is pointless, and the message says what to change."""

    kind = "setup"

    def __init__(self, status: int, code: str, detail: str, problem: dict | None = None, **params: str) -> None:
        super().__init__(status, code, detail, problem, **params)

    def __str__(self) -> str:
        return self.detail


class AuthError(SetupError):
    """The token was rejected (401): retrying will not help."""

    kind = "auth"


class Redirected(SetupError):
    kind = "redirect"


class TLSFailure(SetupError):
    kind = "tls"


class BadEndpoint(ValueError):
    """``[shop] url`` or the token cannot be used at all (checked before any request)."""


def check_endpoint(url: str, token: str) -> None:
    """Raise :class:`BadEndpoint` for a URL or token no request could be made with: the
    same rules the config applies when it is read (a client can be made without one)."""
    from agentdesk.config import token_problem, url_problem

    problem = url_problem(url)
    if problem:
        raise BadEndpoint(f"[shop] url {problem}, got {quoted(url)}")
    problem = token_problem(token) if token else "is empty"
    if problem:
        raise BadEndpoint(f"[shop] token (or $AGENTDESK_TOKEN) {problem}")


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds (a number or an HTTP date), at most MAX_RETRY_AFTER."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


def _tls_failure(exc: BaseException) -> ssl.SSLError | None:
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, ssl.SSLError):
            return exc
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        seen += 1
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
        deadline: float = DEADLINE,
        max_body: int = MAX_BODY_BYTES,
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rng: random.Random | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        check_endpoint(base_url, token)
        self.base_url = base_url.rstrip("/")
        parsed = httpx.URL(self.base_url)
        self.host = parsed.host
        #: host:port as the user wrote it, for "cannot reach …"
        self.where = f"{parsed.host}:{parsed.port}" if parsed.port else parsed.host
        self.timeout = timeout
        self.deadline = deadline
        self.max_body = max_body
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
            verify=verify,
        )
        self.requests = 0  # requests sent, retries included (for tests and the bench)
        #: Told before each backoff sleep: (seconds, the failure, whether a write waits).
        self.on_retry: Callable[[float, Unavailable, bool], None] | None = None

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
        decode: Callable[[bytes], T],
        *,
        params: dict | None = None,
        body: dict | None = None,
        key: str | None = None,
        wait: float = 0.0,
        max_wait: float | None = None,
    ) -> T:
        """``decode`` of the answer's body (a 2xx); raises ApiError and its kinds. A body
        that is not JSON (cut off) is retried like any blip; a write is safe to retry."""
        headers = {"Idempotency-Key": key} if key else None
        url = f"{self.base_url}{path}"
        last: Unavailable | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                delay = self._delay(attempt, last.retry_after if last else None)
                if self.on_retry is not None and last is not None:
                    self.on_retry(delay, last, max_wait is not None)
                await self._sleep(delay)
            self.requests += 1
            try:
                content = await self._once(method, path, params, body, headers, wait)
                return decode(content)
            except wire.Garbled as exc:
                last = Unavailable(f"{method} {url}: the answer is not JSON ({exc})", kind="garbled", url=url)
            except wire.Violation as exc:
                raise BadAnswer(url, str(exc)) from None
            except Unavailable as exc:
                if max_wait is not None and (exc.retry_after or 0) > max_wait:
                    raise
                last = exc
        assert last is not None
        raise last

    async def _once(self, method: str, path: str, params, body, headers, wait: float) -> bytes:
        url = f"{self.base_url}{path}"
        timeout = httpx.Timeout(self.timeout + wait, connect=min(self.timeout, 5.0)) if wait else \
            httpx.USE_CLIENT_DEFAULT
        deadline = self.deadline + wait
        try:
            async with asyncio.timeout(deadline):
                async with self._http.stream(method, path, params=params, json=body, headers=headers,
                                             timeout=timeout) as response:
                    status = response.status_code
                    if 300 <= status < 400:
                        raise self._redirected(url, path, response)
                    if status == 429 or status >= 500:
                        retry = retry_after_seconds(response.headers.get("Retry-After"))
                        raise Unavailable(f"{method} {url}: HTTP {status}", status, retry, kind="busy",
                                          http=str(status), host=self.host)
                    content = await self._read(url, response)
        except TimeoutError:
            raise Unavailable(f"{method} {url}: no complete answer within {deadline:g} s", kind="timeout",
                              host=self.where) from None
        except httpx.TimeoutException as exc:
            raise Unavailable(f"{method} {url}: {type(exc).__name__}", kind="timeout", host=self.where) from None
        except httpx.TransportError as exc:
            tls = _tls_failure(exc)
            if tls is not None:
                raise self._tls(tls) from None
            raise Unavailable(f"{method} {url}: {type(exc).__name__} ({exc})" if str(exc) else
                              f"{method} {url}: {type(exc).__name__}", kind="unreachable", host=self.where) from None
        except httpx.DecodingError as exc:
            raise Unavailable(f"{method} {url}: the body could not be decompressed ({exc})", kind="garbled",
                              url=url) from None
        if status >= 400:
            raise _refusal(status, content, url)
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media and "json" not in media:
            raise BadAnswer(url, f"the shop answered {media}, not JSON; is [shop] url the shop's API?")
        return content

    async def _read(self, url: str, response: httpx.Response) -> bytes:
        """The whole body, never more than max_body as sent or as decompressed."""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise BadAnswer(url, f"a body of {int(declared):,} bytes, more than the {self.max_body:,} accepted")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_body or response.num_bytes_downloaded > self.max_body:
                raise BadAnswer(url, f"a body of more than {self.max_body:,} bytes "
                                     f"({response.num_bytes_downloaded:,} sent, {size:,} decompressed so far)")
            chunks.append(chunk)
        return b"".join(chunks)

    def _redirected(self, url: str, path: str, response: httpx.Response) -> Redirected:
        location = response.headers.get("location", "")
        if not location:
            return Redirected(response.status_code, "redirect",
                              f"the shop URL answers {response.status_code} (a redirect) without saying where "
                              f"({url}); check [shop] url", to="?")
        target = str(response.url.join(location))
        base = target.split("?", 1)[0]
        if base.endswith(path):  # the same API elsewhere: suggest its base, not one route
            base = base[: len(base) - len(path)]
        return Redirected(response.status_code, "redirect",
                          f"the shop URL redirects to {base}; set [shop] url to it "
                          f"({response.status_code} for {url})", to=base)

    def _tls(self, exc: ssl.SSLError) -> TLSFailure:
        if isinstance(exc, ssl.SSLCertVerificationError):
            why = exc.verify_message or exc.reason or "verification failed"
            return TLSFailure(0, "tls", f"certificate verify failed for {self.host} ({why}); "
                              "fix the shop's certificate or [shop] url", host=self.host)
        return TLSFailure(0, "tls", f"TLS with {self.host} failed ({exc.reason or exc}); check [shop] url "
                          "(https:// to a server that speaks http?)", host=self.host)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Full jitter (AWS style): uniform(0, min(cap, base·2^attempt)), at least Retry-After."""
        ceiling = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        delay = self._rng.uniform(0, ceiling)
        return max(delay, retry_after or 0.0)

    async def _get(self, path: str, decode: Callable[[bytes], T], **params: Any) -> T:
        params = {k: v for k, v in params.items() if v is not None}
        return await self._request("GET", path, decode, params=params or None)

    async def get(self, path: str, **params: Any) -> Any:
        """Any GET as plain Python data."""
        return await self._get(path, wire.document, **params)

    # -- reads ----------------------------------------------------------------------------

    async def me(self) -> wire.Me:
        return await self._get("/v1/me", wire.me)

    async def agents(self) -> wire.Page:
        return await self._get("/v1/agents", lambda content: wire.items("agents", content))

    async def groups(self) -> list[dict]:
        data = await self.get("/v1/groups")
        items = data.get("items") if isinstance(data, dict) else None
        return [g for g in items if isinstance(g, dict)] if isinstance(items, list) else []

    async def page(self, resource: str, after: str | None = None, limit: int = 500) -> wire.Page:
        """One keyset page of customers | orders | conversations | messages | notes | followups."""
        return await self._get(f"/v1/{resource}", lambda content: wire.page(resource, content, after=after, limit=limit),
                               after=after, limit=limit)

    async def conversation(self, conversation_id: str) -> dict:
        """One conversation (raises wire.PayloadError when it is malformed)."""
        return wire.conversation(await self.get(f"/v1/conversations/{conversation_id}"))

    async def thread(self, conversation_id: str, before: int | None = None, limit: int = 50) -> wire.Page:
        """A newest-first page of one conversation (``next``: pass it as ``before``)."""
        return await self._get(f"/v1/conversations/{conversation_id}/messages",
                               lambda content: wire.page("messages", content, after=None, limit=limit),
                               before=before, limit=limit)

    async def quick_replies(self) -> wire.Page:
        return await self._get("/v1/quick-replies", lambda content: wire.items("quick-replies", content))

    async def events_head(self) -> str:
        return await self._get("/v1/events/head", wire.head)

    async def events(self, after: str, wait: float = 0, limit: int = 500) -> wire.Feed:
        """Long-poll the feed; the request's timeouts stretch to cover ``wait``."""
        params = {"after": after, "wait": int(wait), "limit": limit}
        return await self._request("GET", "/v1/events", lambda content: wire.feed(content, after=after, limit=limit),
                                   params=params, wait=int(wait))


class ShopClient(ShopReader):
    """Reads plus writes. Every write takes the outbox row's id as Idempotency-Key."""

    async def write(self, method: str, path: str, body: dict, key: str) -> Any:
        """The answer as plain Python data (checked by the caller with wire.convert)."""
        return await self._request(method, path, wire.document, body=body, key=key, max_wait=WRITE_WAITS_AT_MOST)

    async def set_status(self, status: str, key: str) -> Any:
        """Show me ``online`` or ``away`` (``PUT /v1/me/status``); answers my Agent."""
        return await self.write("PUT", "/v1/me/status", {"status": status}, key)


def _refusal(status: int, content: bytes, url: str) -> ApiError:
    try:
        data = wire.document(content)
    except wire.Garbled:
        data = None
    problem = data if isinstance(data, dict) else {}
    code = wire.repair_text(str(problem.get("code") or f"http_{status}"))[:100]
    detail = wire.repair_text(str(problem.get("detail") or problem.get("title") or "refused"))[:500]
    if status == 401:
        return AuthError(status, code, f"the shop refused the token (401 {code}: {detail}); "
                         "check [shop] token or $AGENTDESK_TOKEN", problem)
    return ApiError(status, code, detail, problem, url=url)
