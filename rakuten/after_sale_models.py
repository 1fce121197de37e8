"""After sale at Rakuten France, as typed values: an item's conversation and claim (``getiteminfos``). Plain data
that the bot's domain reads; ``rakuten.after_sale`` parses them (and says what is known and assumed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Rakuten's own refusal for a longer cancellation comment (rakuten-api.md §3).
CANCEL_COMMENT_MAX = 400
# Undocumented for contactuseraboutitem / contactusaboutitem: a bound of our own, well above a usual answer.
MESSAGE_MAX = 2000


@dataclass(frozen=True, slots=True)
class ItemMail:
    """A mail between the seller and Rakuten's customer service about the item (``<mail>``)."""

    mail_id: str | None
    sent_at: datetime | None
    sender: str
    recipient: str
    subject: str | None
    content: str
    status: str | None  # UNREAD, READ, SENT… as Rakuten writes it
    position: int = 0  # place in the answer (newest first there): orders two written in the same minute


@dataclass(frozen=True, slots=True)
class ItemMessage:
    """A message between the seller and the buyer about the item (``<message>``: it has no id)."""

    sent_at: datetime | None
    sender: str
    recipient: str
    content: str
    status: str | None
    position: int = 0


@dataclass(frozen=True, slots=True)
class ItemClaim:
    created_at: datetime | None
    type: str | None  # e.g. DAMAGED
    state: str | None  # e.g. NEW
    amicable: bool
    comment: str | None


@dataclass(frozen=True, slots=True)
class ItemLog:
    created_at: datetime | None
    code: str | None  # ITEM_REQUESTED, PM_REMIND, ITEM_COMMITTED, AMICABLE_CLAIM_CREATION…
    description: str | None
    complement: str | None


@dataclass(frozen=True, slots=True)
class ItemInfos:
    """Everything ``getiteminfos`` tells about one item. Reading it marks its messages read at Rakuten."""

    itemid: str
    purchaseid: str | None = None
    purchase_date: datetime | None = None
    status: str | None = None  # itemstatus, e.g. ON_HOLD
    state: str | None = None  # itemstate, e.g. CLAIMED_AMICABLE
    state_label: str | None = None  # itemstatelabel: Rakuten's own words, in French
    payment_status: str | None = None
    claim: ItemClaim | None = None
    actions: tuple[str, ...] = ()  # availableactions' codes
    mails: tuple[ItemMail, ...] = ()
    messages: tuple[ItemMessage, ...] = ()
    logs: tuple[ItemLog, ...] = ()
    seller_id: str | None = None
