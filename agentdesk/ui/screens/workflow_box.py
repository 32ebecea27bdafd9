"""The frame every workflow dialog sits in: a scrolling box (short terminals) that Tab
skips, with the dialog's title on top and its keys on the bottom border, where they stay
visible however small the terminal is."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll


class WorkflowBox(VerticalScroll, can_focus=False):
    def __init__(self, *, id: str, title: str = "", keys: str = "") -> None:
        super().__init__(id=id, classes="workflow-box")
        self.border_title = Text(title) if title else None  # Text: a title is never markup
        self.border_subtitle = Text(keys)
