from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest.mock import Mock

from slack_bolt import BoltContext
from slack_sdk.errors import SlackApiError

from bot.constants import (
    ACTION_CARRIER,
    ACTION_ITEMS,
    ACTION_TRACKING_NUMBER,
    ACTION_TRACKING_URL,
    BLOCK_CARRIER,
    BLOCK_ITEMS,
    BLOCK_TRACKING_NUMBER,
    BLOCK_TRACKING_URL,
    VIEW_SHIP,
)
from bot.domain.orders import PendingKind, ShipmentDraft
from bot.services.item_actions import Claim, Submission
from bot.services.shipping import ShipRequest, ShipResult
from bot.ui.refs import ShipModalMetadata
from devkit.slack_requests import checkboxes_state, static_select_state, text_input_state
from handlers.views.ship import submit_ship
from rakuten.carriers import Tracking
from tests.handlers.conftest import CHANNEL, LOGIN, USER, first_call_name, order

METADATA = ShipModalMetadata(LOGIN, "480000001", CHANNEL, "1700000000.000100")


def submitted(*, carrier: str | None = "Colissimo", number: str = "6A12345678901", url: str | None = None) -> dict:
    values: dict[str, Any] = {
        BLOCK_CARRIER: {ACTION_CARRIER: static_select_state(carrier)},
        BLOCK_TRACKING_NUMBER: {ACTION_TRACKING_NUMBER: text_input_state(number)},
        BLOCK_TRACKING_URL: {ACTION_TRACKING_URL: text_input_state(url)},
        BLOCK_ITEMS: {ACTION_ITEMS: checkboxes_state(["9001"])},
    }
    blocks = [
        {"type": "input", "block_id": block_id}
        for block_id in (BLOCK_CARRIER, BLOCK_TRACKING_NUMBER, BLOCK_TRACKING_URL, BLOCK_ITEMS)
    ]
    return {
        "type": "modal",
        "callback_id": VIEW_SHIP,
        "private_metadata": METADATA.encode(),
        "blocks": blocks,
        "state": {"values": values},
    }


def body_for(view: dict) -> dict:
    return {"type": "view_submission", "user": {"id": USER}, "view": view}


def test_field_errors_go_back_to_their_blocks_and_nothing_is_sent(
    respond: Mock, ack: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace, calls: Mock
) -> None:
    bot.shipping.prepare.return_value = ShipResult(field_errors={"tracking_url": "A tracking URL is required."})
    view = submitted(carrier="Autre", number="ABC123456")

    submit_ship(ack=ack, body=body_for(view), view=view, context=context, client=client, respond=respond)

    form: ShipmentDraft = bot.shipping.prepare.call_args.args[1]
    assert (form.carrier, form.tracking_number, form.tracking_url) == ("Autre", "ABC123456", None)
    assert form.itemids == ("9001",)
    assert form.ref == METADATA.order_ref
    ack.assert_called_once_with(response_action="errors", errors={BLOCK_TRACKING_URL: "A tracking URL is required."})
    bot.shipping.submit.assert_not_called()
    assert [name for name, *_ in calls.mock_calls] == ["shipping.prepare", "ack"]


def test_a_valid_submission_is_claimed_then_acked_then_sent(
    respond: Mock, ack: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace, calls: Mock
) -> None:
    request = ShipRequest(USER, order(), Tracking("Colissimo", "6A12345678901"), frozenset({"9001"}))
    bot.shipping.prepare.return_value = ShipResult(request=request)
    submission = Submission(
        "Sending Colissimo 6A12345678901 to Rakuten for order 480000001 (1 item).",
        Claim(LOGIN, "480000001", PendingKind.SHIP, ("9001",)),
    )
    bot.shipping.submit.return_value = submission
    bot.shipping.start.return_value = submission.answer
    view = submitted()

    submit_ship(ack=ack, body=body_for(view), view=view, context=context, client=client, respond=respond)

    # The modal closes with the ack: by then the shipment is stored, so a crash right after it loses nothing.
    names = [name for name, *_ in calls.mock_calls]
    assert names[:4] == ["shipping.prepare", "shipping.submit", "ack", "shipping.start"]
    ack.assert_called_once_with()
    bot.shipping.submit.assert_called_once_with(request)
    bot.shipping.start.assert_called_once_with(submission)
    kwargs = client.chat_postEphemeral.call_args.kwargs
    assert (kwargs["channel"], kwargs["user"]) == (CHANNEL, USER)
    assert kwargs["text"] == "Sending Colissimo 6A12345678901 to Rakuten for order 480000001 (1 item)."


def test_a_refusal_is_acked_and_explained_by_direct_message_when_the_user_is_not_in_the_channel(
    respond: Mock, ack: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace, calls: Mock
) -> None:
    bot.shipping.prepare.return_value = ShipResult(message="Only members of <#C0ORDERS> can act on these orders.")
    bot.shipping.start.side_effect = lambda submission: submission.answer
    client.chat_postEphemeral.side_effect = SlackApiError("refused", {"ok": False, "error": "user_not_in_channel"})
    view = submitted()

    submit_ship(ack=ack, body=body_for(view), view=view, context=context, client=client, respond=respond)

    assert first_call_name(calls) == "shipping.prepare"
    ack.assert_called_once_with()
    bot.shipping.submit.assert_not_called()
    kwargs = client.chat_postMessage.call_args.kwargs
    assert kwargs["channel"] == USER
    assert kwargs["text"] == "Only members of <#C0ORDERS> can act on these orders."


def test_nothing_to_say_means_no_message(
    respond: Mock, ack: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace
) -> None:
    bot.shipping.prepare.return_value = ShipResult()
    bot.shipping.start.side_effect = lambda submission: submission.answer
    view = submitted()

    submit_ship(ack=ack, body=body_for(view), view=view, context=context, client=client, respond=respond)

    ack.assert_called_once_with()
    client.chat_postEphemeral.assert_not_called()
    client.chat_postMessage.assert_not_called()
