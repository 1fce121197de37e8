"""The Mark shipped modal's submission: errors on their fields, else claim the items, ack, and send to Rakuten."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.services.item_actions import Submission
from bot.slack.notify import tell_privately
from bot.ui.messages import answer_message
from bot.ui.ship_modal import read_ship_submission, ship_errors
from handlers.deps import after_ack, bot_of


def submit_ship(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    user = body["user"]["id"]
    bot = bot_of(context)
    form = read_ship_submission(view)
    result = bot.shipping.prepare(user, form.draft)
    if result.field_errors:
        ack(response_action="errors", errors=ship_errors(bot.languages.user(user), result.field_errors, view=view))
        return
    # The modal closes with the ack, and the user takes the shipment as sent: its claim is stored first.
    submission = bot.shipping.submit(result.request) if result.request is not None else Submission(result.message)
    ack()
    channel = form.metadata.channel if form.metadata else None

    def send() -> None:
        answer = bot.shipping.start(submission)
        if answer:
            tell_privately(client, user, channel, answer_message(bot.languages.user(user), answer))

    after_ack(context, body, respond, client, send)
