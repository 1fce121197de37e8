"""How a listener reaches the running bot, and hands its slow part to the bot's Slack work pool."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt import BoltContext, Respond
from slack_sdk import WebClient

from handlers.errors import BOT_KEY, handle_listener_error

if TYPE_CHECKING:
    from bot.app import AppContext

__all__ = ["BOT_KEY", "after_ack", "bot_of"]


def bot_of(context: BoltContext) -> AppContext:
    return context[BOT_KEY]


def after_ack(
    context: BoltContext, body: dict[str, Any], respond: Respond, client: WebClient, job: Callable[[], None]
) -> None:
    """Run ``job`` once Slack has its answer.

    Listeners run in the request thread (the app processes before responding), so the ack leaves with the
    HTTP response as soon as the listener returns, whatever the Rakuten or Slack calls after it cost, and
    however busy the process is. A failure of the job is reported to the user like any listener's.
    """

    def run() -> None:
        try:
            job()
        except Exception as error:  # the user is told; the worker goes on
            handle_listener_error(error, body, respond, client, context)

    bot_of(context).slack_work.submit(run)
