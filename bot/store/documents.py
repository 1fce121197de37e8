"""Records as JSON-safe documents, for any store: datetimes as ISO 8601, amounts as strings, enums as values."""

from __future__ import annotations

import dataclasses
import functools
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.domain.accounts import (
    AccountRecord,
    AccountSettings,
    DailySummaryMark,
    FailureKind,
    PollFailure,
    PollHealth,
)
from bot.domain.audit import AuditEntry
from bot.domain.orders import (
    CardRef,
    ItemState,
    OrderItem,
    OrderRecord,
    PendingAction,
    PendingKind,
    PrepaidLabel,
    ReminderMark,
    Shipment,
)
from rakuten.models import Address, AddressKind, Money


def to_doc(record: Any) -> dict[str, Any]:
    """A JSON-safe dict of a record: datetimes as ISO 8601, amounts as strings, enums as values."""
    return _encode(record)


# Values JSON holds as they are. Exact types: a StrEnum is a str too, and must be stored as its plain value.
_PLAIN = frozenset({str, int, float, bool, type(None)})


@functools.cache
def _field_names(cls: type) -> tuple[str, ...] | None:
    """The fields of a dataclass, looked up once per class (``dataclasses.fields`` is slow enough to dominate
    a save of thousands of orders)."""
    if not dataclasses.is_dataclass(cls):
        return None
    return tuple(field.name for field in dataclasses.fields(cls))


def _encode(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    names = _field_names(type(value))
    if names is not None:
        return {name: _encode(getattr(value, name)) for name in names}
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def without_personal_data(doc: dict[str, Any]) -> dict[str, Any]:
    """The order with the buyer's name, address, phone and login blanked; the country stays for statistics."""
    purged = dict(doc)
    ship_to = doc.get("ship_to")
    if ship_to:
        purged["ship_to"] = dict.fromkeys(ship_to) | {
            "kind": ship_to.get("kind"),
            "country_code": ship_to.get("country_code"),
        }
    purged["buyer_login"] = None
    purged["personal_data_purged"] = True
    return purged


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _money(doc: dict[str, Any] | None) -> Money | None:
    return Money(Decimal(doc["amount"]), doc.get("currency") or "EUR") if doc else None


def _address(doc: dict[str, Any] | None) -> Address | None:
    if not doc:
        return None
    return Address(**{**doc, "kind": AddressKind(doc["kind"])})


def _shipment(doc: dict[str, Any] | None) -> Shipment | None:
    if not doc:
        return None
    return Shipment(**{**doc, "shipped_at": _dt(doc.get("shipped_at"))})


def _pending(doc: dict[str, Any] | None) -> PendingAction | None:
    if not doc:
        return None
    return PendingAction(
        kind=PendingKind(doc["kind"]),
        requested_by=doc["requested_by"],
        requested_at=_dt(doc["requested_at"]),  # type: ignore[arg-type]
        attempts=doc.get("attempts", 0),
        last_error=doc.get("last_error"),
        shipment=_shipment(doc.get("shipment")),
        by=doc.get("by"),
        next_try_at=_dt(doc.get("next_try_at")),
        resumed=doc.get("resumed", False),
    )


def _reminder(doc: dict[str, Any]) -> ReminderMark:
    return ReminderMark(
        claim=doc["claim"],
        claimed_at=_dt(doc["claimed_at"]),  # type: ignore[arg-type]
        posted_ts=doc.get("posted_ts"),
        dropped=doc.get("dropped", False),
    )


def _daily_summary(doc: dict[str, Any] | None) -> DailySummaryMark | None:
    if not doc:
        return None
    return DailySummaryMark(
        day=doc["day"],
        claim=doc["claim"],
        claimed_at=_dt(doc["claimed_at"]),  # type: ignore[arg-type]
        posted_ts=doc.get("posted_ts"),
    )


def item_from_doc(doc: dict[str, Any]) -> OrderItem:
    return OrderItem(
        itemid=doc["itemid"],
        headline=doc["headline"],
        state=ItemState(doc["state"]),
        rakuten_status=doc.get("rakuten_status", ""),
        sku=doc.get("sku"),
        eans=tuple(doc.get("eans") or ()),
        isbn=doc.get("isbn"),
        price=_money(doc.get("price")),
        is_preorder=doc.get("is_preorder", False),
        is_nego=doc.get("is_nego", False),
        is_fulfilled_by_rakuten=doc.get("is_fulfilled_by_rakuten", False),
        shipment=_shipment(doc.get("shipment")),
        pending=_pending(doc.get("pending")),
        failure=doc.get("failure"),
        failed_attempts=doc.get("failed_attempts"),
        failed_in_bot=doc.get("failed_in_bot", False),
    )


def order_from_doc(doc: dict[str, Any]) -> OrderRecord:
    card = doc.get("card")
    return OrderRecord(
        account=doc["account"],
        purchaseid=doc["purchaseid"],
        purchase_date=_dt(doc.get("purchase_date")),
        shipping_type=doc.get("shipping_type", ""),
        is_express=doc.get("is_express", False),
        items=[item_from_doc(item) for item in doc.get("items", [])],
        ship_to=_address(doc.get("ship_to")),
        buyer_login=doc.get("buyer_login"),
        total=_money(doc.get("total")),
        card=CardRef(**card) if card else None,
        post_started_at=_dt(doc.get("post_started_at")),
        post_thread_ts=doc.get("post_thread_ts"),
        card_fingerprint=doc.get("card_fingerprint"),
        first_seen_at=_dt(doc.get("first_seen_at")),
        updated_at=_dt(doc.get("updated_at")),
        closed_at=_dt(doc.get("closed_at")),
        personal_data_purged=doc.get("personal_data_purged", False),
        unlisted_polls=doc.get("unlisted_polls", 0),
        prepaid_label=PrepaidLabel(**doc["prepaid_label"]) if doc.get("prepaid_label") else None,
        prepaid_label_checks=doc.get("prepaid_label_checks", 0),
        billing_checks=doc.get("billing_checks", 0),
        accepted_at=_dt(doc.get("accepted_at")),
        reminders={key: _reminder(mark) for key, mark in (doc.get("reminders") or {}).items()},
    )


def account_from_doc(doc: dict[str, Any]) -> AccountRecord:
    return AccountRecord(
        login=doc["login"],
        token_ciphertext=doc["token_ciphertext"],
        channel_id=doc["channel_id"],
        connected_by=doc.get("connected_by"),
        connected_at=_dt(doc.get("connected_at")),
        seller_id=doc.get("seller_id"),
        settings=AccountSettings(**(doc.get("settings") or {})),
        daily_summary=_daily_summary(doc.get("daily_summary")),
    )


def audit_from_doc(doc: dict[str, Any]) -> AuditEntry:
    return AuditEntry(**{**doc, "at": _dt(doc["at"]), "itemids": tuple(doc.get("itemids") or ())})


def poll_health_from_doc(doc: dict[str, Any]) -> PollHealth:
    error = doc.get("last_error")
    return PollHealth(
        last_attempt_at=_dt(doc.get("last_attempt_at")),
        last_success_at=_dt(doc.get("last_success_at")),
        last_error=PollFailure(FailureKind(error["kind"]), error.get("detail", "")) if error else None,
        last_error_at=_dt(doc.get("last_error_at")),
        consecutive_failures=doc.get("consecutive_failures", 0),
        outage_alerted=doc.get("outage_alerted", False),
        quota_blocked_until={
            action: moment
            for action, at in (doc.get("quota_blocked_until") or {}).items()
            if (moment := _dt(at)) is not None
        },
        quota_notified=dict(doc.get("quota_notified") or {}),
    )
