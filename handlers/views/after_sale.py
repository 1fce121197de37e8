"""The Reply and Cancel item modals' submissions: errors on their fields, else claim (before the ack), ack, send."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.services.item_actions import Submission
from bot.slack.notify import tell_privately
from bot.ui.after_sale_modals import (
    CANCEL_FIELD_BLOCKS,
    REPLY_FIELD_BLOCKS,
    field_errors,
    read_cancel_submission,
    read_reply_submission,
)
from bot.ui.messages import answer_message
from handlers.deps import after_ack, bot_of


def submit_reply(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    user = body["user"]["id"]
    bot = bot_of(context)
    draft, metadata = read_reply_submission(view)
    result = bot.replies.prepare(user, draft)  # a valid reply is claimed here, before the modal closes
    if result.field_errors:
        t = bot.languages.user(user)
        ack(response_action="errors", errors=field_errors(t, result.field_errors, REPLY_FIELD_BLOCKS, view=view))
        return
    ack()
    channel = metadata.channel if metadata else None

    def send() -> None:
        bot.replies.start(result.claim)
        if result.answer is not None:
            tell_privately(client, user, channel, answer_message(bot.languages.user(user), result.answer))

    after_ack(context, body, respond, client, send)


def submit_cancel(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    user = body["user"]["id"]
    bot = bot_of(context)
    draft, metadata = read_cancel_submission(view)
    result = bot.cancellation.prepare(user, draft)
    if result.field_errors:
        t = bot.languages.user(user)
        ack(response_action="errors", errors=field_errors(t, result.field_errors, CANCEL_FIELD_BLOCKS, view=view))
        return
    submission = result.submission or Submission(None)
    ack()
    channel = metadata.channel if metadata else None

    def send() -> None:
        answer = bot.cancellation.start(submission)
        if answer:
            tell_privately(client, user, channel, answer_message(bot.languages.user(user), answer))

    after_ack(context, body, respond, client, send)
