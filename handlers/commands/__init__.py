from slack_bolt import App

from bot.constants import COMMAND
from handlers.commands.rakuten import rakuten_command


def register(app: App) -> None:
    app.command(COMMAND)(rakuten_command)
