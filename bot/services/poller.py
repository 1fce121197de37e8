"""One poll of one Rakuten account: fetch, reconcile, store, post — and tell the channel when it can't.

Rakuten has no webhooks, so this is the heart of the bot. A poll reads new sales (awaiting acceptance) and
current sales over a lookback window (every page): current sales are the catch-up path for an order accepted
on the Rakuten site or missed while the bot was down. Failures never lose or duplicate an order: unposted
orders stay in the store and are posted by the next poll that can.

Health is explicit, so that "no orders" never looks like "broken": after a few failed polls in a row one
alert goes to the channel, and one "recovered" message when a poll works again; a spent hourly quota is
announced once and that action waits for the hour to turn. Any exception escaping a poll is a failed poll (a
store that cannot write, a token that no longer decrypts, a bug), not only Rakuten's and Slack's errors. Health
lives in memory (``PollHealthBoard``), never in the store, which may be the part that is failing.

Nothing is lost when the store cannot write: an order is only treated as known once stored, Rakuten lists
it again on the next poll, and its card is posted only after the intent to post it was stored.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.config import Tuning
from bot.domain.accounts import AccountRecord, FailureKind, PollFailure, PollHealth
from bot.domain.orders import OrderRecord, OrderState, PrepaidLabel
from bot.rakuten_clients import RakutenClients
from bot.services.account_locks import AccountLocks
from bot.services.card_publisher import CardPublisher, CardRecoveryError
from bot.services.notices import ChannelNotices, Postable
from bot.services.poll_failures import classify, is_foreseen
from bot.services.poll_health import PollHealthBoard
from bot.services.reconcile import Reconciliation, apply_sale, close_unlisted, merge_listings, reconcile
from bot.slack.access import SlackAccessGate
from bot.slack.poster import SlackPoster, SlackWriteError
from bot.store.base import Store
from rakuten.actions import Action
from rakuten.carriers import is_prepaid_shipping
from rakuten.errors import AuthenticationError, QuotaExceededError, RakutenError
from rakuten.models import PARIS, Money, Sale
from rakuten.models import PrepaidLabel as RakutenPrepaidLabel

logger = logging.getLogger(__name__)

DETAIL_CALLS_PER_POLL = 10
DETAIL_CHECKS = 3
SHIPPING_INFO = Action.GET_SHIPPING_INFORMATION.value
BILLING_INFO = Action.GET_BILLING_INFORMATION.value

# Called with the account and the orders first seen in this poll (e.g. auto-accept); must not raise.
NewOrdersHook = Callable[[AccountRecord, list[OrderRecord]], None]


@dataclass(frozen=True, slots=True)
class PollOutcome:
    login: str
    ok: bool
    skipped: bool = False
    new_orders: int = 0
    changed_orders: int = 0
    cards_posted: int = 0
    cards_updated: int = 0
    failure: PollFailure | None = None

    @property
    def error(self) -> str | None:
        """The failure in an operator's shorthand (``rakuten: …``), for logs."""
        return str(self.failure) if self.failure is not None else None


class Poller:
    def __init__(
        self,
        *,
        store: Store,
        clients: RakutenClients,
        publisher: CardPublisher,
        poster: SlackPoster,
        clock: Callable[[], datetime],
        tuning: Tuning,
        notices: ChannelNotices,
        on_new_orders: NewOrdersHook | None = None,
        health: PollHealthBoard | None = None,
        access: SlackAccessGate | None = None,
        locks: AccountLocks | None = None,
    ) -> None:
        self._store = store
        self._locks = locks or AccountLocks()
        self._access = access
        self._notices = notices
        self._clients = clients
        self._publisher = publisher
        self._poster = poster
        self._clock = clock
        self._tuning = tuning
        self._on_new_orders = on_new_orders
        self.health = health or PollHealthBoard()
        self._guard = threading.Lock()
        self._running: set[str] = set()

    def poll(self, login: str) -> PollOutcome:
        """Poll one account; a second call for the same account while one runs returns at once (skipped)."""
        with self._guard:
            if login in self._running:
                return PollOutcome(login, ok=True, skipped=True)
            self._running.add(login)
        try:
            with self._locks.lock(login):  # the after-sale desk posts cards too (orders older than the bot)
                outcome = self._poll(login)
        except Exception as error:  # whatever stops a poll is counted and told, not just logged
            return self._failed(login, error)
        finally:
            with self._guard:
                self._running.discard(login)
        _log_outcome(outcome)
        return outcome

    def _poll(self, login: str) -> PollOutcome:
        if self._access is not None and self._access.revocation is not None:
            return PollOutcome(login, ok=True, skipped=True)  # orders it could not post: Rakuten lists them later
        account = self._store.get_account(login)
        if account is None:
            return PollOutcome(login, ok=True, skipped=True)  # disconnected since the job was scheduled
        now = self._clock()
        health = self.health.get(login)
        fetched = self._fetch(account, health, now)
        result, open_orders = self._reconcile(login, fetched, now)
        detailed = self._fetch_details(account, health, open_orders.values(), fetched, now)
        if result.new_orders and self._on_new_orders is not None:
            self._on_new_orders(account, result.new_orders)
        posted, updated, slack_failure = self._update_cards(
            account, open_orders.values(), {order.purchaseid for order in result.changed_orders} | set(detailed)
        )
        failure = fetched.failure or slack_failure
        self._record_health(account, login, now, fetched, failure)
        return PollOutcome(
            login,
            ok=failure is None,
            new_orders=len(result.new_orders),
            changed_orders=len(result.changed_orders),
            cards_posted=posted,
            cards_updated=updated,
            failure=failure,
        )

    def _reconcile(self, login: str, fetched: _Fetched, now: datetime) -> tuple[Reconciliation, dict[str, OrderRecord]]:
        """Store what Rakuten's listings change; return the changes and the account's open orders (copies).

        Reconciliation works on copies, outside the store lock (a click must not wait for a poll over a
        thousand orders); then only what changed is stored, each change re-applied to the stored version
        under the lock, so a click that changed an order meanwhile (a pending shipment) is never overwritten.
        """
        sales = merge_listings(fetched.new_sales, fetched.current_sales)
        open_orders = {order.purchaseid: order for order in self._store.list_orders(login, open_only=True)}
        result = reconcile(
            login, sales.values(), lambda pid: open_orders.get(pid) or self._store.get_order(login, pid), now=now
        )
        unlisted: list[OrderRecord] = []
        if fetched.complete:
            touched = {order.purchaseid for order in result.touched}
            untouched = [order for pid, order in open_orders.items() if pid not in touched]
            unlisted = close_unlisted(untouched, set(sales), now=now)
            result.changed_orders.extend(order for order in unlisted if not order.is_open)
        with self._store.batch():
            for order in result.new_orders:
                if self._store.get_order(login, order.purchaseid) is None:
                    self._store.save_order(order)
            for order in result.changed_orders:
                if order.purchaseid in sales:
                    self._store.update_order(login, order.purchaseid, _apply(sales[order.purchaseid], now))
            for order in unlisted:
                self._store.update_order(login, order.purchaseid, _close_if_unlisted(set(sales), now))
        for order in result.new_orders:
            open_orders.setdefault(order.purchaseid, order)
        return result, open_orders

    def _update_cards(
        self, account: AccountRecord, open_orders: Iterable[OrderRecord], changed: set[str]
    ) -> tuple[int, int, PollFailure | None]:
        """Post the missing cards and refresh the changed ones: (posted, updated, Slack error or None)."""
        posted = updated = 0
        try:
            report = self._publisher.publish_missing(
                account, [order for order in open_orders if order.card is None and order.is_open]
            )
            posted, updated = report.posted, report.updated
            for purchaseid in changed:
                current = self._store.get_order(account.login, purchaseid)
                if current is not None and self._publisher.refresh(account, current):
                    updated += 1
        except (SlackWriteError, CardRecoveryError) as error:
            logger.warning("poll of %s: Slack: %s", account.login, error)
            return posted, updated, PollFailure(FailureKind.SLACK, str(error))
        return posted, updated, None

    def _failed(self, login: str, error: Exception) -> PollOutcome:
        failure = classify(error)
        logger.error("poll of %s failed: %s", login, failure, exc_info=None if is_foreseen(error) else error)
        try:
            account = self._store.get_account(login)
        except Exception:  # counted even when the store cannot be read
            logger.exception("poll of %s: the account could not be read to tell its channel", login)
            account = None
        self._record_health(account, login, self._clock(), _Fetched(), failure)
        return PollOutcome(login, ok=False, failure=failure)

    def _fetch(self, account: AccountRecord, health: PollHealth, now: datetime) -> _Fetched:
        fetched = _Fetched()
        client = self._clients.client_for(account)
        since = self._lookback_start(now)
        calls: list[tuple[Action, Callable[[], list[Sale]]]] = [
            (Action.GET_NEW_SALES, client.get_new_sales),
            (Action.GET_CURRENT_SALES, lambda: client.get_current_sales(since)),
        ]
        for action, call in calls:
            blocked_until = health.quota_blocked_until.get(action.value)
            if blocked_until is not None and blocked_until > now:
                continue
            try:
                sales = call()
            except QuotaExceededError as error:
                fetched.quota[action.value] = error.retry_at
                continue
            except RakutenError as error:
                fetched.failure = PollFailure(FailureKind.RAKUTEN, str(error))
                logger.warning("poll of %s: %s", account.login, fetched.failure)
                break  # the same cause (bad token, outage) would fail the next call too
            fetched.succeeded.add(action.value)
            (fetched.new_sales if action is Action.GET_NEW_SALES else fetched.current_sales).extend(sales)
        return fetched

    def _fetch_details(
        self,
        account: AccountRecord,
        health: PollHealth,
        orders: Iterable[OrderRecord],
        fetched: _Fetched,
        now: datetime,
    ) -> list[str]:
        """What the listings lack, for orders to ship: the prepaid label (So Colissimo, Chronopost), then the
        order total with shipping. Both answer only once a sale is accepted.

        At most DETAIL_CALLS_PER_POLL calls per poll, labels first (they are needed to ship), and each order is
        asked at most DETAIL_CHECKS times per detail: a first poll over hundreds of orders must not spend an
        hourly quota on details. Returns the purchaseids whose card shows something new (``orders`` are
        updated too).
        """
        if fetched.failure is not None:
            return []
        shippable = [o for o in orders if o.state in (OrderState.TO_SHIP, OrderState.PARTIALLY_SHIPPED)]
        wanted = [(SHIPPING_INFO, o) for o in shippable if _wants_label(o)]
        wanted += [(BILLING_INFO, o) for o in shippable if o.total is None and o.billing_checks < DETAIL_CHECKS]
        blocked = {
            action
            for action in (SHIPPING_INFO, BILLING_INFO)
            if (until := health.quota_blocked_until.get(action)) is not None and until > now
        }
        wanted = [(action, order) for action, order in wanted if action not in blocked][:DETAIL_CALLS_PER_POLL]
        if not wanted:
            return []
        client = self._clients.client_for(account)
        shown: list[str] = []
        for action, order in wanted:
            if action in blocked:
                continue
            try:
                if action == SHIPPING_INFO:
                    change = _label_found(client.get_shipping_information(order.purchaseid).prepaid_label)
                else:
                    change = _total_found(client.get_billing_information(order.purchaseid).total)
            except QuotaExceededError as error:
                fetched.quota[action] = error.retry_at
                blocked.add(action)
                continue
            except RakutenError as error:
                if error.retryable or isinstance(error, AuthenticationError):
                    logger.warning("details of order %s: %s", order.purchaseid, error)
                    return shown  # an outage or a bad token: the next poll says so, details wait
                logger.info("details of order %s: Rakuten refused %s (%s)", order.purchaseid, action, error)
                change = _not_found(action)
            else:
                fetched.succeeded.add(action)
            self._store.update_order(account.login, order.purchaseid, change)
            change(order)
            if order.prepaid_label is not None or order.total is not None:
                shown.append(order.purchaseid)
        return shown

    def _lookback_start(self, now: datetime) -> date:
        return (now.astimezone(PARIS) - timedelta(days=self._tuning.lookback_days)).date()

    def _record_health(
        self, account: AccountRecord | None, login: str, now: datetime, fetched: _Fetched, error: PollFailure | None
    ) -> None:
        """Update the account's health (in memory) and say in the channel what changed: outage, recovery, quota.

        ``account`` is None when it could not be read (the store failing): the health still counts the failure.
        """
        health = self.health.get(login)
        channel = account.channel_id if account is not None else None
        health.last_attempt_at = now
        for action in fetched.succeeded:
            health.quota_blocked_until.pop(action, None)
            health.quota_notified.pop(action, None)
        for action, retry_at in fetched.quota.items():
            health.quota_blocked_until[action] = retry_at
            if not health.quota_notified.get(action):
                sent = self._tell(channel, functools.partial(self._notices.quota, account, login, action, retry_at))
                health.quota_notified[action] = sent
        if error is None and not fetched.succeeded:
            pass  # every action is waiting for its quota: neither a success nor a failure
        elif error is None:
            if health.outage_alerted:
                down_since = health.last_success_at or health.last_error_at or now
                recovered = functools.partial(self._notices.recovered, account, login, down_since, now)
                health.outage_alerted = not self._tell(channel, recovered)
            health.last_success_at = now
            health.consecutive_failures = 0
        else:
            health.consecutive_failures += 1
            health.last_error = error
            health.last_error_at = now
            if health.consecutive_failures >= self._tuning.failure_alert_threshold and not health.outage_alerted:
                since = health.last_success_at or now
                outage = functools.partial(
                    self._notices.outage, account, login, error, since, health.consecutive_failures
                )
                health.outage_alerted = self._tell(channel, outage)
        self.health.put(login, health)

    def _tell(self, channel: str | None, message: Callable[[], Postable]) -> bool:
        """Post a notice to the order channel; False if it could not be (it is tried again next poll).

        Never raises: it runs while a failed poll is being counted, and the count must be kept whatever
        goes wrong in telling it.
        """
        if channel is None:
            return False
        try:
            self._poster.post(channel, **message().as_kwargs())
        except SlackWriteError as error:
            logger.warning("could not tell channel %s: %s", channel, error)
            return False
        except Exception:
            logger.exception("could not tell channel %s", channel)
            return False
        return True


def _log_outcome(outcome: PollOutcome) -> None:
    """One INFO line per poll that found or did something; an idle poll (most of them) only at DEBUG."""
    if outcome.new_orders or outcome.changed_orders or outcome.cards_posted or outcome.cards_updated:
        logger.info(
            "poll of %s: orders new %d, changed %d; cards posted %d, updated %d",
            outcome.login,
            outcome.new_orders,
            outcome.changed_orders,
            outcome.cards_posted,
            outcome.cards_updated,
        )
    else:
        logger.debug("poll of %s: %s", outcome.login, "skipped" if outcome.skipped else "nothing new")


@dataclass(slots=True)
class _Fetched:
    new_sales: list[Sale] = field(default_factory=list)
    current_sales: list[Sale] = field(default_factory=list)
    quota: dict[str, datetime] = field(default_factory=dict)  # action -> when it may be called again
    succeeded: set[str] = field(default_factory=set)
    failure: PollFailure | None = None

    @property
    def complete(self) -> bool:
        """Both listings were read in full: what they do not show, Rakuten does not list."""
        return self.failure is None and {Action.GET_NEW_SALES.value, Action.GET_CURRENT_SALES.value} <= self.succeeded


def _apply(sale: Sale, now: datetime) -> Callable[[OrderRecord], OrderRecord | None]:
    def change(current: OrderRecord) -> OrderRecord | None:
        return current if apply_sale(current, sale, now=now) else None

    return change


def _close_if_unlisted(listed: set[str], now: datetime) -> Callable[[OrderRecord], OrderRecord | None]:
    def change(current: OrderRecord) -> OrderRecord | None:
        return current if close_unlisted([current], listed, now=now) else None

    return change


def _wants_label(order: OrderRecord) -> bool:
    return (
        order.prepaid_label is None
        and order.prepaid_label_checks < DETAIL_CHECKS
        and is_prepaid_shipping(order.shipping_type)
    )


def _label_found(label: RakutenPrepaidLabel | None) -> Callable[[OrderRecord], OrderRecord]:
    if label is None or not label.available or not (label.label_url or label.tracking_number):
        return _not_found(SHIPPING_INFO)
    found = PrepaidLabel(label.label_url, label.tracking_number, label.tracking_url)

    def change(order: OrderRecord) -> OrderRecord:
        order.prepaid_label = found
        return order

    return change


def _total_found(total: Money | None) -> Callable[[OrderRecord], OrderRecord]:
    if total is None:
        return _not_found(BILLING_INFO)

    def change(order: OrderRecord) -> OrderRecord:
        order.total = total
        return order

    return change


def _not_found(action: str) -> Callable[[OrderRecord], OrderRecord]:
    def change(order: OrderRecord) -> OrderRecord:
        if action == SHIPPING_INFO:
            order.prepaid_label_checks += 1
        else:
            order.billing_checks += 1
        return order

    return change
