"""One way to fail in front of a user: log what broke (secrets redacted) and tell them, never a silent drop."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.logging_setup import redact

logger = logging.getLogger(__name__)

USER_FACING_ERROR = (
    ":warning: Something went wrong on the bot's side while handling that. Nothing was sent to Rakuten twice; "
    "please try again in a minute. If it keeps happening, an admin can look at the bot's logs."
)


def handle_listener_error(error: Exception, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
    """Bolt's global error handler, and the same for work a listener runs after its ack."""
    kind = body.get("type") or ("slash_command" if "command" in body else "unknown")
    logger.error("listener failed on %s: %s", kind, redact(repr(error)), exc_info=error)
    try:
        if body.get("response_url") or _response_urls(body):
            respond(text=USER_FACING_ERROR, response_type="ephemeral", replace_original=False)
            return
        user = (body.get("user") or {}).get("id") or body.get("user_id")
        channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
        if user and channel:
            client.chat_postEphemeral(channel=channel, user=user, text=USER_FACING_ERROR)
        elif user:
            client.chat_postMessage(channel=user, text=USER_FACING_ERROR)
    except (SlackApiError, ValueError) as follow_up:
        logger.warning("could not tell the user about the failure: %s", redact(str(follow_up)))


def _response_urls(body: dict[str, Any]) -> list[str]:
    return [entry.get("response_url") for entry in body.get("response_urls") or [] if entry.get("response_url")]
