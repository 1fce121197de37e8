"""Orders as the bot follows them: one per Rakuten purchase, its state kept per item (Rakuten acts per item,
one item = one unit), and what a seller can still do with it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.domain.after_sale import AfterSale
from rakuten.models import Address, ItemStatus, Money


class ItemState(StrEnum):
    TO_ACCEPT = "to_accept"
    TO_SHIP = "to_ship"
    SHIPPED = "shipped"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    ON_HOLD = "on_hold"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        return self in {ItemState.SHIPPED, ItemState.REFUSED, ItemState.CANCELLED}

    @classmethod
    def from_rakuten(cls, status: ItemStatus) -> ItemState:
        return _ITEM_STATE_BY_STATUS[status]


_ITEM_STATE_BY_STATUS = {
    ItemStatus.TO_ACCEPT: ItemState.TO_ACCEPT,
    ItemStatus.ACCEPTED: ItemState.TO_SHIP,
    ItemStatus.ON_HOLD: ItemState.ON_HOLD,
    ItemStatus.SHIPPED: ItemState.SHIPPED,
    ItemStatus.REFUSED: ItemState.REFUSED,
    ItemStatus.CANCELLED: ItemState.CANCELLED,
    ItemStatus.UNKNOWN: ItemState.UNKNOWN,
}


class OrderState(StrEnum):
    """The order's state as a seller reads it, derived from its items."""

    TO_ACCEPT = "to_accept"
    TO_SHIP = "to_ship"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    ON_HOLD = "on_hold"
    UNKNOWN = "unknown"


class PendingKind(StrEnum):
    ACCEPT = "accept"
    REFUSE = "refuse"
    SHIP = "ship"
    CANCEL = "cancel"  # cancelitem: an accepted item the seller cannot ship


# Seconds between the tries of an accept / refuse / tracking call through a Rakuten outage: about an hour in all.
ACTION_RETRY_DELAYS: tuple[float, ...] = (5, 15, 30, 60, 120, 300, 600, 900, 1800)


@dataclass(slots=True)
class PendingAction:
    """A Rakuten call requested from Slack that has not succeeded yet (in flight, or retrying after an outage).

    It makes clicks idempotent: while it is set, a second click or submit makes no second call.
    """

    kind: PendingKind
    requested_by: str
    requested_at: datetime
    attempts: int = 0
    last_error: str | None = None
    shipment: Shipment | None = None
    comment: str | None = None  # a cancellation's reason, passed on to the buyer


@dataclass(slots=True)
class Shipment:
    carrier: str
    tracking_number: str
    tracking_url: str | None = None
    shipped_by: str | None = None  # Slack user id; None when shipped on the Rakuten site
    shipped_at: datetime | None = None


@dataclass(slots=True)
class OrderItem:
    itemid: str
    headline: str
    state: ItemState
    rakuten_status: str = ""
    sku: str | None = None
    eans: tuple[str, ...] = ()
    isbn: str | None = None
    price: Money | None = None
    is_preorder: bool = False
    is_nego: bool = False
    is_fulfilled_by_rakuten: bool = False
    shipment: Shipment | None = None
    pending: PendingAction | None = None
    failure: str | None = None  # last definite refusal from Rakuten for this item, shown on the card
    failed_attempts: int | None = None  # set when ``failure`` is the last of that many tries Rakuten never answered
    failed_in_bot: bool = False  # ``failure`` is the bot's own error (a bug, a store that cannot be written)


@dataclass(slots=True)
class PrepaidLabel:
    """Rakuten's prepaid shipping label for prepaid modes (So Colissimo, Chronopost): print it, ship with it."""

    label_url: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None


@dataclass(slots=True)
class ReminderMark:
    """One reminder in an order card's thread, claimed before it is posted (see ``bot.services.reminders``).

    ``claim`` names who took it: whoever stores its own claim first posts; a claim left without ``posted_ts`` (a
    crash, a lost answer) is settled later from the thread's history, by the message metadata.
    """

    claim: str
    claimed_at: datetime
    posted_ts: str | None = None
    dropped: bool = False  # the claim was settled without posting: no longer due (accepted, shipped meanwhile)

    @property
    def settled(self) -> bool:
        return self.posted_ts is not None or self.dropped


@dataclass(slots=True)
class CardRef:
    channel: str
    ts: str
    thread_ts: str | None = None  # set when the card was posted in a burst summary's thread


@dataclass(slots=True)
class OrderRecord:
    account: str  # seller login
    purchaseid: str
    purchase_date: datetime | None
    shipping_type: str
    is_express: bool
    items: list[OrderItem]
    ship_to: Address | None = None
    buyer_login: str | None = None
    total: Money | None = None  # what the buyer paid, items and shipping (getbillinginformation); None until known
    card: CardRef | None = None
    # Set just before a card is posted: a crash before ``card`` is stored is then recovered from the
    # channel's history (message metadata) instead of posting a second card.
    post_started_at: datetime | None = None
    post_thread_ts: str | None = None  # the burst summary the card was being posted under, for recovery
    card_fingerprint: str | None = None  # digest of what the card last showed, to skip no-op updates
    first_seen_at: datetime | None = None
    updated_at: datetime | None = None
    closed_at: datetime | None = None  # when every item reached a final state
    personal_data_purged: bool = False
    # Complete polls in a row that listed neither this sale awaiting acceptance nor its current-sales entry.
    unlisted_polls: int = 0
    prepaid_label: PrepaidLabel | None = None
    prepaid_label_checks: int = 0  # getshippinginformation calls that found no label yet
    billing_checks: int = 0  # getbillinginformation calls that gave no total
    accepted_at: datetime | None = None  # when the bot saw the last item accepted (None: accepted before it looked)
    reminders: dict[str, ReminderMark] = field(default_factory=dict)  # by reminder key (``DueReminder.key``)
    after_sale: AfterSale = field(default_factory=AfterSale)  # messages, claims, replies (bot.domain.after_sale)

    @property
    def key(self) -> str:
        return order_key(self.account, self.purchaseid)

    @property
    def state(self) -> OrderState:
        states = {item.state for item in self.items}
        if not states:
            return OrderState.UNKNOWN
        if ItemState.TO_ACCEPT in states:
            return OrderState.TO_ACCEPT
        if ItemState.ON_HOLD in states:
            return OrderState.ON_HOLD
        if ItemState.TO_SHIP in states:
            return OrderState.PARTIALLY_SHIPPED if ItemState.SHIPPED in states else OrderState.TO_SHIP
        for final in (ItemState.SHIPPED, ItemState.CANCELLED, ItemState.REFUSED):
            if final in states:
                return OrderState(final.value)
        return OrderState.UNKNOWN

    @property
    def is_open(self) -> bool:
        return not all(item.state.is_final for item in self.items)

    def item(self, itemid: str) -> OrderItem | None:
        return next((item for item in self.items if item.itemid == itemid), None)


@dataclass(frozen=True, slots=True)
class OrderRef:
    """Which order an action is about: the seller login and Rakuten's purchase id."""

    account: str
    purchaseid: str


@dataclass(frozen=True, slots=True)
class ShipmentDraft:
    """A shipment as typed in Mark shipped, not validated yet. ``ref`` is None when the form lost its order;
    ``itemids`` None means every item that can still be shipped."""

    ref: OrderRef | None
    carrier: str | None
    tracking_number: str
    tracking_url: str | None = None
    itemids: tuple[str, ...] | None = None


def order_key(account: str, purchaseid: str) -> str:
    return f"{account}/{purchaseid}"


SHIPPABLE_STATES = frozenset({OrderState.TO_SHIP, OrderState.PARTIALLY_SHIPPED})


def note_acceptance(order: OrderRecord, now: datetime) -> None:
    """Stamp ``accepted_at`` when the order leaves "to accept" with an item accepted (not all refused): the start
    of its time to ship. Call it where the bot sees the order go from awaiting acceptance to accepted."""
    accepted = {ItemState.TO_SHIP, ItemState.SHIPPED, ItemState.ON_HOLD}
    if order.accepted_at is None and order.state is not OrderState.TO_ACCEPT and any(
        item.state in accepted for item in order.items
    ):
        order.accepted_at = now


def shippable_items(order: OrderRecord) -> list[OrderItem]:
    """Items a parcel can still be declared for: accepted, not shipped, no shipment already on its way."""
    return [item for item in order.items if item.state is ItemState.TO_SHIP and item.pending is None]


def order_total(order: OrderRecord) -> tuple[Money | None, bool]:
    """(amount, is_items_sum): Rakuten's total when known, else the sum of the item prices."""
    if order.total is not None:
        return order.total, False
    prices = [item.price for item in order.items if item.price is not None]
    if not prices or len(prices) != len(order.items):
        return None, False
    total = prices[0]
    try:
        for price in prices[1:]:
            total = total + price
    except ValueError:  # mixed currencies: no honest single figure
        return None, False
    return total, True
