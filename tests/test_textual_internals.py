"""The reaches past Textual's public API (agentdesk/ui/textual_internals.py), checked
against the installed Textual: when an upgrade moves one, this fails naming it, instead
of keys quietly going to the wrong widget or Alt+Enter sending again."""

from __future__ import annotations

from textual import events
from textual.app import App, ComposeResult
from textual.message_pump import MessagePump
from textual.widgets import Static, TextArea

from agentdesk.ui.textual_internals import ESC_CR, busy, read_alt_keys


def test_the_message_pump_attributes_busy_reads_are_there():
    pump = MessagePump()
    for name in ("_message_queue", "_pending_message", "_next_callbacks", "_closed", "_closing"):
        assert hasattr(pump, name), f"MessagePump.{name} is gone: rewrite textual_internals.busy"
    assert isinstance(pump.message_queue_size, int)


async def test_busy_is_true_exactly_while_a_pump_has_work_queued():
    seen: list[str] = []

    class Probe(Static):
        def on_key(self, event: events.Key) -> None:
            seen.append(event.key)

    class Host(App):
        def compose(self) -> ComposeResult:
            yield Probe(id="probe")

    app = Host()
    async with app.run_test() as pilot:
        probe = app.query_one(Probe)
        await pilot.pause()
        assert not busy(probe)
        probe.post_message(events.Key("x", "x"))
        probe.post_message(events.Key("y", "y"))
        assert busy(probe)  # queued, not handled yet
        while busy(probe):
            await pilot.pause()
        assert seen == ["x", "y"]
        probe.call_next(lambda: None)
        assert busy(probe)
        await pilot.pause()
        assert not busy(probe)
    assert not busy(probe)  # closed


def test_the_parser_reads_alt_keys_as_themselves():
    from textual._xterm_parser import XTermParser

    read_alt_keys()
    read_alt_keys()  # twice changes nothing

    def keys(data: str) -> list[str]:
        return [e.key for e in XTermParser().feed(data)]

    assert keys(ESC_CR) == ["alt+enter"]
    assert keys("\r") == ["enter"]
    assert keys("\x1bj\x1bj") == ["alt+j", "alt+j"]  # Alt+J held down: never "^j"
    assert keys("\x1bw" + "x" * 40) == ["alt+w"] + ["x"] * 40
    assert keys("\x1bJ") == ["alt+shift+j"]
    # Left as Textual reads them: word moves, Option characters, escape sequences.
    assert keys("\x1bb") == ["ctrl+left"] and keys("\x1b1") == ["inverted_exclamation_mark"]
    assert keys("\x1b[17~") == ["f6"] and keys("\x1bOP") == ["f1"] and keys("\x1b[A") == ["up"]
    assert keys("\x1b[13;2u") == ["shift+enter"] and keys("\n") == ["ctrl+j"]


def test_textarea_still_handles_keys_in_the_hook_the_composer_overrides():
    assert "_on_key" in TextArea.__dict__, "TextArea._on_key is gone: the composer's own keys need a new hook"
