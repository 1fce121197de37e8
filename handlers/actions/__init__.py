from slack_bolt import App

from bot.constants import (
    ACTION_ACCEPT,
    ACTION_CANCEL_ITEM,
    ACTION_DISCONNECT_CONFIRM,
    ACTION_HOME_REFRESH,
    ACTION_MARK_SHIPPED,
    ACTION_REFUSE,
    ACTION_REPLY,
    ACTION_SHOW_ADDRESS,
    ACTION_SHOW_ALL,
)
from handlers.actions.account import confirm_disconnect
from handlers.actions.after_sale import cancel_item, reply, show_all
from handlers.actions.home import refresh_home
from handlers.actions.orders import accept_order, mark_shipped, refuse_order, show_address


def register(app: App) -> None:
    app.action(ACTION_MARK_SHIPPED)(mark_shipped)
    app.action(ACTION_ACCEPT)(accept_order)
    app.action(ACTION_REFUSE)(refuse_order)
    app.action(ACTION_SHOW_ADDRESS)(show_address)
    app.action(ACTION_DISCONNECT_CONFIRM)(confirm_disconnect)
    app.action(ACTION_HOME_REFRESH)(refresh_home)
    app.action(ACTION_REPLY)(reply)
    app.action(ACTION_SHOW_ALL)(show_all)
    app.action(ACTION_CANCEL_ITEM)(cancel_item)
