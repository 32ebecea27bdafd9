"""The width model against a real terminal: tmux (3.3a here, on glibc 2.36, UTF-8).

A tiny program in tmux prints each trap between a line number and a ``|`` followed by
a run of ``x`` with autowrap off, so the run is cut at the right edge: how many ``x``
are left tells how many cells tmux gave the trap. That must be Rich's ``cell_len`` of
what :mod:`agentdesk.safetext` makes of it – Rich lays out every row, tmux draws it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest
from rich.cells import cell_len

from agentdesk.safetext import fit, one_line, pad
from hostile import BIDI, INVISIBLE, MARKUP, WIDTH

pytestmark = pytest.mark.e2e

TMUX = shutil.which("tmux")
if not TMUX:
    pytest.fail("the terminal width test needs tmux", pytrace=False)

PANE = 200
PROGRAM = r"""
import json, sys
lines = json.load(open(sys.argv[1], encoding="utf-8"))
out = sys.stdout
out.write("\x1b[?7l")  # no autowrap: a line longer than the pane is cut, not folded
for i, text in enumerate(lines):
    out.write(f"{i:04d} {text}|" + "x" * %d + "\r\n")
out.write("DONE\r\n")
out.flush()
sys.stdin.read()  # stay on screen until the test has read it
""" % PANE

#: Plain text of the trade that must keep its width too (and be kept as it is).
ORDINARY = [
    ("chinese", "亲，订单 #20261120-0042 已发货，顺丰 SF1234567890。"),
    ("fullwidth", "ＡＢＣ１２３！？"),
    ("kana-hangul", "ありがとう 감사합니다"),
    ("emoji", "😀🎉📦🙏"),
    ("thai", "สวัสดีครับ"),
    ("vietnamese-decomposed", "Vie\u0323\u0302t Nam"),
    ("arabic", "مرحبا"),
    ("ambiguous", "“引号” …·①α"),
    ("latin-marks", "café naïve"),
    ("shapes", "●◐○─│╭╮"),
]
TRAPS = WIDTH + INVISIBLE + BIDI + MARKUP + ORDINARY


def measure(env: dict[str, str], tmp_path, lines: list[str]) -> list[int]:
    """The cells tmux gives each of ``lines``."""
    data = tmp_path / "lines.json"
    data.write_text(json.dumps(lines), encoding="utf-8")
    program = tmp_path / "show.py"
    program.write_text(PROGRAM, encoding="utf-8")
    name = f"widths-{uuid.uuid4().hex[:8]}"
    subprocess.run([TMUX, "-f", os.devnull, "new-session", "-d", "-s", name, "-x", str(PANE),
                    "-y", str(len(lines) + 5), f"{sys.executable} {program} {data}"], env=env, check=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            screen = subprocess.run([TMUX, "capture-pane", "-p", "-t", name], env=env,
                                    capture_output=True, text=True).stdout
            if "DONE" in screen:
                break
            assert time.monotonic() < deadline, f"the program never finished:\n{screen}"
            time.sleep(0.1)
    finally:
        subprocess.run([TMUX, "kill-session", "-t", name], env=env, capture_output=True)
    widths: dict[int, int] = {}
    for row in screen.splitlines():
        head, sep, tail = row.partition(" ")
        if sep and head.isdigit() and "|" in tail:
            xs = len(tail) - len(tail.rstrip("x"))
            widths[int(head)] = PANE - len(head) - 1 - 1 - xs
    assert sorted(widths) == list(range(len(lines))), screen
    return [widths[i] for i in range(len(lines))]


@pytest.fixture
def env(tmp_path):
    env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="xterm-256color", TMUX_TMPDIR=str(tmp_path))
    env.pop("TMUX", None)
    return env


def test_every_cleaned_trap_is_as_wide_in_tmux_as_rich_says(env, tmp_path):
    shown = [one_line(text, limit=80) for _, text in TRAPS]
    fitted = [pad(text, 12) for _, text in TRAPS] + [fit(text, 7) for _, text in TRAPS]
    measured = measure(env, tmp_path, shown + fitted)
    wrong = [
        (name, text, cell_len(text), cells)
        for (name, _), text, cells in zip(TRAPS + TRAPS + TRAPS, shown + fitted, measured)
        if cell_len(text) != cells
    ]
    assert not wrong, "Rich and tmux disagree on: " + "; ".join(
        f"{name} {text!r}: Rich {rich}, tmux {cells}" for name, text, rich, cells in wrong)
    assert measured[len(shown):len(shown) + len(TRAPS)] == [12] * len(TRAPS)  # pad fills its cells exactly
    assert all(cells <= 7 for cells in measured[len(shown) + len(TRAPS):])


def test_the_raw_traps_do_disagree_so_the_measure_means_something(env, tmp_path):
    """Printed as they came (these carry no escapes), the width traps are measured
    differently by tmux and Rich: the classes the model handles are real here."""
    raw = [text for _, text in WIDTH + INVISIBLE]
    measured = measure(env, tmp_path, raw)
    disagree = {name for (name, text), cells in zip(WIDTH + INVISIBLE, measured) if cell_len(text) != cells}
    for name in ("fillers-3164", "fillers-ffa0", "vs16-heart", "skin-tone", "zwj-rainbow-flag",
                 "devanagari-mc", "unicode16-trigrams", "glibc-wide"):
        assert name in disagree, f"{name} no longer fools tmux 3.3a: {sorted(disagree)}"
