"""Slack listeners only: each acks, reads the payload, calls a ``bot`` service, renders the answer.

The running bot's services reach every listener through Bolt's context (``context["bot"]``), set by one
global middleware: no module globals, and a test can pass any ``AppContext`` it likes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_bolt import App, BoltContext

from handlers import actions, commands, events, views
from handlers.deps import BOT_KEY

if TYPE_CHECKING:
    from bot.app import AppContext


def register_handlers(app: App, bot: AppContext) -> None:
    app.use(_inject(bot))
    commands.register(app)
    actions.register(app)
    views.register(app)
    events.register(app)


def _inject(bot: AppContext) -> Callable[..., object]:
    def inject_bot(context: BoltContext, next: Callable[[], object]) -> object:
        context[BOT_KEY] = bot
        return next()

    return inject_bot
