"""Pending actions outlive the process that started them: whoever takes one over sends each try once.

With the embedded store, an earlier run's actions are resumed at start, and a retry whose timer this process lost
is taken over by its own sweep. With PostgreSQL, item actions built on one schema with leases of their own are
replicas: one that died leaves its retries and its fresh claims to the others once they are due and left alone for
``takeover_after``; a live one is not second-guessed; two sweeping at the same moment send one try.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from unittest.mock import Mock

import pytest
from pytest_mock import MockerFixture
from slack_sdk import WebClient

from bot.domain.orders import ItemState, OrderRecord, PendingKind, Shipment
from bot.rakuten_clients import RakutenClients
from bot.services.card_publisher import CardPublisher
from bot.services.item_actions import ItemActions, RetrySchedule
from bot.store.base import Store
from bot.store.postgres_store import PostgresStore
from bot.store.postgres_work import PostgresLeases
from bot.store.work import LocalLeases
from bot.ui.notices import SlackNotices
from rakuten.client import RakutenClient
from rakuten.errors import ServerError
from rakuten.models import ActionResult
from tests.bot.services.conftest import LOGIN, SELLER, Clock, InlineRunner, make_account, make_item, make_order
from tests.i18n import ENGLISH

PURCHASE = "480000001"
TAKEOVER = 30.0
RETRY = 5.0
SHIPMENT = Shipment("Colissimo", "6A12345678901")
DOWN = ServerError("Rakuten is down", action="settrackingpackageinfos")
OK = ActionResult("settrackingpackageinfos", "9001", "OK")


@dataclass
class Process:
    """One bot process's item actions: its own Rakuten client (a spy), Slack client, runner and leases."""

    actions: ItemActions
    rakuten: Mock
    slack: Mock
    runner: InlineRunner
    leases: LocalLeases | PostgresLeases


def make_process(mocker: MockerFixture, store: Store, clock: Clock, leases: LocalLeases | PostgresLeases) -> Process:
    rakuten = mocker.create_autospec(RakutenClient, instance=True)
    rakuten.set_tracking.return_value = ActionResult("settrackingpackageinfos", "9001", "OK")
    clients = mocker.create_autospec(RakutenClients, instance=True)
    clients.client_for.return_value = rakuten
    slack = mocker.Mock(spec=WebClient)
    runner = InlineRunner()
    actions = ItemActions(
        store=store,
        clients=clients,
        publisher=mocker.create_autospec(CardPublisher, instance=True),
        runner=runner,  # type: ignore[arg-type]
        web_client=slack,
        clock=clock,
        reports=SlackNotices(ENGLISH),
        schedule=RetrySchedule((RETRY, RETRY)),
        leases=leases,
        takeover_after=TAKEOVER,
    )
    return Process(actions, rakuten, slack, runner, leases)


def ship_claim(process: Process, store: Store) -> None:
    """A Mark shipped submitted to this process: the item claimed (before the ack), nothing sent yet."""
    order = store.get_order(LOGIN, PURCHASE)
    assert order is not None
    assert process.actions.claim(order, PendingKind.SHIP, SELLER, shipment=SHIPMENT)


def item_of(store: Store) -> Callable[[], OrderRecord]:
    def read() -> OrderRecord:
        order = store.get_order(LOGIN, PURCHASE)
        assert order is not None
        return order

    return read


def told(process: Process) -> list[str]:
    return [kwargs["text"] for _, kwargs in process.slack.chat_postEphemeral.call_args_list]


# ------------------------------------------------------------------------------------------------ embedded


@pytest.fixture
def local(mocker: MockerFixture, store: Store, clock: Clock) -> Process:
    store.save_account(make_account())
    store.save_order(make_order(PURCHASE, make_item("9001")))
    return make_process(mocker, store, clock, LocalLeases(clock=clock))


def test_an_earlier_run_s_claim_is_resumed_at_once_and_its_requester_told(
    mocker: MockerFixture, store: Store, clock: Clock, local: Process
) -> None:
    ship_claim(local, store)  # then the process died before sending
    restarted = make_process(mocker, store, clock, LocalLeases(clock=clock))

    assert restarted.actions.resume_pending() == 1

    assert restarted.rakuten.set_tracking.call_count == 1
    assert item_of(store)().items[0].state is ItemState.SHIPPED
    (message,) = told(restarted)
    assert message.startswith(f"✅ Tracking sent to Rakuten for order {PURCHASE}")


def test_a_live_process_s_own_retry_is_left_to_its_timer_until_it_is_overdue(
    store: Store, clock: Clock, local: Process
) -> None:
    ship_claim(local, store)
    local.rakuten.set_tracking.side_effect = [DOWN, OK]
    local.actions.send(LOGIN, PURCHASE, ["9001"])  # first try fails: a retry in RETRY seconds, on a timer
    pending = item_of(store)().items[0].pending
    assert pending is not None
    assert pending.next_try_at == clock.now + timedelta(seconds=RETRY)

    clock.advance(seconds=RETRY + TAKEOVER - 1)
    assert local.actions.resume_pending() == 0  # the timer still owns it
    clock.advance(seconds=2)
    assert local.actions.resume_pending() == 1  # the timer was lost: the sweep takes it over

    assert local.rakuten.set_tracking.call_count == 2
    assert item_of(store)().items[0].state is ItemState.SHIPPED
    local.runner.run_later()  # the stale timer fires at last: nothing is sent twice
    assert local.rakuten.set_tracking.call_count == 2


# ------------------------------------------------------------------------------------------------ replicas


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[PostgresStore]:
    with PostgresStore(pg_url) as opened:
        opened.save_account(make_account())
        opened.save_order(make_order(PURCHASE, make_item("9001")))
        yield opened


@pytest.fixture
def two_replicas(
    mocker: MockerFixture, pg_url: str, pg_store: PostgresStore, clock: Clock
) -> Iterator[tuple[Process, Process]]:
    made = [make_process(mocker, pg_store, clock, PostgresLeases(pg_url)) for _ in range(2)]
    yield made[0], made[1]
    for process in made:
        process.leases.close()


def test_a_fresh_claim_is_left_to_its_claimant_then_taken_over_once_abandoned(
    pg_store: PostgresStore, clock: Clock, two_replicas: tuple[Process, Process]
) -> None:
    first, second = two_replicas
    ship_claim(first, pg_store)  # acked by the first replica, which dies before sending

    clock.advance(seconds=TAKEOVER - 1)
    assert second.actions.resume_pending() == 0
    clock.advance(seconds=2)
    assert second.actions.resume_pending() == 1

    assert (first.rakuten.set_tracking.call_count, second.rakuten.set_tracking.call_count) == (0, 1)
    assert item_of(pg_store)().items[0].state is ItemState.SHIPPED
    (message,) = told(second)  # the requester heard nothing since the modal closed: told how it ended
    assert message.startswith(f"✅ Tracking sent to Rakuten for order {PURCHASE}")


def test_a_retry_whose_replica_died_is_sent_once_by_another(
    pg_store: PostgresStore, clock: Clock, two_replicas: tuple[Process, Process]
) -> None:
    first, second = two_replicas
    ship_claim(first, pg_store)
    first.rakuten.set_tracking.side_effect = DOWN
    first.actions.send(LOGIN, PURCHASE, ["9001"])  # fails; its retry timer dies with the first replica
    assert first.runner.later  # (never run)

    clock.advance(seconds=RETRY + TAKEOVER + 1)
    assert second.actions.resume_pending() == 1
    assert second.actions.resume_pending() == 0  # done: nothing left to take over

    assert (first.rakuten.set_tracking.call_count, second.rakuten.set_tracking.call_count) == (1, 1)
    item = item_of(pg_store)().items[0]
    assert (item.state, item.pending) == (ItemState.SHIPPED, None)
    assert [entry.outcome for entry in pg_store.list_audit(purchaseid=PURCHASE) if entry.action == "ship"] == ["ok"]


def test_two_replicas_taking_over_at_the_same_moment_send_one_try(
    pg_store: PostgresStore, clock: Clock, two_replicas: tuple[Process, Process]
) -> None:
    first, second = two_replicas
    ship_claim(first, pg_store)
    clock.advance(seconds=TAKEOVER + 1)  # abandoned by a third replica that died: both survivors may take it
    in_flight, release = threading.Event(), threading.Event()

    def slow_rakuten(*_args: object, **_kwargs: object) -> ActionResult:
        in_flight.set()
        assert release.wait(10)
        return ActionResult("settrackingpackageinfos", "9001", "OK")

    first.rakuten.set_tracking.side_effect = slow_rakuten
    sweeping = threading.Thread(target=first.actions.resume_pending)
    sweeping.start()
    assert in_flight.wait(10)

    clock.advance(seconds=TAKEOVER + 1)  # a try that outlasts the take-over delay: only its hold keeps it alone
    second.actions.resume_pending()  # while the first one's try is out: the item is held
    release.set()
    sweeping.join(10)
    second.actions.resume_pending()  # and after it: nothing is pending any more

    assert (first.rakuten.set_tracking.call_count, second.rakuten.set_tracking.call_count) == (1, 0)
    assert item_of(pg_store)().items[0].state is ItemState.SHIPPED


def test_a_live_replica_s_retry_is_not_second_guessed(
    pg_store: PostgresStore, clock: Clock, two_replicas: tuple[Process, Process]
) -> None:
    first, second = two_replicas
    ship_claim(first, pg_store)
    first.rakuten.set_tracking.side_effect = [DOWN, OK]
    first.actions.send(LOGIN, PURCHASE, ["9001"])

    clock.advance(seconds=RETRY)
    assert second.actions.resume_pending() == 0  # due, but its owner's timer fires now
    first.runner.run_later()

    assert (first.rakuten.set_tracking.call_count, second.rakuten.set_tracking.call_count) == (2, 0)
    assert item_of(pg_store)().items[0].state is ItemState.SHIPPED
    assert told(second) == []
