"""Alembic migrations of the PostgreSQL store's schema, shipped inside the package so that an installed bot
carries them. ``bot.store.postgres_schema.upgrade_schema`` applies them when the store opens."""
