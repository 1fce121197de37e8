"""Shared pieces for the service tests: a real store in a temp dir, a clock that only moves when told, a runner
that runs jobs inline and keeps delayed ones for the test to release, and small record builders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest.mock import Mock

import pytest
from pytest_mock import MockerFixture

from bot.domain.accounts import AccountRecord, AccountSettings
from bot.domain.orders import ItemState, OrderItem, OrderRecord
from bot.services.item_actions import ItemActions
from bot.services.permissions import Decision, Permissions
from bot.store import TinyDBStore
from bot.ui.notices import SlackNotices
from rakuten.models import Money
from tests import factories
from tests.i18n import ENGLISH

LOGIN = "boutique-test"
CHANNEL = "C0ORDERS"
SELLER = "U0SELLER"
ADMIN = "U0ADMIN"
START = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)


class Clock:
    """A datetime clock that moves only when told to."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class InlineRunner:
    """BackgroundRunner's interface: ``submit`` runs the job at once; ``submit_later`` keeps it for the test."""

    def __init__(self) -> None:
        self.later: list[tuple[float, Callable[[], None]]] = []
        self.submitted = 0

    def submit(self, job: Callable[[], None]) -> None:
        self.submitted += 1
        job()

    def submit_later(self, delay: float, job: Callable[[], None]) -> None:
        self.later.append((delay, job))

    def run_later(self) -> float:
        """Run the oldest delayed job; returns the delay it was scheduled with."""
        delay, job = self.later.pop(0)
        job()
        return delay


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[TinyDBStore]:
    with TinyDBStore(tmp_path / "data", clock=clock) as opened:
        yield opened


@pytest.fixture
def runner() -> InlineRunner:
    return InlineRunner()


@pytest.fixture
def permissions(mocker: MockerFixture) -> Mock:
    """Everyone may act on orders, unless a test says otherwise."""
    fake = mocker.create_autospec(Permissions, instance=True)
    fake.order_decision.return_value = Decision(True)
    return fake


@pytest.fixture
def actions(store: TinyDBStore, runner: InlineRunner, clock: Clock, mocker: MockerFixture) -> ItemActions:
    """The real claim (the idempotency key); the Slack refresh and the Rakuten sending are spies."""
    real = ItemActions(
        store=store,
        clients=Mock(),
        publisher=Mock(),
        runner=runner,  # type: ignore[arg-type]
        web_client=Mock(),
        clock=clock,
        reports=SlackNotices(ENGLISH),
    )
    mocker.patch.object(real, "refresh_card")
    mocker.patch.object(real, "send")
    return real


def make_account(login: str = LOGIN, **settings: Any) -> AccountRecord:
    return factories.account(login, channel_id=CHANNEL, settings=AccountSettings(**settings))


def make_item(itemid: str, state: ItemState = ItemState.TO_SHIP, **fields: Any) -> OrderItem:
    return factories.item(itemid, state, **{"headline": f"Article {itemid}", "price": Money(Decimal("9.90")), **fields})


def make_order(
    purchaseid: str = "480000001",
    *items: OrderItem,
    shipping_type: str = "Suivi",
    with_address: bool = True,
    login: str = LOGIN,
) -> OrderRecord:
    return factories.order(
        *items or (make_item("9001"),),
        account=login,
        purchaseid=purchaseid,
        purchase_date=START - timedelta(hours=3),
        shipping_type=shipping_type,
        ship_to=factories.address() if with_address else None,
        total=None,
        first_seen_at=START,
        updated_at=None,
    )
