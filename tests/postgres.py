"""PostgreSQL for the tests: the server named by ``RAKUTEN_TEST_DATABASE_URL`` (the machines' own by default),
one fresh schema per test, dropped afterwards.

Where no server answers, the PostgreSQL tests are skipped with one line saying so; under CI (the ``CI`` variable
set) they fail instead, so that a run that never reached the database cannot pass for one that did.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from bot.store.postgres_schema import describe_database

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    return os.environ.get("RAKUTEN_TEST_DATABASE_URL") or DEFAULT_TEST_DATABASE_URL


@functools.cache
def _server_problem(url: str) -> str | None:
    """Why the server cannot be used (one line), or None; asked once per run."""
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return None


def require_server() -> str:
    """The server's URL; skips the test (fails it under CI) when the server cannot be reached."""
    url = server_url()
    problem = _server_problem(url)
    if problem is not None:
        where = describe_database(url)
        if os.environ.get("CI"):
            pytest.fail(f"CI requires {where} (RAKUTEN_TEST_DATABASE_URL): {problem}", pytrace=False)
        pytest.skip(f"no {where} to test against ({problem}); set RAKUTEN_TEST_DATABASE_URL to run these")
    return url


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A new empty schema; yields a connection string whose search path is that schema."""
    url = require_server()
    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(url, options=f"-csearch_path={name}")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))
