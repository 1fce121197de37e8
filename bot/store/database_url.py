"""``DATABASE_URL`` as libpq reads it, checked without connecting, and described without its password."""

from __future__ import annotations

import re

import psycopg
from psycopg.conninfo import conninfo_to_dict

EXAMPLE = "postgresql://user@host:5432/database"
# SQLAlchemy-style URLs name a driver ("postgresql+psycopg://"); libpq knows only the plain scheme.
_DRIVER_SUFFIX = re.compile(r"^(postgres(?:ql)?)\+\w+://", re.IGNORECASE)


def libpq_conninfo(database_url: str) -> str:
    """The URL or key=value string as libpq takes it."""
    return _DRIVER_SUFFIX.sub(r"\1://", database_url.strip(), count=1)


def database_url_problem(database_url: str) -> str | None:
    """One line when ``DATABASE_URL`` cannot be a PostgreSQL connection string, else None.

    libpq's own complaint is left out: it quotes the string, which may hold a password.
    """
    try:
        conninfo_to_dict(libpq_conninfo(database_url))
    except psycopg.ProgrammingError:
        return (
            f"DATABASE_URL must be a PostgreSQL connection string such as {EXAMPLE}, "
            "or unset for the embedded store."
        )
    return None


def describe_database(conninfo: str) -> str:
    """Where the store is, for messages: host, port and database, never the password."""
    try:
        params = conninfo_to_dict(libpq_conninfo(conninfo))
    except psycopg.ProgrammingError:
        return "PostgreSQL (DATABASE_URL)"
    host = params.get("host") or params.get("hostaddr") or "local socket"
    port = f":{params['port']}" if params.get("port") else ""
    database = params.get("dbname") or params.get("user") or ""
    return f"PostgreSQL at {host}{port}/{database}"
