"""The Bolt App: injected WebClient, one error handler that tells the user, listeners from ``handlers/``."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context import AppContext
from bot.logging_setup import redact
from handlers import register_handlers

logger = logging.getLogger(__name__)

USER_FACING_ERROR = (
    ":warning: Something went wrong on the bot's side while handling that. Nothing was sent to Rakuten twice; "
    "please try again in a minute. If it keeps happening, an admin can look at the bot's logs."
)


def build_app(context: AppContext, *, listener_threads: int = 16) -> App:
    app = App(
        client=context.web_client,
        signing_secret=context.settings.slack_signing_secret or "",
        # Listeners ack at once and then call Rakuten; more threads than Bolt's default 5 keep a few slow
        # Rakuten calls from delaying the next click's ack.
        listener_executor=ThreadPoolExecutor(max_workers=listener_threads, thread_name_prefix="listener"),
        raise_error_for_unhandled_request=False,
    )
    app.error(handle_listener_error)
    register_handlers(app, context)
    return app


def handle_listener_error(error: Exception, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
    """Log what failed (secrets redacted) and tell the person who clicked or typed, never a silent failure."""
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
