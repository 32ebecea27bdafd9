"""The shop's scripted content: the simulator's dialogues, the bot's FAQ and the
shop-wide quick replies. They are package data (dialogues.json, faq.json,
quick_replies.json next to this module); a test may point at another directory. A
missing file is simply no content (no simulated customers, no FAQ answers, an empty
library); a broken one is an error naming the file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

FILES = {"dialogues": ("dialogues.json", "dialogues"), "faq": ("faq.json", "faq"),
         "quick_replies": ("quick_replies.json", "items")}


class ContentError(ValueError):
    pass


@dataclass(frozen=True)
class Content:
    dialogues: list[dict] = field(default_factory=list)
    faq: list[dict] = field(default_factory=list)
    quick_replies: list[dict] = field(default_factory=list)


def load(directory: Path | str | None = None) -> Content:
    """The content of ``directory`` (default: the package's own data files)."""
    base = Path(directory) if directory is not None else resources.files("agentdesk.shop")
    parts = {}
    for attr, (name, key) in FILES.items():
        parts[attr] = _read(base / name, name, key)
    return Content(**parts)


def _read(path, name: str, key: str) -> list[dict]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContentError(f"{name}: not valid JSON ({exc})") from None
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ContentError(f"{name}: expected {{\"{key}\": [objects]}}")
    return items
