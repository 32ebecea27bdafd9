"""The Chatwoot double's Application API in-process (httpx ASGI transport, a real SQLite
file): every route against Chatwoot's schemas, auth and roles, the finders' paging,
filters and sorts, the write semantics (toggle_status/snooze, priority, labels replace,
assignments, echo_id), strict parameter checks and every fault."""

from __future__ import annotations

import httpx
import pytest

from agentdesk.chatwoot_double.server import create_app
from chatwoot_helpers import ACCOUNT, AJIE, LINJIE, XIAOMEI, XIAOYU, client, conforms
from conftest import ANCHOR
from shop_helpers import Clock

C = f"{ACCOUNT}/conversations"


@pytest.fixture
def clock():
    return Clock(ANCHOR)


@pytest.fixture
def app(tmp_path, clock):
    return create_app(tmp_path / "chatwoot.sqlite", anchor=ANCHOR, clock=clock)


@pytest.fixture
def state(app):
    return app.state.chatwoot


async def _open_conversation(c: httpx.AsyncClient, **params) -> dict:
    r = await c.get(C, params=params)
    assert r.status_code == 200
    return r.json()["data"]["payload"][0]


async def test_every_read_route_answers_in_chatwoot_shape(app):
    async with client(app) as c:
        profile = (await c.get("/api/v1/profile")).json()
        conforms("profile", profile)
        assert profile["pubsub_token"] == "ps-a01-xiaomei" and profile["role"] == "agent"
        assert profile["accounts"][0]["id"] == 1
        agents = (await c.get(f"{ACCOUNT}/agents")).json()
        for a in agents:
            conforms("agent", a)
        assert {a["name"]: a["role"] for a in agents} == {"小美": "agent", "阿杰": "agent", "小雨": "agent",
                                                          "老周": "agent", "林姐": "administrator"}
        teams = (await c.get(f"{ACCOUNT}/teams")).json()
        for t in teams:
            conforms("team", t)
        assert {t["name"]: t["is_member"] for t in teams} == {"售前": True, "售后": True, "客诉": False}
        complaints = next(t for t in teams if t["name"] == "客诉")
        members = (await c.get(f"{ACCOUNT}/teams/{complaints['id']}/team_members")).json()
        assert [m["name"] for m in members] == ["老周"]
        for m in members:
            conforms("agent", m)
        inboxes = (await c.get(f"{ACCOUNT}/inboxes")).json()["payload"]
        assert [i["channel_type"] for i in inboxes] == ["Channel::Api"]
        conforms("inbox", inboxes[0])
        canned = (await c.get(f"{ACCOUNT}/canned_responses")).json()
        for r in canned:
            conforms("canned_response", r)
        assert any("{{contact.name}}" in r["content"] for r in canned)
        assert not any("{customer.name}" in r["content"] or "{shop.name}" in r["content"] for r in canned)
        listing = (await c.get(C)).json()
        conforms("conversation_list", listing)
        first = listing["data"]["payload"][0]
        conforms("conversation", (await c.get(f"{C}/{first['id']}")).json())
        conforms("conversation_meta", (await c.get(f"{C}/meta")).json())
        conforms("message_list", (await c.get(f"{C}/{first['id']}/messages")).json())
        assert (await c.get(f"{C}/{first['id']}/labels")).json() == {"payload": first["labels"]}
        contacts = (await c.get(f"{ACCOUNT}/contacts")).json()
        conforms("contact_list", contacts)
        contact_id = first["meta"]["sender"]["id"]
        shown = (await c.get(f"{ACCOUNT}/contacts/{contact_id}")).json()["payload"]
        conforms("contact", shown)
        assert shown["contact_inboxes"][0]["inbox"]["id"] == inboxes[0]["id"]
        assert {"vip_level", "location"} <= set(shown["custom_attributes"])
        theirs = (await c.get(f"{ACCOUNT}/contacts/{contact_id}/conversations")).json()["payload"]
        assert first["id"] in [x["id"] for x in theirs]
        for x in theirs:
            conforms("conversation", x)


async def test_tokens_and_roles(app):
    async with client(app, token=None) as anon:
        r = await anon.get("/api/v1/profile")
        assert r.status_code == 401 and r.json() == {"errors": ["You need to sign in or sign up before continuing."]}
    async with client(app, token="not-a-token") as bad:
        r = await bad.get(f"{ACCOUNT}/conversations")
        assert r.status_code == 401 and r.json() == {"error": "Invalid Access Token"}
    async with client(app) as agent:
        assert (await agent.get("/api/v1/accounts/2/conversations")).status_code == 401
        r = await agent.post(f"{ACCOUNT}/labels", json={"title": "新标签"})
        assert r.status_code == 401  # Pundit: agents may not manage labels
        assert (await agent.get(f"{ACCOUNT}/nothing-here")).json() == {"error": "Resource could not be found"}
    async with client(app, token=LINJIE) as admin:
        assert (await admin.get("/api/v1/profile")).json()["role"] == "administrator"
        r = await admin.post(f"{ACCOUNT}/labels", json={"title": "新标签"})
        assert r.status_code == 200 and r.json()["title"] == "新标签"


async def test_conversations_come_25_a_page_with_counts_of_the_whole_tab(app):
    async with client(app) as c:
        first = (await c.get(C, params={"status": "all"})).json()["data"]
        total = first["meta"]["all_count"]
        assert total > 100
        seen, page = [], 1
        while True:
            payload = (await c.get(C, params={"status": "all", "page": page})).json()["data"]["payload"]
            if not payload:
                break
            assert len(payload) == 25 or len(seen) + len(payload) == total
            seen += [x["id"] for x in payload]
            page += 1
        assert len(seen) == len(set(seen)) == total
        times = [x["last_activity_at"] for x in first["payload"]]
        assert times == sorted(times, reverse=True)  # last_activity_at_desc by default
        assert (await c.get(C, params={"page": 0})).status_code == 422


async def test_finder_filters_and_counts(app, state):
    async with client(app) as c:
        mine = (await c.get(C, params={"assignee_type": "me"})).json()["data"]
        everyone = (await c.get(C)).json()["data"]
        assert mine["meta"] == everyone["meta"]  # counts come before the assignee filter
        assert all(x["meta"]["assignee"]["name"] == "小美" for x in mine["payload"])
        unassigned = (await c.get(C, params={"assignee_type": "unassigned"})).json()["data"]
        assert len(unassigned["payload"]) == everyone["meta"]["unassigned_count"] > 0
        assert all("assignee" not in x["meta"] for x in unassigned["payload"])
        resolved = (await c.get(C, params={"status": "resolved"})).json()["data"]["payload"]
        assert resolved and all(x["status"] == "resolved" for x in resolved)
        teams = {t["name"]: t["id"] for t in (await c.get(f"{ACCOUNT}/teams")).json()}
        complaints = (await c.get(C, params={"team_id": teams["客诉"], "status": "all"})).json()["data"]["payload"]
        assert complaints and all(x["meta"]["team"]["name"] == "客诉" for x in complaints)
        label = everyone["payload"][0]["labels"][0]
        tagged = (await c.get(C, params={"labels[]": label})).json()["data"]["payload"]
        assert tagged and all(label in x["labels"] for x in tagged)
        text = "掉毛"
        found = (await c.get(C, params={"q": text})).json()["data"]["payload"]
        assert found
        for x in found:
            contents = [m["content"] for m in (await c.get(f"{C}/{x['id']}/messages")).json()["payload"]]
            assert any(text in (m or "") for m in contents)
        for bad in ({"status": "closed"}, {"assignee_type": "mine"}, {"sort_by": "newest"}, {"team_id": "x"}):
            r = await c.get(C, params=bad)
            assert r.status_code == 422, bad
            conforms("error", r.json())
        assert (await c.get(C, params={"team_id": 99})).status_code == 404


async def test_sort_options(app):
    async with client(app) as c:
        created = (await c.get(C, params={"status": "all", "sort_by": "created_at_asc"})).json()["data"]["payload"]
        stamps = [x["created_at"] for x in created]
        assert stamps == sorted(stamps)
        by_priority = (await c.get(C, params={"sort_by": "priority_desc"})).json()["data"]["payload"]
        ranks = [{"urgent": 3, "high": 2, "medium": 1, "low": 0, None: -1}[x["priority"]] for x in by_priority]
        assert ranks == sorted(ranks, reverse=True) and ranks[0] >= 2
        waiting = (await c.get(C, params={"sort_by": "waiting_since_asc"})).json()["data"]["payload"]
        since = [x["waiting_since"] for x in waiting if x["waiting_since"]]
        assert since == sorted(since)


async def test_updated_within_is_not_paged(app, state, clock):
    async with client(app) as c:
        clock.now += 3600
        touched = []
        for n in range(30):
            touched.append(state.say(f"新客人{n}", "在吗")["conversation_id"])
        r = (await c.get(C, params={"updated_within": 60, "status": "all"})).json()["data"]["payload"]
        assert sorted(x["id"] for x in r) == sorted(touched)  # 30: more than a page


async def test_messages_page_20_before_and_up_to_100_after(app, state, clock):
    ids = []
    for n in range(130):
        clock.now += 1
        ids.append(state.say("话痨客人", f"第{n}条")["message_id"])
    last = state.say("话痨客人", "最后一条")
    cid = last["conversation_id"]
    ids.append(last["message_id"])
    async with client(app) as c:
        latest = (await c.get(f"{C}/{cid}/messages")).json()["payload"]
        assert len(latest) == 20 and latest[-1]["content"] == "最后一条"
        older = (await c.get(f"{C}/{cid}/messages", params={"before": latest[0]["id"]})).json()["payload"]
        assert [m["id"] for m in older] == ids[-40:-20]  # the 20 just older, oldest first
        newer = (await c.get(f"{C}/{cid}/messages", params={"after": ids[0]})).json()["payload"]
        assert [m["id"] for m in newer] == ids[1:101]
        between = (await c.get(f"{C}/{cid}/messages", params={"after": ids[10], "before": ids[15]})).json()["payload"]
        assert [m["id"] for m in between] == ids[10:15]
        assert all(m["message_type"] == 0 and m["sender"]["type"] == "contact" for m in newer)


async def test_echo_id_comes_back_in_the_answer_and_is_stored_nowhere(app, state):
    async with client(app) as c:
        cid = (await _open_conversation(c, assignee_type="me"))["id"]
        r = await c.post(f"{C}/{cid}/messages", json={"content": "亲，L码有现货哦", "echo_id": "outbox-41"})
        assert r.status_code == 200
        sent = r.json()
        conforms("message", sent)
        assert sent["echo_id"] == "outbox-41" and sent["message_type"] == 1 and sent["sender"]["name"] == "小美"
        listed = (await c.get(f"{C}/{cid}/messages")).json()["payload"]
        assert listed[-1]["id"] == sent["id"] and "echo_id" not in listed[-1]
        row = state.conn.execute("SELECT * FROM messages WHERE id = ?", [sent["id"]]).fetchone()
        assert "outbox-41" not in [str(v) for v in tuple(row)]
        again = await c.post(f"{C}/{cid}/messages", json={"content": "亲，L码有现货哦", "echo_id": "outbox-41"})
        assert again.json()["id"] != sent["id"]  # no idempotency: a retry is a second message
        number = await c.post(f"{C}/{cid}/messages", json={"content": "x", "echo_id": 42})
        assert number.json()["echo_id"] == 42  # passed through as sent
        assert (await c.post(f"{C}/{cid}/messages", json={"content": "x", "echo_id": True})).status_code == 422


async def test_strict_checks_refuse_what_chatwoot_does_not_permit(app, state):
    async with client(app) as c:
        cid = (await _open_conversation(c))["id"]
        count = state.conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        cases = [
            c.get(C, params={"assignee": "me"}),
            c.get(C, params={"per_page": 100}),
            c.get(f"{C}/{cid}/messages", params={"limit": 50}),
            c.post(f"{C}/{cid}/messages", json={"content": "x", "idempotency_key": "k"}),
            c.post(f"{C}/{cid}/messages", json={"body": "x"}),
            c.post(f"{C}/{cid}/toggle_status", json={"status": "resolved", "reason": "done"}),
            c.post(f"{C}/{cid}/assignments", json={"agent_id": 2}),
            c.post(C, json={"contact_id": 1, "inbox_id": 1, "message": {"content": "x", "private": True}}),
            c.put("/api/v1/profile", json={"profile": {"status": "busy"}}),
            c.post(f"{C}/{cid}/messages?private=true", json={"content": "x"}),
        ]
        for request in cases:
            r = await request
            assert r.status_code == 422, r.request.url
            assert r.json()["unpermitted"]
        assert state.conn.execute("SELECT count(*) FROM messages").fetchone()[0] == count
        r = await c.post(f"{C}/{cid}/messages", json={"content": "x", "message_type": "activity"})
        assert r.status_code == 422


async def test_toggle_status_snooze_and_reopening(app, state, clock):
    async with client(app) as c:
        conv = await _open_conversation(c)
        cid = conv["id"]
        r = await c.post(f"{C}/{cid}/toggle_status", json={"status": "resolved"})
        conforms("toggle_status", r.json())
        assert r.json()["payload"]["current_status"] == "resolved"
        r = await c.post(f"{C}/{cid}/toggle_status", json={})  # no status: toggles
        assert r.json()["payload"]["current_status"] == "open"
        until = int(ANCHOR) + 3600
        r = await c.post(f"{C}/{cid}/toggle_status", json={"status": "snoozed", "snoozed_until": until})
        assert r.json()["payload"] == {"success": True, "conversation_id": cid, "current_status": "snoozed",
                                       "snoozed_until": "2026-11-20T07:30:00.000Z"}
        shown = (await c.get(f"{C}/{cid}")).json()
        assert shown["status"] == "snoozed" and shown["snoozed_until"] == "2026-11-20T07:30:00.000Z"
        assert (await c.post(f"{C}/{cid}/toggle_status",
                             json={"status": "snoozed", "snoozed_until": "2026-11-20T07:30:00Z"})).status_code == 422
        assert (await c.post(f"{C}/{cid}/toggle_status", json={"status": "closed"})).status_code == 422
        clock.now = until + 1
        shown = (await c.get(f"{C}/{cid}")).json()  # any request runs the clock work
        assert shown["status"] == "open" and shown["snoozed_until"] is None
        await c.post(f"{C}/{cid}/toggle_status", json={"status": "pending"})
        assert (await c.get(f"{C}/{cid}")).json()["status"] == "pending"
        await c.post(f"{C}/{cid}/toggle_status", json={"status": "resolved"})
        state.say(str(conv["meta"]["sender"]["id"]), "还有个问题")
        after = (await c.get(f"{C}/{cid}")).json()
        assert after["status"] == "open" and after["waiting_since"] > 0  # an incoming message reopens
        kinds = [(m["message_type"], m["content"]) for m in (await c.get(f"{C}/{cid}/messages")).json()["payload"]]
        assert (2, "Conversation was marked resolved by 小美") in kinds
        assert (2, "System reopened the conversation due to a new incoming message.") in kinds


async def test_priority(app):
    async with client(app) as c:
        cid = (await _open_conversation(c))["id"]
        for value in ("urgent", "high", "medium", "low", None):
            r = await c.post(f"{C}/{cid}/toggle_priority", json={"priority": value})
            assert r.status_code == 200 and r.content == b""
            assert (await c.get(f"{C}/{cid}")).json()["priority"] == value
        assert (await c.post(f"{C}/{cid}/toggle_priority", json={"priority": "normal"})).status_code == 422


async def test_labels_post_replaces_the_list_and_drops_unknown_titles(app):
    async with client(app) as c:
        conv = await _open_conversation(c)
        cid, before = conv["id"], conv["labels"]
        assert before
        known = [label["title"] for label in (await c.get(f"{ACCOUNT}/labels")).json()["payload"]]
        other = next(t for t in known if t not in before)
        r = await c.post(f"{C}/{cid}/labels", json={"labels": [other, "没有这个标签"]})
        assert r.json() == {"payload": [other]}  # replaced, not added to; the unknown one dropped
        assert (await c.get(f"{C}/{cid}/labels")).json() == {"payload": [other]}
        assert (await c.post(f"{C}/{cid}/labels", json={"labels": []})).json() == {"payload": []}
        assert (await c.post(f"{C}/{cid}/labels", json={"labels": "x"})).status_code == 422


async def test_assignments_agent_team_and_a_claim_race(app):
    async with client(app) as me, client(app, token=AJIE) as ajie:
        conv = (await me.get(C, params={"assignee_type": "unassigned"})).json()["data"]["payload"][0]
        cid = conv["id"]
        agents = {a["name"]: a["id"] for a in (await me.get(f"{ACCOUNT}/agents")).json()}
        teams = {t["name"]: t["id"] for t in (await me.get(f"{ACCOUNT}/teams")).json()}
        mine = await me.post(f"{C}/{cid}/assignments", json={"assignee_id": agents["小美"]})
        conforms("agent", mine.json())
        theirs = await ajie.post(f"{C}/{cid}/assignments", json={"assignee_id": agents["阿杰"]})
        assert theirs.json()["name"] == "阿杰"  # Chatwoot checks no previous owner: the last write wins
        assert (await me.get(f"{C}/{cid}")).json()["meta"]["assignee"]["name"] == "阿杰"
        team = await me.post(f"{C}/{cid}/assignments", json={"team_id": teams["售前"]})
        assert team.json()["name"] == "售前" and "created_at" in team.json()
        shown = (await me.get(f"{C}/{cid}")).json()
        assert shown["meta"]["team"]["name"] == "售前" and "assignee" not in shown["meta"]  # 阿杰 is not in 售前
        assert (await me.post(f"{C}/{cid}/assignments", json={"assignee_id": None})).json() is None
        assert (await me.post(f"{C}/{cid}/assignments", json={})).json() is None
        messages = [m["content"] for m in (await me.get(f"{C}/{cid}/messages")).json()["payload"]
                    if m["message_type"] == 2]
        assert "小美 self-assigned this conversation" in messages and "Assigned to 售前 by 小美" in messages


async def test_replies_notes_and_unread(app, state, clock):
    async with client(app, token=XIAOYU) as c:
        said = state.say("第一次来的客人", "这件有S码吗")
        cid = said["conversation_id"]
        conv = (await c.get(f"{C}/{cid}")).json()
        assert conv["unread_count"] == 1 and conv["waiting_since"] == int(ANCHOR) and conv["first_reply_created_at"] == 0
        clock.now += 30
        note = await c.post(f"{C}/{cid}/messages", json={"content": "查一下库存", "private": True})
        assert note.json()["private"] is True
        assert (await c.get(f"{C}/{cid}")).json()["waiting_since"] == int(ANCHOR)  # a note is no reply
        await c.post(f"{C}/{cid}/messages", json={"content": "亲，有的哦"})
        conv = (await c.get(f"{C}/{cid}")).json()
        assert conv["waiting_since"] == 0 and conv["first_reply_created_at"] == int(ANCHOR) + 30
        for n in range(12):
            clock.now += 1
            state.say("第一次来的客人", f"追问{n}")
        assert (await c.get(f"{C}/{cid}")).json()["unread_count"] == 10  # Chatwoot counts the last 10
        seen = await c.post(f"{C}/{cid}/update_last_seen")
        assert seen.status_code == 200
        assert (await c.get(f"{C}/{cid}")).json()["unread_count"] == 0
        await c.post(f"{C}/{cid}/unread")
        assert (await c.get(f"{C}/{cid}")).json()["unread_count"] == 1
        internal = (await c.get(f"{C}/{cid}/messages", params={"filter_internal_messages": "true"})).json()["payload"]
        assert all(not m["private"] and m["message_type"] != 2 for m in internal)


async def test_outreach_as_a_new_conversation(app, state):
    async with client(app) as c:
        contact = (await c.get(f"{ACCOUNT}/contacts/search", params={"q": "c001"})).json()["payload"][0]
        r = await c.post(C, json={"inbox_id": 1, "contact_id": contact["id"], "status": "resolved",
                                  "message": {"content": "亲，您的卫衣已发货~"}})
        assert r.status_code == 200
        conv = r.json()
        conforms("conversation", conv)
        assert conv["status"] == "resolved" and conv["meta"]["sender"]["id"] == contact["id"]
        messages = (await c.get(f"{C}/{conv['id']}/messages")).json()["payload"]
        assert [(m["message_type"], m["content"]) for m in messages] == [(1, "亲，您的卫衣已发货~")]
        assert (await c.post(C, json={"inbox_id": 1, "contact_id": 99999})).status_code == 404


async def test_contacts_pages_search_and_notes(app):
    async with client(app) as c:
        page = (await c.get(f"{ACCOUNT}/contacts")).json()
        assert len(page["payload"]) == 15 and page["meta"]["count"] > 15 and page["meta"]["current_page"] == 1
        second = (await c.get(f"{ACCOUNT}/contacts", params={"page": 2})).json()["payload"]
        assert not {x["id"] for x in second} & {x["id"] for x in page["payload"]}
        found = (await c.get(f"{ACCOUNT}/contacts/search", params={"q": "芒果布丁"})).json()
        assert [x["name"] for x in found["payload"]] == ["芒果布丁不要芒果"] and found["meta"]["has_more"] is False
        assert (await c.get(f"{ACCOUNT}/contacts/search")).status_code == 422
        cid = found["payload"][0]["id"]
        notes = (await c.get(f"{ACCOUNT}/contacts/{cid}/notes")).json()
        assert notes and notes[0]["content"] == "保温杯首用有异味，已教清洗方法，客户满意"
        for n in notes:
            conforms("note", n)
        added = await c.post(f"{ACCOUNT}/contacts/{cid}/notes", json={"content": "男友175/140 推荐L"})
        conforms("note", added.json())
        assert added.json()["user"]["name"] == "小美"
        assert (await c.get(f"{ACCOUNT}/contacts/{cid}/notes")).json()[0]["content"] == "男友175/140 推荐L"
        assert (await c.post(f"{ACCOUNT}/contacts/{cid}/notes", json={"content": " "})).status_code == 422
        assert (await c.get(f"{ACCOUNT}/contacts/999999")).status_code == 404
        assert (await c.get(f"{ACCOUNT}/contacts", params={"sort": "-name"})).status_code == 200
        search = (await c.get(f"{ACCOUNT}/canned_responses", params={"search": "nh"})).json()
        assert search[0]["short_code"] == "nh"


async def test_profile_availability(app, state):
    async with client(app) as c:
        r = await c.put("/api/v1/profile", json={"profile": {"availability": "busy"}})
        assert r.status_code == 200 and r.json()["accounts"][0]["availability"] == "busy"
        state.update_presence(r.json()["id"])
        agents = {a["name"]: a["availability_status"] for a in (await c.get(f"{ACCOUNT}/agents")).json()}
        assert agents["小美"] == "busy" and agents["阿杰"] == "online"
        assert (await c.put("/api/v1/profile", json={"profile": {"availability": "away"}})).status_code == 422
        assert (await c.put("/api/v1/profile", json={})).status_code == 400


# -- faults -------------------------------------------------------------------------------------


async def test_a_status_fault_per_route_with_retry_after(app, state):
    state.faults.add("503", "conversations.index", times=2, retry_after=7)
    async with client(app) as c:
        for _ in range(2):
            r = await c.get(C)
            assert r.status_code == 503 and r.headers["retry-after"] == "7" and "error" in r.json()
        assert (await c.get(f"{ACCOUNT}/agents")).status_code == 200  # another route is untouched
        assert (await c.get(C)).status_code == 200  # times=2 is spent


async def test_a_storm_ends_by_itself(app, state, clock):
    state.faults.add("502", "*", seconds=60)
    async with client(app) as c:
        assert (await c.get("/api/v1/profile")).status_code == 502
        assert (await c.get(f"{ACCOUNT}/agents")).status_code == 502
        clock.now += 61
        assert (await c.get("/api/v1/profile")).status_code == 200


async def test_a_drop_before_acting_creates_nothing(app, state):
    async with client(app) as c:
        cid = (await _open_conversation(c))["id"]
        before = state.conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        state.faults.add("drop", "messages.create", times=1)
        with pytest.raises((httpx.HTTPError, ValueError)):  # over ASGI a cut answer is a truncated body
            r = await c.post(f"{C}/{cid}/messages", json={"content": "亲，在的", "echo_id": "k"})
            r.json()
        assert state.conn.execute("SELECT count(*) FROM messages").fetchone()[0] == before


@pytest.mark.parametrize("kind", ["500", "drop"])
async def test_the_answer_is_lost_after_acting(app, state, kind):
    """The message IS created, the client sees only a failure: the exactly-once case."""
    async with client(app) as c:
        cid = (await _open_conversation(c))["id"]
        state.faults.add(kind, "messages.create", times=1, after=True)
        with pytest.raises((httpx.HTTPError, ValueError)):
            r = await c.post(f"{C}/{cid}/messages", json={"content": "亲，已为您备注", "echo_id": "k7"})
            r.raise_for_status()
            r.json()
        assert state.faults.log[-1].after is True
        after = (await c.get(f"{C}/{cid}/messages", params={"after": 0})).json()["payload"]
        assert [m["content"] for m in after].count("亲，已为您备注") == 1


async def test_after_acting_strikes_writes_only_and_status_changes_too(app, state):
    async with client(app) as c:
        cid = (await _open_conversation(c))["id"]
        state.faults.add("500", "conversations.*", after=True, times=2)
        assert (await c.post(f"{C}/{cid}/toggle_status", json={"status": "resolved"})).status_code == 500
        assert (await c.get(f"{C}/{cid}")).status_code == 500  # a read cannot act: it just fails
        assert (await c.get(f"{C}/{cid}")).json()["status"] == "resolved"


async def test_timeout_and_latency(app, state):
    state.faults.timeout_s = 0.05
    state.faults.add("timeout", "conversations.show", times=1)
    state.faults.add("latency", "agents.index", latency_ms=30, times=1)
    async with client(app) as c:
        cid = (await _open_conversation(c))["id"]
        assert (await c.get(f"{C}/{cid}")).status_code == 200  # late, but answered
        assert (await c.get(f"{ACCOUNT}/agents")).status_code == 200
    assert [s.kind for s in state.faults.log] == ["timeout"]


async def test_random_faults_replay_from_their_seed(tmp_path):
    def run(path):
        app = create_app(path, anchor=ANCHOR, clock=Clock(ANCHOR), fail_rate=0.5, fault_seed=7)
        return app

    outcomes = []
    for n in range(2):
        app = run(tmp_path / f"cw{n}.sqlite")
        codes = []
        async with client(app) as c:
            for _ in range(20):
                try:
                    codes.append((await c.get("/api/v1/profile")).status_code)
                except httpx.HTTPError:
                    codes.append("dropped")
        outcomes.append(codes)
    assert outcomes[0] == outcomes[1] and 200 in outcomes[0] and set(outcomes[0]) - {200}


async def test_faults_are_controlled_over_the_test_route(app, state):
    async with client(app, token=None) as anon, client(app) as c:
        r = await anon.post("/_double/faults", json={"kind": "429", "route": "agents.index", "times": 1})
        assert r.status_code == 200
        assert (await c.get(f"{ACCOUNT}/agents")).status_code == 429
        assert (await anon.post("/_double/faults", json={"kind": "nope"})).status_code == 422
        await anon.post("/_double/faults", json={"kind": "503"})
        assert (await c.get(f"{ACCOUNT}/agents")).status_code == 503
        await anon.delete("/_double/faults")
        assert (await c.get(f"{ACCOUNT}/agents")).status_code == 200
        said = await anon.post("/_double/say", json={"contact": "新来的", "content": "你好"})
        assert said.status_code == 200 and (await c.get(f"{C}/{said.json()['conversation_id']}")).status_code == 200
        assert (await anon.post("/_double/say", json={"contact": "x", "content": "y", "extra": 1})).status_code == 422


async def test_the_simulator_writes_in(tmp_path):
    clock = Clock(ANCHOR)
    app = create_app(tmp_path / "sim.sqlite", anchor=ANCHOR, clock=clock, simulate=60.0, fault_seed=3)
    state = app.state.chatwoot
    before = state.conn.execute("SELECT count(*) FROM messages WHERE message_type = 0").fetchone()[0]
    for _ in range(10):
        clock.now += 30
        state.tick()
    after = state.conn.execute("SELECT count(*) FROM messages WHERE message_type = 0").fetchone()[0]
    assert after > before


async def test_deleting_and_status_of_a_message(app):
    async with client(app) as c:
        cid = (await _open_conversation(c))["id"]
        sent = (await c.post(f"{C}/{cid}/messages", json={"content": "发错了"})).json()
        gone = await c.delete(f"{C}/{cid}/messages/{sent['id']}")
        assert gone.status_code == 200
        assert gone.json()["content"] == "This message was deleted"
        assert gone.json()["content_attributes"]["deleted"] is True
        listed = (await c.get(f"{C}/{cid}/messages")).json()["payload"]
        assert [m["content"] for m in listed if m["id"] == sent["id"]] == ["This message was deleted"]
        failed = await c.patch(f"{C}/{cid}/messages/{sent['id']}", json={"status": "failed", "external_error": "x"})
        assert failed.json()["status"] == "failed"
        assert (await c.patch(f"{C}/{cid}/messages/{sent['id']}", json={"status": "lost"})).status_code == 422
        assert (await c.delete(f"{C}/{cid}/messages/99999999")).status_code == 404


async def test_updating_a_contact_merges_its_attributes(app):
    async with client(app) as c:
        contact = (await c.get(f"{ACCOUNT}/contacts/search", params={"q": "c001"})).json()["payload"][0]
        r = await c.put(f"{ACCOUNT}/contacts/{contact['id']}", json={"custom_attributes": {"vip_level": 3}})
        shown = r.json()["payload"]
        conforms("contact", shown)
        assert shown["custom_attributes"] == {**contact["custom_attributes"], "vip_level": 3}
        assert (await c.put(f"{ACCOUNT}/contacts/{contact['id']}", json={"name": ""})).status_code == 422
        assert (await c.put(f"{ACCOUNT}/contacts/{contact['id']}", json={"tags": ["x"]})).status_code == 422
