"""The daily summary: once a day at the configured time (Paris), in each account's order channel, once per day
however often the job runs and whatever crashes in between.

The same claim-then-post as reminders (``bot.services.reminders``), keyed by the day: one atomic ``update_account``
records the day's ``DailySummaryMark`` with a fresh claim id, unless that day is already claimed; the claimant
posts the summary with metadata (``DAILY_SUMMARY_EVENT_TYPE``: account, day), then stores its ts. A claim left
without a ts for longer than the grace is settled from the channel's history: found → its ts is stored; not found →
claimed again (compare-and-set on the old claim id) and posted.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from bot.constants import DAILY_SUMMARY_EVENT_TYPE
from bot.domain.accounts import AccountRecord, DailySummaryMark
from bot.domain.daily_summary import daily_figures, summary_day_due
from bot.domain.deadlines import DeadlineRules, aware
from bot.services.notices import FollowUpNotices
from bot.services.reminders import DEFAULT_CLAIM_GRACE, HISTORY_MARGIN
from bot.services.slack_history import HistoryReadError, marked_in_channel
from bot.slack.access import SlackAccessGate
from bot.slack.poster import SlackPoster, SlackWriteError
from bot.store.base import Store

logger = logging.getLogger(__name__)

# (channel, ts) -> the message's permalink, or None when Slack could not give one.
PermalinkLookup = Callable[[str, str], str | None]


class DailySummaries:
    def __init__(
        self,
        store: Store,
        poster: SlackPoster,
        *,
        clock: Callable[[], datetime],
        notices: FollowUpNotices,
        rules: DeadlineRules,
        at: time | None,
        permalink: PermalinkLookup,
        claim_grace: timedelta = DEFAULT_CLAIM_GRACE,
        access: SlackAccessGate | None = None,
        new_claim: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._store = store
        self._poster = poster
        self._clock = clock
        self._notices = notices
        self._rules = rules
        self._at = at
        self._permalink = permalink
        self._claim_grace = claim_grace
        self._access = access
        self._new_claim = new_claim
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._at is not None

    def run(self) -> int:
        """Post every account's summary that is due and not posted yet; returns how many were posted."""
        if self._at is None:
            return 0
        with self._lock:
            if self._access is not None and self._access.revocation is not None:
                return 0
            now = self._clock()
            posted = 0
            for account in self._store.list_accounts():
                try:
                    posted += self._follow_up(account, self._at, now)
                except (SlackWriteError, HistoryReadError) as error:
                    logger.warning("daily summary of %s: Slack: %s", account.login, error)
            return posted

    def _follow_up(self, account: AccountRecord, at: time, now: datetime) -> int:
        day = summary_day_due(now, at, account.connected_at)
        if day is None:
            return 0
        mark = account.daily_summary
        replacing: str | None = None
        if mark is not None and mark.day >= day.isoformat():
            if mark.day > day.isoformat() or mark.posted_ts is not None:
                return 0  # posted (or a later day's claimed: a clock set back must not post again)
            if aware(now) - aware(mark.claimed_at) < self._claim_grace:
                return 0  # being posted right now, or failed a moment ago: settled once the grace is over
            found = self._posted_before(account, day, mark)
            if found is not None:
                self._confirm(account.login, mark.claim, found)
                logger.info("the daily summary of %s for %s was posted before a restart", account.login, day)
                return 0
            replacing = mark.claim
        claimed = self._claim(account.login, day, now, replacing=replacing)
        if claimed is None:
            return 0
        self._post(claimed, day, now)
        return 1

    def _claim(self, login: str, day: date, now: datetime, *, replacing: str | None) -> AccountRecord | None:
        claim = self._new_claim()
        wanted = day.isoformat()

        def change(current: AccountRecord) -> AccountRecord | None:
            mark = current.daily_summary
            if replacing is None and mark is not None and mark.day >= wanted:
                return None
            if replacing is not None and (mark is None or mark.claim != replacing or mark.posted_ts is not None):
                return None
            current.daily_summary = DailySummaryMark(day=wanted, claim=claim, claimed_at=now)
            return current

        stored = self._store.update_account(login, change)
        mark = stored.daily_summary if stored is not None else None
        return stored if mark is not None and mark.claim == claim else None

    def _post(self, account: AccountRecord, day: date, now: datetime) -> None:
        assert account.daily_summary is not None
        claim = account.daily_summary.claim
        figures = daily_figures(self._store.iter_orders(account.login, open_only=False), day, now, self._rules)
        links = {
            order.purchaseid: link
            for order in figures.listed()
            if order.card is not None and (link := self._permalink(order.card.channel, order.card.ts)) is not None
        }
        message = self._notices.daily_summary(account, figures, links)
        metadata = {
            "event_type": DAILY_SUMMARY_EVENT_TYPE,
            "event_payload": {"account": account.login, "day": day.isoformat()},
        }
        # once: a lost answer is settled from the channel's history, never blindly retried
        posted = self._poster.post(account.channel_id, metadata=metadata, once=True, **message.as_kwargs())
        self._confirm(account.login, claim, posted.ts)

    def _confirm(self, login: str, claim: str, ts: str) -> None:
        def change(current: AccountRecord) -> AccountRecord | None:
            mark = current.daily_summary
            if mark is None or mark.claim != claim:
                return None
            mark.posted_ts = ts
            return current

        self._store.update_account(login, change)

    def _posted_before(self, account: AccountRecord, day: date, mark: DailySummaryMark) -> str | None:
        oldest = aware(mark.claimed_at) - HISTORY_MARGIN
        for message in marked_in_channel(
            self._poster.client, account.channel_id, event_type=DAILY_SUMMARY_EVENT_TYPE, oldest=oldest
        ):
            if message.payload.get("account") == account.login and message.payload.get("day") == day.isoformat():
                return message.ts
        return None
