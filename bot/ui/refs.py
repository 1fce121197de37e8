"""Small references carried by Slack between our messages and our handlers.

Button values and modal ``private_metadata`` come back from Slack as untrusted strings: decoding never
raises and returns None on anything malformed, and handlers re-load the order from the store before acting.
None of these ever holds a secret: only account logins, order ids, channel ids and message timestamps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.domain.orders import OrderRef
from bot.ui.limits import BUTTON_VALUE_MAX, PRIVATE_METADATA_MAX


def _dump(payload: dict[str, Any], limit: int) -> str:
    encoded = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    if len(encoded) > limit:
        raise ValueError(f"encoded reference is {len(encoded)} characters, over Slack's limit of {limit}")
    return encoded


def _load(value: object, limit: int) -> dict[str, Any] | None:
    if not isinstance(value, str) or not value or len(value) > limit:
        return None
    try:
        payload = json.loads(value)
    except (ValueError, RecursionError):
        return None
    return payload if isinstance(payload, dict) else None


def _required(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _optional(payload: dict[str, Any], key: str) -> tuple[bool, str | None]:
    """(valid, value): a missing key or null is valid and None; anything but a non-empty string is invalid."""
    value = payload.get(key)
    if value is None:
        return True, None
    if isinstance(value, str) and value.strip():
        return True, value
    return False, None


def encode_order_ref(ref: OrderRef) -> str:
    """Compact JSON for a button value (at most 2000 characters; ValueError beyond)."""
    return _dump({"a": ref.account, "p": ref.purchaseid}, BUTTON_VALUE_MAX)


def decode_order_ref(value: object) -> OrderRef | None:
    """The OrderRef in a button value, or None for anything malformed. Never raises."""
    payload = _load(value, BUTTON_VALUE_MAX)
    if payload is None:
        return None
    account, purchaseid = _required(payload, "a"), _required(payload, "p")
    if account is None or purchaseid is None:
        return None
    return OrderRef(account, purchaseid)


@dataclass(frozen=True, slots=True)
class ShipModalMetadata:
    """What the Mark shipped modal needs to find the order and the card to update after submit.

    ``channel`` and ``message_ts`` are None when the modal was not opened from a card.
    """

    account: str
    purchaseid: str
    channel: str | None = None
    message_ts: str | None = None

    @property
    def order_ref(self) -> OrderRef:
        return OrderRef(self.account, self.purchaseid)

    def encode(self) -> str:
        payload = {"a": self.account, "p": self.purchaseid, "c": self.channel, "t": self.message_ts}
        return _dump({k: v for k, v in payload.items() if v is not None}, PRIVATE_METADATA_MAX)

    @classmethod
    def decode(cls, value: object) -> ShipModalMetadata | None:
        payload = _load(value, PRIVATE_METADATA_MAX)
        if payload is None:
            return None
        account, purchaseid = _required(payload, "a"), _required(payload, "p")
        channel_ok, channel = _optional(payload, "c")
        ts_ok, message_ts = _optional(payload, "t")
        if account is None or purchaseid is None or not channel_ok or not ts_ok:
            return None
        return cls(account, purchaseid, channel, message_ts)


@dataclass(frozen=True, slots=True)
class SettingsModalMetadata:
    """Which account the settings modal edits."""

    account: str

    def encode(self) -> str:
        return _dump({"a": self.account}, PRIVATE_METADATA_MAX)

    @classmethod
    def decode(cls, value: object) -> SettingsModalMetadata | None:
        payload = _load(value, PRIVATE_METADATA_MAX)
        account = _required(payload, "a") if payload is not None else None
        return cls(account) if account is not None else None


@dataclass(frozen=True, slots=True)
class ConnectModalMetadata:
    """Where ``/rakuten connect`` ran: the default channel for the new account's order cards."""

    channel_id: str | None = None

    def encode(self) -> str:
        return _dump({"c": self.channel_id} if self.channel_id else {}, PRIVATE_METADATA_MAX)

    @classmethod
    def decode(cls, value: object) -> ConnectModalMetadata | None:
        payload = _load(value, PRIVATE_METADATA_MAX)
        if payload is None:
            return None
        channel_ok, channel_id = _optional(payload, "c")
        return cls(channel_id) if channel_ok else None


@dataclass(frozen=True, slots=True)
class EntryRef:
    """An order, and optionally one entry of its after-sale thread (a message's Reply and Show all buttons)."""

    account: str
    purchaseid: str
    key: str | None = None

    @property
    def order_ref(self) -> OrderRef:
        return OrderRef(self.account, self.purchaseid)


def encode_entry_ref(ref: EntryRef) -> str:
    payload = {"a": ref.account, "p": ref.purchaseid, "k": ref.key}
    return _dump({name: value for name, value in payload.items() if value is not None}, BUTTON_VALUE_MAX)


def decode_entry_ref(value: object) -> EntryRef | None:
    """The EntryRef in a button value (an order card's OrderRef reads as one without a key); None if malformed."""
    payload = _load(value, BUTTON_VALUE_MAX)
    if payload is None:
        return None
    account, purchaseid = _required(payload, "a"), _required(payload, "p")
    key_ok, key = _optional(payload, "k")
    if account is None or purchaseid is None or not key_ok:
        return None
    return EntryRef(account, purchaseid, key)
