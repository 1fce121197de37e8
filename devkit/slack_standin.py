"""A local, real HTTP stand-in for the Slack Web API methods the app calls.

`slack_sdk.WebClient(token=..., base_url=standin.api_url)` talks to it unchanged, so the demo and the
end-to-end tests run the app's real Slack code over loopback. It answers the way Slack does (HTTP 200 with
`{"ok": false, "error": ...}` for refusals, 429 with `Retry-After` when rate limited) and keeps the
workspace state a test wants to look at: messages with their edits, ephemerals, modals, Home tabs and the
bodies posted to response URLs.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import json
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from devkit.block_kit_limits import MAX_MESSAGE_BLOCKS, block_problems, view_problems

logger = logging.getLogger(__name__)

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
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_LIFETIME_SECONDS = 30 * 60
MAX_VIEW_STACK = 3
MAX_MESSAGE_TEXT = 40_000
MAX_HISTORY_LIMIT = 999
MAX_MEMBERS_LIMIT = 1000

_RECHECK_SECONDS = 0.05
_API_PREFIX = "/api/"
_RESPONSE_PREFIX = "/response/"
# Fields a form-encoded body carries as JSON strings; decoded so handlers and recorded calls see objects.
_JSON_FIELDS = ("blocks", "attachments", "metadata", "view")


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


class _Refusal(Exception):
    """A Slack-style refusal: becomes `{"ok": false, "error": error, **extra}`."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    headers: Mapping[str, str]


@dataclass
class _Channel:
    id: str
    name: str
    is_private: bool
    is_im: bool
    members: list[str]
    bot_is_member: bool
    created: int


@dataclass(frozen=True)
class _User:
    id: str
    name: str
    real_name: str
    is_admin: bool
    is_owner: bool
    is_bot: bool


@dataclass
class _Trigger:
    issued_at: float
    view_id: str | None
    used: bool = False


@dataclass
class _ResponseUrl:
    channel: str
    user: str | None
    message_ts: str | None
    issued_at: float
    uses: int = 0


@dataclass(frozen=True)
class _Fault:
    kind: str  # "rate_limit", "error", or "pass" (a call that goes through before the faults that follow)
    error: str = ""
    retry_after: int = 0


class SlackStandIn:
    """A small Slack workspace served over loopback HTTP; see the module docstring."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-standin",  # noqa: S107 - the stand-in's own fixture value, not a credential
        team_id: str = "T0STANDIN",
        bot_user_id: str = "U0BOT",
        clock: Callable[[], float] = time.time,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        bot_id: str = "B0STANDIN",
        app_id: str = "A0STANDIN",
        team_domain: str = "standin",
    ) -> None:
        self.bot_token = bot_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.team_domain = team_domain
        self.scopes: tuple[str, ...] = tuple(scopes)
        self._clock = clock
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._last_ts_micros = 0
        self._version = 0
        self._sequence = 0
        self._calls: list[ApiCall] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._channels: dict[str, _Channel] = {}
        self._users: dict[str, _User] = {}
        self._usergroups: dict[str, tuple[list[str], str]] = {}
        self._messages: dict[str, list[StoredMessage]] = {}
        self._ephemerals: list[JsonDict] = []
        self._responses: list[JsonDict] = []
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._views: dict[str, JsonDict] = {}
        self._view_stacks: dict[str, list[str]] = {}
        self._external_ids: dict[str, str] = {}
        self._home_views: dict[str, str] = {}
        self._last_root_view: str | None = None
        self._users[bot_user_id] = _User(bot_user_id, "rakuten-bot", "Rakuten Orders", False, False, True)
        self._methods: dict[str, Callable[[JsonDict], JsonDict]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.members": self._conversations_members,
            "conversations.info": self._conversations_info,
            "users.info": self._users_info,
            "usergroups.users.list": self._usergroups_users_list,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "views.publish": self._views_publish,
        }

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SlackStandIn:
        with self._lock:
            if self._server is not None:
                return self
            self._server = _Server(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="slack-standin", kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            server, thread = self._server, self._thread
            self._server, self._thread = None, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        with self._lock:
            if self._server is None:
                raise RuntimeError("the Slack stand-in is not started")
            host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + _API_PREFIX

    @property
    def response_url_base(self) -> str:
        return self.base_url + _RESPONSE_PREFIX

    # ------------------------------------------------------------------ workspace fixture

    def add_channel(
        self,
        channel_id: str,
        *,
        members: Iterable[str] = (),
        name: str | None = None,
        is_private: bool = False,
        bot_is_member: bool = True,
    ) -> None:
        with self._lock:
            self._channels[channel_id] = _Channel(
                id=channel_id,
                name=name or channel_id.lower(),
                is_private=is_private,
                is_im=False,
                members=list(dict.fromkeys(members)),
                bot_is_member=bot_is_member,
                created=int(self._clock()),
            )
            self._messages.setdefault(channel_id, [])

    def add_user(
        self, user_id: str, *, name: str = "", is_admin: bool = False, is_owner: bool = False, real_name: str = ""
    ) -> None:
        with self._lock:
            handle = name or user_id.lower()
            self._users[user_id] = _User(user_id, handle, real_name or handle, is_admin, is_owner, False)

    def add_usergroup(self, group_id: str, members: Iterable[str], handle: str = "") -> None:
        with self._lock:
            self._usergroups[group_id] = (list(dict.fromkeys(members)), handle or group_id.lower())

    # ------------------------------------------------------------------ faults

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1, after: int = 0) -> None:
        """The next `times` calls to `method` get HTTP 429 with `Retry-After: retry_after`, once `after` more
        calls to it have gone through."""
        with self._lock:
            queue = self._faults.setdefault(method, deque())
            queue.extend(_Fault("pass") for _ in range(after))
            queue.extend(_Fault("rate_limit", "ratelimited", retry_after) for _ in range(times))

    def fail(self, method: str, error: str, *, times: int = 1) -> None:
        """The next `times` calls to `method` are refused with `error` (HTTP 200, as Slack does)."""
        with self._lock:
            self._faults.setdefault(method, deque()).extend(_Fault("error", error) for _ in range(times))

    # ------------------------------------------------------------------ observation

    @property
    def calls(self) -> list[ApiCall]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        with self._lock:
            return [call for call in self._calls if call.method == method]

    def messages(self, channel: str) -> list[StoredMessage]:
        """Current state of every message in `channel` (thread replies included), oldest first."""
        with self._lock:
            return copy.deepcopy(self._messages.get(channel, []))

    def message(self, channel: str, ts: str) -> StoredMessage:
        with self._lock:
            found = self._find_message(channel, ts)
            if found is None:
                raise KeyError(f"no message {ts} in {channel}")
            return copy.deepcopy(found)

    def ephemerals(self, user: str | None = None) -> list[dict]:
        with self._lock:
            return [copy.deepcopy(e) for e in self._ephemerals if user is None or e["user"] == user]

    @property
    def responses(self) -> list[dict]:
        """Bodies POSTed to response URLs (what `respond()` sent), oldest first."""
        with self._lock:
            return [copy.deepcopy(r) for r in self._responses]

    @property
    def views(self) -> dict[str, dict]:
        with self._lock:
            return copy.deepcopy(self._views)

    def published_home(self, user_id: str) -> dict | None:
        with self._lock:
            view_id = self._home_views.get(user_id)
            return copy.deepcopy(self._views[view_id]) if view_id else None

    def view_stack(self, root_view_id: str) -> list[str]:
        """View ids on the modal stack opened as `root_view_id`, bottom first."""
        with self._lock:
            return list(self._view_stacks.get(root_view_id, []))

    def new_trigger_id(self, *, view_id: str | None = None) -> str:
        """A trigger_id as an interaction payload carries it; `view_id` ties it to an interaction in that modal."""
        with self._lock:
            self._sequence += 1
            trigger_id = f"{int(self._clock())}.{self._sequence}.{secrets.token_hex(16)}"
            self._triggers[trigger_id] = _Trigger(issued_at=self._clock(), view_id=view_id)
            return trigger_id

    def new_response_url(self, channel_id: str, *, user_id: str | None = None, message_ts: str | None = None) -> str:
        """A response_url bound to a channel (and to a message for `replace_original` / `delete_original`)."""
        with self._lock:
            key = f"{self.team_id}/{secrets.token_hex(12)}"
            self._response_urls[key] = _ResponseUrl(channel_id, user_id, message_ts, self._clock())
        return self.response_url_base + key

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Block until `predicate()` holds, re-checking after every request served and at least every 50 ms.

        The predicate runs without the stand-in's lock held, so it may look at app state (a store, say) whose
        lock an app thread holds while it is calling the stand-in.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                seen = self._version
            if predicate():
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"condition not met within {timeout} s")
            pause = min(remaining, _RECHECK_SECONDS)
            with self._changed:
                self._changed.wait_for(lambda seen=seen: self._version != seen, timeout=pause)

    def wait_for_calls(self, method: str, count: int, timeout: float = 5.0) -> list[ApiCall]:
        try:
            self.wait_for(lambda: len(self.calls_to(method)) >= count, timeout)
        except AssertionError:
            seen = len(self.calls_to(method))
            raise AssertionError(f"expected {count} call(s) to {method} within {timeout} s, saw {seen}") from None
        return self.calls_to(method)

    def _notify_change(self) -> None:
        self._version += 1
        self._changed.notify_all()

    # ------------------------------------------------------------------ HTTP entry points

    def _serve_api(self, method: str, headers: Mapping[str, str], query: str, body: bytes) -> _Reply:
        with self._lock:
            status = 200
            reply_headers: dict[str, str] = {}
            params: JsonDict = {}
            try:
                params, token = _request_params(headers, query, body)
                answer = self._answer(method, token, params)
                if method in self._methods:
                    reply_headers["x-oauth-scopes"] = ",".join(self.scopes)
            except _RateLimited as limited:
                status = 429
                reply_headers["Retry-After"] = str(limited.retry_after)
                answer = {"ok": False, "error": "ratelimited"}
            except _Refusal as refusal:
                answer = {"ok": False, "error": refusal.error, **refusal.extra}
            self._calls.append(ApiCall(method=method, params=params, at=self._clock(), status=status))
            self._notify_change()
        return _json_reply(status, answer, reply_headers)

    def _serve_response_url(self, key: str, headers: Mapping[str, str], body: bytes) -> _Reply:
        with self._lock:
            try:
                payload = _response_url_payload(headers, body)
            except _Refusal as refusal:
                return _json_reply(400, {"ok": False, "error": refusal.error}, {})
            self._responses.append(payload)
            self._notify_change()
            bound = self._response_urls.get(key)
            if bound is None:
                return _Reply(200, b"ok", {"Content-Type": "text/plain"})
            if self._clock() - bound.issued_at > RESPONSE_URL_LIFETIME_SECONDS:
                return _json_reply(404, {"ok": False, "error": "expired_url"}, {})
            if bound.uses >= RESPONSE_URL_MAX_USES:
                return _json_reply(404, {"ok": False, "error": "used_url"}, {})
            bound.uses += 1
            self._apply_response(bound, payload)
            self._notify_change()
        return _Reply(200, b"ok", {"Content-Type": "text/plain"})

    def _answer(self, method: str, token: str | None, params: JsonDict) -> JsonDict:
        handler = self._methods.get(method)
        if handler is None:
            raise _Refusal("unknown_method", req_method=method)
        if not token:
            raise _Refusal("not_authed")
        if not secrets.compare_digest(token.encode(), self.bot_token.encode()):
            raise _Refusal("invalid_auth")
        pending = self._faults.get(method)
        fault = pending.popleft() if pending else None
        if fault is not None and fault.kind == "rate_limit":
            raise _RateLimited(fault.retry_after)
        if fault is not None and fault.kind == "error":
            raise _Refusal(fault.error)
        return {"ok": True, **handler(params)}

    # ------------------------------------------------------------------ auth / chat

    def _auth_test(self, params: JsonDict) -> JsonDict:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": "Stand-in workspace",
            "user": self._users[self.bot_user_id].name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, params: JsonDict) -> JsonDict:
        self._require_scope("chat:write")
        channel = self._postable_channel(params.get("channel"))
        text, blocks, attachments = self._message_content(params)
        if not text and not blocks and not attachments:
            raise _Refusal("no_text")
        warnings: list[str] = []
        if len(text) > MAX_MESSAGE_TEXT:
            text = text[:MAX_MESSAGE_TEXT]
            warnings.append("message_truncated")
        metadata = _metadata_param(params)
        thread_ts = str(params["thread_ts"]) if params.get("thread_ts") else None
        message = StoredMessage(
            channel=channel.id,
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            metadata=metadata,
            thread_ts=thread_ts,
            user=self.bot_user_id,
            bot_id=self.bot_id,
            team=self.team_id,
            attachments=attachments,
        )
        message.history.append(message._snapshot())
        self._messages.setdefault(channel.id, []).append(message)
        answer: JsonDict = {"channel": channel.id, "ts": message.ts, "message": message.as_payload()}
        if warnings:
            answer["warning"] = ",".join(warnings)
            answer["response_metadata"] = {"warnings": warnings}
        return answer

    def _chat_update(self, params: JsonDict) -> JsonDict:
        self._require_scope("chat:write")
        channel = self._postable_channel(params.get("channel"))
        message = self._find_message(channel.id, str(params.get("ts", "")))
        if message is None:
            raise _Refusal("message_not_found")
        has_content = any(key in params for key in ("text", "blocks", "attachments", "metadata"))
        if not has_content:
            raise _Refusal("no_text")
        text, blocks, attachments = self._message_content(params)
        metadata = _metadata_param(params)
        if "text" in params:
            message.text = text[:MAX_MESSAGE_TEXT]
        if "blocks" in params:
            message.blocks = blocks
        if "attachments" in params:
            message.attachments = attachments
        if "metadata" in params:
            message.metadata = metadata
        self._mark_edited(message)
        return {"channel": channel.id, "ts": message.ts, "text": message.text, "message": message.as_payload()}

    def _chat_post_ephemeral(self, params: JsonDict) -> JsonDict:
        self._require_scope("chat:write")
        channel = self._postable_channel(params.get("channel"))
        user = str(params.get("user") or "")
        if not user:
            raise _Refusal("user_not_found")
        if channel.members and user not in channel.members:
            raise _Refusal("user_not_in_channel")
        text, blocks, attachments = self._message_content(params)
        if not text and not blocks and not attachments:
            raise _Refusal("no_text")
        message_ts = self._next_ts()
        self._ephemerals.append(
            {
                "channel": channel.id,
                "user": user,
                "text": text,
                "blocks": blocks,
                "thread_ts": str(params["thread_ts"]) if params.get("thread_ts") else None,
                "message_ts": message_ts,
                "source": "chat.postEphemeral",
            }
        )
        return {"message_ts": message_ts}

    def _chat_get_permalink(self, params: JsonDict) -> JsonDict:
        channel = self._visible_channel(params.get("channel"))
        ts = str(params.get("message_ts", ""))
        message = self._find_message(channel.id, ts)
        if message is None:
            raise _Refusal("message_not_found")
        permalink = f"https://{self.team_domain}.slack.com/archives/{channel.id}/p{ts.replace('.', '')}"
        if message.thread_ts and message.thread_ts != message.ts:
            permalink += f"?thread_ts={message.thread_ts}&cid={channel.id}"
        return {"channel": channel.id, "permalink": permalink}

    # ------------------------------------------------------------------ conversations / users

    def _conversations_history(self, params: JsonDict) -> JsonDict:
        channel = self._visible_channel(params.get("channel"))
        self._require_scope(_scope_for(channel, "history"))
        if not channel.bot_is_member:
            raise _Refusal("not_in_channel")
        oldest = _ts_param(params.get("oldest"), Decimal(0))
        latest = _ts_param(params.get("latest"), None)
        inclusive = _truthy(params.get("inclusive"))
        include_metadata = _truthy(params.get("include_all_metadata"))
        limit = _limit_param(params.get("limit"), default=100, maximum=MAX_HISTORY_LIMIT)
        stored = self._messages.get(channel.id, [])
        replies: dict[str, list[StoredMessage]] = {}
        for message in stored:
            if message.thread_ts and message.thread_ts != message.ts:
                replies.setdefault(message.thread_ts, []).append(message)
        selected = [
            message
            for message in reversed(stored)
            if not (message.thread_ts and message.thread_ts != message.ts)
            and _within(Decimal(message.ts), oldest, latest, inclusive=inclusive)
        ]
        start = 0
        if params.get("cursor"):
            next_ts = _decode_cursor(str(params["cursor"]), "next_ts")
            start = next((i for i, m in enumerate(selected) if m.ts == next_ts), -1)
            if start < 0:
                raise _Refusal("invalid_cursor")
        page = selected[start : start + limit]
        answer: JsonDict = {
            "messages": [self._history_entry(m, replies.get(m.ts, []), include_metadata) for m in page],
            "has_more": start + limit < len(selected),
            "pin_count": 0,
        }
        if answer["has_more"]:
            answer["response_metadata"] = {"next_cursor": _encode_cursor("next_ts", selected[start + limit].ts)}
        return answer

    def _conversations_replies(self, params: JsonDict) -> JsonDict:
        """A thread, parent first then its replies oldest first, in one page (no cursor: threads here are short)."""
        channel = self._visible_channel(params.get("channel"))
        self._require_scope(_scope_for(channel, "history"))
        if not channel.bot_is_member:
            raise _Refusal("not_in_channel")
        parent = self._find_message(channel.id, str(params.get("ts") or ""))
        if parent is None:
            raise _Refusal("thread_not_found")
        include_metadata = _truthy(params.get("include_all_metadata"))
        replies = [m for m in self._messages.get(channel.id, []) if m.thread_ts == parent.ts and m.ts != parent.ts]
        entries = [self._history_entry(parent, replies, include_metadata)]
        entries += [{**m.as_payload(include_metadata=include_metadata), "app_id": self.app_id} for m in replies]
        return {"messages": entries, "has_more": False}

    def _history_entry(self, message: StoredMessage, replies: list[StoredMessage], include_metadata: bool) -> JsonDict:
        entry = message.as_payload(include_metadata=include_metadata)
        entry["app_id"] = self.app_id
        if replies:
            entry["thread_ts"] = message.ts
            entry["reply_count"] = len(replies)
            entry["latest_reply"] = replies[-1].ts
        return entry

    def _conversations_members(self, params: JsonDict) -> JsonDict:
        channel = self._visible_channel(params.get("channel"))
        self._require_scope(_scope_for(channel, "read"))
        limit = _limit_param(params.get("limit"), default=100, maximum=MAX_MEMBERS_LIMIT)
        members = self._member_list(channel)
        start = int(_decode_cursor(str(params["cursor"]), "offset")) if params.get("cursor") else 0
        page = members[start : start + limit]
        more = start + limit < len(members)
        return {
            "members": page,
            "response_metadata": {"next_cursor": _encode_cursor("offset", str(start + limit)) if more else ""},
        }

    def _conversations_info(self, params: JsonDict) -> JsonDict:
        channel = self._visible_channel(params.get("channel"))
        self._require_scope(_scope_for(channel, "read"))
        info: JsonDict = {
            "id": channel.id,
            "name": channel.name,
            "is_channel": not channel.is_private and not channel.is_im,
            "is_group": channel.is_private,
            "is_im": channel.is_im,
            "is_private": channel.is_private or channel.is_im,
            "is_archived": False,
            "is_general": False,
            "is_member": channel.bot_is_member,
            "created": channel.created,
            "context_team_id": self.team_id,
        }
        if _truthy(params.get("include_num_members")):
            info["num_members"] = len(self._member_list(channel))
        return {"channel": info}

    def _users_info(self, params: JsonDict) -> JsonDict:
        self._require_scope("users:read")
        user = self._users.get(str(params.get("user", "")))
        if user is None:
            raise _Refusal("user_not_found")
        return {
            "user": {
                "id": user.id,
                "team_id": self.team_id,
                "name": user.name,
                "deleted": False,
                "real_name": user.real_name,
                "tz": "Europe/Paris",
                "is_admin": user.is_admin,
                "is_owner": user.is_owner,
                "is_primary_owner": False,
                "is_restricted": False,
                "is_ultra_restricted": False,
                "is_bot": user.is_bot,
                "is_app_user": False,
                "profile": {"real_name": user.real_name, "display_name": user.name, "team": self.team_id},
            }
        }

    def _usergroups_users_list(self, params: JsonDict) -> JsonDict:
        self._require_scope("usergroups:read")
        group = self._usergroups.get(str(params.get("usergroup", "")))
        if group is None:
            raise _Refusal("no_such_subteam")
        return {"users": list(group[0])}

    # ------------------------------------------------------------------ views

    def _views_open(self, params: JsonDict) -> JsonDict:
        trigger = self._usable_trigger(params)
        view = self._view_param(params, kind="modal")
        external_id = str(view.get("external_id") or "")
        if external_id and external_id in self._external_ids:
            raise _Refusal("duplicate_external_id")
        trigger.used = True
        view_id = self._new_view_id()
        stored = self._store_view(view, view_id=view_id, root_view_id=view_id, previous_view_id=None)
        self._view_stacks[view_id] = [view_id]
        self._last_root_view = view_id
        return {"view": copy.deepcopy(stored)}

    def _views_push(self, params: JsonDict) -> JsonDict:
        trigger = self._usable_trigger(params)
        root = self._root_for(trigger.view_id) if trigger.view_id else self._last_root_view
        if root is None or root not in self._view_stacks:
            raise _Refusal("not_found")
        view = self._view_param(params, kind="modal")
        stack = self._view_stacks[root]
        if len(stack) >= MAX_VIEW_STACK:
            raise _Refusal("push_limit_reached")
        trigger.used = True
        view_id = self._new_view_id()
        stored = self._store_view(view, view_id=view_id, root_view_id=root, previous_view_id=stack[-1])
        stack.append(view_id)
        return {"view": copy.deepcopy(stored)}

    def _views_update(self, params: JsonDict) -> JsonDict:
        view_id = str(params.get("view_id") or "")
        external_id = str(params.get("external_id") or "")
        if not view_id and not external_id:
            raise _Refusal("invalid_arguments", response_metadata={"messages": ["[ERROR] view_id or external_id"]})
        if not view_id:
            view_id = self._external_ids.get(external_id, "")
        current = self._views.get(view_id)
        if current is None:
            raise _Refusal("not_found")
        if params.get("hash") and params["hash"] != current["hash"]:
            raise _Refusal("hash_conflict")
        view = self._view_param(params, kind=current["type"])
        view.setdefault("external_id", current["external_id"])
        stored = self._store_view(
            view,
            view_id=view_id,
            root_view_id=current["root_view_id"],
            previous_view_id=current["previous_view_id"],
            state=current["state"],
        )
        return {"view": copy.deepcopy(stored)}

    def _views_publish(self, params: JsonDict) -> JsonDict:
        user_id = str(params.get("user_id") or "")
        if not user_id:
            raise _Refusal("invalid_arguments", response_metadata={"messages": ["[ERROR] missing user_id"]})
        current_id = self._home_views.get(user_id)
        if params.get("hash") and (current_id is None or params["hash"] != self._views[current_id]["hash"]):
            raise _Refusal("hash_conflict")
        view = self._view_param(params, kind="home")
        view_id = current_id or self._new_view_id()
        stored = self._store_view(view, view_id=view_id, root_view_id=None, previous_view_id=None)
        self._home_views[user_id] = view_id
        return {"view": copy.deepcopy(stored)}

    def _usable_trigger(self, params: JsonDict) -> _Trigger:
        trigger_id = str(params.get("trigger_id") or params.get("interactivity_pointer") or "")
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            raise _Refusal("invalid_trigger_id")
        if trigger.used:
            raise _Refusal("exchanged_trigger_id")
        if self._clock() - trigger.issued_at > TRIGGER_LIFETIME_SECONDS:
            raise _Refusal("expired_trigger_id")
        return trigger

    def _view_param(self, params: JsonDict, *, kind: str) -> JsonDict:
        view = params.get("view")
        if not isinstance(view, dict):
            raise _Refusal("invalid_arguments", response_metadata={"messages": ["[ERROR] view must be an object"]})
        problems = view_problems(view, kind)
        if problems:
            raise _Refusal("invalid_arguments", response_metadata={"messages": [f"[ERROR] {p}" for p in problems]})
        return copy.deepcopy(view)

    def _store_view(
        self,
        view: JsonDict,
        *,
        view_id: str,
        root_view_id: str | None,
        previous_view_id: str | None,
        state: JsonDict | None = None,
    ) -> JsonDict:
        stored = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": copy.deepcopy(state) if state is not None else {"values": {}},
            "hash": f"{int(self._clock())}.{secrets.token_hex(4)}",
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
            self._external_ids[stored["external_id"]] = view_id
        self._views[view_id] = stored
        return stored

    def _root_for(self, view_id: str) -> str | None:
        view = self._views.get(view_id)
        return view["root_view_id"] if view else None

    def _new_view_id(self) -> str:
        self._sequence += 1
        return f"V0{self._sequence:09d}"

    # ------------------------------------------------------------------ shared helpers

    def _require_scope(self, scope: str) -> None:
        if scope not in self.scopes:
            raise _Refusal("missing_scope", needed=scope, provided=",".join(self.scopes))

    def _visible_channel(self, channel_id: object) -> _Channel:
        channel = self._channels.get(str(channel_id or ""))
        # A private channel the bot is not in does not exist as far as its token can tell.
        if channel is None or (channel.is_private and not channel.bot_is_member):
            raise _Refusal("channel_not_found")
        return channel

    def _postable_channel(self, channel_id: object) -> _Channel:
        wanted = str(channel_id or "")
        if wanted not in self._channels and wanted in self._users:
            return self._direct_channel(wanted)
        channel = self._visible_channel(wanted)
        if not channel.bot_is_member and "chat:write.public" not in self.scopes:
            raise _Refusal("not_in_channel")
        return channel

    def _direct_channel(self, user_id: str) -> _Channel:
        channel_id = "D" + user_id.lstrip("UW")
        if channel_id not in self._channels:
            self._channels[channel_id] = _Channel(
                id=channel_id,
                name=user_id,
                is_private=False,
                is_im=True,
                members=[user_id, self.bot_user_id],
                bot_is_member=True,
                created=int(self._clock()),
            )
            self._messages.setdefault(channel_id, [])
        return self._channels[channel_id]

    def _member_list(self, channel: _Channel) -> list[str]:
        members = list(channel.members)
        if channel.bot_is_member and self.bot_user_id not in members:
            members.append(self.bot_user_id)
        return members

    def _message_content(self, params: JsonDict) -> tuple[str, list[JsonDict], list[JsonDict]]:
        text = params.get("text")
        text = "" if text is None else str(text)
        blocks = params.get("blocks", [])
        if blocks in ("", None):
            blocks = []
        if not isinstance(blocks, list):
            raise _Refusal("invalid_blocks_format")
        problems = block_problems(blocks, max_blocks=MAX_MESSAGE_BLOCKS, pointer="/blocks")
        if problems:
            raise _Refusal("invalid_blocks", errors=problems, response_metadata={"messages": problems})
        attachments = params.get("attachments", [])
        if attachments in ("", None):
            attachments = []
        if not isinstance(attachments, list):
            raise _Refusal("invalid_attachments")
        return text, copy.deepcopy(blocks), copy.deepcopy(attachments)

    def _find_message(self, channel: str, ts: str) -> StoredMessage | None:
        return next((m for m in self._messages.get(channel, []) if m.ts == ts), None)

    def _mark_edited(self, message: StoredMessage) -> None:
        message.updated += 1
        message.edited_ts = self._next_ts()
        message.history.append(message._snapshot())

    def _apply_response(self, bound: _ResponseUrl, payload: JsonDict) -> None:
        original = self._find_message(bound.channel, bound.message_ts) if bound.message_ts else None
        blocks = payload.get("blocks") if isinstance(payload.get("blocks"), list) else []
        text = str(payload.get("text") or "")
        if _truthy(payload.get("delete_original")):
            if original is not None:
                self._messages[bound.channel].remove(original)
            return
        if _truthy(payload.get("replace_original")) and original is not None:
            original.text, original.blocks = text, copy.deepcopy(blocks)
            self._mark_edited(original)
            return
        if payload.get("response_type") == "in_channel":
            message = StoredMessage(
                channel=bound.channel,
                ts=self._next_ts(),
                text=text,
                blocks=copy.deepcopy(blocks),
                metadata=None,
                thread_ts=str(payload["thread_ts"]) if payload.get("thread_ts") else None,
                user=self.bot_user_id,
                bot_id=self.bot_id,
                team=self.team_id,
            )
            message.history.append(message._snapshot())
            self._messages.setdefault(bound.channel, []).append(message)
            return
        self._ephemerals.append(
            {
                "channel": bound.channel,
                "user": bound.user,
                "text": text,
                "blocks": copy.deepcopy(blocks),
                "thread_ts": None,
                "message_ts": self._next_ts(),
                "source": "response_url",
            }
        )

    def _next_ts(self) -> str:
        # Slack's ts is seconds.microseconds and unique per channel; strictly increasing covers both.
        micros = max(int(self._clock() * 1_000_000), self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


class _RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("ratelimited")
        self.retry_after = retry_after


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connections when the app's thread pools call at once.
    request_queue_size = 128

    def __init__(self, standin: SlackStandIn) -> None:
        super().__init__(("127.0.0.1", 0), _RequestHandler)
        self.standin = standin

    def handle_error(self, request: object, client_address: object) -> None:
        # A client hanging up mid-request is routine in tests; keep stderr quiet.
        logger.debug("Slack stand-in: error while serving %s", client_address, exc_info=True)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "SlackStandIn/1.0"

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        standin = self.server.standin
        if parts.path.startswith(_API_PREFIX):
            reply = standin._serve_api(parts.path[len(_API_PREFIX) :], headers, parts.query, body)
        elif parts.path.startswith(_RESPONSE_PREFIX) and self.command == "POST":
            reply = standin._serve_response_url(parts.path[len(_RESPONSE_PREFIX) :], headers, body)
        else:
            reply = _json_reply(404, {"ok": False, "error": "not_found"}, {})
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("Slack stand-in: " + format, *args)


# ---------------------------------------------------------------------- request parsing


def _json_reply(status: int, answer: JsonDict, headers: Mapping[str, str]) -> _Reply:
    return _Reply(
        status,
        json.dumps(answer).encode("utf-8"),
        {"Content-Type": "application/json; charset=utf-8", **headers},
    )


def _form(encoded: str) -> JsonDict:
    return {key: values[-1] for key, values in parse_qs(encoded, keep_blank_values=True).items()}


def _request_params(headers: Mapping[str, str], query: str, body: bytes) -> tuple[JsonDict, str | None]:
    params = _form(query)
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if body:
        if content_type == "application/json":
            try:
                decoded = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise _Refusal("invalid_json") from None
            if not isinstance(decoded, dict):
                raise _Refusal("invalid_json")
            params.update(decoded)
        elif content_type in ("", "application/x-www-form-urlencoded"):
            try:
                params.update(_form(body.decode("utf-8")))
            except UnicodeDecodeError:
                raise _Refusal("invalid_form_data") from None
        else:
            raise _Refusal("invalid_form_data")
    for name in _JSON_FIELDS:
        if isinstance(params.get(name), str) and params[name]:
            # Left as a string when it is not JSON: the method answers with its own format error.
            with contextlib.suppress(json.JSONDecodeError):
                params[name] = json.loads(params[name])
    token = params.pop("token", None)
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        token = authorization[len("bearer ") :].strip()
    return params, (str(token) if token else None)


def _response_url_payload(headers: Mapping[str, str], body: bytes) -> JsonDict:
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
        if content_type == "application/x-www-form-urlencoded":
            text = _form(text).get("payload", "")
        decoded = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _Refusal("invalid_payload") from None
    if not isinstance(decoded, dict):
        raise _Refusal("invalid_payload")
    return decoded


def _metadata_param(params: JsonDict) -> JsonDict | None:
    metadata = params.get("metadata")
    if metadata in (None, ""):
        return None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not metadata["event_type"]
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise _Refusal("invalid_metadata_format")
    return {"event_type": metadata["event_type"], "event_payload": copy.deepcopy(metadata["event_payload"])}


def _truthy(value: object) -> bool:
    return value is True or (isinstance(value, (str, int)) and str(value).lower() in ("1", "true"))


def _ts_param(value: object, default: Decimal | None) -> Decimal | None:
    if value in (None, ""):
        return default
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise _Refusal("invalid_ts_oldest") from None


def _limit_param(value: object, *, default: int, maximum: int) -> int:
    if value in (None, ""):
        return default
    try:
        limit = int(str(value))
    except ValueError:
        raise _Refusal("invalid_limit") from None
    if limit < 1:
        raise _Refusal("invalid_limit")
    return min(limit, maximum)


def _within(ts: Decimal, oldest: Decimal | None, latest: Decimal | None, *, inclusive: bool) -> bool:
    if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
        return False
    return latest is None or ts < latest or (ts == latest and inclusive)


def _scope_for(channel: _Channel, access: str) -> str:
    prefix = "im" if channel.is_im else "groups" if channel.is_private else "channels"
    return f"{prefix}:{access}"


def _encode_cursor(kind: str, value: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def _decode_cursor(cursor: str, kind: str) -> str:
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _Refusal("invalid_cursor") from None
    prefix, _, value = decoded.partition(":")
    if prefix != kind or not value:
        raise _Refusal("invalid_cursor")
    if kind == "offset" and not value.isdigit():
        raise _Refusal("invalid_cursor")
    return value
