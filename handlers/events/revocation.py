"""``tokens_revoked`` and ``app_uninstalled``: the workspace took the bot's Slack access away.

No Slack call here (the token is dead): the service stops polling and closes the bot's Slack client, all in
memory, well within the event's 3-second deadline.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext

from handlers.deps import bot_of


def tokens_revoked(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    tokens = event.get("tokens") or {}
    bot_of(context).slack_access.tokens_revoked(body.get("team_id"), tokens.get("bot") or [])


def app_uninstalled(body: dict[str, Any], context: BoltContext) -> None:
    bot_of(context).slack_access.app_uninstalled(body.get("team_id"))
