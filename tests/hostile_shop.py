"""A hostile shop for tests: ASGI middleware around the real reference shop that makes
chosen requests misbehave the way real servers, proxies and platforms do – bodies
trickled a byte at a time, redirects, huge bodies, gzip bombs, cursors that never end,
503 storms with absurd Retry-After, bodies that are not JSON or not JSON at all, and
pages where bad objects sit among good ones. Served over loopback by uvicorn
(``shop_helpers.loopback_server(..., wrap=Hostile)``), so the client sees real sockets."""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode

Send = Callable[[dict], Awaitable[None]]
Behaviour = Callable[["Hostile", dict, Callable, Send], Awaitable[None]]


@dataclass
class Rule:
    method: str
    path: str  # exact path, or a prefix ending in "*"
    behaviour: Behaviour
    times: int | None = None  # None: every matching request
    hits: int = 0

    def matches(self, scope: dict) -> bool:
        if scope["method"] != self.method:
            return False
        if self.path.endswith("*"):
            return scope["path"].startswith(self.path[:-1])
        return scope["path"] == self.path


@dataclass
class Hostile:
    """Wraps the shop app; ``on(...)`` adds a misbehaviour, ``calm()`` removes them all."""

    app: Callable
    rules: list[Rule] = field(default_factory=list)
    seen: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every request

    def on(self, method: str, path: str, behaviour: Behaviour, times: int | None = None) -> Rule:
        rule = Rule(method, path, behaviour, times)
        self.rules.append(rule)
        return rule

    def calm(self) -> None:
        self.rules.clear()

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p in self.seen if m == method and p == path)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        self.seen.append((scope["method"], scope["path"]))
        for rule in list(self.rules):
            if rule.matches(scope) and (rule.times is None or rule.hits < rule.times):
                rule.hits += 1
                return await rule.behaviour(self, scope, receive, send)
        return await self.app(scope, receive, send)

    async def real_answer(self, scope, receive) -> tuple[int, list, bytes]:
        """What the real shop answers this request (status, headers, body)."""
        parts: dict = {"body": b""}

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                parts["status"], parts["headers"] = message["status"], message.get("headers", [])
            elif message["type"] == "http.response.body":
                parts["body"] += message.get("body", b"")

        await self.app(scope, receive, capture)
        return parts["status"], parts["headers"], parts["body"]


async def _answer(send: Send, status: int, body: bytes, headers: list | None = None,
                  content_type: bytes = b"application/json") -> None:
    head = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


# -- misbehaviours ----------------------------------------------------------------------------------


def trickle(every: float, body: bytes = b'{"cursor": "0"}') -> Behaviour:
    """The whole body, one byte every ``every`` seconds (each read is quick: only an
    overall deadline ends it). Stops when the client hangs up."""
    async def behave(h, scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            for i in range(len(body)):
                await send({"type": "http.response.body", "body": body[i:i + 1], "more_body": i + 1 < len(body)})
                await asyncio.wait([gone], timeout=every)
                if gone.done():
                    return
        except OSError:
            return
        finally:
            gone.cancel()

    return behave


async def _disconnected(receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def redirect(location: str, status: int = 301) -> Behaviour:
    """A redirect that also carries a JSON body (the 301 that once counted as success)."""
    async def behave(h, scope, receive, send):
        await _answer(send, status, json.dumps({"items": [], "next": None}).encode(),
                      [(b"location", location.encode())])

    return behave


def huge(total: int, chunk: int = 1 << 20) -> Behaviour:
    """A JSON page of ``total`` bytes or more, streamed without a length (chunked)."""
    async def behave(h, scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        item = json.dumps({"id": "c", "name": "x" * 1000}).encode() + b","
        block = item * max(1, chunk // len(item))
        sent = 0
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            await send({"type": "http.response.body", "body": b'{"items": [', "more_body": True})
            while sent < total and not gone.done():
                await send({"type": "http.response.body", "body": block, "more_body": True})
                sent += len(block)
                await asyncio.sleep(0)  # let the hang-up be noticed
            await send({"type": "http.response.body", "body": b'{}], "next": null}', "more_body": False})
        except OSError:
            return
        finally:
            gone.cancel()

    return behave


@lru_cache(maxsize=4)
def gzip_bomb(decompressed: int) -> bytes:
    """gzip of ``decompressed`` zero bytes (about a thousandth of that in size)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip container
    zeros = b"0" * (1 << 20)
    out = [packer.compress(zeros) for _ in range(decompressed >> 20)]
    out.append(packer.flush())
    return b"".join(out)


def bomb(decompressed: int) -> Behaviour:
    async def behave(h, scope, receive, send):
        body = gzip_bomb(decompressed)
        await _answer(send, 200, body, [(b"content-encoding", b"gzip")])

    return behave


def status(code: int, retry_after: str | None = None, body: bytes = b'{"code": "unavailable"}') -> Behaviour:
    async def behave(h, scope, receive, send):
        headers = [(b"retry-after", retry_after.encode())] if retry_after is not None else []
        await _answer(send, code, body, headers, b"application/problem+json")

    return behave


def raw(body: bytes, content_type: bytes = b"application/json", code: int = 200) -> Behaviour:
    """Exactly these bytes (malformed JSON, HTML from a proxy…)."""
    async def behave(h, scope, receive, send):
        await _answer(send, code, body, content_type=content_type)

    return behave


def _query(scope: dict) -> dict[str, str]:
    return dict(parse_qsl(scope.get("query_string", b"").decode()))


def same_page_forever(next_of: Callable[[str | None], str | None]) -> Behaviour:
    """The real first page, always, whatever ``after`` asks; ``next`` = next_of(after)."""
    async def behave(h, scope, receive, send):
        query = _query(scope)
        first = dict(scope, query_string=f"limit={query.get('limit', '200')}".encode())
        code, headers, body = await h.real_answer(first, receive)
        page = json.loads(body)
        page["next"] = next_of(query.get("after"))
        await _answer(send, code, json.dumps(page, ensure_ascii=False).encode())

    return behave


def rewired(next_of: Callable[[str | None, str | None], str | None]) -> Behaviour:
    """The real answer for the ``after`` asked, with ``next`` = next_of(after, real next)."""
    async def behave(h, scope, receive, send):
        code, headers, body = await h.real_answer(scope, receive)
        page = json.loads(body)
        page["next"] = next_of(_query(scope).get("after"), page.get("next"))
        await _answer(send, code, json.dumps(page, ensure_ascii=False).encode())

    return behave


def mixed_in(bad: list[bytes], key: str = "items") -> Behaviour:
    """The real answer with ``bad`` elements (raw JSON text, possibly not JSON at all)
    spliced in among the good ones; the real shop is asked for that many fewer, so the
    page still holds no more than the client asked for."""
    async def behave(h, scope, receive, send):
        query = _query(scope)
        if "limit" in query:
            query["limit"] = str(max(1, int(query["limit"]) - len(bad)))
        code, headers, body = await h.real_answer(dict(scope, query_string=urlencode(query).encode()), receive)
        page = json.loads(body)
        good = [json.dumps(x, ensure_ascii=False).encode() for x in page[key]]
        elements = []
        for n, element in enumerate(good):
            elements.append(element)
            if n < len(bad):
                elements.append(bad[n])
        elements.extend(bad[len(good):])
        rest = json.dumps({k: v for k, v in page.items() if k != key}, ensure_ascii=False).encode()[1:-1]
        spliced = b'{"' + key.encode() + b'": [' + b", ".join(elements) + b"]" + (b", " + rest if rest else b"") + b"}"
        await _answer(send, code, spliced)

    return behave
