"""Time rules shown to sellers: the acceptance deadline and when an open order counts as late."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.store.records import OrderRecord, OrderState
from bot.ui.formatting import aware
from bot.ui.i18n import Translator

# Rakuten gives a seller "3–4 days" to accept (rakuten-api.md §6, medium confidence); the card counts down from
# the lower bound so nobody relies on the fourth day.
ACCEPT_DEADLINE = timedelta(hours=72)
# The Home tab's "Late" list: an order still to accept this long after purchase, or still to ship this long after.
LATE_TO_ACCEPT_AFTER = timedelta(hours=48)
LATE_TO_SHIP_AFTER = timedelta(days=2)

SHIPPABLE_STATES = frozenset({OrderState.TO_SHIP, OrderState.PARTIALLY_SHIPPED})


def order_age_reference(order: OrderRecord) -> datetime | None:
    """The moment an order's age is counted from: its purchase date, else when the bot first saw it."""
    return order.purchase_date or order.first_seen_at


def accept_deadline(order: OrderRecord) -> datetime | None:
    return aware(order.purchase_date) + ACCEPT_DEADLINE if order.purchase_date else None


def time_left_to_decide(t: Translator, order: OrderRecord, now: datetime) -> str | None:
    """``52 h left to decide`` / ``less than 1 h left to decide`` / ``deadline passed``; None without a date."""
    deadline = accept_deadline(order)
    if deadline is None:
        return None
    remaining = deadline - aware(now)
    if remaining <= timedelta(0):
        return t.gettext("deadline passed")
    hours = int(remaining.total_seconds() // 3600)
    if hours < 1:
        return t.gettext("less than 1 h left to decide")
    return t.gettext("{hours} h left to decide", hours=hours)


def decide_by(t: Translator, order: OrderRecord, now: datetime) -> str | None:
    """``decide by Mon 1 Dec 14:05`` for a card: an absolute deadline stays true as the card ages.

    Slack renders the date token in each reader's own time zone and language; the fallback (Paris time, in the
    card's language) is what clients without date formatting, and the terminal demo, show. Once the deadline
    has passed, the card says so.
    """
    deadline = accept_deadline(order)
    if deadline is None:
        return None
    if deadline <= aware(now):
        return t.gettext("deadline passed")
    fallback = t.gettext("{when} Paris time", when=t.short_datetime(deadline))
    token = f"<!date^{int(deadline.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"
    return t.gettext("decide by {deadline}", deadline=token)


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
