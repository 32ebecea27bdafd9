"""Reading a file a user wrote or handed us (the config, a reply file, saved unsent
writes) as untrusted input.

Whatever is at the path – a folder, a named pipe, a file nobody may read, 1 GB of
zeros, invalid UTF-8, a NUL byte, TOML arrays nested ten thousand deep – the answer is
the contents or one :class:`UserFileError` saying what is wrong, with the line where
there is one. Nothing here blocks: a pipe or a device is refused before it is read,
and no more than ``limit`` bytes are ever read.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

from agentdesk.quoting import literal

_AT_LINE = re.compile(r"\(at line (\d+)")
#: tomllib's messages quote the offending key; a 100 000-character key stays one short line.
_MESSAGE_LIMIT = 200


class UserFileError(Exception):
    """``message`` is phrased for the user (without the path); ``line`` is 0 when unknown."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def read_toml(path: Path, limit: int) -> dict[str, Any]:
    """The TOML document at ``path`` (a regular file of at most ``limit`` bytes)."""
    return loads_toml(read_text(path, limit))


def read_text(path: Path, limit: int) -> str:
    return decode(read_bytes(path, limit))


def read_bytes(path: Path, limit: int) -> bytes:
    try:
        # O_NONBLOCK: opening a named pipe for reading would wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UserFileError(_os_problem(exc)) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UserFileError("is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise UserFileError("is not a regular file (a pipe or a device?)")
        if info.st_size > limit:
            raise UserFileError(f"is too big ({_size(info.st_size)}; at most {_size(limit)})")
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise UserFileError(_os_problem(exc)) from None
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew while we read it
        raise UserFileError(f"is too big (more than {_size(limit)})")
    return data


def decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):  # Windows editors save UTF-8 with a BOM
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise UserFileError(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line}, column {column}); "
            "save it as UTF-8", line
        ) from None


def loads_toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = _AT_LINE.search(message)
        if len(message) > _MESSAGE_LIMIT:
            message = message[:_MESSAGE_LIMIT] + "…"
        raise UserFileError(f"not valid TOML: {literal(message, _MESSAGE_LIMIT + 1)}",
                            int(m.group(1)) if m else 0) from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables by recursion.
        raise UserFileError("not valid TOML: arrays or tables nested too deeply") from None


# Never in a one-line value (a name, a title, a path): controls, format characters
# (bidi overrides, zero-width), line separators, lone surrogates. The zero-width joiner
# stays: emoji sequences are built with it.
_ONE_LINE_BAD = ("Cc", "Cf", "Zl", "Zp", "Cs")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def bad_char(text: str, *, lines: bool = False) -> tuple[int, str] | None:
    """The first character a hand-written value must not hold (position from 1, char),
    or None. ``lines``: a text sent to customers, where line breaks and tabs are fine
    but a control character or a bidi override is not."""
    for n, ch in enumerate(text, start=1):
        category = unicodedata.category(ch)
        if lines:
            if (category == "Cc" and ch not in "\n\t\r") or ch in _BIDI_CONTROLS or category in ("Zl", "Zp", "Cs"):
                return n, ch
        elif category in _ONE_LINE_BAD and ch != "\u200d":
            return n, ch
    return None


def _os_problem(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "no such file"
    if exc.errno == errno.EISDIR:
        return "is a folder, not a file"
    if exc.errno == errno.ENOTDIR:
        return "is not a file (a part of the path is a file, not a folder)"
    return f"cannot be read ({os_reason(exc)})"


def os_reason(exc: OSError) -> str:
    """Why the OS said no, in a few plain words."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    if exc.errno == errno.ELOOP:
        return "too many symbolic links: a link loop?"
    if exc.errno == errno.ENAMETOOLONG:
        return "the path is too long"
    return exc.strerror or str(exc)


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 2**10:.0f} KB"
