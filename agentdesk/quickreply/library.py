"""Reply libraries: TOML files written by hand, merged by precedence.

Layers, highest first: the agent's personal replies (platformdirs data dir), the shop's
``replies/`` directory installed with agentdesk, and the shop-wide library from the API
(``GET /v1/quick-replies``, synced into the cache). A reply id in a higher layer hides the
same id below it. A bad file is reported (file:line, one line) and skipped; every other
file still loads, so one typo never empties an agent's library.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from agentdesk import paths
from agentdesk.quickreply.variables import unknown

PERSONAL = "personal"
LIBRARY = "library"
SHOP = "shop"
LAYERS = (PERSONAL, LIBRARY, SHOP)

_REPLY_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*reply[ \t]*\]\]", re.MULTILINE)
_TOML_LINE = re.compile(r"\(at line (\d+)")
_FIELDS = {"id", "title", "shortcode", "tags", "body", "category"}


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
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(where, 0, f"cannot read: {exc}")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_LINE.search(str(exc))
        return [], [Problem(where, int(m.group(1)) if m else 0, f"not valid TOML: {exc}")]
    lines = [text.count("\n", 0, m.start()) + 1 for m in _REPLY_HEADER.finditer(text)]
    default_category = data.get("category", path.stem)
    if not isinstance(default_category, str):
        return [], [Problem(where, 1, "category must be a string")]
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


def _reply(entry: object, category: str, layer: str, where: str, line: int) -> tuple[Reply | None, str]:
    if not isinstance(entry, dict):
        return None, "each reply must be a table"
    extra = sorted(set(entry) - _FIELDS)
    if extra:
        return None, f"unknown field {extra[0]!r} (fields: {', '.join(sorted(_FIELDS))})"
    for name in ("id", "title", "body"):
        value = entry.get(name)
        if not isinstance(value, str):
            return None, f"reply {entry.get('id', '?')!s}: {name} is missing or not a string"
    rid = entry["id"].strip()
    if not rid:
        return None, "id is empty"
    if not entry["body"].strip():
        return None, f"reply {rid}: body is empty"
    if not entry["title"].strip():
        return None, f"reply {rid}: title is empty"
    shortcode = entry.get("shortcode", "")
    if not isinstance(shortcode, str) or (shortcode and not re.fullmatch(r"[0-9A-Za-z_-]+", shortcode)):
        return None, f"reply {rid}: shortcode must be letters, digits, - or _ (got {shortcode!r})"
    tags = entry.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return None, f"reply {rid}: tags must be a list of strings"
    cat = entry.get("category", category)
    if not isinstance(cat, str):
        return None, f"reply {rid}: category must be a string"
    bad = unknown(entry["body"])
    if bad:
        return None, f"reply {rid}: unknown variable {{{bad[0]}}}"
    return Reply(
        id=rid,
        title=entry["title"].strip(),
        body=entry["body"].strip(),
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
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(path.rglob("*.toml"))
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
