"""The quick-reply library (话术库): loading, validation, pinyin keys, search, variables.

Plain Python: no Textual here. The UI asks :class:`~agentdesk.quickreply.search.ReplyIndex`
for ranked results and fills the chosen body with :func:`~agentdesk.quickreply.variables.fill`.
"""
