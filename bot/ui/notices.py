"""The UI side of ``bot.services.notices``: each notice rendered in the language of whoever reads it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.domain.accounts import AccountRecord, PollFailure
from bot.domain.after_sale import Party, ThreadEntry
from bot.domain.daily_summary import DailyFigures
from bot.domain.deadlines import DEFAULT_RULES, DeadlineRules
from bot.domain.orders import OrderRecord, PendingKind, Shipment
from bot.domain.reminders import DueReminder
from bot.domain.sentences import Sentence
from bot.services.notices import ActionOutcome
from bot.ui.after_sale import thread_entry_message
from bot.ui.follow_up import daily_summary_message, reminder_message
from bot.ui.i18n import Languages, Translator
from bot.ui.messages import (
    Message,
    action_result_message,
    burst_summary,
    outage_alert,
    quota_message,
    recovered_message,
    reply_result_message,
)
from bot.ui.order_card import OrderCard, build_order_card
from bot.ui.poll_failures import failure_text


class SlackNotices:
    """Implements ``OrderCards``, ``ChannelNotices``, ``FollowUpNotices``, ``AfterSaleNotices`` and
    ``ActionReports``."""

    def __init__(self, languages: Languages, rules: DeadlineRules = DEFAULT_RULES) -> None:
        self._languages = languages
        self._rules = rules

    def _channel(self, account: AccountRecord | None) -> Translator:
        return self._languages.channel(account.settings.language if account is not None else None)

    def card(self, account: AccountRecord, order: OrderRecord, now: datetime) -> OrderCard:
        return build_order_card(order, account.settings, now=now, t=self._channel(account), rules=self._rules)

    def burst_summary(self, account: AccountRecord, count: int, express: int) -> Message:
        return burst_summary(self._channel(account), account.login, count, express)

    def reminder(
        self, account: AccountRecord, order: OrderRecord, reminder: DueReminder, *, mention: bool, now: datetime
    ) -> Message:
        t = self._channel(account)
        return reminder_message(t, order, reminder, account.settings, mention=mention, now=now, rules=self._rules)

    def thread_entry(self, account: AccountRecord, order: OrderRecord, entry: ThreadEntry) -> Message:
        return thread_entry_message(self._channel(account), order, entry)

    def daily_summary(self, account: AccountRecord, figures: DailyFigures, links: Mapping[str, str]) -> Message:
        return daily_summary_message(self._channel(account), account.login, figures, links, rules=self._rules)

    def outage(
        self, account: AccountRecord | None, login: str, failure: PollFailure, since: datetime, failures: int
    ) -> Message:
        t = self._channel(account)
        return outage_alert(t, login, failure_text(t, failure), since, failures)

    def recovered(self, account: AccountRecord | None, login: str, down_since: datetime, now: datetime) -> Message:
        return recovered_message(self._channel(account), login, down_since, now)

    def quota(self, account: AccountRecord | None, login: str, action: str, retry_at: datetime) -> Message:
        return quota_message(self._channel(account), login, action, retry_at)

    def action_result(
        self,
        user_id: str,
        kind: PendingKind,
        purchaseid: str,
        outcome: ActionOutcome,
        *,
        item_count: int = 1,
        reason: Sentence | str | None = None,
        retry_at: datetime | None = None,
        shipment: Shipment | None = None,
    ) -> Message:
        return action_result_message(
            self._languages.user(user_id),
            kind,
            purchaseid,
            outcome,
            item_count=item_count,
            reason=reason,
            retry_at=retry_at,
            shipment=shipment,
        )

    def reply_result(
        self,
        user_id: str,
        purchaseid: str,
        to: Party,
        outcome: ActionOutcome,
        *,
        reason: Sentence | str | None = None,
        retry_at: datetime | None = None,
    ) -> Message:
        return reply_result_message(
            self._languages.user(user_id),
            purchaseid,
            to is Party.CUSTOMER_SERVICE,
            outcome,
            reason=reason,
            retry_at=retry_at,
        )
