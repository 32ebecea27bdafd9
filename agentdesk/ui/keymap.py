"""``[keys]`` in config.toml: remap any action by its binding id (Textual's keymap).

```toml
[keys]
"app.outreach" = "f9"          # or, unquoted, app.outreach = "f9"
"composer.newline" = "ctrl+j,shift+enter"
```

Checked before the app opens: an unknown binding id, a key name Textual would never
deliver, or a key another action already has in the same place is a one-line config
error naming the file and the key. Remapped keys show in the footer, help and palette
(all three are built from the action registry and this map).
"""

from __future__ import annotations

import unicodedata

from textual.keys import Keys

from agentdesk.config import ConfigError, Settings
from agentdesk.ui import actions
from agentdesk.ui.monitor.actions import all_specs as monitor_specs

MODIFIERS = ("ctrl", "alt", "shift", "super", "meta", "hyper")
_NAMED = {k.value for k in Keys if "+" not in k.value and not k.value.startswith("<")}


def key_name_ok(key: str) -> bool:
    """A key as Textual names it: modifiers, then a named key (``f6``, ``enter``), one
    character (``j``) or a character's name (``question_mark``)."""
    *modifiers, base = key.split("+")
    if not base or len(set(modifiers)) != len(modifiers) or any(m not in MODIFIERS for m in modifiers):
        return False
    if base in _NAMED or (len(base) == 1 and base.isprintable() and not base.isspace()):
        return True
    try:
        unicodedata.lookup(base.replace("_", " "))
    except KeyError:
        return False
    return True


def checked(settings: Settings) -> dict[str, str]:
    """The keymap of ``settings`` (binding id -> "key,key"), or ConfigError."""
    where = str(settings.source) if settings.source else "<config>"
    specs = {spec.id: spec for spec in (*actions.ACTIONS, *monitor_specs())}
    keymap: dict[str, str] = {}
    for binding_id, keys in settings.keys:
        if binding_id not in specs:
            known = ", ".join(sorted(specs))
            raise ConfigError(f"{where}: [keys] {binding_id}: no such binding id (known: {known})")
        names = [k.strip().lower() if len(k.strip()) > 1 else k.strip() for k in keys.split(",")]
        for name in names:
            if not key_name_ok(name):
                raise ConfigError(
                    f'{where}: [keys] {binding_id} = "{keys}": "{name}" is not a key name '
                    '(like "ctrl+o", "alt+n", "f9", "enter")'
                )
        keymap[binding_id] = ",".join(names)
    _no_clash(keymap, where)
    return keymap


#: Scopes whose keys are live at the same time (the app's keys work everywhere).
_TOGETHER = {"app": ("app", "inbox", "composer"), "inbox": ("app", "inbox"), "composer": ("app", "composer")}


def _no_clash(keymap: dict[str, str], where: str) -> None:
    """A remapped key must not be one another workstation action (or the composer's
    text editing) already answers to where the remapped one works."""
    from textual.widgets import TextArea

    # The composer keeps TextArea's editing keys except the default "anywhere" ones.
    editing = {k for b in actions.without_keys(list(TextArea.BINDINGS), _anywhere(None)) for k in b.key.split(",")}
    owners: dict[tuple[str, str], list[str]] = {}
    for spec in actions.ACTIONS:
        for key in actions.keys_of(spec, keymap):
            owners.setdefault((spec.scope, key), []).append(spec.id)
    for binding_id in keymap:
        spec = next((s for s in actions.ACTIONS if s.id == binding_id), None)
        if spec is None:
            continue  # the monitor's own keys are checked by Textual's keymap alone
        for key in actions.keys_of(spec, keymap):
            for scope in _TOGETHER.get(spec.scope, (spec.scope,)):
                other = next((i for i in owners.get((scope, key), ()) if i != binding_id), None)
                if other is not None:
                    raise ConfigError(f'{where}: [keys] {binding_id} = "{keymap[binding_id]}": {key} is already {other}')
            # The composer runs its own keys ahead of TextArea's; the app's come after.
            if spec.scope == "app" and key in editing:
                raise ConfigError(
                    f'{where}: [keys] {binding_id} = "{keymap[binding_id]}": {key} edits text in the composer'
                )


def _anywhere(keymap: dict[str, str] | None) -> set[str]:
    return {k for a in actions.ACTIONS if a.scope == "app" for k in actions.keys_of(a, keymap)}
