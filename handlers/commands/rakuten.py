"""``/rakuten SUBCOMMAND ...``: connect | status | orders | ship | settings | disconnect | help."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.ui.account_views import build_connect_modal, build_disconnect_confirmation, build_settings_modal
from bot.ui.messages import Message, help_message, not_allowed_message, unknown_subcommand_message
from bot.ui.refs import ConnectModalMetadata, SettingsModalMetadata
from handlers.deps import after_ack, bot_of


def rakuten_command(
    ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    sub, _, rest = (command.get("text") or "").strip().partition(" ")
    sub, rest = sub.lower(), rest.strip()
    user, channel, trigger = command["user_id"], command.get("channel_id"), command.get("trigger_id")
    bot = bot_of(context)

    if sub == "connect":
        decision = bot.accounts.may_connect(user)
        if not decision:
            ack(**not_allowed_message("connect a Rakuten account", decision.reason).as_kwargs())
            return
        ack()  # the modal's trigger_id lives 3 seconds: it opens right after the ack
        view = build_connect_modal(ConnectModalMetadata(channel))
        after_ack(context, command, respond, client, lambda: client.views_open(trigger_id=trigger, view=view))
        return
    if sub in ("settings", "disconnect"):
        _admin_command(sub, rest, user, trigger, ack, client, respond, context, command)
        return
    if sub == "ship":
        # Claimed (stored) before the ack, so a crash right after it loses no shipment.
        submission = bot.shipping.ship_command(user, rest)
        ack()

        def ship() -> None:
            answer = bot.shipping.start(submission)
            if answer:
                respond(text=answer, response_type="ephemeral")

        after_ack(context, command, respond, client, ship)
        return

    ack()

    def answer() -> None:
        if sub == "status":
            _reply(respond, bot.status.status())
        elif sub == "orders":
            _reply(respond, bot.status.orders(user))
        elif sub in ("", "help"):
            _reply(respond, help_message())
        else:
            _reply(respond, unknown_subcommand_message(sub))

    after_ack(context, command, respond, client, answer)


def _admin_command(
    sub: str,
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
    what = "change the settings" if sub == "settings" else "disconnect an account"
    decision = bot.permissions.admin_decision(user, what)
    if not decision:
        ack(**not_allowed_message(what, decision.reason).as_kwargs())
        return
    accounts = bot.accounts.accounts()
    chosen = [account for account in accounts if account.login == rest] if rest else accounts
    if len(chosen) != 1:
        names = ", ".join(account.login for account in accounts) or "none connected"
        ack(text=f"Name the account: `/rakuten {sub} LOGIN` (accounts: {names}).", response_type="ephemeral")
        return
    account = chosen[0]
    ack()
    if sub == "settings":
        view = build_settings_modal(account, SettingsModalMetadata(account.login))
        after_ack(context, command, respond, client, lambda: client.views_open(trigger_id=trigger, view=view))
        return

    def confirm() -> None:
        respond(
            text=f"Disconnect {account.login}?",
            blocks=[block.to_dict() for block in build_disconnect_confirmation(account.login)],
            response_type="ephemeral",
        )

    after_ack(context, command, respond, client, confirm)


def _reply(respond: Respond, message: Message) -> None:
    respond(response_type="ephemeral", **message.as_kwargs())
