from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest.mock import Mock

from slack_bolt import BoltContext

from bot.constants import (
    ACTION_CHANNEL,
    ACTION_EXPRESS_MENTION,
    ACTION_LOGIN,
    ACTION_OPTIONS,
    ACTION_SHIPPER_GROUP,
    ACTION_TOKEN,
    BLOCK_CHANNEL,
    BLOCK_EXPRESS_MENTION,
    BLOCK_LOGIN,
    BLOCK_OPTIONS,
    BLOCK_SHIPPER_GROUP,
    BLOCK_TOKEN,
    OPTION_SHOW_FULL_ADDRESS,
    VIEW_CONNECT,
    VIEW_SETTINGS,
)
from bot.domain.accounts import Credentials, SettingsChange
from bot.services.accounts import ConnectResult
from bot.slack.poster import PostedMessage, SlackWriteError
from bot.ui.refs import ConnectModalMetadata, SettingsModalMetadata
from devkit.slack_requests import checkboxes_state, conversations_select_state, text_input_state
from handlers.views.account import submit_connect, submit_settings
from tests.handlers.conftest import ADMIN, CHANNEL, LOGIN, account, first_call_name

TOKEN = "tok-9a8b7c6d5e"


def connect_view(login: str = LOGIN, token: str = TOKEN) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": VIEW_CONNECT,
        "private_metadata": ConnectModalMetadata(CHANNEL).encode(),
        "state": {
            "values": {
                BLOCK_LOGIN: {ACTION_LOGIN: text_input_state(login)},
                BLOCK_TOKEN: {ACTION_TOKEN: text_input_state(token)},
            }
        },
    }


def settings_view(*, mention: str | None = None, metadata: str | None = None) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": VIEW_SETTINGS,
        "private_metadata": SettingsModalMetadata(LOGIN).encode() if metadata is None else metadata,
        "state": {
            "values": {
                BLOCK_CHANNEL: {ACTION_CHANNEL: conversations_select_state("C0PACKING")},
                BLOCK_EXPRESS_MENTION: {ACTION_EXPRESS_MENTION: text_input_state(mention)},
                BLOCK_SHIPPER_GROUP: {ACTION_SHIPPER_GROUP: text_input_state(None)},
                BLOCK_OPTIONS: {ACTION_OPTIONS: checkboxes_state([OPTION_SHOW_FULL_ADDRESS])},
            }
        },
    }


def body_for(view: dict[str, Any]) -> dict[str, Any]:
    return {"type": "view_submission", "user": {"id": ADMIN}, "view": view}


# --- connect ---------------------------------------------------------------------------------------------


def test_a_bad_pair_is_an_error_on_the_token_field(
    respond: Mock, ack: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace, calls: Mock
) -> None:
    bot.accounts.connect.return_value = ConnectResult(field_errors={"token": "Rakuten refused this login and token."})
    view = connect_view()

    submit_connect(ack=ack, body=body_for(view), view=view, context=context, client=client, respond=respond)

    form: Credentials = bot.accounts.connect.call_args.args[1]
    assert (form.login, form.token) == (LOGIN, TOKEN)
    assert bot.accounts.connect.call_args.kwargs == {"channel_id": CHANNEL}
    # Checked before the ack, so that the error can show on the field.
    assert first_call_name(calls) == "accounts.connect"
    ack.assert_called_once_with(response_action="errors", errors={BLOCK_TOKEN: "Rakuten refused this login and token."})
    bot.poster.post.assert_not_called()


def test_a_good_pair_is_acked_then_confirmed_in_the_order_channel_without_the_token(
    respond: Mock, ack: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace
) -> None:
    bot.accounts.connect.return_value = ConnectResult(account=account())
    bot.poster.post.return_value = PostedMessage(CHANNEL, "1700000000.000200")
    view = connect_view()

    submit_connect(ack=ack, body=body_for(view), view=view, context=context, client=client, respond=respond)

    ack.assert_called_once_with()
    bot.poster.post.assert_called_once()
    assert bot.poster.post.call_args.args == (CHANNEL,)
    assert "connected" in bot.poster.post.call_args.kwargs["text"]
    everything = repr([*ack.mock_calls, *bot.poster.mock_calls, *client.mock_calls])
    assert TOKEN not in everything


def test_a_refused_connect_is_explained_privately(
    respond: Mock, ack: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace
) -> None:
    bot.accounts.connect.return_value = ConnectResult(refusal="Only the bot's admins can connect an account.")
    view = connect_view()

    submit_connect(ack=ack, body=body_for(view), view=view, context=context, client=client, respond=respond)

    ack.assert_called_once_with()
    kwargs = client.chat_postEphemeral.call_args.kwargs
    assert (kwargs["channel"], kwargs["user"]) == (CHANNEL, ADMIN)
    assert "can't connect a Rakuten account: Only the bot's admins" in kwargs["text"]
    bot.poster.post.assert_not_called()


def test_when_the_bot_cannot_post_in_the_channel_the_admin_is_told_how_to_invite_it(
    respond: Mock, ack: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace
) -> None:
    bot.accounts.connect.return_value = ConnectResult(account=account())
    bot.poster.post.side_effect = SlackWriteError("chat.postMessage", "not_in_channel")
    view = connect_view()

    submit_connect(ack=ack, body=body_for(view), view=view, context=context, client=client, respond=respond)

    ack.assert_called_once_with()
    client.chat_postEphemeral.assert_not_called()  # no channel: a direct message
    kwargs = client.chat_postMessage.call_args.kwargs
    assert kwargs["channel"] == ADMIN
    assert "not_in_channel" in kwargs["text"]
    assert "/invite" in kwargs["text"]


# --- settings ---------------------------------------------------------------------------------------------


def test_settings_errors_are_shown_on_their_fields_and_nothing_is_saved(
    respond: Mock, ack: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace
) -> None:
    view = settings_view(mention="@ann")

    submit_settings(ack=ack, body=body_for(view), view=view, context=context, client=client, respond=respond)

    ack.assert_called_once()
    assert ack.call_args.kwargs["response_action"] == "errors"
    assert list(ack.call_args.kwargs["errors"]) == [BLOCK_EXPRESS_MENTION]
    bot.accounts.update_settings.assert_not_called()


def test_valid_settings_are_acked_then_saved_and_confirmed(
    respond: Mock, ack: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace, calls: Mock
) -> None:
    bot.accounts.update_settings.return_value = f"Settings of {LOGIN} saved."
    view = settings_view(mention="<!subteam^S0EXPRESS|express>")

    submit_settings(ack=ack, body=body_for(view), view=view, context=context, client=client, respond=respond)

    assert first_call_name(calls) == "ack"
    ack.assert_called_once_with()
    user, login, form = bot.accounts.update_settings.call_args.args
    assert (user, login) == (ADMIN, LOGIN)
    assert isinstance(form, SettingsChange)
    assert (form.channel_id, form.express_mention, form.show_full_address) == ("C0PACKING", "S0EXPRESS", True)
    kwargs = client.chat_postEphemeral.call_args.kwargs
    assert (kwargs["channel"], kwargs["user"], kwargs["text"]) == ("C0PACKING", ADMIN, f"Settings of {LOGIN} saved.")


def test_settings_that_lost_their_account_ask_to_reopen(
    respond: Mock, ack: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace
) -> None:
    view = settings_view(metadata="")

    submit_settings(ack=ack, body=body_for(view), view=view, context=context, client=client, respond=respond)

    ack.assert_called_once_with()
    bot.accounts.update_settings.assert_not_called()
    assert "open /rakuten settings again" in client.chat_postMessage.call_args.kwargs["text"]
