"""The stand-in's in-memory Slack workspace: channels, users, messages, views, recorded calls and faults.

`Workspace` is plain state plus the small operations the Web API methods share (finding a channel the bot
token may see, stamping a `ts`, storing a view). It does no locking of its own: the HTTP server and
`SlackStandIn` hold `lock` around every use, so one request sees and leaves the workspace consistent.
"""

from __future__ import annotations

import copy
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

JsonDict = dict[str, Any]

# Every scope a method served here can need; tests narrow this to check the app asks for what it uses.
DEFAULT_SCOPES: tuple[str, ...] = (
    "chat:write",
    "chat:write.public",
    "commands",
    "channels:read",
    "channels:history",
    "groups:read",
    "groups:history",
    "im:read",
    "im:history",
    "users:read",
    "usergroups:read",
)

TRIGGER_LIFETIME_SECONDS = 3.0


class Refusal(Exception):
    """A Slack-style refusal: becomes `{"ok": false, "error": error, **extra}`."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass(frozen=True)
class ApiCall:
    """One Web API request as the stand-in received it (the token is never kept)."""

    method: str
    params: JsonDict
    at: float
    status: int


@dataclass
class StoredMessage:
    """A message in a channel as it currently stands; `history` holds every version, oldest first."""

    channel: str
    ts: str
    text: str
    blocks: list[JsonDict]
    metadata: JsonDict | None
    thread_ts: str | None
    user: str
    bot_id: str = ""
    team: str = ""
    attachments: list[JsonDict] = field(default_factory=list)
    updated: int = 0
    edited_ts: str | None = None
    history: list[JsonDict] = field(default_factory=list)

    def as_payload(self, *, include_metadata: bool = True) -> JsonDict:
        """The message object as Slack returns it in API answers and interaction payloads."""
        payload: JsonDict = {
            "type": "message",
            "user": self.user,
            "bot_id": self.bot_id,
            "team": self.team,
            "text": self.text,
            "ts": self.ts,
            "blocks": copy.deepcopy(self.blocks),
        }
        if self.attachments:
            payload["attachments"] = copy.deepcopy(self.attachments)
        if self.thread_ts:
            payload["thread_ts"] = self.thread_ts
        if self.edited_ts:
            payload["edited"] = {"user": self.user, "ts": self.edited_ts}
        if include_metadata and self.metadata is not None:
            payload["metadata"] = copy.deepcopy(self.metadata)
        return payload

    def _snapshot(self) -> JsonDict:
        return {
            "text": self.text,
            "blocks": copy.deepcopy(self.blocks),
            "attachments": copy.deepcopy(self.attachments),
            "metadata": copy.deepcopy(self.metadata),
        }


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool
    is_im: bool
    members: list[str]
    bot_is_member: bool
    created: int


@dataclass(frozen=True)
class User:
    id: str
    name: str
    real_name: str
    is_admin: bool
    is_owner: bool
    is_bot: bool
    locale: str = "en-US"  # what users.info says with include_locale, as Slack's language setting


@dataclass
class Trigger:
    issued_at: float
    view_id: str | None
    used: bool = False


@dataclass
class ResponseUrl:
    channel: str
    user: str | None
    message_ts: str | None
    issued_at: float
    uses: int = 0


@dataclass(frozen=True)
class Fault:
    # "pass": a call that goes through before the faults behind it; "hold": carried out, its answer held back
    # until the test releases it (``hold`` below), as when a process dies between a call and its answer.
    kind: Literal["rate_limit", "error", "pass", "hold"]
    error: str = ""
    retry_after: int = 0
    hold: Hold | None = None


class Hold:
    """A call carried out whose answer waits: ``carried_out`` is set once Slack did it, ``release()`` lets the
    answer go (it also goes by itself after ``timeout`` seconds, so a forgotten hold never hangs a test run).
    ``drop``: the answer never comes, the connection closes instead (a network cut after Slack did it)."""

    def __init__(self, timeout: float = 30.0, *, drop: bool = False) -> None:
        self.carried_out = threading.Event()
        self.drop = drop
        self._released = threading.Event()
        self._timeout = timeout

    def release(self) -> None:
        self._released.set()

    def wait_for_release(self) -> None:
        self._released.wait(self._timeout)


class Workspace:
    """One Slack workspace as the bot token sees it; callers hold `lock` (see the module docstring)."""

    def __init__(
        self,
        *,
        bot_token: str,
        team_id: str,
        bot_user_id: str,
        clock: Callable[[], float],
        scopes: Iterable[str],
        bot_id: str,
        app_id: str,
        team_domain: str,
    ) -> None:
        self.bot_token = bot_token
        self.token_revoked = False  # uninstalled or revoked: Slack answers token_revoked to the bot token
        self.offline = False  # Web API calls get no answer: the connection closes (a network cut, an outage)
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.team_domain = team_domain
        self.scopes: tuple[str, ...] = tuple(scopes)
        self.clock = clock
        self.lock = threading.RLock()
        # Signalled after every change, so `SlackStandIn.wait_for` re-checks at once rather than by polling.
        self.changed = threading.Condition(self.lock)
        self.version = 0
        self.calls: list[ApiCall] = []
        self.faults: dict[str, deque[Fault]] = {}
        self.channels: dict[str, Channel] = {}
        bot_user = User(bot_user_id, "rakuten-bot", "Rakuten Orders", is_admin=False, is_owner=False, is_bot=True)
        self.users: dict[str, User] = {bot_user_id: bot_user}
        self.usergroups: dict[str, tuple[list[str], str]] = {}
        self.messages: dict[str, list[StoredMessage]] = {}
        self.ephemerals: list[JsonDict] = []
        self.responses: list[JsonDict] = []
        self.response_urls: dict[str, ResponseUrl] = {}
        self.triggers: dict[str, Trigger] = {}
        self.views: dict[str, JsonDict] = {}
        self.view_stacks: dict[str, list[str]] = {}
        self.external_ids: dict[str, str] = {}
        self.home_views: dict[str, str] = {}
        self.last_root_view: str | None = None
        self._sequence = 0
        self._last_ts_micros = 0

    def notify_change(self) -> None:
        self.version += 1
        self.changed.notify_all()

    # ------------------------------------------------------------------ fixture

    def add_channel(
        self, channel_id: str, *, members: Iterable[str], name: str | None, is_private: bool, bot_is_member: bool
    ) -> None:
        self.channels[channel_id] = Channel(
            id=channel_id,
            name=name or channel_id.lower(),
            is_private=is_private,
            is_im=False,
            members=list(dict.fromkeys(members)),
            bot_is_member=bot_is_member,
            created=int(self.clock()),
        )
        self.messages.setdefault(channel_id, [])

    def add_user(
        self, user_id: str, *, name: str, is_admin: bool, is_owner: bool, real_name: str, locale: str
    ) -> None:
        handle = name or user_id.lower()
        self.users[user_id] = User(user_id, handle, real_name or handle, is_admin, is_owner, False, locale)

    def add_usergroup(self, group_id: str, members: Iterable[str], handle: str) -> None:
        self.usergroups[group_id] = (list(dict.fromkeys(members)), handle or group_id.lower())

    # ------------------------------------------------------------------ faults

    def inject_fault(self, method: str, fault: Fault, *, times: int) -> None:
        self.faults.setdefault(method, deque()).extend(fault for _ in range(times))

    def take_fault(self, method: str) -> Fault | None:
        """The next fault queued for `method`, consumed; None when its calls are to be served normally."""
        pending = self.faults.get(method)
        return pending.popleft() if pending else None

    # ------------------------------------------------------------------ identifiers

    def next_ts(self) -> str:
        # Slack's ts is seconds.microseconds and unique per channel; strictly increasing covers both.
        micros = max(int(self.clock() * 1_000_000), self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def new_view_id(self) -> str:
        self._sequence += 1
        return f"V0{self._sequence:09d}"

    def new_trigger_id(self, view_id: str | None) -> str:
        self._sequence += 1
        trigger_id = f"{int(self.clock())}.{self._sequence}.{secrets.token_hex(16)}"
        self.triggers[trigger_id] = Trigger(issued_at=self.clock(), view_id=view_id)
        return trigger_id

    def new_response_url_key(self, channel_id: str, user_id: str | None, message_ts: str | None) -> str:
        """The path part of a response_url, after the server's response prefix."""
        key = f"{self.team_id}/{secrets.token_hex(12)}"
        self.response_urls[key] = ResponseUrl(channel_id, user_id, message_ts, self.clock())
        return key

    # ------------------------------------------------------------------ channels and scopes

    def require_scope(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Refusal("missing_scope", needed=scope, provided=",".join(self.scopes))

    def visible_channel(self, channel_id: object) -> Channel:
        channel = self.channels.get(str(channel_id or ""))
        # A private channel the bot is not in does not exist as far as its token can tell.
        if channel is None or (channel.is_private and not channel.bot_is_member):
            raise Refusal("channel_not_found")
        return channel

    def postable_channel(self, channel_id: object) -> Channel:
        wanted = str(channel_id or "")
        if wanted not in self.channels and wanted in self.users:
            return self.direct_channel(wanted)
        channel = self.visible_channel(wanted)
        if not channel.bot_is_member and "chat:write.public" not in self.scopes:
            raise Refusal("not_in_channel")
        return channel

    def direct_channel(self, user_id: str) -> Channel:
        """The bot's DM with `user_id`, opened on first use as posting to a user ID does in Slack."""
        channel_id = "D" + user_id.lstrip("UW")
        if channel_id not in self.channels:
            self.channels[channel_id] = Channel(
                id=channel_id,
                name=user_id,
                is_private=False,
                is_im=True,
                members=[user_id, self.bot_user_id],
                bot_is_member=True,
                created=int(self.clock()),
            )
            self.messages.setdefault(channel_id, [])
        return self.channels[channel_id]

    def member_list(self, channel: Channel) -> list[str]:
        members = list(channel.members)
        if channel.bot_is_member and self.bot_user_id not in members:
            members.append(self.bot_user_id)
        return members

    # ------------------------------------------------------------------ messages

    def find_message(self, channel: str, ts: str) -> StoredMessage | None:
        return next((m for m in self.messages.get(channel, []) if m.ts == ts), None)

    def add_message(self, message: StoredMessage) -> None:
        message.history.append(message._snapshot())
        self.messages.setdefault(message.channel, []).append(message)

    def mark_edited(self, message: StoredMessage) -> None:
        message.updated += 1
        message.edited_ts = self.next_ts()
        message.history.append(message._snapshot())

    # ------------------------------------------------------------------ views

    def usable_trigger(self, trigger_id: str) -> Trigger:
        trigger = self.triggers.get(trigger_id)
        if trigger is None:
            raise Refusal("invalid_trigger_id")
        if trigger.used:
            raise Refusal("exchanged_trigger_id")
        if self.clock() - trigger.issued_at > TRIGGER_LIFETIME_SECONDS:
            raise Refusal("expired_trigger_id")
        return trigger

    def store_view(
        self,
        view: JsonDict,
        *,
        view_id: str,
        root_view_id: str | None,
        previous_view_id: str | None,
        state: JsonDict | None = None,
    ) -> JsonDict:
        """Keep `view` as Slack describes a view it holds (a fresh hash each time) and return that description."""
        stored = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": copy.deepcopy(state) if state is not None else {"values": {}},
            "hash": f"{int(self.clock())}.{secrets.token_hex(4)}",
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        if stored["external_id"]:
            self.external_ids[stored["external_id"]] = view_id
        self.views[view_id] = stored
        return stored

    def root_for(self, view_id: str) -> str | None:
        view = self.views.get(view_id)
        return view["root_view_id"] if view else None
