"""The PostgreSQL store's schema: Alembic migrations shipped in ``bot/store/migrations``, applied when the store
opens.

Applying them at open (rather than by a separate command) means a bot never runs against a schema older than its
code, and a deployment needs no extra step. Bots starting together take a transaction-level advisory lock first,
so one migrates and the others find the schema done. A database migrated by a newer version of the bot (a
revision this one does not know) is refused: running old code on it could lose what the new columns hold.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import sqlalchemy
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy.pool import NullPool

from bot.store.base import StoreError
from bot.store.database_url import database_url_problem, describe_database, libpq_conninfo

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
# Alembic narrates its internals at INFO, from the moment it is imported (plugins, context, DDL mode): it is
# quietened first, and imported in the functions below; the store logs the one line that matters.
logging.getLogger("alembic").setLevel(logging.WARNING)

MIGRATIONS = "bot.store:migrations"
# A server that does not answer (firewalled, down) fails the start in this time instead of hanging it.
CONNECT_TIMEOUT_SECONDS = 10
# pg_advisory_xact_lock key: any fixed 64-bit number that nothing else on the server uses.
_MIGRATION_LOCK = 0x72616B7574656E  # "rakuten"


def with_connect_timeout(conninfo: str) -> str:
    """``conninfo`` as libpq takes it, with a connection timeout unless it sets its own (libpq would wait forever).
    StoreError when it is no connection string at all."""
    conninfo = libpq_conninfo(conninfo)
    if problem := database_url_problem(conninfo):
        raise StoreError(problem)
    if "connect_timeout" in conninfo_to_dict(conninfo):
        return conninfo
    return make_conninfo(conninfo, connect_timeout=CONNECT_TIMEOUT_SECONDS)


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "bot/store/migrations/versions holds no revision"
    return head


def upgrade_schema(conninfo: str) -> None:
    """Bring the schema in the connection's search path up to the newest revision (a no-op when it is there).

    StoreError when the database is out of reach or was migrated by a newer bot.
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    try:
        # Connect once by hand first: an unreachable server then reads as such, not as a failed migration.
        psycopg.connect(conninfo).close()
    except psycopg.Error as error:
        raise StoreError(f"Cannot reach {describe_database(conninfo)}: {_first_line(error)}") from error
    engine = sqlalchemy.create_engine(
        "postgresql+psycopg://", creator=lambda: psycopg.connect(conninfo), poolclass=NullPool
    )
    try:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            config = alembic_config()
            script = ScriptDirectory.from_config(config)
            current = set(MigrationContext.configure(connection).get_current_heads())
            known = {revision.revision for revision in script.walk_revisions()}
            if unknown := current - known:
                raise StoreError(
                    f"The schema in {describe_database(conninfo)} is at revision {', '.join(sorted(unknown))}, which "
                    f"this rakuten-bot does not know (it knows up to {script.get_current_head()}): it was migrated by "
                    "a newer version. Run that version, or restore a backup made before it."
                )
            if current != set(script.get_heads()):
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                log.info(
                    "schema in %s migrated from %s to revision %s",
                    describe_database(conninfo),
                    ", ".join(sorted(current)) or "nothing",
                    script.get_current_head(),
                )
    except sqlalchemy.exc.SQLAlchemyError as error:
        raise StoreError(f"Cannot prepare the schema in {describe_database(conninfo)}: {_first_line(error)}") from error
    finally:
        engine.dispose()


def new_revision(message: str) -> Path:
    """Write an empty revision after the newest one (``versions/NNNN_message.py``), for a developer to fill in."""
    from alembic import command

    versions = Path(__file__).with_name("migrations") / "versions"
    number = f"{len(list(versions.glob('[0-9]*.py'))) + 1:04d}"
    script = command.revision(alembic_config(), message, rev_id=number)
    assert script is not None
    assert not isinstance(script, list)
    return Path(script.path)


def _first_line(error: BaseException) -> str:
    cause = error.__cause__ or getattr(error, "orig", None) or error
    return str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
