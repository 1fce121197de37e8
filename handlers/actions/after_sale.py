"""After-sale buttons: Reply (on the card and on each message in its thread), Show all (a long message's whole
text), Cancel item (after the card's confirmation). Each acks, then opens its modal or answers privately."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.domain.sentences import said
from bot.ui.after_sale import message_modal
from bot.ui.after_sale_modals import build_cancel_modal, build_reply_modal
from bot.ui.messages import not_allowed_message
from bot.ui.refs import ShipModalMetadata, decode_entry_ref
from handlers.deps import after_ack, bot_of


def reply(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    ack()
    bot, user, ref = bot_of(context), body["user"]["id"], decode_entry_ref(action.get("value"))

    def open_modal() -> None:  # the trigger_id lives 3 seconds: this runs right after the ack
        plan = bot.replies.plan(user, ref.order_ref if ref else None, ref.key if ref else None)
        t = bot.languages.user(user)
        order = plan.access.order
        if plan.refusal is not None or order is None:
            refusal = not_allowed_message(t, said("reply about this order"), plan.refusal or said("unknown order"))
            _private(respond, refusal.as_kwargs())
            return
        view = build_reply_modal(
            t,
            order,
            _metadata(body, order.account, order.purchaseid),
            targets=plan.targets,
            preselected=plan.preselected,
            conversation=plan.conversation,
        )
        client.views_open(trigger_id=body["trigger_id"], view=view)

    after_ack(context, body, respond, client, open_modal)


def show_all(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    ack()
    bot, user, ref = bot_of(context), body["user"]["id"], decode_entry_ref(action.get("value"))

    def open_modal() -> None:
        access = bot.desk.access(user, ref.order_ref if ref else None)
        t = bot.languages.user(user)
        entry = access.order.after_sale.entry(ref.key) if access.order is not None and ref and ref.key else None
        if not access.allowed or access.order is None or entry is None:
            refusal = not_allowed_message(t, said("read this message"), access.refusal or said("unknown message"))
            _private(respond, refusal.as_kwargs())
            return
        client.views_open(trigger_id=body["trigger_id"], view=message_modal(t, access.order, entry))

    after_ack(context, body, respond, client, open_modal)


def cancel_item(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    ack()
    bot, user, ref = bot_of(context), body["user"]["id"], decode_entry_ref(action.get("value"))

    def open_modal() -> None:
        plan = bot.cancellation.plan(user, ref.order_ref if ref else None)
        t = bot.languages.user(user)
        order = plan.access.order
        if plan.refusal is not None or order is None:
            refusal = not_allowed_message(t, said("cancel items of this order"), plan.refusal or said("unknown order"))
            _private(respond, refusal.as_kwargs())
            return
        view = build_cancel_modal(t, order, _metadata(body, order.account, order.purchaseid), items=plan.items)
        client.views_open(trigger_id=body["trigger_id"], view=view)

    after_ack(context, body, respond, client, open_modal)


def _metadata(body: dict[str, Any], account: str, purchaseid: str) -> ShipModalMetadata:
    container = body.get("container") or {}
    return ShipModalMetadata(account, purchaseid, container.get("channel_id"), container.get("message_ts"))


def _private(respond: Respond, message: dict[str, Any]) -> None:
    respond(response_type="ephemeral", replace_original=False, **message)
