"""Substring search for any script over SQLite FTS5: the two tables behind every index
of Find (the message history, customers, orders).

FTS5's ``trigram`` tokenizer serves a term of three or more characters – every run of
three characters of a text is a token – but never one of one or two characters, and
those are the commonest searches in Chinese (退款, 发票, 顺丰). So each index is a pair:

* ``<name>_tri``: the folded text, ``trigram case_sensitive 0``;
* ``<name>_grams``: the text's characters and pairs of adjacent characters as tokens,
  code points in hex (``u9000``, ``b9000x6b3e``) so the default tokenizer keeps each
  token whole whatever the script or punctuation.

Both are contentless with ``detail=none`` (no positions: a third of the size), so a
term is looked up as the AND of its trigrams and every candidate is then checked
against its text: the tables only narrow, :func:`contains_all` decides, and what is
found is exactly the texts that contain every term.

Texts and terms are folded the same way (:mod:`agentdesk.textfold`), so a literal
substring is always found, whatever its length.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence


#: A term looked up by its trigrams uses at most this many of them (spread over it);
#: the check against the text does the rest, so a pasted paragraph costs the same.
MAX_TRIGRAMS = 12
# -- tokens ---------------------------------------------------------------------------


def gram_tokens(folded: str) -> str:
    """The grams document of a folded text: each character and each pair of adjacent
    characters, whitespace excluded (a term never holds whitespace at its ends, and a
    one- or two-character term none at all)."""
    out: set[str] = set()
    prev = ""
    for ch in folded:
        if ch.isspace():
            prev = ""
            continue
        code = format(ord(ch), "x")
        out.add("u" + code)
        if prev:
            out.add(f"b{prev}x{code}")
        prev = code
    return " ".join(out)


def _trigrams(term: str) -> list[str]:
    grams = list(dict.fromkeys(term[i : i + 3] for i in range(len(term) - 2)))
    if len(grams) > MAX_TRIGRAMS:
        step = (len(grams) - 1) / (MAX_TRIGRAMS - 1)
        grams = [grams[round(n * step)] for n in range(MAX_TRIGRAMS)]
    return grams


def _quoted(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _short_tokens(term: str) -> list[str]:
    chars = [format(ord(c), "x") for c in term if not c.isspace()]
    if len(term) == 2 and len(chars) == 2:
        return [f"b{chars[0]}x{chars[1]}"]
    return ["u" + c for c in dict.fromkeys(chars)]


def match_expression(terms: Sequence[str]) -> tuple[str, str] | None:
    """Which table to ask and the MATCH expression: the trigram table when any term has
    three characters or more (the others are checked against the text), else the grams
    table. None for no terms."""
    long_terms = [t for t in terms if len(t) >= 3]
    if long_terms:
        grams = dict.fromkeys(g for t in long_terms for g in _trigrams(t))
        return "tri", " AND ".join(_quoted(g) for g in grams)
    tokens = dict.fromkeys(tok for t in terms for tok in _short_tokens(t))
    if not tokens:
        return None
    return "grams", " AND ".join(tokens)


# -- the tables -------------------------------------------------------------------------


def add(conn: sqlite3.Connection, name: str, docs: Sequence[tuple[int, str]]) -> None:
    """Index ``(docid, folded text)`` pairs. Contentless tables cannot forget a row, so
    callers never reuse a docid: a changed or removed text keeps its postings, and its
    docid simply maps to nothing any more (the check against the text drops it too)."""
    if not docs:
        return
    conn.executemany(f"INSERT INTO {name}_tri (rowid, text) VALUES (?, ?)", docs)
    conn.executemany(f"INSERT INTO {name}_grams (rowid, grams) VALUES (?, ?)",
                     [(docid, gram_tokens(text)) for docid, text in docs])


def candidates(
    conn: sqlite3.Connection, name: str, terms: Sequence[str], *, below: int, floor: int, limit: int
) -> list[int]:
    """Docids in ``[floor, below)`` whose text may contain every term, highest first."""
    found = match_expression(terms)
    if found is None:
        return []
    table, expression = found
    sql = (f"SELECT rowid FROM {name}_{table} WHERE {name}_{table} MATCH ? AND rowid < ? AND rowid >= ? "
           "ORDER BY rowid DESC LIMIT ?")
    return [r[0] for r in conn.execute(sql, [expression, below, floor, limit])]
