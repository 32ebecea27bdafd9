"""The supervisor's read-only monitor: a live board of the team, KPIs and any
conversation, read-only. Nothing here can write: see :mod:`agentdesk.ui.monitor.app`."""
