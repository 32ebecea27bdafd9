"""agentdesk: a terminal workstation for e-commerce customer-service agents.

The top-level package is the Textual-free core; the terminal UI lives in
``agentdesk.ui`` and is only imported when the app actually starts.
"""

__version__ = "0.1.0"
