"""Property tests: whatever a config, a reply file or a saved-writes file holds, the
loaders answer with a valid result or ONE clean error line naming the file – never
another exception, never a second line, never a control character on the terminal."""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
import unicodedata
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from agentdesk import userfile
from agentdesk.config import ConfigError, Settings, parse_file
from agentdesk.models import MAX_MESSAGE_CHARS
from agentdesk.quickreply import library
from agentdesk.quoting import literal
from agentdesk.store import unsent

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SECTIONS = ["shop", "agent", "cache", "ui", "timers", "demo", "routing", "complaints", "greeting", "handoff",
            "replies", "outreach", "followups", "kpi"]
KEYS = ["url", "token", "name", "path", "language", "amber_seconds", "red_seconds", "late_seconds", "simulate",
        "after_sale", "complaint", "words", "repeated_marks", "move", "priority", "enabled", "after_seconds",
        "text", "customer_message", "apology", "per_minute", "default_days", "business_hours", "within_share"]

# Text of every kind: controls, bidi, CJK, emoji, the characters TOML cannot hold raw.
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
names = st.one_of(st.sampled_from(KEYS), texts)
scalars = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    texts,
    st.dates(min_value=dt.date(1, 1, 1)),
)
# …and text as people write it, so that many documents get past the first check.
plain = st.text(st.sampled_from(list("亲您好退款差评 abcXYZ019-_:{}.!？")), min_size=1, max_size=24)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=3)), max_leaves=12)
plausible = st.one_of(st.integers(0, 1000), st.floats(0, 1), plain, st.lists(plain, max_size=4),
                      st.sampled_from(["zh", "en", "auto", "high", "08:00-23:00", "http://127.0.0.1:8080"]))
likely_section = st.dictionaries(st.sampled_from(KEYS), plausible, max_size=4)
section_names = st.one_of(st.sampled_from(SECTIONS), st.sampled_from(SECTIONS), texts)
sections = st.one_of(likely_section, likely_section, likely_section, st.dictionaries(names, values, max_size=6))
documents = st.one_of(*[st.dictionaries(section_names, sections, max_size=6)] * 4,
                      st.dictionaries(section_names, st.one_of(sections, scalars), max_size=6))


def toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif unicodedata.category(ch) == "Cc" or ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def toml_document(doc: dict) -> str:
    top = [f"{toml_string(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    tables = [f"[{toml_string(k)}]\n" + "".join(f"{toml_string(kk)} = {toml_value(vv)}\n" for kk, vv in v.items())
              for k, v in doc.items() if isinstance(v, dict)]
    return "\n".join(top) + "\n" + "\n".join(tables)


def one_clean_line(message: str, path: Path) -> None:
    assert "\n" not in message and "\r" not in message
    assert message.startswith(str(path)), message
    assert all(ch.isprintable() for ch in message), ascii(message)
    assert len(message) < 2000


def written(data: bytes, name: str = "config.toml") -> tuple[tempfile.TemporaryDirectory, Path]:
    folder = tempfile.TemporaryDirectory()
    path = Path(folder.name) / name
    path.write_bytes(data)
    return folder, path


def check_config(data: bytes) -> Settings | None:
    folder, path = written(data)
    with folder:
        try:
            return parse_file(path)
        except ConfigError as exc:
            one_clean_line(str(exc), path)
            return None


@PROPERTY
@given(documents)
def test_any_toml_document_as_a_config(doc):
    settings_ = check_config(toml_document(doc).encode("utf-8"))
    if settings_ is not None:  # what it accepted is what the app can live with
        for section in (settings_.agent, settings_.shop, settings_.cache, settings_.ui):
            for value in vars(section).values():
                assert userfile.bad_char(value) is None
        assert len(settings_.greeting.text) <= MAX_MESSAGE_CHARS


@PROPERTY
@given(st.dictionaries(st.sampled_from(["language", "name", "simulate"]), scalars, min_size=1))
def test_valid_values_are_read_back_as_written(values):
    """The checks never refuse what is documented as valid."""
    doc = {"ui": {}, "agent": {}, "demo": {}}
    language = values.get("language")
    name = values.get("name")
    simulate = values.get("simulate")
    valid = True
    if language is not None:
        doc["ui"]["language"] = language
        valid &= language in ("zh", "en", "auto")
    if name is not None:
        doc["agent"]["name"] = name
        valid &= isinstance(name, str) and userfile.bad_char(name) is None
    if simulate is not None:
        doc["demo"]["simulate"] = simulate
        valid &= (isinstance(simulate, int | float) and not isinstance(simulate, bool)
                  and 0 <= simulate <= 600)
    result = check_config(toml_document(doc).encode("utf-8"))
    assert (result is not None) == bool(valid)
    if result is not None and name is not None:
        assert result.agent.name == name


# -- reply files -----------------------------------------------------------------------------------------

likely_reply = st.fixed_dictionaries(
    {"id": st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True), "title": plain,
     "body": st.one_of(plain, texts, st.integers(9_990, 10_010).map(lambda n: "好" * n))},
    optional={"shortcode": st.from_regex(r"[0-9a-z_-]{1,34}", fullmatch=True), "tags": st.lists(plain, max_size=3),
              "category": plain})
reply_fields = st.fixed_dictionaries({}, optional={
    "id": st.one_of(texts, scalars), "title": st.one_of(texts, scalars), "body": st.one_of(texts, scalars),
    "shortcode": st.one_of(st.from_regex(r"[0-9a-z_-]{0,34}", fullmatch=True), texts),
    "tags": st.one_of(st.lists(texts, max_size=3), scalars), "category": st.one_of(texts, scalars),
})
reply_documents = st.fixed_dictionaries({"reply": st.lists(
    st.one_of(likely_reply, reply_fields, st.dictionaries(names, values)), max_size=5)},
                                        optional={"category": st.one_of(plain, plain, texts, scalars)})


def check_replies(data: bytes) -> list[library.Reply]:
    folder, path = written(data, "replies.toml")
    with folder:
        replies, problems = library.load_file(path)
        for problem in problems:
            one_clean_line(str(problem), path)
    for r in replies:
        for one_line in (r.id, r.title, r.shortcode, r.category, *r.tags):
            assert userfile.bad_char(one_line) is None
        assert 0 < len(r.body) <= MAX_MESSAGE_CHARS and userfile.bad_char(r.body, lines=True) is None
    return replies


@PROPERTY
@given(st.binary(max_size=400))
def test_any_bytes_as_a_config_or_a_reply_file(data):
    check_config(data)
    check_replies(data)


@PROPERTY
@given(reply_documents)
def test_any_toml_document_as_a_reply_file(doc):
    text = toml_document({k: v for k, v in doc.items() if k != "reply"})
    text += "".join("\n[[reply]]\n" + "".join(f"{toml_string(k)} = {toml_value(v)}\n" for k, v in entry.items())
                    for entry in doc["reply"])
    replies = check_replies(text.encode("utf-8"))
    assert len(replies) <= len(doc["reply"])


# -- saved unsent writes and quoting ------------------------------------------------------------------------


@PROPERTY
@given(st.one_of(st.binary(max_size=300), st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), texts),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=10).map(lambda v: json.dumps(v).encode())))
def test_any_file_as_saved_writes(data):
    folder, path = written(data, "unsent.json")
    with folder:
        try:
            unsent.load(path)
        except unsent.BadFile as exc:
            one_clean_line(str(exc), path)


@PROPERTY
@given(st.text(), st.integers(min_value=1, max_value=100))
def test_literal_is_always_printable_and_bounded(text, limit):
    shown = literal(text, limit)
    assert all(ch.isprintable() for ch in shown)
    assert len(shown) <= 10 * limit + 1  # each character at most a \U0010ffff escape
