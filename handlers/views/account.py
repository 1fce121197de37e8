"""Connect and settings modals' submissions (admins only; the services check again)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.domain.sentences import said
from bot.services.accounts import ConnectResult
from bot.slack.notify import tell_privately
from bot.slack.poster import SlackWriteError
from bot.ui.account_views import connect_errors, read_connect_submission, read_settings_submission, settings_errors
from bot.ui.messages import (
    answer_message,
    cannot_post_message,
    connected_message,
    form_lost_message,
    not_allowed_message,
)
from handlers.deps import after_ack, bot_of

if TYPE_CHECKING:
    from bot.app import AppContext


def submit_connect(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    user = body["user"]["id"]
    bot = bot_of(context)
    form = read_connect_submission(view)
    channel = form.metadata.channel_id if form.metadata else None
    # Checked against Rakuten before the ack, so that a bad pair shows on the token field.
    result = bot.accounts.connect(user, form.credentials, channel_id=channel)
    if result.field_errors:
        ack(response_action="errors", errors=connect_errors(bot.languages.user(user), **result.field_errors))
        return
    ack()
    after_ack(context, body, respond, client, lambda: _announce_connection(bot, client, user, channel, result))


def _announce_connection(
    bot: AppContext, client: WebClient, user: str, channel: str | None, result: ConnectResult
) -> None:
    if result.account is None:
        t = bot.languages.user(user)
        refusal = not_allowed_message(t, said("connect a Rakuten account"), result.refusal or said("unknown account"))
        tell_privately(client, user, channel, refusal)
        return
    account = result.account
    t = bot.languages.channel(account.settings.language)
    try:
        bot.poster.post(account.channel_id, **connected_message(t, account.login, account.channel_id).as_kwargs())
    except SlackWriteError as error:
        tell_privately(
            client,
            user,
            None,
            cannot_post_message(bot.languages.user(user), account.login, account.channel_id, error.error),
        )


def submit_settings(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    user = body["user"]["id"]
    form = read_settings_submission(view)
    bot = bot_of(context)
    t = bot.languages.user(user)
    if form.problems():
        ack(response_action="errors", errors=settings_errors(t, form))
        return
    ack()

    def save() -> None:
        if form.account_login is None:
            tell_privately(client, user, None, form_lost_message(t))
            return
        answer = bot.accounts.update_settings(user, form.account_login, form)
        tell_privately(client, user, form.channel_id, answer_message(t, answer))

    after_ack(context, body, respond, client, save)
