"""``--reset-cache``: replace a cache without losing an unsent write.

Before the file goes, everything unsent in it (see :mod:`agentdesk.store.unsent`) is
saved to a timestamped JSON file, which the launcher then puts back into the new cache.
A cache whose unsent writes cannot be read is not deleted: without ``force`` the reset
is refused; with it the file is moved aside (renamed, never deleted), so whatever it
holds can still be recovered by hand.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from agentdesk.quoting import path_text
from agentdesk.store import unsent
from agentdesk.store.db import CacheError

COMPANIONS = ("", "-wal", "-shm")


@dataclass
class Reset:
    #: What was unsent in the old cache (empty when nothing, or when moved aside).
    found: unsent.Unsent
    #: The file it was saved to (None when there was nothing to save).
    saved: Path | None = None
    #: Where an unreadable cache was moved with ``force``.
    moved_to: Path | None = None


def reset(path: Path | str, *, force: bool = False) -> Reset:
    path = Path(path)
    if path.is_dir() or (path.exists() and not path.is_file()):
        raise CacheError(f"{path_text(path)}: is not a cache file; --reset-cache replaces only a cache file: "
                         "set [cache] path to a file name")
    try:
        found = unsent.read(path)
    except unsent.Unreadable as exc:
        aside = _aside_name(path)
        if not force:
            raise CacheError(
                f"{path_text(path)}: --reset-cache will not delete it: its unsent writes cannot be read "
                f"({exc}); run again with --reset-cache --force to move it aside (to {path_text(aside.name)}) "
                "and start a new cache"
            ) from None
        _move(path, aside)
        return Reset(unsent.Unsent(), moved_to=aside)
    saved = None
    if found:
        try:
            saved = unsent.save(found, path)
        except OSError as exc:
            raise CacheError(
                f"{path_text(path)}: --reset-cache could not save its {found.describe()} "
                f"({exc.strerror or exc}), so it was not deleted; free space or make the data folder writable"
            ) from None
    remove_files(path)
    return Reset(found, saved=saved)


def remove_files(path: Path | str) -> None:
    """Delete a SQLite file and its WAL/SHM companions."""
    for suffix in COMPANIONS:
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _aside_name(path: Path) -> Path:
    return path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")


def _move(path: Path, aside: Path) -> None:
    try:
        for suffix in COMPANIONS:
            source = Path(f"{path}{suffix}")
            if source.exists():
                source.rename(f"{aside}{suffix}")
    except OSError as exc:
        raise CacheError(f"{path_text(path)}: cannot move it aside ({exc.strerror or exc})") from None
