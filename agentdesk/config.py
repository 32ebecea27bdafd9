"""Settings: ``config.toml`` read with :mod:`tomllib` into typed dataclasses.

Lookup order: ``--config PATH``, ``$AGENTDESK_CONFIG``, ``./config.toml``, the
platformdirs user config dir; with none found, defaults apply. A bad file, an unknown
key or a wrong type raises :class:`ConfigError` whose message is one line naming the
file and the key, so the CLI can print it and exit 2 without a traceback.
"""

from __future__ import annotations

import locale
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from agentdesk import paths

LANGUAGES = ("zh", "en")


class ConfigError(Exception):
    """A problem with a config file, already phrased for the user."""


@dataclass(frozen=True)
class ShopSettings:
    url: str = ""
    token: str = field(default="", repr=False)  # never shown: repr hides it


@dataclass(frozen=True)
class AgentSettings:
    #: Who you are in the shop (agent name or id). With a token the shop decides.
    name: str = ""


@dataclass(frozen=True)
class CacheSettings:
    #: SQLite cache; empty means ``<user data dir>/cache.sqlite``.
    path: str = ""


@dataclass(frozen=True)
class UISettings:
    #: "zh", "en" or "auto" (from the locale).
    language: str = "auto"


@dataclass(frozen=True)
class TimerSettings:
    #: Waiting longer than this turns the timer amber (team target: first reply in 30 s).
    amber_seconds: int = 30
    #: Waiting longer than this turns it red and alerts once.
    red_seconds: int = 100
    #: Waiting longer than this counts as a late reply (platforms count 3 minutes).
    late_seconds: int = 180


@dataclass(frozen=True)
class DemoSettings:
    #: Customer messages per minute the demo shop's simulator writes in (0: none).
    simulate: float = 4.0


@dataclass(frozen=True)
class Settings:
    shop: ShopSettings = ShopSettings()
    agent: AgentSettings = AgentSettings()
    cache: CacheSettings = CacheSettings()
    ui: UISettings = UISettings()
    timers: TimerSettings = TimerSettings()
    demo: DemoSettings = DemoSettings()
    #: The file these came from, or None for defaults.
    source: Path | None = None

    @property
    def language(self) -> str:
        """The UI language actually in use ("auto" resolved from the locale)."""
        if self.ui.language in LANGUAGES:
            return self.ui.language
        return language_from_locale()

    def cache_path(self, demo: bool = False) -> Path:
        """Where the cache lives. The demo keeps its own file, never mixed with a real shop's."""
        if demo:
            return paths.data_dir() / "demo.sqlite"
        if self.cache.path:
            return Path(self.cache.path).expanduser()
        return paths.data_dir() / "cache.sqlite"


_SECTIONS: dict[str, type] = {
    "shop": ShopSettings,
    "agent": AgentSettings,
    "cache": CacheSettings,
    "ui": UISettings,
    "timers": TimerSettings,
    "demo": DemoSettings,
}


def language_from_locale() -> str:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    lang = (locale.getlocale()[0] or "").lower()
    return "zh" if lang.startswith("zh") else "en"


def find_config(explicit: str | os.PathLike | None = None) -> Path | None:
    """The config file to read, by the documented lookup order (None: use defaults)."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        return path
    env = os.environ.get("AGENTDESK_CONFIG")
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found (from $AGENTDESK_CONFIG)")
        return path
    for candidate in (Path.cwd() / "config.toml", paths.config_dir() / "config.toml"):
        if candidate.is_file():
            return candidate
    return None


def load_settings(explicit: str | os.PathLike | None = None) -> Settings:
    """Find, read and validate the config; apply ``$AGENTDESK_TOKEN``."""
    path = find_config(explicit)
    settings = Settings() if path is None else parse_file(path)
    token = os.environ.get("AGENTDESK_TOKEN")
    if token:
        settings = replace(settings, shop=replace(settings.shop, token=token))
    return settings


def parse_file(path: Path) -> Settings:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    return parse_dict(raw, path)


def parse_dict(raw: dict[str, Any], path: Path | None = None) -> Settings:
    where = str(path) if path else "<config>"
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        cls = _SECTIONS.get(name)
        if cls is None:
            known = ", ".join(f"[{s}]" for s in _SECTIONS)
            raise ConfigError(f"{where}: unknown section [{name}] (known: {known})")
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: [{name}] must be a table")
        sections[name] = _section(cls, name, value, where)
    return Settings(**sections, source=path)


def _section(cls: type, name: str, values: dict[str, Any], where: str) -> Any:
    declared = {f.name: f for f in fields(cls)}
    defaults = cls()
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in declared:
            known = ", ".join(declared)
            raise ConfigError(f"{where}: unknown key [{name}] {key} (known: {known})")
        expected = type(getattr(defaults, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # `simulate = 4` means 4.0
        # bool is an int in Python; a TOML `true` is never a valid number of seconds.
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(
                f"{where}: [{name}] {key} must be {_type_name(expected)}, got {value!r}"
            )
        kwargs[key] = value
    section = cls(**kwargs)
    _check(section, name, where)
    return section


def _check(section: Any, name: str, where: str) -> None:
    if isinstance(section, UISettings) and section.language not in (*LANGUAGES, "auto"):
        raise ConfigError(
            f'{where}: [ui] language must be "zh", "en" or "auto", got {section.language!r}'
        )
    if isinstance(section, TimerSettings):
        for f in fields(section):
            if getattr(section, f.name) <= 0:
                raise ConfigError(f"{where}: [timers] {f.name} must be a positive number")
        if not section.amber_seconds < section.red_seconds <= section.late_seconds:
            raise ConfigError(
                f"{where}: [timers] need amber_seconds < red_seconds <= late_seconds"
            )
    if isinstance(section, DemoSettings) and not 0 <= section.simulate <= 600:
        raise ConfigError(f"{where}: [demo] simulate must be between 0 and 600 messages per minute")
    if isinstance(section, ShopSettings) and section.url:
        if not section.url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}: [shop] url must start with http:// or https://")


def _type_name(t: type) -> str:
    return {int: "an integer", str: "a string", bool: "true or false", float: "a number"}.get(
        t, t.__name__
    )
