"""``agentdesk report`` output: a rich table for people, CSV and JSON for machines.

Machine formats carry the same fields as :class:`~agentdesk.workflow.kpi.Kpi`; CSV
writes seconds with one decimal and shares as fractions with four (empty: no value),
JSON writes the exact numbers (null: no value) plus the window in RFC 3339.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, fields
from datetime import datetime, tzinfo

from agentdesk.config import KpiSettings
from agentdesk.i18n import Catalog
from agentdesk.safetext import inert, json_dumps, one_line
from agentdesk.timefmt import rfc3339
from agentdesk.workflow.kpi import Kpi, KpiReport, target, verdict

FIELDS = tuple(f.name for f in fields(Kpi))
SECONDS = ("first_response_median", "first_response_p90")
SHARES = ("within_share", "response_rate_3min", "resolution_rate", "complaint_rate")
NONE = "—"


def rows(report: KpiReport, by: str) -> list[Kpi]:
    """What ``--by`` lists: agents or groups, then the team; or the team alone."""
    if by == "agent":
        return [*report.agents, report.team]
    if by == "group":
        return [*report.groups, report.team]
    return [report.team]


def machine(name: str, value):
    """One CSV cell (text as it was, less what a terminal would act on)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return inert(value)
    if name in SECONDS:
        return f"{value:.1f}"
    if name in SHARES:
        return f"{value:.4f}"
    return value


def to_csv(lines: list[Kpi]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(FIELDS)
    for k in lines:
        w.writerow([machine(name, getattr(k, name)) for name in FIELDS])
    return out.getvalue()


def to_json(report: KpiReport, lines: list[Kpi]) -> str:
    window = {"start": rfc3339(report.start), "end": rfc3339(report.end)}
    return json_dumps([{**window, **asdict(k)} for k in lines], indent=2) + "\n"


def duration(seconds: float | None) -> str:
    """``m:ss`` (minutes go past 59: ``75:03``)."""
    if seconds is None:
        return NONE
    s = max(0, round(seconds))
    return f"{s // 60}:{s % 60:02d}"


def percent(share: float | None) -> str:
    return NONE if share is None else f"{share * 100:.1f}%"


def local(ts: float, tz: tzinfo | None = None) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M")


def table(report: KpiReport, lines: list[Kpi], settings: KpiSettings, language: str, by: str,
          tz: tzinfo | None = None):
    """A rich Table; a value missing its target is red (see :func:`kpi.verdict`)."""
    from rich.table import Table
    from rich.text import Text

    t = Catalog(language)

    def cell(metric: str, value: float | None, text: str) -> Text:
        return Text(text, style="bold red" if verdict(metric, value, settings) is False else "")

    title = Text(t("kpi.title", start=local(report.start, tz), end=local(report.end, tz)))
    out = Table(title=title, caption=Text(one_line(targets(settings, language), limit=1000)), title_justify="left",
                caption_justify="left")
    out.add_column(t("kpi.col.group" if by == "group" else "kpi.col.agent"), no_wrap=True)
    for key in ("handled", "conversations", "rounds", "answered", "frt_median", "frt_p90"):
        out.add_column(t(f"kpi.col.{key}"), justify="right", no_wrap=True)
    out.add_column(t("kpi.col.within", secs=settings.reply_within_seconds), justify="right", no_wrap=True)
    for key in ("rate_3min", "resolution", "complaints"):
        out.add_column(t(f"kpi.col.{key}"), justify="right", no_wrap=True)
    for n, k in enumerate(lines):
        if k.scope == "team":
            label = t("kpi.team")
        elif k.scope == "group":
            label = t(f"group.{k.key}")
        else:
            label = f"{k.name} ({k.key})" if k.name else k.key
        label = Text(one_line(label, limit=60))  # names are the shop's: never markup, never raw
        complaints = f"{k.complaints} · {percent(k.complaint_rate)}" if k.complaint_rate is not None else NONE
        out.add_row(
            label, str(k.handled), str(k.conversations), str(k.rounds), str(k.answered),
            cell("first_response_median", k.first_response_median, duration(k.first_response_median)),
            cell("first_response_p90", k.first_response_p90, duration(k.first_response_p90)),
            cell("within_share", k.within_share, percent(k.within_share)),
            cell("response_rate_3min", k.response_rate_3min, percent(k.response_rate_3min)),
            cell("resolution_rate", k.resolution_rate, percent(k.resolution_rate)),
            cell("complaint_rate", k.complaint_rate, complaints),
            end_section=n == len(lines) - 2 and lines[-1].scope == "team",
            style="bold" if k.scope == "team" else None,
        )
    return out


def targets(settings: KpiSettings, language: str) -> str:
    t = Catalog(language)
    return t(
        "kpi.targets",
        median=duration(target("first_response_median", settings)),
        p90=duration(target("first_response_p90", settings)),
        secs=settings.reply_within_seconds,
        within=percent(settings.within_share),
        rate=percent(settings.response_rate_3min),
        hours=settings.business_hours,
        resolution=percent(settings.resolution_rate),
        complaint=percent(settings.complaint_rate),
    )
