"""Reconciliation of Rakuten's listings with the stored orders, by purchaseid and itemid (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.domain.orders import ItemState, OrderItem, OrderRecord, PendingAction, PendingKind
from bot.services.reconcile import apply_sale, merge_listings, merged_item_state, order_from_sale, reconcile
from rakuten.models import Address, Item, Money, Sale
from tests import factories

NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=3)
ACCOUNT = "boutique"

HOME = factories.address(lastname="Durand", address1="12 rue des Lilas", address2=None, phone1="0600000000")


def item(itemid: str, status: str = "REQUESTED", **fields: object) -> Item:
    return Item(itemid=itemid, headline=f"Article {itemid}", status=status, **fields)  # type: ignore[arg-type]


def sale(purchaseid: str, *items: Item, shipping_type: str = "Suivi", address: Address | None = HOME) -> Sale:
    return Sale(
        purchaseid=purchaseid,
        purchase_date=EARLIER,
        shipping_type=shipping_type,
        items=items,
        buyer_login="acheteur",
        delivery_address=address,
    )


def stored(purchaseid: str, *states: ItemState) -> OrderRecord:
    return OrderRecord(
        account=ACCOUNT,
        purchaseid=purchaseid,
        purchase_date=EARLIER,
        shipping_type="Suivi",
        is_express=False,
        items=[
            OrderItem(itemid=f"{purchaseid}-{index}", headline="Article", state=state)
            for index, state in enumerate(states)
        ],
        ship_to=HOME,
        first_seen_at=EARLIER,
        updated_at=EARLIER,
    )


def pending(kind: PendingKind) -> PendingAction:
    return PendingAction(kind=kind, requested_by="U0SELLER", requested_at=EARLIER)


# ---------------------------------------------------------------------------------------- merge_listings


def test_merge_keeps_one_sale_per_purchaseid() -> None:
    merged = merge_listings([sale("1", item("1a")), sale("2", item("2a"))], [sale("3", item("3a", "ACCEPTED"))])
    assert sorted(merged) == ["1", "2", "3"]


def test_merge_prefers_the_current_sales_view_of_an_item() -> None:
    # Accepted between the two calls: both listings show the sale, current sales the later state.
    new = sale("1", item("1a", "REQUESTED"), item("1b", "REQUESTED"))
    current = sale("1", item("1a", "ACCEPTED"))

    merged = merge_listings([new], [current])["1"]

    assert {i.itemid: i.status for i in merged.items} == {"1a": "ACCEPTED", "1b": "REQUESTED"}


def test_merge_takes_a_current_sale_as_is_when_it_lists_every_item() -> None:
    current = sale("1", item("1a", "ACCEPTED"))
    assert merge_listings([sale("1", item("1a"))], [current])["1"] is current


def test_merge_of_nothing_is_empty() -> None:
    assert merge_listings([], []) == {}


# --------------------------------------------------------------------------------------- order_from_sale


def test_a_new_order_takes_everything_from_the_sale() -> None:
    source = sale(
        "1",
        item("1a", price=Money(Decimal("12.50")), sku="SKU-1", eans=("9780000000001",), is_preorder=True),
        item("1b", price=Money(Decimal("7.50")), is_nego=True, is_fulfilled_by_rakuten=True),
        shipping_type="Express",
    )

    order = order_from_sale(source, ACCOUNT, now=NOW)

    assert (order.account, order.purchaseid, order.purchase_date) == (ACCOUNT, "1", EARLIER)
    assert order.is_express
    assert order.shipping_type == "Express"
    assert order.ship_to == HOME
    assert order.buyer_login == "acheteur"
    assert order.total is None  # the listings carry no order total: getbillinginformation brings it later
    assert (order.first_seen_at, order.updated_at, order.closed_at) == (NOW, NOW, None)
    assert order.card is None
    first, second = order.items
    assert (first.itemid, first.state, first.rakuten_status) == ("1a", ItemState.TO_ACCEPT, "REQUESTED")
    assert (first.sku, first.eans, first.is_preorder) == ("SKU-1", ("9780000000001",), True)
    assert (second.is_nego, second.is_fulfilled_by_rakuten) == (True, True)


def test_a_sale_first_seen_already_closed_is_stored_closed() -> None:
    order = order_from_sale(sale("1", item("1a", "CANCELLED")), ACCOUNT, now=NOW)
    assert not order.is_open
    assert order.closed_at == NOW


def test_a_sale_without_a_usable_address_has_no_ship_to() -> None:
    order = order_from_sale(sale("1", item("1a"), address=None), ACCOUNT, now=NOW)
    assert order.ship_to is None


# --------------------------------------------------------------------------------------------- reconcile


def test_reconcile_sorts_new_changed_and_unchanged_orders() -> None:
    known = {
        "unchanged": stored("unchanged", ItemState.TO_SHIP),
        "accepted": stored("accepted", ItemState.TO_ACCEPT),
    }
    sales = [
        sale("fresh", item("fresh-0")),
        sale("unchanged", item("unchanged-0", "ACCEPTED")),
        sale("accepted", item("accepted-0", "ACCEPTED")),
    ]

    result = reconcile(ACCOUNT, sales, known.get, now=NOW)

    assert [order.purchaseid for order in result.new_orders] == ["fresh"]
    assert [order.purchaseid for order in result.changed_orders] == ["accepted"]
    assert [order.purchaseid for order in result.touched] == ["fresh", "accepted"]
    assert known["accepted"].items[0].state is ItemState.TO_SHIP
    assert known["accepted"].updated_at == NOW
    assert known["unchanged"].updated_at == EARLIER


def test_reconcile_of_the_same_listing_twice_finds_nothing_new() -> None:
    sales = [sale("1", item("1a")), sale("2", item("2a", "ACCEPTED"))]
    first = reconcile(ACCOUNT, sales, lambda _: None, now=NOW)
    known = {order.purchaseid: order for order in first.new_orders}

    again = reconcile(ACCOUNT, sales, known.get, now=NOW + timedelta(minutes=10))

    assert again.new_orders == []
    assert again.changed_orders == []


# --------------------------------------------------------------------------------------------- apply_sale


def test_cancelled_at_rakuten_closes_the_order() -> None:
    order = stored("1", ItemState.TO_SHIP)

    changed = apply_sale(order, sale("1", item("1-0", "CANCELLED")), now=NOW)

    assert changed
    assert order.items[0].state is ItemState.CANCELLED
    assert order.items[0].rakuten_status == "CANCELLED"
    assert not order.is_open
    assert order.closed_at == NOW


def test_shipped_on_the_site_closes_the_order() -> None:
    order = stored("1", ItemState.TO_SHIP, ItemState.TO_SHIP)

    changed = apply_sale(order, sale("1", item("1-0", "SHIPPED"), item("1-1", "SHIPPED")), now=NOW)

    assert changed
    assert [i.state for i in order.items] == [ItemState.SHIPPED, ItemState.SHIPPED]
    assert order.closed_at == NOW


def test_an_item_rakuten_lists_for_the_first_time_is_added() -> None:
    order = stored("1", ItemState.TO_SHIP)

    changed = apply_sale(order, sale("1", item("1-0", "ACCEPTED"), item("1-new", "ACCEPTED")), now=NOW)

    assert changed
    assert [i.itemid for i in order.items] == ["1-0", "1-new"]
    assert order.items[1].state is ItemState.TO_SHIP


def test_an_item_missing_from_the_listing_is_left_alone() -> None:
    order = stored("1", ItemState.TO_SHIP, ItemState.SHIPPED)

    changed = apply_sale(order, sale("1", item("1-0", "ACCEPTED")), now=NOW)

    assert not changed
    assert [i.state for i in order.items] == [ItemState.TO_SHIP, ItemState.SHIPPED]


def test_an_address_shown_after_acceptance_is_taken() -> None:
    order = stored("1", ItemState.TO_ACCEPT)
    order.ship_to = None

    changed = apply_sale(order, sale("1", item("1-0", "ACCEPTED")), now=NOW)

    assert changed
    assert order.ship_to == HOME


def test_a_purged_order_does_not_get_its_buyer_data_back() -> None:
    order = stored("1", ItemState.SHIPPED)
    order.ship_to = None
    order.personal_data_purged = True

    changed = apply_sale(order, sale("1", item("1-0", "SHIPPED")), now=NOW)

    assert not changed
    assert order.ship_to is None


def test_a_reopened_order_loses_its_closed_time() -> None:
    order = stored("1", ItemState.CANCELLED)
    order.closed_at = EARLIER

    apply_sale(order, sale("1", item("1-0", "CANCELLED"), item("1-late", "ACCEPTED")), now=NOW)

    assert order.is_open
    assert order.closed_at is None


def test_nothing_changed_leaves_updated_at_alone() -> None:
    order = stored("1", ItemState.TO_ACCEPT)

    assert not apply_sale(order, sale("1", item("1-0", "REQUESTED")), now=NOW)
    assert order.updated_at == EARLIER


# ------------------------------------------------------------------------------------- merged_item_state


def local(state: ItemState, *, in_flight: PendingKind | None = None) -> OrderItem:
    return OrderItem(
        itemid="x", headline="Article", state=state, pending=pending(in_flight) if in_flight is not None else None
    )


@pytest.mark.parametrize(
    ("mine", "theirs", "expected"),
    [
        # Rakuten's word on what happened on its side.
        (ItemState.TO_ACCEPT, "ACCEPTED", ItemState.TO_SHIP),
        (ItemState.TO_ACCEPT, "REFUSED", ItemState.REFUSED),
        (ItemState.TO_SHIP, "SHIPPED", ItemState.SHIPPED),
        (ItemState.TO_SHIP, "CLAIM", ItemState.ON_HOLD),
        (ItemState.ON_HOLD, "ACCEPTED", ItemState.TO_SHIP),
        # Listings lag behind what the bot did itself: no step back.
        (ItemState.SHIPPED, "ACCEPTED", ItemState.SHIPPED),
        (ItemState.SHIPPED, "REQUESTED", ItemState.SHIPPED),
        (ItemState.REFUSED, "REQUESTED", ItemState.REFUSED),
        (ItemState.TO_SHIP, "REQUESTED", ItemState.TO_SHIP),
        # A status the bot cannot read changes nothing.
        (ItemState.TO_SHIP, "SOMETHING_NEW", ItemState.TO_SHIP),
    ],
)
def test_merged_item_state(mine: ItemState, theirs: str, expected: ItemState) -> None:
    assert merged_item_state(local(mine), item("x", theirs)) is expected


@pytest.mark.parametrize("kind", list(PendingKind))
def test_an_action_in_flight_keeps_the_local_state(kind: PendingKind) -> None:
    assert merged_item_state(local(ItemState.TO_ACCEPT, in_flight=kind), item("x", "ACCEPTED")) is ItemState.TO_ACCEPT


@pytest.mark.parametrize("mine", [ItemState.TO_ACCEPT, ItemState.TO_SHIP, ItemState.SHIPPED, ItemState.REFUSED])
def test_cancelled_at_rakuten_trumps_everything(mine: ItemState) -> None:
    in_flight = local(mine, in_flight=PendingKind.SHIP)
    assert merged_item_state(in_flight, item("x", "CANCELLED")) is ItemState.CANCELLED


def test_apply_sale_records_rakuten_s_raw_status_even_when_the_state_stays() -> None:
    order = stored("1", ItemState.SHIPPED)
    apply_sale(order, sale("1", item("1-0", "ACCEPTED")), now=NOW)
    assert order.items[0].state is ItemState.SHIPPED
    assert order.items[0].rakuten_status == "ACCEPTED"
