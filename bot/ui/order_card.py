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
    ACTION_CANCEL_ITEM,
    ACTION_MARK_SHIPPED,
    ACTION_REFUSE,
    ACTION_REPLY,
    ACTION_SHOW_ADDRESS,
    ORDER_EVENT_TYPE,
)
from bot.domain.accounts import AccountSettings
from bot.domain.after_sale import AfterSale
from bot.domain.deadlines import DEFAULT_RULES, DeadlineRules, is_late_to_ship, ship_deadline
from bot.domain.orders import (
    SHIPPABLE_STATES,
    ItemState,
    OrderItem,
    OrderRecord,
    OrderRef,
    OrderState,
    PendingAction,
    PendingKind,
    PrepaidLabel,
    Shipment,
    order_total,
    shippable_items,
)
from bot.ui import formatting as fmt
from bot.ui.i18n import Translator
from bot.ui.limits import (
    FIELD_TEXT_MAX,
    HEADER_TEXT_MAX,
    ITEM_TITLE_MAX,
    MESSAGE_MAX_BLOCKS,
    MESSAGE_TEXT_BUDGET,
    NOTIFICATION_TEXT_MAX,
    SECTION_TEXT_MAX,
    blocks_as_dicts,
    blocks_text_length,
)
from bot.ui.refs import encode_order_ref
from bot.ui.timing import decide_by
from rakuten.models import Address, AddressKind

EXPRESS_MARKER = "⚡"

BLOCK_HEADER = "order_header"
BLOCK_STATE = "order_state"
BLOCK_MENTION = "order_mention"
BLOCK_FIELDS = "order_fields"
BLOCK_NO_ADDRESS = "order_no_address"
BLOCK_ITEMS_DIVIDER = "order_items_divider"
BLOCK_ITEMS_MORE = "order_items_more"
BLOCK_ACTIONS = "order_actions"
BLOCK_CONTEXT = "order_context"

_NAME_MAX = 80


def order_state_label(t: Translator, state: OrderState) -> str:
    """The order's state as the card, the Home tab and the lists name it."""
    match state:
        case OrderState.TO_ACCEPT:
            return t.gettext("🟡 To accept")
        case OrderState.TO_SHIP:
            return t.gettext("📦 Awaiting shipment")
        case OrderState.PARTIALLY_SHIPPED:
            return t.gettext("📦 Partially shipped")
        case OrderState.SHIPPED:
            return t.gettext("✅ Shipped")
        case OrderState.REFUSED:
            return t.gettext("⛔ Refused")
        case OrderState.CANCELLED:
            return t.gettext("✖️ Cancelled")
        case OrderState.ON_HOLD:
            return t.gettext("⏳ On hold (claim)")
    return t.gettext("❔ Status unknown")


def item_state_label(t: Translator, state: ItemState) -> str:
    """An item's state, shown under each item when an order's items are not all in the same state."""
    match state:
        case ItemState.TO_ACCEPT:
            return t.gettext("🟡 To accept")
        case ItemState.TO_SHIP:
            return t.gettext("📦 To ship")
        case ItemState.SHIPPED:
            return t.gettext("✅ Shipped")
        case ItemState.REFUSED:
            return t.gettext("⛔ Refused")
        case ItemState.CANCELLED:
            return t.gettext("✖️ Cancelled")
        case ItemState.ON_HOLD:
            return t.gettext("⏳ On hold (claim)")
    return t.gettext("❔ Status unknown")


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


def build_order_card(
    order: OrderRecord,
    settings: AccountSettings,
    *,
    now: datetime,
    t: Translator,
    rules: DeadlineRules = DEFAULT_RULES,
) -> OrderCard:
    """The card in the channel's language ``t``; ``rules`` say when an accepted order is late to ship."""
    countdown = decide_by(t, order, now) if order.state is OrderState.TO_ACCEPT else None
    late = late_to_ship_text(t, order, now, rules)
    text = notification_text(t, order, settings)
    metadata = Metadata(
        event_type=ORDER_EVENT_TYPE,
        event_payload={"account": order.account, "purchaseid": order.purchaseid},
    )
    blocks = _card_blocks(t, order, settings, countdown, late)
    payload = {"text": text, "blocks": blocks_as_dicts(blocks), "metadata": metadata.to_dict()}
    # "Deadline passed" appears only once the deadline is over; re-rendering a card for that alone would cost
    # a chat.update per overdue order, so the fingerprint is taken over the card without the deadline. "Late" is
    # in it: the card must say so until shipped (the reminders' run brings it up to date when it turns late).
    stable = (
        payload
        if not countdown
        else {**payload, "blocks": blocks_as_dicts(_card_blocks(t, order, settings, None, late))}
    )
    return OrderCard(text=text, blocks=blocks, metadata=metadata, fingerprint=_fingerprint(stable), payload=payload)


def late_to_ship_text(t: Translator, order: OrderRecord, now: datetime, rules: DeadlineRules) -> str | None:
    """``⏰ *Late*: was due …`` for an accepted order not shipped in time; None otherwise."""
    if not is_late_to_ship(order, now, rules):
        return None
    deadline = ship_deadline(order, rules)
    assert deadline is not None  # late implies a deadline
    return t.gettext("⏰ *Late*: was due {deadline}", deadline=t.short_datetime(deadline))


def notification_text(t: Translator, order: OrderRecord, settings: AccountSettings) -> str:
    """The notification line: Express first, then id, item count, total, city; never street or phone."""
    purchaseid = fmt.clip(order.purchaseid, 60)
    if order.is_express:
        prefix = t.gettext("{marker} Express order {purchaseid}", marker=EXPRESS_MARKER, purchaseid=purchaseid)
    else:
        prefix = t.gettext("🛒 Order {purchaseid}", purchaseid=purchaseid)
    total, items_only = order_total(order)
    total_text = None
    if total is not None:
        total_text = t.gettext("{amount} (items)", amount=t.money(total)) if items_only else t.money(total)
    city = None if order.personal_data_purged or order.ship_to is None else fmt.clip(order.ship_to.city, 60)
    state = _state_label(t, order, None).replace("*", "")
    parts = [
        prefix,
        t.ngettext("{count} item", "{count} items", len(order.items)),
        total_text,
        city,
        state,
    ]
    text = fmt.join_nonempty(parts)
    express_mention = _express_mention(order, settings)
    if express_mention:
        text = f"{text} {express_mention}"
    return fmt.fit(text, NOTIFICATION_TEXT_MAX)


def order_ref(order: OrderRecord) -> OrderRef:
    return OrderRef(order.account, order.purchaseid)


# --- blocks ---------------------------------------------------------------------------------------------------


def _card_blocks(
    t: Translator, order: OrderRecord, settings: AccountSettings, countdown: str | None, late: str | None
) -> list[Block]:
    state_text = _state_label(t, order, countdown, late)
    shown_badges = badges(t, order.after_sale)
    if shown_badges:
        state_text = f"{state_text}\n*{' · '.join(shown_badges)}*"
    head: list[Block] = [
        HeaderBlock(block_id=BLOCK_HEADER, text=_header_text(t, order)),
        SectionBlock(block_id=BLOCK_STATE, text=MarkdownTextObject(text=state_text)),
    ]
    express_mention = _express_mention(order, settings)
    if express_mention:
        mention_text = t.gettext(
            "{mention} {marker} Express delivery: this order goes first.",
            mention=express_mention,
            marker=EXPRESS_MARKER,
        )
        head.append(SectionBlock(block_id=BLOCK_MENTION, text=MarkdownTextObject(text=mention_text)))
    head.append(SectionBlock(block_id=BLOCK_FIELDS, fields=_fields(t, order, settings)))
    if _missing_address(order) and order.is_open:
        warning = t.gettext("⚠️ *No shipping address in this order*: check it on Rakuten before shipping.")
        head.append(SectionBlock(block_id=BLOCK_NO_ADDRESS, text=MarkdownTextObject(text=warning)))
    head.append(DividerBlock(block_id=BLOCK_ITEMS_DIVIDER))

    tail: list[Block] = []
    buttons = _buttons(t, order, settings)
    if buttons:
        tail.append(ActionsBlock(block_id=BLOCK_ACTIONS, elements=buttons))
    tail.append(ContextBlock(block_id=BLOCK_CONTEXT, elements=[MarkdownTextObject(text=_context_text(t, order))]))

    item_budget = MESSAGE_MAX_BLOCKS - len(head) - len(tail)
    text_budget = MESSAGE_TEXT_BUDGET - blocks_text_length([*head, *tail])
    return [*head, *_item_blocks(t, order, item_budget, text_budget), *tail]


def badges(t: Translator, after_sale: AfterSale) -> list[str]:
    """``💬 message`` while a buyer message waits for an answer, ``⚠️ claim open`` while a claim is."""
    shown: list[str] = []
    waiting = len(after_sale.unanswered())
    if waiting:
        shown.append(t.ngettext("💬 message", "💬 {count} messages", waiting))
    claims = len(after_sale.open_claims())
    if claims:
        shown.append(t.ngettext("⚠️ claim open", "⚠️ {count} claims open", claims))
    return shown


def _header_text(t: Translator, order: OrderRecord) -> str:
    if order.is_express:
        text = t.gettext("{marker} EXPRESS · Order {purchaseid}", marker=EXPRESS_MARKER, purchaseid=order.purchaseid)
    else:
        text = t.gettext("🛒 Order {purchaseid}", purchaseid=order.purchaseid)
    return fmt.plain(text, HEADER_TEXT_MAX)


def _state_label(t: Translator, order: OrderRecord, countdown: str | None, late: str | None = None) -> str:
    pending = [item.pending for item in order.items if item.pending is not None]
    kinds = {action.kind for action in pending}
    retrying = any(action.last_error for action in pending)
    if PendingKind.SHIP in kinds:
        label = t.gettext("📤 *Sending tracking to Rakuten…*")
    elif PendingKind.ACCEPT in kinds:
        label = t.gettext("⏳ *Accepting on Rakuten…*")
    elif PendingKind.REFUSE in kinds:
        label = t.gettext("⏳ *Refusing on Rakuten…*")
    elif PendingKind.CANCEL in kinds:
        label = t.gettext("⏳ *Cancelling on Rakuten…*")
    else:
        state = order.state
        name = order_state_label(t, state)
        label = f"*{name}*"
        if state is OrderState.PARTIALLY_SHIPPED:
            shipped, total = _shipped_count(order)
            label = t.gettext("*{state} ({shipped} of {total})*", state=name, shipped=shipped, total=total)
        elif state is OrderState.TO_ACCEPT and countdown:
            label = f"{label} — {countdown}"
        elif state is OrderState.UNKNOWN:
            raw = sorted({item.rakuten_status for item in order.items if item.rakuten_status})
            if raw:
                label = t.gettext("{state} (Rakuten says {status})", state=label, status=fmt.clip(", ".join(raw), 100))
        if late and state in SHIPPABLE_STATES:
            label = f"{label} — {late}"
        return label
    return t.gettext("{state} (retrying)", state=label) if retrying else label


def _shipped_count(order: OrderRecord) -> tuple[int, int]:
    live = [item for item in order.items if item.state not in {ItemState.REFUSED, ItemState.CANCELLED}]
    return sum(1 for item in live if item.state is ItemState.SHIPPED), len(live)


def _express_mention(order: OrderRecord, settings: AccountSettings) -> str | None:
    if not (order.is_express and settings.express_mention and order.state in _OPEN_FOR_MENTION):
        return None
    return fmt.mention(settings.express_mention)


def _missing_address(order: OrderRecord) -> bool:
    return order.ship_to is None and not order.personal_data_purged


def _field(title: str, value: str) -> str:
    return f"*{title}*\n{value}"


def _fields(t: Translator, order: OrderRecord, settings: AccountSettings) -> list[MarkdownTextObject]:
    shipping = fmt.clip(order.shipping_type, 100) or t.gettext("not given")
    if order.is_express:
        shipping = f"{EXPRESS_MARKER} {shipping}"
    ordered = t.datetime(order.purchase_date) if order.purchase_date else t.gettext("unknown")
    fields = [
        _field(t.gettext("Ordered"), ordered),
        _field(t.gettext("Shipping"), shipping),
        _field(t.gettext("Ship to"), _ship_to_text(t, order, settings)),
    ]
    relay = order.ship_to if order.ship_to and order.ship_to.kind is AddressKind.COLLECTION_POINT else None
    if relay is not None and not order.personal_data_purged:
        fields.append(_field(t.gettext("Relay point"), _relay_text(t, relay)))
    total, items_only = order_total(order)
    fields.append(_field(t.gettext("Total (items)") if items_only else t.gettext("Total"), t.money(total)))
    fields.append(_field(t.gettext("Items"), t.number(len(order.items))))
    if order.prepaid_label is not None and order.is_open:
        fields.append(_field(t.gettext("Prepaid label"), _prepaid_label_text(t, order.prepaid_label)))
    return [MarkdownTextObject(text=fmt.fit(field, FIELD_TEXT_MAX)) for field in fields]


def _prepaid_label_text(t: Translator, label: PrepaidLabel) -> str:
    """The label to print (Rakuten's link) and the tracking number it carries."""
    parts = []
    if label.label_url:
        parts.append(fmt.link(label.label_url, t.gettext("🏷️ Print the label")))
    if label.tracking_number:
        parts.append(fmt.link(label.tracking_url, fmt.code(label.tracking_number, 40)))
    return "\n".join(parts)


def _ship_to_text(t: Translator, order: OrderRecord, settings: AccountSettings) -> str:
    if order.personal_data_purged:
        return t.gettext("_buyer data removed after retention_")
    address = order.ship_to
    if address is None:
        return t.gettext("none in this order")
    lines = [fmt.clip(address.full_name, _NAME_MAX)]
    if settings.show_full_address:
        lines += [fmt.clip(address.address1, 120), fmt.clip(address.address2, 120)]
    lines.append(fmt.join_nonempty([fmt.clip(address.zipcode, 20), fmt.clip(address.city, 60)], " "))
    lines.append(fmt.clip(address.country or address.country_code, 60))
    if settings.show_full_address and address.phone:
        lines.append(f"☎ {fmt.clip(address.phone, 30)}")
    return "\n".join(line for line in lines if line) or t.gettext("no details given")


def _relay_text(t: Translator, relay: Address) -> str:
    name = fmt.clip(relay.point_name, 100) or t.gettext("relay point")
    return f"{name} ({fmt.clip(relay.point_id, 40)})" if relay.point_id else name


# --- items ----------------------------------------------------------------------------------------------------


def _item_blocks(t: Translator, order: OrderRecord, budget: int, text_budget: int) -> list[Block]:
    """One section per item; for big orders items are packed several to a section to stay within ``budget``
    blocks, and the items shown carry at most ``text_budget`` characters (the rest are counted, not shown)."""
    mixed = len({item.state for item in order.items}) > 1
    texts = [fmt.fit(_item_text(t, item, mixed), SECTION_TEXT_MAX) for item in order.items]
    # Room for the "…and N more" line, should it be needed.
    room = text_budget - 100
    shown = 0
    while shown < len(texts) and room - len(texts[shown]) - 2 >= 0:
        room -= len(texts[shown]) + 2
        shown += 1
    shown = max(shown, 1)  # the first item always shows (it fits: one item is at most a section's 3,000)
    left_out = len(texts) - shown
    blocks_for_items = budget - 1 if left_out else budget  # keep one block for the "and N more" line
    if shown <= blocks_for_items:
        chunks = texts[:shown]
    else:
        chunks, packed_out = _pack(texts[:shown], blocks_for_items)
        left_out += packed_out
    blocks: list[Block] = [
        SectionBlock(block_id=f"item_{index}", text=MarkdownTextObject(text=chunk))
        for index, chunk in enumerate(chunks)
    ]
    if left_out:
        more = t.ngettext(
            "…and {count} more item: see the full order on Rakuten.",
            "…and {count} more items: see the full order on Rakuten.",
            left_out,
        )
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


def _item_text(t: Translator, item: OrderItem, mixed: bool) -> str:
    lines = [f"*{fmt.clip(item.headline, ITEM_TITLE_MAX) or t.gettext('Untitled item')}*"]
    identifiers = [
        f"SKU {_code(item.sku)}" if item.sku else None,
        f"EAN {', '.join(_code(ean) for ean in item.eans[:5])}" if item.eans else None,
        f"ISBN {_code(item.isbn)}" if item.isbn and item.isbn not in item.eans else None,
        t.money(item.price) if item.price else None,
    ]
    lines.append(fmt.join_nonempty(identifiers))
    tags = [
        t.gettext("`Pre-order`") if item.is_preorder else None,
        t.gettext("`Negotiated price`") if item.is_nego else None,
        t.gettext("`Fulfilled by Rakuten`") if item.is_fulfilled_by_rakuten else None,
    ]
    lines.append(" ".join(tag for tag in tags if tag))
    if mixed:
        lines.append(item_state_label(t, item.state))
    if item.shipment is not None and item.pending is None:
        lines.append(_shipment_text(t, item.shipment))
    if item.pending is not None:
        lines.append(_pending_text(t, item.pending))
    if item.failure and item.failed_in_bot:
        lines.append(
            t.gettext(
                "⚠️ Not sent: the bot stopped on an error of its own ({error}). Use the button again; the operator "
                "finds the details in the bot's log.",
                error=fmt.clip(item.failure, 300),
            )
        )
    elif item.failure and item.failed_attempts:
        reason = t.gettext(
            "Rakuten could not be reached after {attempts} attempts ({reason})",
            attempts=item.failed_attempts,
            reason=fmt.clip(item.failure, 300),
        )
        lines.append(t.gettext("⚠️ Rakuten refused: {reason}", reason=reason))
    elif item.failure:
        lines.append(t.gettext("⚠️ Rakuten refused: {reason}", reason=fmt.clip(item.failure, 300)))
    return "\n".join(line for line in lines if line)


def _code(value: str | None) -> str:
    return fmt.code(value, 60)


def _shipment_text(t: Translator, shipment: Shipment) -> str:
    mention = fmt.user(shipment.shipped_by)
    if mention is not None:
        who = t.gettext("by {user}", user=mention)
    else:
        who = t.gettext("by someone") if shipment.shipped_by else t.gettext("on the Rakuten site")
    when = t.short_datetime(shipment.shipped_at) if shipment.shipped_at else None
    tracking = fmt.link(shipment.tracking_url, fmt.truncate(shipment.tracking_number, 40))
    carrier = t.gettext("Shipped via {carrier}", carrier=fmt.clip(shipment.carrier, 40))
    return fmt.join_nonempty([carrier, tracking, who, when])


def _pending_text(t: Translator, pending: PendingAction) -> str:
    if pending.kind is PendingKind.SHIP:
        what = t.gettext("📤 sending to Rakuten…")
        if pending.shipment is not None:
            what = t.gettext(
                "📤 sending {carrier} {tracking} to Rakuten…",
                carrier=fmt.clip(pending.shipment.carrier, 40),
                tracking=fmt.clip(pending.shipment.tracking_number, 40),
            )
    elif pending.kind is PendingKind.ACCEPT:
        what = t.gettext("⏳ accepting on Rakuten…")
    elif pending.kind is PendingKind.CANCEL:
        what = t.gettext("⏳ cancelling on Rakuten…")
    else:
        what = t.gettext("⏳ refusing on Rakuten…")
    details = []
    if pending.attempts > 1:
        details.append(t.gettext("attempt {number}", number=pending.attempts))
    if pending.last_error:
        details.append(t.gettext("last error: {error}", error=fmt.clip(pending.last_error, 200)))
    return f"{what} ({', '.join(details)})" if details else what


# --- buttons and context ----------------------------------------------------------------------------------------


def _buttons(t: Translator, order: OrderRecord, settings: AccountSettings) -> list[ButtonElement]:
    return [*_order_buttons(t, order, settings), *_after_sale_buttons(t, order)]


def _order_buttons(t: Translator, order: OrderRecord, settings: AccountSettings) -> list[ButtonElement]:
    value = encode_order_ref(order_ref(order))
    state = order.state
    pending_kinds = {item.pending.kind for item in order.items if item.pending is not None}
    if state is OrderState.TO_ACCEPT:
        if pending_kinds & {PendingKind.ACCEPT, PendingKind.REFUSE}:
            return []
        to_accept = sum(1 for item in order.items if item.state is ItemState.TO_ACCEPT)
        return [_accept_button(t, value), _refuse_button(t, value, to_accept)]
    if state not in SHIPPABLE_STATES:
        return []
    buttons: list[ButtonElement] = []
    if order.ship_to is not None and shippable_items(order):
        buttons.append(
            ButtonElement(text=t.gettext("Mark shipped"), action_id=ACTION_MARK_SHIPPED, value=value, style="primary")
        )
    if order.ship_to is not None and not order.personal_data_purged and not settings.show_full_address:
        buttons.append(ButtonElement(text=t.gettext("Show address"), action_id=ACTION_SHOW_ADDRESS, value=value))
    return buttons


def _after_sale_buttons(t: Translator, order: OrderRecord) -> list[ButtonElement]:
    """Reply once there is a conversation (in any state: buyers write after the parcel left); Cancel item for an
    accepted item not shipped, behind a confirmation."""
    value = encode_order_ref(order_ref(order))
    buttons: list[ButtonElement] = []
    if order.after_sale.has_conversation and not order.personal_data_purged:
        buttons.append(ButtonElement(text=t.gettext("Reply"), action_id=ACTION_REPLY, value=value))
    if order.state in SHIPPABLE_STATES and shippable_items(order):
        confirm = ConfirmObject(
            title=t.gettext("Cancel an item?"),
            text=t.gettext(
                "Cancelling refunds the buyer and counts against your seller score. Only for an item you cannot "
                "ship: you will give the reason next."
            ),
            confirm=t.gettext("Continue"),
            deny=t.gettext("Back"),
            style="danger",
        )
        buttons.append(
            ButtonElement(text=t.gettext("Cancel item"), action_id=ACTION_CANCEL_ITEM, value=value, confirm=confirm)
        )
    return buttons


def _accept_button(t: Translator, value: str) -> ButtonElement:
    confirm = ConfirmObject(
        title=t.gettext("Accept this order?"),
        text=t.gettext("Accepting charges the buyer's card and commits you to ship within the deadline."),
        confirm=t.gettext("Accept"),
        deny=t.gettext("Back"),
    )
    return ButtonElement(
        text=t.gettext("Accept"), action_id=ACTION_ACCEPT, value=value, style="primary", confirm=confirm
    )


def _refuse_button(t: Translator, value: str, count: int) -> ButtonElement:
    question = t.ngettext(
        "Refusing now is better for your seller score than cancelling later. Refuse this item?",
        "Refusing now is better for your seller score than cancelling later. Refuse all {count} items?",
        count,
    )
    confirm = ConfirmObject(
        title=t.gettext("Refuse this order?"),
        text=question,
        confirm=t.gettext("Refuse"),
        deny=t.gettext("Back"),
        style="danger",
    )
    return ButtonElement(
        text=t.gettext("Refuse"), action_id=ACTION_REFUSE, value=value, style="danger", confirm=confirm
    )


def _context_text(t: Translator, order: OrderRecord) -> str:
    updated = order.updated_at or order.first_seen_at
    parts = [
        t.gettext("Rakuten account {login}", login=fmt.clip(order.account, 60)),
        t.gettext("updated {when}", when=t.short_datetime(updated)) if updated else None,
    ]
    return fmt.join_nonempty(parts)


def _fingerprint(payload: dict[str, Any]) -> str:
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()
