from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.ui.messages import answer_message
from handlers.deps import after_ack, bot_of


def confirm_disconnect(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    ack()
    bot, user, login = bot_of(context), body["user"]["id"], str(action.get("value") or "")

    def disconnect() -> None:
        answer = answer_message(bot.languages.user(user), bot.accounts.disconnect(user, login))
        respond(response_type="ephemeral", replace_original=True, **answer.as_kwargs())

    after_ack(context, body, respond, client, disconnect)
