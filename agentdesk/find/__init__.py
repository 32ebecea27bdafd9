"""Find (Ctrl+F, ``agentdesk search``): customers, orders and the whole message history.

Plain Python: the query language (``query``), the grouped search (``finder``), the
background indexer (``indexer``) and the command (``commands``). The indexes and their
SQL live in ``agentdesk.store`` (``textindex``, ``history``, ``lookup``).
"""
