"""What the headless commands print, kept inert: every message is cleaned (a server's
``detail``, an agent's name or a file's reply id may carry escapes, bidi controls or
``[/]``), JSON escapes what a terminal would act on, and a reader that goes away
(``agentdesk export --json | head``) ends the command quietly instead of in a traceback.
"""

from __future__ import annotations

import os
import sys

from agentdesk.safetext import clean, one_line

#: Exit status after the reader of stdout went away: what a shell reports for SIGPIPE.
PIPE_CLOSED = 141
#: Longest message line: a server's whole error page must not flood the terminal.
MESSAGE_LIMIT = 1000


def fail(message: str, code: int = 2, *, prefix: str = "agentdesk") -> int:
    """One cleaned line on stderr; returns the exit status."""
    print(f"{prefix}: {one_line(str(message), limit=MESSAGE_LIMIT)}", file=sys.stderr)
    return code


def warn(message: str, *, prefix: str = "agentdesk") -> None:
    print(f"{prefix}: warning: {one_line(str(message), limit=MESSAGE_LIMIT)}", file=sys.stderr)


def say(text: str, *, err: bool = False) -> None:
    """Cleaned text (newlines kept) on stdout, or stderr."""
    print(clean(str(text), limit=MESSAGE_LIMIT * 10), file=sys.stderr if err else sys.stdout)


def prepare_streams() -> None:
    """Text that still cannot be encoded (a terminal in a legacy locale) is replaced,
    not a UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")


def pipe_closed() -> int:
    """stdout's reader is gone: send what is left nowhere, so the interpreter's last
    flush does not raise again, and exit as a closed pipe does."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is no real file (captured): nothing to flush into
        pass
    return PIPE_CLOSED
