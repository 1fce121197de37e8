"""Alembic's entry point, run on the connection that ``bot.store.postgres_schema.upgrade_schema`` opened and
locked (two bots starting at once never migrate the same schema twice).

A new revision: ``python -c "from bot.store.postgres_schema import new_revision; new_revision('what changes')"``
writes ``versions/NNNN_what_changes.py`` to fill in with ``op.…`` calls.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "the store's migrations run on the bot's own connection: open the store (rakuten-bot run, "
        "rakuten-bot migrate-store) rather than calling alembic on its own"
    )
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
