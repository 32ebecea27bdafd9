"""Opening the library an agent works with: files + cached shop layer + pinyin keys.

Runs in a worker (it reads files and the cache). Pinyin keys come from the cache; only
Han runs never seen before are computed, once, and written back in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agentdesk.quickreply import library, pinyin, synonyms
from agentdesk.quickreply.search import ReplyIndex
from agentdesk.store import Store, quickreplies


@dataclass
class Opened:
    index: ReplyIndex
    library: library.Library
    #: Han runs whose syllables had to be computed this time (0 once cached).
    computed: int


def reply_texts(replies: list[library.Reply]) -> list[str]:
    return [t for r in replies for t in (r.title, r.body, *r.tags)]


def keys_for(store: Store, texts: list[str]) -> tuple[dict[str, str], int]:
    runs = pinyin.han_runs(texts)
    keys = store.read(quickreplies.pinyin_keys, runs)
    missing = runs - keys.keys()
    if missing:
        fresh = pinyin.compute(missing)
        store.write(quickreplies.save_pinyin_keys, fresh)
        keys.update(fresh)
    return keys, len(missing)


def open_library(
    store: Store,
    *,
    now: float,
    personal: Path | None = None,
    bundled: Path | None = None,
    only: Path | None = None,
) -> Opened:
    """The merged library (``only``: just the library in that path, as deployed there),
    with the synonym groups of the same files."""
    if only is not None:
        lib = library.load_dir(only)
        groups, problems = synonyms.load_dirs([only])
    else:
        lib = library.load_all(
            personal=personal, library=bundled, shop_items=store.read(quickreplies.shop_replies)
        )
        groups, problems = synonyms.load_all(personal=personal, library=bundled)
    lib.problems.extend(problems)
    keys, computed = keys_for(store, reply_texts(lib.replies) + [w for g in groups for w in g])
    index = ReplyIndex(lib.replies, pinyin.Syllables(keys).of, usage=store.read(quickreplies.usage, now),
                       synonyms=groups)
    return Opened(index, lib, computed)
