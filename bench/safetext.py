"""How much showing hostile text costs: ``clean``/``one_line``/``fit`` and one thread
bubble laid out by Rich, over ordinary Chinese, the hostile corpus and 100k / 1M-character
lines. Bounded means the 1M line costs about what the 100k one does.

    python bench/safetext.py          # 7 interleaved runs; min / median / max in ms
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from agentdesk.safetext import clean, fit, one_line

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from hostile import CORPUS  # noqa: E402

RUNS = 7
CASES = {
    "chinese message (60 chars)": "亲，您好～您的订单已发货，顺丰 SF1234567890，预计明天送达，请注意查收哦！" * 2,
    "hostile corpus (113 strings)": [text for _, text in CORPUS],
    "100k chars, CJK": "长" * 100_000,
    "1M chars, CJK": "长" * 1_000_000,
    "100k chars, escapes and emoji": ("\x1b]52;c;ZXZpbA==\x07👍🏽❤️\u3164" * 6_000)[:100_000],
    "1M chars, escapes and emoji": ("\x1b]52;c;ZXZpbA==\x07👍🏽❤️\u3164" * 60_000)[:1_000_000],
}
CONSOLE = Console(width=120, file=open("/dev/null", "w"), force_terminal=True)


def shown(texts) -> None:
    for text in texts if isinstance(texts, list) else [texts]:
        body = Text(clean(text))
        CONSOLE.render_lines(Panel(body, width=90), CONSOLE.options.update_width(100))
        fit(one_line(text, limit=60), 40)


def main() -> None:
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(RUNS):  # interleaved: each run measures every case once
        for name, texts in CASES.items():
            start = time.perf_counter()
            shown(texts)
            times[name].append((time.perf_counter() - start) * 1000)
    print(f"{'case':32} {'min':>8} {'median':>8} {'max':>8}  (ms, clean + one bubble laid out + fit, {RUNS} runs)")
    for name, ms in times.items():
        print(f"{name:32} {min(ms):8.2f} {statistics.median(ms):8.2f} {max(ms):8.2f}")


if __name__ == "__main__":
    main()
