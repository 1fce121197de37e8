"""Order card buttons: Mark shipped (opens the modal), Accept, Refuse, Show address."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.domain.sentences import said
from bot.services.item_actions import Submission
from bot.ui.messages import address_message, answer_message, not_allowed_message
from bot.ui.refs import ShipModalMetadata, decode_order_ref
from bot.ui.ship_modal import build_ship_modal
from handlers.deps import after_ack, bot_of
from rakuten.carriers import CARRIERS


def mark_shipped(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    ack()
    bot, user, ref = bot_of(context), body["user"]["id"], decode_order_ref(action.get("value"))

    def open_modal() -> None:  # the trigger_id lives 3 seconds: this runs right after the ack
        plan = bot.shipping.plan(user, ref)
        t = bot.languages.user(user)
        if plan.refusal is not None or plan.access.order is None:
            refusal = not_allowed_message(t, said("mark this order shipped"), plan.refusal or said("unknown order"))
            _private(respond, refusal.as_kwargs())
            return
        order = plan.access.order
        container = body.get("container") or {}
        metadata = ShipModalMetadata(
            order.account, order.purchaseid, container.get("channel_id"), container.get("message_ts")
        )
        client.views_open(
            trigger_id=body["trigger_id"],
            view=build_ship_modal(t, order, metadata, preselected_carrier=plan.preselected_carrier, carriers=CARRIERS),
        )

    after_ack(context, body, respond, client, open_modal)


def accept_order(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    bot, user, ref = bot_of(context), body["user"]["id"], decode_order_ref(action.get("value"))
    _decide(ack, body, context, client, respond, bot.acceptance.accept(user, ref))


def refuse_order(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    bot, user, ref = bot_of(context), body["user"]["id"], decode_order_ref(action.get("value"))
    _decide(ack, body, context, client, respond, bot.acceptance.refuse(user, ref))


def _decide(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond, submission: Submission
) -> None:
    """The decision's items are claimed (stored) before the ack, so a crash right after it loses no click."""
    ack()
    bot = bot_of(context)

    def start() -> None:
        answer = bot.acceptance.start(submission)
        if answer:
            _private(respond, answer_message(bot.languages.user(body["user"]["id"]), answer).as_kwargs())

    after_ack(context, body, respond, client, start)


def show_address(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    ack()
    bot, user, ref = bot_of(context), body["user"]["id"], decode_order_ref(action.get("value"))

    def answer() -> None:
        access = bot.desk.access(user, ref)
        t = bot.languages.user(user)
        if not access.allowed or access.order is None:
            refusal = not_allowed_message(t, said("see this address"), access.refusal or said("unknown order"))
            _private(respond, refusal.as_kwargs())
            return
        _private(respond, address_message(t, access.order).as_kwargs())

    after_ack(context, body, respond, client, answer)


def _private(respond: Respond, message: dict[str, Any]) -> None:
    """Answer only the clicker, leaving the card itself untouched."""
    respond(response_type="ephemeral", replace_original=False, **message)
