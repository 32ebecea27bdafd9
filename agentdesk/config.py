"""Settings: ``config.toml`` read with :mod:`tomllib` into typed dataclasses.

Lookup order: ``--config PATH``, ``$AGENTDESK_CONFIG``, ``./config.toml``, the
platformdirs user config dir; with none found, defaults apply. Anything wrong – a file
that cannot be read or parsed (see :mod:`agentdesk.userfile`), an unknown key, a wrong
type, a value out of range, a control character, a shop URL httpx could not connect to,
a token no HTTP header can carry – raises :class:`ConfigError` whose message is one
line naming the file and the key, so the CLI can print it and exit 2 without a
traceback, and the app never starts only to sit on "syncing".
"""

from __future__ import annotations

import errno
import locale
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agentdesk import paths, shoptext, userfile
from agentdesk.models import MAX_MESSAGE_CHARS, PRIORITIES
from agentdesk.quoting import literal, path_text, quoted

LANGUAGES = ("zh", "en")
#: A config is a few KB; anything this big is not one (and is not read into memory).
MAX_CONFIG_BYTES = 1 << 20
#: Longest wait any timer may be set to: a day.
MAX_TIMER_SECONDS = 86_400
#: Settings sent to customers, which may span lines; every other string is one line.
_MESSAGE_TEXTS = {("greeting", "text"), ("handoff", "customer_message"), ("replies", "apology")}
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]{1,40}")
_TOKEN = re.compile(r"[\x21-\x7e]+")


class ConfigError(Exception):
    """A problem with a config file, already phrased for the user."""


@dataclass(frozen=True)
class ShopSettings:
    url: str = ""
    token: str = field(default="", repr=False)  # never shown: repr hides it
    #: The language the shop writes to its customers in ("zh" or "en"), whatever the UI's:
    #: the defaults of the greeting, apology and handoff message, follow-up and outreach
    #: suggestions (agentdesk.shoptext).
    language: str = "zh"


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
class RoutingSettings:
    """Words that route a new conversation by its first customer message (客诉 wins over
    售后; with neither it keeps its group). Matched ignoring case and full-/half-width."""

    after_sale: tuple[str, ...] = ("退款", "退货", "换货", "破损", "坏了", "漏发", "错发", "质量", "维修", "补发")
    complaint: tuple[str, ...] = ("差评", "投诉", "12315", "骗", "假货", "工商", "消协", "曝光")


@dataclass(frozen=True)
class ComplaintSettings:
    """What flags a customer message as a complaint signal, and what a flag does."""

    words: tuple[str, ...] = (
        "差评", "投诉", "12315", "骗子", "退钱", "垃圾", "举报", "工商", "消协", "曝光", "假货",
    )
    #: A run of at least this many ! ？ marks (either width) counts as anger.
    repeated_marks: int = 3
    #: Move a newly flagged conversation (yours or unassigned) to 客诉.
    move: bool = True
    #: The priority a moved conversation gets at least (low, normal, high, urgent).
    priority: str = "high"


@dataclass(frozen=True)
class GreetingSettings:
    enabled: bool = True
    #: Greet a customer who has waited this long for you (0: at once).
    after_seconds: int = 20
    #: {agent_name} is filled in; any other {…} stays as written. Default: the shop
    #: language's (see ``_customer_texts``).
    text: str = shoptext.text("greeting", "zh")


@dataclass(frozen=True)
class HandoffSettings:
    #: Told to the customer on a transfer; {to} is the agent or group (empty: say nothing).
    customer_message: str = shoptext.text("handoff", "zh")


@dataclass(frozen=True)
class ReplySettings:
    #: Put in front of a reply by one key when the customer has waited too long.
    apology: str = shoptext.text("apology", "zh")


@dataclass(frozen=True)
class OutreachSettings:
    #: Outreach messages sent per minute at most (the reference shop accepts 30 a minute
    #: per agent; above a shop's limit its 429 answers slow the outbox down anyway).
    per_minute: int = 20


@dataclass(frozen=True)
class FollowupSettings:
    #: A new follow-up (回访) is due this many days ahead unless the agent picks a date.
    default_days: int = 3


@dataclass(frozen=True)
class KpiSettings:
    """The supervisor's KPIs (see agentdesk/workflow/kpi.py for the definitions) and
    their targets; a value missing its target shows red."""

    #: Local opening hours "HH:MM-HH:MM" (start counts, end does not; "22:00-02:00"
    #: wraps past midnight). Only rounds starting inside count in the 3-minute rate.
    business_hours: str = "08:00-23:00"
    #: A reply this fast counts towards within_share.
    reply_within_seconds: int = 30
    #: Targets: the median / 90th percentile of first response times at most this long,
    first_response_median_seconds: int = 30
    first_response_p90_seconds: int = 180
    #: …at least this share of replies within reply_within_seconds, of business-hours
    #: rounds answered within 3 minutes, and of handled conversations resolved,
    within_share: float = 0.80
    response_rate_3min: float = 0.80
    resolution_rate: float = 0.98
    #: …and complaints below this share of the conversations.
    complaint_rate: float = 0.02

    def hours(self) -> tuple[int, int]:
        """Business hours as (start, end) seconds after local midnight."""
        return parse_hours(self.business_hours)


def parse_hours(text: str) -> tuple[int, int]:
    """``"08:00-23:00"`` → ``(28800, 82800)``; ``24:00`` may end the range
    (``"00:00-24:00"``: all day). ValueError when it is not two HH:MM times or they are equal."""
    parts = text.strip().split("-")
    if len(parts) != 2:
        raise ValueError(text)
    out = []
    for n, part in enumerate(parts):
        hh, sep, mm = part.strip().partition(":")
        if not sep or len(hh) != 2 or len(mm) != 2 or not (hh + mm).isdigit():
            raise ValueError(text)
        h, m = int(hh), int(mm)
        if m > 59 or h > 24 or (h == 24 and (m or n == 0)):
            raise ValueError(text)
        out.append(h * 3600 + m * 60)
    if out[0] == out[1]:
        raise ValueError(text)
    return out[0], out[1]


@dataclass(frozen=True)
class Settings:
    shop: ShopSettings = ShopSettings()
    agent: AgentSettings = AgentSettings()
    cache: CacheSettings = CacheSettings()
    ui: UISettings = UISettings()
    timers: TimerSettings = TimerSettings()
    demo: DemoSettings = DemoSettings()
    routing: RoutingSettings = RoutingSettings()
    complaints: ComplaintSettings = ComplaintSettings()
    greeting: GreetingSettings = GreetingSettings()
    handoff: HandoffSettings = HandoffSettings()
    replies: ReplySettings = ReplySettings()
    outreach: OutreachSettings = OutreachSettings()
    followups: FollowupSettings = FollowupSettings()
    kpi: KpiSettings = KpiSettings()
    #: ``[keys]``: (binding id, keys) pairs remapping actions, checked by the UI
    #: (agentdesk.ui.keymap), which knows the binding ids and key names.
    keys: tuple[tuple[str, str], ...] = ()
    #: The file these came from, or None for defaults.
    source: Path | None = None

    @property
    def language(self) -> str:
        """The UI language actually in use ("auto" resolved from the locale)."""
        if self.ui.language in LANGUAGES:
            return self.ui.language
        return language_from_locale()

    def cache_path(self, demo: bool = False, monitor: bool = False) -> Path:
        """Where the cache lives. The demo keeps its own file, never mixed with a real
        shop's; the supervisor monitor keeps its own too (it syncs the whole team, the
        workstation only what its agent sees): ``monitor.sqlite``, ``demo-monitor.sqlite``,
        or beside a configured cache path as ``<stem>-monitor.sqlite``."""
        if demo:
            return paths.data_dir() / ("demo-monitor.sqlite" if monitor else "demo.sqlite")
        if self.cache.path:
            path = Path(self.cache.path).expanduser()
            return path.with_name(path.stem + "-monitor.sqlite") if monitor else path
        return paths.data_dir() / ("monitor.sqlite" if monitor else "cache.sqlite")


_SECTIONS: dict[str, type] = {
    "shop": ShopSettings,
    "agent": AgentSettings,
    "cache": CacheSettings,
    "ui": UISettings,
    "timers": TimerSettings,
    "demo": DemoSettings,
    "routing": RoutingSettings,
    "complaints": ComplaintSettings,
    "greeting": GreetingSettings,
    "handoff": HandoffSettings,
    "replies": ReplySettings,
    "outreach": OutreachSettings,
    "followups": FollowupSettings,
    "kpi": KpiSettings,
}


def language_from_locale() -> str:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    lang = (locale.getlocale()[0] or "").lower()
    return "zh" if lang.startswith("zh") else "en"


def find_config(explicit: str | os.PathLike | None = None) -> Path | None:
    """The config file to read, by the documented lookup order (None: use defaults).
    Anything at a looked-up path counts as found – a folder or an unreadable file there
    is reported by :func:`parse_file`, never skipped for the next place or the defaults."""
    if explicit:
        path = Path(explicit).expanduser()
        if not _present(path):
            raise ConfigError(f"{path_text(path)}: config file not found")
        return path
    env = os.environ.get("AGENTDESK_CONFIG")
    if env:
        path = Path(env).expanduser()
        if not _present(path):
            raise ConfigError(f"{path_text(path)}: config file not found (from $AGENTDESK_CONFIG)")
        return path
    for candidate in (Path.cwd() / "config.toml", paths.config_dir() / "config.toml"):
        if _present(candidate):
            return candidate
    return None


def _present(path: Path) -> bool:
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return False
    except OSError as exc:  # there, but not for us (permission, a link loop): say so
        return exc.errno != errno.ENAMETOOLONG
    return True


def load_settings(explicit: str | os.PathLike | None = None) -> Settings:
    """Find, read and validate the config; apply ``$AGENTDESK_TOKEN``."""
    path = find_config(explicit)
    settings = Settings() if path is None else parse_file(path)
    token = os.environ.get("AGENTDESK_TOKEN")
    if token:
        problem = token_problem(token)
        if problem:
            raise ConfigError(f"$AGENTDESK_TOKEN {problem}")
        settings = replace(settings, shop=replace(settings.shop, token=token))
    return settings


def parse_file(path: Path) -> Settings:
    try:
        raw = userfile.read_toml(path, MAX_CONFIG_BYTES)
    except userfile.UserFileError as exc:
        raise ConfigError(f"{path_text(path)}: {exc.message}") from None
    return parse_dict(raw, path)


def parse_dict(raw: dict[str, Any], path: Path | None = None) -> Settings:
    where = path_text(path) if path else "<config>"
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        cls = _SECTIONS.get(name)
        if cls is None and name != "keys":
            known = ", ".join(f"[{s}]" for s in (*_SECTIONS, "keys"))
            raise ConfigError(f"{where}: unknown section [{_name(name)}] (known: {known})")
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: [{name}] must be a table")
        sections[name] = _keys(value, where) if name == "keys" else _section(cls, name, value, where)
    _customer_texts(sections, raw)
    return Settings(**sections, source=path)


def _name(key: str) -> str:
    """A key as written, quoted when it is not a plain TOML bare key."""
    return key if _BARE_KEY.fullmatch(key) else quoted(key, 40)


#: (section, key, shoptext key): what the shop tells customers, in the shop's language
#: unless the file writes it out.
CUSTOMER_TEXTS = (
    ("greeting", "text", "greeting"),
    ("handoff", "customer_message", "handoff"),
    ("replies", "apology", "apology"),
)


def _customer_texts(sections: dict[str, Any], raw: dict[str, Any]) -> None:
    language = sections.get("shop", ShopSettings()).language
    for name, key, text_key in CUSTOMER_TEXTS:
        if key not in raw.get(name, {}):
            section = sections.get(name, _SECTIONS[name]())
            sections[name] = replace(section, **{key: shoptext.text(text_key, language)})


def _keys(values: dict[str, Any], where: str, prefix: str = "") -> tuple[tuple[str, str], ...]:
    """``"binding.id" = "key[,key…]"`` (unquoted, TOML reads ``app.next`` as a table
    ``app`` with a key ``next``: both spellings work). The UI checks ids and key names."""
    out: list[tuple[str, str]] = []
    for name, keys in values.items():
        binding_id = prefix + name
        if isinstance(keys, dict):
            out.extend(_keys(keys, where, binding_id + "."))
        elif not isinstance(keys, str) or not keys.strip():
            raise ConfigError(f'{where}: [keys] {binding_id} must be a key name such as "ctrl+o", got {quoted(keys)}')
        else:
            out.append((binding_id, keys))
    return tuple(out)


def _section(cls: type, name: str, values: dict[str, Any], where: str) -> Any:
    declared = {f.name: f for f in fields(cls)}
    defaults = cls()
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in declared:
            known = ", ".join(declared)
            raise ConfigError(f"{where}: unknown key [{name}] {_name(key)} (known: {known})")
        expected = type(getattr(defaults, key))
        if expected is tuple:
            # Word lists: TOML arrays of strings, kept as tuples so settings stay frozen.
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: [{name}] {key} must be a list of strings, got {quoted(value)}")
            for word in value:
                _check_text(word, f"[{name}] {key}", where, lines=False)
            kwargs[key] = tuple(value)
            continue
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # `simulate = 4` means 4.0
        # bool is an int in Python; a TOML `true` is never a valid number of seconds.
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(
                f"{where}: [{name}] {key} must be {_type_name(expected)}, got {quoted(value)}"
            )
        if isinstance(value, str):
            _check_text(value, f"[{name}] {key}", where, lines=(name, key) in _MESSAGE_TEXTS)
        kwargs[key] = value
    section = cls(**kwargs)
    _check(section, name, where)
    return section


def _check_text(text: str, setting: str, where: str, *, lines: bool) -> None:
    """No control or invisible format characters (an escape in the greeting would reach
    every customer; one in a name or path would reach the terminal); line breaks only
    in the texts sent to customers, which also keep to a message's length."""
    bad = userfile.bad_char(text, lines=lines)
    if bad:
        raise ConfigError(
            f"{where}: {setting} must not contain control or invisible characters "
            f"(U+{ord(bad[1]):04X} at character {bad[0]})"
        )
    if lines and len(text) > MAX_MESSAGE_CHARS:
        raise ConfigError(
            f"{where}: {setting} is {len(text):,} characters; a message holds at most {MAX_MESSAGE_CHARS:,}"
        )


def url_problem(url: str) -> str | None:
    """What is wrong with a shop URL, or None when httpx can connect to it."""
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number from 0 to 65535
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname:
        return "has no host name"
    if port == 0:
        return "has port 0 (ports are 1-65535)"
    if parts.username is not None or parts.password is not None:
        return "must not hold a user name or password (put the token in [shop] token)"
    if parts.query or parts.fragment:
        return "must not have a ?query or #fragment"
    import httpx  # only with a shop configured, which imports it anyway

    try:
        httpx.URL(url)
    except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
        return f"is not a valid URL ({literal(str(exc))})"
    return None


def token_problem(token: str) -> str | None:
    """Why a token cannot be sent as an HTTP header, or None. Never quotes the token."""
    if _TOKEN.fullmatch(token):
        return None
    return "must be printable ASCII without spaces (it is sent in an HTTP header)"


def _check(section: Any, name: str, where: str) -> None:
    if isinstance(section, ShopSettings) and section.language not in LANGUAGES:
        raise ConfigError(f'{where}: [shop] language must be "zh" or "en", got {section.language!r}')
    if isinstance(section, UISettings) and section.language not in (*LANGUAGES, "auto"):
        raise ConfigError(
            f'{where}: [ui] language must be "zh", "en" or "auto", got {quoted(section.language)}'
        )
    if isinstance(section, TimerSettings):
        for f in fields(section):
            if not 0 < getattr(section, f.name) <= MAX_TIMER_SECONDS:
                raise ConfigError(
                    f"{where}: [timers] {f.name} must be a positive number of seconds, at most {MAX_TIMER_SECONDS}"
                )
        if not section.amber_seconds < section.red_seconds <= section.late_seconds:
            raise ConfigError(
                f"{where}: [timers] need amber_seconds < red_seconds <= late_seconds"
            )
    if isinstance(section, DemoSettings) and not 0 <= section.simulate <= 600:
        raise ConfigError(f"{where}: [demo] simulate must be between 0 and 600 messages per minute")
    for f in fields(section):
        value = getattr(section, f.name)
        if isinstance(value, tuple) and not all(v.strip() for v in value):
            raise ConfigError(f"{where}: [{name}] {f.name} must not contain empty words")
    if isinstance(section, ComplaintSettings):
        if section.priority not in PRIORITIES:
            names = ", ".join(PRIORITIES)
            raise ConfigError(f"{where}: [complaints] priority must be one of {names}, got {quoted(section.priority)}")
        if not 2 <= section.repeated_marks <= 20:
            raise ConfigError(f"{where}: [complaints] repeated_marks must be between 2 and 20")
    if isinstance(section, GreetingSettings):
        if not 0 <= section.after_seconds <= 3600:
            raise ConfigError(f"{where}: [greeting] after_seconds must be between 0 and 3600")
        if section.enabled and not section.text.strip():
            raise ConfigError(f"{where}: [greeting] text must not be empty while enabled")
    if isinstance(section, OutreachSettings) and not 1 <= section.per_minute <= 60:
        raise ConfigError(f"{where}: [outreach] per_minute must be between 1 and 60")
    if isinstance(section, FollowupSettings) and not 1 <= section.default_days <= 365:
        raise ConfigError(f"{where}: [followups] default_days must be between 1 and 365")
    if isinstance(section, KpiSettings):
        _check_kpi(section, where)
    if isinstance(section, ShopSettings):
        problem = url_problem(section.url) if section.url else None
        if problem:
            raise ConfigError(f"{where}: [shop] url {problem}, got {quoted(section.url)}")
        if section.token and token_problem(section.token):
            raise ConfigError(f"{where}: [shop] token {token_problem(section.token)}")


def _check_kpi(kpi: KpiSettings, where: str) -> None:
    try:
        kpi.hours()
    except ValueError:
        raise ConfigError(
            f'{where}: [kpi] business_hours must be "HH:MM-HH:MM" with two different times, '
            f"got {quoted(kpi.business_hours)}"
        ) from None
    for name in ("reply_within_seconds", "first_response_median_seconds", "first_response_p90_seconds"):
        if not 1 <= getattr(kpi, name) <= 86400:
            raise ConfigError(f"{where}: [kpi] {name} must be between 1 and 86400 seconds")
    if kpi.first_response_median_seconds > kpi.first_response_p90_seconds:
        raise ConfigError(
            f"{where}: [kpi] first_response_median_seconds must not exceed first_response_p90_seconds"
        )
    for name in ("within_share", "response_rate_3min", "resolution_rate", "complaint_rate"):
        if not 0 <= getattr(kpi, name) <= 1:
            raise ConfigError(f"{where}: [kpi] {name} must be a share between 0 and 1 (0.8 is 80%)")


def _type_name(t: type) -> str:
    names = {int: "an integer", str: "a string", bool: "true or false", float: "a number", tuple: "a list of strings"}
    return names.get(t, t.__name__)
