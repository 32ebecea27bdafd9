"""Rows of the double's database as Chatwoot serves them: one function per jbuilder view or
``push_event_data`` method (named in each docstring), with Chatwoot's field names and
types. Note the mixed time formats, which are Chatwoot's own: most times are unix
seconds (``.to_i``), ``snoozed_until`` is an ISO 8601 string in every view, a message's
``updated_at`` too, and ``first_reply_created_at`` is unix seconds in the REST partial
but ISO 8601 in socket payloads.
"""

from __future__ import annotations

import json
import sqlite3

from agentdesk.chatwoot_double.db import ACCOUNT_ID
from agentdesk.timefmt import rfc3339


def _i(t: float | None) -> int:
    """Ruby's ``nil.to_i`` is 0."""
    return int(t) if t is not None else 0


def _j(text: str | None):
    return json.loads(text) if text else {}


def available_name(user: sqlite3.Row) -> str:
    return user["display_name"] or user["name"]


def agent(user: sqlite3.Row, status: str) -> dict:
    """``api/v1/models/_agent.json.jbuilder``."""
    return {"id": user["id"], "account_id": ACCOUNT_ID, "availability_status": status,
            "auto_offline": bool(user["auto_offline"]), "confirmed": True, "email": user["email"],
            "provider": "email", "available_name": available_name(user), "name": user["name"],
            "role": user["role"], "thumbnail": ""}


def user_push(user: sqlite3.Row, status: str) -> dict:
    """``User#push_event_data``."""
    return {"id": user["id"], "name": user["name"], "available_name": available_name(user), "avatar_url": "",
            "type": "user", "availability_status": status, "thumbnail": ""}


def bot_push(bot: sqlite3.Row) -> dict:
    """``AgentBot#push_event_data``."""
    return {"id": bot["id"], "name": bot["name"], "avatar_url": "", "type": "agent_bot"}


def profile(user: sqlite3.Row, status: str, account_name: str) -> dict:
    """``api/v1/models/_user.json.jbuilder`` (``GET /api/v1/profile``)."""
    return {"access_token": user["access_token"], "account_id": ACCOUNT_ID, "available_name": available_name(user),
            "avatar_url": "", "confirmed": True, "display_name": user["display_name"], "message_signature": None,
            "email": user["email"], "id": user["id"], "inviter_id": None, "name": user["name"], "provider": "email",
            "pubsub_token": user["pubsub_token"], "role": user["role"], "ui_settings": {}, "uid": user["email"],
            "type": None,
            "accounts": [{"id": ACCOUNT_ID, "name": account_name, "status": "active", "active_at": None,
                          "role": user["role"], "permissions": [user["role"]],
                          "availability": user["availability"], "availability_status": status,
                          "auto_offline": bool(user["auto_offline"])}]}


def team(row: sqlite3.Row, is_member: bool) -> dict:
    """``api/v1/models/_team.json.jbuilder``."""
    return {"id": row["id"], "name": row["name"], "description": row["description"],
            "allow_auto_assign": bool(row["allow_auto_assign"]), "account_id": ACCOUNT_ID, "is_member": is_member}


def team_record(row: sqlite3.Row) -> dict:
    """A Team as ``render json: @team`` serializes the record (the assignments answer)."""
    return {"id": row["id"], "name": row["name"], "description": row["description"],
            "allow_auto_assign": bool(row["allow_auto_assign"]), "account_id": ACCOUNT_ID,
            "created_at": rfc3339(row["created_at"]), "updated_at": rfc3339(row["created_at"])}


def team_push(row: sqlite3.Row) -> dict:
    """``Team#push_event_data``."""
    return {"id": row["id"], "name": row["name"]}


def inbox(row: sqlite3.Row) -> dict:
    """``api/v1/models/_inbox.json.jbuilder``, the fields an API inbox has (no channel secrets)."""
    return {"id": row["id"], "avatar_url": "", "channel_id": row["channel_id"], "name": row["name"],
            "channel_type": row["channel_type"], "greeting_enabled": False, "greeting_message": None,
            "working_hours_enabled": False, "enable_email_collect": True, "csat_survey_enabled": False,
            "enable_auto_assignment": False, "auto_assignment_config": {}, "out_of_office_message": None,
            "working_hours": [], "timezone": "Asia/Shanghai", "callback_webhook_url": None,
            "allow_messages_after_resolved": True, "lock_to_single_conversation": bool(row["lock_to_single_conversation"]),
            "sender_name_type": "friendly", "business_name": None, "webhook_url": None,
            "inbox_identifier": row["inbox_identifier"], "additional_attributes": {}}


def contact(row: sqlite3.Row, contact_inboxes: list[dict] | None = None) -> dict:
    """``api/v1/models/_contact.json.jbuilder``; ``contact_inboxes`` on /contacts routes only."""
    out = {"additional_attributes": _j(row["additional_attributes"]), "availability_status": "offline",
           "email": row["email"], "id": row["id"], "name": row["name"], "phone_number": row["phone_number"],
           "blocked": bool(row["blocked"]), "identifier": row["identifier"], "thumbnail": "",
           "custom_attributes": _j(row["custom_attributes"]), "last_activity_at": _i(row["last_activity_at"]) or None,
           "created_at": _i(row["created_at"])}
    if contact_inboxes is not None:
        out["contact_inboxes"] = contact_inboxes
    return out


def contact_push(row: sqlite3.Row) -> dict:
    """``Contact#push_event_data``."""
    return {"additional_attributes": _j(row["additional_attributes"]), "custom_attributes": _j(row["custom_attributes"]),
            "email": row["email"], "id": row["id"], "identifier": row["identifier"], "name": row["name"],
            "phone_number": row["phone_number"], "thumbnail": "", "blocked": bool(row["blocked"]), "type": "contact"}


def contact_inbox(row: sqlite3.Row, inbox_row: sqlite3.Row) -> dict:
    """``api/v1/models/_contact_inbox.json.jbuilder``."""
    return {"source_id": row["source_id"], "inbox": inbox(inbox_row)}


def note(row: sqlite3.Row, user: sqlite3.Row | None, status: str) -> dict:
    """``api/v1/models/_note.json.jbuilder``."""
    out = {"id": row["id"], "content": row["content"], "account_id": ACCOUNT_ID, "contact_id": row["contact_id"]}
    if user is not None:
        out["user"] = agent(user, status)
    out |= {"created_at": _i(row["created_at"]), "updated_at": _i(row["updated_at"])}
    return out


def canned_response(row: sqlite3.Row) -> dict:
    """A CannedResponse record (``index.json.jbuilder`` renders its attributes)."""
    return {"id": row["id"], "account_id": ACCOUNT_ID, "short_code": row["short_code"], "content": row["content"],
            "created_at": rfc3339(row["created_at"]), "updated_at": rfc3339(row["updated_at"])}


def label(row: sqlite3.Row) -> dict:
    """``api/v1/models/_label.json.jbuilder``."""
    return {"id": row["id"], "title": row["title"], "description": row["description"], "color": row["color"],
            "show_on_sidebar": bool(row["show_on_sidebar"])}


def message(row: sqlite3.Row, sender: dict | None, echo_id: str | int | None = None) -> dict:
    """``api/v1/models/_message.json.jbuilder`` (REST lists and the create answer):
    ``echo_id`` only on the object that was just created, as it is never stored."""
    out = {"id": row["id"], "content": row["content"], "inbox_id": row["inbox_id"]}
    if echo_id is not None:
        out["echo_id"] = echo_id
    out |= {"conversation_id": row["conversation_id"], "message_type": row["message_type"],
            "content_type": row["content_type"], "status": row["status"],
            "content_attributes": _j(row["content_attributes"]), "created_at": _i(row["created_at"]),
            "private": bool(row["private"]), "source_id": row["source_id"]}
    if sender is not None:
        out["sender"] = sender
    return out


def message_push(row: sqlite3.Row, sender: dict | None, conversation: dict,
                 echo_id: str | int | None = None) -> dict:
    """``Message#push_event_data``: the record's attributes, ``created_at`` as unix
    seconds, ``message_type`` as its integer, ``conversation_id`` the display id, a
    ``conversation`` digest, the sender, and ``echo_id`` when the creator passed one."""
    out = {"id": row["id"], "content": row["content"], "account_id": ACCOUNT_ID, "inbox_id": row["inbox_id"],
           "conversation_id": row["conversation_id"], "message_type": row["message_type"],
           "created_at": _i(row["created_at"]), "updated_at": rfc3339(row["updated_at"]),
           "private": bool(row["private"]), "status": row["status"], "source_id": row["source_id"],
           "content_type": row["content_type"], "content_attributes": _j(row["content_attributes"]),
           "sender_type": row["sender_type"], "sender_id": row["sender_id"], "external_source_ids": {},
           "additional_attributes": _j(row["additional_attributes"]), "processed_message_content": row["content"],
           "sentiment": {}, "conversation": conversation}
    if echo_id is not None:
        out["echo_id"] = echo_id
    if sender is not None:
        out["sender"] = sender
    return out
