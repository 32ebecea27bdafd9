"""--reset-cache never loses an unsent write, and never sends one twice.

What the agent wrote and the shop has not acknowledged is saved to a file before the
cache goes, put back into the new one with the same ids, and delivered once – also
the one write that did reach the shop before the reset (its answer was lost): the
shop recognises its Idempotency-Key. ``agentdesk outbox list/export/import`` show,
save and put back the same thing by hand.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
from pathlib import Path

import pytest

from agentdesk.store import Store, followups, notes, outbox, unsent, writes
from agentdesk.store.reset import reset
from agentdesk.store.schema import SCHEMA_VERSION
from agentdesk.sync.client import ShopClient
from cli_helpers import run_agentdesk, user_env
from conftest import ANCHOR
from shop_helpers import A01, loopback_server

T0 = ANCHOR


def queue_everything(store: Store) -> dict[str, str]:
    """One unsent write of each shape a screen shows, a refused one, and a draft."""
    ids = {
        "reply": store.write(outbox.send_message, "cv-1", "亲，已为您登记补发～", T0, agent_id="a01"),
        "note": store.write(outbox.send_message, "cv-1", "内部：客户很着急", T0 + 1, agent_id="a01", kind="note"),
        "refused": store.write(outbox.send_message, "cv-2", "亲，退款已处理", T0 + 2, agent_id="a01"),
        "patch": store.write(outbox.enqueue, "patch", {"status": "resolved", "version": 3}, T0 + 3,
                             conversation_id="cv-2"),
    }
    store.write(outbox.fail, ids["refused"], "409 not_refundable: 已退款")
    ids["customer_note"] = store.write(notes.add, "c1", "喜欢蓝色", T0 + 4, agent_id="a01")
    store.write(followups.schedule, "c1", T0 + 86400, "回访：尺码是否合适", T0 + 5, agent_id="a01")
    store.write(writes.save_draft, "cv-3", "亲，还在吗？我这边", T0 + 6)
    return ids


def unsent_rows(store: Store) -> list[tuple]:
    return store.read(lambda c: c.execute(
        "SELECT id, kind, conversation_id, payload, state FROM outbox ORDER BY created_at").fetchall())


def shown_rows(store: Store) -> list[list[tuple]]:
    """What the screens show of the unsent writes: thread, customer notes, follow-ups."""
    return store.read(lambda c: [
        c.execute("SELECT conversation_id, sender, body, client_id, state, agent_id FROM messages ORDER BY at").fetchall(),
        c.execute("SELECT customer_id, body, client_id, server_id FROM customer_notes").fetchall(),
        c.execute("SELECT customer_id, note, due_at, client_id, server_id, status FROM followups").fetchall(),
    ])


def test_saved_writes_go_back_with_their_ids_and_what_shows_them(tmp_path):
    old = Store(tmp_path / "old.sqlite")
    queue_everything(old)
    before_outbox, before_shown = unsent_rows(old), shown_rows(old)
    old.close()

    found = unsent.read(tmp_path / "old.sqlite")
    assert len(found.outbox) == 6 and len(found.drafts) == 1
    saved = unsent.save(found, tmp_path / "old.sqlite")
    assert saved.parent.name == "unsent" and saved.name.startswith("unsent-old-")
    assert "\\u4eb2" in saved.read_text(encoding="ascii")  # escaped: the file is plain ASCII

    new = Store(tmp_path / "new.sqlite")
    result = new.write(unsent.put_back, unsent.load(saved), T0 + 60)
    assert (result.added, result.drafts, result.problems) == (6, 1, [])
    assert unsent_rows(new) == before_outbox  # same ids, kinds, payloads, states
    assert shown_rows(new) == before_shown  # pending reply and note, the failed one, the note, the follow-up
    assert new.read(writes.get_draft, "cv-3") == "亲，还在吗？我这边"
    assert new.read(outbox.due, T0 + 60)[0].id == before_outbox[0][0]  # due now, oldest first

    again = new.write(unsent.put_back, unsent.load(saved), T0 + 61)
    assert (again.added, again.queued, again.drafts) == (0, 6, 0)  # nothing doubled
    assert shown_rows(new) == before_shown
    new.close()


def test_a_cache_that_does_not_read_is_not_reset_without_force(tmp_path):
    cache = tmp_path / "cache.sqlite"
    garbage = random.Random(5).randbytes(8192)
    cache.write_bytes(garbage)
    with pytest.raises(Exception, match="will not delete it.*--reset-cache --force"):
        reset(cache)
    assert cache.read_bytes() == garbage
    moved = reset(cache, force=True).moved_to
    assert moved is not None and moved.read_bytes() == garbage and not cache.exists()


def test_put_back_names_each_row_it_cannot_take_and_takes_the_rest(tmp_path):
    found = unsent.Unsent(outbox=[
        {"id": "k1", "kind": "reply", "conversation_id": "cv-1", "payload": {"body": "好的", "kind": "reply"},
         "created_at": T0},
        {"id": "k2", "kind": "teleport", "payload": {}, "created_at": T0},
        {"id": "k3", "kind": "order_refund", "payload": {"amount": 3}, "created_at": T0},
        {"id": "k4", "kind": "reply", "conversation_id": "cv-1", "payload": "{broken", "created_at": T0},
        "not even an object",
    ], drafts=[{"conversation_id": 3}])
    store = Store(tmp_path / "c.sqlite")
    result = store.write(unsent.put_back, found, T0)
    assert result.added == 1
    assert result.problems == [
        "outbox[1]: kind 'teleport' is not one this agentdesk sends (a newer agentdesk's?)",
        "outbox[2]: payload needs order_id",
        "outbox[3]: payload is not a JSON object (the cache held it damaged)",
        "outbox[4]: not an object",
        "drafts[0]: needs a conversation_id and a body (strings)",
    ]
    store.close()


# -- through the command, against a real shop over loopback --------------------------------------------


@pytest.fixture
def served(tmp_path):
    with loopback_server(tmp_path / "shop.sqlite", anchor=ANCHOR) as (url, state):
        home = tmp_path / "home"
        home.mkdir()
        cache = tmp_path / "cache.sqlite"
        config = tmp_path / "config.toml"
        config.write_text(f'[shop]\nurl = "{url}"\ntoken = "{A01}"\n[cache]\npath = "{cache}"\n', encoding="utf-8")
        yield url, state, home, cache, config


def agentdesk(served, *args):
    _url, _state, home, cache, config = served
    return run_agentdesk(["--config", str(config), *args], cwd=cache.parent, env=user_env(home), timeout=120)


def shop_messages(state, client_id: str) -> list[str]:
    with state.lock:
        return [r[0] for r in state.conn.execute("SELECT body FROM messages WHERE client_id = ?", [client_id])]


def test_reset_cache_delivers_every_unsent_reply_once(served):
    url, state, home, cache, _config = served
    done = agentdesk(served, "sync", "--once")
    assert done.returncode == 0, done.stderr
    store = Store(cache)
    mine = store.read(lambda c: [r[0] for r in c.execute(
        "SELECT id FROM conversations WHERE assignee_id = 'a01' AND status = 'open' ORDER BY id LIMIT 2")])
    lost_answer = store.write(outbox.send_message, mine[0], "亲，已经给您安排顺丰了", T0, agent_id="a01")
    never_sent = store.write(outbox.send_message, mine[1], "亲，这边帮您备注了尽快发货", T0 + 1, agent_id="a01")
    store.write(writes.save_draft, mine[1], "还想说的话", T0 + 2)
    store.close()

    async def reached_the_shop() -> None:  # sent, but the answer never came back
        client = ShopClient(url, A01)
        try:
            await client.write("POST", f"/v1/conversations/{mine[0]}/messages",
                               {"body": "亲，已经给您安排顺丰了", "kind": "reply"}, lost_answer)
        finally:
            await client.aclose()

    asyncio.run(reached_the_shop())

    done = agentdesk(served, "--reset-cache", "sync", "--once")

    assert done.returncode == 0, done.stderr
    assert "saved the 2 unsent write(s) and 1 draft(s)" in done.stderr
    assert "put back 2 unsent write(s) and 1 draft(s) into the new cache" in done.stderr
    assert shop_messages(state, lost_answer) == ["亲，已经给您安排顺丰了"]  # once, not twice
    assert shop_messages(state, never_sent) == ["亲，这边帮您备注了尽快发货"]
    store = Store(cache)
    assert store.read(outbox.pending_count) == 0
    states = store.read(lambda c: c.execute(
        "SELECT state FROM messages WHERE client_id IN (?, ?)", [lost_answer, never_sent]).fetchall())
    assert states == [("sent",), ("sent",)]
    assert store.read(writes.get_draft, mine[1]) == "还想说的话"
    store.close()

    (saved,) = (home / ".local" / "share" / "agentdesk" / "unsent").glob("unsent-cache-*.json")
    assert str(saved) in done.stderr
    again = agentdesk(served, "outbox", "import", str(saved))  # by hand, once more: nothing is resent
    assert again.returncode == 0, again.stderr
    assert "put back 0 unsent write(s)" in again.stdout and "2 already delivered" in again.stdout
    assert shop_messages(state, lost_answer) == ["亲，已经给您安排顺丰了"]


def test_outbox_list_and_export_read_a_cache_too_new_to_open(served):
    _url, _state, home, cache, _config = served
    store = Store(cache)
    client_id = store.write(outbox.send_message, "cv-x", "亲，稍等\u202e", T0, agent_id="a01")
    store.close()
    conn = sqlite3.connect(cache)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()

    opened = agentdesk(served, "sync", "--once")
    assert opened.returncode == 2 and "holds 1 unsent write(s)" in opened.stderr
    listed = agentdesk(served, "outbox", "list")
    assert listed.returncode == 0, listed.stderr
    assert "pending" in listed.stdout and "cv-x" in listed.stdout and "亲，稍等" in listed.stdout
    assert "\u202e" not in listed.stdout  # shown, never obeyed
    exported = agentdesk(served, "outbox", "export", "-o", str(cache.parent / "mine.json"))
    assert exported.returncode == 0, exported.stderr
    data = json.loads((cache.parent / "mine.json").read_text(encoding="ascii"))
    assert [r["id"] for r in data["outbox"]] == [client_id] and data["schema"] == SCHEMA_VERSION + 1


def test_outbox_import_of_a_bad_file_says_what_and_where(served):
    _url, _state, _home, cache, _config = served
    bad = cache.parent / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    done = agentdesk(served, "outbox", "import", str(bad))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert str(bad) in done.stderr and "not valid JSON" in done.stderr
    bad.write_text(json.dumps({"format": unsent.FORMAT, "version": 1, "outbox": [
        {"id": "k", "kind": "teleport", "payload": {}, "created_at": 1}], "drafts": []}), encoding="utf-8")
    done = agentdesk(served, "outbox", "import", str(bad))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"agentdesk: {bad}: outbox[0]: kind 'teleport' is not one this agentdesk sends (a newer agentdesk's?)"]


def test_reset_of_a_foreign_database_refuses_and_force_moves_it_aside(served):
    _url, _state, _home, cache, _config = served
    conn = sqlite3.connect(cache)
    conn.execute("CREATE TABLE users (email TEXT)")
    conn.execute("INSERT INTO users VALUES ('boss@example.com')")
    conn.commit()
    conn.close()
    before = cache.read_bytes()
    done = agentdesk(served, "--reset-cache", "sync", "--once")
    assert done.returncode == 2 and "will not delete it" in done.stderr and "--force" in done.stderr
    assert cache.read_bytes() == before
    done = agentdesk(served, "--reset-cache", "--force", "sync", "--once")
    assert done.returncode == 0, done.stderr
    (aside,) = cache.parent.glob("cache.sqlite.unreadable-*")
    assert aside.read_bytes() == before and "moved the unreadable cache aside" in done.stderr
    assert Path(cache).exists()
