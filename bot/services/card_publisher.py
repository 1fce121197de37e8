"""Order cards in Slack: post each order exactly once, and keep each card in step with its order.

Exactly once across crashes: before posting, the order is marked ``post_started_at`` (durably); after posting,
the card's channel and ts are stored. Every card carries message metadata (event type ``rakuten_order`` with
the account and purchaseid), so an order left marked but without a stored card — a crash between posting and
storing — is looked up in the channel's recent history before anything is posted again.

A burst (more new orders than the threshold in one go) gets one summary message with its cards in the summary's
thread, also across a restart: the burst's orders are marked before the summary is posted, the summary carries
metadata (event type ``rakuten_order_burst``, with the account and the marking time), and each order then keeps
the summary's ts (``post_thread_ts``). A restarted publisher posts the burst's remaining cards into that thread,
found from the order, or from the channel's history when the crash came between the summary and storing its ts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.client import HTTPException

from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.constants import BURST_EVENT_TYPE, ORDER_EVENT_TYPE
from bot.domain.accounts import AccountRecord
from bot.domain.orders import CardRef, OrderRecord
from bot.errors import BotError
from bot.services.notices import OrderCards, RenderedCard
from bot.slack.poster import SlackPoster, SlackWriteError, no_answer
from bot.store.base import Store

logger = logging.getLogger(__name__)

# How far before the recorded intent to look in the channel's history (clock skew between us and Slack).
HISTORY_MARGIN = timedelta(minutes=5)
_HISTORY_PAGE = 200


class CardRecoveryError(BotError):
    """The channel's history could not be read, so it is unknown whether a card was already posted."""


@dataclass(frozen=True, slots=True)
class PublishReport:
    posted: int = 0
    recovered: int = 0
    updated: int = 0


class CardPublisher:
    def __init__(
        self,
        store: Store,
        poster: SlackPoster,
        *,
        clock: Callable[[], datetime],
        cards: OrderCards,
        burst_threshold: int = 20,
    ) -> None:
        self._store = store
        self._cards = cards
        self._poster = poster
        self._clock = clock
        self._burst_threshold = burst_threshold

    def publish_missing(self, account: AccountRecord, orders: Sequence[OrderRecord]) -> PublishReport:
        """Post a card for every order that has none. Raises SlackWriteError / CardRecoveryError when Slack
        fails; what was posted before the failure is stored, the rest is retried on the next call."""
        unposted = [order for order in orders if order.card is None]
        if not unposted:
            return PublishReport()
        recovered, bursts = self._recover(account, [order for order in unposted if order.post_started_at is not None])
        left = [order for order in unposted if order.key not in recovered]
        for order in left:
            order.post_thread_ts = _burst_thread_of(order, bursts)
        resumed = [order for order in left if order.post_thread_ts is not None]  # an interrupted burst's rest
        fresh = [order for order in left if order.post_thread_ts is None]
        # Express first: they are the ones a seller must not miss; then oldest first, as they arrived.
        fresh.sort(key=lambda order: (not order.is_express, order.purchase_date or datetime.min.astimezone()))
        resumed.sort(key=lambda order: order.purchase_date or datetime.min.astimezone())
        now = self._clock()
        self._mark_post_started(now, [*resumed, *fresh])
        if len(fresh) > self._burst_threshold:
            thread_ts = self._burst_thread(account, fresh, now)
            for order in fresh:
                order.post_thread_ts = None if order.is_express else thread_ts
            self._mark_post_started(now, fresh)
        for order in [*fresh, *resumed]:
            self._post(account, order)
        updated = sum(self.refresh(account, order) for order in recovered.values())
        return PublishReport(posted=len(fresh) + len(resumed), recovered=len(recovered), updated=updated)

    def _mark_post_started(self, now: datetime, orders: Sequence[OrderRecord]) -> None:
        """Durably, before anything is posted: a crash from here on is recovered from the channel's history."""
        with self._store.batch():
            for order in orders:
                order.post_started_at = now
                self._store.update_order(order.account, order.purchaseid, _mark_post_started(now, order.post_thread_ts))

    def refresh(self, account: AccountRecord, order: OrderRecord) -> bool:
        """Update the order's card if what it shows changed. True when Slack was called."""
        if order.card is None:
            return False
        card = self.render(account, order)
        if card.fingerprint == order.card_fingerprint:
            return False
        try:
            self._poster.update(order.card.channel, order.card.ts, **card.as_kwargs())
        except SlackWriteError as error:
            if error.error not in {"message_not_found", "channel_not_found", "cant_update_message"}:
                raise
            # The card was deleted (or its channel archived): post a fresh one rather than lose an open order.
            logger.warning("card for order %s is gone (%s)", order.purchaseid, error.error)
            self._store.update_order(order.account, order.purchaseid, _forget_card)
            order.card = None
            order.post_started_at = None
            if not order.is_open:
                return False
            self._post(account, order)
            return True
        self._store.update_order(order.account, order.purchaseid, _set_fingerprint(card.fingerprint))
        order.card_fingerprint = card.fingerprint
        return True

    def _post(self, account: AccountRecord, order: OrderRecord) -> None:
        card = self.render(account, order)
        posted = self._poster.post(account.channel_id, thread_ts=order.post_thread_ts, **card.as_kwargs())
        ref = CardRef(channel=posted.channel, ts=posted.ts, thread_ts=order.post_thread_ts)
        stored = self._store.update_order(order.account, order.purchaseid, _set_card(ref, card.fingerprint))
        order.card, order.card_fingerprint = ref, card.fingerprint
        if stored is not None and (stored.items != order.items or stored.ship_to != order.ship_to):
            # A click changed the order while its card was on its way: show the latest state.
            self.refresh(account, stored)

    def render(self, account: AccountRecord, order: OrderRecord) -> RenderedCard:
        """The card as it should look now, in the account's channel language."""
        return self._cards.card(account, order, self._clock())

    def _burst_thread(self, account: AccountRecord, fresh: list[OrderRecord], started_at: datetime) -> str:
        express = sum(order.is_express for order in fresh)
        summary = self._cards.burst_summary(account, len(fresh), express)
        metadata = {
            "event_type": BURST_EVENT_TYPE,
            "event_payload": {"account": account.login, "started_at": started_at.isoformat()},
        }
        return self._poster.post(account.channel_id, metadata=metadata, **summary.as_kwargs()).ts

    def _recover(
        self, account: AccountRecord, pending: list[OrderRecord]
    ) -> tuple[dict[str, OrderRecord], dict[str, str]]:
        """Find cards already posted for orders marked ``post_started_at``; store them. Returns them keyed by
        order key, and the account's burst summaries seen meanwhile (marking time, ISO 8601 -> summary ts)."""
        bursts: dict[str, str] = {}
        if not pending:
            return {}, bursts
        wanted = {(order.account, order.purchaseid): order for order in pending}
        found: dict[str, OrderRecord] = {}
        oldest = min(order.post_started_at for order in pending if order.post_started_at) - HISTORY_MARGIN
        threads = {order.post_thread_ts for order in pending if order.post_thread_ts}
        for message in self._history(account.channel_id, oldest, threads):
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == BURST_EVENT_TYPE and payload.get("account") == account.login:
                bursts[str(payload.get("started_at"))] = message["ts"]
                continue
            if metadata.get("event_type") != ORDER_EVENT_TYPE:
                continue
            order = wanted.get((payload.get("account"), payload.get("purchaseid")))
            if order is None or order.key in found:
                continue
            thread_ts = message.get("thread_ts") if message.get("thread_ts") != message.get("ts") else None
            ref = CardRef(channel=account.channel_id, ts=message["ts"], thread_ts=thread_ts)
            # An unknown fingerprint makes the next refresh bring the recovered card up to date.
            self._store.update_order(order.account, order.purchaseid, _set_card(ref, None))
            order.card, order.card_fingerprint = ref, None
            found[order.key] = order
            logger.info("recovered the card of order %s posted before a restart", order.purchaseid)
        return found, bursts

    def _history(self, channel: str, oldest: datetime, threads: Iterable[str]) -> Iterable[dict]:
        client = self._poster.client
        try:
            yield from _paginate(
                lambda cursor: client.conversations_history(
                    channel=channel,
                    oldest=f"{oldest.timestamp():.6f}",
                    include_all_metadata=True,
                    limit=_HISTORY_PAGE,
                    cursor=cursor,
                )
            )
            for thread_ts in threads:
                yield from _paginate(
                    lambda cursor, ts=thread_ts: client.conversations_replies(
                        channel=channel, ts=ts, include_all_metadata=True, limit=_HISTORY_PAGE, cursor=cursor
                    )
                )
        except (SlackApiError, OSError, HTTPException) as error:  # refused, or no answer at all
            code = _error_code(error)
            raise CardRecoveryError(
                f"cannot read the history of channel {channel} to check for cards posted before a restart "
                f"({code}); the orders wait until it can be read"
            ) from None


def _error_code(error: SlackApiError | OSError | HTTPException) -> str:
    if not isinstance(error, SlackApiError):
        return no_answer(error)
    return error.response.get("error", "unknown_error") if error.response is not None else "unknown_error"


def _paginate(fetch: Callable[[str | None], SlackResponse]) -> Iterable[dict]:
    cursor: str | None = None
    while True:
        response = fetch(cursor)
        yield from response.get("messages", [])
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return


def _burst_thread_of(order: OrderRecord, bursts: dict[str, str]) -> str | None:
    """The summary thread of the burst an unposted order belongs to: stored with the order, or, after a crash
    between posting the summary and storing its ts, the summary posted for the order's marking time."""
    if order.post_thread_ts is not None or order.post_started_at is None or order.is_express:
        return order.post_thread_ts
    return bursts.get(order.post_started_at.isoformat())


def _mark_post_started(at: datetime, thread_ts: str | None) -> Callable[[OrderRecord], OrderRecord | None]:
    def change(order: OrderRecord) -> OrderRecord | None:
        if order.card is not None:
            return None
        order.post_started_at = at
        order.post_thread_ts = thread_ts
        return order

    return change


def _set_card(ref: CardRef, fingerprint: str | None) -> Callable[[OrderRecord], OrderRecord]:
    def change(order: OrderRecord) -> OrderRecord:
        order.card = ref
        order.card_fingerprint = fingerprint
        return order

    return change


def _set_fingerprint(fingerprint: str) -> Callable[[OrderRecord], OrderRecord]:
    def change(order: OrderRecord) -> OrderRecord:
        order.card_fingerprint = fingerprint
        return order

    return change


def _forget_card(order: OrderRecord) -> OrderRecord:
    order.card = None
    order.card_fingerprint = None
    order.post_started_at = None
    order.post_thread_ts = None
    return order
