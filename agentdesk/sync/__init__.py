"""Keeping the local cache in step with the shop's messaging API (Textual-free).

``client`` speaks HTTP, ``wire`` checks and converts payloads, ``apply`` upserts them
into the cache idempotently, ``engine`` runs initial sync, the event feed and the
outbox.
"""
