"""The daily summary, once per day per account: the real store and Slack poster against the Slack stand-in, with a
clock that moves only when told."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.constants import DAILY_SUMMARY_EVENT_TYPE
from bot.domain.accounts import AccountSettings, DailySummaryMark
from bot.domain.deadlines import DeadlineRules
from bot.domain.orders import ItemState
from bot.services.card_publisher import CardPublisher
from bot.services.daily_summary import DailySummaries
from bot.slack.permalinks import Permalinks
from bot.slack.poster import SlackPoster, build_web_client
from bot.store import TinyDBStore
from bot.ui.notices import SlackNotices
from devkit.slack_standin import SlackStandIn, StoredMessage
from rakuten.models import Money
from tests import factories
from tests.bot.services.conftest import Clock
from tests.factories import PARIS
from tests.i18n import ENGLISH

CHANNEL = "C0ORDERS"
OTHER_CHANNEL = "C0AUTRE"
AT = time(8, 30)
MORNING = datetime(2026, 12, 2, 8, 30, tzinfo=PARIS)  # a Wednesday
GRACE = timedelta(minutes=10)


@dataclass
class Rig:
    store: TinyDBStore
    slack: SlackStandIn
    poster: SlackPoster
    publisher: CardPublisher
    clock: Clock
    summaries: DailySummaries

    def posted(self, channel: str = CHANNEL) -> list[StoredMessage]:
        return [
            message
            for message in self.slack.messages(channel)
            if (message.metadata or {}).get("event_type") == DAILY_SUMMARY_EVENT_TYPE
        ]

    def run_often(self, times: int = 3) -> None:
        for _ in range(times):
            self.summaries.run()


def build(store: TinyDBStore, poster: SlackPoster, clock: Clock, at: time | None = AT) -> DailySummaries:
    """A bot's daily summaries: each its own paced sender, as each replica has."""
    return DailySummaries(
        store,
        SlackPoster(poster.client, interval=0),
        clock=clock,
        notices=SlackNotices(ENGLISH),
        rules=DeadlineRules(),
        at=at,
        permalink=Permalinks(poster.client),
        claim_grace=GRACE,
    )


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    clock = Clock(MORNING - timedelta(hours=1))
    with SlackStandIn(clock=lambda: clock().timestamp()) as slack, TinyDBStore(tmp_path / "data", clock=clock) as store:
        slack.add_channel(CHANNEL, members=["U0SELLER"], name="rakuten-orders")
        slack.add_channel(OTHER_CHANNEL, members=["U0SELLER"], name="rakuten-autre")
        poster = SlackPoster(build_web_client(slack.bot_token, slack.api_url), interval=0)
        publisher = CardPublisher(store, poster, clock=clock, cards=SlackNotices(ENGLISH))
        store.save_account(factories.account("boutique", channel_id=CHANNEL))
        yield Rig(store, slack, poster, publisher, clock, build(store, poster, clock))


def add_order(rig: Rig, purchaseid: str, state: ItemState = ItemState.TO_SHIP, **fields: Any) -> None:
    record = factories.order(
        factories.item(f"{purchaseid}-1", state), account="boutique", purchaseid=purchaseid, **fields
    )
    rig.store.save_order(record)
    account = rig.store.get_account("boutique")
    assert account is not None
    if record.is_open:
        rig.publisher.publish_missing(account, [record])


def test_the_summary_is_posted_once_a_day_at_its_time(rig: Rig) -> None:
    rig.run_often()
    assert rig.posted() == []

    rig.clock.now = MORNING
    rig.run_often()
    (first,) = rig.posted()
    assert first.metadata == {
        "event_type": DAILY_SUMMARY_EVENT_TYPE,
        "event_payload": {"account": "boutique", "day": "2026-12-02"},
    }
    account = rig.store.get_account("boutique")
    assert account is not None
    assert account.daily_summary is not None
    assert (account.daily_summary.day, account.daily_summary.posted_ts) == ("2026-12-02", first.ts)

    rig.clock.advance(hours=15)  # 23:30 the same day
    rig.run_often()
    assert len(rig.posted()) == 1

    rig.clock.now = MORNING + timedelta(days=1)
    rig.run_often()
    assert [message.metadata["event_payload"]["day"] for message in rig.posted()] == [  # type: ignore[index]
        "2026-12-02",
        "2026-12-03",
    ]


def test_its_figures_come_from_the_orders_each_linked_to_its_card(rig: Rig) -> None:
    yesterday = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
    add_order(rig, "1001", purchase_date=yesterday, total=Money(Decimal("10.00")))
    add_order(rig, "1002", purchase_date=yesterday + timedelta(hours=5), total=Money(Decimal("22.50")))
    add_order(
        rig,
        "1003",
        ItemState.SHIPPED,
        purchase_date=yesterday - timedelta(days=2),
        items=[factories.item("x", ItemState.SHIPPED, shipment=factories.shipment(shipped_at=yesterday))],
    )
    late = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)
    add_order(rig, "1004", purchase_date=late, accepted_at=late)
    rig.clock.now = MORNING
    rig.summaries.run()
    (summary,) = rig.posted()
    assert "2 new orders yesterday, €32.50" in summary.text
    assert "1 order shipped yesterday" in summary.text
    blocks = {block.get("block_id"): block for block in summary.blocks}
    to_ship = blocks["summary_to_ship"]["text"]["text"]
    assert to_ship.startswith("*📦 To ship (3), oldest first*")
    assert to_ship.index("1004") < to_ship.index("1001") < to_ship.index("1002")
    late_list = blocks["summary_late"]["text"]["text"]
    assert late_list.startswith("*⏰ Late (1)*")
    card = rig.store.get_order("boutique", "1004")
    assert card is not None
    assert card.card is not None
    link = f"https://standin.slack.com/archives/{CHANNEL}/p{card.card.ts.replace('.', '')}"
    assert f"<{link}|1004>" in late_list
    assert f"<{link}|1004>" in to_ship
    assert "claim" not in summary.text  # no buyer-messages part yet: its lines are left out at zero


def test_a_claim_whose_post_failed_is_posted_once_after_the_grace(rig: Rig) -> None:
    rig.clock.now = MORNING
    rig.slack.fail("chat.postMessage", "internal_error")
    rig.summaries.run()
    assert rig.posted() == []
    rig.clock.advance(minutes=9)
    rig.run_often()
    assert rig.posted() == []
    rig.clock.advance(minutes=1)
    rig.run_often()
    assert len(rig.posted()) == 1


def test_a_summary_posted_before_a_crash_is_found_not_posted_again(rig: Rig) -> None:
    rig.clock.now = MORNING
    rig.store.update_account("boutique", lambda account: _claimed(account, MORNING))
    metadata = {"event_type": DAILY_SUMMARY_EVENT_TYPE, "event_payload": {"account": "boutique", "day": "2026-12-02"}}
    earlier = rig.poster.post(CHANNEL, text="summary", metadata=metadata)
    rig.clock.advance(minutes=11)
    rig.run_often()
    assert [message.ts for message in rig.posted()] == [earlier.ts]
    account = rig.store.get_account("boutique")
    assert account is not None
    assert account.daily_summary is not None
    assert account.daily_summary.posted_ts == earlier.ts


def test_two_bots_on_one_store_post_it_once(rig: Rig) -> None:
    other = build(rig.store, rig.poster, rig.clock)
    rig.clock.now = MORNING
    rig.summaries.run()
    other.run()
    assert len(rig.posted()) == 1


def test_a_run_working_from_stale_accounts_never_posts_a_summary_another_bot_posted(rig: Rig) -> None:
    rig.store.save_account(factories.account("a-shop", channel_id=OTHER_CHANNEL))  # listed first
    rig.clock.now = MORNING
    hold = rig.slack.hold("chat.postMessage")
    thread = threading.Thread(target=rig.summaries.run)
    thread.start()
    assert hold.carried_out.wait(10)  # a-shop's summary is posted, the answer held: "boutique" was read unclaimed
    build(rig.store, rig.poster, rig.clock).run()  # another replica posts boutique's meanwhile
    hold.release()
    thread.join(timeout=10)
    assert (len(rig.posted(OTHER_CHANNEL)), len(rig.posted(CHANNEL))) == (1, 1)


def test_each_account_in_its_channel_and_language(rig: Rig) -> None:
    rig.store.save_account(
        factories.account("autre", channel_id=OTHER_CHANNEL, settings=AccountSettings(language="fr"))
    )
    rig.clock.now = MORNING
    rig.summaries.run()
    (english,) = rig.posted(CHANNEL)
    (french,) = rig.posted(OTHER_CHANNEL)
    assert english.text.startswith("📋 Daily summary · Dec 2, 2026")
    assert french.text.startswith("📋 Résumé du jour · 2 déc. 2026")
    assert "0 nouvelle commande hier" in french.text


def test_off_when_no_time_is_set(rig: Rig) -> None:
    summaries = build(rig.store, rig.poster, rig.clock, at=None)
    rig.clock.now = MORNING
    assert summaries.run() == 0
    assert rig.posted() == []


def test_an_account_connected_after_the_time_waits_for_tomorrow(rig: Rig) -> None:
    rig.clock.now = MORNING + timedelta(hours=5)
    rig.store.update_account("boutique", lambda account: _connected(account, rig.clock.now))
    rig.run_often()
    assert rig.posted() == []
    rig.clock.now = MORNING + timedelta(days=1)
    rig.summaries.run()
    assert len(rig.posted()) == 1


def _claimed(account: Any, at: datetime) -> Any:
    account.daily_summary = DailySummaryMark(day="2026-12-02", claim="dead-process", claimed_at=at)
    return account


def _connected(account: Any, at: datetime) -> Any:
    account.connected_at = at
    return account
