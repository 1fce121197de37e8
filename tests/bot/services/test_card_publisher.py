"""CardPublisher: a card deleted in Slack is replaced by one new card, however many processes find it gone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.constants import ORDER_EVENT_TYPE
from bot.domain.orders import CardRef, OrderRecord
from bot.services.card_publisher import CardPublisher
from bot.slack.poster import SlackPoster, build_web_client
from bot.store import TinyDBStore
from bot.ui.notices import SlackNotices
from devkit.slack_standin import SlackStandIn
from tests import factories
from tests.bot.services.conftest import CHANNEL, LOGIN, START, Clock, make_account
from tests.i18n import ENGLISH

PURCHASE = "480000001"


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        standin.add_channel(CHANNEL, members=["U0SELLER"], name="rakuten-orders")
        yield standin


def publisher(store: TinyDBStore, slack: SlackStandIn, clock: Clock) -> CardPublisher:
    poster = SlackPoster(build_web_client(slack.bot_token, slack.api_url), interval=0)
    return CardPublisher(store, poster, clock=clock, cards=SlackNotices(ENGLISH))


def cards(slack: SlackStandIn) -> list[str]:
    return [
        message.ts
        for message in slack.messages(CHANNEL)
        if (message.metadata or {}).get("event_type") == ORDER_EVENT_TYPE
    ]


def test_a_deleted_card_is_replaced_once_by_whichever_process_finds_it_first(
    tmp_path: Path, slack: SlackStandIn, clock: Clock
) -> None:
    with TinyDBStore(tmp_path / "data", clock=clock) as store:
        account = make_account()
        store.save_account(account)
        gone = CardRef(channel=CHANNEL, ts="1700000000.000100")  # a card that was deleted in Slack
        order = factories.order(account=LOGIN, purchaseid=PURCHASE, card=gone, card_fingerprint="old")
        store.save_order(order)
        seen_by_both: OrderRecord = replace(order)  # two replicas read the order before either acts

        assert publisher(store, slack, clock).refresh(account, order)
        assert not publisher(store, slack, clock).refresh(account, seen_by_both)  # its card is the gone one too

        (new_card,) = cards(slack)
        stored = store.get_order(LOGIN, PURCHASE)
        assert stored is not None
        assert stored.card is not None
        assert stored.card.ts == new_card
        assert stored.post_started_at == START  # marked before it was posted: a crash then is recovered
