"""The "Mark shipped" modal: carrier, tracking number, tracking URL and, for several items, which ones.

The carrier list is a parameter (Rakuten's names live in ``rakuten.carriers``), so this module stays a pure
function of its inputs. Validation happens in the service; ``ship_errors`` turns its field errors into the
``response_action="errors"`` map Slack expects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.constants import (
    ACTION_CARRIER,
    ACTION_ITEMS,
    ACTION_TRACKING_NUMBER,
    ACTION_TRACKING_URL,
    BLOCK_CARRIER,
    BLOCK_ITEMS,
    BLOCK_TRACKING_NUMBER,
    BLOCK_TRACKING_URL,
    VIEW_SHIP,
)
from bot.domain.orders import ItemState, OrderItem, OrderRecord, ShipmentDraft, shippable_items
from bot.domain.sentences import Sentence
from bot.ui import formatting as fmt
from bot.ui.i18n import Translator
from bot.ui.limits import CHECKBOX_OPTIONS_MAX, OPTION_TEXT_MAX, OPTION_VALUE_MAX, OPTIONS_MAX
from bot.ui.refs import ShipModalMetadata
from bot.ui.view_state import (
    input_block_ids,
    private_metadata,
    selected_value,
    selected_values,
    state_values,
    text_value,
)
from rakuten.models import AddressKind

BLOCK_SHIP_CONTEXT = "ship_context"

SHIP_FIELD_BLOCKS: dict[str, str] = {
    "carrier": BLOCK_CARRIER,
    "tracking_number": BLOCK_TRACKING_NUMBER,
    "tracking_url": BLOCK_TRACKING_URL,
    "items": BLOCK_ITEMS,
}


@dataclass(frozen=True, slots=True)
class ShipForm:
    """A submitted Mark shipped modal. ``itemids`` is None when the modal offered no item choice (one item)."""

    carrier: str | None
    tracking_number: str
    tracking_url: str | None
    itemids: tuple[str, ...] | None
    metadata: ShipModalMetadata | None

    @property
    def draft(self) -> ShipmentDraft:
        """What the service validates: the order the modal was opened for and what was typed."""
        ref = self.metadata.order_ref if self.metadata is not None else None
        return ShipmentDraft(ref, self.carrier, self.tracking_number, self.tracking_url, self.itemids)


def build_ship_modal(
    t: Translator,
    order: OrderRecord,
    metadata: ShipModalMetadata,
    *,
    preselected_carrier: str | None,
    carriers: Sequence[str],
) -> View:
    """The modal in the clicking user's language ``t``."""
    blocks: list[Block] = [
        ContextBlock(block_id=BLOCK_SHIP_CONTEXT, elements=[MarkdownTextObject(text=_summary(t, order))]),
        _carrier_input(t, carriers, preselected_carrier),
        _tracking_number_input(t, order),
        InputBlock(
            block_id=BLOCK_TRACKING_URL,
            label=t.gettext("Tracking URL"),
            optional=True,
            hint=t.gettext("Required when the carrier is Autre"),
            element=PlainTextInputElement(action_id=ACTION_TRACKING_URL, placeholder="https://…"),
        ),
    ]
    items_input = _items_input(t, order)
    if items_input is not None:
        blocks.append(items_input)
    return View(
        type="modal",
        callback_id=VIEW_SHIP,
        title=t.gettext("Mark shipped"),
        submit=t.gettext("Send to Rakuten"),
        close=t.gettext("Cancel"),
        private_metadata=metadata.encode(),
        blocks=blocks,
    )


def _summary(t: Translator, order: OrderRecord) -> str:
    purchaseid = fmt.clip(order.purchaseid, 60)
    if order.is_express:
        parts = [t.gettext("⚡ *Express* · Order *{purchaseid}*", purchaseid=purchaseid)]
    else:
        parts = [t.gettext("Order *{purchaseid}*", purchaseid=purchaseid)]
    address = order.ship_to
    if address is not None and not order.personal_data_purged:
        place = fmt.join_nonempty([fmt.clip(address.zipcode, 20), fmt.clip(address.city, 60)], " ")
        parts.append(t.gettext("ship to *{place}*", place=place or t.gettext("unknown city")))
        if address.kind is AddressKind.COLLECTION_POINT and (address.point_name or address.point_id):
            parts.append(t.gettext("relay {name}", name=fmt.clip(address.point_name or address.point_id, 80)))
    if order.shipping_type:
        parts.append(fmt.clip(order.shipping_type, 60))
    return fmt.join_nonempty(parts)


def _tracking_number_input(t: Translator, order: OrderRecord) -> InputBlock:
    """Prefilled with the prepaid label's number when Rakuten sold the label (So Colissimo, Chronopost)."""
    prepaid = order.prepaid_label.tracking_number if order.prepaid_label else None
    return InputBlock(
        block_id=BLOCK_TRACKING_NUMBER,
        label=t.gettext("Tracking number"),
        hint=t.gettext("From the prepaid label Rakuten gave for this order") if prepaid else None,
        element=PlainTextInputElement(
            action_id=ACTION_TRACKING_NUMBER,
            placeholder=t.gettext("e.g. {example}", example="6A12345678901"),
            initial_value=prepaid,
        ),
    )


def _carrier_input(t: Translator, carriers: Sequence[str], preselected: str | None) -> InputBlock:
    names = [name for name in dict.fromkeys(carriers) if name and len(name) <= OPTION_VALUE_MAX][:OPTIONS_MAX]
    options = [Option(value=name, text=PlainTextObject(text=fmt.plain(name, OPTION_TEXT_MAX))) for name in names]
    initial = _matching_option(options, names, preselected)
    return InputBlock(
        block_id=BLOCK_CARRIER,
        label=t.gettext("Carrier"),
        element=StaticSelectElement(
            action_id=ACTION_CARRIER,
            placeholder=t.gettext("Choose the carrier"),
            options=options,
            initial_option=initial,
        ),
    )


def _matching_option(options: list[Option], names: list[str], wanted: str | None) -> Option | None:
    if not wanted:
        return None
    folded = wanted.strip().casefold()
    for option, name in zip(options, names, strict=True):
        if name.casefold() == folded:
            return option
    return None


def _items_input(t: Translator, order: OrderRecord) -> InputBlock | None:
    items = [item for item in shippable_items(order) if len(item.itemid) <= OPTION_VALUE_MAX]
    if len(items) < 2:
        return None
    # Slack allows 10 checkboxes; a bigger parcel gets a multi-select (100 options), same submitted shape.
    offered = items[:OPTIONS_MAX]
    options = [Option(value=item.itemid, text=PlainTextObject(text=_item_label(t, item))) for item in offered]
    element: CheckboxesElement | StaticMultiSelectElement
    if len(options) <= CHECKBOX_OPTIONS_MAX:
        element = CheckboxesElement(action_id=ACTION_ITEMS, options=options, initial_options=options)
    else:
        element = StaticMultiSelectElement(
            action_id=ACTION_ITEMS,
            placeholder=t.gettext("Items in this parcel"),
            options=options,
            initial_options=options,
        )
    return InputBlock(
        block_id=BLOCK_ITEMS,
        label=t.gettext("Items in this parcel"),
        element=element,
        hint=_items_hint(t, order, offered),
    )


def _item_label(t: Translator, item: OrderItem) -> str:
    # A title of spaces alone is no title: Slack refuses an option whose text is empty, and with it the modal.
    title = fmt.plain(item.headline, OPTION_TEXT_MAX) or t.gettext("Untitled item")
    sku = fmt.plain(item.sku, OPTION_TEXT_MAX)
    return fmt.plain(f"{title} · {sku}" if sku else title, OPTION_TEXT_MAX)


def _items_hint(t: Translator, order: OrderRecord, offered: list[OrderItem]) -> str:
    shipped = sum(1 for item in order.items if item.state is ItemState.SHIPPED or item.pending is not None)
    sentences = [t.gettext("Untick the items that are not in this parcel.")]
    if shipped:
        sentences.append(
            t.ngettext(
                "{count} item already shipped or on the way to Rakuten, not listed.",
                "{count} items already shipped or on the way to Rakuten, not listed.",
                shipped,
            )
        )
    left_out = len(shippable_items(order)) - len(offered)
    if left_out > 0:
        sentences.append(
            t.ngettext(
                "{count} more item can be declared in another parcel.",
                "{count} more items can be declared in another parcel.",
                left_out,
            )
        )
    return " ".join(sentences)


def read_ship_submission(view: Mapping[str, object]) -> ShipForm:
    values = state_values(view)
    return ShipForm(
        carrier=selected_value(values, BLOCK_CARRIER, ACTION_CARRIER),
        tracking_number=text_value(values, BLOCK_TRACKING_NUMBER, ACTION_TRACKING_NUMBER),
        tracking_url=text_value(values, BLOCK_TRACKING_URL, ACTION_TRACKING_URL) or None,
        itemids=selected_values(values, BLOCK_ITEMS, ACTION_ITEMS),
        metadata=ShipModalMetadata.decode(private_metadata(view)),
    )


def ship_errors(
    t: Translator, field_errors: Mapping[str, Sentence | str], *, view: Mapping[str, object] | None = None
) -> dict[str, str]:
    """The ``errors`` map for ``ack(response_action="errors")``, keyed by input block ids.

    Keys may be field names ("carrier", "tracking_number", "tracking_url", "items") or block ids. Slack rejects
    a map keyed by a block the modal does not hold, so when the submitted ``view`` is given, an error for a
    missing block (or an unknown key) is shown under the tracking number rather than lost.
    """
    present = (input_block_ids(view) if view is not None else frozenset()) or frozenset(SHIP_FIELD_BLOCKS.values())
    fallback = BLOCK_TRACKING_NUMBER
    errors: dict[str, str] = {}
    for key, problem in field_errors.items():
        message = t.say(problem)
        block_id = SHIP_FIELD_BLOCKS.get(key, key)
        if block_id not in present:
            block_id = fallback
        errors[block_id] = f"{errors[block_id]} {message}" if block_id in errors else message
    return errors
