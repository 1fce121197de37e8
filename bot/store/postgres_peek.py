"""The accounts of a PostgreSQL store, read the way ``rakuten-bot check`` may: without writing anything.

Opening ``PostgresStore`` applies migrations, which is a write; this reads the accounts table in a read-only
transaction instead, and says so when the tables do not exist yet (``run`` creates them).
"""

from __future__ import annotations

import psycopg
from psycopg import errors as pg_errors

from bot.domain.accounts import AccountRecord
from bot.store.base import StoreError
from bot.store.documents import account_from_doc
from bot.store.postgres_schema import with_connect_timeout


def peek_accounts(database_url: str) -> list[AccountRecord] | None:
    """The stored accounts, or None when the database holds no store yet; StoreError when it cannot be read."""
    try:
        with psycopg.connect(with_connect_timeout(database_url)) as conn:
            conn.read_only = True
            rows = conn.execute("SELECT doc FROM accounts ORDER BY login").fetchall()
    except pg_errors.UndefinedTable:
        return None
    except psycopg.Error as error:
        text = str(error).strip()
        raise StoreError(text.splitlines()[0] if text else type(error).__name__) from None
    return [account_from_doc(row[0]) for row in rows]
