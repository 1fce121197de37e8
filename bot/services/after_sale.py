"""The after-sale desk: Rakuten's to-do list read on its own schedule, each item's messages and claim read, stored,
and posted once in the order card's thread.

One run per account (``poll``):

1. ``getitemtodolist``: the items with an open claim or unread messages (one cheap call).
2. Items whose order the store does not keep (an order older than the bot) are looked for in current sales over a
   longer window, stored, and get their card first; one not found is left unread at Rakuten and tried again later
   (reading it would mark its messages read with nowhere to keep them).
3. ``getiteminfos`` for the items worth reading (``bot.domain.after_sale.items_to_read``), at most
   ``Tuning.todo_reads_per_poll``. It marks the item's messages read at Rakuten, so: the intent is stored before
   the call, what it returns is merged into the order and stored before anything is posted, and a read whose
   answer was never stored (a crash, a lost answer) is made again on the next run, whatever the to-do list says.
4. Every stored entry not posted yet goes in the card's thread, oldest first, once: claimed in the store (compare
   and set), posted with message metadata (``AFTER_SALE_EVENT_TYPE``: account, purchaseid, entry key), its ts
   stored. A claim never recorded is settled from the thread's history after the grace, as reminders are. Then
   the card is refreshed (its badges).

A spent hourly quota stops that action until the hour turns (the channel is told once); an outage or a bad token
stops this run's reads (the order poll's health reports those); posting what is stored goes on regardless.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import Tuning
from bot.constants import AFTER_SALE_EVENT_TYPE
from bot.domain.accounts import AccountRecord
from bot.domain.after_sale import AfterSale, FetchWanted, Ingested, ItemFetch, ingest, items_to_read
from bot.domain.deadlines import aware
from bot.domain.orders import OrderRecord
from bot.rakuten_clients import RakutenClients
from bot.services.account_locks import AccountLocks
from bot.services.card_publisher import CardPublisher, CardRecoveryError
from bot.services.notices import AfterSaleNotices, ChannelNotices
from bot.services.poll_health import PollHealthBoard
from bot.services.reconcile import order_from_sale
from bot.services.reminders import HISTORY_MARGIN
from bot.services.slack_history import HistoryReadError, marked_in_thread
from bot.slack.access import SlackAccessGate
from bot.slack.poster import SlackPoster, SlackWriteError
from bot.store.base import Store
from rakuten.actions import Action
from rakuten.after_sale import ItemInfos
from rakuten.client import RakutenClient
from rakuten.errors import AuthenticationError, QuotaExceededError, RakutenError
from rakuten.models import PARIS

logger = logging.getLogger(__name__)

TODO = Action.GET_ITEM_TODO_LIST.value
ITEM_INFOS = Action.GET_ITEM_INFOS.value
CATCH_UP = Action.GET_CURRENT_SALES.value


class AfterSaleNotifier(AfterSaleNotices, ChannelNotices):
    """What the desk posts: thread entries, and a spent quota's notice."""


@dataclass(slots=True)
class AfterSaleReport:
    todo_items: int = 0
    read: int = 0
    posted: int = 0
    recovered: int = 0  # found already posted in the thread (a crash between posting and recording it)
    cards_posted: int = 0  # cards posted first, for orders that had none
    failure: str | None = None

    def add(self, other: AfterSaleReport) -> None:
        self.todo_items += other.todo_items
        self.read += other.read
        self.posted += other.posted
        self.recovered += other.recovered
        self.cards_posted += other.cards_posted
        self.failure = self.failure or other.failure


class AfterSaleDesk:
    def __init__(
        self,
        store: Store,
        clients: RakutenClients,
        publisher: CardPublisher,
        poster: SlackPoster,
        *,
        clock: Callable[[], datetime],
        notices: AfterSaleNotifier,
        tuning: Tuning,
        locks: AccountLocks,
        health: PollHealthBoard | None = None,
        access: SlackAccessGate | None = None,
        new_claim: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._store = store
        self._clients = clients
        self._publisher = publisher
        self._poster = poster
        self._clock = clock
        self._notices = notices
        self._tuning = tuning
        self._locks = locks
        self._health = health or PollHealthBoard()
        self._access = access
        self._new_claim = new_claim
        self._guard = threading.Lock()
        self._running: set[str] = set()
        self._blocked: dict[str, dict[str, datetime]] = {}  # login -> action -> no call before (a spent quota)
        self._told: dict[str, set[str]] = {}  # login -> actions whose spent quota the channel was told
        self._not_found: dict[tuple[str, str], datetime] = {}  # (login, itemid) -> look again after

    @property
    def claim_grace(self) -> timedelta:
        return timedelta(seconds=self._tuning.follow_up_claim_grace)

    # --- the scheduled runs ---------------------------------------------------------------------------------

    def run(self) -> AfterSaleReport:
        """One to-do poll of every account (the scheduled job)."""
        report = AfterSaleReport()
        for account in self._store.list_accounts():
            report.add(self.poll(account.login))
        return report

    def poll(self, login: str) -> AfterSaleReport:
        """One account's to-do poll; a second one for the same account while one runs returns at once."""
        with self._guard:
            if login in self._running:
                return AfterSaleReport()
            self._running.add(login)
        try:
            report = self._poll(login)
        finally:
            with self._guard:
                self._running.discard(login)
        if report.read or report.posted or report.recovered or report.cards_posted:
            logger.info(
                "to-do poll of %s: %d items listed, %d read; thread messages posted %d, recovered %d; cards posted %d",
                login,
                report.todo_items,
                report.read,
                report.posted,
                report.recovered,
                report.cards_posted,
            )
        return report

    def post_pending(self) -> AfterSaleReport:
        """Post what is stored and not posted yet, for every account (the follow-up job: a post Slack refused
        is tried again within a minute, not at the next to-do poll)."""
        report = AfterSaleReport()
        if self._revoked():
            return report
        for account in self._store.list_accounts():
            orders = [order for order in self._store.list_after_sale_orders(account.login) if _has_unposted(order)]
            self._publish(account, [order.purchaseid for order in orders], report)
        return report

    # --- one account ------------------------------------------------------------------------------------------

    def _poll(self, login: str) -> AfterSaleReport:
        report = AfterSaleReport()
        if self._revoked():
            return report
        account = self._store.get_account(login)
        if account is None:
            return report
        now = self._clock()
        client = self._clients.client_for(account)
        followed = {order.purchaseid: order for order in self._store.list_after_sale_orders(login)}
        todo = self._read_todo(account, client, now, report)
        orders_by_item = {item.itemid: order for order in followed.values() for item in order.items}
        if todo is not None:
            report.todo_items = len(todo)
            for itemid in todo:
                if itemid not in orders_by_item and (order := self._store.find_order_by_item(login, itemid)):
                    for item in order.items:
                        orders_by_item.setdefault(item.itemid, order)
            strangers = [itemid for itemid in todo if itemid not in orders_by_item]
            if strangers:
                for order in self._catch_up(account, client, strangers, now):
                    for item in order.items:
                        orders_by_item.setdefault(item.itemid, order)
        states: dict[str, AfterSale] = {itemid: order.after_sale for itemid, order in orders_by_item.items()}
        wanted = items_to_read(
            todo or {},
            states,
            now=now,
            recheck_after=timedelta(seconds=self._tuning.after_sale_recheck_seconds),
            limit=self._tuning.todo_reads_per_poll,
        )
        touched = self._read_items(account, client, wanted, orders_by_item, now, report)
        to_publish = {*touched, *(order.purchaseid for order in followed.values() if _has_unposted(order))}
        self._publish(account, sorted(to_publish), report)
        return report

    def _read_todo(
        self, account: AccountRecord, client: RakutenClient, now: datetime, report: AfterSaleReport
    ) -> dict[str, tuple[str, ...]] | None:
        if self._is_blocked(account.login, TODO, now):
            return None
        try:
            listing = client.get_item_todo_list()
        except QuotaExceededError as error:
            self._quota_spent(account, TODO, error.retry_at)
            return None
        except RakutenError as error:
            report.failure = str(error)
            logger.warning("to-do poll of %s: %s", account.login, error)
            return None
        self._quota_back(account.login, TODO)
        todo: dict[str, tuple[str, ...]] = {}
        for item in listing.items:
            todo[item.itemid] = tuple(dict.fromkeys((*todo.get(item.itemid, ()), *item.causes)))
        return todo

    def _catch_up(
        self, account: AccountRecord, client: RakutenClient, itemids: list[str], now: datetime
    ) -> list[OrderRecord]:
        """Orders the store does not keep, found in current sales over ``Tuning.after_sale_catch_up_days`` and
        stored (their card is posted before their messages). Items not found are looked for again later."""
        login = account.login
        due = [itemid for itemid in itemids if aware(self._not_found.get((login, itemid), now)) <= aware(now)]
        if not due or self._is_blocked(login, CATCH_UP, now):
            return []
        since = (now.astimezone(PARIS) - timedelta(days=self._tuning.after_sale_catch_up_days)).date()
        try:
            sales = client.get_current_sales(since)
        except QuotaExceededError as error:
            self._quota_spent(account, CATCH_UP, error.retry_at)
            return []
        except RakutenError as error:
            logger.warning("to-do poll of %s: looking for older orders: %s", login, error)
            return []
        wanted = set(due)
        found: list[OrderRecord] = []
        with self._store.batch():
            for sale in sales:
                if not wanted & {item.itemid for item in sale.items}:
                    continue
                stored = self._store.get_order(login, sale.purchaseid)
                if stored is None:
                    stored = order_from_sale(sale, login, now=now)
                    self._store.save_order(stored)
                found.append(stored)
                wanted -= {item.itemid for item in sale.items}
        retry_at = now + timedelta(seconds=self._tuning.after_sale_recheck_seconds)
        for itemid in wanted:
            self._not_found[(login, itemid)] = retry_at
            logger.warning(
                "to-do poll of %s: item %s is in Rakuten's to-do list but in no order of the last %d days; it is "
                "left unread at Rakuten and looked for again later",
                login,
                itemid,
                self._tuning.after_sale_catch_up_days,
            )
        return found

    def _read_items(
        self,
        account: AccountRecord,
        client: RakutenClient,
        wanted: Iterable[FetchWanted],
        orders_by_item: dict[str, OrderRecord],
        now: datetime,
        report: AfterSaleReport,
    ) -> set[str]:
        """Read each wanted item's infos: intent stored, call, answer merged and stored. Returns the purchaseids
        changed."""
        touched: set[str] = set()
        if self._is_blocked(account.login, ITEM_INFOS, now):
            return touched
        for wish in wanted:
            order = orders_by_item.get(wish.itemid)
            if order is None:
                continue
            self._store.update_order(account.login, order.purchaseid, _intent(wish.itemid, now))
            try:
                infos = client.get_item_infos(wish.itemid)
            except QuotaExceededError as error:
                self._quota_spent(account, ITEM_INFOS, error.retry_at)
                break
            except RakutenError as error:
                if error.retryable or isinstance(error, AuthenticationError):
                    # Maybe read at Rakuten, maybe not: the stored intent makes the next run read it again.
                    logger.warning("to-do poll of %s: item %s: %s", account.login, wish.itemid, error)
                    report.failure = str(error)
                    break
                logger.warning("to-do poll of %s: Rakuten refused item %s: %s", account.login, wish.itemid, error)
                self._store.update_order(account.login, order.purchaseid, _read_refused(wish.itemid, self._clock()))
                continue
            self._quota_back(account.login, ITEM_INFOS)
            self._store_infos(account, order, infos, wish)
            report.read += 1
            touched.add(order.purchaseid)
        return touched

    def store_infos(self, account: AccountRecord, order: OrderRecord, infos: ItemInfos) -> Ingested:
        """Merge infos read outside the to-do poll (a reply's check that it arrived) the same way."""
        return self._store_infos(account, order, infos, None)

    def _store_infos(
        self, account: AccountRecord, order: OrderRecord, infos: ItemInfos, wish: FetchWanted | None
    ) -> Ingested:
        results: list[Ingested] = []
        moment = self._clock()

        def merge(current: OrderRecord) -> OrderRecord:
            results.append(
                ingest(
                    current.after_sale,
                    infos,
                    seller_login=account.login,
                    buyer_login=current.buyer_login,
                    now=moment,
                    todo_causes=wish.causes if wish is not None else None,
                )
            )
            return current

        self._store.update_order(account.login, order.purchaseid, merge)
        return results[0] if results else Ingested()

    # --- posting in the thread ----------------------------------------------------------------------------------

    def publish(self, account_login: str, purchaseid: str) -> AfterSaleReport:
        """Post an order's stored entries now (a reply just sent), card first if it has none."""
        report = AfterSaleReport()
        account = self._store.get_account(account_login)
        if account is not None and not self._revoked():
            self._publish(account, [purchaseid], report)
        return report

    def _publish(self, account: AccountRecord, purchaseids: Iterable[str], report: AfterSaleReport) -> None:
        for purchaseid in purchaseids:
            try:
                self._publish_one(account, purchaseid, report)
            except (SlackWriteError, HistoryReadError, CardRecoveryError) as error:
                logger.warning("after sale of order %s: Slack: %s", purchaseid, error)
                report.failure = report.failure or str(error)

    def _publish_one(self, account: AccountRecord, purchaseid: str, report: AfterSaleReport) -> None:
        order = self._store.get_order(account.login, purchaseid)
        if order is None:
            return
        if order.card is None:
            # An order older than the bot, or finished before it saw it: its card comes first. The account's lock
            # keeps the poller from posting the same card at the same moment.
            with self._locks.lock(account.login):
                current = self._store.get_order(account.login, purchaseid)
                if current is not None and current.card is None:
                    report.cards_posted += self._publisher.publish_missing(account, [current]).posted
            order = self._store.get_order(account.login, purchaseid)
            if order is None or order.card is None:
                return
        now = self._clock()
        for entry in list(order.after_sale.entries):
            if entry.posted:
                continue
            if entry.post_claim is not None:
                if entry.post_claimed_at is not None and aware(now) - aware(entry.post_claimed_at) < self.claim_grace:
                    break  # being posted right now, or failed a moment ago: the thread keeps its order
                found = self._posted_before(order, entry.key, entry.post_claimed_at or now)
                if found is not None:
                    self._confirm(order, entry.key, entry.post_claim, found)
                    report.recovered += 1
                    logger.info("after-sale message %s of order %s was posted before a restart", entry.key, purchaseid)
                    continue
                claimed = self._claim(order, entry.key, now, replacing=entry.post_claim)
            else:
                claimed = self._claim(order, entry.key, now, replacing=None)
            if claimed is None:
                break
            self._post(account, claimed, entry.key)
            report.posted += 1
        current = self._store.get_order(account.login, purchaseid)
        if current is not None:
            self._publisher.refresh(account, current)  # the badges follow what still waits

    def _claim(self, order: OrderRecord, key: str, now: datetime, *, replacing: str | None) -> OrderRecord | None:
        claim = self._new_claim()

        def change(current: OrderRecord) -> OrderRecord | None:
            entry = current.after_sale.entry(key)
            if entry is None or entry.posted or current.card is None:
                return None
            if entry.post_claim != replacing:
                return None
            entry.post_claim, entry.post_claimed_at = claim, now
            return current

        stored = self._store.update_order(order.account, order.purchaseid, change)
        entry = stored.after_sale.entry(key) if stored is not None else None
        return stored if entry is not None and entry.post_claim == claim else None

    def _post(self, account: AccountRecord, order: OrderRecord, key: str) -> None:
        card = order.card
        entry = order.after_sale.entry(key)
        assert card is not None
        assert entry is not None
        assert entry.post_claim is not None
        message = self._notices.thread_entry(account, order, entry)
        metadata = {
            "event_type": AFTER_SALE_EVENT_TYPE,
            "event_payload": {"account": order.account, "purchaseid": order.purchaseid, "entry": key},
        }
        posted = self._poster.post(  # once: a lost answer is settled from the thread, never blindly retried
            card.channel, thread_ts=card.thread_ts or card.ts, metadata=metadata, once=True, **message.as_kwargs()
        )
        self._confirm(order, key, entry.post_claim, posted.ts)

    def _confirm(self, order: OrderRecord, key: str, claim: str, ts: str) -> None:
        def change(current: OrderRecord) -> OrderRecord | None:
            entry = current.after_sale.entry(key)
            if entry is None or entry.post_claim != claim:
                return None
            entry.posted_ts = ts
            return current

        self._store.update_order(order.account, order.purchaseid, change)

    def _posted_before(self, order: OrderRecord, key: str, claimed_at: datetime) -> str | None:
        card = order.card
        assert card is not None
        for message in marked_in_thread(
            self._poster.client,
            card.channel,
            card.thread_ts or card.ts,
            event_type=AFTER_SALE_EVENT_TYPE,
            oldest=aware(claimed_at) - HISTORY_MARGIN,
        ):
            payload = message.payload
            if (payload.get("account"), payload.get("purchaseid"), payload.get("entry")) == (
                order.account,
                order.purchaseid,
                key,
            ):
                return message.ts
        return None

    # --- quotas ---------------------------------------------------------------------------------------------

    def _is_blocked(self, login: str, action: str, now: datetime) -> bool:
        until = self._blocked.get(login, {}).get(action)
        return until is not None and aware(until) > aware(now)

    def _quota_spent(self, account: AccountRecord, action: str, retry_at: datetime) -> None:
        self._blocked.setdefault(account.login, {})[action] = retry_at
        health = self._health.get(account.login)
        health.quota_blocked_until[action] = retry_at
        self._health.put(account.login, health)
        told = self._told.setdefault(account.login, set())
        if action in told:
            return
        notice = functools.partial(self._notices.quota, account, account.login, action, retry_at)
        try:
            self._poster.post(account.channel_id, **notice().as_kwargs())
            told.add(action)
        except SlackWriteError as error:
            logger.warning("could not tell channel %s: %s", account.channel_id, error)

    def _quota_back(self, login: str, action: str) -> None:
        if self._blocked.get(login, {}).pop(action, None) is None:
            return
        self._told.get(login, set()).discard(action)
        health = self._health.get(login)
        health.quota_blocked_until.pop(action, None)
        self._health.put(login, health)

    def _revoked(self) -> bool:
        return self._access is not None and self._access.revocation is not None


def _has_unposted(order: OrderRecord) -> bool:
    return any(not entry.posted for entry in order.after_sale.entries)


def _intent(itemid: str, now: datetime) -> Callable[[OrderRecord], OrderRecord]:
    def change(order: OrderRecord) -> OrderRecord:
        order.after_sale.fetches.setdefault(itemid, ItemFetch()).about_to_read(now)
        return order

    return change


def _read_refused(itemid: str, now: datetime) -> Callable[[OrderRecord], OrderRecord]:
    """Rakuten refused to show the item (not a passing fault): nothing was read, so nothing is owed."""

    def change(order: OrderRecord) -> OrderRecord:
        order.after_sale.fetches.setdefault(itemid, ItemFetch()).read_done(now)
        return order

    return change
