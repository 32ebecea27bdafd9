"""What a screen would send to the terminal, checked segment by segment: no escape,
control, bidi control or character the width model changes, no payload of an escape,
and every row exactly as wide as the terminal."""

from __future__ import annotations

from rich.cells import cell_len

from agentdesk.safetext import kept
from hostile import PAYLOADS
from hostile_scene import seen


def strip_problems(strips, width: int, where: str) -> tuple[list[str], str]:
    """Problems with rows of ``strips`` (each a Strip, or the strips of one row's
    chops), and the rows' text."""
    problems: list[str] = []
    rows: list[str] = []
    for y, row in enumerate(strips):
        cells = 0
        text: list[str] = []
        for strip in row if isinstance(row, (list, tuple)) or not hasattr(row, "cell_length") else [row]:
            for segment in strip:
                if segment.control:
                    continue
                bad = sorted({f"U+{ord(ch):04X}" for ch in segment.text if ch == "\n" or not kept(ch)})
                if bad:
                    problems.append(f"{where}, row {y}: {', '.join(bad)} in {segment.text[:80]!r}")
                cells += cell_len(segment.text)
                text.append(segment.text)
        line = "".join(text)
        if cells != width:
            problems.append(f"{where}, row {y}: {cells} cells, not {width}: {line[:80]!r}")
        rows.append(line)
    shown = "\n".join(rows)
    problems += [f"{where}: the escape payload {p!r} is on screen" for p in PAYLOADS if p in shown]
    return problems, shown


def check_screen(app, where: str) -> set[tuple[str, int]]:
    """Assert the whole screen (toasts and the screens under a dialog included) is inert;
    answer the hostile (field, string) markers on it."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    problems, shown = strip_problems(update.strips, app.size.width, where)
    assert not problems, "\n".join(problems[:20])
    return seen(shown)


def check_lines(lines, width: int, where: str) -> set[tuple[str, int]]:
    """The same for a widget's own laid-out lines (a thread's bubbles above the view)."""
    problems, shown = strip_problems(lines, width, where)
    assert not problems, "\n".join(problems[:20])
    return seen(shown)
