"""StatusService (``/rakuten status``, the Home tab): each account's polling health as the poller left it, in this
process (embedded store) or, with replicas, as the replica that polled it last left it in the database."""

from __future__ import annotations

from collections.abc import Iterator
from unittest.mock import Mock

import pytest

from bot.domain.accounts import FailureKind, PollFailure, PollHealth
from bot.services.poll_health import PollHealthBoard
from bot.services.scheduler import PollScheduler
from bot.services.status import StatusService
from bot.store import Store, TinyDBStore
from bot.store.postgres_store import PostgresStore
from bot.store.postgres_work import PostgresLeases
from tests.bot.services.conftest import LOGIN, make_account

HOUR = 3600.0
FAILING = PollHealth(consecutive_failures=4, last_error=PollFailure(FailureKind.RAKUTEN, "503"))


def status_of(store: Store, scheduler: PollScheduler, board: PollHealthBoard) -> PollHealth:
    service = StatusService(store=store, desk=Mock(), scheduler=scheduler, permissions=Mock(), health=board)
    (account,) = service.accounts()
    return account.health


def test_the_embedded_store_s_health_is_this_process_s(store: TinyDBStore) -> None:
    store.save_account(make_account())
    board = PollHealthBoard()
    board.put(LOGIN, FAILING)

    assert status_of(store, PollScheduler(lambda _: None, interval=HOUR), board) == FAILING


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[PostgresStore]:
    with PostgresStore(pg_url) as opened:
        opened.save_account(make_account())
        yield opened


def test_a_replica_shows_the_health_another_replica_left(pg_store: PostgresStore, pg_url: str) -> None:
    poller, other = PostgresLeases(pg_url), PostgresLeases(pg_url)
    try:
        poller.schedule(LOGIN, now=True)
        (lease,) = poller.claim_due(1, HOUR)
        poller.release(lease, HOUR, FAILING)  # polled, and failing, on another replica

        shown = status_of(pg_store, PollScheduler(lambda _: None, interval=HOUR, leases=other), PollHealthBoard())

        assert shown == FAILING
    finally:
        poller.close()
        other.close()
