"""Reply from Slack: to the buyer (``contactuseraboutitem``) or to Rakuten's customer service (``contactusaboutitem``,
in the exchange of its latest mail about the item), then the reply posted in the card's thread with who sent it.

Like Mark shipped: the form is checked (nothing written, too long for Rakuten), then the reply is claimed in the
store before Slack gets its ack, keyed by the modal's view id, so a double submit sends once; it is sent after the
ack, in the background. Writing is not idempotent at Rakuten, so each try is counted in the store before it goes
out, and a try whose answer was lost is never blindly repeated: Rakuten's history of the item is read first
(``getiteminfos``), and the reply found there is done. A refusal is told to the person who wrote it, in Rakuten's
words; an outage is retried on the action schedule.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk import WebClient

from bot.domain.after_sale import EntryKind, OutgoingReply, Party, ThreadEntry, record_sent
from bot.domain.orders import OrderRecord, OrderRef
from bot.domain.sentences import Sentence, said
from bot.errors import BotError, describe
from bot.rakuten_clients import RakutenClients
from bot.services.after_sale import AfterSaleDesk
from bot.services.background import BackgroundRunner
from bot.services.item_actions import SINGLE_TRY, RetrySchedule
from bot.services.notices import ActionOutcome, ReplyReports
from bot.services.orders import OrderAccess, OrderDesk
from bot.slack.notify import tell_privately
from bot.store.base import Store
from rakuten.after_sale import MESSAGE_MAX
from rakuten.errors import QuotaExceededError, RakutenError

logger = logging.getLogger(__name__)

# A second submit of the same words to the same person this soon is the same reply (two modals opened by a double
# click), not a new one.
SAME_REPLY_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """Someone to answer about one item: the buyer, or customer service in the exchange of ``parent_mail_id``."""

    itemid: str
    to: Party
    parent_mail_id: str | None = None

    @property
    def value(self) -> str:
        return f"{'service' if self.to is Party.CUSTOMER_SERVICE else 'buyer'}:{self.itemid}"

    @staticmethod
    def parse(value: str | None) -> tuple[Party, str] | None:
        kind, _, itemid = (value or "").partition(":")
        party = {"buyer": Party.BUYER, "service": Party.CUSTOMER_SERVICE}.get(kind)
        return (party, itemid) if party is not None and itemid else None


@dataclass(frozen=True, slots=True)
class ReplyPlan:
    """What the Reply modal opens with, or why it cannot open."""

    access: OrderAccess
    targets: tuple[ReplyTarget, ...] = ()
    preselected: ReplyTarget | None = None
    conversation: tuple[ThreadEntry, ...] = ()
    refusal: Sentence | None = None


@dataclass(frozen=True, slots=True)
class ReplyDraft:
    """A submitted Reply modal: ``reply_id`` is the modal's view id (the same on a double submit)."""

    ref: OrderRef | None
    target: str | None
    text: str
    reply_id: str


@dataclass(frozen=True, slots=True)
class ReplyClaim:
    account: str
    purchaseid: str
    reply_id: str


@dataclass(frozen=True, slots=True)
class ReplyResult:
    """``field_errors`` (field -> message) when the form must be corrected; else ``answer`` for the person, and
    ``claim`` when a reply is to be sent (``start``)."""

    field_errors: dict[str, Sentence] = field(default_factory=dict)
    answer: Sentence | None = None
    claim: ReplyClaim | None = None


class ReplyService:
    def __init__(
        self,
        *,
        store: Store,
        desk: OrderDesk,
        clients: RakutenClients,
        after_sale: AfterSaleDesk,
        runner: BackgroundRunner,
        web_client: WebClient,
        clock: Callable[[], datetime],
        reports: ReplyReports,
        schedule: RetrySchedule | None = None,
    ) -> None:
        self._store = store
        self._desk = desk
        self._clients = clients
        self._after_sale = after_sale
        self._runner = runner
        self._web_client = web_client
        self._clock = clock
        self._reports = reports
        self._schedule = schedule or RetrySchedule()

    # --- the modal --------------------------------------------------------------------------------------------

    def plan(self, user_id: str, ref: OrderRef | None, entry_key: str | None = None) -> ReplyPlan:
        access = self._desk.access(user_id, ref)
        if not access.allowed:
            return ReplyPlan(access, refusal=access.refusal)
        order = access.order
        assert order is not None
        targets = reply_targets(order)
        if not targets:
            refusal = said("Order {purchaseid} has no conversation to answer.", purchaseid=order.purchaseid)
            return ReplyPlan(access, refusal=refusal)
        conversation = tuple(
            entry for entry in order.after_sale.entries if entry.kind in (EntryKind.MESSAGE, EntryKind.MAIL)
        )
        return ReplyPlan(access, targets, _preselected(order, targets, entry_key), conversation)

    def prepare(self, user_id: str, draft: ReplyDraft) -> ReplyResult:
        """Check the form and claim the reply (fast: before the view submission is acked)."""
        if draft.ref is None:
            return ReplyResult(answer=said("This form lost track of its order; open Reply again from the card."))
        access = self._desk.access(user_id, draft.ref)
        if not access.allowed:
            return ReplyResult(answer=access.refusal)
        order = access.order
        assert order is not None
        parsed = ReplyTarget.parse(draft.target)
        target = next(
            (t for t in reply_targets(order) if parsed is not None and (t.to, t.itemid) == parsed), None
        )
        if target is None:
            return ReplyResult(field_errors={"to": said("Choose who to answer.")})
        text = draft.text.strip()
        if not text:
            return ReplyResult(field_errors={"text": said("Write your message.")})
        if len(text) > MESSAGE_MAX:
            return ReplyResult(
                field_errors={
                    "text": said(
                        "Rakuten takes at most {limit} characters; this message has {length}.",
                        limit=MESSAGE_MAX,
                        length=len(text),
                    )
                }
            )
        return self._claim(user_id, order, target, text, draft.reply_id)

    def _claim(self, user_id: str, order: OrderRecord, target: ReplyTarget, text: str, reply_id: str) -> ReplyResult:
        now = self._clock()
        outcome: list[str] = []

        def claim(current: OrderRecord) -> OrderRecord | None:
            replies = current.after_sale.replies
            if any(reply.reply_id == reply_id for reply in replies):
                outcome.append("again")
                return None
            if any(_same(reply, target, text, now) for reply in replies):
                outcome.append("same")
                return None
            replies.append(
                OutgoingReply(reply_id, target.itemid, target.to, text, user_id, now, target.parent_mail_id)
            )
            return current

        self._store.update_order(order.account, order.purchaseid, claim)
        if outcome:
            return ReplyResult(
                answer=said(
                    "Order {purchaseid}: this reply is already sent or on its way. Nothing was sent twice.",
                    purchaseid=order.purchaseid,
                )
            )
        if target.to is Party.CUSTOMER_SERVICE:
            answer = said(
                "Sending your reply to Rakuten's customer service (order {purchaseid})…", purchaseid=order.purchaseid
            )
        else:
            answer = said("Sending your reply to the buyer (order {purchaseid})…", purchaseid=order.purchaseid)
        return ReplyResult(answer=answer, claim=ReplyClaim(order.account, order.purchaseid, reply_id))

    # --- sending ------------------------------------------------------------------------------------------------

    def start(self, claim: ReplyClaim | None) -> None:
        """After the ack: send the claimed reply in the background."""
        if claim is not None:
            self._runner.submit(lambda: self._attempt(claim.account, claim.purchaseid, claim.reply_id))

    def resume_pending(self) -> int:
        """At start: send every reply a previous run left pending (its requester is told how it ends)."""
        count = 0
        for account in self._store.list_accounts():
            for order in self._store.list_after_sale_orders(account.login):
                for reply in order.after_sale.replies:
                    if reply.pending:
                        self._runner.submit(
                            lambda o=order, r=reply.reply_id: self._attempt(o.account, o.purchaseid, r)
                        )
                        count += 1
        return count

    def _attempt(self, login: str, purchaseid: str, reply_id: str) -> None:
        """One try, as a background job: whatever goes wrong ends visibly (the writer is told), never silently."""
        try:
            self._try_once(login, purchaseid, reply_id)
        except Exception as error:  # the job's boundary: a bug, or the bot's own failure (BotError)
            if isinstance(error, BotError):
                logger.error("order %s reply %s stopped: %s", purchaseid, reply_id, describe(error))
            else:
                logger.exception("order %s reply %s stopped on a bug", purchaseid, reply_id, exc_info=error)
            reply = self._fail(login, purchaseid, reply_id, describe(error))
            if reply is not None:
                self._tell(login, purchaseid, reply, ActionOutcome.BOT_FAILED, reason=describe(error))

    def _try_once(self, login: str, purchaseid: str, reply_id: str) -> None:
        account = self._store.get_account(login)
        order = self._store.get_order(login, purchaseid)
        reply = order.after_sale.reply(reply_id) if order is not None else None
        if account is None or order is None or reply is None or not reply.pending:
            return
        if reply.attempts:
            # A try went out before and its answer never came back (a timeout, a crash): Rakuten's history says
            # whether it arrived. Reading it also marks the item's messages read: they are stored like a to-do read.
            infos = self._clients.client_for(account).get_item_infos(reply.itemid)
            self._after_sale.store_infos(account, order, infos)
            current = self._store.get_order(login, purchaseid)
            found = current.after_sale.reply(reply_id) if current is not None else None
            if found is not None and not found.pending:
                self._after_sale.publish(login, purchaseid)
                self._tell(login, purchaseid, found, ActionOutcome.WENT_THROUGH)
                return
        sending = self._count_try(login, purchaseid, reply_id)
        if sending is None:
            return
        client = self._clients.client_for(account, retry=SINGLE_TRY)
        try:
            if sending.to is Party.CUSTOMER_SERVICE:
                client.contact_us_about_item(
                    sending.itemid, sending.content, parent_mail_id=sending.parent_mail_id or ""
                )
            else:
                client.contact_user_about_item(sending.itemid, sending.content)
        except QuotaExceededError as error:
            first = self._note_error(login, purchaseid, reply_id, "Rakuten's hourly quota is spent")
            if first:
                self._tell(login, purchaseid, sending, ActionOutcome.WAITING_FOR_QUOTA, retry_at=error.retry_at)
            delay = max((error.retry_at - self._clock()).total_seconds(), 1.0)
            self._runner.submit_later(delay, lambda: self._attempt(login, purchaseid, reply_id))
        except RakutenError as error:
            if not error.retryable:
                failed = self._fail(login, purchaseid, reply_id, error.message)
                if failed is not None:
                    self._tell(login, purchaseid, failed, ActionOutcome.REFUSED_BY_RAKUTEN, reason=error.message)
                return
            delay = self._schedule.delay_after(sending.attempts)
            first = self._note_error(login, purchaseid, reply_id, error.message)
            if delay is None:
                reason = said(
                    "Rakuten could not be reached after {attempts} attempts ({reason})",
                    attempts=sending.attempts,
                    reason=error.message,
                )
                failed = self._fail(login, purchaseid, reply_id, str(reason))
                if failed is not None:
                    self._tell(login, purchaseid, failed, ActionOutcome.REFUSED_BY_RAKUTEN, reason=reason)
                return
            if first:
                self._tell(login, purchaseid, sending, ActionOutcome.QUEUED, reason=error.message)
            self._runner.submit_later(delay, lambda: self._attempt(login, purchaseid, reply_id))
        else:
            self._sent(login, purchaseid, reply_id)
            self._after_sale.publish(login, purchaseid)
            self._tell(login, purchaseid, sending, ActionOutcome.OK)

    # --- the store ------------------------------------------------------------------------------------------

    def _count_try(self, login: str, purchaseid: str, reply_id: str) -> OutgoingReply | None:
        """Count the try about to go out, durably, before it goes; None when the reply is no longer pending."""
        taken: list[OutgoingReply] = []

        def count(order: OrderRecord) -> OrderRecord | None:
            reply = order.after_sale.reply(reply_id)
            if reply is None or not reply.pending:
                return None
            reply.attempts += 1
            taken.append(dataclasses.replace(reply))
            return order

        self._store.update_order(login, purchaseid, count)
        return taken[0] if taken else None

    def _sent(self, login: str, purchaseid: str, reply_id: str) -> None:
        now = self._clock()

        def done(order: OrderRecord) -> OrderRecord:
            record_sent(order.after_sale, reply_id, now)
            return order

        self._store.update_order(login, purchaseid, done)

    def _note_error(self, login: str, purchaseid: str, reply_id: str, reason: str) -> bool:
        first: list[bool] = []

        def keep(order: OrderRecord) -> OrderRecord | None:
            reply = order.after_sale.reply(reply_id)
            if reply is None or not reply.pending:
                return None
            first.append(reply.last_error is None)
            reply.last_error = reason
            return order

        self._store.update_order(login, purchaseid, keep)
        return bool(first and first[0])

    def _fail(self, login: str, purchaseid: str, reply_id: str, reason: str) -> OutgoingReply | None:
        failed: list[OutgoingReply] = []

        def fail(order: OrderRecord) -> OrderRecord | None:
            reply = order.after_sale.reply(reply_id)
            if reply is None or not reply.pending:
                return None
            reply.failure = reason
            failed.append(reply)
            return order

        self._store.update_order(login, purchaseid, fail)
        return failed[0] if failed else None

    def _tell(
        self,
        login: str,
        purchaseid: str,
        reply: OutgoingReply,
        outcome: ActionOutcome,
        *,
        reason: Sentence | str | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        account = self._store.get_account(login)
        message = self._reports.reply_result(
            reply.requested_by, purchaseid, reply.to, outcome, reason=reason, retry_at=retry_at
        )
        tell_privately(self._web_client, reply.requested_by, account.channel_id if account else "", message)


def reply_targets(order: OrderRecord) -> tuple[ReplyTarget, ...]:
    """Who can be answered: for each item with a conversation, its buyer, and customer service when it wrote."""
    targets: list[ReplyTarget] = []
    for item in order.items:
        entries = [entry for entry in order.after_sale.entries if entry.itemid == item.itemid]
        if not entries:
            continue
        targets.append(ReplyTarget(item.itemid, Party.BUYER))
        mail = order.after_sale.latest_mail_from_customer_service(item.itemid)
        if mail is not None and mail.mail_id:
            targets.append(ReplyTarget(item.itemid, Party.CUSTOMER_SERVICE, mail.mail_id))
    return tuple(targets)


def _preselected(order: OrderRecord, targets: tuple[ReplyTarget, ...], entry_key: str | None) -> ReplyTarget:
    """The one the clicked message came from; else the buyer of the oldest unanswered message; else the first."""
    entry = order.after_sale.entry(entry_key) if entry_key else None
    if entry is None:
        waiting = order.after_sale.unanswered()
        entry = waiting[0] if waiting else None
    if entry is not None:
        to = Party.CUSTOMER_SERVICE if entry.party is Party.CUSTOMER_SERVICE else Party.BUYER
        for target in targets:
            if (target.itemid, target.to) == (entry.itemid, to):
                return target
    return targets[0]


def _same(reply: OutgoingReply, target: ReplyTarget, text: str, now: datetime) -> bool:
    return (
        reply.failure is None
        and (reply.itemid, reply.to) == (target.itemid, target.to)
        and " ".join(reply.content.split()) == " ".join(text.split())
        and abs((now - reply.requested_at).total_seconds()) < SAME_REPLY_WINDOW.total_seconds()
    )
