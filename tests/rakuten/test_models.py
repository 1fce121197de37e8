"""Behaviour carried by the models themselves: money, addresses, ship-to, states, totals."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from rakuten.models import (
    Address,
    AddressKind,
    BillingInformation,
    BillingItem,
    Item,
    ItemStatus,
    Money,
    Sale,
    as_query_date,
    fold_text,
    is_express_shipping,
)


def _item(itemid: str = "1", status: str = "TO_CONFIRM", price: Money | None = None, **kwargs: object) -> Item:
    return Item(itemid=itemid, headline="Dune", status=status, price=price, **kwargs)  # type: ignore[arg-type]


def _sale(*items: Item, shipping_type: str = "Suivi", **kwargs: object) -> Sale:
    return Sale(
        purchaseid="9", purchase_date=None, shipping_type=shipping_type, items=items, **kwargs  # type: ignore[arg-type]
    )


HOME = Address(AddressKind.DELIVERY, address1="1 rue A", zipcode="75001")
RELAY = Address(AddressKind.COLLECTION_POINT, point_id="FR-1", city="Metz")
BILLING = Address(AddressKind.BILLING, address1="2 rue B", city="Lille")


# ----------------------------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money(Decimal("1234.5")), "1\u202f234,50 €"),
        (Money(Decimal("0")), "0,00 €"),
        (Money(Decimal("-3.456")), "-3,46 €"),
        (Money(Decimal("1000000"), "GBP"), "1\u202f000\u202f000,00 GBP"),
    ],
)
def test_money_format_is_french(money: Money, text: str) -> None:
    assert money.format() == text


def test_money_adds_within_one_currency_only() -> None:
    assert Money(Decimal("1.10")) + Money(Decimal("2.05")) == Money(Decimal("3.15"))
    with pytest.raises(ValueError, match="cannot add GBP to EUR"):
        Money(Decimal("1")) + Money(Decimal("1"), "GBP")


# -------------------------------------------------------------------------------------------- address


def test_address_full_name_and_phone() -> None:
    address = Address(AddressKind.DELIVERY, firstname="Hélène", lastname="Lefèvre", phone1=None, phone2="0611")
    assert address.full_name == "Hélène Lefèvre"
    assert address.phone == "0611"
    assert Address(AddressKind.DELIVERY, lastname="Seul").full_name == "Seul"
    assert Address(AddressKind.DELIVERY, phone1="01", phone2="02").phone == "01"


@pytest.mark.parametrize(
    ("address", "usable"),
    [
        (HOME, True),
        (RELAY, True),
        (Address(AddressKind.DELIVERY, address2="Bât. C", city="Nice"), True),
        (Address(AddressKind.DELIVERY, address1="1 rue A"), False),
        (Address(AddressKind.DELIVERY, city="Nice", zipcode="06000"), False),
        (Address(AddressKind.DELIVERY, firstname="Ana"), False),
    ],
)
def test_address_is_usable(address: Address, usable: bool) -> None:
    assert address.is_usable is usable


# ------------------------------------------------------------------------------------------------ sale


@pytest.mark.parametrize(
    ("addresses", "expected"),
    [
        ({"delivery_address": HOME, "collection_point": RELAY, "billing_address": BILLING}, HOME),
        ({"collection_point": RELAY, "billing_address": BILLING}, RELAY),
        ({"billing_address": BILLING}, BILLING),
        ({"delivery_address": Address(AddressKind.DELIVERY, firstname="x"), "billing_address": BILLING}, BILLING),
        ({}, None),
    ],
    ids=["delivery-first", "relay-before-billing", "billing-only", "unusable-delivery-skipped", "none"],
)
def test_ship_to(addresses: dict[str, Address], expected: Address | None) -> None:
    assert _sale(_item(), **addresses).ship_to == expected


@pytest.mark.parametrize(
    ("shipping_type", "express"),
    [("Express", True), ("EXPRESS", True), ("Livraison express", True), ("EXPRESS_DELIVERY", True),
     ("exprèss", True), ("Suivi", False), ("Normal", False), ("", False), (None, False)],
)
def test_express(shipping_type: str | None, express: bool) -> None:
    assert is_express_shipping(shipping_type) is express
    if shipping_type is not None:
        assert _sale(_item(), shipping_type=shipping_type).is_express is express


def test_preorder_and_acceptance_flags_follow_the_items() -> None:
    accepted = _item("1", "ACCEPTED")
    waiting = _item("2", "REMINDED", is_preorder=True)
    assert _sale(accepted, waiting).needs_acceptance is True
    assert _sale(accepted, waiting).is_preorder is True
    assert _sale(accepted).needs_acceptance is False
    assert _sale(accepted).is_preorder is False


def test_items_total() -> None:
    eur = _sale(_item("1", price=Money(Decimal("10.5"))), _item("2", price=Money(Decimal("4.5"))))
    assert eur.items_total == Money(Decimal("15.0"))
    assert _sale(_item("1", price=Money(Decimal("1"))), _item("2")).items_total is None
    mixed = _sale(_item("1", price=Money(Decimal("1"))), _item("2", price=Money(Decimal("1"), "GBP")))
    assert mixed.items_total is None
    assert _sale().items_total is None


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("TO_CONFIRM", ItemStatus.TO_ACCEPT),
        ("requested", ItemStatus.TO_ACCEPT),
        (" REMINDED ", ItemStatus.TO_ACCEPT),
        ("ACCEPTED", ItemStatus.ACCEPTED),
        ("COMMITTED", ItemStatus.ACCEPTED),
        ("ON_HOLD", ItemStatus.ON_HOLD),
        ("SHIPPED", ItemStatus.SHIPPED),
        ("REFUSED", ItemStatus.REFUSED),
        ("CANCELLED", ItemStatus.CANCELLED),
        ("CANCELED", ItemStatus.CANCELLED),
        ("SOMETHING_NEW", ItemStatus.UNKNOWN),
        ("", ItemStatus.UNKNOWN),
        (None, ItemStatus.UNKNOWN),
    ],
)
def test_item_status_folding(raw: str | None, state: ItemStatus) -> None:
    assert ItemStatus.from_rakuten(raw) is state


def test_item_state_property() -> None:
    assert _item(status="COMMITTED").state is ItemStatus.ACCEPTED


# ---------------------------------------------------------------------------------------------- misc


def test_billing_total_sums_items_and_shipping() -> None:
    billing = BillingInformation(
        "9",
        (
            BillingItem("1", item_sale_price=Money(Decimal("20")), shipping_sale_price=Money(Decimal("4.5"))),
            BillingItem("2", item_sale_price=Money(Decimal("5"))),
            BillingItem("3"),
        ),
    )
    assert billing.total == Money(Decimal("29.5"))
    assert BillingInformation("9", (BillingItem("3"),)).total is None


def test_query_date_format() -> None:
    assert as_query_date(date(2024, 3, 7)) == "2024-03-07"
    assert as_query_date(datetime(2024, 12, 31, 23, 59)) == "2024-12-31"


def test_fold_text() -> None:
    assert fold_text("  Recommandé ÉTÉ ") == "recommande ete"
