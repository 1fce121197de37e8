"""The Bolt App: injected WebClient, one error handler that tells the user, listeners from ``handlers/``."""

from __future__ import annotations

from slack_bolt import App

from bot.context import AppContext
from handlers import register_handlers
from handlers.errors import handle_listener_error


def build_app(context: AppContext) -> App:
    app = App(
        client=context.web_client,
        signing_secret=context.settings.slack_signing_secret or "",
        # Listeners run in the request thread and return right after their ack, handing what is slow to the
        # bot's Slack work pool (handlers.deps.after_ack): the ack never waits for a free listener thread,
        # nor for Bolt's polling of it, however busy the process is with a poll.
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )
    app.error(handle_listener_error)
    register_handlers(app, context)
    return app
