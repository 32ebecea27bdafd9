"""Running the installed ``agentdesk`` command as an ordinary user would.

Tests of unreadable and read-only files need permissions to mean something. As root
they do not (root reads and writes any file), so for root the child process gives up
the two capabilities that override file permissions before it starts; it stays root,
and the files it made stay its own, but a mode of 0o444 or 0o000 binds it like anyone.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# This environment's own interpreter and console script, found from sys.prefix: where a
# virtualenv's python is a symlink, sys.executable can name the base interpreter, which
# would import some other installed agentdesk.
_BIN = Path(sys.prefix) / "bin"
PYTHON = str(_BIN / "python") if (_BIN / "python").exists() else sys.executable
#: What a user types: the console script, or the module under this interpreter.
AGENTDESK = [str(_BIN / "agentdesk")] if (_BIN / "agentdesk").exists() else [PYTHON, "-m", "agentdesk"]

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def as_ordinary_user() -> None:
    """preexec_fn: drop the permission-override capabilities (root only; no-op else)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def user_env(home: Path, **extra: str) -> dict[str, str]:
    """A home of its own (no real config or cache is read) and plain output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTDESK_", "XDG_"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        TERM="dumb",
        PYTHONIOENCODING="utf-8",
    )
    env.update(extra)
    return env


def run_agentdesk(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*AGENTDESK, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
        text=True, encoding="utf-8", errors="replace", timeout=timeout, preexec_fn=as_ordinary_user,
    )


def start_agentdesk(args: list[str], *, cwd: Path, env: dict[str, str], **kw) -> subprocess.Popen:
    return subprocess.Popen([*AGENTDESK, *args], cwd=cwd, env=env, preexec_fn=as_ordinary_user, **kw)


#: Python for a process that holds a cache the way a running agentdesk does.
HOLD_LOCK = (
    "import sys; from agentdesk.store import CacheLock\n"
    "lock = CacheLock(sys.argv[1]); lock.acquire(); print('ready', flush=True); sys.stdin.read()"
)


@contextmanager
def held(cache: Path, code: str = HOLD_LOCK) -> Iterator[subprocess.Popen]:
    """A process that holds ``cache`` (as ``code`` does) until the block ends."""
    proc = subprocess.Popen([PYTHON, "-c", code, str(cache)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(10)
        proc.stdout.close()
