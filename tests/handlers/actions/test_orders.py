from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest.mock import Mock

import pytest
from slack_bolt import BoltContext

from bot.constants import ACTION_ACCEPT, ACTION_MARK_SHIPPED, BLOCK_CARRIER, BLOCK_ITEMS, VIEW_SHIP
from bot.domain.orders import OrderRef, PendingKind
from bot.domain.sentences import said
from bot.services.item_actions import Claim, Submission
from bot.services.orders import OrderAccess
from bot.services.shipping import ShipPlan
from bot.ui.messages import answer_message
from bot.ui.refs import ShipModalMetadata, encode_order_ref
from handlers.actions.orders import accept_order, mark_shipped, refuse_order, show_address
from tests.handlers.conftest import CHANNEL, LOGIN, TRIGGER, USER, account, first_call_name, order
from tests.i18n import EN

MESSAGE_TS = "1700000000.000100"
REF = OrderRef(LOGIN, "480000001")


def click(action_id: str, value: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    value = value or encode_order_ref(REF)
    action = {"action_id": action_id, "block_id": "order_actions", "type": "button", "value": value}
    body = {
        "type": "block_actions",
        "user": {"id": USER},
        "trigger_id": TRIGGER,
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": MESSAGE_TS},
        "channel": {"id": CHANNEL},
        "response_url": "https://hooks.slack.test/actions/1",
        "actions": [action],
    }
    return body, action


# --- Mark shipped ------------------------------------------------------------------------------------


def test_mark_shipped_acks_then_opens_the_modal_tied_to_the_card(
    ack: Mock, respond: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace, calls: Mock
) -> None:
    shipment = order("9001", "9002", shipping_type="Mondial Relay")
    bot.shipping.plan.return_value = ShipPlan(
        OrderAccess(account=account(), order=shipment), preselected_carrier="Mondial Relay"
    )
    body, action = click(ACTION_MARK_SHIPPED)

    mark_shipped(ack=ack, body=body, action=action, context=context, client=client, respond=respond)

    assert first_call_name(calls) == "ack"
    bot.shipping.plan.assert_called_once_with(USER, REF)
    client.views_open.assert_called_once()
    kwargs = client.views_open.call_args.kwargs
    assert kwargs["trigger_id"] == TRIGGER
    view = kwargs["view"]
    assert view["callback_id"] == VIEW_SHIP
    assert ShipModalMetadata.decode(view["private_metadata"]) == ShipModalMetadata(
        LOGIN, "480000001", CHANNEL, MESSAGE_TS
    )
    blocks = {block["block_id"]: block for block in view["blocks"]}
    assert blocks[BLOCK_CARRIER]["element"]["initial_option"]["value"] == "Mondial Relay"
    assert [o["value"] for o in blocks[BLOCK_ITEMS]["element"]["options"]] == ["9001", "9002"]
    respond.assert_not_called()


@pytest.mark.parametrize(
    "plan",
    [
        ShipPlan(OrderAccess(refusal="Only members of <#C0ORDERS> can act on these orders."), refusal="Only members"),
        ShipPlan(OrderAccess(account=account(), order=order()), refusal="Order 480000001 has nothing left to ship."),
    ],
)
def test_mark_shipped_refused_answers_the_clicker_privately_and_opens_nothing(
    ack: Mock, respond: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace, plan: ShipPlan
) -> None:
    bot.shipping.plan.return_value = plan
    body, action = click(ACTION_MARK_SHIPPED)

    mark_shipped(ack=ack, body=body, action=action, context=context, client=client, respond=respond)

    ack.assert_called_once_with()
    client.views_open.assert_not_called()
    kwargs = respond.call_args.kwargs
    assert kwargs["response_type"] == "ephemeral"
    assert kwargs["replace_original"] is False
    assert kwargs["text"] == f"🚫 You can't mark this order shipped: {plan.refusal}"


def test_a_malformed_button_value_reaches_the_service_as_no_order(
    ack: Mock, respond: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace
) -> None:
    bot.shipping.plan.return_value = ShipPlan(
        OrderAccess(refusal="That button no longer points to an order I know."),
        refusal="That button no longer points to an order I know.",
    )
    body, action = click(ACTION_MARK_SHIPPED, value="{not json")

    mark_shipped(ack=ack, body=body, action=action, context=context, client=client, respond=respond)

    bot.shipping.plan.assert_called_once_with(USER, None)
    assert "no longer points to an order" in respond.call_args.kwargs["text"]


# --- Accept / Refuse ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("listener", "service"), [(accept_order, "accept"), (refuse_order, "refuse")])
def test_accept_and_refuse_claim_then_ack_then_send_and_tell_the_clicker_only(
    client: Mock,
    ack: Mock,
    respond: Mock,
    context: BoltContext,
    bot: SimpleNamespace,
    calls: Mock,
    listener: Any,
    service: str,
) -> None:
    kind = PendingKind.ACCEPT if service == "accept" else PendingKind.REFUSE
    submission = Submission(
        "Accepting order 480000001 (2 items) on Rakuten…", Claim(LOGIN, "480000001", kind, ("9001", "9002"))
    )
    getattr(bot.acceptance, service).return_value = submission
    bot.acceptance.start.return_value = submission.answer
    body, action = click(ACTION_ACCEPT)

    listener(ack=ack, body=body, action=action, context=context, client=client, respond=respond)

    # The claim is stored before Slack hears back: a crash right after the ack loses no click.
    assert [name for name, *_ in calls.mock_calls][:3] == [f"acceptance.{service}", "ack", "acceptance.start"]
    getattr(bot.acceptance, service).assert_called_once_with(USER, REF)
    bot.acceptance.start.assert_called_once_with(submission)
    answer = answer_message(EN, said("Accepting order 480000001 (2 items) on Rakuten…"))
    respond.assert_called_once_with(response_type="ephemeral", replace_original=False, **answer.as_kwargs())


# --- Show address ---------------------------------------------------------------------------------------


def test_show_address_answers_privately_with_street_and_phone(
    client: Mock, ack: Mock, respond: Mock, context: BoltContext, bot: SimpleNamespace, calls: Mock
) -> None:
    bot.desk.access.return_value = OrderAccess(account=account(), order=order())
    body, action = click("order_show_address")

    show_address(ack=ack, body=body, action=action, context=context, client=client, respond=respond)

    assert first_call_name(calls) == "ack"
    bot.desk.access.assert_called_once_with(USER, REF)
    kwargs = respond.call_args.kwargs
    assert kwargs["response_type"] == "ephemeral"
    assert kwargs["replace_original"] is False
    shown = kwargs["blocks"][0]["text"]["text"]
    assert "8 rue des Lilas" in shown
    assert "0612345678" in shown


def test_show_address_refused_says_why(
    client: Mock, ack: Mock, respond: Mock, context: BoltContext, bot: SimpleNamespace
) -> None:
    bot.desk.access.return_value = OrderAccess(account=account(), refusal="Only members of <#C0ORDERS> can act.")
    body, action = click("order_show_address")

    show_address(ack=ack, body=body, action=action, context=context, client=client, respond=respond)

    ack.assert_called_once_with()
    shown = respond.call_args.kwargs["text"]
    assert shown == "🚫 You can't see this address: Only members of <#C0ORDERS> can act."
    assert "rue des Lilas" not in repr(respond.mock_calls)
