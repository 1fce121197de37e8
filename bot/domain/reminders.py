"""Which reminders an order is due, as pure rules: what ``bot.services.reminders`` claims and posts in the card's
thread, once each.

A reminder is named by its kind and, for a kind that can come back for one order, a subject (a buyer message's id):
its ``key`` is what the order's ``reminders`` record once it is claimed. A rule is a function from an order and the
time to the reminders it is due; the buyer-messages part adds a ``ReminderKind`` and a rule to ``REMINDER_RULES``
(or hands its own rules to the service), and gets the same once-only posting for free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.after_sale import ThreadEntry
from bot.domain.deadlines import (
    DeadlineRules,
    accept_deadline,
    accept_reminder_at,
    aware,
    ship_deadline,
)
from bot.domain.orders import SHIPPABLE_STATES, ItemState, OrderRecord, OrderState, shippable_items


class ReminderKind(StrEnum):
    ACCEPT_SOON = "accept_soon"  # little time left to accept the sale
    ACCEPT_EXPIRED = "accept_expired"  # the acceptance deadline has passed, the sale still waits
    SHIP_LATE = "ship_late"  # accepted, not shipped after the working days allowed
    MESSAGE_UNANSWERED = "message_unanswered"  # a buyer message waits for an answer (subject: the message's key)


@dataclass(frozen=True, slots=True)
class DueReminder:
    kind: ReminderKind
    due_at: datetime  # when it fell due (shown as the deadline it is about)
    deadline: datetime | None = None  # the deadline the reminder is about, when there is one
    subject: str | None = None  # what it is about inside the order, for a kind that can recur

    @property
    def key(self) -> str:
        return self.kind.value if self.subject is None else f"{self.kind.value}:{self.subject}"


ReminderRule = Callable[[OrderRecord, datetime, DeadlineRules], Iterable[DueReminder]]


def acceptance_reminders(order: OrderRecord, now: datetime, rules: DeadlineRules) -> Iterable[DueReminder]:
    """Little time left to accept, then deadline passed: one or the other at a time, never both at once."""
    waiting = [item for item in order.items if item.state is ItemState.TO_ACCEPT]
    # Someone clicked Accept or Refuse on every item still waiting (Rakuten is being asked): nothing to remind.
    if order.state is not OrderState.TO_ACCEPT or all(item.pending is not None for item in waiting):
        return
    deadline, reminder_at = accept_deadline(order), accept_reminder_at(order, rules)
    if deadline is None or reminder_at is None:
        return
    if now >= deadline:
        yield DueReminder(ReminderKind.ACCEPT_EXPIRED, due_at=deadline, deadline=deadline)
    elif now >= reminder_at:
        yield DueReminder(ReminderKind.ACCEPT_SOON, due_at=reminder_at, deadline=deadline)


def shipping_reminders(order: OrderRecord, now: datetime, rules: DeadlineRules) -> Iterable[DueReminder]:
    """Late to ship: accepted, still not shipped, and nobody's shipment on its way to Rakuten."""
    if order.state not in SHIPPABLE_STATES or not shippable_items(order):
        return
    deadline = ship_deadline(order, rules)
    if deadline is not None and now >= deadline:
        yield DueReminder(ReminderKind.SHIP_LATE, due_at=deadline, deadline=deadline)


def message_reminders(order: OrderRecord, now: datetime, rules: DeadlineRules) -> Iterable[DueReminder]:
    """A buyer message unanswered ``message_reminder_after``: one reminder per message, for the oldest one waiting
    on each item (a later one gets its own once the seller has answered and the buyer writes again)."""
    oldest: dict[str, ThreadEntry] = {}
    for entry in order.after_sale.unanswered():
        oldest.setdefault(entry.itemid, entry)
    for entry in oldest.values():
        if entry.moment is None:
            continue
        due_at = aware(entry.moment) + rules.message_reminder_after
        if now >= due_at:
            yield DueReminder(ReminderKind.MESSAGE_UNANSWERED, due_at=due_at, subject=entry.key)


REMINDER_RULES: tuple[ReminderRule, ...] = (acceptance_reminders, shipping_reminders, message_reminders)


def reminders_due_now(
    order: OrderRecord, now: datetime, rules: DeadlineRules, rule_set: Sequence[ReminderRule] = REMINDER_RULES
) -> list[DueReminder]:
    """Every reminder the order is due at ``now``, claimed or not; none once the order is closed, unless its after
    sale still waits on the seller (a buyer writes after the parcel left)."""
    if not order.is_open and not order.after_sale.needs_attention:
        return []
    moment = aware(now)
    return [reminder for rule in rule_set for reminder in rule(order, moment, rules)]


def unclaimed_reminders(
    order: OrderRecord, now: datetime, rules: DeadlineRules, rule_set: Sequence[ReminderRule] = REMINDER_RULES
) -> list[DueReminder]:
    """The reminders due at ``now`` that nobody has claimed yet: each is posted once, so a claimed one never is
    again, even when it falls due anew (an order reopened by a claim)."""
    due = reminders_due_now(order, now, rules, rule_set)
    return [reminder for reminder in due if reminder.key not in order.reminders]
