"""An accept, refuse or shipment that the bot itself fails on (a bug, its own error) never stays "sending to
Rakuten…": the card says it failed and why, the person who clicked is told, and the button comes back."""

from __future__ import annotations

import json

import pytest

from bot.constants import ACTION_ACCEPT, ACTION_MARK_SHIPPED, VIEW_SHIP
from bot.domain.orders import ItemState, OrderItem
from bot.store.base import StoreError
from devkit.local_stack import ADMIN, LOGIN, SELLER, LocalStack
from rakuten.client import RakutenClient

COLISSIMO_NUMBER = "6A12345678901"


def card_json(stack: LocalStack, purchaseid: str) -> str:
    card = stack.card_for(purchaseid)
    return json.dumps({"text": card.text, "blocks": card.blocks}, ensure_ascii=False)


def buttons(stack: LocalStack, purchaseid: str) -> list[str]:
    card = stack.card_for(purchaseid)
    return [
        element["action_id"]
        for block in card.blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]


def told(stack: LocalStack, user: str) -> str:
    return json.dumps(stack.slack.ephemerals(user), ensure_ascii=False)


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
    stack.slack.wait_for(lambda: "the bot stopped on an error of its own" in card_json(stack, purchaseid))
    assert ACTION_MARK_SHIPPED in buttons(stack, purchaseid)
    assert "sending" not in card_json(stack, purchaseid).lower()
    stack.slack.wait_for(lambda: f"❌ Order {purchaseid}" in told(stack, SELLER))
    assert expected in told(stack, SELLER)
    assert "a bug in the bot" not in told(stack, SELLER)  # a bug's own words stay in the log

    monkeypatch.undo()
    ship(stack, purchaseid)
    stack.wait_until(lambda: item_of(stack, purchaseid).state is ItemState.SHIPPED, timeout=10)
    assert stack.simulator.item(item.itemid).tracking is not None
    stack.slack.wait_for(lambda: "the bot stopped on an error of its own" not in card_json(stack, purchaseid))


def test_an_accept_the_bot_fails_on_offers_accept_again(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    purchaseid = stack.simulator.add_sale(LOGIN, new=True, items=[{"headline": "Article 1"}])
    assert stack.poll().ok

    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("itemid")

    monkeypatch.setattr(RakutenClient, "accept_sale", broken)
    stack.click(purchaseid, ACTION_ACCEPT, user=ADMIN)

    stack.slack.wait_for(lambda: "the bot stopped on an error of its own (KeyError)" in card_json(stack, purchaseid))
    assert ACTION_ACCEPT in buttons(stack, purchaseid)
    stack.slack.wait_for(lambda: f"❌ Order {purchaseid}" in told(stack, ADMIN))
