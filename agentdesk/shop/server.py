"""HTTP for the reference shop: Starlette routes over :class:`ShopState`.

Each API route goes through :func:`_endpoint`, which counts writes, advances the
simulator, authenticates, adds latency and injects faults, then turns the state's
answer (or its :class:`Problem`) into JSON. Handlers are plain and synchronous in
spirit: SQLite work is short and guarded by the state's lock.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agentdesk.shop import content
from agentdesk.shop.problems import Problem, invalid
from agentdesk.shop.state import ShopState

MAX_WAIT = 30.0


class DropConnection(Exception):
    """Raised mid-response to cut the connection (a "drop" fault)."""


class _Dropped(Response):
    """Starts an answer and dies half-way: over a socket the client sees the
    connection cut; over ASGI transport, a truncated body."""

    def __init__(self) -> None:
        super().__init__(b"")

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")]})
        await send({"type": "http.response.body", "body": b'{"partial": ', "more_body": True})
        raise DropConnection()


def _json(status: int, body: dict, headers: dict | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status_code=status, headers=headers,
                    media_type="application/json")


def _problem(p: Problem, headers: dict | None = None) -> Response:
    return Response(json.dumps(p.body(), ensure_ascii=False), status_code=p.status, headers=headers,
                    media_type="application/problem+json")


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "200")
    try:
        value = int(raw)
    except ValueError:
        raise invalid("limit", "expected an integer 1-1000") from None
    if not 1 <= value <= 1000:
        raise invalid("limit", "expected an integer 1-1000")
    return value


async def _body(request: Request) -> dict:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise invalid("body", "not valid JSON") from None
    if not isinstance(data, dict):
        raise invalid("body", "expected a JSON object")
    return data


Handler = Callable[[Request, ShopState, dict | None], Awaitable[Response]]


def _endpoint(handler: Handler, *, write: bool = False, auth: bool = True, events: bool = False):
    async def endpoint(request: Request) -> Response:
        state: ShopState = request.app.state.shop
        if write:
            state.write_count += 1
        state.tick()
        if state.latency_ms:
            await asyncio.sleep(state.latency_ms / 1000)
        fault = state.pick_fault(events=events, write=write) if auth else None
        late = write and fault in ("500", "drop") and state.after_commit()
        request.state.fault = fault
        try:
            if fault and not late:
                early = await _fault_before(state, fault)
                if early is not None:
                    return early
            agent = None
            if auth:
                agent = _authenticate(request, state)
                if write and agent["read_only"]:
                    raise Problem(403, "read_only", "this supervisor token is read-only")
                state.seen(agent["id"])
                agent = state.agent(agent["id"])
            response = await handler(request, state, agent)
        except Problem as p:
            return _problem(p)
        if late:  # the write committed; its answer is lost
            if fault == "drop":
                return _Dropped()
            return _problem(Problem(500, "server_error", "injected fault after commit"))
        if fault == "malformed":
            return Response(b'{"items": [', status_code=200, media_type="application/json")
        return response

    return endpoint


async def _fault_before(state: ShopState, fault: str) -> Response | None:
    if fault == "500":
        return _problem(Problem(500, "server_error", "injected fault"))
    if fault == "503":
        return _problem(Problem(503, "unavailable", "injected fault"), {"Retry-After": "1"})
    if fault == "429":
        return _problem(Problem(429, "rate_limited", "slow down"), {"Retry-After": "1"})
    if fault == "timeout":
        await asyncio.sleep(state.timeout_s)
        return None
    if fault == "drop":
        return _Dropped()
    return None  # malformed / duplicate / reorder act on the answer


def _authenticate(request: Request, state: ShopState) -> dict:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Problem(401, "unauthorized", "send Authorization: Bearer <token>")
    agent = state.agent_by_token(token.strip())
    if agent is None:
        raise Problem(401, "unauthorized", "unknown token")
    return agent


# -- reads -------------------------------------------------------------------------------------


async def me(request, state, agent):
    return _json(200, {"agent": agent, "shop": state.shop()})


async def agents(request, state, agent):
    return _json(200, {"items": state.agents()})


async def groups(request, state, agent):
    return _json(200, {"items": state.groups()})


def _lister(resource: str):
    async def handler(request, state, agent):
        return _json(200, state.page(resource, request.query_params.get("after"), _limit(request)))

    return handler


async def customer(request, state, agent):
    c = state.customer(request.path_params["id"])
    if c is None:
        raise Problem(404, "not_found", f"customer {request.path_params['id']}")
    return _json(200, c)


async def conversation(request, state, agent):
    c = state.conversation(request.path_params["id"])
    if c is None:
        raise Problem(404, "not_found", f"conversation {request.path_params['id']}")
    return _json(200, c)


async def thread(request, state, agent):
    before = request.query_params.get("before")
    try:
        before_seq = int(before) if before else None
    except ValueError:
        raise invalid("before", "expected a sequence number") from None
    return _json(200, state.thread(request.path_params["id"], before_seq, _limit(request)))


async def quick_replies(request, state, agent):
    return _json(200, {"items": content.quick_replies()})


async def events_head(request, state, agent):
    return _json(200, {"cursor": str(state.head)})


async def events(request, state, agent):
    q = request.query_params
    try:
        after = int(q.get("after") or 0)
    except ValueError:
        raise invalid("after", "expected a cursor") from None
    try:
        wait = min(MAX_WAIT, max(0.0, float(q.get("wait") or 0)))
    except ValueError:
        raise invalid("wait", "expected seconds 0-30") from None
    limit = _limit(request)
    deadline = time.monotonic() + wait
    while state.head <= after and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        state.tick()
    items = state.events(after, limit)
    nxt = items[-1]["cursor"] if items else str(after)
    fault = getattr(request.state, "fault", None)
    if fault == "duplicate" and items:  # at-least-once: some events come again
        items = state.events_before(after, 3) + items + items[: max(1, len(items) // 3)]
    elif fault == "reorder":
        items = list(reversed(items))
    return _json(200, {"events": items, "next": nxt})


# -- writes --------------------------------------------------------------------------------------


def _key(request: Request) -> str | None:
    return request.headers.get("idempotency-key") or None


async def post_message(request, state, agent):
    status, body = state.post_message(agent, request.path_params["id"], await _body(request), _key(request))
    return _json(status, body)


async def claim(request, state, agent):
    await _body(request)
    status, body = state.claim(agent, request.path_params["id"], _key(request))
    return _json(status, body)


async def transfer(request, state, agent):
    status, body = state.transfer(agent, request.path_params["id"], await _body(request), _key(request))
    return _json(status, body)


async def patch(request, state, agent):
    status, body = state.patch(agent, request.path_params["id"], await _body(request), _key(request))
    return _json(status, body)


async def add_note(request, state, agent):
    status, body = state.add_note(agent, request.path_params["id"], await _body(request), _key(request))
    return _json(status, body)


async def customer_say(request, state, agent):
    data = await _body(request)
    return _json(201, state.say(data.get("customer"), data.get("body")))


def create_app(
    db_path: Path | str,
    *,
    seed: str | None = "demo",
    simulate: float = 0.0,
    fail_rate: float = 0.0,
    latency_ms: int = 0,
    fault_seed: int = 0,
    anchor: float | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    state = ShopState(db_path, seed=seed, simulate=simulate, fail_rate=fail_rate, latency_ms=latency_ms,
                      fault_seed=fault_seed, anchor=anchor, clock=clock)
    e = _endpoint
    routes = [
        Route("/v1/me", e(me), methods=["GET"]),
        Route("/v1/agents", e(agents), methods=["GET"]),
        Route("/v1/groups", e(groups), methods=["GET"]),
        Route("/v1/customers", e(_lister("customers")), methods=["GET"]),
        Route("/v1/customers/{id}", e(customer), methods=["GET"]),
        Route("/v1/customers/{id}/notes", e(add_note, write=True), methods=["POST"]),
        Route("/v1/orders", e(_lister("orders")), methods=["GET"]),
        Route("/v1/conversations", e(_lister("conversations")), methods=["GET"]),
        Route("/v1/conversations/{id}", e(conversation), methods=["GET"]),
        Route("/v1/conversations/{id}", e(patch, write=True), methods=["PATCH"]),
        Route("/v1/conversations/{id}/messages", e(thread), methods=["GET"]),
        Route("/v1/conversations/{id}/messages", e(post_message, write=True), methods=["POST"]),
        Route("/v1/conversations/{id}/claim", e(claim, write=True), methods=["POST"]),
        Route("/v1/conversations/{id}/transfer", e(transfer, write=True), methods=["POST"]),
        Route("/v1/messages", e(_lister("messages")), methods=["GET"]),
        Route("/v1/notes", e(_lister("notes")), methods=["GET"]),
        Route("/v1/quick-replies", e(quick_replies), methods=["GET"]),
        Route("/v1/events/head", e(events_head), methods=["GET"]),
        Route("/v1/events", e(events, events=True), methods=["GET"]),
        Route("/v1/customer/say", e(customer_say, auth=False), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.shop = state
    return app


def serve(host: str, port: int, db_path: Path | str, **options) -> None:
    """Run the reference shop with uvicorn; the simulator also ticks on a timer."""
    import uvicorn

    app = create_app(db_path, **options)

    async def ticker() -> None:
        while True:
            await asyncio.sleep(0.5)
            app.state.shop.tick()

    async def main() -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        task = asyncio.create_task(ticker())
        try:
            await server.serve()
        finally:
            task.cancel()

    asyncio.run(main())
