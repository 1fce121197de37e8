"""Every Slack identifier the app and its tests share: command, action_id, callback_id, block_id, metadata."""

from __future__ import annotations

from typing import Final

COMMAND: Final = "/rakuten"

# Message metadata on every order card: lets a restart find a card posted just before a crash.
ORDER_EVENT_TYPE: Final = "rakuten_order"
# On a burst's summary message: lets a restart post the burst's remaining cards into the same thread.
BURST_EVENT_TYPE: Final = "rakuten_order_burst"
# On a reminder in an order card's thread (payload: account, purchaseid, reminder key): a restart finds a reminder
# posted just before a crash instead of posting it twice.
REMINDER_EVENT_TYPE: Final = "rakuten_order_reminder"
# On a daily summary (payload: account, day): the same, for the summary of the day.
DAILY_SUMMARY_EVENT_TYPE: Final = "rakuten_daily_summary"
# On a buyer message, a customer-service mail, a claim event or a reply in an order card's thread (payload: account,
# purchaseid, entry key): each is posted once, a restart finding one posted just before a crash.
AFTER_SALE_EVENT_TYPE: Final = "rakuten_after_sale"

# --- order card buttons (button value: an encoded OrderRef, see bot.ui.refs) ---
ACTION_MARK_SHIPPED: Final = "order_mark_shipped"
ACTION_ACCEPT: Final = "order_accept"
ACTION_REFUSE: Final = "order_refuse"
ACTION_SHOW_ADDRESS: Final = "order_show_address"
ACTION_DISCONNECT_CONFIRM: Final = "account_disconnect_confirm"
ACTION_REPLY: Final = "order_reply"  # on the card and on each message in its thread (value: an encoded EntryRef)
ACTION_CANCEL_ITEM: Final = "order_cancel_item"
ACTION_SHOW_ALL: Final = "after_sale_show_all"  # a long message's whole text (value: an encoded EntryRef)

# --- Home tab ---
ACTION_HOME_REFRESH: Final = "home_refresh"

# --- modals (callback_id) ---
VIEW_SHIP: Final = "ship_modal"
VIEW_CONNECT: Final = "connect_modal"
VIEW_SETTINGS: Final = "settings_modal"
VIEW_REPLY: Final = "reply_modal"
VIEW_CANCEL: Final = "cancel_modal"
VIEW_MESSAGE: Final = "message_modal"  # "Show all": read-only

# --- ship modal inputs (block_id / action_id) ---
BLOCK_CARRIER: Final = "ship_carrier"
ACTION_CARRIER: Final = "ship_carrier_select"
BLOCK_TRACKING_NUMBER: Final = "ship_tracking_number"
ACTION_TRACKING_NUMBER: Final = "ship_tracking_number_input"
BLOCK_TRACKING_URL: Final = "ship_tracking_url"
ACTION_TRACKING_URL: Final = "ship_tracking_url_input"
BLOCK_ITEMS: Final = "ship_items"
ACTION_ITEMS: Final = "ship_items_select"

# --- reply modal inputs ---
BLOCK_REPLY_TO: Final = "reply_to"
ACTION_REPLY_TO: Final = "reply_to_select"
BLOCK_REPLY_TEXT: Final = "reply_text"
ACTION_REPLY_TEXT: Final = "reply_text_input"

# --- cancel modal inputs ---
BLOCK_CANCEL_ITEMS: Final = "cancel_items"
ACTION_CANCEL_ITEMS: Final = "cancel_items_select"
BLOCK_CANCEL_REASON: Final = "cancel_reason"
ACTION_CANCEL_REASON: Final = "cancel_reason_input"

# --- connect modal inputs ---
BLOCK_LOGIN: Final = "connect_login"
ACTION_LOGIN: Final = "connect_login_input"
BLOCK_TOKEN: Final = "connect_token"
ACTION_TOKEN: Final = "connect_token_input"

# --- settings modal inputs ---
BLOCK_CHANNEL: Final = "settings_channel"
ACTION_CHANNEL: Final = "settings_channel_select"
BLOCK_EXPRESS_MENTION: Final = "settings_express_mention"
ACTION_EXPRESS_MENTION: Final = "settings_express_mention_input"
BLOCK_SHIPPER_GROUP: Final = "settings_shipper_group"
ACTION_SHIPPER_GROUP: Final = "settings_shipper_group_input"
BLOCK_LANGUAGE: Final = "settings_language"
ACTION_LANGUAGE: Final = "settings_language_select"
BLOCK_OPTIONS: Final = "settings_options"
ACTION_OPTIONS: Final = "settings_options_select"
OPTION_SHOW_FULL_ADDRESS: Final = "show_full_address"
OPTION_AUTO_ACCEPT: Final = "auto_accept"
