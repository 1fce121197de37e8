"""``/rakuten SUBCOMMAND ...``: the subcommands of ``bot.subcommands`` (English names and French aliases)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.domain.sentences import said
from bot.subcommands import Sub, find_subcommand
from bot.ui.account_views import build_connect_modal, build_disconnect_confirmation, build_settings_modal
from bot.ui.messages import (
    Message,
    account_choice_message,
    answer_message,
    help_message,
    not_allowed_message,
    unknown_subcommand_message,
)
from bot.ui.refs import ConnectModalMetadata, SettingsModalMetadata
from handlers.deps import after_ack, bot_of


def rakuten_command(
    ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    word, _, rest = (command.get("text") or "").strip().partition(" ")
    sub, rest = find_subcommand(word), rest.strip()
    user, channel, trigger = command["user_id"], command.get("channel_id"), command.get("trigger_id")
    bot = bot_of(context)
    t = bot.languages.user(user)

    if sub is Sub.CONNECT:
        decision = bot.accounts.may_connect(user)
        if not decision:
            ack(
                response_type="ephemeral",
                **not_allowed_message(t, said("connect a Rakuten account"), decision.reason or "").as_kwargs(),
            )
            return
        ack()  # the modal's trigger_id lives 3 seconds: it opens right after the ack
        view = build_connect_modal(t, ConnectModalMetadata(channel))
        after_ack(context, command, respond, client, lambda: client.views_open(trigger_id=trigger, view=view))
        return
    if sub in (Sub.SETTINGS, Sub.DISCONNECT):
        _admin_command(sub, rest, user, trigger, ack, client, respond, context, command)
        return
    if sub is Sub.SHIP:
        # Claimed (stored) before the ack, so a crash right after it loses no shipment.
        submission = bot.shipping.ship_command(user, rest)
        ack()

        def ship() -> None:
            answer = bot.shipping.start(submission)
            if answer:
                _reply(respond, answer_message(t, answer))

        after_ack(context, command, respond, client, ship)
        return

    ack()

    def answer() -> None:
        if sub is Sub.STATUS:
            _reply(respond, bot.screens.status(user))
        elif sub is Sub.ORDERS:
            _reply(respond, bot.screens.orders(user))
        elif sub is Sub.HELP:
            _reply(respond, help_message(t))
        else:
            _reply(respond, unknown_subcommand_message(t, word.lower()))

    after_ack(context, command, respond, client, answer)


def _admin_command(
    sub: Sub,
    rest: str,
    user: str,
    trigger: str | None,
    ack: Ack,
    client: WebClient,
    respond: Respond,
    context: BoltContext,
    command: dict[str, Any],
) -> None:
    bot = bot_of(context)
    t = bot.languages.user(user)
    what = said("change the settings") if sub is Sub.SETTINGS else said("disconnect an account")
    decision = bot.permissions.admin_decision(user, what)
    if not decision:
        ack(response_type="ephemeral", **not_allowed_message(t, what, decision.reason or "").as_kwargs())
        return
    accounts = bot.accounts.accounts()
    chosen = [account for account in accounts if account.login == rest] if rest else accounts
    if len(chosen) != 1:
        ack(response_type="ephemeral", **account_choice_message(t, sub.value, [a.login for a in accounts]).as_kwargs())
        return
    account = chosen[0]
    ack()
    if sub is Sub.SETTINGS:
        view = build_settings_modal(
            t, account, SettingsModalMetadata(account.login), default_language=bot.languages.default
        )
        after_ack(context, command, respond, client, lambda: client.views_open(trigger_id=trigger, view=view))
        return

    def confirm() -> None:
        respond(
            text=t.gettext("Disconnect {login}?", login=account.login),
            blocks=[block.to_dict() for block in build_disconnect_confirmation(t, account.login)],
            response_type="ephemeral",
        )

    after_ack(context, command, respond, client, confirm)


def _reply(respond: Respond, message: Message) -> None:
    respond(response_type="ephemeral", **message.as_kwargs())
