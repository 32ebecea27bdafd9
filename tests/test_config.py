"""Settings: where they are found, what a bad file says, and secrets kept out of sight."""

from __future__ import annotations

import tomllib
from dataclasses import fields, replace
from pathlib import Path

import pytest

from agentdesk.config import (
    ConfigError,
    Settings,
    ShopSettings,
    find_config,
    load_settings,
    parse_file,
)

REPO_CONFIG = Path(__file__).resolve().parents[1] / "config.toml"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real config anywhere: a fresh home, XDG dirs inside it, and a cwd with no
    config.toml (the repo root, where pytest runs, has one)."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("AGENTDESK_CONFIG", raising=False)
    monkeypatch.delenv("AGENTDESK_TOKEN", raising=False)
    monkeypatch.chdir(work)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def agent_config(path: Path, name: str) -> Path:
    return write(path, f'[agent]\nname = "{name}"\n')


# --- defaults and lookup order -------------------------------------------------------


def test_no_config_anywhere_gives_defaults():
    settings = load_settings()
    assert settings == Settings()
    assert settings.source is None
    assert settings.shop.url == "" and settings.shop.token == ""
    assert (settings.timers.amber_seconds, settings.timers.red_seconds, settings.timers.late_seconds) == (30, 100, 180)


def test_lookup_order_explicit_then_env_then_cwd_then_user_config_dir(isolated, monkeypatch):
    explicit = agent_config(isolated / "explicit.toml", "explicit")
    from_env = agent_config(isolated / "env.toml", "env")
    in_cwd = agent_config(Path.cwd() / "config.toml", "cwd")
    in_xdg = agent_config(isolated / "home" / ".config" / "agentdesk" / "config.toml", "xdg")
    monkeypatch.setenv("AGENTDESK_CONFIG", str(from_env))

    s = load_settings(explicit)
    assert (s.agent.name, s.source) == ("explicit", explicit)

    s = load_settings()
    assert (s.agent.name, s.source) == ("env", from_env)

    monkeypatch.delenv("AGENTDESK_CONFIG")
    s = load_settings()
    assert (s.agent.name, s.source) == ("cwd", in_cwd)

    in_cwd.unlink()
    s = load_settings()
    assert (s.agent.name, s.source) == ("xdg", in_xdg)

    in_xdg.unlink()
    assert load_settings() == Settings()


def test_explicit_config_that_does_not_exist_is_an_error_not_a_fallback(isolated):
    agent_config(Path.cwd() / "config.toml", "cwd")
    missing = isolated / "nope.toml"
    with pytest.raises(ConfigError) as err:
        load_settings(missing)
    assert str(missing) in str(err.value) and "\n" not in str(err.value)


def test_env_config_that_does_not_exist_is_an_error(isolated, monkeypatch):
    missing = isolated / "gone.toml"
    monkeypatch.setenv("AGENTDESK_CONFIG", str(missing))
    with pytest.raises(ConfigError) as err:
        find_config()
    message = str(err.value)
    assert str(missing) in message and "AGENTDESK_CONFIG" in message and "\n" not in message


# --- secrets -------------------------------------------------------------------------


def test_env_token_overrides_file_token_and_neither_shows_in_repr(isolated, monkeypatch):
    path = write(isolated / "c.toml", '[shop]\nurl = "https://shop.example"\ntoken = "file-secret-123"\n')

    s = load_settings(path)
    assert s.shop.token == "file-secret-123"
    assert "file-secret-123" not in repr(s) and "file-secret-123" not in str(s)
    assert "https://shop.example" in repr(s)  # the rest of the section still shows

    monkeypatch.setenv("AGENTDESK_TOKEN", "env-secret-456")
    s = load_settings(path)
    assert s.shop.token == "env-secret-456"
    assert "env-secret-456" not in repr(s) and "file-secret-123" not in repr(s)
    assert "env-secret-456" not in repr(s.shop)


def test_env_token_applies_without_any_config_file(monkeypatch):
    monkeypatch.setenv("AGENTDESK_TOKEN", "only-in-env")
    s = load_settings()
    assert s.shop.token == "only-in-env"
    assert "only-in-env" not in repr(s)


# --- errors: one line, naming the file and the key --------------------------------------

BAD_FILES = [
    pytest.param("[ui]\nlanguage = \n", None, id="invalid-toml"),
    pytest.param("[shopp]\nurl = 'https://x'\n", "shopp", id="unknown-section"),
    pytest.param("[ui]\nlangauge = 'zh'\n", "langauge", id="unknown-key"),
    pytest.param("[timers]\namber_seconds = '30'\n", "amber_seconds", id="string-for-int"),
    pytest.param("[timers]\nred_seconds = true\n", "red_seconds", id="bool-for-int"),
    pytest.param("[shop]\ntoken = 42\n", "token", id="int-for-string"),
    pytest.param("[ui]\nlanguage = 'fr'\n", "language", id="bad-language"),
    pytest.param("[shop]\nurl = 'shop.example.com'\n", "url", id="bad-url"),
    pytest.param("[timers]\namber_seconds = 100\nred_seconds = 100\n", "amber_seconds", id="amber-equals-red"),
    pytest.param("[timers]\namber_seconds = 150\n", "amber_seconds", id="amber-above-red"),
    pytest.param("[timers]\nlate_seconds = -5\n", "late_seconds", id="negative"),
    pytest.param("ui = 'zh'\n", "ui", id="section-not-a-table"),
    pytest.param("[routing]\nafter_sale = '退款'\n", "after_sale", id="string-for-list"),
    pytest.param("[routing]\ncomplaint = ['差评', 3]\n", "complaint", id="number-in-word-list"),
    pytest.param("[complaints]\nwords = ['差评', ' ']\n", "words", id="empty-word"),
    pytest.param("[complaints]\npriority = 'critical'\n", "priority", id="bad-priority"),
    pytest.param("[complaints]\nrepeated_marks = 1\n", "repeated_marks", id="one-mark-is-no-run"),
    pytest.param("[complaints]\nmove = 'yes'\n", "move", id="string-for-bool"),
    pytest.param("[greeting]\nafter_seconds = -1\n", "after_seconds", id="negative-greeting-delay"),
    pytest.param("[greeting]\ntext = ''\n", "text", id="empty-greeting"),
    pytest.param("[outreach]\nper_minute = 0\n", "per_minute", id="outreach-zero"),
    pytest.param("[outreach]\nper_minute = 61\n", "per_minute", id="outreach-too-fast"),
    pytest.param("[followups]\ndefault_days = 0\n", "default_days", id="followup-today"),
    pytest.param("[replies]\napology = ['亲']\n", "apology", id="list-for-string"),
    pytest.param("[handoff]\nmessage = ''\n", "message", id="unknown-handoff-key"),
    pytest.param("[kpi]\nbusiness_hours = '8:00-23:00'\n", "[kpi] business_hours", id="kpi-hours-one-digit"),
    pytest.param("[kpi]\nbusiness_hours = '08:00'\n", "[kpi] business_hours", id="kpi-hours-one-time"),
    pytest.param("[kpi]\nbusiness_hours = '08:00-08:00'\n", "[kpi] business_hours", id="kpi-hours-empty"),
    pytest.param("[kpi]\nbusiness_hours = '08:00-24:30'\n", "[kpi] business_hours", id="kpi-hours-past-24"),
    pytest.param("[kpi]\nbusiness_hours = '24:00-08:00'\n", "[kpi] business_hours", id="kpi-hours-start-24"),
    pytest.param("[kpi]\nbusiness_hours = '08:60-23:00'\n", "[kpi] business_hours", id="kpi-hours-minute-60"),
    pytest.param("[kpi]\nbusiness_hours = 8\n", "[kpi] business_hours", id="kpi-hours-number"),
    pytest.param("[kpi]\nreply_within_seconds = 0\n", "[kpi] reply_within_seconds", id="kpi-within-zero"),
    pytest.param("[kpi]\nfirst_response_p90_seconds = 20\n", "first_response_median_seconds",
                 id="kpi-median-target-above-p90"),
    pytest.param("[kpi]\nwithin_share = 80\n", "[kpi] within_share", id="kpi-percent-for-share"),
    pytest.param("[kpi]\ncomplaint_rate = -0.01\n", "[kpi] complaint_rate", id="kpi-negative-share"),
    pytest.param("[kpi]\nresolution_rate = '98%'\n", "[kpi] resolution_rate", id="kpi-string-share"),
    pytest.param("[kpi]\ntarget = 1\n", "[kpi] target", id="kpi-unknown-key"),
]


@pytest.mark.parametrize("text, key", BAD_FILES)
def test_bad_config_is_one_line_naming_file_and_key(isolated, text, key):
    path = write(isolated / "bad.toml", text)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    if key:
        assert key in message


def test_invalid_toml_says_where(isolated):
    path = write(isolated / "bad.toml", "[ui]\nlanguage = \n")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert "TOML" in str(err.value) and "line 2" in str(err.value)


def test_wrong_type_says_what_was_expected(isolated):
    path = write(isolated / "bad.toml", "[timers]\namber_seconds = '30'\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert "[timers] amber_seconds must be an integer" in str(err.value)


def test_bad_file_found_by_lookup_is_reported_too(isolated):
    path = write(Path.cwd() / "config.toml", "[ui]\nlangauge = 'zh'\n")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(path) in str(err.value) and "langauge" in str(err.value)


def test_valid_values_are_read(isolated):
    path = write(
        isolated / "ok.toml",
        '[shop]\nurl = "http://127.0.0.1:8765"\n[ui]\nlanguage = "en"\n'
        "[timers]\namber_seconds = 20\nred_seconds = 60\nlate_seconds = 60\n"
        f'[cache]\npath = "{isolated / "x.sqlite"}"\n',
    )
    s = load_settings(path)
    assert s.shop.url == "http://127.0.0.1:8765"
    assert s.language == "en"
    assert (s.timers.amber_seconds, s.timers.red_seconds, s.timers.late_seconds) == (20, 60, 60)
    assert s.cache_path() == isolated / "x.sqlite"
    assert s.source == path


def test_workflow_sections_are_read(isolated):
    path = write(
        isolated / "ok.toml",
        '[routing]\nafter_sale = ["退货", "RMA"]\ncomplaint = []\n'
        '[complaints]\nwords = ["垃圾"]\nrepeated_marks = 4\nmove = false\npriority = "urgent"\n'
        '[greeting]\nenabled = false\nafter_seconds = 0\ntext = ""\n'
        '[handoff]\ncustomer_message = ""\n'
        '[replies]\napology = "抱歉久等"\n'
        '[outreach]\nper_minute = 60\n'
        '[followups]\ndefault_days = 7\n',
    )
    s = load_settings(path)
    assert s.routing.after_sale == ("退货", "RMA") and s.routing.complaint == ()
    assert (s.complaints.words, s.complaints.repeated_marks, s.complaints.move, s.complaints.priority) == (
        ("垃圾",), 4, False, "urgent"
    )
    assert (s.greeting.enabled, s.greeting.after_seconds, s.greeting.text) == (False, 0, "")
    assert s.handoff.customer_message == "" and s.replies.apology == "抱歉久等"
    assert (s.outreach.per_minute, s.followups.default_days) == (60, 7)
    hash(s)  # word lists are tuples: settings stay frozen and hashable


def test_workflow_defaults():
    s = Settings()
    assert "退款" in s.routing.after_sale and "12315" in s.routing.complaint
    assert (s.complaints.repeated_marks, s.complaints.move, s.complaints.priority) == (3, True, "high")
    assert (s.greeting.enabled, s.greeting.after_seconds) == (True, 20)
    assert "{agent_name}" in s.greeting.text and "{to}" in s.handoff.customer_message
    assert s.replies.apology == "亲，非常抱歉让您久等了！"
    assert (s.outreach.per_minute, s.followups.default_days) == (20, 3)


def test_kpi_section_is_read(isolated):
    path = write(
        isolated / "ok.toml",
        '[kpi]\nbusiness_hours = "09:30-24:00"\nreply_within_seconds = 20\n'
        "first_response_median_seconds = 15\nfirst_response_p90_seconds = 15\n"
        "within_share = 1\nresponse_rate_3min = 0.9\nresolution_rate = 0\ncomplaint_rate = 0.05\n",
    )
    k = load_settings(path).kpi
    assert k.hours() == (9 * 3600 + 1800, 86400)
    assert (k.reply_within_seconds, k.first_response_median_seconds, k.first_response_p90_seconds) == (20, 15, 15)
    assert (k.within_share, k.response_rate_3min, k.resolution_rate, k.complaint_rate) == (1.0, 0.9, 0.0, 0.05)
    assert isinstance(k.within_share, float)


@pytest.mark.parametrize("hours, span", [
    ("08:00-23:00", (28800, 82800)), ("22:00-02:00", (79200, 7200)), ("00:00-24:00", (0, 86400)),
    (" 08:00 - 23:00 ", (28800, 82800)),
])
def test_kpi_business_hours(isolated, hours, span):
    path = write(isolated / "ok.toml", f'[kpi]\nbusiness_hours = "{hours}"\n')
    assert load_settings(path).kpi.hours() == span


def test_kpi_defaults():
    k = Settings().kpi
    assert (k.business_hours, k.reply_within_seconds) == ("08:00-23:00", 30)
    assert (k.first_response_median_seconds, k.first_response_p90_seconds) == (30, 180)
    assert (k.within_share, k.response_rate_3min, k.resolution_rate, k.complaint_rate) == (0.8, 0.8, 0.98, 0.02)


def test_list_type_error_names_what_was_expected(isolated):
    path = write(isolated / "bad.toml", "[complaints]\nwords = '差评'\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert "[complaints] words must be a list of strings" in str(err.value)


# --- the shipped config.toml ---------------------------------------------------------


def test_repo_config_toml_is_every_default_documented():
    assert REPO_CONFIG.is_file(), f"{REPO_CONFIG} is missing"
    settings = parse_file(REPO_CONFIG)
    assert replace(settings, source=None) == Settings()

    raw = tomllib.loads(REPO_CONFIG.read_text(encoding="utf-8"))
    defaults = Settings()
    declared = {
        f.name: {g.name for g in fields(getattr(defaults, f.name))}
        for f in fields(Settings)
        if f.name not in ("source", "keys")
    }
    declared["keys"] = set()  # [keys] is there, its remaps commented out (they have no defaults)
    assert {name: set(section) for name, section in raw.items()} == declared


# --- language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lang, expected",
    [("zh_CN.UTF-8", "zh"), ("zh_TW.UTF-8", "zh"), ("en_US", "en"), ("en_US.UTF-8", "en"), ("de_DE.UTF-8", "en")],
)
def test_auto_language_follows_lang(monkeypatch, lang, expected):
    for var in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", lang)
    assert Settings().ui.language == "auto"
    assert Settings().language == expected


def test_lc_all_wins_over_lang(monkeypatch):
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    assert Settings().language == "zh"


def test_explicit_language_ignores_the_locale(isolated, monkeypatch):
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    path = write(isolated / "en.toml", '[ui]\nlanguage = "en"\n')
    assert load_settings(path).language == "en"


# --- cache paths ---------------------------------------------------------------------


def test_demo_cache_is_separate_from_the_real_cache(isolated):
    data_dir = isolated / "home" / ".local" / "share" / "agentdesk"
    s = Settings()
    assert s.cache_path() == data_dir / "cache.sqlite"
    assert s.cache_path(demo=True) == data_dir / "demo.sqlite"

    custom = replace(s, cache=replace(s.cache, path=str(isolated / "shop.sqlite")))
    assert custom.cache_path() == isolated / "shop.sqlite"
    assert custom.cache_path(demo=True) not in (custom.cache_path(), s.cache_path())


def test_the_monitor_keeps_its_own_caches(isolated):
    data_dir = isolated / "home" / ".local" / "share" / "agentdesk"
    s = Settings()
    assert s.cache_path(monitor=True) == data_dir / "monitor.sqlite"
    assert s.cache_path(demo=True, monitor=True) == data_dir / "demo-monitor.sqlite"
    assert s.cache_path(monitor=False) == s.cache_path() == data_dir / "cache.sqlite"

    custom = replace(s, cache=replace(s.cache, path=str(isolated / "caches" / "shop.sqlite")))
    assert custom.cache_path(monitor=True) == isolated / "caches" / "shop-monitor.sqlite"
    assert custom.cache_path(demo=True, monitor=True) == data_dir / "demo-monitor.sqlite"
    home = replace(s, cache=replace(s.cache, path="~/shop.db"))
    assert home.cache_path(monitor=True) == isolated / "home" / "shop-monitor.sqlite"


def test_cache_path_expands_the_home_directory(isolated):
    s = Settings()
    s = replace(s, cache=replace(s.cache, path="~/caches/shop.sqlite"))
    assert s.cache_path() == isolated / "home" / "caches" / "shop.sqlite"


def test_shop_settings_repr_hides_the_token_field_entirely():
    assert "token" not in repr(ShopSettings(url="https://x", token="t0ps3cret"))
