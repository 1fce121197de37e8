"""Bring the stored orders in line with what Rakuten lists, by purchaseid and itemid.

Pure functions: no I/O, no clock. Rakuten is the authority on what happened on its side (accepted on the site,
cancelled), while the bot is the authority on what it did itself and Rakuten may not show yet (no source shows
a "shipped" item status, and listings lag behind actions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.domain.orders import ItemState, OrderItem, OrderRecord, OrderState, note_acceptance
from rakuten.models import Item, Sale


@dataclass(slots=True)
class Reconciliation:
    new_orders: list[OrderRecord] = field(default_factory=list)
    changed_orders: list[OrderRecord] = field(default_factory=list)

    @property
    def touched(self) -> list[OrderRecord]:
        return self.new_orders + self.changed_orders


def merge_listings(new_sales: Iterable[Sale], current_sales: Iterable[Sale]) -> dict[str, Sale]:
    """One Sale per purchaseid. A sale in both listings (accepted between two calls) keeps the current-sales
    view of each item, the more advanced one, plus any item only the new-sales listing has."""
    merged: dict[str, Sale] = {sale.purchaseid: sale for sale in new_sales}
    for sale in current_sales:
        earlier = merged.get(sale.purchaseid)
        if earlier is None:
            merged[sale.purchaseid] = sale
            continue
        known = {item.itemid for item in sale.items}
        extra = tuple(item for item in earlier.items if item.itemid not in known)
        merged[sale.purchaseid] = replace(sale, items=sale.items + extra) if extra else sale
    return merged


def reconcile(
    account: str,
    sales: Iterable[Sale],
    lookup: Callable[[str], OrderRecord | None],
    *,
    now: datetime,
) -> Reconciliation:
    """Create records for sales seen for the first time; update the others. Returns what changed."""
    result = Reconciliation()
    for sale in sales:
        existing = lookup(sale.purchaseid)
        if existing is None:
            result.new_orders.append(order_from_sale(sale, account, now=now))
        elif apply_sale(existing, sale, now=now):
            result.changed_orders.append(existing)
    return result


# A sale awaiting acceptance that Rakuten stops listing anywhere was refused or cancelled on the site, or
# expired; two complete polls in a row rule out a listing hiccup.
UNLISTED_POLLS_BEFORE_CLOSING = 2
NOT_LISTED = "NOT_LISTED"


def close_unlisted(open_orders: Iterable[OrderRecord], listed: set[str], *, now: datetime) -> list[OrderRecord]:
    """Orders awaiting acceptance that neither listing shows any more: counted, then closed as cancelled.

    Call only after a poll in which both listings were fetched completely. Returns the orders changed.
    """
    changed = []
    for order in open_orders:
        waiting = [item for item in order.items if item.state is ItemState.TO_ACCEPT and item.pending is None]
        if order.purchaseid in listed:
            if order.unlisted_polls:
                order.unlisted_polls = 0
                changed.append(order)
            continue
        if not waiting:
            continue
        order.unlisted_polls += 1
        if order.unlisted_polls >= UNLISTED_POLLS_BEFORE_CLOSING:
            for item in waiting:
                item.state, item.rakuten_status = ItemState.CANCELLED, NOT_LISTED
            order.updated_at = now
            order.closed_at = None if order.is_open else (order.closed_at or now)
        changed.append(order)
    return changed


def order_from_sale(sale: Sale, account: str, *, now: datetime) -> OrderRecord:
    items = [_item_from_rakuten(item) for item in sale.items]
    order = OrderRecord(
        account=account,
        purchaseid=sale.purchaseid,
        purchase_date=sale.purchase_date,
        shipping_type=sale.shipping_type,
        is_express=sale.is_express,
        items=items,
        ship_to=sale.ship_to,
        buyer_login=sale.buyer_login,
        first_seen_at=now,
        updated_at=now,
    )
    if not order.is_open:
        order.closed_at = now
    return order


def apply_sale(order: OrderRecord, sale: Sale, *, now: datetime) -> bool:
    """Update ``order`` in place from Rakuten's view; True when something a seller would see changed."""
    changed = False
    was_to_accept = order.state is OrderState.TO_ACCEPT
    remote_items = {item.itemid: item for item in sale.items}
    for item in order.items:
        remote = remote_items.pop(item.itemid, None)
        if remote is None:
            continue
        item.rakuten_status = remote.status
        state = merged_item_state(item, remote)
        if state is not item.state:
            item.state = state
            changed = True
    for remote in remote_items.values():  # an item Rakuten lists now but did not before
        order.items.append(_item_from_rakuten(remote))
        changed = True
    if not order.personal_data_purged and sale.ship_to is not None and sale.ship_to != order.ship_to:
        # Private sellers only see the address once the sale is accepted.
        order.ship_to = sale.ship_to
        changed = True
    if changed:
        order.updated_at = now
        order.closed_at = None if order.is_open else (order.closed_at or now)
        if was_to_accept:
            note_acceptance(order, now)  # accepted on the Rakuten site: its time to ship starts now
    return changed


def merged_item_state(local: OrderItem, remote: Item) -> ItemState:
    remote_state = ItemState.from_rakuten(remote.state)
    if remote_state is ItemState.CANCELLED:
        return ItemState.CANCELLED  # cancelled at Rakuten trumps anything the bot believes
    if local.pending is not None or remote_state is ItemState.UNKNOWN:
        return local.state  # a Slack action is in flight, or Rakuten said something we cannot read
    lagging = {
        ItemState.SHIPPED: {ItemState.TO_ACCEPT, ItemState.TO_SHIP},
        ItemState.REFUSED: {ItemState.TO_ACCEPT},
        ItemState.TO_SHIP: {ItemState.TO_ACCEPT},
    }
    if remote_state in lagging.get(local.state, set()):
        return local.state
    return remote_state


def _item_from_rakuten(item: Item) -> OrderItem:
    return OrderItem(
        itemid=item.itemid,
        headline=item.headline,
        state=ItemState.from_rakuten(item.state),
        rakuten_status=item.status,
        sku=item.sku,
        eans=item.eans,
        isbn=item.isbn,
        price=item.price,
        is_preorder=item.is_preorder,
        is_nego=item.is_nego,
        is_fulfilled_by_rakuten=item.is_fulfilled_by_rakuten,
    )
