"""Filling ``{name}`` placeholders in configured texts (greeting, handoff message).

Not :meth:`str.format`: a shop owner writes these texts in config.toml, and a stray
``{`` or an unknown ``{name}`` must reach the customer as written instead of raising
(or, worse, exposing attributes through ``{x.__class__}``).
"""

from __future__ import annotations

import re

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill(template: str, **values: object) -> str:
    """Replace each ``{name}`` that has a value in ``values``; leave everything else."""

    def sub(m: re.Match) -> str:
        name = m.group(1)
        return str(values[name]) if name in values else m.group(0)

    return _PLACEHOLDER.sub(sub, template)
