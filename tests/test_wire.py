"""sync/wire.py: every answer of the shop, however malformed, becomes valid records plus
named problems – never an exception escaping, never a record the cache cannot store.
Property-based (hypothesis) over any JSON-ish value and any bytes, plus the issue's
repros one by one."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentdesk.store import Store
from agentdesk.sync import apply, wire

SQLITE_INT = range(-(2**63), 2**63)

GOOD = {
    "agents": {"id": "a01", "name": "小美", "role": "agent", "groups": ["售前"], "status": "online", "online": True},
    "customers": {"id": "c001", "name": "小鹿乱撞2018", "vip_level": 3, "tags": ["老客户"], "location": "浙江 杭州",
                  "first_seen": "2026-01-02T03:04:05.000Z", "updated_at": "2026-11-20T06:30:00.000Z", "opt_out": False},
    "orders": {"id": "3901", "customer_id": "c001", "items": [{"title": "卫衣", "sku": "L", "qty": 1, "price": 159.0}],
               "amount": 159.0, "status": "已发货", "carrier": "中通快递", "tracking_no": "78", "address": "杭州",
               "created_at": "2026-11-18T06:30:00.000Z", "paid_at": None, "shipped_at": None, "delivered_at": None,
               "updated_at": "2026-11-19T06:30:00.000Z", "remarks": [{"body": "周末送", "agent_id": "a01",
                                                                     "at": "2026-11-19T06:30:00.000Z"}],
               "refund": {"reason": "尺码", "amount": 10, "agent_id": "a01", "at": "2026-11-19T06:30:00.000Z",
                          "status": "requested"}},
    "conversations": {"id": "cv-c001-1", "customer_id": "c001", "group": "售前", "status": "snoozed",
                      "snoozed_until": "2026-11-21T01:00:00.000Z", "assignee_id": "a01", "priority": "high",
                      "tags": ["尺码"], "order_id": "3901", "stage": "agent", "version": 7,
                      "created_at": "2026-11-20T06:30:00.000Z", "updated_at": "2026-11-20T06:31:00.000Z"},
    "messages": {"id": "m_000123", "seq": 123, "conversation_id": "cv-c001-1", "sender": "customer", "agent_id": None,
                 "body": "在吗？", "created_at": "2026-11-20T06:30:00.000Z", "client_id": None, "auto": False,
                 "meta": {"handoff": {"from": "a01", "from_name": "小美", "to_agent": "a02", "to_group": None,
                                      "note": "换货"}}},
    "notes": {"id": "n_000045", "seq": 45, "customer_id": "c001", "agent_id": "a02", "body": "175/140",
              "created_at": "2026-11-20T06:30:00.000Z", "client_id": None},
    "followups": {"id": "f_000001", "customer_id": "c001", "order_id": "3901", "conversation_id": "cv-c001-1",
                  "agent_id": "a01", "due_at": "2026-11-21T02:00:00.000Z", "note": "回访", "status": "open",
                  "client_id": None, "created_at": "2026-11-20T06:30:00.000Z", "updated_at": None},
}
RESOURCES = sorted(GOOD)

# -- strategies: anything JSON can say, and a few things it cannot ---------------------------------

texts = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=30),  # any code point, surrogates included
    st.sampled_from(["\ud800", "cut emoji \ud83d", "\udfff", "\x00", "\x1b[2J", "[/]", "", " " * 3, "x" * 10_001]),
)
scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(), st.sampled_from([2**63, 2**70, -(2**63) - 1, 10**40]),
    st.floats(allow_nan=True, allow_infinity=True), texts,
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
                      max_leaves=12)


def encode(value) -> bytes:
    """As a careless server writes it: Python's json (NaN and Infinity as bare words,
    lone surrogates as \\u escapes)."""
    return json.dumps(value, ensure_ascii=True).encode()


def storable(record) -> None:
    """What SQLite needs: text that is valid Unicode, integers it can hold, real numbers."""
    if isinstance(record, str):
        record.encode("utf-8")
    elif isinstance(record, bool) or record is None:
        pass
    elif isinstance(record, int):
        assert record in SQLITE_INT
    elif isinstance(record, float):
        assert math.isfinite(record)
    elif isinstance(record, dict):
        for k, v in record.items():
            storable(k)
            storable(v)
    elif isinstance(record, list):
        for v in record:
            storable(v)
    else:
        raise AssertionError(f"unexpected {type(record).__name__} in a record")


def mutated(resource: str, field: str, value, drop: bool) -> dict:
    obj = json.loads(json.dumps(GOOD[resource]))
    if drop:
        obj.pop(field, None)
    else:
        obj[field] = value
    return obj


# -- properties -------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(resource=st.sampled_from(RESOURCES), value=values)
def test_any_json_value_is_a_record_or_a_named_problem(resource, value):
    raw = encode(value)
    try:
        record = wire.decode(resource, raw)
    except wire.PayloadError as exc:
        assert exc.problem.resource == resource and exc.problem.reason
    else:
        storable(record)


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_one_field_changed_to_anything_is_a_record_or_a_problem_naming_that_field(data):
    resource = data.draw(st.sampled_from(RESOURCES))
    field = data.draw(st.sampled_from(sorted(GOOD[resource])))
    drop = data.draw(st.booleans())
    value = data.draw(values)
    obj = mutated(resource, field, value, drop)
    for attempt in (lambda: wire.decode(resource, encode(obj)), lambda: wire.convert(resource, obj)):
        try:
            record = attempt()
        except wire.PayloadError as exc:
            p = exc.problem
            assert p.field.split(".")[0].split("[")[0] in (field, ""), (p.field, field)
            assert p.object_id == (obj.get("id") if field != "id" and isinstance(obj.get("id"), str) else p.object_id)
        else:
            storable(record)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=300))
def test_any_bytes_are_a_record_or_a_problem(raw):
    for resource in RESOURCES:
        try:
            storable(wire.decode(resource, wire.repair(raw)))
        except wire.PayloadError:
            pass


def _page_of(resource: str, goods: int, junk: list[bytes]) -> tuple[list[dict], bytes]:
    good = [dict(GOOD[resource], id=f"{GOOD[resource]['id']}-{n}") for n in range(goods)]
    elements = [json.dumps(g).encode() for g in good] + junk
    return good, b'{"items": [' + b",".join(elements) + b'], "next": null}'


def _kept(resource: str, page: wire.Page, good: list[dict]) -> list[str]:
    return [r["id"] for r in page.items if r["id"].startswith(GOOD[resource]["id"] + "-")]


JUNK = st.one_of(values.map(encode), st.sampled_from([b"NaN", b"-Infinity", b"[" * 3000 + b"]" * 3000,
                                                      b'{"id": "x", "seq": 1e999}', b'"\\ud800"']))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(resource=st.sampled_from(RESOURCES), junk=st.lists(JUNK, max_size=6), goods=st.integers(0, 5))
def test_a_page_keeps_every_good_object_whatever_sits_beside_it(resource, junk, goods):
    good, body = _page_of(resource, goods, junk)
    page = wire.items(resource, body)
    assert _kept(resource, page, good) == [g["id"] for g in good]
    assert len(page.items) + len(page.problems) == len(good) + len(junk)
    for record in page.items:
        storable(record)


@settings(max_examples=150, deadline=None)
@given(resource=st.sampled_from(RESOURCES), junk=st.lists(st.binary(max_size=40), max_size=4), goods=st.integers(0, 4))
def test_bytes_that_break_the_page_itself_fail_the_page_not_the_engine(resource, junk, goods):
    good, body = _page_of(resource, goods, junk)
    try:
        page = wire.items(resource, body)
    except (wire.Garbled, wire.Violation):
        return  # the page as a whole is unreadable: asked again, nothing of it applied
    assert _kept(resource, page, good) == [g["id"] for g in good]


@settings(max_examples=100, deadline=None)
@given(value=values)
def test_the_feed_never_raises_for_a_bad_event(value):
    good = {"cursor": "7", "type": "message.created", "data": GOOD["messages"]}
    body = b'{"events": [' + json.dumps(good).encode() + b"," + encode(value) + b'], "next": "8"}'
    feed = wire.feed(body, after="6", limit=10)
    assert feed.events[0].record["id"] == "m_000123"
    assert len(feed.events) + len(feed.problems) == 2


# -- the issue's repros -----------------------------------------------------------------------------


def test_a_lone_surrogate_is_repaired_and_the_message_kept(tmp_path):
    """A platform cut an emoji in half: the body keeps everything but that character."""
    body = ('{"items": [' + json.dumps(dict(GOOD["messages"], body="好的👍\ud83d"), ensure_ascii=True)
            + "]}").encode()
    page = wire.page("messages", body, after=None, limit=10)
    assert page.problems == [] and page.items[0]["body"] == "好的👍\ufffd"
    assert wire.message(dict(GOOD["messages"], body="x\udc00y"))["body"] == "x\ufffdy"
    store = Store(tmp_path / "cache.sqlite")
    store.write(apply.message, page.items[0])  # storable: this once crashed every sync
    store.close()


def test_bytes_that_are_not_utf8_are_repaired_too():
    raw = json.dumps(dict(GOOD["customers"], name="NAME")).encode().replace(b"NAME", b"\xe5\xb0\x8f\xff")
    assert wire.decode("customers", wire.repair(raw))["name"] == "小\ufffd"


def test_an_escaped_backslash_before_u_d800_is_not_a_surrogate():
    raw = json.dumps(dict(GOOD["customers"], name="\\ud800")).encode()  # the text: backslash u d 8 0 0
    assert wire.decode("customers", wire.repair(raw))["name"] == "\\ud800"


RAW_1E400 = "<the number 1e400 as written>"


@pytest.mark.parametrize("resource, field, value, reason", [
    ("messages", "seq", 2**70, "out of range: expected an integer <= 9223372036854775807"),
    ("orders", "amount", float("nan"), "not JSON"),  # NaN is not JSON; Python writes it anyway
    ("orders", "amount", RAW_1E400, "a number out of range"),
    ("orders", "amount", "159", "expected a number, got a string"),
    ("customers", "vip_level", 11, "out of range: expected an integer <= 10"),
    ("conversations", "status", "archived", "expected one of open, pending, snoozed, resolved, got 'archived'"),
    ("messages", "sender", None, "expected a string, got null"),
    ("messages", "created_at", "2026-11-20 14:30", "expected an RFC 3339 time"),
    ("messages", "created_at", "2026-11-20T14:30:00", "expected an RFC 3339 time with a timezone"),
    ("messages", "body", "x" * 10_001, "out of range: expected a string of length <= 10000"),
    ("customers", "tags", ["t"] * 101, "out of range: expected a list of length <= 100"),
    ("customers", "id", "", "out of range: expected a string of length >= 1"),
    ("notes", "seq", True, "expected an integer, got true or false"),
])
def test_the_reason_names_what_is_wrong(resource, field, value, reason):
    raw = json.dumps(dict(GOOD[resource], **{field: value})).encode().replace(b'"%s"' % RAW_1E400.encode(), b"1e400")
    with pytest.raises(wire.PayloadError) as info:
        wire.decode(resource, wire.repair(raw))
    p = info.value.problem
    assert p.reason.startswith(reason)
    assert p.field == ("" if reason == "not JSON" else field)
    assert p.object_id == (GOOD[resource]["id"] if field != "id" else None) or field == "id"


def test_missing_fields_and_unknown_extras():
    with pytest.raises(wire.PayloadError, match=r"^message m_000123: conversation_id: missing$"):
        wire.decode("messages", json.dumps({k: v for k, v in GOOD["messages"].items() if k != "conversation_id"}).encode())
    extra = dict(GOOD["customers"], loyalty={"points": [1, 2, {"deep": True}]})  # a newer shop's field
    assert wire.decode("customers", json.dumps(extra).encode())["id"] == "c001"


def test_nesting_200000_deep_costs_only_its_object():
    deep = b"[" * 200_000 + b"]" * 200_000
    body = b'{"items": [' + json.dumps(GOOD["customers"]).encode() + b", " + deep + b', {"id": "c2"}], "next": null}'
    page = wire.page("customers", body, after=None, limit=10)
    assert [c["id"] for c in page.items] == ["c001"]
    assert [str(p) for p in page.problems] == ["customer ?: nested 200000 levels deep, more than 64",
                                               "customer c2: name: missing"]


def test_a_cut_off_page_is_garbled_and_a_non_list_is_a_violation():
    with pytest.raises(wire.Garbled):
        wire.page("customers", b'{"items": [{"id": "c1", "name": "x"}', after=None, limit=10)
    with pytest.raises(wire.Violation, match="not a items list"):
        wire.page("customers", b'{"items": {"id": "c1"}}', after=None, limit=10)
    with pytest.raises(wire.Violation, match="more than the 2 asked for"):
        wire.page("customers", b'{"items": [1, 2, 3]}', after=None, limit=2)


def test_an_object_too_big_is_quarantined_unread():
    huge = json.dumps(dict(GOOD["customers"], location="x" * (wire.MAX_OBJECT_BYTES + 10))).encode()
    with pytest.raises(wire.PayloadError, match=r"^customer c001: .*bytes, more than the 1,000,000 an object may have"):
        wire.decode("customers", huge)


def test_me_and_the_head_refuse_what_they_cannot_use():
    me = wire.me(json.dumps({"agent": dict(GOOD["agents"], read_only=True), "shop": {"id": "s1", "name": "店"}}).encode())
    assert (me.agent["id"], me.read_only, me.shop_id, me.shop_name) == ("a01", True, "s1", "店")
    with pytest.raises(wire.PayloadError, match="agent a01: role"):
        wire.me(json.dumps({"agent": dict(GOOD["agents"], role="king")}).encode())
    with pytest.raises(wire.Violation):
        wire.me(b'{"shop": {}}')
    assert wire.head(b'{"cursor": 1042}') == "1042"
    with pytest.raises(wire.Garbled):
        wire.head(b"<html>")
