"""What may reach Bolt from the Request URL: a body of bounded size, signed by Slack less than five minutes ago,
shaped as Slack's payloads are.

Bolt parses a body before it checks the signature, so an unsigned body that is not JSON, or JSON of another
shape, made it raise (a 500 with a traceback); and its verification logs a refused body whole. Checking here
first means Bolt only ever sees requests Slack signed, in a shape its parsers and our listeners can read.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl, unquote

BODY_LIMIT = 1024 * 1024  # Slack's largest payloads (a modal's full view) are a few hundred KB
MAX_CLOCK_SKEW = 5 * 60  # seconds, as Slack advises: an older signed request may be a replay
SIGNATURE_VERSION = "v0"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_MAX_FORM_FIELDS = 100


class Rejection(Enum):
    """Why a request was refused: the status, what the log says, and the short constant body answered."""

    UNSIGNED = (401, "missing or wrong Slack signature")
    STALE = (401, "Slack timestamp missing, unreadable or more than 5 minutes off")
    TOO_LARGE = (413, "body larger than 1 MiB")
    MALFORMED = (400, "signed body is not a Slack payload")
    BAD_HTTP = (400, "malformed HTTP request")

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason

    @property
    def status_line(self) -> str:
        return {401: "401 Unauthorized", 413: "413 Content Too Large", 400: "400 Bad Request"}[self.status]

    @property
    def body(self) -> bytes:
        return {401: b"invalid request\n", 413: b"request body too large\n", 400: b"bad request\n"}[self.status]


def declared_length_rejection(content_length: str | None) -> Rejection | None:
    """Refuse on the headers alone, before reading any of the body."""
    if not content_length:
        return None
    if not content_length.isascii() or not content_length.isdigit():
        return Rejection.BAD_HTTP
    return Rejection.TOO_LARGE if int(content_length) > BODY_LIMIT else None


def signature_rejection(
    signing_secret: str, body: bytes, timestamp: str | None, signature: str | None, *, now: float
) -> Rejection | None:
    """Slack's v0 scheme: HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the signing secret.

    The HMAC runs on the body's bytes, so a body that is not UTF-8 is refused as unsigned rather than raising.
    """
    if not signature:
        return Rejection.UNSIGNED
    if not timestamp or not _TIMESTAMP.fullmatch(timestamp) or abs(now - int(timestamp)) > MAX_CLOCK_SKEW:
        return Rejection.STALE
    base = f"{SIGNATURE_VERSION}:{timestamp}:".encode() + body
    expected = f"{SIGNATURE_VERSION}=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected.encode(), signature.encode(errors="replace")) else Rejection.UNSIGNED


def is_ssl_check(body: bytes) -> bool:
    """Slack's periodic certificate check of a slash command's URL: Bolt answers it before any verification."""
    try:
        names = _form_field_names(body.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return False
    return "ssl_check" in names and "payload" not in names and "command" not in names


def _form_field_names(text: str) -> set[str]:
    """The names ``parse_qsl(text, keep_blank_values=True, max_num_fields=...)`` finds (ValueError past the
    bound), without decoding the values: a click's only value is its whole card, URL-encoded."""
    if text and text.count("&") + 1 > _MAX_FORM_FIELDS:
        raise ValueError("Max number of fields exceeded")
    return {unquote(piece.split("=", 1)[0].replace("+", " ")) for piece in text.split("&") if piece}


def read_payload(body: bytes, content_type: str | None) -> tuple[str, dict[str, Any]] | Rejection:
    """A signed body's text and payload, parsed the way Bolt parses it, when Bolt and our listeners can read it;
    else MALFORMED. The payload is Bolt's own parse of the text (``bot.slack.http_server`` hands it over)."""
    try:
        text = body.decode("utf-8")
        payload = _parse_like_bolt(text, content_type)
    except (UnicodeDecodeError, ValueError):  # json.JSONDecodeError is a ValueError
        return Rejection.MALFORMED
    if isinstance(payload, dict) and _well_formed(payload):
        return text, payload
    return Rejection.MALFORMED


def shape_rejection(body: bytes, content_type: str | None) -> Rejection | None:
    """Refuse a signed body Bolt or a listener could not read: parsed the way Bolt parses it, then checked for
    the fields Slack always sends and Bolt's own extractors dereference."""
    read = read_payload(body, content_type)
    return read if isinstance(read, Rejection) else None


def _parse_like_bolt(text: str, content_type: str | None) -> Any:
    """slack_bolt.request.internals.parse_body, with a bound on the number of form fields."""
    media_type = (content_type or "").split(";")[0]
    if media_type == "application/json" or text.startswith("{"):
        return json.loads(text)
    fields = dict(parse_qsl(text, keep_blank_values=True, max_num_fields=_MAX_FORM_FIELDS))
    if "payload" in text:
        return json.loads(fields["payload"]) if "payload" in fields else {}
    return fields


# Bolt reads these as an id string or an object with an id; or as an object; or as a list of objects.
_ID_OR_OBJECT = ("user", "team", "channel", "enterprise")
_OBJECTS = ("event", "view", "container", "message", "previous_message", "item", "assistant_thread", "function_data")
_INTERACTIVE = ("block_actions", "view_submission", "view_closed", "block_suggestion", "shortcut", "message_action")
_EVENTS_WITH_USER = ("app_home_opened",)


def _well_formed(payload: dict[str, Any]) -> bool:
    if not _fields_typed(payload):
        return False
    kind = payload.get("type")
    if "command" in payload:  # a slash command's form fields
        return all(_text(payload.get(name)) for name in ("command", "user_id", "channel_id"))
    if not _text(kind):
        return False
    if kind == "url_verification":
        return _text(payload.get("challenge"))
    if kind == "event_callback":
        event = payload.get("event")
        return (
            isinstance(event, dict)
            and _fields_typed(event)
            and _text(event.get("type"))
            and (event["type"] not in _EVENTS_WITH_USER or _text(event.get("user")))
        )
    if kind in _INTERACTIVE and not (isinstance(payload.get("user"), dict) and _text(payload["user"].get("id"))):
        return False
    if kind in ("view_submission", "view_closed"):
        view = payload.get("view")
        return isinstance(view, dict) and _text(view.get("callback_id")) and _text(view.get("type"))
    if kind == "block_actions":
        actions = payload.get("actions")
        return isinstance(actions, list) and bool(actions) and all(isinstance(action, dict) for action in actions)
    return True


def _fields_typed(payload: dict[str, Any]) -> bool:
    for name in _ID_OR_OBJECT:
        value = payload.get(name)
        if value is not None and not isinstance(value, str | dict):
            return False
    for name in _OBJECTS:
        value = payload.get(name)
        if value is not None and not isinstance(value, dict):
            return False
    authorizations = payload.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(entry, dict) for entry in authorizations)
    ):
        return False
    return "type" not in payload or isinstance(payload["type"], str)


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value)
