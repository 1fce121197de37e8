"""Time rules a seller works by: the acceptance deadline and when an open order counts as late, on Rakuten
France's clock (Europe/Paris)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.orders import SHIPPABLE_STATES, OrderRecord, OrderState
from rakuten.models import PARIS

# Rakuten gives a seller "3–4 days" to accept (medium confidence in the API notes); cards count down from the
# lower bound so nobody relies on the fourth day.
ACCEPT_DEADLINE = timedelta(hours=72)
# The Home tab's "Late" list: an order still to accept this long after purchase, or still to ship this long after.
LATE_TO_ACCEPT_AFTER = timedelta(hours=48)
LATE_TO_SHIP_AFTER = timedelta(days=2)


def aware(moment: datetime) -> datetime:
    """``moment`` with a time zone; a naive datetime is taken as UTC, the store's convention."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def as_paris(moment: datetime) -> datetime:
    """``moment`` on Rakuten France's clock (naive datetimes taken as UTC)."""
    return aware(moment).astimezone(PARIS)


def order_age_reference(order: OrderRecord) -> datetime | None:
    """The moment an order's age is counted from: its purchase date, else when the bot first saw it."""
    return order.purchase_date or order.first_seen_at


def accept_deadline(order: OrderRecord) -> datetime | None:
    return aware(order.purchase_date) + ACCEPT_DEADLINE if order.purchase_date else None


def is_late(order: OrderRecord, now: datetime) -> bool:
    reference = order_age_reference(order)
    if reference is None:
        return False
    age = aware(now) - aware(reference)
    state = order.state
    if state is OrderState.TO_ACCEPT:
        return age > LATE_TO_ACCEPT_AFTER
    if state in SHIPPABLE_STATES:
        return age > LATE_TO_SHIP_AFTER
    return False
