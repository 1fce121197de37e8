"""Connected Rakuten seller accounts, their settings, and the health of their polling."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.domain.orders import OrderRecord


class FailureKind(StrEnum):
    """Why a poll failed, as far as the bot can tell."""

    RAKUTEN = "rakuten"  # Rakuten refused or did not answer (its words are the detail)
    SLACK = "slack"  # Slack refused a card or a message
    TOKEN_UNREADABLE = "token_unreadable"  # the stored token does not decrypt with the bot's key
    DISK_FULL = "disk_full"
    DISK_READ_ONLY = "disk_read_only"
    DISK_UNWRITABLE = "disk_unwritable"
    STORE = "store"
    BUG = "bug"  # anything else: the traceback is in the log


@dataclass(frozen=True, slots=True)
class PollFailure:
    kind: FailureKind
    detail: str = ""  # what the failing part said (Rakuten's or Slack's words, the OS error); never a secret

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.detail}" if self.detail else self.kind.value


@dataclass(slots=True)
class AccountSettings:
    show_full_address: bool = False  # street address and phone on the card itself
    express_mention: str | None = None  # Slack user id (U…) or user group id (S…) mentioned on Express orders
    auto_accept: bool = False
    shipper_group: str | None = None  # user group whose members may ship/accept/refuse, besides channel members
    shipping_from_country: str = "FR"  # sent with acceptsale (EU one-stop-shop VAT)
    language: str | None = None  # of cards and alerts in the order channel; None: the bot's default language


@dataclass(slots=True)
class PollHealth:
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: PollFailure | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    outage_alerted: bool = False
    # Per Rakuten action: no call before this time (quota exceeded); and whether the channel was told.
    quota_blocked_until: dict[str, datetime] = field(default_factory=dict)
    quota_notified: dict[str, bool] = field(default_factory=dict)


@dataclass(slots=True)
class DailySummaryMark:
    """The account's latest daily summary, claimed before it is posted (see ``bot.services.daily_summary``)."""

    day: str  # ISO date (Paris) the summary is for
    claim: str
    claimed_at: datetime
    posted_ts: str | None = None


@dataclass(slots=True)
class AccountRecord:
    login: str
    token_ciphertext: str  # Fernet token; the clear token never reaches the store
    channel_id: str
    connected_by: str | None = None
    connected_at: datetime | None = None
    seller_id: str | None = None
    settings: AccountSettings = field(default_factory=AccountSettings)
    daily_summary: DailySummaryMark | None = None


@dataclass(frozen=True, slots=True)
class AccountStatus:
    """An account as `/rakuten status` and the Home tab show it: its polling health, next poll, open orders."""

    account: AccountRecord
    health: PollHealth = field(default_factory=PollHealth)
    next_poll: datetime | None = None
    open_orders: tuple[OrderRecord, ...] = ()
    unanswered_messages: int = 0  # buyer messages waiting for an answer, closed orders included
    open_claims: int = 0


@dataclass(frozen=True, slots=True)
class Credentials:
    """A seller login and its Rakuten API token, as typed: the token never shows in a repr."""

    login: str
    token: str = field(repr=False)


class SettingsProblem(StrEnum):
    NO_CHANNEL = "no_channel"
    BAD_MENTION = "bad_mention"
    BAD_GROUP = "bad_group"


@dataclass(frozen=True, slots=True)
class SettingsChange:
    """A submitted settings form. The ``*_input`` fields keep what was typed, to explain a rejected value."""

    channel_id: str | None
    express_mention: str | None
    shipper_group: str | None
    show_full_address: bool
    auto_accept: bool
    account_login: str | None = None  # the account the modal was opened for; None when the form lost it
    express_mention_input: str = ""
    shipper_group_input: str = ""
    language: str | None = None

    def problems(self) -> dict[str, SettingsProblem]:
        """What stops the change from being saved, keyed by field; empty when it can be saved."""
        problems: dict[str, SettingsProblem] = {}
        if self.channel_id is None:
            problems["channel"] = SettingsProblem.NO_CHANNEL
        if self.express_mention_input and self.express_mention is None:
            problems["express_mention"] = SettingsProblem.BAD_MENTION
        if self.shipper_group_input and self.shipper_group is None:
            problems["shipper_group"] = SettingsProblem.BAD_GROUP
        return problems

    def apply_to(self, settings: AccountSettings) -> AccountSettings:
        """A copy of ``settings`` with this form's values (the channel lives on the account, not here)."""
        return dataclasses.replace(
            settings,
            express_mention=self.express_mention,
            shipper_group=self.shipper_group,
            show_full_address=self.show_full_address,
            auto_accept=self.auto_accept,
            language=self.language or settings.language,
        )
