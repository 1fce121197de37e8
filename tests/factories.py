"""Small, explicit builders of records for every test: orders, items, addresses, shipments, accounts (invented
data, no captures). Each test area passes its own values as overrides instead of keeping a copy."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.accounts import AccountRecord, AccountSettings, AccountStatus, PollHealth
from bot.domain.orders import ItemState, OrderItem, OrderRecord, Shipment
from rakuten.models import Address, AddressKind, Money

PARIS = ZoneInfo("Europe/Paris")
# 28/11/2026 14:05 in Paris (winter time, UTC+1).
PURCHASED = datetime(2026, 11, 28, 14, 5, tzinfo=PARIS)
NOW = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)  # 17:00 in Paris: 2 h 55 min after the purchase


def address(**overrides: Any) -> Address:
    values: dict[str, Any] = {
        "kind": AddressKind.DELIVERY,
        "firstname": "Camille",
        "lastname": "Martin",
        "address1": "8 rue des Lilas",
        "address2": "Bâtiment B",
        "zipcode": "69003",
        "city": "Lyon",
        "country": "France",
        "country_code": "FR",
        "phone1": "0612345678",
    }
    values.update(overrides)
    return Address(**values)


def relay_address() -> Address:
    return address(
        kind=AddressKind.COLLECTION_POINT,
        address1="3 place du Marché",
        address2=None,
        point_id="069042",
        point_name="Tabac de la Gare",
    )


def item(itemid: str = "9001", state: ItemState = ItemState.TO_SHIP, **overrides: Any) -> OrderItem:
    values: dict[str, Any] = {
        "itemid": itemid,
        "headline": f"Livre de poche n°{itemid}",
        "state": state,
        "sku": f"SKU-{itemid}",
        "eans": ("9782070360024",),
        "price": Money(Decimal("12.50")),
    }
    values.update(overrides)
    return OrderItem(**values)


def order(*items: OrderItem, **overrides: Any) -> OrderRecord:
    values: dict[str, Any] = {
        "account": "boutique-lyon",
        "purchaseid": "123456789",
        "purchase_date": PURCHASED,
        "shipping_type": "Suivi",
        "is_express": False,
        "items": list(items) or [item()],
        "ship_to": address(),
        "total": Money(Decimal("29.90")),
        "first_seen_at": datetime(2026, 11, 28, 13, 10, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 28, 14, 2, tzinfo=UTC),
    }
    values.update(overrides)
    return OrderRecord(**values)


def shipment(**overrides: Any) -> Shipment:
    values: dict[str, Any] = {
        "carrier": "Colissimo",
        "tracking_number": "6A12345678901",
        "tracking_url": "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901",
        "shipped_by": "U0PACKER",
        "shipped_at": datetime(2026, 11, 28, 14, 2, tzinfo=UTC),
    }
    values.update(overrides)
    return Shipment(**values)


def account(login: str = "boutique-lyon", **overrides: Any) -> AccountRecord:
    values: dict[str, Any] = {
        "login": login,
        "token_ciphertext": "gAAAAA-not-a-real-ciphertext",
        "channel_id": "C0ORDERS",
        "settings": AccountSettings(),
    }
    values.update(overrides)
    return AccountRecord(**values)


def status(
    login: str = "boutique-lyon",
    *,
    health: PollHealth | None = None,
    next_poll: datetime | None = None,
    open_orders: tuple[OrderRecord, ...] = (),
    **overrides: Any,
) -> AccountStatus:
    """An account as /rakuten status and the Home tab show it."""
    return AccountStatus(account(login, **overrides), health or PollHealth(), next_poll, open_orders)


def texts(payload: Any) -> str:
    """Every string in a payload, joined: for "is this shown anywhere / nowhere" assertions."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            found.append(node)

    walk(payload)
    return "\n".join(found)
