"""What the bot remembers: accounts, orders with their items, and an audit trail.

Records are plain dataclasses; ``to_doc`` / ``from_doc`` turn them into JSON-safe dicts for any store.
An order's state is kept per item, since Rakuten acts per item (one item = one unit).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from rakuten.models import Address, AddressKind, ItemStatus, Money


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


@dataclass(slots=True)
class PrepaidLabel:
    """Rakuten's prepaid shipping label for prepaid modes (So Colissimo, Chronopost): print it, ship with it."""

    label_url: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None


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


def order_key(account: str, purchaseid: str) -> str:
    return f"{account}/{purchaseid}"


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


@dataclass(slots=True)
class AuditEntry:
    at: datetime
    actor: str  # Slack user id, or "system" for the poller
    action: str
    account: str | None = None
    purchaseid: str | None = None
    itemids: tuple[str, ...] = ()
    outcome: str = "ok"
    detail: str | None = None


# --- JSON documents -------------------------------------------------------------------------------------


def to_doc(record: Any) -> dict[str, Any]:
    """A JSON-safe dict of a record: datetimes as ISO 8601, amounts as strings, enums as values."""
    return _encode(record)


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _money(doc: dict[str, Any] | None) -> Money | None:
    return Money(Decimal(doc["amount"]), doc.get("currency") or "EUR") if doc else None


def _address(doc: dict[str, Any] | None) -> Address | None:
    if not doc:
        return None
    return Address(**{**doc, "kind": AddressKind(doc["kind"])})


def _shipment(doc: dict[str, Any] | None) -> Shipment | None:
    if not doc:
        return None
    return Shipment(**{**doc, "shipped_at": _dt(doc.get("shipped_at"))})


def _pending(doc: dict[str, Any] | None) -> PendingAction | None:
    if not doc:
        return None
    return PendingAction(
        kind=PendingKind(doc["kind"]),
        requested_by=doc["requested_by"],
        requested_at=_dt(doc["requested_at"]),  # type: ignore[arg-type]
        attempts=doc.get("attempts", 0),
        last_error=doc.get("last_error"),
        shipment=_shipment(doc.get("shipment")),
    )


def item_from_doc(doc: dict[str, Any]) -> OrderItem:
    return OrderItem(
        itemid=doc["itemid"],
        headline=doc["headline"],
        state=ItemState(doc["state"]),
        rakuten_status=doc.get("rakuten_status", ""),
        sku=doc.get("sku"),
        eans=tuple(doc.get("eans") or ()),
        isbn=doc.get("isbn"),
        price=_money(doc.get("price")),
        is_preorder=doc.get("is_preorder", False),
        is_nego=doc.get("is_nego", False),
        is_fulfilled_by_rakuten=doc.get("is_fulfilled_by_rakuten", False),
        shipment=_shipment(doc.get("shipment")),
        pending=_pending(doc.get("pending")),
        failure=doc.get("failure"),
    )


def order_from_doc(doc: dict[str, Any]) -> OrderRecord:
    card = doc.get("card")
    return OrderRecord(
        account=doc["account"],
        purchaseid=doc["purchaseid"],
        purchase_date=_dt(doc.get("purchase_date")),
        shipping_type=doc.get("shipping_type", ""),
        is_express=doc.get("is_express", False),
        items=[item_from_doc(item) for item in doc.get("items", [])],
        ship_to=_address(doc.get("ship_to")),
        buyer_login=doc.get("buyer_login"),
        total=_money(doc.get("total")),
        card=CardRef(**card) if card else None,
        post_started_at=_dt(doc.get("post_started_at")),
        post_thread_ts=doc.get("post_thread_ts"),
        card_fingerprint=doc.get("card_fingerprint"),
        first_seen_at=_dt(doc.get("first_seen_at")),
        updated_at=_dt(doc.get("updated_at")),
        closed_at=_dt(doc.get("closed_at")),
        personal_data_purged=doc.get("personal_data_purged", False),
        unlisted_polls=doc.get("unlisted_polls", 0),
        prepaid_label=PrepaidLabel(**doc["prepaid_label"]) if doc.get("prepaid_label") else None,
        prepaid_label_checks=doc.get("prepaid_label_checks", 0),
        billing_checks=doc.get("billing_checks", 0),
    )


def account_from_doc(doc: dict[str, Any]) -> AccountRecord:
    health = dict(doc.get("health") or {})
    return AccountRecord(
        login=doc["login"],
        token_ciphertext=doc["token_ciphertext"],
        channel_id=doc["channel_id"],
        connected_by=doc.get("connected_by"),
        connected_at=_dt(doc.get("connected_at")),
        seller_id=doc.get("seller_id"),
        settings=AccountSettings(**(doc.get("settings") or {})),
        health=PollHealth(
            last_attempt_at=_dt(health.get("last_attempt_at")),
            last_success_at=_dt(health.get("last_success_at")),
            last_error=health.get("last_error"),
            last_error_at=_dt(health.get("last_error_at")),
            consecutive_failures=health.get("consecutive_failures", 0),
            outage_alerted=health.get("outage_alerted", False),
            quota_blocked_until={k: _dt(v) for k, v in (health.get("quota_blocked_until") or {}).items()},  # type: ignore[misc]
            quota_notified=dict(health.get("quota_notified") or {}),
        ),
    )


def audit_from_doc(doc: dict[str, Any]) -> AuditEntry:
    return AuditEntry(**{**doc, "at": _dt(doc["at"]), "itemids": tuple(doc.get("itemids") or ())})
