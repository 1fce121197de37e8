"""What services hand to Slack without writing it: the ports they post through, implemented by the UI
(``bot.ui.notices``) and wired by the composition root. Services decide what happened and to whom; the UI
says it, in the right language."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bot.domain.accounts import AccountRecord, PollFailure
from bot.domain.after_sale import Party, ThreadEntry
from bot.domain.daily_summary import DailyFigures
from bot.domain.orders import OrderRecord, PendingKind, Shipment
from bot.domain.reminders import DueReminder
from bot.domain.sentences import Sentence
from bot.slack.notify import Postable

__all__ = [
    "ActionOutcome",
    "ActionReports",
    "AfterSaleNotices",
    "ChannelNotices",
    "FollowUpNotices",
    "OrderCards",
    "Postable",
    "RenderedCard",
    "ReplyReports",
]


class RenderedCard(Postable, Protocol):
    """An order card as it would be posted, with a digest of what it shows (to skip updates that change nothing)."""

    fingerprint: str


class OrderCards(Protocol):
    """Order cards and burst summaries, in the account's channel language."""

    def card(self, account: AccountRecord, order: OrderRecord, now: datetime) -> RenderedCard: ...

    def burst_summary(self, account: AccountRecord, count: int, express: int) -> Postable: ...


class ChannelNotices(Protocol):
    """The notices the poller posts in an account's order channel. ``account`` is None when it could not be
    read (the store failing): the notice is then in the bot's default language."""

    def outage(
        self, account: AccountRecord | None, login: str, failure: PollFailure, since: datetime, failures: int
    ) -> Postable: ...

    def recovered(self, account: AccountRecord | None, login: str, down_since: datetime, now: datetime) -> Postable: ...

    def quota(self, account: AccountRecord | None, login: str, action: str, retry_at: datetime) -> Postable: ...


class FollowUpNotices(Protocol):
    """Reminders in an order card's thread and the daily summary, in the account's channel language."""

    def reminder(
        self, account: AccountRecord, order: OrderRecord, reminder: DueReminder, *, mention: bool, now: datetime
    ) -> Postable:
        """``mention``: ping the account's shipper group (else the channel's active members)."""
        ...

    def daily_summary(self, account: AccountRecord, figures: DailyFigures, links: Mapping[str, str]) -> Postable:
        """``links``: the permalink of each listed order's card, by purchaseid (missing: shown without a link)."""
        ...


class AfterSaleNotices(Protocol):
    """What goes in an order card's thread about its after sale, in the account's channel language."""

    def thread_entry(self, account: AccountRecord, order: OrderRecord, entry: ThreadEntry) -> Postable:
        """A buyer message, a customer-service mail, a claim's opening, change or closing, or a reply sent from
        Slack (``entry.sent_by``)."""
        ...


class ActionOutcome(StrEnum):
    """How an accept / refuse / ship request ended, or where it stands."""

    OK = "ok"
    REFUSED_BY_RAKUTEN = "refused_by_rakuten"
    QUEUED = "queued"
    WAITING_FOR_QUOTA = "waiting_for_quota"
    ALREADY_DONE = "already_done"
    WENT_THROUGH = "went_through"  # an earlier try whose answer was lost had worked: Rakuten says it is done
    BOT_FAILED = "bot_failed"  # the bot's own error stopped the request; the button is offered again


class ActionReports(Protocol):
    """What the person who asked for an action is told, in their own language."""

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
    ) -> Postable: ...


class ReplyReports(Protocol):
    """What the person who wrote a reply is told about it, in their own language."""

    def reply_result(
        self,
        user_id: str,
        purchaseid: str,
        to: Party,
        outcome: ActionOutcome,
        *,
        reason: Sentence | str | None = None,
        retry_at: datetime | None = None,
    ) -> Postable: ...
