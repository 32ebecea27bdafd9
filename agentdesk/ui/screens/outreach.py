"""A message to a filtered set of customers (客户触达): VIP level, recent purchase,
campaign name, message.

The screen cannot count the audience itself (that is a query), so whenever the filter
settles (after ``debounce`` seconds without a change) it posts
:class:`OutreachScreen.AudienceRequested`; the app answers by calling
:meth:`OutreachScreen.show_audience`. The message's ``{variables}`` are part of the
question: each customer gets their own ``{customer.name}``, and the answer says how many
recipients have no value for one (no order for ``{order.id}``). Sending takes two Ctrl+S
presses: the first states how many customers will get the message, the second sends.
A ``{name}`` that is no variable, or a variable some recipient has no value for, refuses
the send with its name. Any edit in between withdraws the question, so what is
confirmed is what is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, Static, TextArea

from agentdesk.i18n import Catalog
from agentdesk.quickreply.variables import placeholders, unknown
from agentdesk.safetext import fit, one_line
from agentdesk.ui.screens.workflow_box import WorkflowBox

Filter = tuple[int, int | None, tuple[str, ...]]  # (vip_min, bought_within_days, variables used)
SAMPLE = 10


@dataclass(frozen=True)
class OutreachRequest:
    vip_min: int
    bought_within_days: int | None
    campaign: str
    body: str


@dataclass(frozen=True)
class Audience:
    count: int
    opted_out: int
    sample: tuple[tuple[str, int], ...]
    waiting: int = 0
    #: Variable -> recipients with no value for it.
    unfilled: tuple[tuple[str, int], ...] = ()
    #: Left out: a colleague has their open conversation.
    theirs: int = 0


class OutreachScreen(ModalScreen[OutreachRequest | None]):
    BINDINGS = [
        Binding("escape", "cancel", show=False),
        Binding("ctrl+s", "send", show=False, priority=True),
    ]

    class AudienceRequested(Message):
        """Count who this filter reaches; answer with ``event.outreach.show_audience(…)``."""

        def __init__(self, outreach: OutreachScreen, vip_min: int, bought_within_days: int | None,
                     variables: tuple[str, ...] = (), body: str = "") -> None:
            super().__init__()
            self.outreach = outreach
            self.vip_min = vip_min
            self.bought_within_days = bought_within_days
            self.variables = variables
            #: The message as typed: the app counts who could not have it filled.
            self.body = body

        @property
        def control(self) -> OutreachScreen:
            return self.outreach

    def __init__(self, t: Catalog, *, debounce: float = 0.3, example: str = "") -> None:
        """``example``: a sample message in the shop's language, shown while it is empty."""
        super().__init__()
        self.t = t
        self.debounce = debounce
        self.example = example
        self.wanted: Filter | None = (0, None, ())  # what the inputs say; None while invalid
        self.asked: Filter | None = None  # the last filter posted to the app
        self.audience: Audience | None = None  # the answer for ``wanted``, once it came
        self.confirming = False
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with WorkflowBox(id="outreach-box", title=self.t("outreach.title"), keys=self.t("outreach.keys")):
            yield Static(Text(self.t("outreach.vip")), classes="workflow-label")
            yield Input(value="0", restrict=r"\d{0,2}", id="outreach-vip")
            yield Static(Text(self.t("outreach.days")), classes="workflow-label")
            yield Input(restrict=r"\d{0,4}", id="outreach-days")
            yield Static(id="outreach-audience")
            yield Static(Text(self.t("outreach.campaign")), classes="workflow-label")
            yield Input(id="outreach-campaign")
            yield Static(Text(self.t("outreach.body")), classes="workflow-label")
            yield TextArea(id="outreach-body", soft_wrap=True, show_line_numbers=False, placeholder=self.example)
            yield Static(id="outreach-confirm")
            yield Static(id="outreach-error", classes="workflow-error")

    def on_mount(self) -> None:
        self.query_one("#outreach-confirm").display = False
        self.query_one("#outreach-error").display = False
        self.query_one("#outreach-vip").focus()
        self._ask()

    # -- the filter and its audience -------------------------------------------------

    def _read_filter(self) -> Filter | str:
        """The filter the inputs describe, or the catalog key saying what is wrong."""
        vip = self.query_one("#outreach-vip", Input).value.strip() or "0"
        days = self.query_one("#outreach-days", Input).value.strip()
        if not vip.isdigit() or not 0 <= int(vip) <= 5:
            return "outreach.bad_vip"
        if days and (not days.isdigit() or int(days) < 1):
            return "outreach.bad_days"
        return int(vip), int(days) if days else None, self._variables()

    def _body(self) -> str:
        return self.query_one("#outreach-body", TextArea).text

    def _variables(self) -> tuple[str, ...]:
        return tuple(sorted({name for _, _, name in placeholders(self._body())}))

    @on(Input.Changed, "#outreach-vip, #outreach-days")
    def _filter_changed(self, event: Input.Changed | None = None) -> None:
        new = self._read_filter()
        if isinstance(new, str):
            self._stop_timer()
            self.wanted, self.audience = None, None
            self._withdraw()
            self._error(new)
            self._render_audience()
            return
        self._error(None)
        if new == self.wanted:
            return  # no real change (an input reporting its first value, "" vs "0")
        self.wanted, self.audience = new, None
        self._withdraw()
        self._render_audience()
        self._stop_timer()
        self._timer = self.set_timer(self.debounce, self._ask)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _ask(self) -> None:
        self._timer = None
        if self.wanted is None:
            return
        self.asked = self.wanted
        self._render_audience()
        self.post_message(self.AudienceRequested(self, *self.wanted, body=self._body()))

    def show_audience(
        self,
        count: int,
        opted_out: int,
        sample: list[tuple[str, int]],
        *,
        request: AudienceRequested | None = None,
        waiting: int = 0,
        unfilled: dict[str, int] | None = None,
        theirs: int = 0,
    ) -> None:
        """The app's answer to the latest :class:`AudienceRequested` (pass it as
        ``request`` and a late answer to an older filter is ignored)."""
        answered = ((request.vip_min, request.bought_within_days, request.variables) if request is not None
                    else self.asked)
        if self.wanted is None or answered != self.wanted or self._timer is not None:
            return  # the filter moved on; its own answer is on the way
        audience = Audience(int(count), int(opted_out), tuple(sample[:SAMPLE]), int(waiting),
                            tuple(sorted((unfilled or {}).items())), int(theirs))
        if self.confirming and (self.audience is None or audience.count != self.audience.count):
            self._withdraw()
        self.audience = audience
        self._render_audience()

    def _render_audience(self) -> None:
        shown = self.query_one("#outreach-audience", Static)
        if self.wanted is None:
            shown.update("")
            return
        a = self.audience
        if a is None:
            shown.update(Text(self.t("outreach.counting"), style="dim"))
            return
        text = Text(self.t("outreach.audience", n=a.count, m=a.opted_out), style="bold")
        if a.waiting:
            text.append(" " + self.t("outreach.waiting", n=a.waiting), style="bold")
        if a.theirs:
            text.append(" " + self.t("outreach.theirs", n=a.theirs), style="bold")
        for name, n in a.unfilled:
            text.append("\n" + self.t("outreach.unfilled", name="{" + name + "}", n=n), style="bold #ff5f5f")
        if a.sample:
            text.append("\n" + self.t("outreach.sample"), style="dim")
            names = [f"{fit(one_line(name, limit=40), 12)}·V{int(vip)}" for name, vip in a.sample]
            text.append("、".join(names))
            if a.count > len(a.sample):
                text.append(" " + self.t("outreach.more", n=a.count), style="dim")
        shown.update(text)

    # -- sending ---------------------------------------------------------------------

    @on(Input.Changed, "#outreach-campaign")
    @on(TextArea.Changed, "#outreach-body")
    def _content_changed(self, event: Input.Changed | TextArea.Changed) -> None:
        self._withdraw()
        if isinstance(event, TextArea.Changed) and self.wanted is not None and self._variables() != self.wanted[2]:
            self._filter_changed()  # other variables: ask again who lacks a value

    def _withdraw(self) -> None:
        """Take back the "send to N?" question: something it was about has changed."""
        if self.confirming:
            self.confirming = False
            self.query_one("#outreach-confirm").display = False

    def _error(self, key: str | None, under: str = "#outreach-days", **values: str) -> None:
        """Say what is wrong right under the field it is about (``None`` clears it): on
        a short terminal the box scrolls, and a line at its bottom would go unseen."""
        error = self.query_one("#outreach-error", Static)
        error.display = key is not None
        if key is not None:
            error.update(Text(self.t(key, **values)))
            self.query_one("#outreach-box").move_child(error, after=self.query_one(under))
            self.call_after_refresh(error.scroll_visible, animate=False)

    def action_send(self) -> None:
        body = self.query_one("#outreach-body", TextArea).text.strip()
        problem = self._read_filter()
        if isinstance(problem, str):
            self._error(problem)
            self.query_one("#outreach-vip" if problem == "outreach.bad_vip" else "#outreach-days").focus()
            return
        if not body:
            self._error("outreach.need_body", under="#outreach-body")
            self.query_one("#outreach-body").focus()
            return
        if names := list(dict.fromkeys(unknown(body))):  # {customer.nam} would reach customers raw
            self._error("outreach.unknown", under="#outreach-body",
                        names=" ".join("{" + n + "}" for n in names))
            self.query_one("#outreach-body").focus()
            return
        if self.audience is None:
            self._error("outreach.wait", under="#outreach-audience")
            return
        if self.audience.count <= 0:
            self._error("outreach.no_audience", under="#outreach-audience")
            return
        if self.audience.unfilled:
            self._error("outreach.cannot_fill", under="#outreach-body",
                        names=" ".join("{" + n + "}" for n, _ in self.audience.unfilled))
            return
        self._error(None)
        if not self.confirming:
            self.confirming = True
            confirm = self.query_one("#outreach-confirm", Static)
            confirm.update(Text(self.t("outreach.confirm", n=self.audience.count), style="bold black on yellow"))
            confirm.display = True
            self.call_after_refresh(confirm.scroll_visible, animate=False)
            return
        campaign = one_line(self.query_one("#outreach-campaign", Input).value)
        vip_min, days, _ = self.wanted
        self.dismiss(OutreachRequest(vip_min, days, campaign, body))

    def action_cancel(self) -> None:
        if self.confirming:
            self._withdraw()
        else:
            self.dismiss(None)
