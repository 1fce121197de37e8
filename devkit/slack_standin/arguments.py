"""Reading a Web API method's arguments the way Slack does, refusing with Slack's error names.

Arguments arrive already decoded by the server (form fields as strings, JSON bodies as objects), so each
reader accepts both spellings of a value, as Slack does.
"""

from __future__ import annotations

import base64
import binascii
import copy
from decimal import Decimal, InvalidOperation

from bot.ui.limits import MESSAGE_MAX_BLOCKS
from devkit.block_kit_limits import block_problems, view_problems
from devkit.slack_standin.workspace import JsonDict, Refusal


def truthy(value: object) -> bool:
    return value is True or (isinstance(value, (str, int)) and str(value).lower() in ("1", "true"))


def message_content(params: JsonDict) -> tuple[str, list[JsonDict], list[JsonDict]]:
    """Text, blocks and attachments of a message, the blocks checked against Block Kit's limits."""
    text = params.get("text")
    text = "" if text is None else str(text)
    blocks = params.get("blocks", [])
    if blocks in ("", None):
        blocks = []
    if not isinstance(blocks, list):
        raise Refusal("invalid_blocks_format")
    problems = block_problems(blocks, max_blocks=MESSAGE_MAX_BLOCKS, pointer="/blocks")
    if problems:
        raise Refusal("invalid_blocks", errors=problems, response_metadata={"messages": problems})
    attachments = params.get("attachments", [])
    if attachments in ("", None):
        attachments = []
    if not isinstance(attachments, list):
        raise Refusal("invalid_attachments")
    return text, copy.deepcopy(blocks), copy.deepcopy(attachments)


def metadata_param(params: JsonDict) -> JsonDict | None:
    metadata = params.get("metadata")
    if metadata in (None, ""):
        return None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not metadata["event_type"]
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise Refusal("invalid_metadata_format")
    return {"event_type": metadata["event_type"], "event_payload": copy.deepcopy(metadata["event_payload"])}


def view_param(params: JsonDict, *, kind: str) -> JsonDict:
    """The `view` argument, checked against Block Kit's limits for a view of `kind` ("modal" or "home")."""
    view = params.get("view")
    if not isinstance(view, dict):
        raise Refusal("invalid_arguments", response_metadata={"messages": ["[ERROR] view must be an object"]})
    problems = view_problems(view, kind)
    if problems:
        raise Refusal("invalid_arguments", response_metadata={"messages": [f"[ERROR] {p}" for p in problems]})
    return copy.deepcopy(view)


def ts_param(value: object, default: Decimal | None) -> Decimal | None:
    # Decimal, not float: ts values differ in the sixth decimal and must compare exactly.
    if value in (None, ""):
        return default
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise Refusal("invalid_ts_oldest") from None


def limit_param(value: object, *, default: int, maximum: int) -> int:
    if value in (None, ""):
        return default
    try:
        limit = int(str(value))
    except ValueError:
        raise Refusal("invalid_limit") from None
    if limit < 1:
        raise Refusal("invalid_limit")
    return min(limit, maximum)


def encode_cursor(kind: str, value: str) -> str:
    """An opaque pagination cursor, as Slack's are; `kind` stops one method's cursor working in another."""
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(cursor: str, kind: str) -> str:
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Refusal("invalid_cursor") from None
    prefix, _, value = decoded.partition(":")
    if prefix != kind or not value:
        raise Refusal("invalid_cursor")
    if kind == "offset" and not value.isdigit():
        raise Refusal("invalid_cursor")
    return value
