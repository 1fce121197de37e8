"""Block Kit builders: every card, modal, Home tab and message the app shows, as pure functions.

Builders use ``slack_sdk.models`` so Slack's limits are checked by ``to_dict()``; none does I/O, and time
comes in as an explicit ``now``.
"""

from bot.blocks.account_views import (
    ConnectForm,
    SettingsForm,
    build_connect_modal,
    build_disconnect_confirmation,
    build_settings_modal,
    connect_errors,
    read_connect_submission,
    read_settings_submission,
)
from bot.blocks.home import build_home
from bot.blocks.messages import (
    ActionOutcome,
    Message,
    action_result_message,
    address_message,
    burst_summary,
    connected_message,
    disconnected_message,
    help_message,
    not_allowed_message,
    orders_list_message,
    outage_alert,
    quota_message,
    recovered_message,
    status_message,
    unknown_subcommand_message,
)
from bot.blocks.order_card import OrderCard, build_order_card
from bot.blocks.refs import (
    ConnectModalMetadata,
    OrderRef,
    SettingsModalMetadata,
    ShipModalMetadata,
    decode_order_ref,
    encode_order_ref,
)
from bot.blocks.ship_modal import ShipForm, build_ship_modal, read_ship_submission, ship_errors, shippable_items

__all__ = [
    "ActionOutcome",
    "ConnectForm",
    "ConnectModalMetadata",
    "Message",
    "OrderCard",
    "OrderRef",
    "SettingsForm",
    "SettingsModalMetadata",
    "ShipForm",
    "ShipModalMetadata",
    "action_result_message",
    "address_message",
    "build_connect_modal",
    "build_disconnect_confirmation",
    "build_home",
    "build_order_card",
    "build_settings_modal",
    "build_ship_modal",
    "burst_summary",
    "connect_errors",
    "connected_message",
    "decode_order_ref",
    "disconnected_message",
    "encode_order_ref",
    "help_message",
    "not_allowed_message",
    "orders_list_message",
    "outage_alert",
    "quota_message",
    "read_connect_submission",
    "read_settings_submission",
    "read_ship_submission",
    "recovered_message",
    "ship_errors",
    "shippable_items",
    "status_message",
    "unknown_subcommand_message",
]
