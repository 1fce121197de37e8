from slack_bolt import App

from handlers.events.app_home_opened import app_home_opened
from handlers.events.revocation import app_uninstalled, tokens_revoked


def register(app: App) -> None:
    app.event("app_home_opened")(app_home_opened)
    app.event("tokens_revoked")(tokens_revoked)
    app.event("app_uninstalled")(app_uninstalled)
