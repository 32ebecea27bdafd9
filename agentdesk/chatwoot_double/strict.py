"""What each route permits: the query parameters and body fields Chatwoot's controllers
read (``params.permit``, finders, builders), per route name. Anything else is refused
with 422 and the list of what was not permitted.

This is deliberately stricter than Chatwoot, which ignores most unknown parameters: a
client that misspells ``assignee_type`` or sends ``status`` in the wrong place gets a
clear error from the double instead of a silently unfiltered answer from production.
"""

from __future__ import annotations

from collections.abc import Iterable

from agentdesk.chatwoot_double.problems import ApiError

FINDER = frozenset({"assignee_type", "status", "q", "inbox_id", "team_id", "labels", "page", "sort_by",
                    "updated_within", "conversation_type"})
CONTACT_LIST = frozenset({"page", "sort", "include_contact_inboxes", "labels"})
MESSAGE_FIELDS = frozenset({"content", "message_type", "private", "content_type", "content_attributes", "echo_id",
                            "template_params", "campaign_id", "external_created_at", "cc_emails", "bcc_emails",
                            "to_emails"})

#: route name -> (query parameters, body fields)
PERMITTED: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "profile.show": (frozenset(), frozenset()),
    "profile.update": (frozenset(), frozenset({"profile"})),
    "agents.index": (frozenset(), frozenset()),
    "teams.index": (frozenset(), frozenset()),
    "team_members.index": (frozenset(), frozenset()),
    "inboxes.index": (frozenset(), frozenset()),
    "labels.index": (frozenset(), frozenset()),
    "labels.create": (frozenset(), frozenset({"title", "description", "color", "show_on_sidebar"})),
    "canned_responses.index": (frozenset({"search"}), frozenset()),
    "conversations.index": (FINDER, frozenset()),
    "conversations.meta": (FINDER - {"page", "sort_by", "updated_within"}, frozenset()),
    "conversations.show": (frozenset(), frozenset()),
    "conversations.create": (frozenset(), frozenset({"source_id", "inbox_id", "contact_id", "additional_attributes",
                                                     "custom_attributes", "status", "assignee_id", "team_id",
                                                     "snoozed_until", "message"})),
    "conversations.toggle_status": (frozenset(), frozenset({"status", "snoozed_until"})),
    "conversations.toggle_priority": (frozenset(), frozenset({"priority"})),
    "conversations.update_last_seen": (frozenset(), frozenset()),
    "conversations.unread": (frozenset(), frozenset()),
    "assignments.create": (frozenset(), frozenset({"assignee_id", "team_id", "assignee_type"})),
    "conversation_labels.index": (frozenset(), frozenset()),
    "conversation_labels.create": (frozenset(), frozenset({"labels"})),
    "messages.index": (frozenset({"before", "after", "before_timestamp", "filter_internal_messages"}), frozenset()),
    "messages.create": (frozenset(), MESSAGE_FIELDS),
    "messages.update": (frozenset(), frozenset({"status", "external_error"})),
    "messages.destroy": (frozenset(), frozenset()),
    "contacts.index": (CONTACT_LIST, frozenset()),
    "contacts.search": (CONTACT_LIST | {"q"}, frozenset()),
    "contacts.show": (frozenset({"include_contact_inboxes"}), frozenset()),
    "contacts.update": (frozenset(), frozenset({"name", "identifier", "email", "phone_number", "blocked",
                                                 "additional_attributes", "custom_attributes"})),
    "contact_conversations.index": (frozenset(), frozenset()),
    "notes.index": (frozenset(), frozenset()),
    "notes.create": (frozenset(), frozenset({"content", "note"})),
}
NESTED = {("conversations.create", "message"): frozenset({"content", "template_params"}),
          ("profile.update", "profile"): frozenset({"email", "name", "display_name", "avatar", "availability",
                                                    "ui_settings"}),
          ("notes.create", "note"): frozenset({"content"})}


def _names(keys: Iterable[str]) -> set[str]:
    """Rails reads ``labels[]=a`` as ``labels``."""
    return {k[:-2] if k.endswith("[]") else k for k in keys}


def check(route: str, query: Iterable[str], body: dict) -> None:
    allowed_query, allowed_body = PERMITTED[route]
    extra = sorted(_names(query) - allowed_query) + sorted(set(body) - allowed_body)
    for (name, key), fields in NESTED.items():
        if name == route and isinstance(body.get(key), dict):
            extra += [f"{key}.{k}" for k in sorted(set(body[key]) - fields)]
    if extra:
        raise ApiError(422, f"unpermitted parameters: {', '.join(extra)} (the Chatwoot double is strict; "
                            f"Chatwoot itself would ignore them)", unpermitted=extra)
