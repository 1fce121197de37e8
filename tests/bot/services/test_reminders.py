"""Reminders in the card's thread, once each: the real store, card publisher and Slack poster, against the Slack
stand-in over loopback, with a clock that moves only when told."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.constants import REMINDER_EVENT_TYPE
from bot.domain.accounts import AccountRecord, AccountSettings
from bot.domain.deadlines import DeadlineRules
from bot.domain.orders import ItemState, OrderRecord, ReminderMark
from bot.services.card_publisher import CardPublisher
from bot.services.reminders import Reminders
from bot.slack.access import Revocation, SlackAccessGate
from bot.slack.poster import SlackPoster, build_web_client
from bot.store import TinyDBStore
from bot.ui.notices import SlackNotices
from devkit.slack_standin import Hold, SlackStandIn, StoredMessage
from tests import factories
from tests.bot.services.conftest import Clock
from tests.factories import PARIS
from tests.i18n import ENGLISH

LOGIN = "boutique-test"
CHANNEL = "C0ORDERS"
PACKERS = "S0PACKERS"
PURCHASED = datetime(2026, 11, 16, 9, 30, tzinfo=PARIS)  # a Monday
DEADLINE = PURCHASED + timedelta(hours=72)
GRACE = timedelta(minutes=10)


@dataclass
class Desk:
    store: TinyDBStore
    slack: SlackStandIn
    client: WebClient
    poster: SlackPoster
    publisher: CardPublisher
    clock: Clock
    gate: SlackAccessGate

    def reminders(self, rules: DeadlineRules | None = None) -> Reminders:
        """A bot's reminders: each its own paced sender, as each replica has."""
        return Reminders(
            self.store,
            SlackPoster(self.client, interval=0),
            self.publisher,
            clock=self.clock,
            notices=SlackNotices(ENGLISH, rules or DeadlineRules()),
            rules=rules or DeadlineRules(),
            claim_grace=GRACE,
            access=self.gate,
        )

    def account(self, **settings: Any) -> AccountRecord:
        account = factories.account(LOGIN, channel_id=CHANNEL, settings=AccountSettings(**settings))
        self.store.save_account(account)
        return account

    def order_with_card(
        self, purchaseid: str = "480000001", *, state: ItemState = ItemState.TO_ACCEPT, **fields: Any
    ) -> OrderRecord:
        values: dict[str, Any] = {
            "account": LOGIN,
            "purchaseid": purchaseid,
            "purchase_date": PURCHASED,
            "first_seen_at": PURCHASED + timedelta(minutes=5),
            **fields,
        }
        record = factories.order(factories.item(f"{purchaseid}-1", state), **values)
        self.store.save_order(record)
        account = self.store.get_account(LOGIN)
        assert account is not None
        self.publisher.publish_missing(account, [record])
        stored = self.store.get_order(LOGIN, purchaseid)
        assert stored is not None
        assert stored.card is not None
        return stored

    def replies(self, record: OrderRecord) -> list[StoredMessage]:
        """The reminders in the order card's thread."""
        assert record.card is not None
        return [
            message
            for message in self.slack.messages(CHANNEL)
            if message.thread_ts == record.card.ts and (message.metadata or {}).get("event_type") == REMINDER_EVENT_TYPE
        ]

    def stored(self, record: OrderRecord) -> OrderRecord:
        current = self.store.get_order(LOGIN, record.purchaseid)
        assert current is not None
        return current


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    clock = Clock(PURCHASED + timedelta(minutes=5))
    with SlackStandIn(clock=lambda: clock().timestamp()) as slack, TinyDBStore(tmp_path / "data", clock=clock) as store:
        slack.add_channel(CHANNEL, members=["U0SELLER"], name="rakuten-orders")
        slack.add_usergroup(PACKERS, ["U0PACKER"], handle="packers")
        client = build_web_client(slack.bot_token, slack.api_url)
        poster = SlackPoster(client, interval=0)
        publisher = CardPublisher(store, poster, clock=clock, cards=SlackNotices(ENGLISH))
        yield Desk(store, slack, client, poster, publisher, clock, SlackAccessGate())


def run_often(reminders: Reminders, times: int = 3) -> None:
    for _ in range(times):
        reminders.run()


# --------------------------------------------------------------------------------------------- acceptance


def test_a_sale_gets_one_reminder_before_its_deadline_and_one_after_in_its_thread(desk: Desk) -> None:
    desk.account()
    record = desk.order_with_card()
    reminders = desk.reminders()

    desk.clock.now = DEADLINE - timedelta(hours=12, minutes=1)
    run_often(reminders)
    assert desk.replies(record) == []

    desk.clock.now = DEADLINE - timedelta(hours=12)
    run_often(reminders)
    (soon,) = desk.replies(record)
    assert soon.metadata == {
        "event_type": REMINDER_EVENT_TYPE,
        "event_payload": {"account": LOGIN, "purchaseid": record.purchaseid, "reminder": "accept_soon"},
    }
    assert soon.text.startswith("<!here> ⏳ Order 480000001 still awaits your decision")
    assert "12 h left" in soon.text
    assert desk.stored(record).reminders["accept_soon"].posted_ts == soon.ts

    desk.clock.now = DEADLINE - timedelta(minutes=1)
    run_often(reminders)
    assert len(desk.replies(record)) == 1

    desk.clock.now = DEADLINE
    run_often(reminders)
    desk.clock.advance(days=2)
    run_often(reminders)
    assert [message.metadata["event_payload"]["reminder"] for message in desk.replies(record)] == [  # type: ignore[index]
        "accept_soon",
        "accept_expired",
    ]
    assert "acceptance deadline" in desk.replies(record)[1].text


def test_the_shipper_group_is_pinged_when_one_is_set(desk: Desk) -> None:
    desk.account(shipper_group=PACKERS)
    record = desk.order_with_card()
    desk.clock.now = DEADLINE - timedelta(hours=1)
    desk.reminders().run()
    (message,) = desk.replies(record)
    assert message.text.startswith(f"<!subteam^{PACKERS}> ")
    assert "<!here>" not in message.text


def test_an_order_already_overdue_when_first_seen_gets_its_reminder_without_a_ping(desk: Desk) -> None:
    desk.account()
    desk.clock.now = DEADLINE + timedelta(hours=1)
    record = desk.order_with_card(first_seen_at=DEADLINE + timedelta(minutes=30))  # an account connected late
    desk.reminders().run()
    (message,) = desk.replies(record)
    assert message.text.startswith("⌛ Order 480000001")


def test_a_reminder_waits_for_the_card(desk: Desk) -> None:
    account = desk.account()
    record = factories.order(
        factories.item("1", ItemState.TO_ACCEPT), account=LOGIN, purchaseid="480000002", purchase_date=PURCHASED
    )
    desk.store.save_order(record)
    desk.clock.now = DEADLINE - timedelta(hours=1)
    reminders = desk.reminders()
    reminders.run()
    assert desk.slack.calls_to("chat.postMessage") == []
    assert desk.stored(record).reminders == {}

    desk.publisher.publish_missing(account, [record])
    reminders.run()
    assert len(desk.replies(desk.stored(record))) == 1


# --------------------------------------------------------------------------------------------- shipping


def test_an_order_not_shipped_in_time_gets_one_late_reminder_and_its_card_says_late(desk: Desk) -> None:
    desk.account()
    accepted = datetime(2026, 11, 13, 15, 0, tzinfo=PARIS)  # a Friday: late from Tuesday 15:00
    desk.clock.now = accepted
    record = desk.order_with_card(state=ItemState.TO_SHIP, purchase_date=accepted, accepted_at=accepted)
    reminders = desk.reminders()

    desk.clock.now = datetime(2026, 11, 17, 14, 59, tzinfo=PARIS)
    run_often(reminders)
    assert desk.replies(record) == []
    assert "Late" not in desk.slack.message(CHANNEL, record.card.ts).text  # type: ignore[union-attr]
    card_blocks = str(desk.slack.message(CHANNEL, record.card.ts).blocks)  # type: ignore[union-attr]
    assert "Late" not in card_blocks

    desk.clock.now = datetime(2026, 11, 17, 15, 0, tzinfo=PARIS)
    run_often(reminders)
    (late,) = desk.replies(record)
    assert "is late: accepted but not shipped within 2 working days" in late.text
    assert "⏰ *Late*: was due Nov 17" in str(desk.slack.message(CHANNEL, record.card.ts).blocks)  # type: ignore[union-attr]
    updates = len(desk.slack.calls_to("chat.update"))
    run_often(reminders)
    assert len(desk.slack.calls_to("chat.update")) == updates  # the card says it once, no update per run


def test_working_days_are_a_setting(desk: Desk) -> None:
    desk.account()
    accepted = datetime(2026, 11, 13, 15, 0, tzinfo=PARIS)
    record = desk.order_with_card(state=ItemState.TO_SHIP, purchase_date=accepted, accepted_at=accepted)
    reminders = desk.reminders(DeadlineRules(ship_within_working_days=3))
    desk.clock.now = datetime(2026, 11, 17, 15, 0, tzinfo=PARIS)
    reminders.run()
    assert desk.replies(record) == []
    desk.clock.now = datetime(2026, 11, 18, 15, 0, tzinfo=PARIS)
    reminders.run()
    (late,) = desk.replies(record)
    assert "within 3 working days" in late.text


@pytest.mark.parametrize("state", [ItemState.SHIPPED, ItemState.CANCELLED, ItemState.REFUSED])
def test_no_reminder_for_a_closed_order(desk: Desk, state: ItemState) -> None:
    desk.account()
    record = desk.order_with_card(state=ItemState.TO_ACCEPT)
    desk.store.update_order(LOGIN, record.purchaseid, lambda order: _set_state(order, state))
    desk.clock.now = DEADLINE + timedelta(days=10)
    run_often(desk.reminders())
    assert desk.replies(record) == []
    assert desk.stored(record).reminders == {}


# --------------------------------------------------------------------------------------------- once only


def test_two_bots_on_one_store_post_each_reminder_once(desk: Desk) -> None:
    """Replicas: the claim is the store's atomic update, so two runs at once never both post."""
    desk.account()
    records = [desk.order_with_card(f"48000010{n}") for n in range(6)]
    desk.clock.now = DEADLINE - timedelta(hours=1)
    first, second = desk.reminders(), desk.reminders()
    start = threading.Barrier(2)

    def run(reminders: Reminders) -> None:
        start.wait(timeout=5)
        reminders.run()

    threads = [threading.Thread(target=run, args=(r,)) for r in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [len(desk.replies(record)) for record in records] == [1] * 6


def held_run(desk: Desk, reminders: Reminders) -> tuple[threading.Thread, Hold]:
    """A run stopped while Slack answers its first post: what it read of the other orders is now stale."""
    hold = desk.slack.hold("chat.postMessage")
    thread = threading.Thread(target=reminders.run)
    thread.start()
    assert hold.carried_out.wait(10)
    return thread, hold


def test_a_run_working_from_stale_orders_never_posts_a_reminder_another_bot_posted(desk: Desk) -> None:
    desk.account()
    newer = desk.order_with_card("480000002", purchase_date=PURCHASED + timedelta(minutes=1))
    older = desk.order_with_card("480000001")
    desk.clock.now = DEADLINE - timedelta(hours=1)
    thread, hold = held_run(desk, desk.reminders())  # it read both orders, posted the newer one's, and waits
    desk.reminders().run()  # another replica meanwhile: the older order's reminder is its to post
    hold.release()
    thread.join(timeout=10)
    assert (len(desk.replies(newer)), len(desk.replies(older))) == (1, 1)


def test_a_run_working_from_stale_orders_posts_nothing_for_an_order_closed_meanwhile(desk: Desk) -> None:
    desk.account()
    desk.order_with_card("480000002", purchase_date=PURCHASED + timedelta(minutes=1))
    older = desk.order_with_card("480000001")
    desk.clock.now = DEADLINE - timedelta(hours=1)
    thread, hold = held_run(desk, desk.reminders())
    desk.store.update_order(LOGIN, older.purchaseid, lambda order: _set_state(order, ItemState.CANCELLED))
    hold.release()
    thread.join(timeout=10)
    assert desk.replies(older) == []
    assert desk.stored(older).reminders == {}


def test_a_claim_whose_post_failed_is_posted_once_after_the_grace(desk: Desk) -> None:
    desk.account()
    record = desk.order_with_card()
    desk.clock.now = DEADLINE - timedelta(hours=1)
    reminders = desk.reminders()
    desk.slack.fail("chat.postMessage", "internal_error")
    report = reminders.run()
    assert report.failed == 1
    claim = desk.stored(record).reminders["accept_soon"]
    assert (claim.posted_ts, claim.dropped) == (None, False)

    desk.clock.advance(minutes=9)
    run_often(reminders)  # within the grace: perhaps still being posted by whoever claimed it
    assert desk.replies(record) == []

    desk.clock.advance(minutes=1)
    run_often(reminders)
    (message,) = desk.replies(record)
    mark = desk.stored(record).reminders["accept_soon"]
    assert mark.posted_ts == message.ts
    assert mark.claim != claim.claim  # taken over, compare-and-set on the old claim


def test_a_reminder_posted_before_a_crash_is_found_in_the_thread_not_posted_again(desk: Desk) -> None:
    """The previous process posted, then died before recording it: the claim is there, without a ts."""
    desk.account()
    record = desk.order_with_card()
    posted_at = DEADLINE - timedelta(hours=11)
    desk.clock.now = posted_at
    claim = ReminderMark(claim="dead-process", claimed_at=posted_at)
    desk.store.update_order(LOGIN, record.purchaseid, lambda order: _with_mark(order, "accept_soon", claim))
    assert record.card is not None
    metadata = {
        "event_type": REMINDER_EVENT_TYPE,
        "event_payload": {"account": LOGIN, "purchaseid": record.purchaseid, "reminder": "accept_soon"},
    }
    earlier = desk.poster.post(CHANNEL, thread_ts=record.card.ts, text="reminder", metadata=metadata)

    desk.clock.advance(minutes=11)
    report = desk.reminders().run()
    assert report.recovered == 1
    assert report.posted == 0
    assert [message.ts for message in desk.replies(record)] == [earlier.ts]
    assert desk.stored(record).reminders["accept_soon"].posted_ts == earlier.ts


def test_a_claim_no_longer_due_when_settled_is_dropped_not_posted(desk: Desk) -> None:
    desk.account()
    record = desk.order_with_card()
    desk.clock.now = DEADLINE - timedelta(hours=1)
    desk.slack.fail("chat.postMessage", "internal_error")
    reminders = desk.reminders()
    reminders.run()
    accepted = desk.clock.now
    desk.store.update_order(LOGIN, record.purchaseid, lambda order: _accept(order, accepted))  # on the Rakuten site

    desk.clock.advance(minutes=20)
    report = reminders.run()
    assert report.dropped == 1
    assert desk.replies(record) == []
    assert desk.stored(record).reminders["accept_soon"].dropped


def test_nothing_is_posted_when_the_thread_cannot_be_read(desk: Desk) -> None:
    desk.account()
    record = desk.order_with_card()
    desk.clock.now = DEADLINE - timedelta(hours=1)
    desk.slack.fail("chat.postMessage", "internal_error")
    reminders = desk.reminders()
    reminders.run()
    desk.clock.advance(minutes=20)
    desk.slack.fail("conversations.replies", "internal_error")
    assert reminders.run().failed == 1
    assert desk.replies(record) == []
    reminders.run()
    assert len(desk.replies(record)) == 1


def test_no_reminder_once_slack_access_is_revoked(desk: Desk) -> None:
    desk.account()
    desk.order_with_card()
    desk.clock.now = DEADLINE - timedelta(hours=1)
    desk.gate.revoke(Revocation("tokens_revoked", desk.clock.now))
    before = len(desk.slack.calls)
    desk.reminders().run()
    assert len(desk.slack.calls) == before


def _set_state(order: OrderRecord, state: ItemState) -> OrderRecord:
    for item in order.items:
        item.state = state
    return order


def _accept(order: OrderRecord, at: datetime) -> OrderRecord:
    order.accepted_at = at
    return _set_state(order, ItemState.TO_SHIP)


def _with_mark(order: OrderRecord, key: str, mark: ReminderMark) -> OrderRecord:
    order.reminders[key] = mark
    return order
