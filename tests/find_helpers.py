"""A cache as the release before Find left it: what the migration's backfill starts from."""

from __future__ import annotations

from pathlib import Path

from agentdesk.store.db import connect
from agentdesk.store.schema import APPLICATION_ID, MIGRATIONS

T0 = 1_790_000_000.0


#: The migrations of the release before Find (whatever number Find's migration gets).
BEFORE_FIND = next(n for n, script in enumerate(MIGRATIONS) if "CREATE TABLE search_docs" in script)


def old_cache(path: Path, messages: int) -> None:
    """A cache as the release before Find left it, with ``messages`` messages."""
    conn = connect(path)
    for number, script in enumerate(MIGRATIONS[:BEFORE_FIND], start=1):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA application_id = {APPLICATION_ID};\n"
                           f"PRAGMA user_version = {number};\nCOMMIT;")
    conn.execute("BEGIN")
    conn.execute("INSERT INTO customers (id, name, location) VALUES ('u1', '小鹿乱撞2018', '浙江 杭州')")
    conn.execute("INSERT INTO orders (id, customer_id, status, tracking_no) VALUES ('3901048273615590214', 'u1', "
                 "'已发货', 'YT7712345678')")
    conn.execute("INSERT INTO conversations (id, customer_id) VALUES ('c1', 'u1')")
    conn.executemany("INSERT INTO messages (conversation_id, sender, body, at) VALUES ('c1', 'customer', ?, ?)",
                     [(f"第{n}条 {'退款' if n % 10 == 0 else '你好'}", T0 + n) for n in range(messages)])
    conn.execute("COMMIT")
    conn.close()
