"""HTTP for the reference shop: Starlette routes over :class:`ShopState`.

Each API route goes through :func:`_endpoint`, which advances the shop's clock work
(:meth:`ShopState.tick`), adds latency, injects faults, authenticates, then turns the
state's answer (or its :class:`Problem`) into JSON. A small ASGI middleware counts
every write request received. Handlers do short SQLite work under the state's lock.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from agentdesk.shop import faults
from agentdesk.shop.problems import Problem, invalid
from agentdesk.shop.state import Key, ShopState

MAX_WAIT = 30.0
#: The largest integer a cursor, seq or limit may be (SQLite's INTEGER).
MAX_INT = 2**63 - 1
CUSTOMER_SAY = "/v1/customer/say"
log = logging.getLogger("agentdesk.shop")


def _json(status: int, body: dict) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status_code=status, media_type="application/json")


def number(raw: str, name: str, what: str, lowest: int = 0) -> int:
    """A query parameter that must be a plain decimal integer in [lowest, MAX_INT]:
    "1e3", "-1", "٣" or a 40-digit number are 422, never a 500 from SQLite."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19 or not lowest <= int(raw) <= MAX_INT:
        raise invalid(name, f"expected {what}")
    return int(raw)


def _limit(request: Request) -> int:
    value = number(request.query_params.get("limit", "200"), "limit", "an integer 1-1000", 1)
    if value > 1000:
        raise invalid("limit", "expected an integer 1-1000")
    return value


def _int_param(request: Request, name: str, what: str) -> int | None:
    raw = request.query_params.get(name)
    return number(raw, name, what) if raw else None


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")


async def _body(request: Request) -> dict:
    """The JSON object sent, remembered with its digest for the Idempotency-Key check."""
    raw = await request.body()
    data: object = {}
    if raw:
        try:
            data = json.loads(raw, parse_constant=_not_json)
            canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise invalid("body", "not valid JSON") from None
        except RecursionError:
            raise invalid("body", "nested too deeply") from None
        except UnicodeEncodeError:  # a lone surrogate escape: not text anyone can store or read
            raise invalid("body", "text that is not valid Unicode") from None
        except ValueError:  # NaN or Infinity: not JSON
            raise invalid("body", "not valid JSON") from None
    else:
        canonical = b"{}"
    if not isinstance(data, dict):
        raise invalid("body", "expected a JSON object")
    request.state.digest = hashlib.sha256(canonical).hexdigest()
    return data


def _authenticate(request: Request, state: ShopState) -> dict:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "unauthorized", "send Authorization: Bearer <token>")
    agent = state.agent_by_token(token.strip())
    if agent is None:
        raise Problem(401, "unauthorized", "unknown token")
    return agent


Handler = Callable[[Request, ShopState, dict | None], Awaitable[Response]]


def _endpoint(handler: Handler, *, write: bool = False, auth: bool = True, events: bool = False):
    async def endpoint(request: Request) -> Response:
        state: ShopState = request.app.state.shop
        fault = None
        try:
            state.tick()
            if state.latency_ms:
                await asyncio.sleep(state.latency_ms / 1000)
            fault = state.faults.pick(events=events, write=write) if auth else None
            request.state.fault = fault.kind if fault else None
            if fault and not fault.late:
                if fault.kind == "timeout":
                    await asyncio.sleep(state.faults.timeout_s)
                elif fault.kind in ("500", "503", "429", "drop"):
                    return faults.failure(fault.kind)
            agent = None
            if auth:
                agent = _authenticate(request, state)
                if write and agent["read_only"]:  # every write route is declared write=True
                    raise Problem(403, "read_only", "this supervisor token is read-only")
                state.seen(agent["id"])
                agent = state.agent(agent["id"], with_read_only=True)
            response = await handler(request, state, agent)
        except Problem as p:
            return faults.problem_response(p, p.headers)
        except Exception:
            log.exception("%s %s failed", request.method, request.url.path)
            return faults.problem_response(Problem(500, "server_error", "unexpected error"))
        if fault and fault.late:  # the write committed; its answer is late or lost
            if fault.kind == "timeout":
                await asyncio.sleep(state.faults.timeout_s)
                return response
            return faults.failure(fault.kind, late=True)
        if fault and fault.kind == "malformed":
            return faults.failure("malformed")
        return response

    return endpoint


class CountWrites:
    """ASGI middleware: every write request received (anything but GET/HEAD, valid or
    not, authenticated or not), except the customer side, adds one to
    ``state.write_count``: read-only clients can be checked to send none."""

    def __init__(self, app, state: ShopState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD") and scope["path"] != CUSTOMER_SAY:
            self.state.write_count += 1
        await self.app(scope, receive, send)


async def _http_problem(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 404:
        return faults.problem_response(Problem(404, "not_found", f"no route {request.url.path}"))
    return Response(exc.detail, status_code=exc.status_code, headers=exc.headers)


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
    found = state.customer(request.path_params["id"])
    if found is None:
        raise Problem(404, "not_found", f"customer {request.path_params['id']}")
    return _json(200, found)


async def conversation(request, state, agent):
    found = state.conversation(request.path_params["id"])
    if found is None:
        raise Problem(404, "not_found", f"conversation {request.path_params['id']}")
    return _json(200, found)


async def thread(request, state, agent):
    before = _int_param(request, "before", "a sequence number")
    return _json(200, state.thread(request.path_params["id"], before, _limit(request)))


async def quick_replies(request, state, agent):
    return _json(200, {"items": state.quick_replies()})


async def events_head(request, state, agent):
    return _json(200, {"cursor": str(state.head)})


async def events(request, state, agent):
    after = _int_param(request, "after", "a cursor") or 0
    raw_wait = request.query_params.get("wait") or "0"
    try:
        wait = float(raw_wait)
    except ValueError:
        raise invalid("wait", "expected seconds 0-30") from None
    if not 0 <= wait <= MAX_WAIT:
        raise invalid("wait", "expected seconds 0-30")
    limit = _limit(request)
    await state.wait_for_events(after, wait)
    items = state.events(after, limit)
    nxt = items[-1]["cursor"] if items else str(after)
    fault = request.state.fault
    if fault in ("duplicate", "reorder"):  # at-least-once, and not always in order
        items = faults.garble_events(fault, items, state.events_before(after, 3))
    return _json(200, {"events": items, "next": nxt})


# -- writes --------------------------------------------------------------------------------------


def _key(request: Request) -> Key | None:
    """The Idempotency-Key with the request it names (read after the body)."""
    key = request.headers.get("idempotency-key", "").strip()
    if len(key) > 200:
        raise invalid("Idempotency-Key", "longer than 200 characters")
    if not key:
        return None
    digest = getattr(request.state, "digest", None) or hashlib.sha256(b"{}").hexdigest()
    return Key(key, f"{request.method} {request.url.path} {digest}")


async def set_status(request, state, agent):
    return _json(*state.set_status(agent, await _body(request), _key(request)))


async def post_message(request, state, agent):
    return _json(*state.post_message(agent, request.path_params["id"], await _body(request), _key(request)))


async def claim(request, state, agent):
    await _body(request)
    return _json(*state.claim(agent, request.path_params["id"], _key(request)))


async def transfer(request, state, agent):
    return _json(*state.transfer(agent, request.path_params["id"], await _body(request), _key(request)))


async def patch(request, state, agent):
    return _json(*state.patch(agent, request.path_params["id"], await _body(request), _key(request)))


async def add_note(request, state, agent):
    return _json(*state.add_note(agent, request.path_params["id"], await _body(request), _key(request)))


async def order_address(request, state, agent):
    return _json(*state.order_address(agent, request.path_params["id"], await _body(request), _key(request)))


async def order_refund(request, state, agent):
    return _json(*state.order_refund(agent, request.path_params["id"], await _body(request), _key(request)))


async def order_refund_approve(request, state, agent):
    await _body(request)
    return _json(*state.order_refund_approve(agent, request.path_params["id"], _key(request)))


async def order_remark(request, state, agent):
    return _json(*state.order_remark(agent, request.path_params["id"], await _body(request), _key(request)))


async def add_followup(request, state, agent):
    return _json(*state.add_followup(agent, await _body(request), _key(request)))


async def patch_followup(request, state, agent):
    return _json(*state.patch_followup(agent, request.path_params["id"], await _body(request), _key(request)))


async def outreach(request, state, agent):
    return _json(*state.outreach(agent, request.path_params["id"], await _body(request), _key(request)))


async def customer_say(request, state, agent):
    data = await _body(request)
    return _json(201, state.say(data.get("customer"), data.get("body")))


def create_app(db_path: Path | str, **options) -> Starlette:
    """The reference shop as an ASGI app; ``app.state.shop`` is its :class:`ShopState`,
    built with ``options`` (seed, simulate, colleagues, fail_rate, latency_ms, fault_seed,
    anchor, clock, content_dir: see ShopState)."""
    state = ShopState(db_path, **options)
    e = _endpoint
    routes = [
        Route("/v1/me", e(me), methods=["GET"]),
        Route("/v1/me/status", e(set_status, write=True), methods=["PUT"]),
        Route("/v1/agents", e(agents), methods=["GET"]),
        Route("/v1/groups", e(groups), methods=["GET"]),
        Route("/v1/customers", e(_lister("customers")), methods=["GET"]),
        Route("/v1/customers/{id}", e(customer), methods=["GET"]),
        Route("/v1/customers/{id}/notes", e(add_note, write=True), methods=["POST"]),
        Route("/v1/customers/{id}/messages", e(outreach, write=True), methods=["POST"]),
        Route("/v1/orders", e(_lister("orders")), methods=["GET"]),
        Route("/v1/orders/{id}/address", e(order_address, write=True), methods=["POST"]),
        Route("/v1/orders/{id}/refund", e(order_refund, write=True), methods=["POST"]),
        Route("/v1/orders/{id}/refund/approve", e(order_refund_approve, write=True), methods=["POST"]),
        Route("/v1/orders/{id}/remarks", e(order_remark, write=True), methods=["POST"]),
        Route("/v1/conversations", e(_lister("conversations")), methods=["GET"]),
        Route("/v1/conversations/{id}", e(conversation), methods=["GET"]),
        Route("/v1/conversations/{id}", e(patch, write=True), methods=["PATCH"]),
        Route("/v1/conversations/{id}/messages", e(thread), methods=["GET"]),
        Route("/v1/conversations/{id}/messages", e(post_message, write=True), methods=["POST"]),
        Route("/v1/conversations/{id}/claim", e(claim, write=True), methods=["POST"]),
        Route("/v1/conversations/{id}/transfer", e(transfer, write=True), methods=["POST"]),
        Route("/v1/messages", e(_lister("messages")), methods=["GET"]),
        Route("/v1/notes", e(_lister("notes")), methods=["GET"]),
        Route("/v1/followups", e(_lister("followups")), methods=["GET"]),
        Route("/v1/followups", e(add_followup, write=True), methods=["POST"]),
        Route("/v1/followups/{id}", e(patch_followup, write=True), methods=["PATCH"]),
        Route("/v1/quick-replies", e(quick_replies), methods=["GET"]),
        Route("/v1/events/head", e(events_head), methods=["GET"]),
        Route("/v1/events", e(events, events=True), methods=["GET"]),
        Route(CUSTOMER_SAY, e(customer_say, auth=False), methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_problem})
    app.add_middleware(CountWrites, state=state)
    app.state.shop = state
    faults.quiet_drops()
    return app


def serve(host: str, port: int, db_path: Path | str, **options) -> None:
    """Run the reference shop with uvicorn; its clock work also ticks every 0.5 s so
    simulated customers write in with no client connected."""
    app = create_app(db_path, **options)
    run_with_ticker(app, host, port, app.state.shop.tick)


def run_with_ticker(app, host: str, port: int, tick: Callable[[], object], every: float = 0.5) -> None:
    """Serve ``app`` with uvicorn, calling ``tick`` every ``every`` seconds meanwhile."""
    import uvicorn

    async def ticker() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                tick()
            except Exception:  # keep ticking; the next request shows the problem
                log.exception("tick failed")

    async def main() -> None:
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
        task = asyncio.create_task(ticker())
        try:
            await server.serve()
        finally:
            task.cancel()

    asyncio.run(main())
