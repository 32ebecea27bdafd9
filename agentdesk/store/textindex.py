"""Substring search for any script over SQLite FTS5: the two tables behind every index
of Find (the message history, customers, orders).

FTS5's ``trigram`` tokenizer serves a term of three or more characters – every run of
three characters of a text is a token – but never one of one or two characters, and
those are the commonest searches in Chinese (退款, 发票, 顺丰). So each index is a pair:

* ``<name>_tri``: the folded text, ``trigram``;
* for one- and two-character terms, either
  ``<name>_chars``: the text's characters, each its own token (the text with a space
  between characters, through ``unicode61`` with every Unicode category a token
  character); a one-character term is one token, a two-character term the AND of its
  two characters, the pair checked against the text – the message history's, as the
  sync writes it with every page and a pairs table would cost twice the tokens;
  or ``<name>_pairs``: the text with a separator around every character (``␟小␟鹿␟``)
  through the trigram tokenizer, whose trigrams are then exactly its characters
  (``␟小␟``) and pairs (``小␟鹿``): one token a term – customers and orders, indexed in
  the background, where a two-character nickname must not be the AND of two
  characters found in a million names.

Both are contentless with ``detail=none`` (no positions: a third of the size), so a
term is looked up as the AND of its trigrams or characters and every candidate is then
checked against its text: the tables only narrow, :func:`contains_all` decides, and
what is found is exactly the texts that contain every term.

Texts and terms are folded the same way (:mod:`agentdesk.textfold`), so a literal
substring is always found, whatever its length.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

#: A term looked up by its trigrams uses at most this many of them (spread over it):
#: every list in the AND costs a walk, and the check against the text does the rest, so
#: a 19-digit order number or a pasted paragraph costs what a word does.
MAX_TRIGRAMS = 4
#: Terms of a query the expression uses (the longest ones).
MAX_TERMS = 4
#: Which table serves an index's one- and two-character terms (see the module doc).
SHORT = {"search": "chars", "find": "pairs"}
_SEPARATOR = "\x1f"

# -- tokens ---------------------------------------------------------------------------


def short_text(kind: str, folded: str) -> str:
    """The document of a folded text in the ``chars`` or ``pairs`` table."""
    if kind == "chars":
        return " ".join(folded)
    return _SEPARATOR + _SEPARATOR.join(folded) + _SEPARATOR


def _short_tokens(kind: str, term: str) -> list[str]:
    if kind == "chars":
        return [ch for ch in term if ch != " "]
    if len(term) == 2:
        return [term[0] + _SEPARATOR + term[1]]
    return [_SEPARATOR + term + _SEPARATOR]


def _trigrams(term: str) -> list[str]:
    """The distinct trigrams of a term, at most :data:`MAX_TRIGRAMS` spread over it; a
    long term leaves out its first (a prefix is what numbers and words share most:
    every order number here starts 39…)."""
    grams = list(dict.fromkeys(term[i : i + 3] for i in range(len(term) - 2)))
    if len(grams) > MAX_TRIGRAMS:
        rest = grams[1:]
        step = (len(rest) - 1) / (MAX_TRIGRAMS - 1)
        grams = [rest[round(n * step)] for n in range(MAX_TRIGRAMS)]
    return grams


def _quoted(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'




def match_expression(terms: Sequence[str], short: str = "chars") -> tuple[str, str] | None:
    """Which table to ask and the MATCH expression: the trigram table when any term has
    three characters or more (the others are checked against the text), else the
    ``short`` table (``chars`` or ``pairs``). None for no terms; an empty expression when nothing can match (a NUL, which
    ends an FTS5 string, is in every token)."""
    # The longest terms narrow best; a pasted paragraph's hundred words need not all be
    # in the expression (every candidate is checked against all of them anyway).
    long_terms = sorted((t for t in terms if len(t) >= 3), key=len, reverse=True)[:MAX_TERMS]
    if long_terms:
        table, tokens = "tri", dict.fromkeys(g for t in long_terms for g in _trigrams(t))
    else:
        table, tokens = short, dict.fromkeys(tok for t in terms[:MAX_TERMS * 2] for tok in _short_tokens(short, t))
    if not tokens:
        return None
    return table, " AND ".join(_quoted(tok) for tok in tokens if "\x00" not in tok)


# -- the tables -------------------------------------------------------------------------


def add(conn: sqlite3.Connection, name: str, docs: Sequence[tuple[int, str]]) -> None:
    """Index ``(docid, folded text)`` pairs. Contentless tables cannot forget a row, so
    callers never reuse a docid: a changed or removed text keeps its postings, and its
    docid simply maps to nothing any more (the check against the text drops it too)."""
    if not docs:
        return
    conn.executemany(f"INSERT INTO {name}_tri (rowid, text) VALUES (?, ?)", docs)
    short = SHORT[name]
    conn.executemany(f"INSERT INTO {name}_{short} (rowid, {short}) VALUES (?, ?)",
                     [(docid, short_text(short, text)) for docid, text in docs])


def candidates(
    conn: sqlite3.Connection, name: str, terms: Sequence[str], *, below: int, floor: int, limit: int
) -> list[int]:
    """Docids in ``[floor, below)`` whose text may contain every term, highest first."""
    found = match_expression(terms, SHORT[name])
    if found is None:
        return []
    table, expression = found
    if not expression:
        return []
    sql = (f"SELECT rowid FROM {name}_{table} WHERE {name}_{table} MATCH ? AND rowid < ? AND rowid >= ? "
           "ORDER BY rowid DESC LIMIT ?")
    return [r[0] for r in conn.execute(sql, [expression, below, floor, limit])]
