from slack_bolt import App

from bot.constants import VIEW_CANCEL, VIEW_CONNECT, VIEW_REPLY, VIEW_SETTINGS, VIEW_SHIP
from handlers.views.account import submit_connect, submit_settings
from handlers.views.after_sale import submit_cancel, submit_reply
from handlers.views.ship import submit_ship


def register(app: App) -> None:
    app.view(VIEW_SHIP)(submit_ship)
    app.view(VIEW_CONNECT)(submit_connect)
    app.view(VIEW_SETTINGS)(submit_settings)
    app.view(VIEW_REPLY)(submit_reply)
    app.view(VIEW_CANCEL)(submit_cancel)
