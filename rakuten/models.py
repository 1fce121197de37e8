"""Typed views of what Rakuten France's seller WebServices return.

A parsed response is a snapshot, and the bot keeps its own state in its store: treat these as values.
Most are frozen. ``Sale``, ``Item`` and ``Address`` are not, only because they are built by the ten
thousand per poll and a frozen dataclass costs eight times as much to construct (measured: it took page
parsing from ~20,500 to ~18,800 sales/s, under the 20,000/s target); nothing assigns to them after parsing.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

# Rakuten France's clock: its dates carry no zone and are French local time.
PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str = "EUR"

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def format(self) -> str:
        """French-style amount, e.g. ``1 234,50 €``."""
        sign = "-" if self.amount < 0 else ""
        whole, _, cents = f"{abs(self.amount):.2f}".partition(".")
        grouped = f"{int(whole):,}".replace(",", "\u202f")
        symbol = "€" if self.currency == "EUR" else self.currency
        return f"{sign}{grouped},{cents} {symbol}"


class AddressKind(StrEnum):
    DELIVERY = "delivery"
    BILLING = "billing"
    COLLECTION_POINT = "collection_point"


@dataclass(slots=True)
class Address:
    """A delivery, billing or relay (collection point) address.

    ``country_code`` is ISO 3166-1 alpha-2; Rakuten's ``FX`` (metropolitan France) is given as ``FR``.
    The relay fields (``point_id``, ``point_name``, ``contract_level``) are set only for collection points,
    whose street line arrives in ``address1``.
    """

    kind: AddressKind
    civility: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    address1: str | None = None
    address2: str | None = None
    zipcode: str | None = None
    city: str | None = None
    country: str | None = None
    country_code: str | None = None
    phone1: str | None = None
    phone2: str | None = None
    point_id: str | None = None
    point_name: str | None = None
    contract_level: str | None = None

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.firstname, self.lastname) if part)

    @property
    def phone(self) -> str | None:
        return self.phone1 or self.phone2

    @property
    def is_usable(self) -> bool:
        """An address a parcel can go to: at least a street line or a relay id, and a city or postcode."""
        has_place = bool(self.address1 or self.address2 or self.point_id)
        return has_place and bool(self.city or self.zipcode)


@dataclass(slots=True)
class Item:
    """One unit sold: Rakuten acts per item, and a two-unit order is two items."""

    itemid: str
    headline: str
    status: str
    sku: str | None = None
    advertid: str | None = None
    price: Money | None = None
    advert_price: Money | None = None
    is_preorder: bool = False
    is_nego: bool = False
    negotiation_comment: str | None = None
    is_fulfilled_by_rakuten: bool = False
    isbn: str | None = None
    eans: tuple[str, ...] = ()
    payment_status: str | None = None

    @property
    def state(self) -> ItemStatus:
        return ItemStatus.from_rakuten(self.status)


class ItemStatus(StrEnum):
    """Rakuten's ``itemstatus`` values folded into the states the bot acts on."""

    TO_ACCEPT = "to_accept"
    ACCEPTED = "accepted"
    ON_HOLD = "on_hold"
    SHIPPED = "shipped"
    REFUSED = "refused"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"

    @classmethod
    def from_rakuten(cls, raw: str | None) -> ItemStatus:
        return _STATUS_BY_RAKUTEN_VALUE.get((raw or "").strip().upper(), cls.UNKNOWN)


# Seen values are tagged in docs/rakuten-api.md §6; the shipped family is a tolerant guess (no source shows one).
_STATUS_BY_RAKUTEN_VALUE: dict[str, ItemStatus] = {
    "REQUESTED": ItemStatus.TO_ACCEPT,
    "REMINDED": ItemStatus.TO_ACCEPT,
    "TO_CONFIRM": ItemStatus.TO_ACCEPT,
    "NEW": ItemStatus.TO_ACCEPT,
    "ACCEPTED": ItemStatus.ACCEPTED,
    "COMMITTED": ItemStatus.ACCEPTED,
    "CONFIRMED": ItemStatus.ACCEPTED,
    "PENDING": ItemStatus.ACCEPTED,
    "ON_HOLD": ItemStatus.ON_HOLD,
    "CLAIM": ItemStatus.ON_HOLD,
    "SHIPPED": ItemStatus.SHIPPED,
    "SENT": ItemStatus.SHIPPED,
    "DELIVERED": ItemStatus.SHIPPED,
    "RECEIVED": ItemStatus.SHIPPED,
    "CLOSED": ItemStatus.SHIPPED,
    "COMPLETED": ItemStatus.SHIPPED,
    "REFUSED": ItemStatus.REFUSED,
    "CANCELLED": ItemStatus.CANCELLED,
    "CANCELED": ItemStatus.CANCELLED,
}


def fold_text(value: str) -> str:
    """Lower-case, accent-free form of free text, for matching labels such as shipping types."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().strip()


def is_express_shipping(shipping_type: str | None) -> bool:
    """Rakuten's shipping type is free text: ``Express``, ``EXPRESS_DELIVERY``, ``Livraison express``…"""
    if not shipping_type:
        return False
    return "express" in fold_text(shipping_type)


@dataclass(slots=True)
class Sale:
    """One purchase (``purchaseid``) with its items, as getnewsales / getcurrentsales describe it."""

    purchaseid: str
    purchase_date: datetime | None
    shipping_type: str
    items: tuple[Item, ...]
    buyer_login: str | None = None
    buyer_email: str | None = None
    is_full_rsl: bool = False
    delivery_address: Address | None = None
    billing_address: Address | None = None
    collection_point: Address | None = None

    @property
    def ship_to(self) -> Address | None:
        """Delivery address, else relay, else billing (prepaid modes); None when no usable address came."""
        for address in (self.delivery_address, self.collection_point, self.billing_address):
            if address is not None and address.is_usable:
                return address
        return None

    @property
    def is_express(self) -> bool:
        return is_express_shipping(self.shipping_type)

    @property
    def is_preorder(self) -> bool:
        return any(item.is_preorder for item in self.items)

    @property
    def needs_acceptance(self) -> bool:
        return any(item.state is ItemStatus.TO_ACCEPT for item in self.items)

    @property
    def items_total(self) -> Money | None:
        """Sum of the item prices, when every item has one in a single currency."""
        prices = [item.price for item in self.items]
        if not prices or any(price is None for price in prices):
            return None
        total = prices[0]
        try:
            for price in prices[1:]:
                total = total + price  # type: ignore[operator]
        except ValueError:
            return None
        return total


@dataclass(frozen=True, slots=True)
class SalesPage:
    sales: tuple[Sale, ...]
    next_token: str | None = None
    seller_id: str | None = None
    last_version: str | None = None


@dataclass(frozen=True, slots=True)
class TodoItem:
    itemid: str
    causes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TodoList:
    seller_id: str | None
    items: tuple[TodoItem, ...] = ()


@dataclass(frozen=True, slots=True)
class BillingItem:
    itemid: str
    headline: str | None = None
    sku: str | None = None
    status: str | None = None
    item_sale_price: Money | None = None
    shipping_sale_price: Money | None = None
    commission: Money | None = None
    payment_amount: Money | None = None


@dataclass(frozen=True, slots=True)
class BillingInformation:
    purchaseid: str
    items: tuple[BillingItem, ...] = ()

    @property
    def total(self) -> Money | None:
        """What the buyer paid: item prices plus shipping, over every item that carries amounts."""
        amounts = [
            money
            for item in self.items
            for money in (item.item_sale_price, item.shipping_sale_price)
            if money is not None
        ]
        if not amounts:
            return None
        total = amounts[0]
        for money in amounts[1:]:
            total = total + money
        return total


@dataclass(frozen=True, slots=True)
class PrepaidLabel:
    available: bool
    label_url: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class ShippingInformation:
    purchaseid: str
    shipping_type: str | None = None
    buyer_login: str | None = None
    buyer_email: str | None = None
    buyer_phone: str | None = None
    shipping_cost: Money | None = None
    billing_address: Address | None = None
    prepaid_label: PrepaidLabel | None = None


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The ``status`` Rakuten answers to a per-item action (``Accepted``, ``Refused``, ``OK``…)."""

    action: str
    itemid: str
    status: str
    extra: dict[str, str] = field(default_factory=dict)


def as_query_date(day: date) -> str:
    """``purchasedate`` is sent as ``yyyy-mm-dd`` (Rakuten echoes it back as ``dd/mm/yyyy``)."""
    return day.strftime("%Y-%m-%d")
