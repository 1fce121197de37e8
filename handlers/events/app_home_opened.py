from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from handlers.deps import bot_of


def app_home_opened(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    if event.get("tab", "home") != "home":
        return  # the Messages tab needs no answer
    user = event["user"]
    client.views_publish(user_id=user, view=bot_of(context).status.home(user))
