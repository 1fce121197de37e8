"""Reminders in an order card's thread, each posted exactly once: across crashes, restarts and (later) replicas.

The rules say which reminders an order is due (``bot.domain.reminders``); this service makes each one happen once:

1. **Claim**: one atomic ``update_order`` records the reminder under the order (``ReminderMark`` with a fresh claim
   id), only if nobody recorded it before and it is still due. Whoever's claim is stored posts; everyone else (a
   second replica, a run that overlaps) sees the key taken and moves on.
2. **Post** in the card's thread, with message metadata (``REMINDER_EVENT_TYPE``: account, purchaseid, key).
3. **Confirm**: store the reminder message's ts.

A crash between 1 and 3 leaves a claim without a ts. Once it is older than the grace (longer than a post can take,
Slack's rate-limit waits included, so a live claimant is never second-guessed), a run settles it from the thread's
history: the reminder is there (posted, answer or confirmation lost) → its ts is stored; it is not → it is claimed
again (compare-and-set on the old claim id, so two settlers cannot both win) and posted, if still due; no longer due
(accepted, shipped meanwhile) → dropped. A post Slack refused is settled the same way, and so tried again.

Nothing is posted for a closed order: the claim itself checks that the reminder is still due, and closed orders
are due none.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.constants import REMINDER_EVENT_TYPE
from bot.domain.accounts import AccountRecord
from bot.domain.deadlines import DeadlineRules, aware, is_late_to_ship
from bot.domain.orders import OrderRecord, ReminderMark
from bot.domain.reminders import REMINDER_RULES, DueReminder, ReminderRule, reminders_due_now, unclaimed_reminders
from bot.services.card_publisher import CardPublisher, CardRecoveryError
from bot.services.notices import FollowUpNotices
from bot.services.slack_history import HistoryReadError, marked_in_thread
from bot.slack.access import SlackAccessGate
from bot.slack.poster import SlackPoster, SlackWriteError
from bot.store.base import Store

logger = logging.getLogger(__name__)

# Longer than any post can take (the paced sender waits out up to six Retry-After of a minute or so at worst).
DEFAULT_CLAIM_GRACE = timedelta(minutes=10)
# How far before a claim to read the thread (clock skew between the bot and Slack).
HISTORY_MARGIN = timedelta(minutes=5)


@dataclass(slots=True)
class ReminderReport:
    posted: int = 0
    recovered: int = 0  # found already posted in the thread (a crash between posting and recording it)
    dropped: int = 0  # claimed, never posted, and no longer due when settled
    failed: int = 0  # orders Slack kept us from following up this time (tried again on the next run)


class Reminders:
    def __init__(
        self,
        store: Store,
        poster: SlackPoster,
        publisher: CardPublisher,
        *,
        clock: Callable[[], datetime],
        notices: FollowUpNotices,
        rules: DeadlineRules,
        claim_grace: timedelta = DEFAULT_CLAIM_GRACE,
        rule_set: Sequence[ReminderRule] = REMINDER_RULES,
        access: SlackAccessGate | None = None,
        new_claim: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._store = store
        self._poster = poster
        self._publisher = publisher
        self._clock = clock
        self._notices = notices
        self._rules = rules
        self._claim_grace = claim_grace
        self._rule_set = tuple(rule_set)
        self._access = access
        self._new_claim = new_claim
        self._lock = threading.Lock()  # one run at a time in this process (the scheduled one, a test's)

    def run(self) -> ReminderReport:
        """Follow up every account's open orders: settle old claims, claim and post what is due, mark late cards."""
        with self._lock:
            report = ReminderReport()
            if self._access is not None and self._access.revocation is not None:
                return report
            now = self._clock()
            for account in self._store.list_accounts():
                followed = {order.purchaseid: order for order in self._store.iter_orders(account.login, open_only=True)}
                for order in self._store.list_after_sale_orders(account.login):
                    followed.setdefault(order.purchaseid, order)  # closed, with a buyer message still waiting
                for order in followed.values():
                    try:
                        self._follow_up(account, order, now, report)
                    except (SlackWriteError, HistoryReadError, CardRecoveryError) as error:
                        report.failed += 1
                        logger.warning("reminders of order %s: Slack: %s", order.purchaseid, error)
            if report.posted or report.recovered or report.dropped:
                logger.info(
                    "reminders: posted %d, recovered %d, dropped %d",
                    report.posted,
                    report.recovered,
                    report.dropped,
                )
            return report

    def _follow_up(self, account: AccountRecord, order: OrderRecord, now: datetime, report: ReminderReport) -> None:
        if order.card is None:
            return  # reminders go in the card's thread: they wait for the card (the next poll posts it)
        for key, mark in list(order.reminders.items()):
            if not mark.settled and aware(now) - aware(mark.claimed_at) >= self._claim_grace:
                self._settle(account, order, key, mark, now, report)
        for reminder in unclaimed_reminders(order, now, self._rules, self._rule_set):
            claimed = self._claim(order, reminder.key, now, replacing=None)
            if claimed is not None:
                self._post(account, claimed, reminder, now)
                report.posted += 1
        if is_late_to_ship(order, now, self._rules):
            # The card says "late" until shipped: one chat.update when it turns late (a no-op render afterwards).
            current = self._store.get_order(order.account, order.purchaseid)
            if current is not None:
                self._publisher.refresh(account, current)

    # --- the three steps ----------------------------------------------------------------------------------------

    def _claim(self, order: OrderRecord, key: str, now: datetime, *, replacing: str | None) -> OrderRecord | None:
        """Record the reminder as ours, atomically; the stored order when we got it, None when someone else has it
        or it is no longer due. ``replacing``: take over that unsettled claim (and only that one)."""
        claim = self._new_claim()

        def change(current: OrderRecord) -> OrderRecord | None:
            mark = current.reminders.get(key)
            if replacing is None and mark is not None:
                return None
            if replacing is not None and (mark is None or mark.claim != replacing or mark.settled):
                return None
            if key not in self._due_keys(current, now):
                return None
            current.reminders[key] = ReminderMark(claim=claim, claimed_at=now)
            return current

        stored = self._store.update_order(order.account, order.purchaseid, change)
        mark = stored.reminders.get(key) if stored is not None else None
        return stored if mark is not None and mark.claim == claim else None

    def _post(self, account: AccountRecord, order: OrderRecord, reminder: DueReminder, now: datetime) -> None:
        card = order.card
        assert card is not None  # checked before claiming; a claimed order keeps its card
        claim = order.reminders[reminder.key].claim
        first_seen = order.first_seen_at
        # An order already overdue when the bot first saw it (an account just connected) gets its reminder without
        # a ping: a first poll must not page the shop once per old order.
        mention = first_seen is None or aware(reminder.due_at) > aware(first_seen)
        message = self._notices.reminder(account, order, reminder, mention=mention, now=now)
        metadata = {
            "event_type": REMINDER_EVENT_TYPE,
            "event_payload": {"account": order.account, "purchaseid": order.purchaseid, "reminder": reminder.key},
        }
        posted = self._poster.post(  # once: a lost answer is settled from the thread, never blindly retried
            card.channel, thread_ts=card.thread_ts or card.ts, metadata=metadata, once=True, **message.as_kwargs()
        )
        self._confirm(order, reminder.key, claim, posted.ts)

    def _confirm(self, order: OrderRecord, key: str, claim: str, ts: str) -> None:
        def change(current: OrderRecord) -> OrderRecord | None:
            mark = current.reminders.get(key)
            if mark is None or mark.claim != claim:
                return None
            mark.posted_ts = ts
            return current

        self._store.update_order(order.account, order.purchaseid, change)

    # --- after a crash ------------------------------------------------------------------------------------------

    def _settle(
        self,
        account: AccountRecord,
        order: OrderRecord,
        key: str,
        mark: ReminderMark,
        now: datetime,
        report: ReminderReport,
    ) -> None:
        """An old claim never confirmed: posted after all (the thread says so), or to post now, or no longer due."""
        card = order.card
        assert card is not None
        thread = card.thread_ts or card.ts
        oldest = aware(mark.claimed_at) - HISTORY_MARGIN
        for message in marked_in_thread(
            self._poster.client, card.channel, thread, event_type=REMINDER_EVENT_TYPE, oldest=oldest
        ):
            payload = message.payload
            if (payload.get("account"), payload.get("purchaseid"), payload.get("reminder")) == (
                order.account,
                order.purchaseid,
                key,
            ):
                self._confirm(order, key, mark.claim, message.ts)
                report.recovered += 1
                logger.info("reminder %s of order %s was posted before a restart", key, order.purchaseid)
                return
        due = {reminder.key: reminder for reminder in reminders_due_now(order, now, self._rules, self._rule_set)}
        reminder = due.get(key)
        if reminder is None:
            self._drop(order, key, mark.claim)
            report.dropped += 1
            return
        claimed = self._claim(order, key, now, replacing=mark.claim)
        if claimed is not None:
            self._post(account, claimed, reminder, now)
            report.posted += 1

    def _drop(self, order: OrderRecord, key: str, claim: str) -> None:
        def change(current: OrderRecord) -> OrderRecord | None:
            mark = current.reminders.get(key)
            if mark is None or mark.claim != claim or mark.settled:
                return None
            mark.dropped = True
            return current

        self._store.update_order(order.account, order.purchaseid, change)

    def _due_keys(self, order: OrderRecord, now: datetime) -> set[str]:
        return {reminder.key for reminder in reminders_due_now(order, now, self._rules, self._rule_set)}
