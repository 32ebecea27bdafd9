"""Command palette (Ctrl+P): every palette-worthy action of the registry, searchable
in the UI language, running the same action the key runs."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from agentdesk.ui.actions import ACTIONS, display


class ActionCommands(Provider):
    def _entries(self):
        app = self.app
        t = app.t  # type: ignore[attr-defined]
        # An app may bring its own registry (the monitor's has no write action at all).
        for spec in getattr(app, "action_specs", ACTIONS):
            if not spec.palette or (spec.write and app.read_only):  # type: ignore[attr-defined]
                continue
            name = f"{t(spec.label)} ({display(spec, getattr(app, 'keymap', None))})"
            yield name, t(spec.label + ".help"), spec.action

    async def discover(self) -> Hits:
        for name, help_text, action in self._entries():
            yield DiscoveryHit(name, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action in self._entries():
            score = max(matcher.match(name), matcher.match(help_text) * 0.8)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self.app.run_action, action), help=help_text)
