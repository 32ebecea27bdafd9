"""The reply composer: a multi-line TextArea where Enter sends.

Quick replies: ``/`` at the start of a line or Ctrl+R asks for the picker; Alt+1..3
insert the suggested replies shown above it. A variable the conversation could not fill
(``{order.id}``) stays in the text, marks the composer and blocks sending until edited.

Enter sends, Alt+Enter and Ctrl+J insert a newline. These keys are handled in the
composer's own key handler, in order with the characters typed before them – not as
priority bindings, which the app runs as soon as the key arrives, before the composer
has inserted the characters still queued for it (a fast typist's last words would be
cut off the reply). Their bindings stay declared for the footer and help. The app's
"ordered" actions (next conversation, transfer, resolve…) run the same way while the
composer has focus. Typing posts a debounced :class:`DraftChanged` so the app can keep
the draft in the cache.

Two modes: *reply* (to the customer) and *note* (internal, Alt+N; Alt+M goes back). The
mode shows in the border title and colour, and :class:`Submitted` carries it.
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.timer import Timer
from textual.widgets import TextArea

from agentdesk.i18n import Catalog
from agentdesk.quickreply.variables import unfilled
from agentdesk.ui import actions

DRAFT_DEBOUNCE = 0.4


#: Alt+1..3 in a real terminal: ESC 1..3, which Textual reads as the macOS Option
#: characters ("¡™£", keys named after them). They pick a suggestion, or do nothing: a
#: stray "¡" must not land in a customer's reply.
OPTION_DIGITS = {"inverted_exclamation_mark": 1, "trade_mark_sign": 2, "pound_sign": 3}

class Composer(TextArea):
    BINDINGS = actions.bindings("composer")

    class Submitted(Message):
        def __init__(self, conversation_id: str, text: str, kind: str = "reply") -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.text = text
            self.kind = kind  # reply | note

    class DraftChanged(Message):
        def __init__(self, conversation_id: str, text: str) -> None:
            super().__init__()
            self.conversation_id = conversation_id
            self.text = text

    class PickerRequested(Message):
        """``/`` at a line start or Ctrl+R: open the quick-reply picker."""

    class ReplyUsed(Message):
        """A quick reply went into the text (for frecency)."""

        def __init__(self, reply_id: str) -> None:
            super().__init__()
            self.reply_id = reply_id

    def __init__(self, *, t: Catalog, id: str | None = None) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self._t = t
        self.conversation_id: str | None = None
        self._debounce: Timer | None = None
        self._loaded_text = ""  # what we put there ourselves (not typing)
        self.placeholder = t("composer.closed")
        actions.localize(self._bindings, t)
        self._own_keys = {key: items[0].action for key, items in self._bindings.key_to_bindings.items()}
        self._own_keys.update(actions.ordered_keys())
        #: (reply id, filled text) for Alt+1..3, set by the app for the open conversation.
        self.suggestions: list[tuple[str, str]] = []
        #: The apology prefix Alt+A puts in front, offered after a long wait ("" = none).
        self.apology = ""
        self.kind = "reply"
        self.border_title = Text(t("composer.reply_title"))

    async def _on_key(self, event) -> None:
        """Our keys run here, after every character typed before them is in the text."""
        action = self._own_keys.get(event.key)
        option_digit = OPTION_DIGITS.get(event.key)
        if action is None and option_digit is not None:
            action = f"suggestion({option_digit})"  # does nothing without that suggestion
        if action is None and event.character == "/" and self.cursor_location[1] == 0 and self.conversation_id:
            action = "pick"
        if action is None:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        await self.run_action(action)

    def begin(self, conversation_id: str) -> None:
        """Switch to ``conversation_id`` at once (its draft arrives later, see
        :meth:`load_draft`), so the agent can start typing immediately."""
        self.flush_draft()
        if conversation_id != self.conversation_id:
            self.action_mode("reply")
        self.conversation_id = conversation_id
        self._set_text("")
        self.placeholder = self._t("composer.note_placeholder" if self.kind == "note" else "composer.placeholder")

    def load_draft(self, conversation_id: str, draft: str) -> None:
        """The saved draft arrived. Whatever was typed since :meth:`begin` is kept
        after it – keystrokes are never lost to a slow read."""
        if conversation_id != self.conversation_id or not draft:
            return
        typed = self.text
        self._set_text(draft + typed)
        if typed:
            self.flush_later()

    def _set_text(self, text: str) -> None:
        self._loaded_text = text
        self.load_text(text)
        self.move_cursor(self.document.end)

    def flush_later(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DRAFT_DEBOUNCE, self.flush_draft)

    def flush_draft(self) -> None:
        """Post the pending draft now (switching conversation, quitting)."""
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
            if self.conversation_id:
                self.post_message(self.DraftChanged(self.conversation_id, self.text))

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if "{" in self.text or self.has_class("-unfilled"):
            self._mark_unfilled()
        if self.text == self._loaded_text:  # our own load_text(), not the agent typing
            return
        self._loaded_text = None
        if self.conversation_id is not None:
            self.flush_later()

    def action_send(self) -> None:
        if self.conversation_id is None:
            self.notify(self._t("composer.closed"), severity="warning")
            return
        text = self.text.strip()
        if not text:
            self.notify(self._t("notify.empty"), severity="warning")
            return
        names = self._mark_unfilled()
        if names:  # a raw {order.id} never reaches a customer
            self.notify(self._t("notify.unfilled", names=" ".join("{" + n + "}" for n in names)), severity="error")
            return
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        self.post_message(self.Submitted(self.conversation_id, self.text, self.kind))

    def offer_apology(self, text: str) -> None:
        """A customer waited past the red line: Alt+A puts ``text`` in front (the
        border title says so); "" withdraws the offer."""
        self.apology = text
        self._title()

    def _title(self) -> None:
        if self.kind == "note":
            self.border_title = Text(self._t("composer.note_title"))
        elif self.apology:
            self.border_title = Text(self._t("composer.reply_title") + " · " + self._t("composer.apology_hint"))
        else:
            self.border_title = Text(self._t("composer.reply_title"))

    def action_mode(self, kind: str) -> None:
        """Reply to the customer, or write an internal note nobody outside sees."""
        self.kind = kind
        self.set_class(kind == "note", "-note")
        self._title()
        if self.conversation_id:
            self.placeholder = self._t("composer.note_placeholder" if kind == "note" else "composer.placeholder")

    def action_apology(self) -> None:
        """Put the apology in front of what is typed (once)."""
        if not self.apology or self.conversation_id is None or self.text.startswith(self.apology):
            return
        self.load_text(self.apology + self.text)
        self.move_cursor(self.document.end)

    def action_newline(self) -> None:
        self.insert("\n")

    def action_pick(self) -> None:
        if self.conversation_id is None:
            self.notify(self._t("composer.closed"), severity="warning")
            return
        self.post_message(self.PickerRequested())

    def action_suggestion(self, n: int) -> None:
        if self.conversation_id is None or n > len(self.suggestions):
            return
        reply_id, text = self.suggestions[n - 1]
        self.insert_reply(reply_id, text)

    def insert_reply(self, reply_id: str, text: str) -> None:
        """At the cursor, keeping the draft around it (replies can be combined)."""
        self.insert(text)
        self.post_message(self.ReplyUsed(reply_id))

    def _mark_unfilled(self) -> list[str]:
        names = list(dict.fromkeys(name for _, _, name in unfilled(self.text)))
        self.set_class(bool(names), "-unfilled")
        self.border_subtitle = Text(self._t("composer.unfilled", names=" ".join("{" + n + "}" for n in names))) if names else ""
        return names

