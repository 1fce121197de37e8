"""The daily summary's figures from a known set of orders, and when it is due (Paris days)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from bot.domain.daily_summary import daily_figures, summary_day_due
from bot.domain.deadlines import DEFAULT_RULES
from bot.domain.orders import ItemState
from rakuten.models import Money
from tests.factories import PARIS, item, order, shipment

DAY = date(2026, 12, 2)  # a Wednesday; "yesterday" is Tuesday 1 December
NOW = datetime(2026, 12, 2, 8, 30, tzinfo=PARIS)
AT = time(8, 30)


def euros(amount: str) -> Money:
    return Money(Decimal(amount))


def test_the_figures_count_yesterday_in_paris_and_list_what_waits_oldest_first() -> None:
    orders = [
        # Placed yesterday (00:10 Paris is still 30 November in UTC): new, to ship, not late.
        order(
            item("a"), purchaseid="1", purchase_date=datetime(2026, 12, 1, 0, 10, tzinfo=PARIS), total=euros("10.00")
        ),
        # Placed yesterday, 23:50 Paris (2 December in UTC), awaiting acceptance.
        order(
            item("b", ItemState.TO_ACCEPT, price=euros("5.50")),
            purchaseid="2",
            purchase_date=datetime(2026, 12, 1, 23, 50, tzinfo=PARIS),
            total=None,
        ),
        # Placed the day before yesterday: not new; shipped yesterday by the bot.
        order(
            item("c", ItemState.SHIPPED, shipment=shipment(shipped_at=datetime(2026, 12, 1, 16, 0, tzinfo=PARIS))),
            purchaseid="3",
            purchase_date=datetime(2026, 11, 30, 12, 0, tzinfo=PARIS),
            closed_at=datetime(2026, 12, 1, 16, 0, tzinfo=PARIS),
        ),
        # Shipped on the Rakuten site: known from when the bot saw it closed, yesterday.
        order(
            item("d", ItemState.SHIPPED),
            purchaseid="4",
            purchase_date=datetime(2026, 11, 20, 12, 0, tzinfo=PARIS),
            closed_at=datetime(2026, 12, 1, 9, 0, tzinfo=PARIS),
        ),
        # Accepted a week ago, still to ship: late, and the oldest to ship.
        order(
            item("e"),
            purchaseid="5",
            purchase_date=datetime(2026, 11, 24, 12, 0, tzinfo=PARIS),
            accepted_at=datetime(2026, 11, 24, 13, 0, tzinfo=PARIS),
        ),
        # Shipped today: not yesterday's.
        order(
            item("f", ItemState.SHIPPED, shipment=shipment(shipped_at=datetime(2026, 12, 2, 0, 5, tzinfo=PARIS))),
            purchaseid="6",
            purchase_date=datetime(2026, 11, 30, 12, 0, tzinfo=PARIS),
        ),
        # Refused yesterday, placed yesterday: a new order all the same, nothing to ship.
        order(
            item("g", ItemState.REFUSED),
            purchaseid="7",
            purchase_date=datetime(2026, 12, 1, 12, 0, tzinfo=PARIS),
            total=euros("4.00"),
        ),
    ]
    figures = daily_figures(orders, DAY, NOW, DEFAULT_RULES)
    assert figures.yesterday == date(2026, 12, 1)
    assert [o.purchaseid for o in figures.new_orders] == ["1", "7", "2"]
    assert figures.new_amount == euros("19.50")
    assert [o.purchaseid for o in figures.shipped] == ["4", "3"]
    assert [o.purchaseid for o in figures.to_ship] == ["5", "1"]
    assert [o.purchaseid for o in figures.late] == ["5"]
    assert (figures.open_claims, figures.unanswered_messages) == (0, 0)


def test_a_sale_near_its_acceptance_deadline_is_late() -> None:
    waiting = order(item(state=ItemState.TO_ACCEPT), purchase_date=NOW - timedelta(hours=61))
    assert [o.purchaseid for o in daily_figures([waiting], DAY, NOW, DEFAULT_RULES).late] == [waiting.purchaseid]


def test_no_amount_when_no_order_has_one() -> None:
    bare = order(item(price=None), purchase_date=datetime(2026, 12, 1, 12, 0, tzinfo=PARIS), total=None)
    figures = daily_figures([bare], DAY, NOW, DEFAULT_RULES)
    assert len(figures.new_orders) == 1
    assert figures.new_amount is None


def test_the_summary_is_due_from_its_time_until_midnight_paris() -> None:
    assert summary_day_due(datetime(2026, 12, 2, 8, 29, tzinfo=PARIS), AT, None) is None
    assert summary_day_due(datetime(2026, 12, 2, 8, 30, tzinfo=PARIS), AT, None) == DAY
    assert summary_day_due(datetime(2026, 12, 2, 23, 59, tzinfo=PARIS), AT, None) == DAY
    # 00:30 in Paris on 3 December is still 2 December in UTC: Paris's day counts.
    assert summary_day_due(datetime(2026, 12, 2, 23, 30, tzinfo=UTC), AT, None) is None


def test_an_account_connected_after_the_time_starts_the_next_day() -> None:
    connected = datetime(2026, 12, 2, 15, 0, tzinfo=PARIS)
    assert summary_day_due(datetime(2026, 12, 2, 16, 0, tzinfo=PARIS), AT, connected) is None
    assert summary_day_due(datetime(2026, 12, 3, 8, 30, tzinfo=PARIS), AT, connected) == date(2026, 12, 3)
    assert summary_day_due(datetime(2026, 12, 2, 9, 0, tzinfo=PARIS), AT, connected - timedelta(days=1)) == DAY
