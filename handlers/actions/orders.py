"""Order card buttons: Mark shipped (opens the modal), Accept, Refuse, Show address."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.blocks.messages import address_message, not_allowed_message
from bot.blocks.refs import OrderRef, ShipModalMetadata
from bot.blocks.ship_modal import build_ship_modal
from handlers.deps import bot_of
from rakuten.carriers import CARRIERS


def mark_shipped(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    ack()
    user = body["user"]["id"]
    plan = bot_of(context).shipping.plan(user, OrderRef.decode(action.get("value")))
    if plan.refusal is not None or plan.access.order is None:
        _private(respond, not_allowed_message("mark this order shipped", plan.refusal or "unknown order").as_kwargs())
        return
    order = plan.access.order
    container = body.get("container") or {}
    metadata = ShipModalMetadata(
        order.account, order.purchaseid, container.get("channel_id"), container.get("message_ts")
    )
    client.views_open(
        trigger_id=body["trigger_id"],
        view=build_ship_modal(order, metadata, preselected_carrier=plan.preselected_carrier, carriers=CARRIERS),
    )


def accept_order(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, respond: Respond
) -> None:
    ack()
    answer = bot_of(context).acceptance.accept(body["user"]["id"], OrderRef.decode(action.get("value")))
    _private(respond, {"text": answer})


def refuse_order(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, respond: Respond
) -> None:
    ack()
    answer = bot_of(context).acceptance.refuse(body["user"]["id"], OrderRef.decode(action.get("value")))
    _private(respond, {"text": answer})


def show_address(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, respond: Respond
) -> None:
    ack()
    access = bot_of(context).desk.access(body["user"]["id"], OrderRef.decode(action.get("value")))
    if not access.allowed or access.order is None:
        _private(respond, not_allowed_message("see this address", access.refusal or "unknown order").as_kwargs())
        return
    _private(respond, address_message(access.order).as_kwargs())


def _private(respond: Respond, message: dict[str, Any]) -> None:
    """Answer only the clicker, leaving the card itself untouched."""
    respond(response_type="ephemeral", replace_original=False, **message)
