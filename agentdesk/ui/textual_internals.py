"""The places where agentdesk reaches past Textual's public API, kept in one module.

Textual 8.2 has no public hook for either of these. ``tests/test_textual_internals.py``
checks each against the installed Textual and fails naming the attribute when an upgrade
moves one, so a break shows up as a failing test and not as keys going astray.

* :func:`busy`: whether a message pump still has work queued. The ordered input path
  (:mod:`agentdesk.ui.key_order`) needs to know when the handling of one key is finished,
  including everything it set off (a focus change, a pushed screen), before it hands the
  next key on.
* :func:`read_alt_keys`: terminals without the kitty keyboard protocol send Alt+<key> as
  ESC <key>. Textual's parser reads ESC CR (Alt+Enter) the same as a plain Enter (it drops
  the Alt for keys it names), which in the composer sent a half-written reply. And it
  reads ESC <letter> as Alt+<letter> only once the terminal has been quiet for the escape
  delay (0.1 s): another ESC sequence arriving sooner (Alt+J held down, Alt+J twice in one
  read, an arrow key) turned the first one into the characters "^" and "j", typed into
  the reply, and so did 32 characters typed behind it. After this call ESC CR arrives at
  once as ``alt+enter`` (the name the kitty protocol gives Alt+Enter) and ESC <letter> at
  once as ``alt+<letter>``.
"""

from __future__ import annotations

from textual.message_pump import MessagePump

#: What a terminal sends for Alt+Enter when it does not speak the kitty protocol.
ESC_CR = "\x1b\r"
#: ESC followed by these starts a longer sequence (CSI, SS3, DCS), never an Alt key.
_INTRODUCERS = "[OP"


def busy(pump: MessagePump) -> bool:
    """True while ``pump`` has messages queued (also one it peeked at, and a pump not
    started yet: a widget being mounted) or callbacks waiting to run after the current
    message (``call_next``). A closed pump is never busy."""
    if pump._closed or pump._closing:
        return False
    return pump.message_queue_size > 0 or pump._pending_message is not None or bool(pump._next_callbacks)


class _KeyName(str):
    """A key name where Textual's parser expects a ``Keys`` member (it reads ``.value``)."""

    @property
    def value(self) -> str:
        return str(self)


def read_alt_keys() -> None:
    """Teach Textual's input parser ESC CR = Alt+Enter and ESC <letter> = Alt+<letter>
    (idempotent). Sequences Textual already names stay as they are (ESC b / ESC f are
    Ctrl+Left / Ctrl+Right, iTerm's word moves; ESC 1… are macOS Option characters)."""
    import string

    from textual._ansi_sequences import ANSI_SEQUENCES_KEYS

    table = ANSI_SEQUENCES_KEYS
    table[ESC_CR] = (_KeyName("alt+enter"),)  # type: ignore[index]
    for letter in string.ascii_letters:
        sequence = "\x1b" + letter
        if letter in _INTRODUCERS or (sequence in table and not isinstance(table[sequence][0], _KeyName)):
            continue
        name = f"alt+shift+{letter.lower()}" if letter.isupper() else f"alt+{letter}"
        table[sequence] = (_KeyName(name),)  # type: ignore[index]
