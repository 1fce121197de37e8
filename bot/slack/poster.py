"""One paced sender for every message the bot writes to a channel.

Slack allows about one message per second per channel (short bursts tolerated, then dropped), so every
``chat.postMessage`` / ``chat.update`` goes through here: calls to one channel are spaced by ``interval``
and a 429 is waited out for its ``Retry-After``. The WebClient's own ``RateLimitErrorRetryHandler`` takes the
first 429s; this class takes over when that handler has given up, so a long rate-limit never loses a card.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.errors import BotError
from bot.slack.access import GatedWebClient, SlackAccessGate

logger = logging.getLogger(__name__)


def build_web_client(
    token: str,
    base_url: str,
    *,
    rate_limit_retries: int = 2,
    timeout: int = 15,
    gate: SlackAccessGate | None = None,
) -> WebClient:
    """The WebClient the whole app shares (Bolt copies its base URL and retry handlers per request); with a
    ``gate``, it stops calling Slack once the bot's access is revoked (``bot.slack.access``)."""
    if gate is None:
        client = WebClient(token=token, base_url=base_url, timeout=timeout)
    else:
        client = GatedWebClient(token=token, base_url=base_url, timeout=timeout, gate=gate)
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
        ServerErrorRetryHandler(max_retry_count=2),
    ]
    return client


@dataclass(frozen=True, slots=True)
class PostedMessage:
    channel: str
    ts: str


class SlackWriteError(BotError):
    """A chat write that failed for good (not a rate limit); ``error`` is Slack's error code."""

    def __init__(self, method: str, error: str) -> None:
        super().__init__(f"Slack {method} failed: {error}")
        self.method = method
        self.error = error


def without_blind_retries(client: WebClient) -> WebClient:
    """A copy of ``client`` that retries rate limits only (a 429: Slack did nothing). A dropped connection or a 5xx
    after a write may come after Slack carried it out: a blind retry would post it twice. Writes that must happen
    once settle such a failure themselves, from Slack's history (reminders, daily summaries)."""
    once = copy.copy(client)
    handlers = client.retry_handlers or []
    once.retry_handlers = [handler for handler in handlers if isinstance(handler, RateLimitErrorRetryHandler)]
    return once


class SlackPoster:
    def __init__(
        self,
        client: WebClient,
        *,
        interval: float = 1.0,
        max_rate_limit_waits: int = 6,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._once_client: WebClient | None = None  # made on first use: most posts are cards, blindly retried
        self._interval = interval
        self._max_rate_limit_waits = max_rate_limit_waits
        self._clock = clock
        self._guard = threading.Lock()
        self._channel_locks: dict[str, threading.Lock] = {}
        self._next_allowed: dict[str, float] = {}
        self._closing = threading.Event()

    @property
    def client(self) -> WebClient:
        return self._client

    def post(self, channel: str, *, thread_ts: str | None = None, once: bool = False, **message: Any) -> PostedMessage:
        """``once``: no blind retry after a lost answer (``without_blind_retries``); the caller settles it."""
        client = self._client
        if once:
            if self._once_client is None:
                self._once_client = without_blind_retries(self._client)
            client = self._once_client
        response = self._paced(
            channel,
            "chat.postMessage",
            lambda: client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message),
        )
        return PostedMessage(channel=response["channel"], ts=response["ts"])

    def update(self, channel: str, ts: str, **message: Any) -> None:
        self._paced(channel, "chat.update", lambda: self._client.chat_update(channel=channel, ts=ts, **message))

    def close(self) -> None:
        """Stop waiting: a pending pace or Retry-After wait ends at once with the error it would have raised."""
        self._closing.set()

    def _paced(self, channel: str, method: str, call: Callable[[], Any]) -> Any:
        with self._lock_for(channel):
            waits = 0
            while True:
                self._wait(self._next_allowed.get(channel, 0.0) - self._clock())
                if waits and self._closing.is_set():
                    raise SlackWriteError(method, "ratelimited")  # shutting down: no last try after a cut wait
                try:
                    response = call()
                except (OSError, HTTPException) as error:  # no answer at all (after the client's own retries)
                    self._next_allowed[channel] = self._clock() + self._interval
                    raise SlackWriteError(method, no_answer(error)) from error
                except SlackApiError as error:
                    self._next_allowed[channel] = self._clock() + self._interval
                    retry_after = _retry_after(error)
                    if retry_after is None:
                        raise SlackWriteError(method, _error_code(error)) from None
                    waits += 1
                    if waits > self._max_rate_limit_waits or self._closing.is_set():
                        raise SlackWriteError(method, "ratelimited") from None
                    logger.warning("Slack %s rate-limited on %s; waiting %.1fs", method, channel, retry_after)
                    self._next_allowed[channel] = self._clock() + retry_after
                    continue
                self._next_allowed[channel] = self._clock() + self._interval
                return response

    def _lock_for(self, channel: str) -> threading.Lock:
        with self._guard:
            return self._channel_locks.setdefault(channel, threading.Lock())

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._closing.wait(seconds)


def no_answer(error: OSError | HTTPException) -> str:
    """Why Slack could not be reached, in a few words (urllib wraps the socket's error in ``reason``)."""
    reason = getattr(error, "reason", None) or error
    if isinstance(reason, OSError) and reason.strerror:
        return f"no answer from Slack ({reason.strerror})"
    return f"no answer from Slack ({str(reason) or type(reason).__name__})"


def _retry_after(error: SlackApiError) -> float | None:
    response = error.response
    if getattr(response, "status_code", None) != 429:
        return None
    headers = getattr(response, "headers", None) or {}
    raw = headers.get("Retry-After") or headers.get("retry-after") or "1"
    if isinstance(raw, list):
        raw = raw[0] if raw else "1"
    try:
        return max(float(raw), 0.0)
    except ValueError:
        return 1.0


def _error_code(error: SlackApiError) -> str:
    try:
        return str(error.response["error"])
    except (KeyError, TypeError):
        return "unknown_error"
