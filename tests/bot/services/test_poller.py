"""Poller, one account at a time: fetch, reconcile, store, publish; and the channel told about quota and outages.

The store is the real embedded one on tmp_path and the card publisher is the real one; Rakuten and Slack are
fakes that record what they are asked.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import Tuning
from bot.crypto import TokenDecryptError
from bot.domain.accounts import AccountRecord, FailureKind, PollFailure, PollHealth
from bot.domain.orders import ItemState, OrderRecord
from bot.services.card_publisher import CardPublisher
from bot.services.poller import Poller
from bot.slack.poster import PostedMessage, SlackWriteError
from bot.store import StoreError, TinyDBStore
from bot.ui.notices import SlackNotices
from rakuten.errors import AuthenticationError, ErrorDetails, QuotaExceededError, TransportError
from rakuten.models import Address, AddressKind, BillingInformation, Item, Sale, ShippingInformation
from tests.i18n import ENGLISH

LOGIN = "boutique"
CHANNEL = "C0ORDERS"
START = datetime(2025, 6, 30, 23, 30, tzinfo=UTC)  # already 1 July in Paris
NEW_SALES = "getnewsales"
CURRENT_SALES = "getcurrentsales"
BILLING = "getbillinginformation"
SHIPPING = "getshippinginformation"
HOME = Address(kind=AddressKind.DELIVERY, firstname="Camille", lastname="Durand", address1="1 rue", city="Lyon")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def sale(purchaseid: str, status: str = "REQUESTED", *, shipping_type: str = "Suivi") -> Sale:
    return Sale(
        purchaseid=purchaseid,
        purchase_date=START - timedelta(hours=1),
        shipping_type=shipping_type,
        items=(Item(itemid=f"{purchaseid}-1", headline="Article", status=status),),
        delivery_address=HOME,
    )


class FakeRakuten:
    """What getnewsales / getcurrentsales answer, or raise; every call recorded."""

    def __init__(self) -> None:
        self.new_sales: list[Sale] = []
        self.current_sales: list[Sale] = []
        self.errors: dict[str, Exception] = {}
        self.calls: list[tuple[str, date | None]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def get_new_sales(self) -> list[Sale]:
        self.calls.append((NEW_SALES, None))
        self.entered.set()
        self.release.wait(10)
        if NEW_SALES in self.errors:
            raise self.errors[NEW_SALES]
        return list(self.new_sales)

    def get_current_sales(self, since: date) -> list[Sale]:
        self.calls.append((CURRENT_SALES, since))
        if CURRENT_SALES in self.errors:
            raise self.errors[CURRENT_SALES]
        return list(self.current_sales)

    def get_billing_information(self, purchaseid: str) -> BillingInformation:
        """No amounts: the card keeps the items' sum (the details step is tested end to end)."""
        self.calls.append((BILLING, None))
        return BillingInformation(purchaseid)

    def get_shipping_information(self, purchaseid: str) -> ShippingInformation:
        self.calls.append((SHIPPING, None))
        return ShippingInformation(purchaseid)

    def count(self, action: str) -> int:
        return sum(called == action for called, _ in self.calls)


class FakeClients:
    def __init__(self) -> None:
        self.by_login: dict[str, FakeRakuten] = {}

    def client_for(self, account: AccountRecord) -> FakeRakuten:
        return self.by_login.setdefault(account.login, FakeRakuten())


@dataclass
class Written:
    method: str
    channel: str
    ts: str
    message: dict[str, Any]


class FakeHistory:
    def conversations_history(self, **_: Any) -> dict[str, Any]:
        return {"messages": [], "response_metadata": {"next_cursor": ""}}

    def conversations_replies(self, **_: Any) -> dict[str, Any]:
        return {"messages": [], "response_metadata": {"next_cursor": ""}}


class FakePoster:
    """The paced sender's interface; ``failing`` makes every write fail as Slack would refuse it."""

    def __init__(self) -> None:
        self.written: list[Written] = []
        self.failing: str | None = None
        self.client = FakeHistory()

    def post(self, channel: str, *, thread_ts: str | None = None, **message: Any) -> PostedMessage:
        if self.failing:
            raise SlackWriteError("chat.postMessage", self.failing)
        ts = f"{1000 + len(self.written)}.000100"
        self.written.append(Written("post", channel, ts, {"thread_ts": thread_ts, **message}))
        return PostedMessage(channel=channel, ts=ts)

    def update(self, channel: str, ts: str, **message: Any) -> None:
        if self.failing:
            raise SlackWriteError("chat.update", self.failing)
        self.written.append(Written("update", channel, ts, message))

    def cards(self) -> list[Written]:
        return [w for w in self.written if w.method == "post" and w.message.get("metadata")]

    def notices(self) -> list[str]:
        return [w.message["text"] for w in self.written if w.method == "post" and not w.message.get("metadata")]

    def notices_saying(self, words: str) -> list[str]:
        return [text for text in self.notices() if words in text]


@dataclass
class Rig:
    poller: Poller
    store: TinyDBStore
    clients: FakeClients
    poster: FakePoster
    clock: Clock
    new_orders_seen: list[list[str]]

    @property
    def rakuten(self) -> FakeRakuten:
        return self.clients.by_login.setdefault(LOGIN, FakeRakuten())

    def account(self, login: str = LOGIN) -> AccountRecord:
        account = self.store.get_account(login)
        assert account is not None
        return account

    def health(self, login: str = LOGIN) -> PollHealth:
        return self.poller.health.get(login)

    def order(self, purchaseid: str) -> OrderRecord:
        order = self.store.get_order(LOGIN, purchaseid)
        assert order is not None
        return order


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    store = TinyDBStore(tmp_path / "data")
    clock = Clock(START)
    poster = FakePoster()
    clients = FakeClients()
    seen: list[list[str]] = []
    for login in (LOGIN, "autre"):
        store.save_account(AccountRecord(login=login, token_ciphertext="gAAAA-fake", channel_id=CHANNEL))
    poller = Poller(
        store=store,
        clients=clients,  # type: ignore[arg-type]
        publisher=CardPublisher(store, poster, clock=clock, cards=SlackNotices(ENGLISH)),  # type: ignore[arg-type]
        poster=poster,  # type: ignore[arg-type]
        clock=clock,
        tuning=Tuning(failure_alert_threshold=3, lookback_days=30),
        notices=SlackNotices(ENGLISH),
        on_new_orders=lambda account, orders: seen.append([order.purchaseid for order in orders]),
    )
    yield Rig(poller, store, clients, poster, clock, seen)
    store.close()


def _store_error(code: int, text: str) -> StoreError:
    try:
        raise StoreError(f"Could not write to the store journal: [Errno {code}] {text}") from OSError(code, text)
    except StoreError as error:
        return error


def auth_error() -> AuthenticationError:
    return AuthenticationError(
        ErrorDetails(type="ApiError", code="InvalidUserConnection", message="Invalid login or token"),
        action=NEW_SALES,
    )


def quota_error(action: str, retry_at: datetime) -> QuotaExceededError:
    details = ErrorDetails(type="ApiError", code="InvalidUserRights", message="Quota exceeded.")
    return QuotaExceededError(details, action=action, retry_at=retry_at)


# ----------------------------------------------------------------------------------------- orders


def test_new_orders_are_stored_and_posted_once(rig: Rig) -> None:
    rig.rakuten.new_sales = [sale("1"), sale("2")]
    rig.rakuten.current_sales = [sale("3", "ACCEPTED")]

    first = rig.poller.poll(LOGIN)
    second = rig.poller.poll(LOGIN)

    assert first.ok
    assert (first.new_orders, first.cards_posted, first.changed_orders, first.cards_updated) == (3, 3, 0, 0)
    assert (second.new_orders, second.cards_posted, second.cards_updated) == (0, 0, 0)
    assert len(rig.poster.cards()) == 3
    for purchaseid in ("1", "2", "3"):
        order = rig.order(purchaseid)
        assert order.card is not None
        assert order.card.channel == CHANNEL
    assert rig.new_orders_seen == [["1", "2", "3"]]  # the hook hears of each order once


def test_current_sales_are_read_over_the_lookback_window_in_paris_dates(rig: Rig) -> None:
    rig.poller.poll(LOGIN)

    assert rig.rakuten.calls == [(NEW_SALES, None), (CURRENT_SALES, date(2025, 6, 1))]


def test_a_sale_in_both_listings_is_one_order(rig: Rig) -> None:
    rig.rakuten.new_sales = [sale("1")]
    rig.rakuten.current_sales = [sale("1", "ACCEPTED")]

    outcome = rig.poller.poll(LOGIN)

    assert outcome.new_orders == 1
    assert len(rig.poster.cards()) == 1
    assert rig.order("1").items[0].state is ItemState.TO_SHIP


def test_a_state_change_updates_the_card_in_place(rig: Rig) -> None:
    rig.rakuten.new_sales = [sale("1")]
    rig.poller.poll(LOGIN)
    card = rig.order("1").card
    assert card is not None

    rig.rakuten.new_sales = []
    rig.rakuten.current_sales = [sale("1", "ACCEPTED")]
    outcome = rig.poller.poll(LOGIN)

    assert (outcome.changed_orders, outcome.cards_updated, outcome.cards_posted) == (1, 1, 0)
    updates = [w for w in rig.poster.written if w.method == "update"]
    assert [(w.channel, w.ts) for w in updates] == [(card.channel, card.ts)]
    assert len(rig.poster.cards()) == 1


def test_an_order_closed_on_rakuten_still_gets_its_card_updated(rig: Rig) -> None:
    rig.rakuten.current_sales = [sale("1", "ACCEPTED")]
    rig.poller.poll(LOGIN)

    rig.rakuten.current_sales = [sale("1", "CANCELLED")]
    outcome = rig.poller.poll(LOGIN)

    assert outcome.cards_updated == 1
    assert not rig.order("1").is_open
    (update,) = [w for w in rig.poster.written if w.method == "update"]
    assert "Cancelled" in update.message["text"]


def test_an_empty_poll_is_a_success_that_says_nothing(rig: Rig) -> None:
    for _ in range(4):
        outcome = rig.poller.poll(LOGIN)
        assert outcome.ok
        assert outcome.error is None

    assert rig.poster.written == []
    health = rig.health()
    assert health.last_success_at == START
    assert health.consecutive_failures == 0


def test_an_unknown_account_is_skipped(rig: Rig) -> None:
    outcome = rig.poller.poll("disconnected")
    assert outcome.skipped
    assert rig.clients.by_login == {}


def test_never_two_polls_at_once_for_one_account(rig: Rig) -> None:
    rig.rakuten.release.clear()
    rig.rakuten.new_sales = [sale("1")]
    outcomes: list[Any] = []
    first = threading.Thread(target=lambda: outcomes.append(rig.poller.poll(LOGIN)))
    first.start()
    assert rig.rakuten.entered.wait(5)

    overlapping = rig.poller.poll(LOGIN)
    other_account = rig.poller.poll("autre")

    rig.rakuten.release.set()
    first.join(timeout=5)
    assert overlapping.skipped
    assert rig.rakuten.count(NEW_SALES) == 1
    assert not other_account.skipped  # accounts do not wait for each other
    assert outcomes[0].cards_posted == 1
    assert not rig.poller.poll(LOGIN).skipped  # and the account is free again afterwards


# ------------------------------------------------------------------------------------------ Slack failures


def test_a_slack_failure_fails_the_poll_and_the_cards_come_next_time(rig: Rig) -> None:
    rig.rakuten.new_sales = [sale("1")]
    rig.poster.failing = "channel_not_found"

    failed = rig.poller.poll(LOGIN)

    assert not failed.ok
    assert failed.failure == PollFailure(FailureKind.SLACK, "Slack chat.postMessage failed: channel_not_found")
    assert rig.order("1").card is None
    assert rig.health().consecutive_failures == 1

    rig.poster.failing = None
    recovered = rig.poller.poll(LOGIN)
    assert recovered.ok
    assert recovered.cards_posted == 1
    assert rig.order("1").card is not None


# ------------------------------------------------------------------------------------------- outages


def test_an_outage_is_told_once_after_the_threshold_and_its_end_once(rig: Rig) -> None:
    rig.rakuten.errors[NEW_SALES] = auth_error()

    for attempt in range(1, 6):
        rig.clock.advance(minutes=10)
        outcome = rig.poller.poll(LOGIN)
        assert not outcome.ok
        assert outcome.failure is not None
        assert outcome.failure.kind is FailureKind.RAKUTEN
        assert outcome.failure.detail.startswith("getnewsales:")
        assert len(rig.poster.notices()) == (1 if attempt >= 3 else 0)
    assert rig.rakuten.count(CURRENT_SALES) == 0  # the same cause would fail it too: not called
    health = rig.health()
    assert health.consecutive_failures == 5
    assert health.outage_alerted
    assert health.last_error is not None
    assert "Invalid login or token" in health.last_error.detail

    del rig.rakuten.errors[NEW_SALES]
    rig.clock.advance(minutes=10)
    assert rig.poller.poll(LOGIN).ok
    rig.clock.advance(minutes=10)
    assert rig.poller.poll(LOGIN).ok

    alerts, recovered = rig.poster.notices()
    assert "3 times" in alerts
    assert "reachable again" in recovered
    health = rig.health()
    assert health.consecutive_failures == 0
    assert not health.outage_alerted


def test_failures_below_the_threshold_stay_quiet(rig: Rig) -> None:
    rig.rakuten.errors[NEW_SALES] = TransportError("no answer from Rakuten within 30 s", action=NEW_SALES)
    rig.poller.poll(LOGIN)
    rig.poller.poll(LOGIN)
    del rig.rakuten.errors[NEW_SALES]
    rig.poller.poll(LOGIN)

    assert rig.poster.written == []
    assert rig.health().consecutive_failures == 0


def crash_listing(rig: Rig, error: BaseException) -> None:
    def listing() -> list[Sale]:
        raise error

    rig.rakuten.get_new_sales = listing  # type: ignore[method-assign]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (TokenDecryptError("key changed"), "cannot be decrypted with the bot's key"),
        (
            _store_error(errno.ENOSPC, "No space left on device"),
            "data directory is full, so new orders cannot be saved (No space left on device)",
        ),
        (_store_error(errno.EROFS, "Read-only file system"), "data directory is read-only"),
        (KeyError("purchaseid"), "an unexpected error in the bot (KeyError)"),
    ],
    ids=["token", "disk-full", "read-only", "bug"],
)
def test_any_exception_escaping_a_poll_is_a_failed_poll_told_once(
    rig: Rig, error: BaseException, reason: str
) -> None:
    crash_listing(rig, error)

    outcomes = [rig.poller.poll(LOGIN) for _ in range(4)]

    assert [outcome.ok for outcome in outcomes] == [False] * 4
    health = rig.health()
    assert health.consecutive_failures == 4
    assert health.outage_alerted
    (alert,) = rig.poster.notices()
    assert "3 times" in alert
    assert reason in str(rig.poster.written[0].message["blocks"])

    del rig.rakuten.get_new_sales
    assert rig.poller.poll(LOGIN).ok
    assert "reachable again" in rig.poster.notices()[-1]
    assert len(rig.poster.notices()) == 2


def test_an_unexpected_error_while_telling_the_channel_still_counts_every_failed_poll(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    def post_with_a_bug(channel: str, **message: Any) -> PostedMessage:
        raise RuntimeError("a bug while posting the alert")

    rig.rakuten.errors[NEW_SALES] = auth_error()
    rig.poster.post = post_with_a_bug  # type: ignore[method-assign]

    with caplog.at_level(logging.ERROR):
        outcomes = [rig.poller.poll(LOGIN) for _ in range(4)]

    assert [outcome.ok for outcome in outcomes] == [False] * 4
    health = rig.health()
    assert health.consecutive_failures == 4
    assert not health.outage_alerted  # tried again on the next failure
    assert sum("could not tell channel" in record.getMessage() for record in caplog.records) == 2


def test_poll_health_is_kept_in_memory_and_never_written_to_the_store(rig: Rig) -> None:
    stored_before = rig.store.get_account(LOGIN)
    rig.rakuten.errors[NEW_SALES] = auth_error()
    for _ in range(3):
        rig.poller.poll(LOGIN)

    assert rig.health().consecutive_failures == 3
    assert rig.store.get_account(LOGIN) == stored_before


def test_an_alert_slack_refused_is_tried_again_on_the_next_failure(rig: Rig) -> None:
    rig.rakuten.errors[NEW_SALES] = auth_error()
    rig.poster.failing = "ratelimited"
    for _ in range(3):
        rig.poller.poll(LOGIN)
    assert not rig.health().outage_alerted

    rig.poster.failing = None
    rig.poller.poll(LOGIN)
    rig.poller.poll(LOGIN)

    assert len(rig.poster.notices()) == 1
    assert rig.health().outage_alerted


# --------------------------------------------------------------------------------------------- quota


def test_a_spent_quota_is_told_once_and_the_action_waits_for_the_hour(rig: Rig) -> None:
    retry_at = datetime(2025, 7, 1, 0, 0, tzinfo=UTC)
    rig.rakuten.errors[CURRENT_SALES] = quota_error(CURRENT_SALES, retry_at)
    rig.rakuten.new_sales = [sale("1")]

    for _ in range(3):
        outcome = rig.poller.poll(LOGIN)
        assert outcome.ok
        rig.clock.advance(minutes=5)

    assert rig.rakuten.count(CURRENT_SALES) == 1
    assert rig.rakuten.count(NEW_SALES) == 3
    (told,) = rig.poster.notices()
    assert "quota" in told
    assert len(rig.poster.cards()) == 1  # the other action's orders still arrive
    health = rig.health()
    assert health.quota_blocked_until == {CURRENT_SALES: retry_at}
    assert health.consecutive_failures == 0

    # The hour turns: the action is tried again, and once it works the quota is forgotten.
    del rig.rakuten.errors[CURRENT_SALES]
    rig.clock.now = retry_at
    assert rig.poller.poll(LOGIN).ok
    assert rig.rakuten.count(CURRENT_SALES) == 2
    health = rig.health()
    assert health.quota_blocked_until == {}
    assert health.quota_notified == {}


def test_a_quota_spent_again_next_hour_is_told_again(rig: Rig) -> None:
    rig.rakuten.errors[CURRENT_SALES] = quota_error(CURRENT_SALES, datetime(2025, 7, 1, 0, 0, tzinfo=UTC))
    rig.poller.poll(LOGIN)
    rig.clock.now = datetime(2025, 7, 1, 0, 0, tzinfo=UTC)
    rig.rakuten.errors[CURRENT_SALES] = quota_error(CURRENT_SALES, datetime(2025, 7, 1, 1, 0, tzinfo=UTC))
    rig.poller.poll(LOGIN)

    # Still the same spell of quota trouble: one notice, and the new block is kept.
    assert len(rig.poster.notices_saying("quota")) == 1
    assert rig.health().quota_blocked_until[CURRENT_SALES] == datetime(2025, 7, 1, 1, 0, tzinfo=UTC)
    assert rig.rakuten.count(CURRENT_SALES) == 2


def test_a_poll_with_every_action_waiting_is_neither_success_nor_failure(rig: Rig) -> None:
    retry_at = START + timedelta(minutes=30)
    rig.rakuten.errors[NEW_SALES] = quota_error(NEW_SALES, retry_at)
    rig.rakuten.errors[CURRENT_SALES] = quota_error(CURRENT_SALES, retry_at)

    first = rig.poller.poll(LOGIN)
    rig.clock.advance(minutes=10)
    second = rig.poller.poll(LOGIN)

    assert first.ok
    assert second.ok
    assert len(rig.rakuten.calls) == 2  # the second poll called nothing
    health = rig.health()
    assert health.last_success_at is None
    assert health.consecutive_failures == 0
    assert len(rig.poster.notices_saying("quota")) == 2  # one per action
    assert health.last_attempt_at == START + timedelta(minutes=10)
