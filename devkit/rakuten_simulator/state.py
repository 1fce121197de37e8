"""What the simulated Rakuten platform knows: accounts, their sales, and each item's lifecycle.

Everything a request reads or changes goes through one lock, so concurrent requests see a consistent
platform. Sales and items are immutable snapshots: a change replaces them, which lets callers (the
HTTP layer, tests) keep what they were given without it moving under their feet.

Item lifecycle, per item as Rakuten acts per item (one item = one unit)::

    TO_CONFIRM --accept--> ACCEPTED --tracking--> SHIPPED
        |                      |
        +--refuse--> REFUSED   +--cancel--> CANCELLED
        +--cancel--> CANCELLED
"""

from __future__ import annotations

import bisect
import hmac
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from rakuten.models import PARIS


class ItemState(StrEnum):
    """The ``itemstatus`` values the simulator emits."""

    TO_CONFIRM = "TO_CONFIRM"
    ACCEPTED = "ACCEPTED"
    REFUSED = "REFUSED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


_NEXT_STATES: dict[ItemState, frozenset[ItemState]] = {
    ItemState.TO_CONFIRM: frozenset({ItemState.ACCEPTED, ItemState.REFUSED, ItemState.CANCELLED}),
    ItemState.ACCEPTED: frozenset({ItemState.SHIPPED, ItemState.CANCELLED}),
}


class SimulatorError(Exception):
    """Base of the errors the simulator's own API raises to the code driving it."""


class UnknownEntityError(SimulatorError, LookupError):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"unknown {kind} {key!r}")
        self.kind = kind
        self.key = key


class InvalidTransitionError(SimulatorError, ValueError):
    def __init__(self, itemid: str, current: ItemState, target: ItemState) -> None:
        super().__init__(f"item {itemid} is {current}, it cannot become {target}")
        self.itemid = itemid
        self.current = current
        self.target = target


@dataclass(frozen=True, slots=True)
class SimAddress:
    """A delivery or billing address; ``country_alpha2`` uses Rakuten's ``FX`` for metropolitan France."""

    civility: str
    firstname: str
    lastname: str
    address1: str
    address2: str
    zipcode: str
    city: str
    country: str
    country_alpha2: str
    phone1: str
    phone2: str = ""


@dataclass(frozen=True, slots=True)
class SimCollectionPoint:
    """A relay point (``collectionpointaddress``): the buyer collects the parcel there."""

    civility: str
    firstname: str
    lastname: str
    point_id: str
    name: str
    address: str
    zipcode: str
    city: str
    country: str
    contract_level: str


@dataclass(frozen=True, slots=True)
class SimTracking:
    carrier: str
    number: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class SimItem:
    """One unit sold, as the platform holds it (amounts in EUR)."""

    itemid: str
    purchaseid: str
    headline: str
    status: ItemState
    price: Decimal
    advert_price: Decimal
    shipping_price: Decimal
    advertid: str
    sku: str
    ean: str
    isbn: str
    category: str
    is_preorder: bool = False
    is_nego: bool = False
    negotiation_comment: str = ""
    is_rsl: bool = False
    payment_status: str = "INCOMING"
    tracking: SimTracking | None = None
    shipping_from_country: str | None = None


@dataclass(frozen=True, slots=True)
class SimSale:
    """One purchase. ``purchase_date`` is aware, in Paris time, to the minute (as Rakuten shows it)."""

    purchaseid: str
    login: str
    purchase_date: datetime
    shipping_type: str
    buyer_login: str
    buyer_email: str
    items: tuple[SimItem, ...]
    delivery_address: SimAddress | None = None
    billing_address: SimAddress | None = None
    collection_point: SimCollectionPoint | None = None
    prepaid_tracking: SimTracking | None = None

    @property
    def is_full_rsl(self) -> bool:
        return bool(self.items) and all(item.is_rsl for item in self.items)

    @property
    def is_new(self) -> bool:
        """Listed by getnewsales: some item still waits for the seller's answer."""
        return any(item.status is ItemState.TO_CONFIRM for item in self.items)

    @property
    def is_current(self) -> bool:
        """Listed by getcurrentsales: some item went past acceptance (accepted, shipped, or cancelled).

        A sale whose every item was refused never becomes current; one the buyer cancelled before the
        seller answered does, with its CANCELLED items, so a poller sees why it left the new sales.
        """
        return any(item.status not in (ItemState.TO_CONFIRM, ItemState.REFUSED) for item in self.items)

    @property
    def shipping_cost(self) -> Decimal:
        return sum((item.shipping_price for item in self.items), Decimal("0"))

    def item(self, itemid: str) -> SimItem:
        for item in self.items:
            if item.itemid == itemid:
                return item
        raise UnknownEntityError("item", itemid)


# Newest first, ties broken by purchase id: a cursor stays valid while sales are added or removed.
SortKey = tuple[float, str]


def sort_key(sale: SimSale) -> SortKey:
    return (-sale.purchase_date.timestamp(), sale.purchaseid)


@dataclass(slots=True)
class _Account:
    login: str
    token: str
    seller_id: str
    order: list[SortKey]
    todo: dict[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class CurrentSalesPage:
    sales: list[SimSale]
    next_key: SortKey | None


class PlatformState:
    """All accounts, sales and items of one simulator, behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._accounts: dict[str, _Account] = {}
        self._sales: dict[str, SimSale] = {}
        self._sale_of_item: dict[str, str] = {}

    # accounts -----------------------------------------------------------------------------------------

    def add_account(self, login: str, token: str, seller_id: str) -> None:
        """Create an account, or give an existing one a new token (its sales stay)."""
        if not login or not token:
            raise ValueError("login and token must not be empty")
        with self._lock:
            account = self._accounts.get(login)
            if account is None:
                self._accounts[login] = _Account(login, token, seller_id, [], {})
            else:
                account.token = token

    def has_account(self, login: str) -> bool:
        with self._lock:
            return login in self._accounts

    def seller_id(self, login: str) -> str:
        with self._lock:
            return self._account(login).seller_id

    def authenticate(self, login: str, token: str) -> bool:
        with self._lock:
            account = self._accounts.get(login)
            expected = account.token if account is not None else ""
        # Compare even for an unknown login so timing does not reveal which logins exist.
        matches = hmac.compare_digest(expected.encode(), token.encode())
        return account is not None and matches

    def _account(self, login: str) -> _Account:
        account = self._accounts.get(login)
        if account is None:
            raise UnknownEntityError("account", login)
        return account

    # sales and items ----------------------------------------------------------------------------------

    def is_taken(self, *, purchaseid: str | None = None, itemid: str | None = None) -> bool:
        with self._lock:
            return purchaseid in self._sales or itemid in self._sale_of_item

    def insert_sale(self, sale: SimSale) -> None:
        with self._lock:
            account = self._account(sale.login)
            if sale.purchaseid in self._sales:
                raise ValueError(f"purchase {sale.purchaseid} already exists")
            itemids = [item.itemid for item in sale.items]
            if len(set(itemids)) != len(itemids):
                raise ValueError(f"purchase {sale.purchaseid} repeats an item id")
            for itemid in itemids:
                if itemid in self._sale_of_item:
                    raise ValueError(f"item {itemid} already exists")
            self._sales[sale.purchaseid] = sale
            for itemid in itemids:
                self._sale_of_item[itemid] = sale.purchaseid
            bisect.insort(account.order, sort_key(sale))

    def remove_sale(self, purchaseid: str) -> None:
        with self._lock:
            sale = self._sale(purchaseid)
            account = self._account(sale.login)
            key = sort_key(sale)
            del account.order[bisect.bisect_left(account.order, key)]
            for item in sale.items:
                del self._sale_of_item[item.itemid]
                account.todo.pop(item.itemid, None)
            del self._sales[purchaseid]

    def sale(self, purchaseid: str, *, login: str | None = None) -> SimSale:
        """The sale; with ``login``, only if it belongs to that account (else unknown)."""
        with self._lock:
            sale = self._sale(purchaseid)
            if login is not None and sale.login != login:
                raise UnknownEntityError("sale", purchaseid)
            return sale

    def item(self, itemid: str, *, login: str | None = None) -> SimItem:
        with self._lock:
            return self._sale_of(itemid, login=login).item(itemid)

    def sales(self, login: str) -> list[SimSale]:
        """Every sale of the account, newest first."""
        with self._lock:
            account = self._account(login)
            return [self._sales[purchaseid] for _, purchaseid in account.order]

    def _sale(self, purchaseid: str) -> SimSale:
        sale = self._sales.get(purchaseid)
        if sale is None:
            raise UnknownEntityError("sale", purchaseid)
        return sale

    def _sale_of(self, itemid: str, *, login: str | None) -> SimSale:
        purchaseid = self._sale_of_item.get(itemid)
        if purchaseid is None:
            raise UnknownEntityError("item", itemid)
        sale = self._sales[purchaseid]
        if login is not None and sale.login != login:
            raise UnknownEntityError("item", itemid)
        return sale

    # lifecycle ----------------------------------------------------------------------------------------

    def transition(
        self,
        itemid: str,
        target: ItemState,
        *,
        login: str | None = None,
        tracking: SimTracking | None = None,
        shipping_from_country: str | None = None,
    ) -> SimItem:
        """Move one item to ``target`` if its lifecycle allows it, atomically."""
        with self._lock:
            sale = self._sale_of(itemid, login=login)
            item = sale.item(itemid)
            if target not in _NEXT_STATES.get(item.status, frozenset()):
                raise InvalidTransitionError(itemid, item.status, target)
            changes: dict[str, object] = {"status": target}
            if tracking is not None:
                changes["tracking"] = tracking
            if shipping_from_country is not None:
                changes["shipping_from_country"] = shipping_from_country
            updated = replace(item, **changes)  # type: ignore[arg-type]
            items = tuple(updated if each.itemid == itemid else each for each in sale.items)
            self._sales[sale.purchaseid] = replace(sale, items=items)
            return updated

    def accept_all(self, purchaseid: str) -> list[SimItem]:
        """The seller accepted the whole sale on the site: every TO_CONFIRM item becomes ACCEPTED."""
        with self._lock:
            sale = self._sale(purchaseid)
            return [
                self.transition(item.itemid, ItemState.ACCEPTED)
                for item in sale.items
                if item.status is ItemState.TO_CONFIRM
            ]

    # listings -----------------------------------------------------------------------------------------

    def new_sales(self, login: str) -> list[SimSale]:
        """Sales awaiting the seller, newest first, each with only its items still to confirm."""
        with self._lock:
            account = self._account(login)
            listed = []
            for _, purchaseid in account.order:
                sale = self._sales[purchaseid]
                if sale.is_new:
                    pending = tuple(item for item in sale.items if item.status is ItemState.TO_CONFIRM)
                    listed.append(sale if len(pending) == len(sale.items) else replace(sale, items=pending))
            return listed

    def current_sales_page(
        self,
        login: str,
        *,
        limit: int,
        after: SortKey | None = None,
        since: date | None = None,
        pending_preorder_only: bool = False,
        not_shipped_only: bool = False,
    ) -> CurrentSalesPage:
        """Up to ``limit`` current sales after the cursor ``after``, newest first.

        Each sale carries only the items past the new-sales stage, so an item is never listed by both
        getnewsales and getcurrentsales. ``next_key`` is None when nothing further matches.
        """
        with self._lock:
            account = self._account(login)
            start = bisect.bisect_right(account.order, after) if after is not None else 0
            listed: list[SimSale] = []
            last_key: SortKey | None = None
            for key in _iter_from(account.order, start):
                sale = self._sales[key[1]]
                if since is not None and sale.purchase_date.date() < since:
                    break  # newest first: everything further is older still
                view = _current_view(sale, pending_preorder_only=pending_preorder_only, shipped=not not_shipped_only)
                if view is None:
                    continue
                if len(listed) == limit:
                    return CurrentSalesPage(listed, last_key)
                listed.append(view)
                last_key = key
            return CurrentSalesPage(listed, None)

    # to-do list ---------------------------------------------------------------------------------------

    def add_todo(self, itemid: str, causes: Iterable[str]) -> None:
        with self._lock:
            sale = self._sale_of(itemid, login=None)
            account = self._account(sale.login)
            merged = dict.fromkeys((*account.todo.get(itemid, ()), *causes))
            account.todo[itemid] = tuple(merged)

    def todo(self, login: str) -> list[tuple[str, tuple[str, ...]]]:
        with self._lock:
            return list(self._account(login).todo.items())


def _iter_from(keys: list[SortKey], start: int) -> Iterable[SortKey]:
    for index in range(start, len(keys)):
        yield keys[index]


def _current_view(sale: SimSale, *, pending_preorder_only: bool, shipped: bool) -> SimSale | None:
    if not sale.is_current:
        return None
    items = tuple(
        item
        for item in sale.items
        if item.status is not ItemState.TO_CONFIRM
        and (shipped or item.status is not ItemState.SHIPPED)
        and (not pending_preorder_only or (item.is_preorder and item.status is ItemState.ACCEPTED))
    )
    if not items:
        return None
    return sale if len(items) == len(sale.items) else replace(sale, items=items)


@dataclass(frozen=True, slots=True)
class BillingLine:
    """What one item earns the seller once Rakuten's commissions (VAT included) are taken."""

    item: SimItem
    commission_rate: Decimal
    item_commission_excl_tax: Decimal
    item_commission_vat: Decimal
    shipping_commission_excl_tax: Decimal
    shipping_commission_vat: Decimal
    payment_amount: Decimal


VAT_RATE = Decimal("20.0")
_CENT = Decimal("0.01")
# Invented marketplace fees per category; what matters is that they are plausible and consistent.
_COMMISSION_RATES: dict[str, Decimal] = {
    "Livres": Decimal("0.14"),
    "Jeux vidéo": Decimal("0.12"),
    "Informatique": Decimal("0.09"),
    "Maison": Decimal("0.15"),
}
_DEFAULT_COMMISSION = Decimal("0.12")
_SHIPPING_COMMISSION = Decimal("0.10")


def billing_lines(sale: SimSale) -> list[BillingLine]:
    lines = []
    for item in sale.items:
        rate = _COMMISSION_RATES.get(item.category, _DEFAULT_COMMISSION)
        item_excl = (item.price * rate).quantize(_CENT)
        item_vat = (item_excl * VAT_RATE / 100).quantize(_CENT)
        shipping_excl = (item.shipping_price * _SHIPPING_COMMISSION).quantize(_CENT)
        shipping_vat = (shipping_excl * VAT_RATE / 100).quantize(_CENT)
        payment = item.price + item.shipping_price - item_excl - item_vat - shipping_excl - shipping_vat
        lines.append(BillingLine(item, rate, item_excl, item_vat, shipping_excl, shipping_vat, payment))
    return lines


def paris_time(moment: datetime) -> datetime:
    """Aware Paris time to the minute; a naive datetime is taken as already in Paris time."""
    local = moment.replace(tzinfo=PARIS) if moment.tzinfo is None else moment.astimezone(PARIS)
    return local.replace(second=0, microsecond=0)
