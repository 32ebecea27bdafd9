"""Reply libraries: TOML files written by hand, merged by precedence.

Layers, highest first: the agent's personal replies (platformdirs data dir), the shop's
``replies/`` directory installed with agentdesk, and the shop-wide library from the API
(``GET /v1/quick-replies``, synced into the cache). A reply id in a higher layer hides the
same id below it. A bad file is reported (file:line, one line) and skipped; every other
file still loads, so one typo never empties an agent's library. A reply is text an
agent sends: its body keeps to a message's 10 000 characters and holds no control
character, and its id, title, shortcode and tags are one printable line each.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from agentdesk import paths, userfile
from agentdesk.models import MAX_MESSAGE_CHARS
from agentdesk.quickreply.variables import unknown
from agentdesk.quoting import literal, path_text, quoted

PERSONAL = "personal"
LIBRARY = "library"
SHOP = "shop"
LAYERS = (PERSONAL, LIBRARY, SHOP)

_REPLY_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*reply[ \t]*\]\]", re.MULTILINE)
_FIELDS = {"id", "title", "shortcode", "tags", "body", "category"}
_TOP_LEVEL = {"category", "reply", "synonyms"}  # synonyms: read by quickreply/synonyms.py
_SHORTCODE = re.compile(r"[0-9A-Za-z_-]{1,32}")
#: A category file holds tens of replies (~10 KB); a file this big is not one.
MAX_FILE_BYTES = 4 << 20
#: Longest id, title, tag or category: each is shown on one line of the picker.
MAX_NAME_CHARS = {"id": 80, "title": 200, "tag": 50, "category": 50}


@dataclass(frozen=True)
class Reply:
    id: str
    title: str
    body: str
    shortcode: str = ""
    tags: tuple[str, ...] = ()
    category: str = ""
    layer: str = LIBRARY
    #: Where it was written ("path:line"), for messages.
    origin: str = ""


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


@dataclass
class Library:
    replies: list[Reply] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def by_id(self) -> dict[str, Reply]:
        return {r.id: r for r in self.replies}


def bundled_dir() -> Path:
    """The installed ``replies/`` (package data at ``agentdesk/library``), or the
    checkout's top-level one (a source tree or an editable install)."""
    installed = Path(__file__).resolve().parents[1] / "library"
    return installed if installed.is_dir() else Path(__file__).resolve().parents[2] / "replies"


def personal_dir() -> Path:
    return paths.data_dir() / "replies"


def load_file(path: Path, layer: str = LIBRARY) -> tuple[list[Reply], list[Problem]]:
    """Replies in one TOML file; a reply with a problem is skipped, the rest load."""
    where = path_text(path)
    try:
        text = userfile.read_text(path, MAX_FILE_BYTES)
        data = userfile.loads_toml(text)
    except userfile.UserFileError as exc:
        return [], [Problem(where, exc.line, exc.message)]
    lines = [text.count("\n", 0, m.start()) + 1 for m in _REPLY_HEADER.finditer(text)]
    extra = sorted(set(data) - _TOP_LEVEL)
    if extra:
        return [], [Problem(where, 0, f"unknown key {quoted(extra[0], 40)} (a reply file has category, [[reply]] and [synonyms] tables)")]
    default_category = data.get("category", path.stem)
    if not isinstance(default_category, str):
        return [], [Problem(where, 1, "category must be a string")]
    problem = name_problem("category", default_category)
    if problem:
        return [], [Problem(where, 1, problem)]
    entries = data.get("reply", [])
    if not isinstance(entries, list):
        return [], [Problem(where, 1, "reply must be an array of tables ([[reply]])")]
    replies: list[Reply] = []
    problems: list[Problem] = []
    for n, entry in enumerate(entries):
        line = lines[n] if n < len(lines) else 0
        reply, problem = _reply(entry, default_category, layer, where, line)
        if problem:
            problems.append(Problem(where, line, problem))
        else:
            replies.append(reply)
    return replies, problems


def name_problem(name: str, value: str) -> str:
    """Why an id, title, tag or category cannot be shown on one line ('' if it can)."""
    limit = MAX_NAME_CHARS[name]
    if len(value) > limit:
        return f"{name} is {len(value):,} characters (at most {limit})"
    bad = userfile.bad_char(value)
    if bad:
        return f"{name} {quoted(value, 40)} holds a control or invisible character (U+{ord(bad[1]):04X})"
    return ""


def _reply(entry: object, category: str, layer: str, where: str, line: int) -> tuple[Reply | None, str]:
    if not isinstance(entry, dict):
        return None, "each reply must be a table"
    rid = entry.get("id")
    if not isinstance(rid, str):
        return None, "id is missing or not a string"
    rid = rid.strip()
    if not rid:
        return None, "id is empty"
    problem = name_problem("id", rid)
    if problem:
        return None, problem
    who = f"reply {literal(rid)}"
    extra = sorted(set(entry) - _FIELDS)
    if extra:
        return None, f"{who}: unknown field {quoted(extra[0], 40)} (fields: {', '.join(sorted(_FIELDS))})"
    for name in ("title", "body"):
        if not isinstance(entry.get(name), str):
            return None, f"{who}: {name} is missing or not a string"
    body = entry["body"].strip()
    if not body:
        return None, f"{who}: body is empty"
    if len(body) > MAX_MESSAGE_CHARS:
        return None, f"{who}: body is {len(body):,} characters; a message holds at most {MAX_MESSAGE_CHARS:,}"
    bad = userfile.bad_char(body, lines=True)
    if bad:
        return None, f"{who}: body holds a control character (U+{ord(bad[1]):04X} at character {bad[0]})"
    title = entry["title"].strip()
    if not title:
        return None, f"{who}: title is empty"
    problem = name_problem("title", title)
    if problem:
        return None, f"{who}: {problem}"
    shortcode = entry.get("shortcode", "")
    if not isinstance(shortcode, str) or (shortcode and not _SHORTCODE.fullmatch(shortcode)):
        return None, f"{who}: shortcode must be up to 32 letters, digits, - or _ (got {quoted(shortcode, 40)})"
    tags = entry.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return None, f"{who}: tags must be a list of strings"
    for tag in tags:
        problem = name_problem("tag", tag)
        if problem:
            return None, f"{who}: {problem}"
    cat = entry.get("category", category)
    if not isinstance(cat, str):
        return None, f"{who}: category must be a string"
    problem = name_problem("category", cat)
    if problem:
        return None, f"{who}: {problem}"
    bad_vars = unknown(body)
    if bad_vars:
        return None, f"{who}: unknown variable {{{literal(bad_vars[0])}}}"
    return Reply(
        id=rid,
        title=title,
        body=body,
        shortcode=shortcode.strip().lower(),
        tags=tuple(t.strip() for t in tags if t.strip()),
        category=cat,
        layer=layer,
        origin=f"{where}:{line}",
    ), ""


def load_dir(path: Path, layer: str = LIBRARY) -> Library:
    """Every ``*.toml`` under ``path`` (sorted), with duplicate ids and shortcodes within
    the layer reported; the first one wins."""
    lib = Library()
    if path.is_dir():
        try:
            os.listdir(path)  # rglob finds nothing in a folder it may not read: say so
        except OSError as exc:
            lib.problems.append(Problem(path_text(path), 0, f"cannot read this folder ({exc.strerror})"))
            return lib
        files = sorted(path.rglob("*.toml"))
    elif path.exists():
        files = [path]
    else:
        return lib
    for f in files:
        replies, problems = load_file(f, layer)
        lib.replies.extend(replies)
        lib.problems.extend(problems)
    lib.replies, dupes = _dedupe(lib.replies)
    lib.problems.extend(dupes)
    return lib


def _dedupe(replies: list[Reply]) -> tuple[list[Reply], list[Problem]]:
    ids: dict[str, Reply] = {}
    codes: dict[str, Reply] = {}
    kept: list[Reply] = []
    problems: list[Problem] = []
    for r in replies:
        path, _, line = r.origin.rpartition(":")
        at = int(line) if line.isdigit() else 0
        if r.id in ids:
            problems.append(Problem(path, at, f"duplicate id {r.id!r} (first at {ids[r.id].origin})"))
            continue
        if r.shortcode and r.shortcode in codes:  # still loads, without the shortcode
            first = codes[r.shortcode]
            problems.append(Problem(path, at, f"duplicate shortcode {r.shortcode!r} (also {first.id} at {first.origin})"))
            r = replace(r, shortcode="")
        ids[r.id] = r
        if r.shortcode:
            codes[r.shortcode] = r
        kept.append(r)
    return kept, problems


def from_api(items: list[dict]) -> Library:
    """The shop-wide layer from synced API rows; rows that fail the same checks as a file
    are reported (naming the reply) and skipped."""
    lib = Library()
    for n, item in enumerate(items):
        reply, problem = _reply(item, item.get("category", "") if isinstance(item, dict) else "", SHOP, "shop", n + 1)
        if problem:
            lib.problems.append(Problem("shop library (GET /v1/quick-replies)", 0, problem))
        else:
            lib.replies.append(reply)
    lib.replies, dupes = _dedupe(lib.replies)
    lib.problems.extend(dupes)
    return lib


def merge(*layers: Library) -> Library:
    """Layers highest first: an id hides the same id below it; so does a shortcode
    (the lower reply stays findable by text, without the shortcode)."""
    out = Library()
    seen: set[str] = set()
    codes: set[str] = set()
    for layer in layers:
        out.problems.extend(layer.problems)
        for r in layer.replies:
            if r.id in seen:
                continue
            seen.add(r.id)
            if r.shortcode and r.shortcode in codes:
                r = replace(r, shortcode="")
            elif r.shortcode:
                codes.add(r.shortcode)
            out.replies.append(r)
    return out


def load_all(
    *, personal: Path | None = None, library: Path | None = None, shop_items: list[dict] | None = None
) -> Library:
    """The merged library an agent works with."""
    return merge(
        load_dir(personal if personal is not None else personal_dir(), PERSONAL),
        load_dir(library if library is not None else bundled_dir(), LIBRARY),
        from_api(shop_items or []),
    )
