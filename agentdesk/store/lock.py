"""One app per cache.

Two apps syncing one cache would each run the outbox, triage and the auto-greeting:
a customer could be greeted twice. So the workstation, the monitor, ``agentdesk
sync`` and ``--reset-cache`` hold an exclusive lock on ``<cache>.lock`` for as long
as they run, and a second one refuses, naming the first (pid and command line, which
the holder writes into the lock file). The lock is ``flock(2)``: the kernel drops it
when the holder exits, however it exits (SIGKILL, a crash, a power cut), so a stale
file never blocks anyone – only a live holder does.
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import sys
import time
from pathlib import Path

from agentdesk.quoting import literal, path_text
from agentdesk.store.db import CacheError, prepare_folder, unwritable


class CacheInUse(CacheError):
    """Another live agentdesk holds the cache; ``holder`` says which ("pid 12: agentdesk …")."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


def lock_path(cache: Path) -> Path:
    return Path(f"{cache}.lock")


class CacheLock:
    def __init__(self, cache: Path | str) -> None:
        self.cache = Path(cache)
        self.path = lock_path(self.cache)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock now or raise :class:`CacheInUse` (never waits)."""
        prepare_folder(self.cache)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except PermissionError:
            try:  # a lock file we may not write still locks; the folder may be read-only
                fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                raise CacheError(unwritable(self.cache, "cannot create its lock file")) from None
        except OSError as exc:
            raise CacheError(unwritable(self.cache, exc.strerror or str(exc))) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise CacheInUse(
                f"{path_text(self.cache)}: is in use by another agentdesk ({holder}); one app per cache: "
                "use that one, or quit it and start again", holder,
            ) from None
        except OSError as exc:  # a file system without locks: say so rather than run unguarded
            os.close(fd)
            raise CacheError(f"{path_text(self.cache)}: cannot lock {path_text(self.path)} ({exc.strerror})") from None
        self._fd = fd
        _introduce(fd)

    def release(self) -> None:
        """Closing the descriptor releases the lock. The file stays: deleting it would
        let a process that opened it just before lock a file nobody else sees."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _introduce(fd: int) -> None:
    """Write who holds the lock, for the message a second app shows."""
    me = {"pid": os.getpid(), "command": shlex.join(["agentdesk", *sys.argv[1:]]), "since": time.time()}
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
    except OSError:
        pass  # read-only lock file: the lock holds, the message says less


def _holder(fd: int) -> str:
    try:
        info = json.loads(os.pread(fd, 4096, 0))
        pid, command, since = int(info["pid"]), str(info["command"]), float(info["since"])
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(since))
    except (OSError, ValueError, KeyError, TypeError, OverflowError):
        return "it has not said which"  # it has only just taken the lock, or an old lock file
    return f"pid {pid}: {literal(command, 120)}, since {started}"
