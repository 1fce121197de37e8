"""Rakuten's answers are checked end to end: a status that does not mean done is a refusal shown to the person
who clicked and on the card, and the item is not marked done; another action's document is retried.

The whole bot over loopback (simulator, Slack stand-in, the app in HTTP mode), as in test_slack_actions.py.
"""

from __future__ import annotations

import json

from bot.constants import ACTION_ACCEPT, ACTION_MARK_SHIPPED, VIEW_SHIP
from bot.domain.orders import ItemState, OrderRecord, OrderState
from devkit.local_stack import LOGIN, SELLER, LocalStack
from devkit.rakuten_simulator import Fault
from devkit.rakuten_simulator import ItemState as SimItemState
from rakuten.actions import Action

ACCEPT_SALE = Action.ACCEPT_SALE.value
SET_TRACKING = Action.SET_TRACKING.value


def _order(stack: LocalStack, purchaseid: str) -> OrderRecord:
    order = stack.bot.store.get_order(LOGIN, purchaseid)
    assert order is not None
    return order


def _settled_failure(stack: LocalStack, purchaseid: str) -> OrderRecord:
    def failed() -> bool:
        order = stack.bot.store.get_order(LOGIN, purchaseid)
        return order is not None and order.items[0].failure is not None and order.items[0].pending is None

    stack.wait_until(failed, timeout=10)
    assert stack.bot.runner.wait_idle(timeout=5)
    return _order(stack, purchaseid)


def _told(stack: LocalStack) -> str:
    return json.dumps(stack.slack.ephemerals(SELLER), ensure_ascii=False)


def _card(stack: LocalStack, purchaseid: str) -> str:
    return json.dumps(stack.card_for(purchaseid).blocks, ensure_ascii=False)


def test_an_accept_answered_with_an_unexpected_status_is_a_refusal_not_an_acceptance(stack: LocalStack) -> None:
    purchaseid = stack.simulator.add_sale(LOGIN, new=True, items=[{"headline": "Article 1"}])
    assert stack.poll().ok
    stack.simulator.inject_fault(ACCEPT_SALE, Fault.STATUS_UNEXPECTED)

    assert stack.click(purchaseid, ACTION_ACCEPT).status_code == 200

    order = _settled_failure(stack, purchaseid)
    assert order.state is OrderState.TO_ACCEPT  # not accepted by us
    assert "PENDING" in (order.items[0].failure or "")
    stack.slack.wait_for(lambda: "PENDING" in _told(stack))
    refused = stack.t.gettext("⚠️ Rakuten refused: {reason}", reason="").rstrip()
    stack.slack.wait_for(lambda: refused in _card(stack, purchaseid))
    assert "PENDING" in _card(stack, purchaseid)
    assert len(stack.simulator.requests_for(ACCEPT_SALE)) == 1  # a refusal is not retried
    assert stack.simulator.item(order.items[0].itemid).status is SimItemState.TO_CONFIRM


def _ship(stack: LocalStack, purchaseid: str) -> None:
    before = len(stack.opened_views(VIEW_SHIP))
    assert stack.click(purchaseid, ACTION_MARK_SHIPPED).status_code == 200
    stack.slack.wait_for(lambda: len(stack.opened_views(VIEW_SHIP)) > before)
    stack.submit_ship(stack.opened_views(VIEW_SHIP)[-1], carrier="Colissimo", tracking="6A12345678901")


def test_a_tracking_answered_with_an_empty_status_is_not_marked_shipped(stack: LocalStack) -> None:
    purchaseid = stack.simulator.add_sale(LOGIN, new=False, items=[{"headline": "Article 1"}])
    assert stack.poll().ok
    stack.simulator.inject_fault(SET_TRACKING, Fault.STATUS_EMPTY)

    _ship(stack, purchaseid)

    order = _settled_failure(stack, purchaseid)
    assert order.items[0].state is ItemState.TO_SHIP
    assert "without a status" in (order.items[0].failure or "")
    rejected = stack.t.gettext(
        "⚠️ Rakuten rejected the tracking for order {purchaseid}: {reason}", purchaseid=purchaseid, reason=""
    ).rstrip()
    stack.slack.wait_for(lambda: rejected in _told(stack))
    assert len(stack.simulator.requests_for(SET_TRACKING)) == 1


def test_a_tracking_answered_with_another_actions_document_is_sent_again(stack: LocalStack) -> None:
    purchaseid = stack.simulator.add_sale(LOGIN, new=False, items=[{"headline": "Article 1"}])
    assert stack.poll().ok
    stack.simulator.inject_fault(SET_TRACKING, Fault.OTHER_ACTION_DOCUMENT)

    _ship(stack, purchaseid)

    stack.wait_until(lambda: _order(stack, purchaseid).state is OrderState.SHIPPED, timeout=10)
    faults = [request.fault for request in stack.simulator.requests_for(SET_TRACKING)]
    assert faults == [Fault.OTHER_ACTION_DOCUMENT, None]
    assert stack.simulator.item(_order(stack, purchaseid).items[0].itemid).status is SimItemState.SHIPPED
