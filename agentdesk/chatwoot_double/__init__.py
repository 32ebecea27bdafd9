"""A Chatwoot test double: Chatwoot's Application API v1 (``api_access_token`` auth, one
account, id 1) and its ActionCable socket, over its own SQLite file, with strict
parameter checks, fault injection, a demo seed and a customer simulator. It is what an
agentdesk Chatwoot backend is developed and tested against; it is not Chatwoot.
``agentdesk chatwoot-double serve|tokens|say`` drive it (see README, "Syncing with a shop").

Written from Chatwoot's published API and code (MIT licensed), read in the stored index
of public repositories under ``chatwoot/chatwoot`` (the index keeps one version per
file; the commit of each is given). Where that version was older than the behaviour the
brief names, a close fork's current file was read instead and is named:

- ``app/finders/conversation_finder.rb`` @92bafc94 (old: no sort_by/updated_within), and
  the current shape in fazer-ai/chatwoot @126ec261 (SORT_OPTIONS, ``updated_within``
  unpaged, ``CONVERSATION_RESULTS_PER_PAGE`` 25, counts, ``perform_meta_only``)
- ``app/finders/message_finder.rb`` @12a873c3 (20 before / 100 after / 1000 between)
- ``app/controllers/api/v1/accounts/conversations_controller.rb`` @004622e6 (index,
  meta, show, create, toggle_status, toggle_priority, update_last_seen, unread)
- ``app/controllers/api/v1/accounts/conversations/messages_controller.rb`` @021d33fc,
  ``app/builders/messages/message_builder.rb`` @0078c36a (``echo_id`` passed to the
  model, whose ``attr_accessor :echo_id`` is not a column: app/models/message.rb, the
  version with ``data[:echo_id] = echo_id if echo_id.present?`` in push_event_data)
- ``.../conversations/assignments_controller.rb`` @01d62c9c, ``.../labels_controller.rb``
  @49119a62 with ``app/controllers/concerns/label_concern.rb`` @0b66f064 (POST replaces;
  unknown titles dropped), ``.../conversations/base_controller.rb`` @027e0e89
- ``app/builders/conversation_builder.rb`` @00adae0e
- ``.../contacts_controller.rb`` @01a9b2c1 (15 a page, search, sort), ``.../contacts/
  notes_controller.rb`` @101d65b9, ``.../contacts/conversations_controller.rb`` @0523949a
  (latest 20), ``.../canned_responses_controller.rb`` @00be7cdb, ``.../team_members_
  controller.rb`` @05f8f6f3, ``app/controllers/api/v1/profiles_controller.rb`` @05d6e7ea,
  ``app/controllers/api/base_controller.rb`` @0db011b4 (``api_access_token`` header)
- ``app/channels/room_channel.rb`` @04f12feb, ``app/listeners/action_cable_listener.rb``
  @da8add17 (event names, who receives them; ``conversation.updated`` from a later
  version), ``app/models/conversation.rb`` @002086a4 (statuses, priorities, toggle,
  ``list_of_keys`` that dispatch conversation.updated, waiting_since),
  ``app/models/concerns/push_data_helper.rb`` @6ee92261,
  ``app/presenters/conversations/event_data_presenter.rb`` @01ff5794, ``app/models/user.rb``
  @01997e5c (push_event_data)
- views: ``api/v1/conversations/partials/_conversation.json.jbuilder`` @0288fc44,
  ``api/v1/accounts/conversations/index.json.jbuilder`` @0f16ff9f, ``.../messages/
  index.json.jbuilder`` (current meta: contact, assignee, last-seen times),
  ``api/v1/models/_message.json.jbuilder`` @15a9c5a7, ``_agent`` @05a25996, ``_contact``
  @01987176, ``_user`` @087f74bb, ``_team`` @06fe31d3, ``_note`` @4e8c645c,
  ``api/v1/accounts/contacts/index.json.jbuilder`` @00be81c4,
  ``api/v1/accounts/conversations/toggle_status.json.jbuilder`` @3215438b
- swagger: ``swagger/paths/application/conversation/{index,meta,toggle_status,
  assignments}.yml``, ``.../messages/create.yml``, ``swagger/definitions/resource/
  {conversation,message,contact,agent,canned_response,contact_note}.yml``

Deliberately not implemented: attachments, contact-side socket subscriptions and
Chatwoot's public client API, agent bots as assignees, custom filters
(``/conversations/filter``), webhooks, reports, mentions/participants
(``conversation_type`` other than ``unattended``), several accounts.
"""
