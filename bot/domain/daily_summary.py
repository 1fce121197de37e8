"""The daily summary's rules: when it is due, and its figures from an account's orders (pure, Paris days)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.domain.deadlines import (
    DeadlineRules,
    accepted_reference,
    aware,
    is_late,
    order_age_reference,
    paris_day,
)
from bot.domain.orders import SHIPPABLE_STATES, OrderRecord, OrderState, order_total
from rakuten.models import PARIS, Money

# Orders listed by name in each of the summary's lists; the rest are counted ("…and 12 more").
SUMMARY_LIST_LIMIT = 10


@dataclass(frozen=True, slots=True)
class DailyFigures:
    """What one account's summary says for ``day`` (the day it is posted; "yesterday" is the day before)."""

    day: date
    new_orders: tuple[OrderRecord, ...] = ()  # placed yesterday
    new_amount: Money | None = None  # what they come to (Rakuten's totals, else the items' prices)
    shipped: tuple[OrderRecord, ...] = ()  # with an item shipped yesterday
    to_ship: tuple[OrderRecord, ...] = ()  # open and accepted, oldest first
    late: tuple[OrderRecord, ...] = ()  # late to accept or to ship, oldest first
    # Every open claim and unanswered buyer message, closed orders included; a summary leaves out a line at 0.
    open_claims: int = 0
    unanswered_messages: int = 0

    @property
    def yesterday(self) -> date:
        return self.day - timedelta(days=1)

    def listed(self) -> list[OrderRecord]:
        """The orders the summary names (each list cut at ``SUMMARY_LIST_LIMIT``): those that need a link."""
        return [*self.to_ship[:SUMMARY_LIST_LIMIT], *self.late[:SUMMARY_LIST_LIMIT]]


def summary_moment(day: date, at: time) -> datetime:
    """``at`` on ``day``, Paris time, as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=PARIS).astimezone(UTC)


def summary_day_due(now: datetime, at: time, connected_at: datetime | None) -> date | None:
    """The day whose summary is due at ``now`` (today, from ``at`` Paris time until midnight), or None.

    An account connected after today's time gets its first summary tomorrow: a summary is a morning habit, not
    a welcome message. A bot down at ``at`` posts it when it is back, the same day.
    """
    today = paris_day(now)
    moment = summary_moment(today, at)
    if aware(now) < moment:
        return None
    if connected_at is not None and aware(connected_at) > moment:
        return None
    return today


def shipped_moments(order: OrderRecord) -> list[datetime]:
    """When the order's items were shipped: each shipment's time, else (shipped on the Rakuten site, when the bot
    learns it by polling) when the order closed."""
    moments = [aware(item.shipment.shipped_at) for item in order.items if item.shipment and item.shipment.shipped_at]
    if not moments and order.state is OrderState.SHIPPED and order.closed_at is not None:
        moments.append(aware(order.closed_at))
    return moments


def daily_figures(orders: Iterable[OrderRecord], day: date, now: datetime, rules: DeadlineRules) -> DailyFigures:
    """The summary of ``day`` from every order the store keeps for the account (open and closed)."""
    yesterday = day - timedelta(days=1)
    new: list[OrderRecord] = []
    shipped: list[OrderRecord] = []
    to_ship: list[OrderRecord] = []
    late: list[OrderRecord] = []
    open_claims = unanswered = 0
    for order in orders:
        open_claims += len(order.after_sale.open_claims())
        unanswered += len(order.after_sale.unanswered())
        placed = order_age_reference(order)
        if placed is not None and paris_day(placed) == yesterday:
            new.append(order)
        if any(paris_day(moment) == yesterday for moment in shipped_moments(order)):
            shipped.append(order)
        if not order.is_open:
            continue
        if order.state in SHIPPABLE_STATES:
            to_ship.append(order)
        if is_late(order, now, rules):
            late.append(order)
    return DailyFigures(
        day=day,
        new_orders=tuple(sorted(new, key=_placed)),
        new_amount=_amount(new),
        shipped=tuple(sorted(shipped, key=_placed)),
        to_ship=tuple(sorted(to_ship, key=_accepted)),
        late=tuple(sorted(late, key=_placed)),
        open_claims=open_claims,
        unanswered_messages=unanswered,
    )


def _amount(orders: list[OrderRecord]) -> Money | None:
    totals = [total for total, _items_only in map(order_total, orders) if total is not None]
    if not totals:
        return None
    amount = totals[0]
    try:
        for total in totals[1:]:
            amount = amount + total
    except ValueError:  # mixed currencies: no honest single figure
        return None
    return amount


def _placed(order: OrderRecord) -> tuple[float, str]:
    reference = order_age_reference(order)
    return (aware(reference).timestamp() if reference else float("inf"), order.purchaseid)


def _accepted(order: OrderRecord) -> tuple[float, str]:
    reference = accepted_reference(order)
    return (aware(reference).timestamp() if reference else float("inf"), order.purchaseid)
