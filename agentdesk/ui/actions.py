"""One registry of user actions.

Each action has a stable binding id (users can remap it), keys, a footer label, a help
line, a scope (who owns the binding) and whether it writes to the shop (read-only
monitor mode hides those). Bindings, the footer, the help overlay and the command
palette are all built from this list, so they can never disagree.

Scopes: ``app`` bindings use Alt/Ctrl/F-keys and work while typing; ``inbox`` bindings
are single letters owned by the inbox list, so they never fire in the composer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual.binding import Binding, BindingsMap

from agentdesk.i18n import Catalog


@dataclass(frozen=True)
class ActionSpec:
    id: str
    keys: str
    action: str
    label: str  # i18n key; help line is label + ".help"
    scope: str  # app | inbox | composer
    show: bool = True
    priority: bool = False
    write: bool = False
    key_display: str | None = None
    palette: bool = True  # offered in the command palette
    #: Acts on the open conversation: the composer runs it in its own key order, after
    #: the characters typed before it are in the draft (see Composer._on_key), instead
    #: of as a priority binding that would overtake them.
    ordered: bool = False

    def binding(self) -> Binding:
        return Binding(
            self.keys,
            self.action,
            self.label,  # replaced by the translated label at mount (see localize)
            show=self.show,
            priority=self.priority,
            id=self.id,
            key_display=self.key_display,
        )


#: Real terminals send Alt+<key> as ESC <key>, and Textual reads some of those as other
#: keys (ESC f / ESC b: Ctrl+Right / Ctrl+Left, iTerm's word moves; ESC 1…: "¡™£…", the
#: macOS Option characters). An action on one of these also has a key that arrives as
#: itself (Alt+H 回访, Alt+L 离开); Alt+1..3 are recognised by their characters (Composer).
ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("app.next", "alt+j", "next_conversation", "act.next", "app", ordered=True, key_display="Alt+J"),
    ActionSpec("app.prev", "alt+k", "prev_conversation", "act.prev", "app", ordered=True, key_display="Alt+K"),
    ActionSpec("app.longest", "alt+w", "longest_waiting", "act.longest", "app", ordered=True, key_display="Alt+W"),
    ActionSpec("app.inbox", "escape", "focus_inbox", "act.inbox", "app", show=False, key_display="Esc"),
    ActionSpec("app.help", "f1", "help", "act.help", "app", priority=True, key_display="F1"),
    ActionSpec("app.help_q", "question_mark", "help", "act.help", "app", show=False, key_display="?", palette=False),
    ActionSpec("app.palette", "ctrl+p", "command_palette", "act.palette", "app", show=False, key_display="Ctrl+P", palette=False),
    ActionSpec("app.retry", "alt+r", "retry_failed", "act.retry", "app", show=False, priority=True, write=True, key_display="Alt+R"),
    ActionSpec("app.handoff", "ctrl+t", "handoff", "act.handoff", "app", write=True, ordered=True, key_display="Ctrl+T"),
    ActionSpec("app.resolve", "alt+d", "resolve", "act.resolve", "app", write=True, ordered=True, key_display="Alt+D"),
    ActionSpec("app.resolve_next", "alt+x", "resolve_next", "act.resolve_next", "app", write=True, ordered=True, key_display="Alt+X"),
    ActionSpec("app.snooze", "alt+p", "snooze", "act.snooze", "app", show=False, write=True, ordered=True, key_display="Alt+P"),
    ActionSpec("app.reopen", "alt+o", "reopen", "act.reopen", "app", show=False, write=True, ordered=True, key_display="Alt+O"),
    ActionSpec("app.tags", "alt+t", "tags", "act.tags", "app", show=False, write=True, ordered=True, key_display="Alt+T"),
    ActionSpec("app.followup", "alt+h,alt+f", "followup", "act.followup", "app", show=False, write=True, ordered=True, key_display="Alt+H"),
    ActionSpec("app.customer_note", "alt+c", "customer_note", "act.customer_note", "app", show=False, write=True, ordered=True, key_display="Alt+C"),
    ActionSpec("app.orders", "f4", "order_actions", "act.orders", "app", show=False, write=True, ordered=True, key_display="F4"),
    # priority: the composer (a TextArea) binds F6 to "select line" for itself.
    ActionSpec("app.outreach", "f6", "outreach", "act.outreach", "app", show=False, priority=True, write=True,
               key_display="F6"),
    ActionSpec("app.away", "alt+l,alt+b", "toggle_away", "act.away", "app", show=False, write=True, key_display="Alt+L"),
    ActionSpec("app.quit", "ctrl+q", "quit", "act.quit", "app", priority=True, key_display="Ctrl+Q"),
    ActionSpec("app.focus_next", "tab", "focus_next", "act.focus_next", "app", show=False, key_display="Tab", palette=False),
    ActionSpec("inbox.down", "down,j", "cursor_down", "act.down", "inbox", show=False, key_display="↓/j", palette=False),
    ActionSpec("inbox.up", "up,k", "cursor_up", "act.up", "inbox", show=False, key_display="↑/k", palette=False),
    ActionSpec("inbox.page_down", "pagedown", "page_down", "act.page_down", "inbox", show=False, key_display="PgDn", palette=False),
    ActionSpec("inbox.page_up", "pageup", "page_up", "act.page_up", "inbox", show=False, key_display="PgUp", palette=False),
    ActionSpec("inbox.open", "enter", "open", "act.open", "inbox", key_display="Enter", palette=False),
    ActionSpec("inbox.mine", "m", "app.tab('mine')", "act.tab_mine", "inbox", key_display="m"),
    ActionSpec("inbox.unassigned", "u", "app.tab('unassigned')", "act.tab_unassigned", "inbox", key_display="u"),
    ActionSpec("inbox.all", "a", "app.tab('all')", "act.tab_all", "inbox", key_display="a"),
    ActionSpec("inbox.followups", "f", "app.tab('followups')", "act.tab_followups", "inbox", key_display="f"),
    ActionSpec("inbox.status", "s", "app.cycle_status", "act.status", "inbox", key_display="s"),
    ActionSpec("inbox.group", "g", "app.cycle_group", "act.group", "inbox", key_display="g"),
    ActionSpec("composer.send", "enter", "send", "act.send", "composer", write=True, key_display="Enter", palette=False),
    ActionSpec("composer.newline", "alt+enter,ctrl+j", "newline", "act.newline", "composer", key_display="Alt+Enter", palette=False),
    ActionSpec("composer.pick", "ctrl+r", "pick", "act.pick", "composer", key_display="/ Ctrl+R", palette=False),
    ActionSpec("composer.note_mode", "alt+n", "mode('note')", "act.note_mode", "composer", key_display="Alt+N", palette=False),
    ActionSpec("composer.reply_mode", "alt+m", "mode('reply')", "act.reply_mode", "composer", show=False, key_display="Alt+M", palette=False),
    ActionSpec("composer.apology", "alt+a", "apology", "act.apology", "composer", show=False, key_display="Alt+A", palette=False),
    ActionSpec("composer.suggest1", "alt+1", "suggestion(1)", "act.suggest1", "composer", show=False, key_display="Alt+1", palette=False),
    ActionSpec("composer.suggest2", "alt+2", "suggestion(2)", "act.suggest2", "composer", show=False, key_display="Alt+2", palette=False),
    ActionSpec("composer.suggest3", "alt+3", "suggestion(3)", "act.suggest3", "composer", show=False, key_display="Alt+3", palette=False),
    ActionSpec("app.replies", "f2", "open_picker", "act.replies", "app", show=False, priority=True, write=True, key_display="F2"),
)


def bindings(scope: str) -> list[Binding]:
    return [a.binding() for a in ACTIONS if a.scope == scope]


def ordered_keys() -> dict[str, str]:
    """key -> ``app.<action>`` for the app actions the composer runs in key order."""
    return {key: f"app.{a.action}" for a in ACTIONS if a.ordered for key in a.keys.split(",")}


def localize(node_bindings: BindingsMap, t: Catalog) -> None:
    """Swap each binding's description (an i18n key) for its translation, in place."""
    for key, items in node_bindings.key_to_bindings.items():
        node_bindings.key_to_bindings[key] = [
            replace(b, description=t(b.description)) if b.description.startswith("act.") else b
            for b in items
        ]
