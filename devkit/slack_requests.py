"""Build, sign and send the requests Slack itself sends to an app's Request URL.

The bodies follow Slack's payload formats: slash commands are form fields, interactivity (block_actions,
view_submission) is `payload=` plus URL-encoded JSON, and Events API callbacks are a JSON body. `sign()` adds
the `X-Slack-Request-Timestamp` / `X-Slack-Signature` pair Bolt verifies, so the app under test runs with
request verification switched on, as in production.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

JsonDict = dict[str, Any]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"
# Slack's legacy verification token rides along in every payload; Bolt ignores it, real payloads carry one.
_VERIFICATION_TOKEN = "standin-verification-token"
_API_APP_ID = "A0STANDIN"
_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


def sign(signing_secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack adds to every request: v0 HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    # On the bytes, as Slack signs them: slack_sdk's SignatureVerifier decodes the body first, so it cannot sign
    # a body that is not UTF-8 (which a test sends, signed, to see it refused as malformed).
    digest = hmac.new(signing_secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def _team(team_id: str) -> JsonDict:
    return {"id": team_id, "domain": team_id.lower()}


def _user(user_id: str, team_id: str, user_name: str = "") -> JsonDict:
    name = user_name or user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _interactive_body(payload: JsonDict) -> bytes:
    return interactive_body(payload)


def interactive_body(payload: Any) -> bytes:
    """A form body carrying ``payload`` as Slack's interactivity does: ``payload=`` and URL-encoded JSON."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()


def interactive_payload(body: bytes) -> JsonDict:
    """The JSON object inside an interactive request's ``payload=`` field (to alter it and send it again)."""
    payload = json.loads(form_fields(body)["payload"])
    if not isinstance(payload, dict):
        raise ValueError("the payload is not a JSON object")
    return payload


def form_fields(body: bytes) -> dict[str, str]:
    """The fields of a form-encoded body (a slash command, or ``payload``)."""
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


def form_body(fields: dict[str, str]) -> bytes:
    return urlencode(fields).encode()


def _action_ts() -> str:
    now = time.time()
    return f"{int(now)}.{int((now % 1) * 1_000_000):06d}"


def slash_command_body(
    *,
    command: str,
    text: str,
    user_id: str,
    channel_id: str,
    trigger_id: str,
    response_url: str,
    team_id: str = "T0STANDIN",
    user_name: str = "",
    channel_name: str = "",
) -> bytes:
    """Form-encoded fields of a slash command invocation, in Slack's field order."""
    fields = {
        "token": _VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": team_id.lower(),
        "channel_id": channel_id,
        "channel_name": channel_name or channel_id.lower(),
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": _API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    return urlencode(fields).encode()


def _clicked_element(message: JsonDict, action_id: str, block_id: str | None) -> tuple[str | None, JsonDict] | None:
    """The (block_id, element) of the button `action_id` in `message`, if the message shows it."""
    for block in message.get("blocks") or []:
        if not isinstance(block, dict) or block_id not in (None, block.get("block_id")):
            continue
        elements = [*(block.get("elements") or []), block.get("accessory")]
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block.get("block_id"), element
    return None


def block_actions_body(
    *,
    user_id: str,
    channel_id: str,
    message_ts: str,
    action_id: str,
    value: str,
    trigger_id: str,
    response_url: str,
    block_id: str | None = None,
    message: dict | None = None,
    team_id: str = "T0STANDIN",
    user_name: str = "",
    channel_name: str = "",
    is_ephemeral: bool = False,
) -> bytes:
    """A button click on a message. With `message` (as the channel holds it, e.g.
    `StoredMessage.as_payload()`), the clicked button's block_id, text and style come from it, as in Slack's
    payload; without it, `block_id` defaults to "b"."""
    shown = dict(message) if message else {"type": "message", "ts": message_ts, "text": "", "blocks": []}
    shown.setdefault("ts", message_ts)
    clicked = _clicked_element(shown, action_id, block_id)
    action: JsonDict = {
        "action_id": action_id,
        "block_id": block_id or "b",
        "text": {"type": "plain_text", "text": action_id, "emoji": True},
        "value": value,
        "type": "button",
        "action_ts": _action_ts(),
    }
    if clicked is not None:
        found_block_id, element = clicked
        action["block_id"] = found_block_id or action["block_id"]
        action["text"] = element.get("text", action["text"])
        action["type"] = element.get("type", "button")
        if "style" in element:
            action["style"] = element["style"]
    payload: JsonDict = {
        "type": "block_actions",
        "user": _user(user_id, team_id, user_name),
        "api_app_id": _API_APP_ID,
        "token": _VERIFICATION_TOKEN,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        },
        "trigger_id": trigger_id,
        "team": _team(team_id),
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name or channel_id.lower()},
        "message": shown,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }
    return _interactive_body(payload)


def view_submission_body(
    *,
    user_id: str,
    callback_id: str,
    private_metadata: str,
    state_values: dict,
    view_id: str = "V1",
    team_id: str = "T0STANDIN",
    view: dict | None = None,
    user_name: str = "",
) -> bytes:
    """A modal submitted by `user_id`. With `view` (e.g. the stand-in's copy of the opened modal), its blocks,
    title, hash and stack ids are carried as Slack does; the arguments override the matching fields."""
    base = dict(view) if view else {}
    submitted: JsonDict = {
        "id": view_id,
        "team_id": team_id,
        "type": "modal",
        "blocks": base.get("blocks", []),
        "private_metadata": private_metadata,
        "callback_id": callback_id,
        "state": {"values": state_values},
        "hash": base.get("hash", f"{int(time.time())}.{secrets.token_hex(4)}"),
        "title": base.get("title", {"type": "plain_text", "text": "Modal", "emoji": True}),
        "clear_on_close": base.get("clear_on_close", False),
        "notify_on_close": base.get("notify_on_close", False),
        "close": base.get("close"),
        "submit": base.get("submit", {"type": "plain_text", "text": "Submit", "emoji": True}),
        "previous_view_id": base.get("previous_view_id"),
        "root_view_id": base.get("root_view_id", view_id),
        "app_id": _API_APP_ID,
        "external_id": base.get("external_id", ""),
        "app_installed_team_id": team_id,
        "bot_id": base.get("bot_id", "B0STANDIN"),
    }
    payload: JsonDict = {
        "type": "view_submission",
        "team": _team(team_id),
        "user": _user(user_id, team_id, user_name),
        "api_app_id": _API_APP_ID,
        "token": _VERIFICATION_TOKEN,
        "trigger_id": f"{int(time.time())}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}",
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _interactive_body(payload)


def event_callback_body(*, event: dict, team_id: str = "T0STANDIN", bot_user_id: str = "U0BOT") -> bytes:
    """An Events API delivery wrapping `event` (e.g. `{"type": "app_home_opened", "user": ..., "tab": "home"}`)."""
    payload: JsonDict = {
        "token": _VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": _API_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{secrets.token_hex(5).upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
    return json.dumps(payload).encode()


def app_home_opened_event(user_id: str, *, tab: str = "home", view: dict | None = None) -> JsonDict:
    """The `app_home_opened` event Slack sends when a user opens the app's Home (or Messages) tab."""
    event: JsonDict = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": "D" + user_id.lstrip("UW"),
        "tab": tab,
        "event_ts": _action_ts(),
    }
    if view is not None:
        event["view"] = view
    return event


def tokens_revoked_event(*, bot_user_ids: Iterable[str] = (), user_ids: Iterable[str] = ()) -> JsonDict:
    """The `tokens_revoked` event: the users whose OAuth tokens and the bot users whose bot tokens were revoked."""
    return {"type": "tokens_revoked", "tokens": {"oauth": list(user_ids), "bot": list(bot_user_ids)}}


def app_uninstalled_event() -> JsonDict:
    """The `app_uninstalled` event Slack sends once the app is removed from the workspace (its tokens with it)."""
    return {"type": "app_uninstalled"}


# --- state.values entries, keyed {block_id: {action_id: <one of these>}} in view_submission_body ---


def text_input_state(value: str | None) -> JsonDict:
    return {"type": "plain_text_input", "value": value}


def static_select_state(value: str | None, text: str = "") -> JsonDict:
    selected = None if value is None else {"text": {"type": "plain_text", "text": text or value}, "value": value}
    return {"type": "static_select", "selected_option": selected}


def multi_static_select_state(values: list[str]) -> JsonDict:
    options = [{"text": {"type": "plain_text", "text": value}, "value": value} for value in values]
    return {"type": "multi_static_select", "selected_options": options}


def checkboxes_state(values: list[str]) -> JsonDict:
    options = [{"text": {"type": "plain_text", "text": value}, "value": value} for value in values]
    return {"type": "checkboxes", "selected_options": options}


def conversations_select_state(channel_id: str | None) -> JsonDict:
    return {"type": "conversations_select", "selected_conversation": channel_id}


class SlackRequestSender:
    """Signs and POSTs Slack-style requests to an app's Request URL (e.g. `http://127.0.0.1:3000/slack/events`)."""

    def __init__(self, app_url: str, signing_secret: str, *, timeout: float = 10.0) -> None:
        self.app_url = app_url
        self._signing_secret = signing_secret
        self._http = httpx.Client(timeout=timeout, headers={"User-Agent": _USER_AGENT})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SlackRequestSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def post(self, body: bytes, *, content_type: str) -> httpx.Response:
        headers = {"Content-Type": content_type, **sign(self._signing_secret, body)}
        return self._http.post(self.app_url, content=body, headers=headers)

    def command(self, **fields: Any) -> httpx.Response:
        """Sends a slash command; keyword arguments as `slash_command_body`."""
        return self.post(slash_command_body(**fields), content_type=FORM_CONTENT_TYPE)

    def action(self, **fields: Any) -> httpx.Response:
        """Sends a button click; keyword arguments as `block_actions_body`."""
        return self.post(block_actions_body(**fields), content_type=FORM_CONTENT_TYPE)

    def submit_view(self, **fields: Any) -> httpx.Response:
        """Submits a modal; keyword arguments as `view_submission_body`."""
        return self.post(view_submission_body(**fields), content_type=FORM_CONTENT_TYPE)

    def event(self, event: dict, **fields: Any) -> httpx.Response:
        """Delivers an Events API callback; keyword arguments as `event_callback_body`."""
        return self.post(event_callback_body(event=event, **fields), content_type=JSON_CONTENT_TYPE)
