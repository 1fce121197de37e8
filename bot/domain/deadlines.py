"""Time rules a seller works by, on Rakuten France's clock (Europe/Paris): the acceptance deadline, when an
accepted order is late to ship (working days: Monday to Friday, French public holidays excluded), and so when an
order counts as late. The reminders, the card's "late" mark, the Home tab's late list and the daily summary all
read these rules, so they never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

import holidays

from bot.domain.orders import SHIPPABLE_STATES, OrderRecord, OrderState
from rakuten.models import PARIS

# Rakuten gives a seller "3–4 days" to accept (medium confidence in the API notes); cards count down from the
# lower bound so nobody relies on the fourth day.
ACCEPT_DEADLINE = timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class DeadlineRules:
    """The seller's settings for deadlines (``RAKUTEN_ACCEPT_REMINDER_HOURS``, ``RAKUTEN_SHIP_WITHIN_WORKING_DAYS``)."""

    # A sale awaiting acceptance is reminded (and counts as late) when this little time is left to accept it.
    accept_reminder_before: timedelta = timedelta(hours=12)
    # An accepted order not shipped this many working days after its acceptance is late.
    ship_within_working_days: int = 2
    # A buyer message unanswered this long gets a reminder (read by the buyer-messages part when it comes).
    message_reminder_after: timedelta = timedelta(hours=24)


DEFAULT_RULES = DeadlineRules()


def aware(moment: datetime) -> datetime:
    """``moment`` with a time zone; a naive datetime is taken as UTC, the store's convention."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def as_paris(moment: datetime) -> datetime:
    """``moment`` on Rakuten France's clock (naive datetimes taken as UTC)."""
    return aware(moment).astimezone(PARIS)


def paris_day(moment: datetime) -> date:
    """The calendar day ``moment`` falls on in Paris."""
    return as_paris(moment).date()


def order_age_reference(order: OrderRecord) -> datetime | None:
    """The moment an order's age is counted from: its purchase date, else when the bot first saw it."""
    return order.purchase_date or order.first_seen_at


# --- working days -----------------------------------------------------------------------------------------------


@cache
def _french_public_holidays(year: int) -> frozenset[date]:
    # Metropolitan France's national holidays (the `holidays` package keeps the moving feasts right: Easter Monday,
    # Ascension, Whit Monday). Computed once per year and frozen: the package fills its dict lazily, not thread-safe.
    return frozenset(holidays.country_holidays("FR", years=year))


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not a French public holiday."""
    return day.weekday() < 5 and day not in _french_public_holidays(day.year)


def add_working_days(start: datetime, days: int) -> datetime:
    """The moment ``days`` working days after ``start``, on Paris's clock: the same time of day on the ``days``-th
    working day after. A start outside working days (a Saturday, a holiday) counts from the next working day's
    midnight: Friday 15:00 + 2 is Tuesday 15:00, Saturday 10:00 + 2 is Wednesday 00:00."""
    local = as_paris(start)
    day = local.date()
    clock_time = local.time().replace(tzinfo=None)
    if not is_working_day(day):
        while not is_working_day(day):
            day += timedelta(days=1)
        clock_time = time(0, 0)
    for _ in range(days):
        day += timedelta(days=1)
        while not is_working_day(day):
            day += timedelta(days=1)
    # fold=0: on the night clocks go back, the earlier of the two 02:30s; a gap (spring) moves forward an hour.
    return datetime.combine(day, clock_time, tzinfo=PARIS).astimezone(UTC)


# --- acceptance -------------------------------------------------------------------------------------------------


def accept_deadline(order: OrderRecord) -> datetime | None:
    return aware(order.purchase_date) + ACCEPT_DEADLINE if order.purchase_date else None


def accept_reminder_at(order: OrderRecord, rules: DeadlineRules = DEFAULT_RULES) -> datetime | None:
    """When an order still awaiting acceptance gets its "time is running out" reminder."""
    deadline = accept_deadline(order)
    return deadline - rules.accept_reminder_before if deadline is not None else None


def is_late_to_accept(order: OrderRecord, now: datetime, rules: DeadlineRules = DEFAULT_RULES) -> bool:
    """Still awaiting acceptance with less than ``accept_reminder_before`` left (or the deadline passed)."""
    reminder_at = accept_reminder_at(order, rules)
    return order.state is OrderState.TO_ACCEPT and reminder_at is not None and aware(now) >= reminder_at


# --- shipping ---------------------------------------------------------------------------------------------------


def accepted_reference(order: OrderRecord) -> datetime | None:
    """When the order was accepted: as the bot saw it happen, else (an order first seen already accepted) its
    purchase date, the earliest it can have been, else when the bot first saw it."""
    return order.accepted_at or order.purchase_date or order.first_seen_at


def ship_deadline(order: OrderRecord, rules: DeadlineRules = DEFAULT_RULES) -> datetime | None:
    """The moment an accepted order not shipped becomes late: ``ship_within_working_days`` after acceptance."""
    reference = accepted_reference(order)
    return add_working_days(reference, rules.ship_within_working_days) if reference is not None else None


def is_late_to_ship(order: OrderRecord, now: datetime, rules: DeadlineRules = DEFAULT_RULES) -> bool:
    deadline = ship_deadline(order, rules)
    return order.state in SHIPPABLE_STATES and deadline is not None and aware(now) >= deadline


def is_late(order: OrderRecord, now: datetime, rules: DeadlineRules = DEFAULT_RULES) -> bool:
    """Late to accept or late to ship: the Home tab's and the daily summary's "late"."""
    return is_late_to_accept(order, now, rules) or is_late_to_ship(order, now, rules)
