"""One registry of user actions.

Each action has a stable binding id (users can remap it), keys, a footer label, a help
line, a scope (who owns the binding) and whether it writes to the shop (read-only
monitor mode hides those). Bindings, the footer, the help overlay and the command
palette are all built from this list, so they can never disagree.

Scopes: ``app`` bindings use Alt/Ctrl/F-keys and work while typing; ``inbox`` bindings
are single letters owned by the inbox list (the tab keys also by the follow-up list), and
``thread`` ones owned by the thread, so they never fire in the composer.

Keys are handled in arrival order (:mod:`agentdesk.ui.key_order`): an "anywhere" key
pressed right after some typing acts after those characters are in the draft, whatever
kind of binding it is (so what was typed before Ctrl+F lands in the draft, not in the
Find box).
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
    ActionSpec("app.next", "alt+j", "next_conversation", "act.next", "app", key_display="Alt+J"),
    ActionSpec("app.prev", "alt+k", "prev_conversation", "act.prev", "app", key_display="Alt+K"),
    ActionSpec("app.longest", "alt+w", "longest_waiting", "act.longest", "app", key_display="Alt+W"),
    ActionSpec("app.find", "ctrl+f", "find", "act.find", "app", key_display="Ctrl+F"),
    ActionSpec("app.inbox", "escape", "focus_inbox", "act.inbox", "app", show=False, key_display="Esc"),
    ActionSpec("app.help", "f1", "help", "act.help", "app", priority=True, key_display="F1"),
    ActionSpec("app.help_q", "question_mark", "help", "act.help", "app", show=False, key_display="?", palette=False),
    ActionSpec("app.palette", "ctrl+p", "command_palette", "act.palette", "app", show=False, key_display="Ctrl+P", palette=False),
    ActionSpec("app.retry", "alt+r", "retry_failed", "act.retry", "app", show=False, priority=True, write=True, key_display="Alt+R"),
    ActionSpec("app.handoff", "ctrl+t", "handoff", "act.handoff", "app", write=True, key_display="Ctrl+T"),
    ActionSpec("app.resolve", "alt+d", "resolve", "act.resolve", "app", write=True, key_display="Alt+D"),
    ActionSpec("app.resolve_next", "alt+x", "resolve_next", "act.resolve_next", "app", write=True, key_display="Alt+X"),
    ActionSpec("app.snooze", "alt+p", "snooze", "act.snooze", "app", show=False, write=True, key_display="Alt+P"),
    ActionSpec("app.reopen", "alt+o", "reopen", "act.reopen", "app", show=False, write=True, key_display="Alt+O"),
    ActionSpec("app.tags", "alt+t", "tags", "act.tags", "app", show=False, write=True, key_display="Alt+T"),
    ActionSpec("app.followup", "alt+h,alt+f", "followup", "act.followup", "app", show=False, write=True, key_display="Alt+H"),
    ActionSpec("app.customer_note", "alt+c", "customer_note", "act.customer_note", "app", show=False, write=True, key_display="Alt+C"),
    ActionSpec("app.orders", "f4", "order_actions", "act.orders", "app", show=False, write=True, key_display="F4"),
    ActionSpec("app.outreach", "f6", "outreach", "act.outreach", "app", show=False, write=True, key_display="F6"),
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
    ActionSpec("thread.next_match", "n", "next_match(1)", "act.next_match", "thread", key_display="n", palette=False),
    ActionSpec("thread.prev_match", "N", "next_match(-1)", "act.prev_match", "thread", key_display="N", palette=False),
    ActionSpec("composer.send", "enter", "send", "act.send", "composer", write=True, key_display="Enter", palette=False),
    # New line: only keys that arrive as themselves. Ctrl+J is LF everywhere; Shift+Enter
    # only where the terminal reports it (the kitty keyboard protocol); Alt+Enter is
    # ESC CR, which agentdesk reads as alt+enter (see ui/textual_internals.py).
    ActionSpec("composer.newline", "ctrl+j,shift+enter,alt+enter", "newline", "act.newline", "composer", key_display="Ctrl+J", palette=False),
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


#: The inbox keys that switch tabs; the follow-up list (a tab itself) has them too.
TAB_IDS = ("inbox.mine", "inbox.unassigned", "inbox.all", "inbox.followups")


def tab_bindings() -> list[Binding]:
    return [a.binding() for a in ACTIONS if a.id in TAB_IDS]


def keys_of(spec: ActionSpec, keymap: dict[str, str] | None = None) -> list[str]:
    """The keys that run ``spec`` once the ``[keys]`` config has remapped it."""
    keys = (keymap or {}).get(spec.id, spec.keys)
    return [k.strip() for k in keys.split(",") if k.strip()]


def display(spec: ActionSpec, keymap: dict[str, str] | None = None) -> str:
    """How the keys of ``spec`` read in help and the palette ("Alt+J", or a remap)."""
    if keymap and spec.id in keymap:
        return " / ".join(key_label(k) for k in keys_of(spec, keymap))
    return spec.key_display or spec.keys


def key_label(key: str) -> str:
    """``ctrl+shift+k`` → ``Ctrl+Shift+K``, ``f6`` → ``F6``, ``question_mark`` → ``?``."""
    *modifiers, base = key.split("+")
    names = {"escape": "Esc", "enter": "Enter", "pageup": "PgUp", "pagedown": "PgDn", "space": "Space",
             "tab": "Tab", "backspace": "Backspace", "delete": "Del", "insert": "Ins", "home": "Home",
             "end": "End", "up": "↑", "down": "↓", "left": "←", "right": "→"}
    if base in names:
        shown = names[base]
    elif len(base) > 1 and base[0] == "f" and base[1:].isdigit():
        shown = base.upper()
    elif len(base) == 1:
        shown = base.upper() if modifiers else base
    else:
        shown = _character(base) or base
    return "+".join([*(m.capitalize() for m in modifiers), shown])


def _character(name: str) -> str | None:
    import unicodedata

    try:
        return unicodedata.lookup(name.replace("_", " "))
    except KeyError:
        return None


def without_keys(items: list[Binding], keys: set[str]) -> list[Binding]:
    """``items`` with ``keys`` taken out of each binding (a binding left with no key
    goes): a widget's own key must not shadow a key that acts from anywhere."""
    out = []
    for b in items:
        kept = [k for k in b.key.split(",") if k.strip() not in keys]
        if kept:
            out.append(replace(b, key=",".join(kept)))
    return out


def localize(node_bindings: BindingsMap, t: Catalog) -> None:
    """Swap each binding's description (an i18n key) for its translation, in place."""
    for key, items in node_bindings.key_to_bindings.items():
        node_bindings.key_to_bindings[key] = [
            replace(b, description=t(b.description)) if b.description.startswith("act.") else b
            for b in items
        ]
