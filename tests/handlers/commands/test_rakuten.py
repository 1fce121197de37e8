from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest.mock import Mock

import pytest
from slack_bolt import BoltContext
from slack_sdk.models.views import View

from bot.constants import ACTION_DISCONNECT_CONFIRM, VIEW_CONNECT, VIEW_SETTINGS
from bot.domain.orders import PendingKind
from bot.domain.sentences import said
from bot.services.item_actions import Claim, Submission
from bot.services.permissions import Decision
from bot.ui.messages import Message, answer_message, notice
from bot.ui.refs import ConnectModalMetadata, SettingsModalMetadata
from handlers.commands.rakuten import rakuten_command
from tests.handlers.conftest import ADMIN, CHANNEL, LOGIN, TRIGGER, USER, account, first_call_name
from tests.i18n import EN


def command(text: str, *, user: str = USER) -> dict[str, Any]:
    return {
        "command": "/rakuten",
        "text": text,
        "user_id": user,
        "channel_id": CHANNEL,
        "trigger_id": TRIGGER,
        "response_url": "https://hooks.slack.test/commands/1",
    }


def run(text: str, ack: Mock, context: BoltContext, client: Mock, respond: Mock, *, user: str = USER) -> None:
    rakuten_command(ack=ack, command=command(text, user=user), context=context, client=client, respond=respond)


def opened_view(client: Mock) -> View:
    client.views_open.assert_called_once()
    assert client.views_open.call_args.kwargs["trigger_id"] == TRIGGER
    return client.views_open.call_args.kwargs["view"]


# --- connect -----------------------------------------------------------------------------------------


def test_connect_acks_then_opens_the_modal_for_the_channel_it_ran_in(
    ack: Mock, respond: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace, calls: Mock
) -> None:
    bot.accounts.may_connect.return_value = Decision(True)

    run("connect", ack, context, client, respond, user=ADMIN)

    bot.accounts.may_connect.assert_called_once_with(ADMIN)
    ack.assert_called_once_with()
    view = opened_view(client)
    assert view.callback_id == VIEW_CONNECT
    assert ConnectModalMetadata.decode(view.private_metadata) == ConnectModalMetadata(CHANNEL)
    names = [name for name, *_ in calls.mock_calls]
    assert names.index("ack") < names.index("client.views_open")
    respond.assert_not_called()


def test_connect_refused_is_explained_in_the_ack_and_opens_nothing(
    ack: Mock, respond: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace
) -> None:
    bot.accounts.may_connect.return_value = Decision(False, "Only the bot's admins can connect an account.")

    run("connect", ack, context, client, respond)

    ack.assert_called_once()
    assert "can't connect a Rakuten account: Only the bot's admins" in ack.call_args.kwargs["text"]
    assert ack.call_args.kwargs["blocks"]
    client.views_open.assert_not_called()


# --- status, orders, ship, help ------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "service"), [("status", "status"), ("STATUS", "status"), ("orders", "orders")])
def test_status_and_orders_ack_first_then_answer_privately(
    ack: Mock,
    respond: Mock,
    client: Mock,
    context: BoltContext,
    bot: SimpleNamespace,
    calls: Mock,
    text: str,
    service: str,
) -> None:
    answer = notice("Rakuten status: 1 account, all healthy")
    getattr(bot.screens, service).return_value = answer

    run(text, ack, context, client, respond)

    assert first_call_name(calls) == "ack"
    ack.assert_called_once_with()
    respond.assert_called_once_with(response_type="ephemeral", **answer.as_kwargs())
    if service == "orders":
        bot.screens.orders.assert_called_once_with(USER)


def test_ship_claims_with_everything_after_the_subcommand_before_the_ack_then_sends(
    ack: Mock, respond: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace, calls: Mock
) -> None:
    submission = Submission(
        "Sending Mondial Relay 12345678 to Rakuten for order 480000001 (1 item).",
        Claim(LOGIN, "480000001", PendingKind.SHIP, ("9001",)),
    )
    bot.shipping.ship_command.return_value = submission
    bot.shipping.start.return_value = submission.answer

    run('ship   480000001 "Mondial Relay" 12345678  ', ack, context, client, respond)

    # Stored before Slack hears back: a crash right after the ack loses no shipment.
    assert [name for name, *_ in calls.mock_calls][:3] == ["shipping.ship_command", "ack", "shipping.start"]
    bot.shipping.ship_command.assert_called_once_with(USER, '480000001 "Mondial Relay" 12345678')
    bot.shipping.start.assert_called_once_with(submission)
    sent = "Sending Mondial Relay 12345678 to Rakuten for order 480000001 (1 item)."
    respond.assert_called_once_with(response_type="ephemeral", **answer_message(EN, said(sent)).as_kwargs())


@pytest.mark.parametrize("text", ["", "help", "  Help "])
def test_help_answers_with_the_usage(ack: Mock, respond: Mock, client: Mock, context: BoltContext, text: str) -> None:
    run(text, ack, context, client, respond)

    ack.assert_called_once_with()
    kwargs = respond.call_args.kwargs
    assert kwargs["response_type"] == "ephemeral"
    assert "/rakuten ship ORDER CARRIER TRACKING [URL]" in kwargs["blocks"][0]["text"]["text"]


def test_an_unknown_subcommand_gets_the_usage_and_no_service_is_called(
    ack: Mock, respond: Mock, client: Mock, context: BoltContext, calls: Mock
) -> None:
    run("frobnicate now", ack, context, client, respond)

    ack.assert_called_once_with()
    kwargs = respond.call_args.kwargs
    assert "I don't know `/rakuten frobnicate`" in kwargs["blocks"][0]["text"]["text"]
    assert [name for name, *_ in calls.mock_calls] == ["ack", "respond"]


# --- settings and disconnect (admins) --------------------------------------------------------------------


@pytest.mark.parametrize("sub", ["settings", "disconnect"])
def test_admin_subcommands_refuse_non_admins_in_the_ack(
    ack: Mock, respond: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace, sub: str
) -> None:
    bot.permissions.admin_decision.return_value = Decision(False, "Only the bot's admins can do that.")

    run(sub, ack, context, client, respond)

    what = "change the settings" if sub == "settings" else "disconnect an account"
    bot.permissions.admin_decision.assert_called_once_with(USER, said(what))
    assert f"can't {what}" in ack.call_args.kwargs["text"]
    client.views_open.assert_not_called()
    respond.assert_not_called()
    bot.accounts.accounts.assert_not_called()


def test_settings_opens_the_modal_of_the_only_account(
    ack: Mock, respond: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace, calls: Mock
) -> None:
    bot.permissions.admin_decision.return_value = Decision(True)
    bot.accounts.accounts.return_value = [account()]

    run("settings", ack, context, client, respond, user=ADMIN)

    ack.assert_called_once_with()
    view = opened_view(client)
    assert view.callback_id == VIEW_SETTINGS
    assert SettingsModalMetadata.decode(view.private_metadata) == SettingsModalMetadata(LOGIN)
    names = [name for name, *_ in calls.mock_calls]
    assert names.index("ack") < names.index("client.views_open")


def test_with_several_accounts_the_admin_must_name_one(
    ack: Mock, respond: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace
) -> None:
    bot.permissions.admin_decision.return_value = Decision(True)
    bot.accounts.accounts.return_value = [account("shop-a"), account("shop-b")]

    run("settings", ack, context, client, respond, user=ADMIN)
    assert ack.call_args.kwargs["text"] == "Name the account: `/rakuten settings LOGIN` (accounts: shop-a, shop-b)."
    assert ack.call_args.kwargs["response_type"] == "ephemeral"
    client.views_open.assert_not_called()

    ack.reset_mock()
    run("settings shop-b", ack, context, client, respond, user=ADMIN)
    ack.assert_called_once_with()
    assert SettingsModalMetadata.decode(opened_view(client).private_metadata) == SettingsModalMetadata("shop-b")


def test_disconnect_with_no_account_says_none_is_connected(
    ack: Mock, respond: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace
) -> None:
    bot.permissions.admin_decision.return_value = Decision(True)
    bot.accounts.accounts.return_value = []

    run("disconnect", ack, context, client, respond, user=ADMIN)

    assert "none connected" in ack.call_args.kwargs["text"]
    bot.accounts.disconnect.assert_not_called()


def test_disconnect_asks_for_confirmation_and_removes_nothing_yet(
    ack: Mock, respond: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace, calls: Mock
) -> None:
    bot.permissions.admin_decision.return_value = Decision(True)
    bot.accounts.accounts.return_value = [account()]

    run("disconnect", ack, context, client, respond, user=ADMIN)

    ack.assert_called_once_with()
    names = [name for name, *_ in calls.mock_calls]
    assert names.index("ack") < names.index("respond")
    kwargs = respond.call_args.kwargs
    assert kwargs["text"] == f"Disconnect {LOGIN}?"
    assert kwargs["response_type"] == "ephemeral"
    buttons = [element for block in kwargs["blocks"] for element in block.get("elements", [])]
    assert [(b["action_id"], b["value"]) for b in buttons] == [(ACTION_DISCONNECT_CONFIRM, LOGIN)]
    assert "confirm" in buttons[0]
    bot.accounts.disconnect.assert_not_called()


def test_no_answer_ever_holds_a_token(
    ack: Mock, respond: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace
) -> None:
    bot.permissions.admin_decision.return_value = Decision(True)
    bot.accounts.accounts.return_value = [account(token_ciphertext="gAAAA-very-secret")]
    bot.screens.status.return_value = Message(text="status", blocks=[])

    for text in ("settings", "disconnect", "status"):
        run(text, ack, context, client, respond, user=ADMIN)

    assert "very-secret" not in repr([*ack.mock_calls, *respond.mock_calls, *client.mock_calls])
