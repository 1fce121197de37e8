"""Fixtures for the store-level tests: a PostgreSQL schema of the test's own (see ``tests/postgres.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres import fresh_schema


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A connection string to an empty schema of this test's own, dropped afterwards (skipped without a server,
    failed under CI)."""
    with fresh_schema() as url:
        yield url
