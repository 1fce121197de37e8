from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from handlers.deps import after_ack, bot_of


def refresh_home(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond) -> None:
    ack()
    bot, user = bot_of(context), body["user"]["id"]
    after_ack(context, body, respond, client, lambda: client.views_publish(user_id=user, view=bot.screens.home(user)))
