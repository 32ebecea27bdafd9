"""Substring search for any script over SQLite FTS5: the two tables behind every index
of Find (the message history, customers, orders).

FTS5's ``trigram`` tokenizer serves a term of three or more characters – every run of
three characters of a text is a token – but never one of one or two characters, and
those are the commonest searches in Chinese (退款, 发票, 顺丰). So each index is a pair:

* ``<name>_tri``: the folded text, ``trigram``;
* ``<name>_chars``: the text's characters, each its own token (the text with a space
  between characters, through ``unicode61`` with every Unicode category a token
  character). A one-character term is one token; a two-character term the AND of its
  two characters, the pair checked against the text (a pairs table would cost twice
  the tokens of this one at every write, for what the check does on reading).

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

#: A term looked up by its trigrams uses at most this many of them (spread over it);
#: the check against the text does the rest, so a pasted paragraph costs the same.
MAX_TRIGRAMS = 12
#: Terms of a query the expression uses (the longest ones).
MAX_TERMS = 4

# -- tokens ---------------------------------------------------------------------------


def char_text(folded: str) -> str:
    """The characters document of a folded text (see the module doc)."""
    return " ".join(folded)


def _trigrams(term: str) -> list[str]:
    grams = list(dict.fromkeys(term[i : i + 3] for i in range(len(term) - 2)))
    if len(grams) > MAX_TRIGRAMS:
        step = (len(grams) - 1) / (MAX_TRIGRAMS - 1)
        grams = [grams[round(n * step)] for n in range(MAX_TRIGRAMS)]
    return grams


def _quoted(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'




def match_expression(terms: Sequence[str]) -> tuple[str, str] | None:
    """Which table to ask and the MATCH expression: the trigram table when any term has
    three characters or more (the others are checked against the text), else the
    characters table. None for no terms; an empty expression when nothing can match (a NUL, which
    ends an FTS5 string, is in every token)."""
    # The longest terms narrow best; a pasted paragraph's hundred words need not all be
    # in the expression (every candidate is checked against all of them anyway).
    long_terms = sorted((t for t in terms if len(t) >= 3), key=len, reverse=True)[:MAX_TERMS]
    if long_terms:
        table, tokens = "tri", dict.fromkeys(g for t in long_terms for g in _trigrams(t))
    else:
        table, tokens = "chars", dict.fromkeys(ch for t in terms[:MAX_TERMS * 2] for ch in t if ch != " ")
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
    conn.executemany(f"INSERT INTO {name}_chars (rowid, chars) VALUES (?, ?)",
                     [(docid, char_text(text)) for docid, text in docs])


def candidates(
    conn: sqlite3.Connection, name: str, terms: Sequence[str], *, below: int, floor: int, limit: int
) -> list[int]:
    """Docids in ``[floor, below)`` whose text may contain every term, highest first."""
    found = match_expression(terms)
    if found is None:
        return []
    table, expression = found
    if not expression:
        return []
    sql = (f"SELECT rowid FROM {name}_{table} WHERE {name}_{table} MATCH ? AND rowid < ? AND rowid >= ? "
           "ORDER BY rowid DESC LIMIT ?")
    return [r[0] for r in conn.execute(sql, [expression, below, floor, limit])]
