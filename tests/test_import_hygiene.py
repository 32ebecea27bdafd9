"""The core is plain Python: importing it must never pull in Textual.

``--help``, ``--version``, benchmarks and these unit tests depend on that, and the
app's startup budget too (Textual is imported only once the cache is open).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import agentdesk

PACKAGE = Path(agentdesk.__file__).resolve().parent
UI = PACKAGE / "ui"

#: Modules the brief names as the core; the walk below also catches new ones.
REQUIRED_CORE = {
    "agentdesk",
    "agentdesk.config",
    "agentdesk.models",
    "agentdesk.clock",
    "agentdesk.safetext",
    "agentdesk.i18n",
    "agentdesk.timefmt",
    "agentdesk.paths",
    "agentdesk.cli",
    "agentdesk.store",
    "agentdesk.store.db",
    "agentdesk.store.schema",
    "agentdesk.store.inbox",
    "agentdesk.store.thread",
    "agentdesk.store.customers",
    "agentdesk.store.writes",
    "agentdesk.store.seed",
    "agentdesk.store.rows",
    "agentdesk.demo.fixtures",
    "agentdesk.demo.build",
    "agentdesk.workflow",
    "agentdesk.workflow.rules",
    "agentdesk.workflow.triage",
    "agentdesk.workflow.sla",
    "agentdesk.workflow.snooze",
    "agentdesk.workflow.lifecycle",
    "agentdesk.workflow.greeting",
    "agentdesk.workflow.metrics",
    "agentdesk.workflow.outreach",
    "agentdesk.workflow.templates",
    "agentdesk.workflow.kpi",
    "agentdesk.workflow.board",
    "agentdesk.workflow.report",
    "agentdesk.workflow.report_commands",
}


def core_modules() -> list[str]:
    """Every module under agentdesk/ except the UI and ``__main__`` (which runs the app)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if UI in path.parents or path.name == "__main__.py":
            continue
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def test_the_walk_finds_every_named_core_module():
    assert REQUIRED_CORE <= set(core_modules())


def test_importing_the_core_does_not_import_textual():
    modules = core_modules()
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [], "core modules imported Textual"


def test_building_the_cli_parser_does_not_import_textual():
    # What `agentdesk --help` runs before it exits.
    script = (
        "import sys\n"
        "from agentdesk.cli import build_parser\n"
        "build_parser().format_help()\n"
        "print('textual' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


_TEXTUAL_IMPORT = re.compile(r"^\s*(?:import\s+textual\b|from\s+textual\b)", re.MULTILINE)


def test_no_module_outside_ui_imports_textual():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if UI in path.parents:
            continue
        for match in _TEXTUAL_IMPORT.finditer(path.read_text(encoding="utf-8")):
            line = path.read_text(encoding="utf-8").count("\n", 0, match.start()) + 1
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line}")
    assert offenders == []


def test_the_ui_does_import_textual():
    # Guards the grep above: if the pattern stopped matching, it would pass vacuously.
    assert _TEXTUAL_IMPORT.search((UI / "app.py").read_text(encoding="utf-8"))
