"""Connected Rakuten seller accounts, their settings, and the health of their polling."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    outage_alerted: bool = False
    # Per Rakuten action: no call before this time (quota exceeded); and whether the channel was told.
    quota_blocked_until: dict[str, datetime] = field(default_factory=dict)
    quota_notified: dict[str, bool] = field(default_factory=dict)


@dataclass(slots=True)
class AccountRecord:
    login: str
    token_ciphertext: str  # Fernet token; the clear token never reaches the store
    channel_id: str
    connected_by: str | None = None
    connected_at: datetime | None = None
    seller_id: str | None = None
    settings: AccountSettings = field(default_factory=AccountSettings)
    health: PollHealth = field(default_factory=PollHealth)
