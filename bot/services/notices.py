"""What services hand to Slack without writing it: the ports they post through, implemented by the UI
(``bot.ui.notices``) and wired by the composition root. Services decide what happened and to whom; the UI
says it, in the right language."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from bot.domain.accounts import AccountRecord, PollFailure


class Postable(Protocol):
    """A rendered message: the ``text``, ``blocks`` (and ``metadata``) kwargs of chat.postMessage / update."""

    def as_kwargs(self) -> dict[str, Any]: ...


class ChannelNotices(Protocol):
    """The notices the poller posts in an account's order channel. ``account`` is None when it could not be
    read (the store failing): the notice is then in the bot's default language."""

    def outage(
        self, account: AccountRecord | None, login: str, failure: PollFailure, since: datetime, failures: int
    ) -> Postable: ...

    def recovered(self, account: AccountRecord | None, login: str, down_since: datetime, now: datetime) -> Postable: ...

    def quota(self, account: AccountRecord | None, login: str, action: str, retry_at: datetime) -> Postable: ...
