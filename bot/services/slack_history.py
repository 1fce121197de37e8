"""Reading back what the bot posted, by message metadata: how a restart learns that a reminder or a daily summary
went out just before a crash (the store had claimed it but not recorded it posted)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from http.client import HTTPException
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.errors import BotError
from bot.slack.poster import no_answer

_PAGE = 200


class HistoryReadError(BotError):
    """Slack's history could not be read: whether something was already posted is unknown, so nothing is."""


@dataclass(frozen=True, slots=True)
class MarkedMessage:
    ts: str
    payload: dict[str, Any]


def marked_in_channel(client: WebClient, channel: str, *, event_type: str, oldest: datetime) -> Iterator[MarkedMessage]:
    """The channel's top-level messages since ``oldest`` that carry metadata of ``event_type``."""
    return _marked(
        lambda cursor: client.conversations_history(
            channel=channel,
            oldest=f"{oldest.timestamp():.6f}",
            include_all_metadata=True,
            limit=_PAGE,
            cursor=cursor,
        ),
        channel,
        event_type,
    )


def marked_in_thread(
    client: WebClient, channel: str, thread_ts: str, *, event_type: str, oldest: datetime
) -> Iterator[MarkedMessage]:
    """The replies in the thread of ``thread_ts`` since ``oldest`` that carry metadata of ``event_type``."""
    return _marked(
        lambda cursor: client.conversations_replies(
            channel=channel,
            ts=thread_ts,
            oldest=f"{oldest.timestamp():.6f}",
            include_all_metadata=True,
            limit=_PAGE,
            cursor=cursor,
        ),
        channel,
        event_type,
    )


def _marked(fetch: Callable[[str | None], SlackResponse], channel: str, event_type: str) -> Iterator[MarkedMessage]:
    cursor: str | None = None
    while True:
        try:
            response = fetch(cursor)
        except (SlackApiError, OSError, HTTPException) as error:  # refused, or no answer at all
            raise HistoryReadError(f"cannot read the history of channel {channel} ({_code(error)})") from None
        for message in response.get("messages", []):
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == event_type:
                yield MarkedMessage(ts=message["ts"], payload=metadata.get("event_payload") or {})
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return


def _code(error: SlackApiError | OSError | HTTPException) -> str:
    if not isinstance(error, SlackApiError):
        return no_answer(error)
    return error.response.get("error", "unknown_error") if error.response is not None else "unknown_error"
