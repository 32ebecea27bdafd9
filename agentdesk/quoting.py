"""Names and values from outside (file paths, TOML keys and values, lock file contents)
quoted into a one-line error message.

An error line must stay one line and must not drive the terminal, whatever a file
holds: characters that do not print (controls, escapes, bidi and other format
characters, line separators) are written as Python escapes, and long values are cut.
Printable text, Chinese included, stays as it is.
"""

from __future__ import annotations

import os

#: Longest value quoted in a message; past it, the value is cut with "…".
LIMIT = 60


def _escape(ch: str) -> str:
    if ch.isprintable():
        return ch
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def literal(text: str, limit: int = LIMIT) -> str:
    """``text`` with every non-printing character escaped, cut to about ``limit``."""
    cut = len(text) > limit
    out = "".join(_escape(ch) for ch in (text[:limit] if cut else text))
    return out + "…" if cut else out


def quoted(value: object, limit: int = LIMIT) -> str:
    """A value as a user wrote it: strings in quotes, anything else as Python shows it."""
    if isinstance(value, str):
        return f'"{literal(value, limit)}"'
    return literal(repr(value), limit)


def path_text(path: str | os.PathLike) -> str:
    """A file path for a message: never cut (the user must find the file), escaped."""
    return literal(os.fsdecode(path), limit=4096)
