"""The monitor's own action registry (same :class:`ActionSpec` as the workstation's).

It holds no write action at all; :data:`WRITE_ACTIONS` names the workstation's write
actions so the monitor's ``check_action`` can refuse them even if a shared widget ever
binds one. Bindings, footer, help and palette are built from these lists.
"""

from __future__ import annotations

from dataclasses import replace

from agentdesk.ui.actions import ACTIONS, ActionSpec

#: Every action that changes shop state somewhere in agentdesk.
WRITE_ACTIONS: frozenset[str] = frozenset(a.action for a in ACTIONS if a.write)
#: Inbox-list actions that mean nothing to a supervisor ("mine", the follow-up tab).
HIDDEN_TABS = ("mine", "followups")

BOARD: tuple[ActionSpec, ...] = (
    ActionSpec("monitor.period", "t", "toggle_period", "act.period", "app", key_display="t"),
    ActionSpec("monitor.agent", "c", "cycle_agent", "act.agent_filter", "app", key_display="c"),
    ActionSpec("monitor.order", "o", "toggle_order", "act.order", "app", key_display="o"),
    ActionSpec("app.longest", "alt+w", "longest_waiting", "act.longest_read", "app", key_display="Alt+W"),
    ActionSpec("app.find", "ctrl+f", "find", "act.find_read", "app", key_display="Ctrl+F"),
    ActionSpec("app.help", "f1", "help", "act.help", "app", priority=True, key_display="F1"),
    ActionSpec("app.help_q", "question_mark", "help", "act.help", "app", show=False, key_display="?", palette=False),
    ActionSpec("app.palette", "ctrl+p", "command_palette", "act.palette", "app", show=False, key_display="Ctrl+P", palette=False),
    ActionSpec("app.quit", "ctrl+q", "quit", "act.quit", "app", priority=True, key_display="Ctrl+Q"),
)

#: Board keys that change what the board shows; while a conversation is read they are
#: off (they would re-sort, under the reader, the list Alt+J/K steps through).
BOARD_ONLY: frozenset[str] = frozenset({"toggle_period", "cycle_agent", "toggle_order"})

CONVERSATION: tuple[ActionSpec, ...] = (
    ActionSpec("conversation.back", "escape", "back", "act.back", "conversation", key_display="Esc"),
    ActionSpec("conversation.next", "alt+j,j", "next_conversation", "act.next_read", "conversation", key_display="Alt+J"),
    ActionSpec("conversation.prev", "alt+k,k", "prev_conversation", "act.prev_read", "conversation", key_display="Alt+K"),
)


#: Inbox keys that read differently on the board (Enter opens no composer; no "my groups").
RELABEL = {"inbox.open": "act.open_read", "inbox.group": "act.group_read"}


def inbox_specs() -> list[ActionSpec]:
    """The inbox list's own keys that the monitor keeps, described as the board uses them."""
    hidden = {f"app.tab('{tab}')" for tab in HIDDEN_TABS}
    return [replace(a, label=RELABEL.get(a.id, a.label)) for a in ACTIONS
            if a.scope == "inbox" and a.action not in hidden]


def all_specs() -> list[ActionSpec]:
    """What help and the palette offer in the monitor (the thread's own keys, n / N, are
    the workstation's: the thread is the same widget)."""
    return [*BOARD, *inbox_specs(), *CONVERSATION, *(a for a in ACTIONS if a.scope == "thread")]


def allowed(action: str, parameters: tuple, on_board: bool = True) -> bool:
    """The monitor's gate: no write action, no tab that belongs to an agent, and the
    board's own keys only on the board."""
    if action in WRITE_ACTIONS or (action in BOARD_ONLY and not on_board):
        return False
    return not (action == "tab" and parameters and parameters[0] in HIDDEN_TABS)
