"""Transfer a conversation (转接/换人) to a colleague or a group, with a handoff note.

Type to filter one list of targets (online colleagues first, then the groups, then
colleagues who are offline) by name, full pinyin, initials or agent id ("jie", "aj",
"a02" all find 阿杰, "sh" finds 售后); Enter chooses the highlighted one and moves to the
note.
The note is for the colleague and is required: the customer should never have to
explain twice. "Tell the customer" sends them a short message, where ``{to}`` becomes
the name of who takes over. Ctrl+S (or Ctrl+Enter) transfers; Esc cancels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from agentdesk.i18n import CATALOG, Catalog
from agentdesk.quickreply.pinyin import spellings
from agentdesk.quickreply.variables import placeholders
from agentdesk.safetext import editable, fit, one_line, pad
from agentdesk.ui.screens.workflow_box import WorkflowBox

AgentRow = tuple[str, str, tuple[str, ...], bool]  # (id, name, groups, online)


@dataclass(frozen=True)
class Handoff:
    to_agent_id: str | None
    to_group: str | None
    to_name: str
    note: str
    customer_message: str  # "" when the customer is not told


@dataclass(frozen=True)
class Target:
    agent_id: str | None
    group: str | None
    name: str  # as shown, and as the customer reads it in "{to}"
    groups: tuple[str, ...] = ()  # an agent's groups, as shown
    online: bool = True
    #: Lower-case spellings typed to find it: the agent id, full pinyin, initials.
    keys: tuple[str, ...] = ()


class HandoffScreen(ModalScreen[Handoff | None]):
    BINDINGS = [
        Binding("escape", "cancel", show=False),
        Binding("ctrl+s,ctrl+enter,ctrl+j", "submit", show=False, priority=True),
        Binding("up", "move(-1)", show=False),
        Binding("down", "move(1)", show=False),
    ]

    def __init__(
        self,
        t: Catalog,
        agents: list[AgentRow],
        groups: tuple[str, ...],
        me: str | None,
        customer_message: str,
        syllables: Callable[[str], list[str]] | None = None,
    ) -> None:
        """``syllables``: per-character pinyin of a name (the quick replies' keys), for
        finding a colleague by pinyin or initials; without it names match as written."""
        super().__init__()
        self.t = t
        self.customer_message = customer_message
        self._syllables = syllables or (lambda text: [""] * len(text))
        self.targets = self._targets(agents, groups, me)
        self.shown: list[Target] = list(self.targets)
        self.target: Target | None = None

    def _group_name(self, group: str) -> str:
        # Groups are the shop's words (售前); show them in the UI's language when we can.
        return self.t(f"group.{group}") if f"group.{group}" in CATALOG else one_line(group, limit=40)

    def _targets(self, agents: list[AgentRow], groups: tuple[str, ...], me: str | None) -> list[Target]:
        people = [
            Target(agent_id, None, one_line(name, limit=60), tuple(self._group_name(g) for g in their_groups), bool(online),
                   (agent_id.lower(), *self._spell(name)))
            for agent_id, name, their_groups, online in agents
            if agent_id != me
        ]
        teams = [Target(None, g, self.t("handoff.group", name=self._group_name(g)), keys=self._spell(g)) for g in groups]
        return [p for p in people if p.online] + teams + [p for p in people if not p.online]

    def compose(self) -> ComposeResult:
        with WorkflowBox(id="handoff-box", title=self.t("handoff.title"), keys=self.t("handoff.keys")):
            yield Input(placeholder=self.t("handoff.filter"), id="handoff-filter")
            yield OptionList(id="handoff-targets")
            yield Static(id="handoff-to")
            yield Static(Text(self.t("handoff.note")), classes="workflow-label")
            yield TextArea(id="handoff-note", soft_wrap=True, show_line_numbers=False)
            yield Checkbox(self.t("handoff.notify"), value=bool(self.customer_message.strip()), id="handoff-notify")
            yield Static(Text(self.t("handoff.message", to="{to}")), classes="workflow-label")
            yield Input(value=editable(self.customer_message), select_on_focus=False, id="handoff-message")
            yield Static(id="handoff-error", classes="workflow-error")

    def on_mount(self) -> None:
        self.query_one("#handoff-error").display = False
        self.query_one("#handoff-message").disabled = not self.query_one("#handoff-notify", Checkbox).value
        self._fill_list()
        self._show_target()
        self.query_one("#handoff-filter").focus()

    # -- the list --------------------------------------------------------------------

    def _spell(self, text: str) -> tuple[str, ...]:
        full, initials = spellings(text, self._syllables(text))
        return tuple(k for k in (full, initials) if k)

    @on(Input.Changed, "#handoff-filter")
    def _filter(self, event: Input.Changed) -> None:
        query = event.value.strip()
        if not query:
            self.shown = list(self.targets)
        else:
            matcher = Matcher(query)
            typed = "".join(query.lower().split())
            scored = [(self._score(matcher, typed, target), i, target) for i, target in enumerate(self.targets)]
            self.shown = [target for score, _, target in sorted(scored, key=lambda s: (-s[0], s[1])) if score > 0]
        self._fill_list()

    @staticmethod
    def _score(matcher: Matcher, typed: str, target: Target) -> float:
        # The name counts most; a colleague's groups let "售后" find the people in it too.
        by_group = max((matcher.match(g) for g in target.groups), default=0.0)
        # An id, full pinyin or initials the typing starts ("a02", "jie" in ajie, "aj").
        spelled = max((1.0 if k.startswith(typed) else 0.9 if typed in k else 0.0 for k in target.keys), default=0.0)
        return max(matcher.match(target.name), spelled, by_group * 0.5)

    def _fill_list(self) -> None:
        targets = self.query_one("#handoff-targets", OptionList)
        targets.clear_options()
        if not self.shown:
            targets.add_option(Option(Text(self.t("handoff.none"), style="dim"), disabled=True))
            return
        targets.add_options([Option(self._row(target)) for target in self.shown])
        targets.highlighted = 0

    def _row(self, target: Target) -> Text:
        if target.agent_id is None:
            row = Text("◆ ", style="#5fd7ff")
            row.append(fit(target.name, 40), style="bold")
            return row
        row = Text("● " if target.online else "○ ", style="green" if target.online else "dim")
        row.append(pad(target.name, 16), style="bold" if target.online else "dim")
        row.append(pad(" · ".join(target.groups), 24), style="dim")
        row.append(self.t("handoff.online" if target.online else "handoff.offline"), style="green" if target.online else "dim")
        return row

    def action_move(self, delta: int) -> None:
        # Arrows in the filter move the list, as in the quick-reply picker.
        if self.focused is not self.query_one("#handoff-filter") or not self.shown:
            return
        targets = self.query_one("#handoff-targets", OptionList)
        targets.highlighted = max(0, min(len(self.shown) - 1, (targets.highlighted or 0) + delta))

    @on(Input.Submitted, "#handoff-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._choose(self.query_one("#handoff-targets", OptionList).highlighted)

    @on(OptionList.OptionSelected, "#handoff-targets")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(event.option_index)

    def _choose(self, index: int | None) -> None:
        if index is None or index >= len(self.shown):
            return
        self.target = self.shown[index]
        self._show_target()
        self._error(None)
        self.query_one("#handoff-note").focus()

    def _show_target(self) -> None:
        to = self.query_one("#handoff-to", Static)
        if self.target is None:
            to.update(Text(self.t("handoff.to_none"), style="dim"))
        else:
            to.update(Text(self.t("handoff.to", name=self.target.name), style="bold"))

    # -- notifying the customer, submitting ------------------------------------------

    @on(Checkbox.Changed, "#handoff-notify")
    def _notify_changed(self, event: Checkbox.Changed) -> None:
        self.query_one("#handoff-message").disabled = not event.value

    @on(Input.Submitted, "#handoff-message")
    def _message_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def _error(self, key: str | None) -> None:
        if key is None:
            self.query_one("#handoff-error").display = False

    def _refuse(self, key: str, under: str, focus: str, **values: str) -> None:
        """Say what is missing right under the field it is about, and go there: on a
        short terminal the box scrolls, and a message at its bottom would be unseen."""
        error = self.query_one("#handoff-error", Static)
        error.update(Text(self.t(key, **values)))
        error.display = True
        self.query_one("#handoff-box").move_child(error, after=self.query_one(under))
        self.query_one(focus).focus()
        self.call_after_refresh(error.scroll_visible, animate=False)

    def action_submit(self) -> None:
        note = self.query_one("#handoff-note", TextArea).text.strip()
        notify = self.query_one("#handoff-notify", Checkbox).value
        message = self.query_one("#handoff-message", Input).value.strip()
        if self.target is None:
            self._refuse("handoff.need_target", "#handoff-targets", "#handoff-filter")
        elif not note:
            self._refuse("handoff.need_note", "#handoff-note", "#handoff-note")
        elif notify and not message:
            self._refuse("handoff.need_message", "#handoff-message", "#handoff-message")
        elif notify and (left := [n for _, _, n in placeholders(message) if n != "to"]):
            # Only {to} is filled here: anything else would reach the customer raw.
            self._refuse("handoff.unknown", "#handoff-message", "#handoff-message",
                         names=" ".join("{" + n + "}" for n in dict.fromkeys(left)))
        else:
            to = self.target
            # Plain replace, not str.format: the message is free text and may hold braces.
            told = message.replace("{to}", to.name) if notify else ""
            self.dismiss(Handoff(to.agent_id, to.group, to.name, note, told))

    def action_cancel(self) -> None:
        self.dismiss(None)
