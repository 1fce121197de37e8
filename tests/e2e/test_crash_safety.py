"""Crash safety with a real ``rakuten-bot run`` process killed with SIGKILL and started again on its data dir:
a shipment Slack was told about is not lost, one Rakuten recorded is not reported as refused, and a burst of new
orders keeps its cards in one thread."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.constants import ACTION_ACCEPT, ACTION_MARK_SHIPPED, ORDER_EVENT_TYPE, VIEW_SHIP
from devkit.local_stack import CHANNEL, LOGIN, SELLER, LocalStack
from devkit.rakuten_simulator import Fault
from devkit.rakuten_simulator import ItemState as SimItemState
from devkit.slack_standin import StoredMessage
from rakuten.actions import Action
from tests.e2e.bot_process import BotProcess
from tests.e2e.conftest import only_in
from tests.e2e.wording import (
    ACCEPTED,
    ANSWER_LOST,
    burst_arrived,
    rakuten_refused,
    says,
    shipped_via,
    shown,
    tracking_rejected,
    tracking_sent,
)

# Real processes killed and started again: the suite's slowest tests, and what they check (nothing lost across a
# kill -9) has no language, so they run once. Their words are compared with stack.t: without this mark they run in
# French too.
pytestmark = only_in("en")

SET_TRACKING = Action.SET_TRACKING.value
ACCEPT_SALE = Action.ACCEPT_SALE.value
COLISSIMO_NUMBER = "6A12345678901"
SLACK_WORKERS = 4  # the bot's pool for what listeners do after their ack (bot.context: slack_work)
ACK_DEADLINE = 3.0  # Slack's


@pytest.fixture
def bots(stack: LocalStack, tmp_path: Path) -> Iterator[list[BotProcess]]:
    """Bot processes made by a test; any still running afterwards is killed."""
    made: list[BotProcess] = []
    yield made
    for bot in made:
        bot.stop()


def bot_for(bots: list[BotProcess], stack: LocalStack, tmp_path: Path, **options: Any) -> BotProcess:
    bot = BotProcess(stack, tmp_path / "bot-data", **options)
    bots.append(bot)
    return bot


def has_card(stack: LocalStack, purchaseid: str) -> bool:
    return any(_purchaseid(card) == purchaseid for card in stack.cards())


def card_shows(stack: LocalStack, purchaseid: str, sentence: str) -> bool:
    card = stack.card_for(purchaseid)
    return says(shown({"text": card.text, "blocks": card.blocks}), sentence)


def told_seller(stack: LocalStack) -> str:
    return shown(stack.slack.ephemerals(SELLER))


def open_ship_modal(stack: LocalStack, purchaseid: str) -> dict[str, Any]:
    before = len(stack.opened_views(VIEW_SHIP))
    assert stack.click(purchaseid, ACTION_MARK_SHIPPED).status_code == 200
    stack.slack.wait_for(lambda: len(stack.opened_views(VIEW_SHIP)) > before, timeout=10)
    return stack.opened_views(VIEW_SHIP)[-1]


def order_with_one_item(stack: LocalStack, *, new: bool = False) -> tuple[str, str]:
    purchaseid = stack.simulator.add_sale(LOGIN, new=new, items=[{"headline": "Lampe de bureau"}])
    return purchaseid, stack.simulator.sale(purchaseid).items[0].itemid


def _purchaseid(message: StoredMessage) -> str | None:
    return ((message.metadata or {}).get("event_payload") or {}).get("purchaseid")


# --------------------------------------------------------------------------- a request acked, then kill -9


def busy_after_ack_pool(stack: LocalStack, purchaseid: str) -> None:
    """Busy the bot's after-ack pool, as a slow Slack does under load (views.open rate-limited for a minute): what
    runs after an ack now waits its turn, so a kill right after an ack surely lands before any of it."""
    stack.slack.rate_limit("views.open", times=SLACK_WORKERS, retry_after=60)
    for _ in range(SLACK_WORKERS):
        assert stack.click(purchaseid, ACTION_MARK_SHIPPED).status_code == 200
    stack.slack.wait_for(
        lambda: [call.status for call in stack.slack.calls_to("views.open")].count(429) == SLACK_WORKERS, timeout=10
    )


@pytest.mark.parametrize("request_kind", ["ship modal", "ship command", "accept button"])
def test_a_request_acked_right_before_a_kill_9_reaches_rakuten_after_the_restart(
    stack: LocalStack, tmp_path: Path, bots: list[BotProcess], request_kind: str
) -> None:
    accepting = request_kind == "accept button"
    purchaseid, itemid = order_with_one_item(stack, new=accepting)
    decoy, _ = order_with_one_item(stack)
    bot = bot_for(bots, stack, tmp_path).start()
    stack.slack.wait_for(lambda: has_card(stack, purchaseid) and has_card(stack, decoy), timeout=10)
    view = open_ship_modal(stack, purchaseid) if request_kind == "ship modal" else None
    busy_after_ack_pool(stack, decoy)

    started = time.monotonic()
    if view is not None:
        answer = stack.submit_ship(view, carrier="Colissimo", tracking=COLISSIMO_NUMBER)
    elif accepting:
        answer = stack.click(purchaseid, ACTION_ACCEPT)
    else:
        answer = stack.command(f"ship {purchaseid} Colissimo {COLISSIMO_NUMBER}", user=SELLER)
    acked_in = time.monotonic() - started
    bot.kill()

    # Slack got its plain ack (the modal closed: the seller takes it as sent), quickly, and nothing had gone to
    # Rakuten yet.
    assert (answer.status_code, answer.text) == (200, "")
    assert acked_in < ACK_DEADLINE
    action = ACCEPT_SALE if accepting else SET_TRACKING
    assert stack.simulator.requests_for(action) == []

    bot.start()

    stack.simulator.wait_for_requests(action, 1, timeout=10)
    (sent,) = stack.simulator.requests_for(action)
    assert (sent.params["itemid"], sent.status) == (itemid, 200)
    if accepting:
        awaiting = stack.t.gettext("📦 Awaiting shipment")
        stack.slack.wait_for(lambda: card_shows(stack, purchaseid, awaiting), timeout=10)
        assert stack.simulator.item(itemid).status is SimItemState.ACCEPTED
        accepted = stack.t.ngettext(*ACCEPTED, 1, purchaseid=purchaseid)
        stack.slack.wait_for(lambda: accepted in told_seller(stack), timeout=10)
        return
    assert (sent.params["transporter_name"], sent.params["tracking_number"]) == ("Colissimo", COLISSIMO_NUMBER)
    stack.slack.wait_for(lambda: card_shows(stack, purchaseid, shipped_via(stack.t, "Colissimo")), timeout=10)
    assert stack.simulator.item(itemid).status is SimItemState.SHIPPED
    # Who shipped it, from the stored claim.
    assert card_shows(stack, purchaseid, stack.t.gettext("by {user}", user=f"<@{SELLER}>"))
    sent_answer = tracking_sent(stack.t, purchaseid, "Colissimo", COLISSIMO_NUMBER)
    stack.slack.wait_for(lambda: sent_answer in told_seller(stack), timeout=10)


# ------------------------------------------------------------------- Rakuten recorded it, the bot was killed


def test_a_tracking_rakuten_recorded_while_the_bot_was_killed_mid_call_shows_shipped_after_the_restart(
    stack: LocalStack, tmp_path: Path, bots: list[BotProcess]
) -> None:
    purchaseid, itemid = order_with_one_item(stack)
    bot = bot_for(bots, stack, tmp_path).start()
    stack.slack.wait_for(lambda: has_card(stack, purchaseid), timeout=10)
    view = open_ship_modal(stack, purchaseid)
    stack.simulator.inject_fault(SET_TRACKING, Fault.SLOW, delay=60)  # carried out at once, answered a minute late

    stack.submit_ship(view, carrier="Colissimo", tracking=COLISSIMO_NUMBER)
    stack.simulator.wait_for_requests(SET_TRACKING, 1, timeout=10)
    bot.kill()
    assert stack.simulator.item(itemid).status is SimItemState.SHIPPED  # Rakuten has it; the bot never heard

    bot.start()

    stack.slack.wait_for(lambda: stack.t.gettext(ANSWER_LOST) in told_seller(stack), timeout=10)
    stack.slack.wait_for(lambda: card_shows(stack, purchaseid, shipped_via(stack.t, "Colissimo")), timeout=10)
    first, resend = stack.simulator.requests_for(SET_TRACKING)
    assert (first.fault, resend.status) == (Fault.SLOW, 400)  # the resend: "a déjà été expédié"
    told = told_seller(stack)
    assert tracking_sent(stack.t, purchaseid, "Colissimo", COLISSIMO_NUMBER) in told
    assert not says(told, tracking_rejected(stack.t, purchaseid))
    assert not card_shows(stack, purchaseid, rakuten_refused(stack.t))


# ------------------------------------------------------------------------- a burst interrupted by kill -9


def test_a_burst_interrupted_by_a_kill_9_keeps_all_its_cards_in_one_thread(
    stack: LocalStack, tmp_path: Path, bots: list[BotProcess]
) -> None:
    purchaseids = stack.simulator.generate_sales(LOGIN, 5, express_ratio=0)
    # The summary and two cards go out; Slack then rate-limits the third card for a minute: the kill lands there.
    stack.slack.rate_limit("chat.postMessage", after=3, retry_after=60)
    bot = bot_for(bots, stack, tmp_path, tuning={"post_interval": 0, "burst_threshold": 2}).start()
    stack.slack.wait_for(lambda: 429 in [call.status for call in stack.slack.calls_to("chat.postMessage")], timeout=10)
    bot.kill()
    assert len(stack.cards()) == 2

    bot.start()

    stack.slack.wait_for(lambda: len(stack.cards()) == len(purchaseids), timeout=10)
    summaries = [
        message
        for message in stack.slack.messages(CHANNEL)
        if (message.metadata or {}).get("event_type") != ORDER_EVENT_TYPE
    ]
    assert len(summaries) == 1, [summary.text for summary in summaries]
    (summary,) = summaries
    assert burst_arrived(stack.t, 5) in summary.text
    assert sorted(_purchaseid(card) or "" for card in stack.cards()) == sorted(purchaseids)
    assert {card.thread_ts for card in stack.cards()} == {summary.ts}
