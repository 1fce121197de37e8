"""One way to fail in front of a user: log what broke (secrets redacted) and tell them, never a silent drop."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import BotError, describe
from bot.logging_setup import redact
from bot.ui.i18n import translator
from bot.ui.messages import listener_error_message

logger = logging.getLogger(__name__)

BOT_KEY = "bot"  # where the running bot sits in Bolt's context (set by bot/app.py)


def handle_listener_error(
    error: Exception, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext | None = None
) -> None:
    """Bolt's global error handler, and the same for work a listener runs after its ack: the boundary of every
    listener. The bot's own failures (BotError) are logged in a line, bugs with their traceback; the person
    is told in their language either way."""
    kind = body.get("type") or ("slash_command" if "command" in body else "unknown")
    if isinstance(error, BotError):
        logger.error("listener failed on %s: %s", kind, redact(describe(error)))
    else:
        logger.error("listener failed on %s: %s", kind, redact(repr(error)), exc_info=error)
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    bot = context.get(BOT_KEY) if context is not None else None
    t = bot.languages.user(user) if bot is not None else translator(None)
    text = listener_error_message(t).text
    try:
        if body.get("response_url") or _response_urls(body):
            respond(text=text, response_type="ephemeral", replace_original=False)
            return
        channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
        if user and channel:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
        elif user:
            client.chat_postMessage(channel=user, text=text)
    except (SlackApiError, ValueError) as follow_up:
        logger.warning("could not tell the user about the failure: %s", redact(str(follow_up)))


def _response_urls(body: dict[str, Any]) -> list[str]:
    return [entry.get("response_url") for entry in body.get("response_urls") or [] if entry.get("response_url")]
