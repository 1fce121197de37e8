"""Telling one person something privately, wherever Slack lets us."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

logger = logging.getLogger(__name__)


class Postable(Protocol):
    """A rendered message: the ``text``, ``blocks`` (and ``metadata``) kwargs of chat.postMessage / update."""

    def as_kwargs(self) -> dict[str, Any]: ...


def tell_privately(client: WebClient, user: str, channel: str | None, message: Postable) -> bool:
    """An ephemeral message in ``channel``, or a direct message when that fails (the user is not a member).

    Nobody is told when the actor is not a person (the poller's auto-accept, the environment).
    """
    if not user or not user.startswith(("U", "W")):
        return False
    if channel is not None:
        try:
            client.chat_postEphemeral(channel=channel, user=user, **message.as_kwargs())
            return True
        except SlackApiError:
            pass
    try:
        client.chat_postMessage(channel=user, **message.as_kwargs())
    except SlackApiError as error:
        logger.warning("could not tell %s: %s", user, error.response.get("error"))
        return False
    return True
