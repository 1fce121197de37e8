"""Orders flow into Slack, end to end over loopback: simulator -> poller -> store -> Slack stand-in.

Each test drives the real parts through ``LocalStack`` and asserts what can be observed from outside:
the channel in the Slack stand-in, the requests the simulator recorded, and the store. Each runs in English and
in French (see ``conftest``): words on cards and notices are compared with the stack's translator.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.constants import ACTION_ACCEPT, ACTION_MARK_SHIPPED, ACTION_REFUSE, ORDER_EVENT_TYPE
from bot.domain.accounts import AccountRecord, PollHealth
from bot.domain.orders import OrderRecord, OrderState
from bot.ui.order_card import BLOCK_ACTIONS, BLOCK_HEADER, BLOCK_MENTION, BLOCK_STATE, EXPRESS_MARKER
from devkit.local_stack import CHANNEL, LOGIN, PACKER_GROUP, SIGNING_SECRET, LocalStack, wait_until
from devkit.rakuten_simulator.faults import Fault
from devkit.slack_standin import StoredMessage
from rakuten.actions import Action
from tests.e2e.conftest import only_in
from tests.e2e.wording import ANY, burst_arrived, polling_failed, reachable_again, says, shown

ROOT = Path(__file__).resolve().parents[2]
StackFactory = Callable[..., LocalStack]
NEW_SALES = Action.GET_NEW_SALES.value
CURRENT_SALES = Action.GET_CURRENT_SALES.value


class SimulatedCrash(BaseException):
    """The process dies at this point: nothing after it runs (so nothing in the bot may catch it)."""


# ---------------------------------------------------------------------------------------------- helpers


def purchaseid_of(message: StoredMessage) -> str:
    return str(((message.metadata or {}).get("event_payload") or {}).get("purchaseid"))


def card_ids(stack: LocalStack) -> list[str]:
    return [purchaseid_of(card) for card in stack.cards()]


def block(message: StoredMessage, block_id: str) -> dict[str, Any] | None:
    return next((b for b in message.blocks if b.get("block_id") == block_id), None)


def header_text(card: StoredMessage) -> str:
    header = block(card, BLOCK_HEADER)
    assert header is not None, "an order card has a header"
    return str(header["text"]["text"])


def state_text(card: StoredMessage) -> str:
    state = block(card, BLOCK_STATE)
    assert state is not None, "an order card states the order's state"
    return str(state["text"]["text"])


def button_ids(card: StoredMessage) -> set[str]:
    actions = block(card, BLOCK_ACTIONS)
    return {element["action_id"] for element in actions["elements"]} if actions else set()


def notices(stack: LocalStack) -> list[StoredMessage]:
    """Messages in the order channel that are not order cards (alerts, summaries, recoveries)."""
    return [
        message
        for message in stack.slack.messages(CHANNEL)
        if (message.metadata or {}).get("event_type") != ORDER_EVENT_TYPE
    ]


def notices_saying(stack: LocalStack, sentence: str) -> list[StoredMessage]:
    return [message for message in notices(stack) if says(message.text, sentence)]


def cannot_be_polled(stack: LocalStack, count: int) -> str:
    """The outage alert's details: ``count`` failed attempts, then the last error (any)."""
    return stack.t.ngettext(
        "⚠️ *Rakuten account {account} cannot be polled.* {count} attempt failed in a row since {when}; "
        "new orders are not reaching Slack meanwhile.\nLast error: {error}",
        "⚠️ *Rakuten account {account} cannot be polled.* {count} attempts failed in a row since {when}; "
        "new orders are not reaching Slack meanwhile.\nLast error: {error}",
        count,
        account=LOGIN,
        when=ANY,
        error=ANY,
    )


def quota_used_up(stack: LocalStack, action: str) -> str:
    """The channel notice of a spent hourly quota; ``action`` is the notice's name of the Rakuten action."""
    return stack.t.gettext(
        "⏳ Rakuten's hourly quota for {action} is used up on account {account}. Polling for it resumes at {when} "
        "(Paris time), when the quota renews; nothing is lost.",
        action=action,
        account=LOGIN,
        when=ANY,
    )


def state_label(stack: LocalStack, msgid: str) -> str:
    """A card's state line for a state without details (``"📦 Awaiting shipment"``), in the stack's language."""
    return f"*{stack.t.gettext(msgid)}*"


def successful_posts(stack: LocalStack) -> int:
    return sum(call.status == 200 for call in stack.slack.calls_to("chat.postMessage"))


def stored_order(stack: LocalStack, purchaseid: str) -> OrderRecord:
    order = stack.bot.store.get_order(LOGIN, purchaseid)
    assert order is not None, f"order {purchaseid} is stored"
    return order


def polling_health(stack: LocalStack) -> PollHealth:
    return stack.bot.poller.health.get(LOGIN)


def assert_one_card_each(stack: LocalStack, purchaseids: list[str]) -> None:
    """Exactly one card per order in the channel, and the store points at that very card."""
    ids = card_ids(stack)
    assert sorted(ids) == sorted(purchaseids)
    for purchaseid in purchaseids:
        card = stack.card_for(purchaseid)
        order = stored_order(stack, purchaseid)
        assert order.card is not None, f"the card of {purchaseid} is stored"
        assert (order.card.channel, order.card.ts) == (card.channel, card.ts)


def itemids(stack: LocalStack, purchaseid: str) -> list[str]:
    return [item.itemid for item in stack.simulator.sale(purchaseid).items]


def clear_of_the_hour(margin: float = 10.0) -> None:
    """Quota blocks last until the next full hour: do not start such a test a few seconds before it."""

    def far_enough() -> bool:
        now = datetime.now(UTC)
        return 3600 - (now.minute * 60 + now.second) > margin

    wait_until(far_enough, timeout=margin + 2, every=0.2)


# ------------------------------------------------------------------------------------- exactly once


def test_every_order_gets_exactly_one_card_across_polls(stack: LocalStack) -> None:
    waiting = stack.simulator.generate_sales(LOGIN, 4, new=True, express_ratio=0)
    accepted = stack.simulator.generate_sales(LOGIN, 3, new=False, express_ratio=0)

    first = stack.poll()
    assert first.ok
    assert (first.new_orders, first.cards_posted) == (7, 7)
    for _ in range(3):
        again = stack.poll()
        assert again.ok
        assert (again.new_orders, again.cards_posted, again.cards_updated) == (0, 0, 0)

    assert_one_card_each(stack, waiting + accepted)
    assert successful_posts(stack) == 7
    assert stack.slack.calls_to("chat.update") == []
    assert notices(stack) == []
    for purchaseid in waiting:
        assert button_ids(stack.card_for(purchaseid)) >= {ACTION_ACCEPT, ACTION_REFUSE}
    for purchaseid in accepted:
        assert ACTION_MARK_SHIPPED in button_ids(stack.card_for(purchaseid))

    later = stack.simulator.add_sale(LOGIN)
    assert stack.poll().cards_posted == 1
    assert_one_card_each(stack, [*waiting, *accepted, later])
    assert successful_posts(stack) == 8


def test_every_poll_reads_new_and_current_sales(stack: LocalStack) -> None:
    stack.poll()
    stack.poll()
    assert len(stack.simulator.requests_for(NEW_SALES)) == 2
    current = stack.simulator.requests_for(CURRENT_SALES)
    assert len(current) == 2
    # The catch-up window: a purchase date lookback_days back, in Rakuten's dd/mm/yyyy.
    assert all(request.params.get("purchasedate") for request in current)


def test_current_sales_are_read_on_every_page(make_stack: StackFactory) -> None:
    stack = make_stack()
    page_size = stack.simulator.page_size
    accepted = stack.simulator.generate_sales(LOGIN, page_size + 5, new=False, express_ratio=0)

    outcome = stack.poll()

    assert outcome.ok
    assert outcome.cards_posted == page_size + 5
    assert len(stack.simulator.requests_for(CURRENT_SALES)) == 2
    assert sorted(card_ids(stack)) == sorted(accepted)


def test_an_empty_poll_posts_nothing_and_is_no_alert(stack: LocalStack) -> None:
    threshold = stack.bot.settings.tuning.failure_alert_threshold
    for _ in range(threshold + 1):
        outcome = stack.poll()
        assert outcome.ok
        assert outcome.error is None

    assert stack.slack.calls_to("chat.postMessage") == []
    health = polling_health(stack)
    assert health.consecutive_failures == 0
    assert health.last_success_at is not None
    assert not health.outage_alerted


# ------------------------------------------------------------------------------------------ Express


def test_express_orders_stand_out(stack: LocalStack) -> None:
    express = stack.simulator.add_sale(LOGIN, shipping_type="Express")
    standard = stack.simulator.add_sale(LOGIN, shipping_type="Suivi")

    stack.poll()

    express_card, standard_card = stack.card_for(express), stack.card_for(standard)
    assert EXPRESS_MARKER in header_text(express_card)
    assert header_text(express_card) == stack.t.gettext(
        "{marker} EXPRESS · Order {purchaseid}", marker=EXPRESS_MARKER, purchaseid=express
    )
    assert express_card.text.startswith(
        stack.t.gettext("{marker} Express order {purchaseid}", marker=EXPRESS_MARKER, purchaseid=express)
    )
    assert EXPRESS_MARKER not in header_text(standard_card)
    assert header_text(standard_card) == stack.t.gettext("🛒 Order {purchaseid}", purchaseid=standard)
    assert EXPRESS_MARKER not in standard_card.text
    assert "Express" not in standard_card.text  # the word is "Express" in French too
    # No mention unless the account asks for one.
    assert "<!subteam^" not in express_card.text
    assert "<@" not in express_card.text
    assert block(express_card, BLOCK_MENTION) is None


def test_express_mention_when_the_account_sets_one(stack: LocalStack) -> None:
    def mention_packers(account: AccountRecord) -> AccountRecord:
        account.settings.express_mention = PACKER_GROUP
        return account

    stack.bot.store.update_account(LOGIN, mention_packers)
    express = stack.simulator.add_sale(LOGIN, shipping_type="Express")
    standard = stack.simulator.add_sale(LOGIN, shipping_type="Suivi")

    stack.poll()

    mention = f"<!subteam^{PACKER_GROUP}>"
    express_card = stack.card_for(express)
    assert mention in express_card.text  # the notification itself pings the packers
    mention_block = block(express_card, BLOCK_MENTION)
    assert mention_block is not None
    assert mention in mention_block["text"]["text"]
    standard_card = stack.card_for(standard)
    assert mention not in standard_card.text
    assert block(standard_card, BLOCK_MENTION) is None


# ----------------------------------------------------------------------------------------- catch-up


def test_an_order_accepted_on_the_site_before_the_bot_saw_it_gets_a_card(stack: LocalStack) -> None:
    purchaseid = stack.simulator.add_sale(LOGIN)
    stack.simulator.accept_on_site(purchaseid)

    stack.poll()

    card = stack.card_for(purchaseid)
    assert state_text(card) == state_label(stack, "📦 Awaiting shipment")
    assert ACTION_MARK_SHIPPED in button_ids(card)
    assert not button_ids(card) & {ACTION_ACCEPT, ACTION_REFUSE}
    assert stored_order(stack, purchaseid).state is OrderState.TO_SHIP


def test_orders_created_while_the_bot_was_stopped_get_cards_after_restart(stack: LocalStack) -> None:
    before = stack.simulator.add_sale(LOGIN)
    stack.poll()
    stack.stop_app()

    waiting = stack.simulator.add_sale(LOGIN)
    accepted_meanwhile = stack.simulator.add_sale(LOGIN)
    stack.simulator.accept_on_site(accepted_meanwhile)
    stack.start_app()
    outcome = stack.poll()

    assert outcome.cards_posted == 2
    assert_one_card_each(stack, [before, waiting, accepted_meanwhile])
    assert state_text(stack.card_for(accepted_meanwhile)) == state_label(stack, "📦 Awaiting shipment")


# ---------------------------------------------------------------------------------------- card updates


def test_accepted_on_the_site_updates_the_card_buttons(stack: LocalStack) -> None:
    purchaseid = stack.simulator.add_sale(LOGIN)
    stack.poll()
    card = stack.card_for(purchaseid)
    assert button_ids(card) >= {ACTION_ACCEPT, ACTION_REFUSE}

    stack.simulator.accept_on_site(purchaseid)
    outcome = stack.poll()

    assert (outcome.changed_orders, outcome.cards_updated, outcome.cards_posted) == (1, 1, 0)
    updated = stack.card_for(purchaseid)
    assert updated.ts == card.ts
    assert updated.updated == 1
    assert ACTION_MARK_SHIPPED in button_ids(updated)
    assert not button_ids(updated) & {ACTION_ACCEPT, ACTION_REFUSE}
    assert [call.params["ts"] for call in stack.slack.calls_to("chat.update")] == [card.ts]
    assert successful_posts(stack) == 1
    # Nothing changed since: the next poll leaves the card alone.
    assert stack.poll().cards_updated == 0
    assert len(stack.slack.calls_to("chat.update")) == 1


def test_a_cancelled_order_card_says_cancelled(stack: LocalStack) -> None:
    purchaseid = stack.simulator.add_sale(LOGIN, items=[{"headline": "Casque"}, {"headline": "Câble"}])
    stack.poll()
    card = stack.card_for(purchaseid)

    for itemid in itemids(stack, purchaseid):
        stack.simulator.cancel(itemid)
    outcome = stack.poll()

    assert outcome.cards_updated == 1
    updated = stack.card_for(purchaseid)
    assert updated.ts == card.ts
    assert state_text(updated) == state_label(stack, "✖️ Cancelled")
    assert stack.t.gettext("✖️ Cancelled") in updated.text
    assert not button_ids(updated) & {ACTION_ACCEPT, ACTION_REFUSE, ACTION_MARK_SHIPPED}
    assert successful_posts(stack) == 1
    assert stored_order(stack, purchaseid).state is OrderState.CANCELLED


def test_shipped_on_the_site_updates_the_card_to_shipped(stack: LocalStack) -> None:
    purchaseid = stack.simulator.add_sale(LOGIN, new=False)
    stack.poll()
    card = stack.card_for(purchaseid)
    assert ACTION_MARK_SHIPPED in button_ids(card)

    for itemid in itemids(stack, purchaseid):
        stack.simulator.ship_on_site(itemid, "Colissimo", "6A12345678901")
    outcome = stack.poll()

    assert outcome.cards_updated == 1
    updated = stack.card_for(purchaseid)
    assert updated.ts == card.ts
    assert state_text(updated) == state_label(stack, "✅ Shipped")
    assert ACTION_MARK_SHIPPED not in button_ids(updated)
    assert successful_posts(stack) == 1
    order = stack.bot.store.get_order(LOGIN, purchaseid)
    assert order is not None
    assert order.state is OrderState.SHIPPED
    assert not order.is_open


# ------------------------------------------------------------------------------------------- restarts


def test_a_restart_posts_no_second_card(stack: LocalStack) -> None:
    purchaseids = stack.simulator.generate_sales(LOGIN, 3, express_ratio=0)
    stack.poll()
    stack.stop_app()
    stack.start_app()

    outcome = stack.poll()

    assert outcome.ok
    assert (outcome.new_orders, outcome.cards_posted, outcome.cards_updated) == (0, 0, 0)
    assert_one_card_each(stack, purchaseids)
    assert successful_posts(stack) == 3
    # Every card was stored before the restart: nothing to look up in the channel's history.
    assert stack.slack.calls_to("conversations.history") == []


def test_a_crash_between_posting_and_storing_a_card_posts_no_second_card(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    purchaseids = stack.simulator.generate_sales(LOGIN, 3, express_ratio=0)
    store = stack.bot.store
    real_update = store.update_order
    crashed: list[str] = []

    def die_after_the_post(account: str, purchaseid: str, change: Any) -> OrderRecord | None:
        # The first store write after a card reached Slack never happens: the process dies instead.
        if not crashed and purchaseid in card_ids(stack):
            crashed.append(purchaseid)
            raise SimulatedCrash(purchaseid)
        return real_update(account, purchaseid, change)

    monkeypatch.setattr(store, "update_order", die_after_the_post)
    with pytest.raises(SimulatedCrash):
        stack.poll()
    victim = crashed[0]
    victim_card = stack.card_for(victim)
    assert card_ids(stack) == [victim]  # posted, never stored, and the others never posted
    stack.stop_app(orderly=False)

    stack.start_app()
    assert stored_order(stack, victim).card is None
    outcome = stack.poll()

    assert outcome.ok
    assert outcome.cards_posted == 2
    assert_one_card_each(stack, purchaseids)
    assert stack.card_for(victim).ts == victim_card.ts
    assert successful_posts(stack) == 3
    assert len(stack.slack.calls_to("conversations.history")) >= 1
    # The recovered card is brought up to date in place.
    assert victim_card.ts in [call.params["ts"] for call in stack.slack.calls_to("chat.update")]
    assert stack.poll().cards_posted == 0
    assert successful_posts(stack) == 3


# --------------------------------------------------------------------------------------- rate limits


@only_in("en")  # no words checked, and it waits out Slack's real Retry-After: once is enough
def test_a_429_burst_loses_no_card(stack: LocalStack) -> None:
    purchaseids = stack.simulator.generate_sales(LOGIN, 3, express_ratio=0)
    # One more 429 than the WebClient's own retry handler takes: the paced sender waits out the rest.
    stack.slack.rate_limit("chat.postMessage", times=3, retry_after=1)

    outcome = stack.poll()

    assert outcome.ok, outcome.error
    assert outcome.cards_posted == 3
    assert_one_card_each(stack, purchaseids)
    statuses = [call.status for call in stack.slack.calls_to("chat.postMessage")]
    assert statuses.count(429) == 3
    assert statuses.count(200) == 3


def test_a_slack_refusal_leaves_the_cards_for_the_next_poll(make_stack: StackFactory) -> None:
    stack = make_stack(failure_alert_threshold=5)
    purchaseids = stack.simulator.generate_sales(LOGIN, 2, express_ratio=0)
    stack.slack.fail("chat.postMessage", "fatal_error", times=1)

    failed = stack.poll()

    assert not failed.ok
    assert failed.error is not None
    assert "fatal_error" in failed.error
    assert card_ids(stack) == []
    recovered = stack.poll()
    assert recovered.ok
    assert_one_card_each(stack, purchaseids)


# -------------------------------------------------------------------------------------------- bursts


def test_a_burst_becomes_one_summary_with_the_cards_in_its_thread(make_stack: StackFactory) -> None:
    stack = make_stack(burst_threshold=3)
    standard = stack.simulator.generate_sales(LOGIN, 5, express_ratio=0)
    express = stack.simulator.add_sale(LOGIN, shipping_type="Express")

    stack.poll()

    summaries = notices(stack)
    assert len(summaries) == 1
    summary = summaries[0]
    assert summary.thread_ts is None
    assert burst_arrived(stack.t, 6) in summary.text
    assert_one_card_each(stack, [*standard, express])
    for purchaseid in standard:
        assert stack.card_for(purchaseid).thread_ts == summary.ts
        assert stored_order(stack, purchaseid).card.thread_ts == summary.ts  # type: ignore[union-attr]
    assert stack.card_for(express).thread_ts is None  # Express stays where everyone sees it

    stack.poll()
    assert len(notices(stack)) == 1
    assert successful_posts(stack) == 7


def test_a_burst_interrupted_between_its_summary_and_its_cards_keeps_one_thread_across_a_restart(
    make_stack: StackFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = make_stack(burst_threshold=3)
    purchaseids = stack.simulator.generate_sales(LOGIN, 5, express_ratio=0)
    store = stack.bot.store
    real_update = store.update_order

    def die_after_the_summary(account: str, purchaseid: str, change: Any) -> OrderRecord | None:
        # The summary reached Slack; storing its ts never happens: the process dies instead.
        if notices(stack):
            raise SimulatedCrash(purchaseid)
        return real_update(account, purchaseid, change)

    monkeypatch.setattr(store, "update_order", die_after_the_summary)
    with pytest.raises(SimulatedCrash):
        stack.poll()
    (summary,) = notices(stack)
    assert card_ids(stack) == []
    stack.stop_app(orderly=False)

    stack.start_app()
    outcome = stack.poll()

    assert outcome.ok, outcome.error
    assert notices(stack) == [summary]  # no second summary: the restarted bot found the first one
    assert burst_arrived(stack.t, 5) in summary.text
    assert_one_card_each(stack, purchaseids)
    assert {card.thread_ts for card in stack.cards()} == {summary.ts}
    for purchaseid in purchaseids:
        assert stored_order(stack, purchaseid).card.thread_ts == summary.ts  # type: ignore[union-attr]


def test_new_orders_up_to_the_threshold_are_posted_in_the_channel(make_stack: StackFactory) -> None:
    stack = make_stack(burst_threshold=3)
    purchaseids = stack.simulator.generate_sales(LOGIN, 3, express_ratio=0)

    stack.poll()

    assert notices(stack) == []
    assert_one_card_each(stack, purchaseids)
    assert all(card.thread_ts is None for card in stack.cards())


# ---------------------------------------------------------------------------------- quota and outages


def test_a_spent_quota_is_told_once_and_that_action_waits_for_the_hour(stack: LocalStack) -> None:
    clear_of_the_hour()
    stack.simulator.inject_fault(CURRENT_SALES, Fault.QUOTA_EXCEEDED, times=-1)
    waiting = stack.simulator.add_sale(LOGIN)

    outcomes = [stack.poll() for _ in range(4)]

    assert all(outcome.ok for outcome in outcomes)
    assert len(stack.simulator.requests_for(CURRENT_SALES)) == 1
    assert len(stack.simulator.requests_for(NEW_SALES)) == 4  # the other action carries on
    told = notices_saying(stack, quota_used_up(stack, ANY))
    assert len(told) == 1
    assert says(told[0].text, quota_used_up(stack, stack.t.gettext("fetching current orders")))
    assert_one_card_each(stack, [waiting])
    health = polling_health(stack)
    blocked_until = health.quota_blocked_until[CURRENT_SALES]
    assert blocked_until > datetime.now(UTC)
    assert (blocked_until.minute, blocked_until.second) == (0, 0)
    assert health.consecutive_failures == 0
    assert notices(stack) == told  # no outage alert


def test_an_outage_is_alerted_once_and_its_end_once(stack: LocalStack) -> None:
    threshold = stack.bot.settings.tuning.failure_alert_threshold
    stack.simulator.inject_fault(None, Fault.HTTP_503, times=-1)

    for attempt in range(1, threshold + 3):
        outcome = stack.poll()
        assert not outcome.ok
        alerts = notices(stack)
        assert len(alerts) == (1 if attempt >= threshold else 0), f"after failed poll {attempt}"
    assert says(alerts[0].text, polling_failed(stack.t, threshold))
    assert says(shown(alerts[0].blocks), cannot_be_polled(stack, threshold))  # the details, in the same language

    stack.simulator.clear_faults()
    arrived_meanwhile = stack.simulator.add_sale(LOGIN)
    for _ in range(3):
        assert stack.poll().ok

    alert, back = notices(stack)
    assert alert == alerts[0]
    assert says(back.text, reachable_again(stack.t))
    assert_one_card_each(stack, [arrived_meanwhile])
    health = polling_health(stack)
    assert health.consecutive_failures == 0
    assert not health.outage_alerted


@pytest.mark.parametrize("fault", [Fault.AUTH_ERROR, Fault.TIMEOUT])
def test_a_bad_token_or_a_silent_rakuten_is_alerted_once(make_stack: StackFactory, fault: Fault) -> None:
    stack = make_stack(failure_alert_threshold=2)
    # TIMEOUT holds each request; a short hold keeps the test quick (the client's timeout is 2 s).
    stack.simulator.inject_fault(None, fault, times=-1, delay=0.05)

    for _ in range(4):
        assert not stack.poll().ok

    (alert,) = notices(stack)
    assert says(alert.text, polling_failed(stack.t, 2))
    assert polling_health(stack).consecutive_failures == 4


# -------------------------------------------------------------------------------------------- processes


@only_in("en")  # a process's refusal and the lock have no language
def test_a_second_process_on_the_same_data_dir_is_refused(stack: LocalStack, free_port: int) -> None:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SLACK_", "RAKUTEN_")) and name.upper() not in ("HTTP_PROXY", "HTTPS_PROXY")
    }
    env.update(
        SLACK_BOT_TOKEN=stack.slack.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=stack.slack.api_url,
        RAKUTEN_API_URL=stack.simulator.url,
        RAKUTEN_DATA_DIR=str(stack.data_dir),
        PORT=str(free_port),
        NO_PROXY="127.0.0.1,localhost",
    )

    second = subprocess.run(
        [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )

    assert second.returncode != 0
    assert "Another rakuten-bot process is already using the data directory" in second.stderr
    assert str(stack.data_dir) in second.stderr
    assert stack.slack.bot_token not in second.stderr + second.stdout
    # The running bot is unaffected.
    purchaseid = stack.simulator.add_sale(LOGIN)
    assert stack.poll().cards_posted == 1
    assert card_ids(stack) == [purchaseid]


@only_in("en")  # no words checked, and it waits for the real poll interval: once is enough
def test_the_scheduler_polls_on_its_own(make_stack: StackFactory) -> None:
    stack = make_stack(poll_seconds=2)
    stack.bot.start_polling()
    stack.simulator.wait_for_requests(NEW_SALES, 1)  # the first poll runs right away

    added_at = time.monotonic()
    purchaseid = stack.simulator.add_sale(LOGIN)
    stack.slack.wait_for(lambda: purchaseid in card_ids(stack), timeout=6)

    assert time.monotonic() - added_at < 5
    assert card_ids(stack) == [purchaseid]
