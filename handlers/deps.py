"""How a listener gets the running bot's services out of Bolt's context."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import BoltContext

if TYPE_CHECKING:
    from bot.context import AppContext


BOT_KEY = "bot"


def bot_of(context: BoltContext) -> AppContext:
    return context[BOT_KEY]
