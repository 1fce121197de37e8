"""Per-item Rakuten actions requested from Slack (accept, refuse, send tracking), run after the ack.

The claim is the idempotency key: a service first marks the chosen items ``pending`` under the store lock
(an item already pending or already done is not claimed again), so a double click or a repeated submit makes
one Rakuten call per item. The claim is durable (it holds who asked, and the carrier and tracking) and is made
before Slack gets its ack (``claim``); the card update and the calls follow the ack (``start``). Each claimed
item is then sent here, one try at a time, each try recorded in the store before it goes out:

- success: the item moves on (accepted -> to ship, refused, shipped) and the card is updated;
- a definite refusal (already shipped, not accepted yet, bad token…): the item is released with the reason,
  shown on the card and to the person who asked, and recorded in the audit trail;
- "already shipped / accepted / refused" in answer to a request already sent once: the earlier try went through
  but its answer was lost (timeout, dropped connection, crash), so the action is done, and the person is told so;
- a transient failure (outage, timeout): retried in the background on a schedule, the card saying so, until it
  succeeds or the schedule runs out (then it is a definite failure);
- a spent hourly quota: retried when the hour turns; the person who asked is told once.

Pending actions live in the store, so a restart resumes them (``resume_pending``), and the person who asked is
told how each resumed one ended.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from slack_sdk import WebClient

from bot.domain.audit import AuditEntry
from bot.domain.orders import (
    ACTION_RETRY_DELAYS,
    ItemState,
    OrderItem,
    OrderRecord,
    PendingAction,
    PendingKind,
    Shipment,
    note_acceptance,
)
from bot.domain.sentences import Sentence, said, verbatim
from bot.errors import BotError, describe
from bot.rakuten_clients import RakutenClients
from bot.services.already_done import says_already_done
from bot.services.background import BackgroundRunner
from bot.services.card_publisher import CardPublisher
from bot.services.notices import ActionOutcome, ActionReports, Postable
from bot.slack.notify import tell_privately
from bot.slack.poster import SlackWriteError
from bot.store.base import Store
from rakuten.carriers import InvalidTrackingError
from rakuten.client import RakutenClient, RetryPolicy
from rakuten.errors import QuotaExceededError, RakutenError
from rakuten.models import ActionResult

logger = logging.getLogger(__name__)
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Seconds to wait before each retry of a transient failure; about an hour in all by default."""

    delays: tuple[float, ...] = ACTION_RETRY_DELAYS

    def delay_after(self, attempts: int) -> float | None:
        return self.delays[attempts - 1] if attempts - 1 < len(self.delays) else None


# Accept, refuse and tracking are not idempotent: the client must not resend one on its own, since only a try
# recorded in the store before it went out lets a later "already done" answer be read as our own success.
SINGLE_TRY = RetryPolicy(attempts=1)


@dataclass(frozen=True, slots=True)
class Claim:
    """Items claimed for one action (durably, before the ack); ``start`` sends them."""

    account: str
    purchaseid: str
    kind: PendingKind
    itemids: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.itemids)


@dataclass(frozen=True, slots=True)
class Submission:
    """An accept / refuse / ship request as it stands when Slack gets its ack: its items claimed (durably), or
    nothing claimed and why; ``answer`` is for the person who asked, once the work is under way."""

    answer: Sentence | None
    claim: Claim | None = None


_DONE_STATE = {
    PendingKind.ACCEPT: ItemState.TO_SHIP,
    PendingKind.REFUSE: ItemState.REFUSED,
    PendingKind.SHIP: ItemState.SHIPPED,
    PendingKind.CANCEL: ItemState.CANCELLED,
}
# Shipping and cancelling start from an accepted item; accepting and refusing from one awaiting the decision.
_START_STATE = {
    PendingKind.ACCEPT: ItemState.TO_ACCEPT,
    PendingKind.REFUSE: ItemState.TO_ACCEPT,
    PendingKind.SHIP: ItemState.TO_SHIP,
    PendingKind.CANCEL: ItemState.TO_SHIP,
}


class ItemActions:
    def __init__(
        self,
        *,
        store: Store,
        clients: RakutenClients,
        publisher: CardPublisher,
        runner: BackgroundRunner,
        web_client: WebClient,
        clock: Callable[[], datetime],
        reports: ActionReports,
        schedule: RetrySchedule | None = None,
    ) -> None:
        self._store = store
        self._reports = reports
        self._clients = clients
        self._publisher = publisher
        self._runner = runner
        self._web_client = web_client
        self._clock = clock
        self._schedule = schedule or RetrySchedule()

    def request(self, order: OrderRecord, kind: PendingKind, actor: str, **choice: Any) -> list[str]:
        """Claim the items this action applies to and send them at once: ``claim`` (same ``choice`` keywords),
        then ``start``."""
        claim = self.claim(order, kind, actor, **choice)
        self.start(claim)
        return list(claim.itemids)

    def claim(
        self,
        order: OrderRecord,
        kind: PendingKind,
        actor: str,
        *,
        itemids: Collection[str] | None = None,
        shipment: Shipment | None = None,
        detail: str | None = None,
        comment: str | None = None,
    ) -> Claim:
        """Claim the items this action applies to and record who asked, in one durable local write (fast: made
        before Slack gets its ack, so that a crash right after the ack loses nothing; a restart resumes it).

        An item is claimed only when it is in the state the action starts from and nothing is pending on it,
        under the store lock: a double click or a repeated submit claims nothing, so nothing is sent twice.
        ``itemids`` narrows the choice (None: every eligible item).
        """
        start_state = _START_STATE[kind]
        now = self._clock()
        claimed: list[str] = []

        def claim(current: OrderRecord) -> OrderRecord | None:
            for item in current.items:
                if item.state is start_state and item.pending is None and (itemids is None or item.itemid in itemids):
                    item.pending = PendingAction(
                        kind, actor, now, shipment=replace(shipment) if shipment else None, comment=comment
                    )
                    item.failure, item.failed_attempts, item.failed_in_bot = None, None, False
                    claimed.append(item.itemid)
            return current if claimed else None

        with self._store.batch():
            self._store.update_order(order.account, order.purchaseid, claim)
            if claimed:
                self._store.add_audit(
                    AuditEntry(
                        at=now,
                        actor=actor,
                        action=f"{kind.value}_requested",
                        account=order.account,
                        purchaseid=order.purchaseid,
                        itemids=tuple(claimed),
                        detail=detail,
                    )
                )
        return Claim(order.account, order.purchaseid, kind, tuple(claimed))

    def start(self, claim: Claim | None) -> None:
        """After the ack: show "sending…" on the card, then send the claimed items to Rakuten in the background."""
        if not claim:
            return
        self.refresh_card(claim.account, claim.purchaseid)
        self.send(claim.account, claim.purchaseid, list(claim.itemids))

    def send(self, account: str, purchaseid: str, itemids: Sequence[str], *, resumed: bool = False) -> None:
        """Send the claimed items' actions to Rakuten in the background (one job per item)."""
        for itemid in itemids:
            self._runner.submit(lambda itemid=itemid: self._attempt(account, purchaseid, itemid, resumed=resumed))

    def resume_pending(self) -> int:
        """At start: re-send every action a previous run left pending (crash, shutdown mid-retry)."""
        count = 0
        for account in self._store.list_accounts():
            for order in self._store.list_orders(account.login, open_only=True):
                pending = [item.itemid for item in order.items if item.pending is not None]
                if pending:
                    self.send(order.account, order.purchaseid, pending, resumed=True)
                    count += len(pending)
        return count

    def refresh_cards_later(self, account_login: str) -> None:
        """Re-render every open card of an account in the background (after a settings change)."""

        def refresh_all() -> None:
            for order in self._store.list_orders(account_login, open_only=True):
                self.refresh_card(account_login, order.purchaseid)

        self._runner.submit(refresh_all)

    def refresh_card(self, account_login: str, purchaseid: str) -> None:
        account = self._store.get_account(account_login)
        order = self._store.get_order(account_login, purchaseid)
        if account is None or order is None:
            return
        try:
            self._publisher.refresh(account, order)
        except SlackWriteError as error:
            logger.warning("could not update the card of order %s: %s", purchaseid, error)

    def _attempt(self, login: str, purchaseid: str, itemid: str, *, resumed: bool = False) -> None:
        """One try of one item's action, as a background job: whatever goes wrong ends the action visibly (the
        card says it failed and why, the requester is told, the button comes back), never "sending…" forever."""
        try:
            self._try_once(login, purchaseid, itemid, resumed=resumed)
        except Exception as error:  # the job's boundary: a bug, or the bot's own failure (BotError)
            self._fail_in_bot(login, purchaseid, itemid, error)

    def _fail_in_bot(self, login: str, purchaseid: str, itemid: str, error: Exception) -> None:
        if isinstance(error, BotError):
            logger.error("order %s item %s: the action stopped: %s", purchaseid, itemid, describe(error))
        else:
            logger.exception("order %s item %s: the action stopped on a bug", purchaseid, itemid, exc_info=error)
        try:
            pending = self._pending_of(login, purchaseid, itemid)
            account = self._store.get_account(login)
            if pending is None:
                return
            self._finish(login, purchaseid, itemid, error=describe(error), in_bot=True)
        except Exception:  # the store itself is failing: the pending action stays and resumes at the next start
            logger.exception("order %s item %s: could not record that the action stopped", purchaseid, itemid)
            return
        self._tell(
            pending.requested_by,
            account.channel_id if account else "",
            self._reports.action_result(
                pending.requested_by, pending.kind, purchaseid, ActionOutcome.BOT_FAILED, reason=describe(error)
            ),
        )

    def _try_once(self, login: str, purchaseid: str, itemid: str, *, resumed: bool = False) -> None:
        """One try; ``resumed``: a previous run left it pending (its requester is told how it ends, having perhaps
        seen nothing since the modal closed)."""
        account = self._store.get_account(login)
        if account is None:
            if self._pending_of(login, purchaseid, itemid) is not None:
                self._finish(login, purchaseid, itemid, error="the Rakuten account was disconnected")
            return
        sent = self._record_try(login, purchaseid, itemid)
        if sent is None:
            return  # done meanwhile (another attempt, or the order was pruned)
        pending, sent_before = sent
        try:
            client = self._clients.client_for(account, retry=SINGLE_TRY)
            result = self._call(client, pending.kind, itemid, pending, account.settings.shipping_from_country)
        except QuotaExceededError as error:
            delay = max((error.retry_at - self._clock()).total_seconds(), 1.0)
            reason = "Rakuten's hourly quota is spent; it is sent again when the hour turns"
            if self._note_failure(login, purchaseid, itemid, reason):
                self._tell(
                    pending.requested_by,
                    account.channel_id,
                    self._reports.action_result(
                        pending.requested_by,
                        pending.kind,
                        purchaseid,
                        ActionOutcome.WAITING_FOR_QUOTA,
                        retry_at=error.retry_at,
                    ),
                )
            self._retry_later(delay, login, purchaseid, itemid, resumed)
            self.refresh_card(login, purchaseid)
        except (RakutenError, InvalidTrackingError) as error:
            if isinstance(error, RakutenError) and sent_before and says_already_done(pending.kind, error):
                self._went_through(login, purchaseid, itemid, pending, account.channel_id, error)
                return
            reason = error.message if isinstance(error, RakutenError) else str(error)
            if isinstance(error, RakutenError) and error.retryable:
                delay = self._schedule.delay_after(pending.attempts)
                first = self._note_failure(login, purchaseid, itemid, reason)
                if delay is not None:
                    if first:
                        self._tell(
                            pending.requested_by,
                            account.channel_id,
                            self._reports.action_result(
                                pending.requested_by,
                                pending.kind,
                                purchaseid,
                                ActionOutcome.QUEUED,
                                reason=reason,
                            ),
                        )
                    logger.info(
                        "order %s item %s: %s; retry %d in %ss", purchaseid, itemid, reason, pending.attempts, delay
                    )
                    self._retry_later(delay, login, purchaseid, itemid, resumed)
                    self.refresh_card(login, purchaseid)
                    return
                report_reason: Sentence | str = said(
                    "Rakuten could not be reached after {attempts} attempts ({reason})",
                    attempts=pending.attempts,
                    reason=verbatim(reason),
                )
            else:
                report_reason = reason
            gave_up_after = pending.attempts if isinstance(report_reason, Sentence) else None
            self._finish(login, purchaseid, itemid, error=reason, gave_up_after=gave_up_after)
            self._tell(
                pending.requested_by,
                account.channel_id,
                self._reports.action_result(
                    pending.requested_by,
                    pending.kind,
                    purchaseid,
                    ActionOutcome.REFUSED_BY_RAKUTEN,
                    reason=report_reason,
                ),
            )
        else:
            self._finish(login, purchaseid, itemid, result=result)
            if resumed:
                self._tell(
                    pending.requested_by,
                    account.channel_id,
                    self._reports.action_result(
                        pending.requested_by, pending.kind, purchaseid, ActionOutcome.OK, shipment=pending.shipment
                    ),
                )

    def _retry_later(self, delay: float, login: str, purchaseid: str, itemid: str, resumed: bool) -> None:
        self._runner.submit_later(delay, lambda: self._attempt(login, purchaseid, itemid, resumed=resumed))

    def _went_through(
        self, login: str, purchaseid: str, itemid: str, pending: PendingAction, channel: str, error: RakutenError
    ) -> None:
        """Rakuten says the item is already where our earlier, unanswered try asked it to go: that try worked."""
        logger.info("order %s item %s: an earlier try went through (%s)", purchaseid, itemid, error.message)
        self._finish(login, purchaseid, itemid, confirmed_by=error.message)
        self._tell(
            pending.requested_by,
            channel,
            self._reports.action_result(
                pending.requested_by, pending.kind, purchaseid, ActionOutcome.WENT_THROUGH, shipment=pending.shipment
            ),
        )

    def _call(
        self, client: RakutenClient, kind: PendingKind, itemid: str, pending: PendingAction, country: str
    ) -> ActionResult:
        if kind is PendingKind.ACCEPT:
            return client.accept_sale(itemid, shipping_from_country=country)
        if kind is PendingKind.REFUSE:
            return client.refuse_sale(itemid)
        if kind is PendingKind.CANCEL:
            return client.cancel_item(itemid, comment=pending.comment or "")
        shipment = pending.shipment
        return client.set_tracking(
            itemid,
            carrier=shipment.carrier,
            tracking_number=shipment.tracking_number,
            tracking_url=shipment.tracking_url,
        )

    def _pending_of(self, login: str, purchaseid: str, itemid: str) -> PendingAction | None:
        order = self._store.get_order(login, purchaseid)
        item = order.item(itemid) if order else None
        return item.pending if item else None

    def _record_try(self, login: str, purchaseid: str, itemid: str) -> tuple[PendingAction, bool] | None:
        """Count the try about to go out, durably, before it goes: (the pending action, whether a try was already
        sent before this one). None when nothing is pending on the item any more."""

        def count(_order: OrderRecord, _item: OrderItem, pending: PendingAction) -> tuple[PendingAction, bool]:
            pending.attempts += 1
            return replace(pending), pending.attempts > 1

        return self._change_pending(login, purchaseid, itemid, count)

    def _note_failure(self, login: str, purchaseid: str, itemid: str, reason: str) -> bool:
        """Keep why the try failed; True when it is the first failure (so the requester is told once)."""

        def keep(_order: OrderRecord, _item: OrderItem, pending: PendingAction) -> bool:
            first = pending.last_error is None
            pending.last_error = reason
            return first

        return bool(self._change_pending(login, purchaseid, itemid, keep))

    def _finish(
        self,
        login: str,
        purchaseid: str,
        itemid: str,
        *,
        result: ActionResult | None = None,
        error: str | None = None,
        gave_up_after: int | None = None,
        in_bot: bool = False,
        confirmed_by: str | None = None,
    ) -> None:
        """The item's action is over: done (``result``, or ``confirmed_by`` Rakuten's "already done" to a try whose
        answer was lost), or failed (``error``, the last of ``gave_up_after`` unanswered tries when given)."""
        now = self._clock()

        def end(order: OrderRecord, item: OrderItem, pending: PendingAction) -> PendingAction:
            if error is None:
                item.state = _DONE_STATE[pending.kind]
                if pending.kind is PendingKind.SHIP and pending.shipment is not None:
                    pending.shipment.shipped_by = pending.requested_by
                    pending.shipment.shipped_at = now
                    item.shipment = pending.shipment
                item.failure, item.failed_attempts, item.failed_in_bot = None, None, False
            else:
                item.failure, item.failed_attempts, item.failed_in_bot = error, gave_up_after, in_bot
            item.pending = None
            order.updated_at = now
            order.closed_at = None if order.is_open else (order.closed_at or now)
            if error is None and pending.kind is PendingKind.ACCEPT:
                note_acceptance(order, now)  # its time to ship starts with the last item accepted
            return pending

        with self._store.batch():
            ended = self._change_pending(login, purchaseid, itemid, end)
            if ended is None:
                return
            self._store.add_audit(
                AuditEntry(
                    at=now,
                    actor=ended.requested_by,
                    action=str(ended.kind),
                    account=login,
                    purchaseid=purchaseid,
                    itemids=(itemid,),
                    outcome="ok" if error is None else "failed",
                    detail=_failure_detail(error, gave_up_after) if error else _success_detail(result, confirmed_by),
                )
            )
        self.refresh_card(login, purchaseid)

    def _change_pending(
        self,
        login: str,
        purchaseid: str,
        itemid: str,
        edit: Callable[[OrderRecord, OrderItem, PendingAction], _T],
    ) -> _T | None:
        """Apply ``edit`` to the item's pending action in one store update, and return what it returns; None (and
        nothing written) when the order, the item or its pending action is gone."""
        results: list[_T] = []

        def change(order: OrderRecord) -> OrderRecord | None:
            item = order.item(itemid)
            if item is None or item.pending is None:
                return None
            results.append(edit(order, item, item.pending))
            return order

        self._store.update_order(login, purchaseid, change)
        return results[0] if results else None

    def _tell(self, user: str, channel: str, message: Postable) -> None:
        """Privately tell the person who asked: ephemeral in the order channel, else a direct message."""
        tell_privately(self._web_client, user, channel, message)


def _failure_detail(error: str, gave_up_after: int | None) -> str:
    if gave_up_after:
        return f"Rakuten could not be reached after {gave_up_after} attempts ({error})"
    return error


def _success_detail(result: ActionResult | None, confirmed_by: str | None) -> str | None:
    if confirmed_by is not None:
        return f"an earlier try went through, its answer lost; Rakuten now says: {confirmed_by}"
    return result.status if result else None
