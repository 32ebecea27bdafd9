"""The reply composer: a multi-line TextArea where Enter sends.

Quick replies: ``/`` at the start of a line or Ctrl+R asks for the picker; Alt+1..3
insert the suggested replies shown above it. A ``{variable}`` the conversation could not
fill (``{order.id}``), or one that is no variable at all (the typo ``{customer.nam}``),
stays in the text, marks the composer with its name and blocks sending until edited.

Enter sends. Enter takes the text out of the composer at once, before anything typed
after it is handled, so "A", Enter, "B", Enter typed in one go sends "A" and then "B";
a reply the shop refuses (another agent took the conversation) comes back in front of
whatever was typed since.

New line: Ctrl+J, and Shift+Enter where the terminal reports it (terminals speaking the
kitty keyboard protocol: kitty, WezTerm, foot, Ghostty). Alt+Enter is a new line too:
most terminals send it as ESC CR, which Textual would read as a plain Enter – a half
written reply went out – so agentdesk reads ESC CR as Alt+Enter
(:func:`agentdesk.ui.textual_internals.read_alt_keys`). Why a new line and not "send":
every key advertised as a new line must be one, and a terminal that cannot tell Alt+Enter
from Enter would otherwise make the safe key the dangerous one. The price: Esc pressed and
followed by Enter in the same terminal read (within 0.1 s) is a new line too; it was never
"Esc, then Enter" before either (Textual read it as a single Enter).

The composer's own keys (from the action registry, remapped by ``[keys]``) are handled
in its key handler, ahead of TextArea's (which would put a new line in for Enter).
Alt+<letter> keys never type anything: they go up to the app's bindings (Alt+J: next
conversation). TextArea's F6 ("select line") is dropped: F6 is outreach,
from anywhere. Typing posts a debounced :class:`DraftChanged` so the app keeps the
draft in the cache.

Two modes: *reply* (to the customer) and *note* (internal, Alt+N; Alt+M goes back). The
mode shows in the border title and colour, and :class:`Submitted` carries it.
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import TextArea

from agentdesk.i18n import Catalog
from agentdesk.quickreply.variables import placeholders
from agentdesk.ui import actions

DRAFT_DEBOUNCE = 0.4


#: Alt+1..3 in a real terminal: ESC 1..3, which Textual reads as the macOS Option
#: characters ("¡™£", keys named after them). They pick a suggestion, or do nothing: a
#: stray "¡" must not land in a customer's reply.
OPTION_DIGITS = {"inverted_exclamation_mark": 1, "trade_mark_sign": 2, "pound_sign": 3}

#: Keys that act from anywhere: TextArea's editing bindings on them are dropped.
_ANYWHERE = {k for a in actions.ACTIONS if a.scope == "app" for k in actions.keys_of(a)}


class Composer(TextArea, inherit_bindings=False):
    BINDINGS = [*actions.without_keys(TextArea.BINDINGS, _ANYWHERE), *actions.bindings("composer")]

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

    def __init__(self, *, t: Catalog, keymap: dict[str, str] | None = None, id: str | None = None) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self._t = t
        self.conversation_id: str | None = None
        self._debounce: Timer | None = None
        self._loaded_text = ""  # what we put there ourselves (not typing)
        #: A suggested message for the conversation being opened, used if it has no draft.
        self._suggestion: tuple[str, str] | None = None
        self.placeholder = t("composer.closed")
        actions.localize(self._bindings, t)
        self._own_keys = {
            key: spec.action for spec in actions.ACTIONS if spec.scope == "composer"
            for key in actions.keys_of(spec, keymap)
        }
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
        if action is None and "alt+" in event.key:
            return  # not text: up to the app's bindings (Alt+J: next conversation)
        if action is None:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        await self.run_action(action)

    def render_line(self, y: int) -> Strip:
        # Squeezed to no width (a narrow terminal), TextArea wraps its placeholder to
        # width 0, which raises inside Textual for most texts: draw nothing instead.
        if not self.text and self.placeholder and self.content_size.width < 1:
            return Strip.blank(0, self.rich_style)
        return super().render_line(y)

    def begin(self, conversation_id: str) -> None:
        """Switch to ``conversation_id`` at once (its draft arrives later, see
        :meth:`load_draft`), so the agent can start typing immediately."""
        self.flush_draft()
        if conversation_id != self.conversation_id:
            self.action_mode("reply")
        self.conversation_id = conversation_id
        self._set_text("")
        self.placeholder = self._t("composer.note_placeholder" if self.kind == "note" else "composer.placeholder")

    def suggest(self, conversation_id: str, text: str) -> None:
        """Offer ``text`` (a follow-up's message) for the conversation being opened: it
        fills the composer when its draft arrives empty and nothing was typed. Opening
        the same follow-up again finds it as the draft: never a second copy."""
        self._suggestion = (conversation_id, text)

    def load_draft(self, conversation_id: str, draft: str) -> None:
        """The saved draft arrived. Whatever was typed since :meth:`begin` is kept
        after it – keystrokes are never lost to a slow read."""
        suggestion, self._suggestion = self._suggestion, None
        if conversation_id != self.conversation_id:
            return
        typed = self.text
        if not draft and not typed and suggestion and suggestion[0] == conversation_id:
            self._set_text(suggestion[1])
            self.flush_later()  # kept as the draft, like typing
            return
        if not draft:
            return
        self._set_text(draft + typed)
        if typed:
            self.flush_later()

    def put_back(self, text: str) -> None:
        """A reply that was not sent comes back, in front of anything typed since
        (``text`` may already hold that typing: the cached draft it came back to)."""
        typed = self.text
        if typed.strip() and text in typed:
            return
        self._set_text(text if not typed.strip() or typed in text else text + "\n" + typed)
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
        """Post the pending draft now (switching conversation)."""
        pending = self.take_pending_draft()
        if pending is not None:
            self.post_message(self.DraftChanged(*pending))

    def take_pending_draft(self) -> tuple[str, str] | None:
        """(conversation id, text) of typing not yet posted as a draft; it counts as
        posted from now on (quitting saves it directly)."""
        if self._debounce is None:
            return None
        self._debounce.stop()
        self._debounce = None
        return (self.conversation_id, self.text) if self.conversation_id else None

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
        if names:  # a raw {order.id} or {customer.nam} never reaches a customer (notes are not checked)
            self.notify(self._t("notify.unfilled", names=" ".join("{" + n + "}" for n in names)), severity="error")
            return
        if self._debounce is not None:  # the send clears the cached draft itself
            self._debounce.stop()
            self._debounce = None
        # Out of the composer now, before the next key: typed right after Enter, "B" is
        # the start of the next reply, never appended to this one.
        sent = self.text
        self._set_text("")
        self.post_message(self.Submitted(self.conversation_id, sent, self.kind))

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
        self._mark_unfilled()  # variables block replies only: a note never reaches the customer
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
        # Any {name} left: a known variable with no value, or a typo like {customer.nam}.
        names = list(dict.fromkeys(name for _, _, name in placeholders(self.text))) if self.kind == "reply" else []
        self.set_class(bool(names), "-unfilled")
        self.border_subtitle = Text(self._t("composer.unfilled", names=" ".join("{" + n + "}" for n in names))) if names else ""
        return names

