"""The Chatwoot double's ActionCable socket over a real uvicorn on 127.0.0.1 with a real
websocket client: welcome, subscribe/confirm/reject, pings, the events of each write
with Chatwoot's payloads (echo_id included), presence, no replay after a reconnect and
the socket faults."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chatwoot_helpers import ACCOUNT, LINJIE, XIAOMEI, conforms, loopback_double
from conftest import ANCHOR

C = f"{ACCOUNT}/conversations"
TIMEOUT = 10.0


@pytest.fixture
def double(tmp_path):
    with loopback_double(tmp_path / "chatwoot.sqlite", anchor=ANCHOR) as (url, app):
        yield url, app


def _identifier(pubsub_token: str, user_id, account_id=1) -> str:
    return json.dumps({"channel": "RoomChannel", "pubsub_token": pubsub_token, "account_id": account_id,
                       "user_id": user_id})


async def _receive(ws, predicate, timeout: float = TIMEOUT) -> dict:
    """The next frame that satisfies ``predicate`` (others are skipped), within ``timeout``."""
    async def loop():
        while True:
            frame = json.loads(await ws.recv())
            if predicate(frame):
                return frame

    return await asyncio.wait_for(loop(), timeout)


def _event(name: str):
    return lambda f: isinstance(f.get("message"), dict) and f["message"].get("event") == name


async def _subscribed(url: str, token: str = XIAOMEI):
    """An open socket subscribed as the token's user, and that user's profile."""
    async with httpx.AsyncClient(base_url=url, headers={"api_access_token": token}) as http:
        me = (await http.get("/api/v1/profile")).json()
    ws = await connect(url.replace("http", "ws") + "/cable", subprotocols=["actioncable-v1-json"])
    assert json.loads(await ws.recv()) == {"type": "welcome"}
    identifier = _identifier(me["pubsub_token"], me["id"])
    await ws.send(json.dumps({"command": "subscribe", "identifier": identifier}))
    confirm = await _receive(ws, lambda f: f.get("type") in ("confirm_subscription", "reject_subscription"))
    assert confirm == {"identifier": identifier, "type": "confirm_subscription"}
    return ws, me, identifier


async def test_subscribe_confirm_presence_and_pings(double):
    url, app = double
    ws, me, identifier = await _subscribed(url)
    async with ws:
        assert ws.subprotocol == "actioncable-v1-json"
        presence = await _receive(ws, _event("presence.update"))
        assert presence["identifier"] == identifier
        assert presence["message"]["data"]["users"][str(me["id"])] == "online"  # the subscription is presence
        ping = await _receive(ws, lambda f: f.get("type") == "ping")
        assert isinstance(ping["message"], int)
        await ws.send(json.dumps({"command": "message", "identifier": identifier,
                                  "data": json.dumps({"action": "update_presence"})}))
        assert (await _receive(ws, _event("presence.update")))["message"]["data"]["account_id"] == 1
    async with httpx.AsyncClient(base_url=url, headers={"api_access_token": XIAOMEI}) as http:
        agents = {a["name"]: a["availability_status"] for a in (await http.get(f"{ACCOUNT}/agents")).json()}
    assert agents["小美"] == "online"


@pytest.mark.parametrize("change", ["token", "user", "account", "channel"])
async def test_a_bad_subscription_is_rejected(double, change):
    url, app = double
    params = {"channel": "RoomChannel", "pubsub_token": "ps-a01-xiaomei", "account_id": 1, "user_id": 1}
    params |= {"token": {"pubsub_token": "ps-nobody"}, "user": {"user_id": 2}, "account": {"account_id": 2},
               "channel": {"channel": "NotificationChannel"}}[change]
    async with connect(url.replace("http", "ws") + "/cable") as ws:
        await _receive(ws, lambda f: f.get("type") == "welcome")
        identifier = json.dumps(params)
        await ws.send(json.dumps({"command": "subscribe", "identifier": identifier}))
        assert await _receive(ws, lambda f: "type" in f and f["type"] != "ping") == {
            "identifier": identifier, "type": "reject_subscription"}


async def test_each_write_broadcasts_chatwoot_events(double):
    url, app = double
    ws, me, identifier = await _subscribed(url)
    async with ws, httpx.AsyncClient(base_url=url, headers={"api_access_token": XIAOMEI}) as http:
        cid = (await http.get(C, params={"assignee_type": "me"})).json()["data"]["payload"][0]["id"]
        r = await http.post(f"{C}/{cid}/messages", json={"content": "亲，这边帮您看一下", "echo_id": "outbox-9"})
        created = await _receive(ws, _event("message.created"))
        data = created["message"]["data"]
        conforms("message_push", data)
        assert data["id"] == r.json()["id"] and data["echo_id"] == "outbox-9" and data["account_id"] == 1
        assert data["sender"]["name"] == "小美" and data["conversation_id"] == cid

        await http.post(f"{C}/{cid}/toggle_status", json={"status": "resolved"})
        changed = await _receive(ws, _event("conversation.status_changed"))
        conforms("conversation_push", changed["message"]["data"])
        assert changed["message"]["data"]["status"] == "resolved"
        assert (await _receive(ws, _event("conversation.updated")))["message"]["data"]["id"] == cid
        activity = await _receive(ws, _event("message.created"))
        assert activity["message"]["data"]["message_type"] == 2 and "echo_id" not in activity["message"]["data"]

        agents = {a["name"]: a["id"] for a in (await http.get(f"{ACCOUNT}/agents")).json()}
        await http.post(f"{C}/{cid}/assignments", json={"assignee_id": agents["阿杰"]})
        assigned = await _receive(ws, _event("assignee.changed"))
        assert assigned["message"]["data"]["meta"]["assignee"]["name"] == "阿杰"
        teams = {t["name"]: t["id"] for t in (await http.get(f"{ACCOUNT}/teams")).json()}
        await http.post(f"{C}/{cid}/assignments", json={"team_id": teams["客诉"]})
        team = await _receive(ws, _event("team.changed"))
        assert team["message"]["data"]["meta"]["team"] == {"id": teams["客诉"], "name": "客诉"}

        said = app.state.chatwoot.say("新来的客人", "在吗")
        new = await _receive(ws, _event("conversation.created"))
        assert new["message"]["data"]["id"] == said["conversation_id"]
        incoming = await _receive(ws, _event("message.created"))
        assert incoming["message"]["data"]["message_type"] == 0
        assert incoming["message"]["data"]["sender"]["type"] == "contact"

        await http.delete(f"{C}/{cid}/messages/{data['id']}")
        updated = await _receive(ws, _event("message.updated"))
        assert updated["message"]["data"]["content_attributes"]["deleted"] is True
        contact = changed["message"]["data"]["meta"]["sender"]["id"]
        await http.put(f"{ACCOUNT}/contacts/{contact}", json={"custom_attributes": {"vip_level": 3}})
        contact_event = await _receive(ws, _event("contact.updated"))
        conforms("contact_push", contact_event["message"]["data"])
        assert contact_event["message"]["data"]["custom_attributes"]["vip_level"] == 3

        await http.put("/api/v1/profile", json={"profile": {"availability": "busy"}})
        presence = await _receive(ws, _event("presence.update"))
        assert presence["message"]["data"]["users"][str(me["id"])] == "busy"


async def test_every_user_gets_the_account_events_including_the_administrator(double):
    url, app = double
    agent_ws, _, _ = await _subscribed(url, XIAOMEI)
    admin_ws, _, _ = await _subscribed(url, LINJIE)
    async with agent_ws, admin_ws:
        said = app.state.chatwoot.say("芒果布丁不要芒果", "还在吗")
        for ws in (agent_ws, admin_ws):
            got = await _receive(ws, _event("message.created"))
            assert got["message"]["data"]["id"] == said["message_id"]


async def test_nothing_is_replayed_after_a_reconnect(double):
    url, app = double
    state = app.state.chatwoot
    ws, me, identifier = await _subscribed(url)
    first = state.say("断线测试", "第一条")
    got = await _receive(ws, _event("message.created"))
    assert got["message"]["data"]["id"] == first["message_id"]
    await ws.close()
    missed = state.say("断线测试", "断线时发的")
    ws, me, identifier = await _subscribed(url)
    async with ws:
        after = state.say("断线测试", "重连后发的")
        got = await _receive(ws, _event("message.created"))
        assert got["message"]["data"]["id"] == after["message_id"] != missed["message_id"]
    async with httpx.AsyncClient(base_url=url, headers={"api_access_token": XIAOMEI}) as http:
        caught_up = (await http.get(f"{C}/{first['conversation_id']}/messages",
                                    params={"after": first["message_id"]})).json()["payload"]
    assert [m["id"] for m in caught_up] == [missed["message_id"], after["message_id"]]  # REST catches up


async def test_socket_faults_drop_and_refuse(double):
    url, app = double
    ws, _, _ = await _subscribed(url)
    async with httpx.AsyncClient(base_url=url) as control:
        r = await control.post("/_double/cable", json={"drop": True, "down": True})
        assert r.json()["dropped"] == 1
        with pytest.raises(ConnectionClosed):
            await _receive(ws, lambda f: False)
        with pytest.raises(InvalidStatus):
            await connect(url.replace("http", "ws") + "/cable")
        await control.post("/_double/cable", json={"down": False})
    ws, _, _ = await _subscribed(url)
    await ws.close()
