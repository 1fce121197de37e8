from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from handlers.deps import bot_of


def confirm_disconnect(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext, respond: Respond
) -> None:
    ack()
    answer = bot_of(context).accounts.disconnect(body["user"]["id"], str(action.get("value") or ""))
    respond(text=answer, response_type="ephemeral", replace_original=True)
