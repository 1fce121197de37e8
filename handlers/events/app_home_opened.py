from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext, Respond
from slack_sdk import WebClient

from handlers.deps import after_ack, bot_of


def app_home_opened(
    event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    if event.get("tab", "home") != "home":
        return  # the Messages tab needs no answer
    bot, user = bot_of(context), event["user"]
    after_ack(context, body, respond, client, lambda: client.views_publish(user_id=user, view=bot.screens.home(user)))
