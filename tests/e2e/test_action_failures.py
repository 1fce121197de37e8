"""An accept, refuse or shipment that the bot itself fails on (a bug, its own error) never stays "sending to
Rakuten…": the card says it failed and why, the person who clicked is told, and the button comes back. Each runs in
English and in French (see ``conftest``): the words are compared with the stack's translator."""

from __future__ import annotations

import pytest

from bot.constants import ACTION_ACCEPT, ACTION_MARK_SHIPPED, VIEW_SHIP
from bot.domain.orders import ItemState, OrderItem
from bot.store.base import StoreError
from devkit.local_stack import ADMIN, LOGIN, SELLER, LocalStack
from rakuten.client import RakutenClient
from tests.e2e.wording import ANY, says, shown

COLISSIMO_NUMBER = "6A12345678901"
# The card's line, and the clicker's answer, when the bot failed on its own.
NOT_SENT = (
    "⚠️ Not sent: the bot stopped on an error of its own ({error}). Use the button again; the operator finds the "
    "details in the bot's log."
)
STOPPED = (
    "❌ Order {purchaseid}: the bot stopped on an error of its own ({error}) before Rakuten confirmed anything. The "
    "card offers the button again; the operator finds the details in the bot's log."
)


def card_words(stack: LocalStack, purchaseid: str) -> str:
    card = stack.card_for(purchaseid)
    return shown({"text": card.text, "blocks": card.blocks})


def sending(stack: LocalStack) -> list[str]:
    """What a card shows while its shipment is on its way to Rakuten."""
    t = stack.t
    return [
        t.gettext("📤 *Sending tracking to Rakuten…*"),
        t.gettext("📤 sending to Rakuten…"),
        t.gettext("📤 sending {carrier} {tracking} to Rakuten…", carrier=ANY, tracking=ANY),
    ]


def buttons(stack: LocalStack, purchaseid: str) -> list[str]:
    card = stack.card_for(purchaseid)
    return [
        element["action_id"]
        for block in card.blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]


def told(stack: LocalStack, user: str) -> str:
    return shown(stack.slack.ephemerals(user))


def ship(stack: LocalStack, purchaseid: str) -> None:
    """Mark shipped from the card, as the seller would: the button, then the modal's submit."""
    before = len(stack.opened_views(VIEW_SHIP))
    stack.click(purchaseid, ACTION_MARK_SHIPPED, user=SELLER)
    stack.slack.wait_for(lambda: len(stack.opened_views(VIEW_SHIP)) > before)
    view = stack.opened_views(VIEW_SHIP)[-1]
    assert stack.submit_ship(view, carrier="Colissimo", tracking=COLISSIMO_NUMBER, user=SELLER).status_code == 200


def item_of(stack: LocalStack, purchaseid: str) -> OrderItem:
    order = stack.bot.store.get_order(LOGIN, purchaseid)
    assert order is not None
    return order.items[0]


@pytest.mark.parametrize(
    "failure",
    [RuntimeError("a bug in the bot"), StoreError("cannot write the store")],
    ids=["bug", "bot-error"],
)
def test_a_shipment_the_bot_fails_on_ends_failed_the_clicker_is_told_and_the_button_comes_back(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    purchaseid = stack.simulator.add_sale(LOGIN, new=False, items=[{"headline": "Article 1"}])
    assert stack.poll().ok

    def broken(*_args: object, **_kwargs: object) -> None:
        raise failure

    monkeypatch.setattr(RakutenClient, "set_tracking", broken)
    ship(stack, purchaseid)

    stack.wait_until(lambda: item_of(stack, purchaseid).pending is None, timeout=10)
    assert stack.bot.runner.wait_idle(timeout=5)
    item = item_of(stack, purchaseid)
    assert (item.state, item.failed_in_bot) == (ItemState.TO_SHIP, True)
    expected = type(failure).__name__ if isinstance(failure, RuntimeError) else str(failure)
    assert item.failure == expected
    not_sent = stack.t.gettext(NOT_SENT, error=expected)
    stack.slack.wait_for(lambda: not_sent in card_words(stack, purchaseid))
    assert ACTION_MARK_SHIPPED in buttons(stack, purchaseid)
    assert not any(says(card_words(stack, purchaseid), words) for words in sending(stack))
    stopped = stack.t.gettext(STOPPED, purchaseid=purchaseid, error=expected)
    stack.slack.wait_for(lambda: stopped in told(stack, SELLER))
    assert "a bug in the bot" not in told(stack, SELLER)  # a bug's own words stay in the log

    monkeypatch.undo()
    ship(stack, purchaseid)
    stack.wait_until(lambda: item_of(stack, purchaseid).state is ItemState.SHIPPED, timeout=10)
    assert stack.simulator.item(item.itemid).tracking is not None
    stack.slack.wait_for(lambda: not says(card_words(stack, purchaseid), stack.t.gettext(NOT_SENT, error=ANY)))


def test_an_accept_the_bot_fails_on_offers_accept_again(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    purchaseid = stack.simulator.add_sale(LOGIN, new=True, items=[{"headline": "Article 1"}])
    assert stack.poll().ok

    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("itemid")

    monkeypatch.setattr(RakutenClient, "accept_sale", broken)
    stack.click(purchaseid, ACTION_ACCEPT, user=ADMIN)

    not_sent = stack.t.gettext(NOT_SENT, error="KeyError")
    stack.slack.wait_for(lambda: not_sent in card_words(stack, purchaseid))
    assert ACTION_ACCEPT in buttons(stack, purchaseid)
    stopped = stack.t.gettext(STOPPED, purchaseid=purchaseid, error="KeyError")
    stack.slack.wait_for(lambda: stopped in told(stack, ADMIN))
