"""Where agentdesk keeps its files, from platformdirs (XDG on Linux)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP = "agentdesk"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP, appauthor=False))
