"""Working days (Monday to Friday, French public holidays off, Paris clock) and the deadlines built on them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.deadlines import (
    DeadlineRules,
    accept_deadline,
    accept_reminder_at,
    add_working_days,
    is_late,
    is_late_to_accept,
    is_late_to_ship,
    is_working_day,
    ship_deadline,
)
from bot.domain.orders import ItemState, note_acceptance
from tests.factories import PARIS, item, order


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 13), True),  # a Friday
        (date(2026, 11, 14), False),  # Saturday
        (date(2026, 11, 15), False),  # Sunday
        (date(2026, 11, 11), False),  # Armistice Day, a Wednesday
        (date(2026, 4, 6), False),  # Easter Monday: a moving feast
        (date(2026, 5, 14), False),  # Ascension Day, a Thursday
        (date(2026, 12, 25), False),  # Christmas, a Friday
        (date(2026, 12, 24), True),  # Christmas Eve is worked
    ],
)
def test_working_days_are_weekdays_that_are_not_french_public_holidays(day: date, working: bool) -> None:
    assert is_working_day(day) is working


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # Friday 15:00 + 2: Monday is the first, Tuesday the second, same time of day.
        (datetime(2026, 11, 13, 15, 0, tzinfo=PARIS), 2, datetime(2026, 11, 17, 15, 0, tzinfo=PARIS)),
        # Tuesday before Armistice Day (Wednesday 11): Thursday, then Friday.
        (datetime(2026, 11, 10, 10, 0, tzinfo=PARIS), 2, datetime(2026, 11, 13, 10, 0, tzinfo=PARIS)),
        # Thursday 24 December: Christmas (Friday) and the weekend are skipped.
        (datetime(2026, 12, 24, 15, 0, tzinfo=PARIS), 2, datetime(2026, 12, 29, 15, 0, tzinfo=PARIS)),
        # Saturday: counted from Monday's midnight.
        (datetime(2026, 11, 28, 10, 0, tzinfo=PARIS), 2, datetime(2026, 12, 2, 0, 0, tzinfo=PARIS)),
        # On Armistice Day itself: from Thursday's midnight.
        (datetime(2026, 11, 11, 9, 0, tzinfo=PARIS), 1, datetime(2026, 11, 13, 0, 0, tzinfo=PARIS)),
        # Across the switch to summer time (29 March 2026): still 15:00 on Paris's clock.
        (datetime(2026, 3, 27, 15, 0, tzinfo=PARIS), 2, datetime(2026, 3, 31, 15, 0, tzinfo=PARIS)),
    ],
)
def test_adding_working_days_keeps_the_time_of_day_and_skips_weekends_and_holidays(
    start: datetime, days: int, due: datetime
) -> None:
    assert add_working_days(start, days) == due
    assert add_working_days(start.astimezone(UTC), days) == due  # the same moment however it is written


def test_summer_time_is_on_the_paris_clock() -> None:
    due = add_working_days(datetime(2026, 3, 27, 15, 0, tzinfo=PARIS), 2)
    assert due.astimezone(UTC) == datetime(2026, 3, 31, 13, 0, tzinfo=UTC)  # 15:00 CEST, UTC+2


def test_an_accepted_order_is_late_after_its_working_days_counted_from_its_acceptance() -> None:
    accepted = datetime(2026, 11, 13, 15, 0, tzinfo=PARIS)  # a Friday
    record = order(item(state=ItemState.TO_SHIP), purchase_date=accepted - timedelta(days=1), accepted_at=accepted)
    deadline = datetime(2026, 11, 17, 15, 0, tzinfo=PARIS)
    assert ship_deadline(record) == deadline
    assert not is_late_to_ship(record, deadline - timedelta(seconds=1))
    assert is_late_to_ship(record, deadline)
    assert is_late(record, deadline)
    three_days = DeadlineRules(ship_within_working_days=3)
    assert not is_late_to_ship(record, deadline, three_days)
    assert is_late_to_ship(record, datetime(2026, 11, 18, 15, 0, tzinfo=PARIS), three_days)


def test_an_order_first_seen_accepted_counts_from_its_purchase() -> None:
    purchased = datetime(2026, 11, 16, 9, 30, tzinfo=PARIS)  # a Monday
    record = order(item(state=ItemState.TO_SHIP), purchase_date=purchased, accepted_at=None)
    assert ship_deadline(record) == datetime(2026, 11, 18, 9, 30, tzinfo=PARIS)


@pytest.mark.parametrize("state", [ItemState.SHIPPED, ItemState.CANCELLED, ItemState.TO_ACCEPT, ItemState.ON_HOLD])
def test_only_orders_to_ship_are_late_to_ship(state: ItemState) -> None:
    record = order(item(state=state), purchase_date=datetime(2026, 1, 5, 9, 0, tzinfo=PARIS))
    assert not is_late_to_ship(record, datetime(2026, 11, 30, tzinfo=UTC))


def test_a_sale_is_late_to_accept_inside_the_reminder_window() -> None:
    purchased = datetime(2026, 11, 16, 9, 30, tzinfo=PARIS)
    record = order(item(state=ItemState.TO_ACCEPT), purchase_date=purchased)
    assert accept_deadline(record) == purchased + timedelta(hours=72)
    reminder = accept_reminder_at(record)
    assert reminder == purchased + timedelta(hours=60)  # 12 h before the deadline by default
    assert not is_late_to_accept(record, reminder - timedelta(seconds=1))
    assert is_late_to_accept(record, reminder)
    assert is_late(record, reminder)
    six_hours = DeadlineRules(accept_reminder_before=timedelta(hours=6))
    assert not is_late_to_accept(record, reminder, six_hours)
    assert accept_reminder_at(record, six_hours) == purchased + timedelta(hours=66)


def test_acceptance_is_stamped_once_when_an_item_is_accepted() -> None:
    moment = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
    waiting = order(item("1", ItemState.TO_ACCEPT), item("2", ItemState.TO_ACCEPT), accepted_at=None)
    waiting.items[0].state = ItemState.TO_SHIP
    note_acceptance(waiting, moment)
    assert waiting.accepted_at is None  # one item still waits: the order is still to accept
    waiting.items[1].state = ItemState.REFUSED
    note_acceptance(waiting, moment)
    assert waiting.accepted_at == moment
    note_acceptance(waiting, moment + timedelta(hours=1))
    assert waiting.accepted_at == moment  # the first acceptance stays

    refused = order(item("1", ItemState.REFUSED), accepted_at=None)
    note_acceptance(refused, moment)
    assert refused.accepted_at is None  # nothing to ship: no time to ship starts
