"""HTTP for the Chatwoot double: Starlette routes over :class:`ChatwootState`, the
ActionCable socket at ``/cable`` and the double's own test routes under ``/_double/``.

Each Application API route goes through :func:`_endpoint`: the clock work
(:meth:`ChatwootState.tick`), injected latency and faults (before or after acting),
``api_access_token`` authentication, the strict parameter check, then the handler. The
test routes (customers writing in, fault control) are no part of Chatwoot, need no
token and are never faulted; they exist because the double only listens on loopback.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from agentdesk.chatwoot_double import cable, strict
from agentdesk.chatwoot_double.faults import failure
from agentdesk.chatwoot_double.problems import INVALID_TOKEN, NOT_FOUND, SIGN_IN, ApiError
from agentdesk.chatwoot_double.state import ChatwootState
from agentdesk.shop.faults import quiet_drops

log = logging.getLogger("agentdesk.chatwoot_double")
ACCOUNT = "/api/v1/accounts/{account_id}"


def _json(body, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status_code=status, media_type="application/json")


def _error(e: ApiError) -> Response:
    return _json(e.body(), e.status)


async def _body(request: Request) -> dict:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


def _query(request: Request) -> dict:
    """Query parameters as Rails reads them (``labels[]=a&labels[]=b`` -> a list)."""
    out: dict = {}
    for key in request.query_params:
        if key.endswith("[]") or key == "labels":
            out[key.removesuffix("[]")] = request.query_params.getlist(key)
        else:
            out[key] = request.query_params[key]
    return out


Handler = Callable[[Request, ChatwootState, object, dict], Awaitable[Response]]


def _endpoint(name: str, handler: Handler, *, write: bool = False, account: bool = True):
    async def endpoint(request: Request) -> Response:
        state: ChatwootState = request.app.state.chatwoot
        state.requests += 1
        try:
            state.tick()
            rule, delay = state.faults.pick(name, request.method, write=write)
            if delay:
                await asyncio.sleep(delay / 1000)
            if rule is not None and rule.kind == "timeout":
                await asyncio.sleep(state.faults.timeout_s)
                rule = None
            if rule is not None and not (rule.after and write):
                return failure(rule)
            user = _authenticate(request, state)
            if account and request.path_params.get("account_id") != "1":
                raise ApiError(401, "You are not authorized to access this account")
            body = await _body(request) if write else {}
            strict.check(name, request.query_params.keys(), body)
            response = await handler(request, state, user, body)
        except ApiError as e:
            return _error(e)
        except Exception:
            log.exception("%s %s failed", request.method, request.url.path)
            return _json({"error": "internal server error"}, 500)
        if rule is not None:  # the write is done; its answer is lost
            return failure(rule)
        return response

    return endpoint


def _authenticate(request: Request, state: ChatwootState):
    token = request.headers.get("api_access_token") or request.headers.get("api-access-token")
    if not token:
        raise ApiError(401, SIGN_IN, devise=True)
    user = state.user_by_token(token.strip())
    if user is None:
        raise ApiError(401, INVALID_TOKEN)
    return user


async def _not_found(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 404:
        return _json({"error": NOT_FOUND}, 404)
    return Response(exc.detail, status_code=exc.status_code, headers=exc.headers)


def _p(request: Request, key: str):
    return request.path_params[key]


# -- Application API handlers: (request, state, user, body) -> Response ----------------------------


async def profile_show(r, s, u, b):
    return _json(s.profile(u))


async def profile_update(r, s, u, b):
    return _json(s.update_profile(u, b))


async def agents(r, s, u, b):
    return _json(s.agents())


async def teams(r, s, u, b):
    return _json(s.teams(u))


async def team_members(r, s, u, b):
    return _json(s.team_members(_p(r, "team_id")))


async def inboxes(r, s, u, b):
    return _json({"payload": s.inboxes(u)})


async def labels(r, s, u, b):
    return _json({"payload": s.labels()})


async def label_create(r, s, u, b):
    return _json(s.create_label(u, b))


async def canned_responses(r, s, u, b):
    return _json(s.canned_responses(r.query_params.get("search")))


async def conversations(r, s, u, b):
    return _json(s.conversations(u, _query(r)))


async def conversations_meta(r, s, u, b):
    return _json(s.conversations_meta(u, _query(r)))


async def conversation(r, s, u, b):
    return _json(s.conversation(u, _p(r, "id")))


async def conversation_create(r, s, u, b):
    return _json(s.create_conversation(u, b))


async def toggle_status(r, s, u, b):
    return _json(s.toggle_status(u, _p(r, "id"), b))


async def toggle_priority(r, s, u, b):
    s.toggle_priority(u, _p(r, "id"), b)
    return Response(b"", status_code=200)  # head :ok


async def update_last_seen(r, s, u, b):
    return _json(s.update_last_seen(u, _p(r, "id")))


async def unread(r, s, u, b):
    return _json(s.update_last_seen(u, _p(r, "id"), unread=True))


async def assignments(r, s, u, b):
    return _json(s.assign(u, _p(r, "id"), b))


async def conversation_labels(r, s, u, b):
    return _json(s.conversation_labels(u, _p(r, "id")))


async def conversation_labels_create(r, s, u, b):
    return _json(s.set_labels(u, _p(r, "id"), b))


async def messages(r, s, u, b):
    return _json(s.messages(u, _p(r, "id"), _query(r)))


async def message_create(r, s, u, b):
    return _json(s.create_message(u, _p(r, "id"), b))


async def message_update(r, s, u, b):
    return _json(s.update_message_status(u, _p(r, "id"), _p(r, "message_id"), b))


async def message_destroy(r, s, u, b):
    return _json(s.delete_message(u, _p(r, "id"), _p(r, "message_id")))


async def contact_update(r, s, u, b):
    return _json(s.update_contact(_p(r, "id"), b))


async def contacts(r, s, u, b):
    return _json(s.contacts(_query(r)))


async def contacts_search(r, s, u, b):
    return _json(s.contacts(_query(r), search=True))


async def contact(r, s, u, b):
    return _json(s.contact(_p(r, "id"), _query(r)))


async def contact_conversations(r, s, u, b):
    return _json(s.contact_conversations(u, _p(r, "id")))


async def notes(r, s, u, b):
    return _json(s.notes(_p(r, "id")))


async def note_create(r, s, u, b):
    return _json(s.add_note(u, _p(r, "id"), b))


# -- the double's test routes ------------------------------------------------------------------------


def _test_route(fn: Callable[[ChatwootState, dict], object]):
    async def endpoint(request: Request) -> Response:
        state: ChatwootState = request.app.state.chatwoot
        try:
            body = await _body(request)
            return _json(fn(state, body))
        except ApiError as e:
            return _error(e)
        except (ValueError, TypeError) as e:
            return _json({"error": str(e)}, 422)

    return endpoint


def _say(state: ChatwootState, body: dict) -> dict:
    unknown = set(body) - {"inbox_id", "contact", "content"}
    if unknown:
        raise ApiError(422, f"unpermitted parameters: {', '.join(sorted(unknown))}")
    return state.say(body.get("contact"), body.get("content"), int(body.get("inbox_id") or 1))


def _add_fault(state: ChatwootState, body: dict) -> dict:
    fields = {"kind", "route", "method", "rate", "times", "after", "retry_after", "latency_ms", "seconds"}
    unknown = set(body) - fields
    if unknown:
        raise ApiError(422, f"unpermitted parameters: {', '.join(sorted(unknown))}")
    rule = state.faults.add(**{k: v for k, v in body.items() if k != "kind"}, kind=body.get("kind"))
    return {"kind": rule.kind, "route": rule.route}


def _clear_faults(state: ChatwootState, body: dict) -> dict:
    state.faults.clear()
    return {"cleared": True}


def _cable(state: ChatwootState, body: dict) -> dict:
    if "down" in body:
        state.faults.cable_down = bool(body["down"])
    dropped = state.drop_sockets() if body.get("drop") else 0
    return {"down": state.faults.cable_down, "dropped": dropped}


def create_app(db_path: Path | str, **options) -> Starlette:
    """The double as an ASGI app; ``app.state.chatwoot`` is its :class:`ChatwootState`
    (``options``: seed, anchor, clock, simulate, fail_rate, latency_ms, fault_seed)."""
    state = ChatwootState(db_path, **options)
    hub = cable.Hub()
    state.publish = hub.publish
    state.drop_sockets = hub.drop_all
    e, w = _endpoint, (lambda name, fn: _endpoint(name, fn, write=True))
    a = ACCOUNT
    routes = [
        Route("/api/v1/profile", _endpoint("profile.show", profile_show, account=False), methods=["GET"]),
        Route("/api/v1/profile", _endpoint("profile.update", profile_update, write=True, account=False),
              methods=["PUT", "PATCH"]),
        Route(f"{a}/agents", e("agents.index", agents), methods=["GET"]),
        Route(f"{a}/teams", e("teams.index", teams), methods=["GET"]),
        Route(f"{a}/teams/{{team_id}}/team_members", e("team_members.index", team_members), methods=["GET"]),
        Route(f"{a}/inboxes", e("inboxes.index", inboxes), methods=["GET"]),
        Route(f"{a}/labels", e("labels.index", labels), methods=["GET"]),
        Route(f"{a}/labels", w("labels.create", label_create), methods=["POST"]),
        Route(f"{a}/canned_responses", e("canned_responses.index", canned_responses), methods=["GET"]),
        Route(f"{a}/conversations", e("conversations.index", conversations), methods=["GET"]),
        Route(f"{a}/conversations", w("conversations.create", conversation_create), methods=["POST"]),
        Route(f"{a}/conversations/meta", e("conversations.meta", conversations_meta), methods=["GET"]),
        Route(f"{a}/conversations/{{id}}", e("conversations.show", conversation), methods=["GET"]),
        Route(f"{a}/conversations/{{id}}/toggle_status", w("conversations.toggle_status", toggle_status),
              methods=["POST"]),
        Route(f"{a}/conversations/{{id}}/toggle_priority", w("conversations.toggle_priority", toggle_priority),
              methods=["POST"]),
        Route(f"{a}/conversations/{{id}}/update_last_seen", w("conversations.update_last_seen", update_last_seen),
              methods=["POST"]),
        Route(f"{a}/conversations/{{id}}/unread", w("conversations.unread", unread), methods=["POST"]),
        Route(f"{a}/conversations/{{id}}/assignments", w("assignments.create", assignments), methods=["POST"]),
        Route(f"{a}/conversations/{{id}}/labels", e("conversation_labels.index", conversation_labels),
              methods=["GET"]),
        Route(f"{a}/conversations/{{id}}/labels", w("conversation_labels.create", conversation_labels_create),
              methods=["POST"]),
        Route(f"{a}/conversations/{{id}}/messages", e("messages.index", messages), methods=["GET"]),
        Route(f"{a}/conversations/{{id}}/messages", w("messages.create", message_create), methods=["POST"]),
        Route(f"{a}/conversations/{{id}}/messages/{{message_id}}", w("messages.update", message_update),
              methods=["PATCH"]),
        Route(f"{a}/conversations/{{id}}/messages/{{message_id}}", w("messages.destroy", message_destroy),
              methods=["DELETE"]),
        Route(f"{a}/contacts", e("contacts.index", contacts), methods=["GET"]),
        Route(f"{a}/contacts/search", e("contacts.search", contacts_search), methods=["GET"]),
        Route(f"{a}/contacts/{{id}}", e("contacts.show", contact), methods=["GET"]),
        Route(f"{a}/contacts/{{id}}", w("contacts.update", contact_update), methods=["PUT", "PATCH"]),
        Route(f"{a}/contacts/{{id}}/conversations", e("contact_conversations.index", contact_conversations),
              methods=["GET"]),
        Route(f"{a}/contacts/{{id}}/notes", e("notes.index", notes), methods=["GET"]),
        Route(f"{a}/contacts/{{id}}/notes", w("notes.create", note_create), methods=["POST"]),
        WebSocketRoute("/cable", cable.endpoint),
        Route("/_double/say", _test_route(_say), methods=["POST"]),
        Route("/_double/faults", _test_route(_add_fault), methods=["POST"]),
        Route("/_double/faults", _test_route(_clear_faults), methods=["DELETE"]),
        Route("/_double/cable", _test_route(_cable), methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _not_found})
    app.state.chatwoot = state
    app.state.hub = hub
    quiet_drops()
    return app


def serve(host: str, port: int, db_path: Path | str, **options) -> None:
    """Run the double with uvicorn; the clock work also ticks every 0.5 s so simulated
    customers write in and snoozes end with no client connected."""
    from agentdesk.shop.server import run_with_ticker

    app = create_app(db_path, **options)
    run_with_ticker(app, host, port, app.state.chatwoot.tick)
