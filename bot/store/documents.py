"""Records as JSON-safe documents, for any store: datetimes as ISO 8601, amounts as strings, enums as values."""

from __future__ import annotations

import dataclasses
import functools
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.domain.accounts import AccountRecord, AccountSettings, DailySummaryMark
from bot.domain.after_sale import (
    AfterSale,
    ClaimInfo,
    EntryKind,
    ItemFetch,
    OutgoingReply,
    Party,
    ThreadEntry,
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
    after_sale = doc.get("after_sale")
    if after_sale:
        # What buyers wrote (and what was written to them) is theirs as much as their address is.
        blank = {"content": "", "sender_name": None, "subject": None}
        purged["after_sale"] = {
            **after_sale,
            "entries": [
                {**entry, **blank, "claim": _blank_claim(entry.get("claim"))}
                for entry in after_sale.get("entries") or []
            ],
            "claims": {itemid: _blank_claim(claim) for itemid, claim in (after_sale.get("claims") or {}).items()},
            "replies": [{**reply, "content": ""} for reply in after_sale.get("replies") or []],
        }
    return purged


def _blank_claim(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    return {**doc, "comment": None} if doc else doc


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
        comment=doc.get("comment"),
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
        after_sale=after_sale_from_doc(doc.get("after_sale")),
    )


def _claim_info(doc: dict[str, Any] | None) -> ClaimInfo | None:
    if not doc:
        return None
    return ClaimInfo(
        type=doc.get("type"),
        state=doc.get("state"),
        amicable=doc.get("amicable", False),
        comment=doc.get("comment"),
        opened_at=_dt(doc.get("opened_at")),
        closed_at=_dt(doc.get("closed_at")),
    )


def _entry(doc: dict[str, Any]) -> ThreadEntry:
    return ThreadEntry(
        key=doc["key"],
        kind=EntryKind(doc["kind"]),
        itemid=doc["itemid"],
        party=Party(doc["party"]),
        sent_at=_dt(doc.get("sent_at")),
        content=doc.get("content") or "",
        sender_name=doc.get("sender_name"),
        subject=doc.get("subject"),
        mail_id=doc.get("mail_id"),
        claim=_claim_info(doc.get("claim")),
        to=Party(doc["to"]) if doc.get("to") else None,
        sent_by=doc.get("sent_by"),
        stored_at=_dt(doc.get("stored_at")),
        post_claim=doc.get("post_claim"),
        post_claimed_at=_dt(doc.get("post_claimed_at")),
        posted_ts=doc.get("posted_ts"),
    )


def _reply(doc: dict[str, Any]) -> OutgoingReply:
    return OutgoingReply(
        reply_id=doc["reply_id"],
        itemid=doc["itemid"],
        to=Party(doc["to"]),
        content=doc.get("content") or "",
        requested_by=doc["requested_by"],
        requested_at=_dt(doc["requested_at"]),  # type: ignore[arg-type]
        parent_mail_id=doc.get("parent_mail_id"),
        attempts=doc.get("attempts", 0),
        last_error=doc.get("last_error"),
        done_at=_dt(doc.get("done_at")),
        failure=doc.get("failure"),
    )


def _fetch(doc: dict[str, Any]) -> ItemFetch:
    return ItemFetch(
        requested_at=_dt(doc.get("requested_at")),
        fetched_at=_dt(doc.get("fetched_at")),
        causes=tuple(doc.get("causes") or ()),
        found_claim=doc.get("found_claim", False),
        requested=doc.get("requested", 0),
        answered=doc.get("answered", 0),
    )


def after_sale_from_doc(doc: dict[str, Any] | None) -> AfterSale:
    """An order's after-sale part; an order stored before there was one has none."""
    if not doc:
        return AfterSale()
    return AfterSale(
        entries=[_entry(entry) for entry in doc.get("entries") or []],
        claims={itemid: claim for itemid, raw in (doc.get("claims") or {}).items() if (claim := _claim_info(raw))},
        fetches={itemid: _fetch(fetch) for itemid, fetch in (doc.get("fetches") or {}).items()},
        replies=[_reply(reply) for reply in doc.get("replies") or []],
    )


def needs_after_sale_attention(doc: dict[str, Any]) -> bool:
    """Whether a stored order's after sale is to be followed (the stores index it)."""
    raw = doc.get("after_sale")
    if not raw or not any(raw.get(part) for part in ("entries", "claims", "fetches", "replies")):
        return False  # nearly every order: nothing decoded
    return after_sale_from_doc(raw).needs_attention


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
