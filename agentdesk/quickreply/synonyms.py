"""The trade's synonyms: the words customers and agents use for the same thing, so a
customer's ``快递单号`` finds the reply titled 物流单号 and ``商品坏了`` the one about 破损.

A ``[synonyms]`` table in any reply file of the library (the shop's ``replies/`` ships
``synonyms.toml``; an agent's personal files and a shop's own may add more). Each key
and its list are one group of words that mean the same::

    [synonyms]
    "快递" = ["物流", "包裹", "快件"]
    "坏" = ["破损", "损坏", "碎", "damaged", "broken"]

Groups from every file are kept (a word may be in several); a bad table is reported
(file:line, one line) and skipped, like a bad reply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from agentdesk import userfile
from agentdesk.quickreply.library import MAX_FILE_BYTES, Problem, bundled_dir, name_problem, personal_dir
from agentdesk.quoting import path_text, quoted

Group = tuple[str, ...]
_TABLE = re.compile(r"^[ \t]*\[[ \t]*synonyms[ \t]*\]", re.MULTILINE)


def load_file(path: Path) -> tuple[list[Group], list[Problem]]:
    """The groups of one file's ``[synonyms]`` table (none: no table)."""
    where = path_text(path)
    try:
        text = userfile.read_text(path, MAX_FILE_BYTES)
        data = userfile.loads_toml(text)
    except userfile.UserFileError:
        return [], []  # the reply loader reports an unreadable file once
    table = data.get("synonyms")
    if table is None:
        return [], []
    m = _TABLE.search(text)
    line = text.count("\n", 0, m.start()) + 1 if m else 0
    if not isinstance(table, dict):
        return [], [Problem(where, line, "synonyms must be a table ([synonyms], each word = [its synonyms])")]
    groups: list[Group] = []
    problems: list[Problem] = []
    for head, words in table.items():
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            problems.append(Problem(where, line, f"synonyms: {quoted(head, 40)} must be a list of words"))
            continue
        bad = next((p for p in map(lambda w: name_problem("tag", w), (head, *words)) if p), "")
        if bad:
            problems.append(Problem(where, line, f"synonyms: {bad.replace('tag ', 'word ', 1)}"))
            continue
        group = tuple(dict.fromkeys(w.strip() for w in (head, *words) if w.strip()))
        if len(group) > 1:
            groups.append(group)
    return groups, problems


def load_dirs(paths: Iterable[Path]) -> tuple[list[Group], list[Problem]]:
    groups: list[Group] = []
    problems: list[Problem] = []
    for path in paths:
        files = [path] if path.is_file() else sorted(path.rglob("*.toml")) if path.is_dir() else []
        for f in files:
            g, p = load_file(f)
            groups.extend(g)
            problems.extend(p)
    return groups, problems


def load_all(*, personal: Path | None = None, library: Path | None = None) -> tuple[list[Group], list[Problem]]:
    """Every group of the agent's personal files and the library."""
    return load_dirs([personal if personal is not None else personal_dir(),
                      library if library is not None else bundled_dir()])
