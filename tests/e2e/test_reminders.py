"""Reminders and the daily summary end to end: the Rakuten simulator, the Slack stand-in and the bot over loopback,
all on one clock that the test moves (no waiting for real hours), the bot restarted and crashed on its data dir.
Each runs in English and in French (see ``conftest``): the words are compared with the stack's translator."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.constants import DAILY_SUMMARY_EVENT_TYPE, REMINDER_EVENT_TYPE
from bot.domain.orders import OrderRecord
from devkit.local_stack import CHANNEL, LOGIN, LocalStack
from devkit.slack_standin import StoredMessage
from rakuten.models import PARIS, Money
from tests.e2e.conftest import StackFactory
from tests.e2e.wording import ANY, pattern, says, shown

GRACE = timedelta(minutes=10)  # Tuning.follow_up_claim_grace's default


class Clock:
    """The stack's one clock (bot, simulator, Slack stand-in): it moves only when the test says so."""

    def __init__(self, now: datetime) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._now += timedelta(**delta)


def follow_up_often(stack: LocalStack, times: int = 3) -> None:
    """The scheduled job's runs, several times over: each reminder must come once however often it runs."""
    for _ in range(times):
        stack.follow_up()


def poll_until_card(stack: LocalStack, purchaseid: str) -> None:
    """Poll until the order's card is in the channel (a poll may be skipped while another one runs)."""
    stack.wait_until(lambda: stack.poll().ok and _has_card(stack, purchaseid), timeout=10)


def poll_until(stack: LocalStack, purchaseid: str, done: Any) -> None:
    stack.wait_until(lambda: stack.poll().ok and done(stored(stack, purchaseid)), timeout=10)


def stored(stack: LocalStack, purchaseid: str) -> OrderRecord:
    order = stack.bot.store.get_order(LOGIN, purchaseid)
    assert order is not None
    return order


def reminders(stack: LocalStack, purchaseid: str) -> list[str]:
    """The reminder kinds posted in the order card's thread, in order."""
    card = stack.card_for(purchaseid)
    return [
        _payload(message)["reminder"]
        for message in stack.slack.messages(CHANNEL)
        if message.thread_ts == card.ts and _event(message) == REMINDER_EVENT_TYPE
    ]


def reminder_messages(stack: LocalStack) -> list[StoredMessage]:
    return [message for message in stack.slack.messages(CHANNEL) if _event(message) == REMINDER_EVENT_TYPE]


def summaries(stack: LocalStack) -> list[StoredMessage]:
    return [message for message in stack.slack.messages(CHANNEL) if _event(message) == DAILY_SUMMARY_EVENT_TYPE]


def card_text(stack: LocalStack, purchaseid: str) -> str:
    card = stack.card_for(purchaseid)
    return shown({"text": card.text, "blocks": card.blocks})


def late_line(stack: LocalStack, deadline: datetime | None = None) -> str:
    """The card's line of an order late to ship (due at ``deadline``, or at any time)."""
    due = stack.t.short_datetime(deadline) if deadline is not None else ANY
    return stack.t.gettext("⏰ *Late*: was due {deadline}", deadline=due)


def restart(stack: LocalStack, *, orderly: bool = True) -> None:
    stack.stop_app(orderly=orderly)
    stack.start_app()


# ------------------------------------------------------------------------------------------------ reminders


MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=PARIS)


def test_each_reminder_fires_once_at_its_time_across_restarts_and_none_after_the_order_is_closed(
    make_stack: StackFactory,
) -> None:
    clock = Clock(MONDAY)
    stack = make_stack(clock=clock, poll_seconds=3600, follow_up_seconds=3600)
    purchaseid = stack.simulator.add_sale(LOGIN, new=True, purchase_date=MONDAY, items=[{"headline": "Lampe"}])
    itemid = stack.simulator.sale(purchaseid).items[0].itemid
    poll_until_card(stack, purchaseid)
    deadline = MONDAY + timedelta(hours=72)  # Thursday 09:00

    clock.set(deadline - timedelta(hours=12, minutes=1))
    follow_up_often(stack)
    assert reminders(stack, purchaseid) == []

    # 12 h before Rakuten's deadline: one reminder in the card's thread, pinging the channel.
    clock.set(deadline - timedelta(hours=12))
    follow_up_often(stack)
    assert reminders(stack, purchaseid) == ["accept_soon"]
    (soon,) = reminder_messages(stack)
    awaits = stack.t.gettext(
        "⏳ Order {purchaseid} still awaits your decision: accept or refuse it by {deadline} ({left} left).",
        purchaseid=purchaseid,
        deadline=ANY,
        left=ANY,
    )
    assert pattern(f"<!here> {awaits}").match(soon.text)
    restart(stack)
    follow_up_often(stack)
    assert reminders(stack, purchaseid) == ["accept_soon"]

    # The deadline passes: one more, also after a crash.
    clock.set(deadline)
    follow_up_often(stack)
    restart(stack, orderly=False)
    follow_up_often(stack)
    assert reminders(stack, purchaseid) == ["accept_soon", "accept_expired"]

    # Accepted on the site on Thursday 10:00: two working days later (Monday 10:00) it is late.
    clock.set(deadline + timedelta(hours=1))
    stack.simulator.accept_on_site(purchaseid)
    poll_until(stack, purchaseid, lambda order: order.accepted_at is not None)
    assert stored(stack, purchaseid).accepted_at == clock()
    late_at = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)
    clock.set(late_at - timedelta(minutes=1))
    follow_up_often(stack)
    assert reminders(stack, purchaseid) == ["accept_soon", "accept_expired"]
    assert not says(card_text(stack, purchaseid), late_line(stack))

    clock.set(late_at)
    follow_up_often(stack)
    restart(stack)
    follow_up_often(stack)
    assert reminders(stack, purchaseid) == ["accept_soon", "accept_expired", "ship_late"]
    assert late_line(stack, late_at) in card_text(stack, purchaseid)

    # Shipped: the card stops saying late, and nothing more is ever posted.
    stack.simulator.ship_on_site(itemid, "Colissimo", "6A12345678901")
    poll_until(stack, purchaseid, lambda order: not order.is_open)
    assert not says(card_text(stack, purchaseid), late_line(stack))
    clock.advance(days=10)
    follow_up_often(stack)
    assert reminders(stack, purchaseid) == ["accept_soon", "accept_expired", "ship_late"]


def test_a_sale_cancelled_before_its_reminder_gets_none(make_stack: StackFactory) -> None:
    clock = Clock(MONDAY)
    stack = make_stack(clock=clock, poll_seconds=3600, follow_up_seconds=3600)
    purchaseid = stack.simulator.add_sale(LOGIN, new=True, purchase_date=MONDAY, items=[{"headline": "Lampe"}])
    poll_until_card(stack, purchaseid)
    clock.advance(hours=30)
    stack.simulator.cancel(stack.simulator.sale(purchaseid).items[0].itemid)
    poll_until(stack, purchaseid, lambda order: not order.is_open)
    for hours in (42, 72, 24 * 10):
        clock.set(MONDAY + timedelta(hours=hours))
        follow_up_often(stack)
    assert reminder_messages(stack) == []


def test_the_scheduler_runs_the_reminders(make_stack: StackFactory) -> None:
    clock = Clock(MONDAY)
    stack = make_stack(clock=clock, poll_seconds=3600, follow_up_seconds=0.2)
    purchaseid = stack.simulator.add_sale(LOGIN, new=True, purchase_date=MONDAY)
    poll_until_card(stack, purchaseid)
    clock.set(MONDAY + timedelta(hours=61))
    stack.bot.start_polling()  # as `rakuten-bot run` does: polls and the follow-up job on their schedules
    stack.slack.wait_for(lambda: len(reminder_messages(stack)) == 1, timeout=10)


# ------------------------------------------------------------------------------------------------ crashes


@pytest.mark.parametrize("what", ["reminder", "daily summary"])
def test_a_crash_between_the_claim_and_the_post_still_posts_once(make_stack: StackFactory, what: str) -> None:
    clock = Clock(MONDAY)
    summary_at = time(8, 30) if what == "daily summary" else None
    stack = make_stack(clock=clock, poll_seconds=3600, follow_up_seconds=3600, daily_summary_at=summary_at)
    purchaseid = stack.simulator.add_sale(LOGIN, new=True, purchase_date=MONDAY)
    poll_until_card(stack, purchaseid)
    # Due: the reminder 12 h before the deadline, or Tuesday's summary (without the reminder, due later).
    due = MONDAY + timedelta(hours=61) if what == "reminder" else datetime(2026, 11, 17, 8, 30, tzinfo=PARIS)
    clock.set(due)
    posted = reminder_messages if what == "reminder" else summaries

    stack.slack.go_offline()  # the claim is stored, then the post never reaches Slack: the bot dies there
    stack.follow_up()
    assert posted(stack) == []
    stack.stop_app(orderly=False)
    stack.slack.go_offline(False)
    stack.start_app()

    follow_up_often(stack)  # within the grace the claim may be another bot's post in progress: hands off
    assert posted(stack) == []
    clock.advance(minutes=GRACE.total_seconds() / 60)
    follow_up_often(stack)
    restart(stack)
    follow_up_often(stack)
    assert len(posted(stack)) == 1


@pytest.mark.parametrize("what", ["reminder", "daily summary"])
def test_a_crash_between_the_post_and_its_record_posts_nothing_twice(make_stack: StackFactory, what: str) -> None:
    clock = Clock(MONDAY)
    summary_at = time(8, 30) if what == "daily summary" else None
    stack = make_stack(clock=clock, poll_seconds=3600, follow_up_seconds=3600, daily_summary_at=summary_at)
    purchaseid = stack.simulator.add_sale(LOGIN, new=True, purchase_date=MONDAY)
    poll_until_card(stack, purchaseid)
    due = MONDAY + timedelta(hours=61) if what == "reminder" else datetime(2026, 11, 17, 8, 30, tzinfo=PARIS)
    clock.set(due)
    posted = reminder_messages if what == "reminder" else summaries

    # Slack posts it, and the bot dies before its answer comes back: the store has the claim, not the message.
    hold = stack.slack.hold("chat.postMessage")
    running = threading.Thread(target=stack.follow_up)
    running.start()
    assert hold.carried_out.wait(10)
    stack.stop_app(orderly=False)
    hold.release()
    running.join(timeout=10)  # the dead bot's last step fails on its closed store
    assert len(posted(stack)) == 1

    stack.start_app()
    clock.advance(minutes=GRACE.total_seconds() / 60)
    follow_up_often(stack)
    assert len(posted(stack)) == 1
    (message,) = posted(stack)
    if what == "reminder":
        mark = stored(stack, purchaseid).reminders["accept_soon"]
        assert mark.posted_ts == message.ts  # found in the thread by its metadata, and recorded
    else:
        account = stack.bot.store.get_account(LOGIN)
        assert account is not None
        assert account.daily_summary is not None
        assert account.daily_summary.posted_ts == message.ts


@pytest.mark.parametrize("what", ["reminder", "daily summary"])
def test_an_answer_lost_after_slack_posted_is_not_posted_again(make_stack: StackFactory, what: str) -> None:
    """The connection drops after Slack carried out the post: a client retrying on its own would post it twice."""
    clock = Clock(MONDAY)
    summary_at = time(8, 30) if what == "daily summary" else None
    stack = make_stack(clock=clock, poll_seconds=3600, follow_up_seconds=3600, daily_summary_at=summary_at)
    purchaseid = stack.simulator.add_sale(LOGIN, new=True, purchase_date=MONDAY)
    poll_until_card(stack, purchaseid)
    clock.set(MONDAY + timedelta(hours=61) if what == "reminder" else datetime(2026, 11, 17, 8, 30, tzinfo=PARIS))
    posted = reminder_messages if what == "reminder" else summaries

    hold = stack.slack.hold("chat.postMessage", drop=True)
    running = threading.Thread(target=stack.follow_up)
    running.start()
    assert hold.carried_out.wait(10)
    hold.release()
    running.join(timeout=30)
    follow_up_often(stack)
    clock.advance(minutes=GRACE.total_seconds() / 60)
    follow_up_often(stack)
    assert len(posted(stack)) == 1


# ------------------------------------------------------------------------------------------------ daily summary


def test_the_daily_summary_gives_yesterdays_figures_once_a_day(make_stack: StackFactory) -> None:
    tuesday = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
    clock = Clock(tuesday)
    stack = make_stack(clock=clock, poll_seconds=3600, follow_up_seconds=3600, daily_summary_at=time(8, 30))
    sim = stack.simulator
    one_item = [{"headline": "Guide"}]
    late = sim.add_sale(LOGIN, new=False, purchase_date=datetime(2026, 11, 20, 12, 0, tzinfo=PARIS), items=one_item)
    shipped = sim.add_sale(LOGIN, new=False, purchase_date=datetime(2026, 11, 30, 12, 0, tzinfo=PARIS), items=one_item)
    recent = sim.add_sale(LOGIN, new=False, purchase_date=datetime(2026, 11, 30, 18, 0, tzinfo=PARIS), items=one_item)
    first = sim.add_sale(
        LOGIN, purchase_date=tuesday - timedelta(hours=1), items=[{"headline": "Atlas", "price": Decimal("12.00")}]
    )
    second = sim.add_sale(
        LOGIN, purchase_date=tuesday - timedelta(minutes=30), items=[{"headline": "Carte", "price": Decimal("8.50")}]
    )
    for purchaseid in (late, shipped, recent, first, second):
        poll_until_card(stack, purchaseid)
    clock.set(datetime(2026, 12, 1, 16, 0, tzinfo=PARIS))
    sim.ship_on_site(sim.sale(shipped).items[0].itemid, "Colissimo", "6A12345678901")
    poll_until(stack, shipped, lambda order: not order.is_open)

    clock.set(datetime(2026, 12, 2, 8, 29, tzinfo=PARIS))
    follow_up_often(stack)
    assert summaries(stack) == []
    clock.set(datetime(2026, 12, 2, 8, 30, tzinfo=PARIS))
    follow_up_often(stack)
    restart(stack)
    follow_up_often(stack)

    (summary,) = summaries(stack)
    assert summary.thread_ts is None  # in the channel, not in a thread
    t = stack.t
    day = t.date(datetime(2026, 12, 2, 12, 0, tzinfo=PARIS))
    assert t.gettext("📋 Daily summary · {date}", date=day) in summary.text
    assert (
        t.ngettext(
            "🛒 {count} new order yesterday, {amount}",
            "🛒 {count} new orders yesterday, {amount}",
            2,
            amount=t.money(Money(Decimal("20.50"))),
        )
        in summary.text
    )
    assert t.ngettext("✅ {count} order shipped yesterday", "✅ {count} orders shipped yesterday", 1) in summary.text
    blocks = {block.get("block_id"): block["text"]["text"] for block in summary.blocks if "text" in block}
    to_ship, overdue = blocks["summary_to_ship"], blocks["summary_late"]
    assert to_ship.startswith(t.gettext("*📦 To ship ({count}), oldest first*", count=2))
    assert to_ship.index(late) < to_ship.index(recent)
    assert overdue.startswith(t.gettext("*⏰ Late ({count})*", count=1))
    assert f"{_permalink(stack, late)}|{late}>" in overdue
    assert f"{_permalink(stack, recent)}|{recent}>" in to_ship
    for absent in (shipped, first, second):
        assert absent not in to_ship + overdue

    clock.set(datetime(2026, 12, 3, 8, 30, tzinfo=PARIS))
    follow_up_often(stack)
    assert [_payload(message)["day"] for message in summaries(stack)] == ["2026-12-02", "2026-12-03"]


def _permalink(stack: LocalStack, purchaseid: str) -> str:
    card = stack.card_for(purchaseid)
    return f"https://{stack.slack.team_domain}.slack.com/archives/{CHANNEL}/p{card.ts.replace('.', '')}"


def _has_card(stack: LocalStack, purchaseid: str) -> bool:
    return any(_payload(card).get("purchaseid") == purchaseid for card in stack.cards())


def _event(message: StoredMessage) -> str | None:
    return (message.metadata or {}).get("event_type")


def _payload(message: StoredMessage) -> dict[str, Any]:
    return (message.metadata or {}).get("event_payload") or {}
