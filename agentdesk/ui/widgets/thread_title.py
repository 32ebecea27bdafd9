"""The one-line title over a thread: who, group, flags, whose it is, how long they wait.
Shared by the workstation and the supervisor's read-only view, so both read the same."""

from __future__ import annotations

from rich.text import Text

from agentdesk import timefmt
from agentdesk.config import TimerSettings
from agentdesk.i18n import Catalog
from agentdesk.models import PRIORITY_NAMES, InboxRow
from agentdesk.safetext import one_line


def title_text(row: InboxRow, *, t: Catalog, agent_names: dict[str, str], now: float, timers: TimerSettings) -> Text:
    text = Text.assemble(" ", (one_line(row.customer_name, limit=60), "bold"))
    if row.vip_level:
        text.append(f" V{row.vip_level}", style="bold #ffd75f")
    text.append(f"  {one_line(row.group, limit=20)}", style="bold #ff5f5f" if row.group == "客诉" else "grey66")
    if row.complaint:
        text.append(" " + t("inbox.complaint"), style="bold underline #ff5f5f")
    if row.priority >= 2:
        text.append(f" !{PRIORITY_NAMES.get(row.priority, '')}", style="bold #ff5f5f")
    for tag in row.tags[:4]:
        text.append(f" #{one_line(tag, limit=12)}", style="#87afd7")
    assignee = agent_names.get(row.assignee_id or "", t("inbox.unassigned"))
    text.append(f"  · {one_line(assignee, limit=20)}", style="grey58")
    if row.status != "open":
        text.append(f"  {t.word('status', row.status)}", style="#af87ff")
    if row.waiting_since is not None:
        waited = now - row.waiting_since
        style = "bold #ff5f5f" if waited >= timers.red_seconds else "#ffaf00" if waited >= timers.amber_seconds else "grey66"
        text.append("  " + t("thread.waiting", t=timefmt.duration(waited)), style=style)
    return text


def handoff_text(handoff, *, t: Catalog, agent_names: dict[str, str], now: float) -> Text | None:
    """The newest transfer line as a banner: who handed the customer over, when, and
    their note, so nobody asks the customer to repeat themselves (None: no transfer)."""
    info = (handoff.meta or {}).get("handoff") if handoff is not None else None
    if not info:
        return None
    who = one_line(str(info.get("from_name") or agent_names.get(info.get("from") or "", "?")), limit=20)
    when = timefmt.clock(handoff.at, now)
    line = Text.assemble(("⇄ " + t("thread.handoff", who=who, when=when), "bold"))
    target = info.get("to_agent_name") or info.get("to_group")
    if target:
        line.append("  " + t("thread.handoff_to_group", group=one_line(str(target), limit=20)))
    note = one_line(str(info.get("note") or ""), limit=300)
    if note:
        line.append("\n" + note)
    return line
