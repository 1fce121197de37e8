"""Whether Slack takes the bot's tokens and reaches its channel: the Slack half of ``run``'s start-up checks and
of ``rakuten-bot check``.

Every failure becomes ``SlackSetupError`` with one line naming the variable, Slack's own error code and what to
do, so that an operator's mistake never ends in a traceback.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin.client import SocketModeClient

from bot.errors import BotError

# The one wait of the Socket Mode probe: Slack greets a new connection with "hello" at once.
HELLO_TIMEOUT = 10.0

_BOT_TOKEN_ADVICE = (
    "copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page into SLACK_BOT_TOKEN "
    "(reinstall the app to the workspace if it was uninstalled)"
)
_APP_TOKEN_ADVICE = (
    "create an app-level token with connections:write (the app's Basic Information > App-Level Tokens), "
    "check that Socket Mode is enabled (Settings > Socket Mode) and set SLACK_APP_TOKEN to the token; "
    "or unset SLACK_APP_TOKEN to run in HTTP mode"
)


class _OnlyWhenDebugging(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return logging.getLogger().isEnabledFor(logging.DEBUG)


# The SDK's own lines about the probe's socket repeat what SlackSetupError says: they show at DEBUG only.
_sdk_logger = logging.getLogger(__name__ + ".socket_mode")
_sdk_logger.addFilter(_OnlyWhenDebugging())


class SlackSetupError(BotError):
    """Slack refused a token or is out of reach; the message is one line with what to do."""


@dataclass(frozen=True, slots=True)
class BotIdentity:
    team: str
    user: str  # the bot's user name, as /invite wants it
    user_id: str
    scopes: frozenset[str]  # empty when Slack did not say (x-oauth-scopes)


def verify_bot_token(client: WebClient, api_url: str) -> BotIdentity:
    """``auth.test`` with SLACK_BOT_TOKEN."""
    try:
        response = client.auth_test()
    except SlackApiError as error:
        code = _error_code(error)
        raise SlackSetupError(f"Slack refused SLACK_BOT_TOKEN ({code}): {_BOT_TOKEN_ADVICE}.") from None
    except OSError as error:
        raise SlackSetupError(unreachable_problem(api_url, error)) from None
    scopes = response.headers.get("x-oauth-scopes") or ""
    return BotIdentity(
        team=str(response.get("team") or ""),
        user=str(response.get("user") or ""),
        user_id=str(response.get("user_id") or ""),
        scopes=frozenset(scope.strip() for scope in scopes.split(",") if scope.strip()),
    )


def verify_app_token(client: WebClient, app_token: str, api_url: str) -> None:
    """``apps.connections.open`` with SLACK_APP_TOKEN: what Socket Mode asks Slack first. The address it
    returns is left unused (it expires on its own)."""
    try:
        client.apps_connections_open(app_token=app_token)
    except SlackApiError as error:
        raise SlackSetupError(app_token_problem(_error_code(error))) from None
    except OSError as error:
        raise SlackSetupError(unreachable_problem(api_url, error)) from None


def app_token_problem(code: str) -> str:
    return f"Slack refused to open a Socket Mode connection with SLACK_APP_TOKEN ({code}): {_APP_TOKEN_ADVICE}."


def probe_socket_mode(client: WebClient, app_token: str, api_url: str, *, timeout: float = HELLO_TIMEOUT) -> None:
    """Open a Socket Mode connection as ``run`` does, wait for Slack's "hello" on it, and close it."""
    greeted, settled = threading.Event(), threading.Event()
    errors: list[Exception] = []

    def on_message(raw: str) -> None:
        try:
            hello = json.loads(raw).get("type") == "hello"
        except (ValueError, AttributeError):
            return
        if hello:
            greeted.set()
            settled.set()

    def on_error(error: Exception) -> None:
        errors.append(error)
        settled.set()

    socket_client = SocketModeClient(
        app_token=app_token,
        web_client=client,
        logger=_sdk_logger,
        auto_reconnect_enabled=False,
        on_message_listeners=[on_message],
        on_error_listeners=[on_error],
    )
    try:
        socket_client.connect()
        settled.wait(timeout)
        if not greeted.is_set():
            reason = f"{type(errors[0]).__name__}: {errors[0]}" if errors else f"no hello within {timeout:g} s"
            raise SlackSetupError(
                f"Slack gave a Socket Mode address, but the connection to it failed ({reason}): check that this "
                "machine may open outgoing WebSocket connections (wss://, port 443), through HTTPS_PROXY if one is "
                "needed."
            )
    except SlackApiError as error:
        raise SlackSetupError(app_token_problem(_error_code(error))) from None
    except OSError as error:
        raise SlackSetupError(unreachable_problem(api_url, error)) from None
    finally:
        socket_client.close()


def channel_problem(client: WebClient, channel_id: str, bot: BotIdentity, *, variable: str) -> str | None:
    """Whether cards can go to ``channel_id``: it exists, is not archived, and has the bot in it."""
    try:
        response = client.conversations_info(channel=channel_id)
    except SlackApiError as error:
        code = _error_code(error)
        if code == "channel_not_found":
            return (
                f"{variable} {channel_id} was not found: copy the ID from the channel's details (C… or G…); a "
                f"private channel is only found once the bot is in it (/invite @{bot.user})."
            )
        if code == "missing_scope":
            needed = error.response.get("needed") or "channels:read, groups:read"
            return f"Cannot look at {variable} {channel_id}: the app lacks {needed}; add it (app.yaml) and reinstall."
        return f"Cannot look at {variable} {channel_id}: Slack answered {code}."
    except OSError as error:
        return f"Cannot look at {variable} {channel_id}: {type(error).__name__}."
    channel = response.get("channel") or {}
    name = f"#{channel['name']}" if channel.get("name") else channel_id
    if channel.get("is_archived"):
        return f"{variable} {channel_id} ({name}) is archived: unarchive it, or choose another channel."
    if not channel.get("is_member"):
        return f"The bot is not in {variable} {channel_id} ({name}): invite it there with /invite @{bot.user}."
    return None


def _error_code(error: SlackApiError) -> str:
    response = error.response
    code = response.get("error") if response is not None else None
    return str(code or "unknown error")


def unreachable_problem(api_url: str, error: OSError) -> str:
    return (
        f"Cannot reach Slack at {api_url} ({type(error).__name__}): check this machine's network access to "
        "Slack, HTTPS_PROXY if one is needed, and SLACK_API_URL."
    )
