"""Each Slack user's language, from ``users.info`` with ``include_locale``, cached.

A click must be answered within 3 s, so the lookup is cached (an hour: people rarely change their Slack
language) and bounded; when Slack cannot say (error, timeout, a user the token cannot see), the caller falls
back to the bot's default language rather than failing the answer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

logger = logging.getLogger(__name__)

CACHE_SECONDS = 3600.0
CACHE_SIZE = 2000


class UserLocales:
    def __init__(
        self,
        client: WebClient,
        *,
        ttl: float = CACHE_SECONDS,
        size: int = CACHE_SIZE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._size = size
        self._monotonic = monotonic
        self._cache: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, user_id: str) -> str | None:
        """The user's Slack locale (``fr-FR``, ``en-US``…), or None when Slack does not say."""
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(user_id)
            if cached is not None and cached[0] > now:
                self._cache.move_to_end(user_id)
                return cached[1]
        locale = self._fetch(user_id)
        with self._lock:
            self._cache[user_id] = (now + self._ttl, locale)
            self._cache.move_to_end(user_id)
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return locale

    def _fetch(self, user_id: str) -> str | None:
        try:
            response = self._client.users_info(user=user_id, include_locale=True)
        except (SlackClientError, OSError) as error:
            logger.info("users.info for %s failed (%s): answering in the default language", user_id, error)
            return None
        user = response.get("user") or {}
        locale = user.get("locale")
        return locale if isinstance(locale, str) else None
