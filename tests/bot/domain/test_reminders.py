"""Which reminders an order is due, and when: the rules the reminders service claims and posts from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.deadlines import DEFAULT_RULES, DeadlineRules
from bot.domain.orders import ItemState, OrderRecord, PendingAction, PendingKind, ReminderMark
from bot.domain.reminders import (
    REMINDER_RULES,
    DueReminder,
    ReminderKind,
    reminders_due_now,
    unclaimed_reminders,
)
from tests.factories import PARIS, item, order

PURCHASED = datetime(2026, 11, 16, 9, 30, tzinfo=PARIS)  # a Monday
DEADLINE = PURCHASED + timedelta(hours=72)


def kinds(record: OrderRecord, now: datetime, rules: DeadlineRules = DEFAULT_RULES) -> list[ReminderKind]:
    return [reminder.kind for reminder in reminders_due_now(record, now, rules)]


def to_accept(*states: ItemState) -> OrderRecord:
    items = [item(str(n), state) for n, state in enumerate(states or (ItemState.TO_ACCEPT,))]
    return order(*items, purchase_date=PURCHASED)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (DEADLINE - timedelta(hours=12, seconds=1), []),
        (DEADLINE - timedelta(hours=12), [ReminderKind.ACCEPT_SOON]),
        (DEADLINE - timedelta(seconds=1), [ReminderKind.ACCEPT_SOON]),
        (DEADLINE, [ReminderKind.ACCEPT_EXPIRED]),  # never both: past the deadline, "soon" is over
        (DEADLINE + timedelta(days=3), [ReminderKind.ACCEPT_EXPIRED]),
    ],
)
def test_a_sale_awaiting_acceptance_is_reminded_before_and_after_its_deadline(
    now: datetime, expected: list[ReminderKind]
) -> None:
    assert kinds(to_accept(), now) == expected


def test_the_time_before_the_deadline_is_a_setting() -> None:
    rules = DeadlineRules(accept_reminder_before=timedelta(hours=2))
    assert kinds(to_accept(), DEADLINE - timedelta(hours=3), rules) == []
    assert kinds(to_accept(), DEADLINE - timedelta(hours=2), rules) == [ReminderKind.ACCEPT_SOON]
    (reminder,) = reminders_due_now(to_accept(), DEADLINE - timedelta(hours=1), rules)
    assert reminder.deadline == DEADLINE
    assert reminder.due_at == DEADLINE - timedelta(hours=2)


def test_no_acceptance_reminder_once_decided_or_while_a_decision_is_on_its_way() -> None:
    late = DEADLINE + timedelta(hours=1)
    assert kinds(to_accept(ItemState.TO_SHIP), late) == [ReminderKind.SHIP_LATE]  # accepted: now it is shipping
    assert kinds(to_accept(ItemState.REFUSED), late) == []
    clicked = to_accept()
    clicked.items[0].pending = PendingAction(PendingKind.ACCEPT, "U0SELLER", late)
    assert kinds(clicked, late) == []


def test_an_accepted_order_not_shipped_in_time_is_due_one_late_reminder() -> None:
    accepted = datetime(2026, 11, 13, 15, 0, tzinfo=PARIS)  # a Friday: due Tuesday 15:00
    record = order(item(state=ItemState.TO_SHIP), purchase_date=accepted, accepted_at=accepted)
    due = datetime(2026, 11, 17, 15, 0, tzinfo=PARIS)
    assert kinds(record, due - timedelta(minutes=1)) == []
    assert kinds(record, due) == [ReminderKind.SHIP_LATE]
    record.items[0].pending = PendingAction(PendingKind.SHIP, "U0SELLER", due)
    assert kinds(record, due) == []  # a shipment is on its way to Rakuten
    record.items[0].pending = None
    record.items[0].state = ItemState.SHIPPED
    assert kinds(record, due + timedelta(days=3)) == []


@pytest.mark.parametrize("state", [ItemState.SHIPPED, ItemState.CANCELLED, ItemState.REFUSED])
def test_a_closed_order_is_due_no_reminder(state: ItemState) -> None:
    assert (
        reminders_due_now(
            order(item(state=state), purchase_date=PURCHASED), DEADLINE + timedelta(days=9), DEFAULT_RULES
        )
        == []
    )


def test_a_claimed_reminder_is_never_due_again() -> None:
    record = to_accept()
    now = DEADLINE - timedelta(hours=1)
    (soon,) = unclaimed_reminders(record, now, DEFAULT_RULES)
    record.reminders[soon.key] = ReminderMark(claim="c1", claimed_at=now)
    assert unclaimed_reminders(record, now, DEFAULT_RULES) == []
    (expired,) = unclaimed_reminders(record, DEADLINE, DEFAULT_RULES)
    assert expired.kind is ReminderKind.ACCEPT_EXPIRED


def test_a_rule_can_be_added_for_a_kind_that_recurs_per_subject() -> None:
    """How the buyer-messages part plugs in: its own rule, reminders keyed by subject (a message id)."""

    def unanswered(record: OrderRecord, now: datetime, rules: DeadlineRules) -> list[DueReminder]:
        return [
            DueReminder(ReminderKind.SHIP_LATE, due_at=now - timedelta(hours=1), subject=mail) for mail in ("m1", "m2")
        ]

    record = order(item(state=ItemState.TO_SHIP), purchase_date=PURCHASED, accepted_at=PURCHASED)
    now = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # not late to ship yet
    due = unclaimed_reminders(record, now, DEFAULT_RULES, (*REMINDER_RULES, unanswered))
    assert [reminder.key for reminder in due] == ["ship_late:m1", "ship_late:m2"]
    record.reminders["ship_late:m1"] = ReminderMark(claim="c", claimed_at=now)
    left = unclaimed_reminders(record, now, DEFAULT_RULES, (*REMINDER_RULES, unanswered))
    assert [reminder.key for reminder in left] == ["ship_late:m2"]
