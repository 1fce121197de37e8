"""Links to the bot's own messages (``chat.getPermalink``), for the daily summary's links to order cards.

Slack's documented way to link a message: its URL form is Slack's to change, so it is asked, not built. A card's
link never changes, so each is asked once per process; a link Slack cannot give is left out (the order is still
named), never a reason to hold the summary back.
"""

from __future__ import annotations

import logging
import threading
from http.client import HTTPException

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

logger = logging.getLogger(__name__)

_CACHE_MAX = 5000


class Permalinks:
    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._known: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def __call__(self, channel: str, ts: str) -> str | None:
        key = (channel, ts)
        with self._lock:
            if key in self._known:
                return self._known[key]
        try:
            answer = self._client.chat_getPermalink(channel=channel, message_ts=ts)
        except (SlackApiError, OSError, HTTPException) as error:
            logger.debug("no permalink for message %s in %s: %s", ts, channel, error)
            return None
        link = answer.get("permalink")
        if not isinstance(link, str) or not link:
            return None
        with self._lock:
            if len(self._known) >= _CACHE_MAX:
                self._known.clear()  # a long-running bot's old cards: asking again costs one call each
            self._known[key] = link
        return link
