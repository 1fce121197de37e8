"""Details the listings lack, fetched a few orders per poll: prepaid labels (the card links the label, the
modal carries its number) and the order total with shipping. Each runs in English and in French (see ``conftest``)."""

from __future__ import annotations

from bot.constants import ACTION_MARK_SHIPPED, VIEW_SHIP
from bot.services.poller import DETAIL_CALLS_PER_POLL
from devkit.local_stack import LOGIN, LocalStack
from rakuten.actions import Action
from tests.e2e.wording import shown

SHIPPING_INFO = Action.GET_SHIPPING_INFORMATION.value
BILLING_INFO = Action.GET_BILLING_INFORMATION.value
SET_TRACKING = Action.SET_TRACKING.value


def prepaid_order(stack: LocalStack, shipping_type: str = "So Colissimo") -> str:
    return stack.simulator.add_sale(LOGIN, new=False, shipping_type=shipping_type, address="billing_only")


def test_the_card_of_a_prepaid_order_links_the_label_and_shows_its_tracking_number(stack: LocalStack) -> None:
    purchaseid = prepaid_order(stack)
    label = stack.simulator.sale(purchaseid).prepaid_tracking
    assert label is not None

    assert stack.poll().ok
    card = shown(stack.card_for(purchaseid).blocks)

    assert stack.t.gettext("🏷️ Print the label") in card
    assert label.number in card
    assert [request.params["purchaseid"] for request in stack.simulator.requests_for(SHIPPING_INFO)] == [purchaseid]

    assert stack.poll().ok  # known now: Rakuten is not asked again
    assert len(stack.simulator.requests_for(SHIPPING_INFO)) == 1


def test_mark_shipped_comes_prefilled_with_the_label_and_sends_that_number(stack: LocalStack) -> None:
    purchaseid = prepaid_order(stack, "Chronopost")
    label = stack.simulator.sale(purchaseid).prepaid_tracking
    assert label is not None
    assert stack.poll().ok

    stack.click(purchaseid, ACTION_MARK_SHIPPED)
    stack.wait_until(lambda: bool(stack.opened_views(VIEW_SHIP)))
    view = stack.opened_views(VIEW_SHIP)[-1]
    inputs = {block["block_id"]: block["element"] for block in view["blocks"] if block["type"] == "input"}
    assert inputs["ship_tracking_number"]["initial_value"] == label.number
    # CHRONOPOST in capitals: the spelling most connectors send and the simulator (as Rakuten) accepts.
    assert inputs["ship_carrier"]["initial_option"]["value"] == "CHRONOPOST"

    items = len(stack.simulator.sale(purchaseid).items)
    stack.submit_ship(view, carrier="CHRONOPOST", tracking=label.number)
    stack.wait_until(lambda: len(stack.simulator.requests_for(SET_TRACKING)) == items)
    sent = {
        (r.params["transporter_name"], r.params["tracking_number"]) for r in stack.simulator.requests_for(SET_TRACKING)
    }
    assert sent == {("CHRONOPOST", label.number)}
    assert {item.status for item in stack.simulator.sale(purchaseid).items} == {"SHIPPED"}  # and Rakuten took it


def test_details_come_a_few_orders_per_poll_labels_first_and_never_twice(stack: LocalStack) -> None:
    prepaid = [prepaid_order(stack) for _ in range(DETAIL_CALLS_PER_POLL + 2)]
    home = stack.simulator.add_sale(LOGIN, new=False, shipping_type="Suivi")

    def asked(action: str) -> list[str]:
        return [request.params["purchaseid"] for request in stack.simulator.requests_for(action)]

    assert stack.poll().ok
    # A first poll over many orders spares the hourly quota, and labels (needed to ship) go first.
    assert len(asked(SHIPPING_INFO)) == DETAIL_CALLS_PER_POLL
    assert asked(BILLING_INFO) == []

    for _ in range(3):
        assert stack.poll().ok
    assert sorted(asked(SHIPPING_INFO)) == sorted(prepaid)  # each prepaid order once, the home delivery never
    assert sorted(asked(BILLING_INFO)) == sorted([*prepaid, home])  # each total once
    orders = [stack.bot.store.get_order(LOGIN, purchaseid) for purchaseid in [*prepaid, home]]
    assert all(order is not None and order.total is not None for order in orders)


def test_the_card_shows_the_total_rakuten_charged_once_known(stack: LocalStack) -> None:
    purchaseid = stack.simulator.add_sale(LOGIN, new=False, shipping_type="Suivi")
    sale = stack.simulator.sale(purchaseid)
    charged = sum(item.price + item.shipping_price for item in sale.items)

    assert stack.poll().ok

    order = stack.bot.store.get_order(LOGIN, purchaseid)
    assert order is not None
    assert order.total is not None
    assert order.total.amount == charged  # items and shipping, as getbillinginformation gives them
    fields = shown(stack.card_for(purchaseid).blocks)
    assert f"*{stack.t.gettext('Total')}*\n{stack.t.money(order.total)}" in fields
    assert stack.t.gettext("Total (items)") not in fields
