from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from handlers.deps import bot_of


def refresh_home(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    ack()
    user = body["user"]["id"]
    client.views_publish(user_id=user, view=bot_of(context).status.home(user))
