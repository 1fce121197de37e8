"""The order card: one Slack message per Rakuten purchase, updated in place as its items change state.

A seller must take the order in at a glance: Express first, what to do next and by when, where it goes,
what is in it. Personal data stays off the card unless the account opts in (``show_full_address``);
"Show address" answers privately instead.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.metadata import Metadata

from bot.constants import (
    ACTION_ACCEPT,
    ACTION_MARK_SHIPPED,
    ACTION_REFUSE,
    ACTION_SHOW_ADDRESS,
    ORDER_EVENT_TYPE,
)
from bot.store.records import (
    AccountSettings,
    ItemState,
    OrderItem,
    OrderRecord,
    OrderState,
    PendingAction,
    PendingKind,
    PrepaidLabel,
    Shipment,
)
from bot.ui import formatting as fmt
from bot.ui.limits import (
    FIELD_TEXT_MAX,
    HEADER_TEXT_MAX,
    MESSAGE_MAX_BLOCKS,
    NOTIFICATION_TEXT_MAX,
    SECTION_TEXT_MAX,
    blocks_as_dicts,
)
from bot.ui.refs import OrderRef
from bot.ui.timing import SHIPPABLE_STATES, decide_by
from rakuten.models import Address, AddressKind, Money

EXPRESS_MARKER = "⚡"
ACCEPT_CONFIRM_TEXT = "Accepting charges the buyer's card and commits you to ship within the deadline."
REFUSE_CONFIRM_TEXT = "Refusing now is better for your seller score than cancelling later."
NO_ADDRESS_WARNING = "⚠️ *No shipping address in this order*: check it on Rakuten before shipping."
PURGED_NOTE = "_buyer data removed after retention_"

BLOCK_HEADER = "order_header"
BLOCK_STATE = "order_state"
BLOCK_MENTION = "order_mention"
BLOCK_FIELDS = "order_fields"
BLOCK_NO_ADDRESS = "order_no_address"
BLOCK_ITEMS_DIVIDER = "order_items_divider"
BLOCK_ITEMS_MORE = "order_items_more"
BLOCK_ACTIONS = "order_actions"
BLOCK_CONTEXT = "order_context"

_HEADLINE_MAX = 150
_NAME_MAX = 80

ORDER_STATE_LABELS: dict[OrderState, str] = {
    OrderState.TO_ACCEPT: "🟡 To accept",
    OrderState.TO_SHIP: "📦 Awaiting shipment",
    OrderState.PARTIALLY_SHIPPED: "📦 Partially shipped",
    OrderState.SHIPPED: "✅ Shipped",
    OrderState.REFUSED: "⛔ Refused",
    OrderState.CANCELLED: "✖️ Cancelled",
    OrderState.ON_HOLD: "⏳ On hold (claim)",
    OrderState.UNKNOWN: "❔ Status unknown",
}

ITEM_STATE_LABELS: dict[ItemState, str] = {
    ItemState.TO_ACCEPT: "🟡 To accept",
    ItemState.TO_SHIP: "📦 To ship",
    ItemState.SHIPPED: "✅ Shipped",
    ItemState.REFUSED: "⛔ Refused",
    ItemState.CANCELLED: "✖️ Cancelled",
    ItemState.ON_HOLD: "⏳ On hold (claim)",
    ItemState.UNKNOWN: "❔ Status unknown",
}

_OPEN_FOR_MENTION = frozenset({OrderState.TO_ACCEPT, OrderState.TO_SHIP, OrderState.PARTIALLY_SHIPPED})


@dataclass(frozen=True)
class OrderCard:
    """A rendered card: what ``chat.postMessage`` / ``chat.update`` need, and a digest to skip no-op updates."""

    text: str
    blocks: list[Block]
    metadata: Metadata
    fingerprint: str
    payload: dict[str, Any]  # the validated dicts, built once: rendering is most of a busy poll's CPU

    def as_kwargs(self) -> dict[str, Any]:
        """The exact ``text``, ``blocks`` and ``metadata`` kwargs for chat_postMessage / chat_update."""
        return dict(self.payload)

    def to_dict(self) -> dict[str, Any]:
        return self.as_kwargs()


def build_order_card(order: OrderRecord, settings: AccountSettings, *, now: datetime) -> OrderCard:
    countdown = decide_by(order, now) if order.state is OrderState.TO_ACCEPT else None
    text = notification_text(order, settings)
    metadata = Metadata(
        event_type=ORDER_EVENT_TYPE,
        event_payload={"account": order.account, "purchaseid": order.purchaseid},
    )
    blocks = _card_blocks(order, settings, countdown)
    payload = {"text": text, "blocks": blocks_as_dicts(blocks), "metadata": metadata.to_dict()}
    # "Deadline passed" appears only once the deadline is over; re-rendering a card for that alone would cost
    # a chat.update per overdue order, so the fingerprint is taken over the card without the deadline.
    stable = payload if not countdown else {**payload, "blocks": blocks_as_dicts(_card_blocks(order, settings, None))}
    return OrderCard(text=text, blocks=blocks, metadata=metadata, fingerprint=_fingerprint(stable), payload=payload)


def notification_text(order: OrderRecord, settings: AccountSettings) -> str:
    """The notification line: Express first, then id, item count, total, city; never street or phone."""
    prefix = f"{EXPRESS_MARKER} Express order" if order.is_express else "🛒 Order"
    total, items_only = order_total(order)
    total_text = f"{total.format()}{' (items)' if items_only else ''}" if total else None
    city = None if order.personal_data_purged or order.ship_to is None else fmt.clip(order.ship_to.city, 60)
    state = _state_label(order, None).replace("*", "")
    parts = [
        f"{prefix} {fmt.clip(order.purchaseid, 60)}",
        fmt.plural(len(order.items), "item"),
        total_text,
        city,
        state,
    ]
    text = fmt.join_nonempty(parts)
    express_mention = _express_mention(order, settings)
    if express_mention:
        text = f"{text} {express_mention}"
    return fmt.fit(text, NOTIFICATION_TEXT_MAX)


def order_total(order: OrderRecord) -> tuple[Money | None, bool]:
    """(amount, is_items_sum): Rakuten's total when known, else the sum of the item prices."""
    if order.total is not None:
        return order.total, False
    prices = [item.price for item in order.items if item.price is not None]
    if not prices or len(prices) != len(order.items):
        return None, False
    total = prices[0]
    try:
        for price in prices[1:]:
            total = total + price
    except ValueError:  # mixed currencies: no honest single figure
        return None, False
    return total, True


def order_ref(order: OrderRecord) -> OrderRef:
    return OrderRef(order.account, order.purchaseid)


# --- blocks ---------------------------------------------------------------------------------------------------


def _card_blocks(order: OrderRecord, settings: AccountSettings, countdown: str | None) -> list[Block]:
    head: list[Block] = [
        HeaderBlock(block_id=BLOCK_HEADER, text=_header_text(order)),
        SectionBlock(block_id=BLOCK_STATE, text=MarkdownTextObject(text=_state_label(order, countdown))),
    ]
    express_mention = _express_mention(order, settings)
    if express_mention:
        head.append(
            SectionBlock(
                block_id=BLOCK_MENTION,
                text=MarkdownTextObject(
                    text=f"{express_mention} {EXPRESS_MARKER} Express delivery: this order goes first."
                ),
            )
        )
    head.append(SectionBlock(block_id=BLOCK_FIELDS, fields=_fields(order, settings)))
    if _missing_address(order) and order.is_open:
        head.append(SectionBlock(block_id=BLOCK_NO_ADDRESS, text=MarkdownTextObject(text=NO_ADDRESS_WARNING)))
    head.append(DividerBlock(block_id=BLOCK_ITEMS_DIVIDER))

    tail: list[Block] = []
    buttons = _buttons(order, settings)
    if buttons:
        tail.append(ActionsBlock(block_id=BLOCK_ACTIONS, elements=buttons))
    tail.append(ContextBlock(block_id=BLOCK_CONTEXT, elements=[MarkdownTextObject(text=_context_text(order))]))

    item_budget = MESSAGE_MAX_BLOCKS - len(head) - len(tail)
    return [*head, *_item_blocks(order, item_budget), *tail]


def _header_text(order: OrderRecord) -> str:
    label = f"{EXPRESS_MARKER} EXPRESS · Order" if order.is_express else "🛒 Order"
    return fmt.plain(f"{label} {order.purchaseid}", HEADER_TEXT_MAX)


def _state_label(order: OrderRecord, countdown: str | None) -> str:
    pending = [item.pending for item in order.items if item.pending is not None]
    kinds = {action.kind for action in pending}
    retrying = any(action.last_error for action in pending)
    if PendingKind.SHIP in kinds:
        label = "📤 *Sending tracking to Rakuten…*"
    elif PendingKind.ACCEPT in kinds:
        label = "⏳ *Accepting on Rakuten…*"
    elif PendingKind.REFUSE in kinds:
        label = "⏳ *Refusing on Rakuten…*"
    else:
        state = order.state
        label = f"*{ORDER_STATE_LABELS[state]}*"
        if state is OrderState.PARTIALLY_SHIPPED:
            shipped, total = _shipped_count(order)
            label = f"*{ORDER_STATE_LABELS[state]} ({shipped} of {total})*"
        elif state is OrderState.TO_ACCEPT and countdown:
            label = f"{label} — {countdown}"
        elif state is OrderState.UNKNOWN:
            raw = sorted({item.rakuten_status for item in order.items if item.rakuten_status})
            if raw:
                label = f"{label} (Rakuten says {fmt.clip(', '.join(raw), 100)})"
        return label
    return f"{label} (retrying)" if retrying else label


def _shipped_count(order: OrderRecord) -> tuple[int, int]:
    live = [item for item in order.items if item.state not in {ItemState.REFUSED, ItemState.CANCELLED}]
    return sum(1 for item in live if item.state is ItemState.SHIPPED), len(live)


def _express_mention(order: OrderRecord, settings: AccountSettings) -> str | None:
    if not (order.is_express and settings.express_mention and order.state in _OPEN_FOR_MENTION):
        return None
    return fmt.mention(settings.express_mention)


def _missing_address(order: OrderRecord) -> bool:
    return order.ship_to is None and not order.personal_data_purged


def _fields(order: OrderRecord, settings: AccountSettings) -> list[MarkdownTextObject]:
    shipping = fmt.clip(order.shipping_type, 100) or "not given"
    if order.is_express:
        shipping = f"{EXPRESS_MARKER} {shipping}"
    fields = [
        f"*Ordered*\n{fmt.paris_datetime(order.purchase_date)}",
        f"*Shipping*\n{shipping}",
        f"*Ship to*\n{_ship_to_text(order, settings)}",
    ]
    relay = order.ship_to if order.ship_to and order.ship_to.kind is AddressKind.COLLECTION_POINT else None
    if relay is not None and not order.personal_data_purged:
        fields.append(f"*Relay point*\n{_relay_text(relay)}")
    total, items_only = order_total(order)
    fields.append(f"*{'Total (items)' if items_only else 'Total'}*\n{fmt.money(total)}")
    fields.append(f"*Items*\n{len(order.items)}")
    if order.prepaid_label is not None and order.is_open:
        fields.append(f"*Prepaid label*\n{_prepaid_label_text(order.prepaid_label)}")
    return [MarkdownTextObject(text=fmt.fit(field, FIELD_TEXT_MAX)) for field in fields]


def _prepaid_label_text(label: PrepaidLabel) -> str:
    """The label to print (Rakuten's link) and the tracking number it carries."""
    parts = []
    if label.label_url:
        parts.append(fmt.link(label.label_url, "🏷️ Print the label"))
    if label.tracking_number:
        parts.append(fmt.link(label.tracking_url, fmt.code(label.tracking_number, 40)))
    return "\n".join(parts)


def _ship_to_text(order: OrderRecord, settings: AccountSettings) -> str:
    if order.personal_data_purged:
        return PURGED_NOTE
    address = order.ship_to
    if address is None:
        return "none in this order"
    lines = [fmt.clip(address.full_name, _NAME_MAX)]
    if settings.show_full_address:
        lines += [fmt.clip(address.address1, 120), fmt.clip(address.address2, 120)]
    lines.append(fmt.join_nonempty([fmt.clip(address.zipcode, 20), fmt.clip(address.city, 60)], " "))
    lines.append(fmt.clip(address.country or address.country_code, 60))
    if settings.show_full_address and address.phone:
        lines.append(f"☎ {fmt.clip(address.phone, 30)}")
    return "\n".join(line for line in lines if line) or "no details given"


def _relay_text(relay: Address) -> str:
    name = fmt.clip(relay.point_name, 100) or "relay point"
    return f"{name} ({fmt.clip(relay.point_id, 40)})" if relay.point_id else name


# --- items ----------------------------------------------------------------------------------------------------


def _item_blocks(order: OrderRecord, budget: int) -> list[Block]:
    """One section per item; for big orders items are packed several to a section to stay within ``budget``."""
    mixed = len({item.state for item in order.items}) > 1
    texts = [fmt.fit(_item_text(item, mixed), SECTION_TEXT_MAX) for item in order.items]
    if len(texts) <= budget:
        chunks = texts
        left_out = 0
    else:
        chunks, left_out = _pack(texts, budget)
    blocks: list[Block] = [
        SectionBlock(block_id=f"item_{index}", text=MarkdownTextObject(text=chunk))
        for index, chunk in enumerate(chunks)
    ]
    if left_out:
        more = f"…and {fmt.plural(left_out, 'more item')}: see the full order on Rakuten."
        blocks.append(SectionBlock(block_id=BLOCK_ITEMS_MORE, text=MarkdownTextObject(text=more)))
    return blocks


def _pack(texts: list[str], budget: int) -> tuple[list[str], int]:
    """Texts joined into at most ``budget`` sections of at most 3000 characters; (chunks, items left out)."""
    chunks: list[str] = []
    current = ""
    for index, text in enumerate(texts):
        candidate = f"{current}\n\n{text}" if current else text
        if len(candidate) <= SECTION_TEXT_MAX:
            current = candidate
            continue
        chunks.append(current)
        current = text
        # Keep one block for the "and N more" line once the budget is nearly spent.
        if len(chunks) == budget - 1:
            return chunks, len(texts) - index
    chunks.append(current)
    return chunks, 0


def _item_text(item: OrderItem, mixed: bool) -> str:
    lines = [f"*{fmt.clip(item.headline, _HEADLINE_MAX) or 'Untitled item'}*"]
    identifiers = [
        f"SKU {_code(item.sku)}" if item.sku else None,
        f"EAN {', '.join(_code(ean) for ean in item.eans[:5])}" if item.eans else None,
        f"ISBN {_code(item.isbn)}" if item.isbn and item.isbn not in item.eans else None,
        fmt.money(item.price) if item.price else None,
    ]
    lines.append(fmt.join_nonempty(identifiers))
    tags = [
        "`Pre-order`" if item.is_preorder else None,
        "`Negotiated price`" if item.is_nego else None,
        "`Fulfilled by Rakuten`" if item.is_fulfilled_by_rakuten else None,
    ]
    lines.append(" ".join(tag for tag in tags if tag))
    if mixed:
        lines.append(ITEM_STATE_LABELS[item.state])
    if item.shipment is not None and item.pending is None:
        lines.append(_shipment_text(item.shipment))
    if item.pending is not None:
        lines.append(_pending_text(item.pending))
    if item.failure:
        lines.append(f"⚠️ Rakuten refused: {fmt.clip(item.failure, 300)}")
    return "\n".join(line for line in lines if line)


def _code(value: str | None) -> str:
    return fmt.code(value, 60)


def _shipment_text(shipment: Shipment) -> str:
    who = f"by {fmt.user(shipment.shipped_by)}" if shipment.shipped_by else "on the Rakuten site"
    when = fmt.paris_short(shipment.shipped_at) if shipment.shipped_at else None
    tracking = fmt.link(shipment.tracking_url, fmt.truncate(shipment.tracking_number, 40))
    return fmt.join_nonempty([f"Shipped via {fmt.clip(shipment.carrier, 40)}", tracking, who, when])


def _pending_text(pending: PendingAction) -> str:
    if pending.kind is PendingKind.SHIP:
        what = "sending to Rakuten…"
        if pending.shipment is not None:
            what = (
                f"sending {fmt.clip(pending.shipment.carrier, 40)} "
                f"{fmt.clip(pending.shipment.tracking_number, 40)} to Rakuten…"
            )
    elif pending.kind is PendingKind.ACCEPT:
        what = "accepting on Rakuten…"
    else:
        what = "refusing on Rakuten…"
    details = []
    if pending.attempts > 1:
        details.append(f"attempt {pending.attempts}")
    if pending.last_error:
        details.append(f"last error: {fmt.clip(pending.last_error, 200)}")
    suffix = f" ({', '.join(details)})" if details else ""
    return f"📤 {what}{suffix}" if pending.kind is PendingKind.SHIP else f"⏳ {what}{suffix}"


# --- buttons and context ----------------------------------------------------------------------------------------


def _buttons(order: OrderRecord, settings: AccountSettings) -> list[ButtonElement]:
    value = order_ref(order).encode()
    state = order.state
    pending_kinds = {item.pending.kind for item in order.items if item.pending is not None}
    if state is OrderState.TO_ACCEPT:
        if pending_kinds & {PendingKind.ACCEPT, PendingKind.REFUSE}:
            return []
        to_accept = sum(1 for item in order.items if item.state is ItemState.TO_ACCEPT)
        return [_accept_button(value), _refuse_button(value, to_accept)]
    if state not in SHIPPABLE_STATES:
        return []
    buttons: list[ButtonElement] = []
    shippable = [item for item in order.items if item.state is ItemState.TO_SHIP and item.pending is None]
    if order.ship_to is not None and shippable:
        buttons.append(ButtonElement(text="Mark shipped", action_id=ACTION_MARK_SHIPPED, value=value, style="primary"))
    if order.ship_to is not None and not order.personal_data_purged and not settings.show_full_address:
        buttons.append(ButtonElement(text="Show address", action_id=ACTION_SHOW_ADDRESS, value=value))
    return buttons


def _accept_button(value: str) -> ButtonElement:
    confirm = ConfirmObject(title="Accept this order?", text=ACCEPT_CONFIRM_TEXT, confirm="Accept", deny="Back")
    return ButtonElement(text="Accept", action_id=ACTION_ACCEPT, value=value, style="primary", confirm=confirm)


def _refuse_button(value: str, count: int) -> ButtonElement:
    question = "Refuse this item?" if count == 1 else f"Refuse all {count} items?"
    confirm = ConfirmObject(
        title="Refuse this order?",
        text=f"{REFUSE_CONFIRM_TEXT} {question}",
        confirm="Refuse",
        deny="Back",
        style="danger",
    )
    return ButtonElement(text="Refuse", action_id=ACTION_REFUSE, value=value, style="danger", confirm=confirm)


def _context_text(order: OrderRecord) -> str:
    updated = order.updated_at or order.first_seen_at
    parts = [
        f"Rakuten account {fmt.clip(order.account, 60)}",
        f"updated {fmt.paris_short(updated)}" if updated else None,
    ]
    return fmt.join_nonempty(parts)


def _fingerprint(payload: dict[str, Any]) -> str:
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()
