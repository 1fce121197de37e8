"""The Reply modal (the conversation so far, who to answer, the message) and the Cancel item modal (which items,
the reason), with the readers of their submissions and the ``response_action="errors"`` maps for their fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    DividerBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.constants import (
    ACTION_CANCEL_ITEMS,
    ACTION_CANCEL_REASON,
    ACTION_REPLY_TEXT,
    ACTION_REPLY_TO,
    BLOCK_CANCEL_ITEMS,
    BLOCK_CANCEL_REASON,
    BLOCK_REPLY_TEXT,
    BLOCK_REPLY_TO,
    VIEW_CANCEL,
    VIEW_REPLY,
)
from bot.domain.after_sale import Party, ThreadEntry
from bot.domain.orders import OrderItem, OrderRecord
from bot.domain.sentences import Sentence
from bot.services.cancellation import CancelDraft
from bot.services.replies import ReplyDraft, ReplyTarget
from bot.ui import formatting as fmt
from bot.ui.after_sale import conversation_lines
from bot.ui.i18n import Translator
from bot.ui.limits import (
    CHECKBOX_OPTIONS_MAX,
    OPTION_TEXT_MAX,
    OPTIONS_MAX,
    RADIO_OPTIONS_MAX,
    SECTION_TEXT_MAX,
    VIEW_MAX_BLOCKS,
)
from bot.ui.refs import ShipModalMetadata
from bot.ui.view_state import (
    input_block_ids,
    private_metadata,
    selected_value,
    selected_values,
    state_values,
    text_value,
)
from rakuten.after_sale import CANCEL_COMMENT_MAX, MESSAGE_MAX

BLOCK_REPLY_CONTEXT = "reply_context"
BLOCK_CANCEL_CONTEXT = "cancel_context"
# The conversation shown above the answer: the latest entries, each cut short (the thread has them whole).
CONVERSATION_SHOWN = 12
CONVERSATION_ENTRY_MAX = 500

REPLY_FIELD_BLOCKS = {"to": BLOCK_REPLY_TO, "text": BLOCK_REPLY_TEXT}
CANCEL_FIELD_BLOCKS = {"items": BLOCK_CANCEL_ITEMS, "reason": BLOCK_CANCEL_REASON}


# --- Reply ------------------------------------------------------------------------------------------------------


def build_reply_modal(
    t: Translator,
    order: OrderRecord,
    metadata: ShipModalMetadata,
    *,
    targets: Sequence[ReplyTarget],
    preselected: ReplyTarget | None,
    conversation: Sequence[ThreadEntry],
) -> View:
    shown = list(conversation)[-CONVERSATION_SHOWN:]
    head = t.gettext("Order *{purchaseid}*", purchaseid=fmt.clip(order.purchaseid, 60))
    if len(conversation) > len(shown):
        head = t.gettext(
            "{order} · the last {shown} of {count} messages (the card's thread has them all)",
            order=head,
            shown=len(shown),
            count=len(conversation),
        )
    blocks: list[Block] = [ContextBlock(block_id=BLOCK_REPLY_CONTEXT, elements=[MarkdownTextObject(text=head)])]
    for text in conversation_lines(t, order, shown, limit=CONVERSATION_ENTRY_MAX):
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fmt.fit(text, SECTION_TEXT_MAX))))
    blocks = blocks[: VIEW_MAX_BLOCKS - 3]
    blocks.append(DividerBlock())
    blocks.append(_reply_to_input(t, order, targets, preselected))
    blocks.append(
        InputBlock(
            block_id=BLOCK_REPLY_TEXT,
            label=t.gettext("Your message"),
            hint=t.gettext(
                "Rakuten passes it on as it is, at most {limit} characters. It is posted in the card's thread with "
                "your name.",
                limit=t.number(MESSAGE_MAX),
            ),
            element=PlainTextInputElement(action_id=ACTION_REPLY_TEXT, multiline=True, max_length=MESSAGE_MAX),
        )
    )
    return View(
        type="modal",
        callback_id=VIEW_REPLY,
        title=t.gettext("Reply"),
        submit=t.gettext("Send"),
        close=t.gettext("Cancel"),
        private_metadata=metadata.encode(),
        blocks=blocks,
    )


def _reply_to_input(
    t: Translator, order: OrderRecord, targets: Sequence[ReplyTarget], preselected: ReplyTarget | None
) -> InputBlock:
    options = [
        Option(value=target.value, text=PlainTextObject(text=_target_label(t, order, target))) for target in targets
    ][:OPTIONS_MAX]
    initial = next((option for option, target in zip(options, targets, strict=False) if target == preselected), None)
    element: RadioButtonsElement | StaticSelectElement
    if len(options) <= RADIO_OPTIONS_MAX:
        element = RadioButtonsElement(action_id=ACTION_REPLY_TO, options=options, initial_option=initial)
    else:
        element = StaticSelectElement(
            action_id=ACTION_REPLY_TO,
            placeholder=t.gettext("Who to answer"),
            options=options,
            initial_option=initial,
        )
    return InputBlock(block_id=BLOCK_REPLY_TO, label=t.gettext("To"), element=element)


def _target_label(t: Translator, order: OrderRecord, target: ReplyTarget) -> str:
    service = target.to is Party.CUSTOMER_SERVICE
    who = t.gettext("Rakuten's customer service") if service else t.gettext("The buyer")
    if len(order.items) > 1:
        item = order.item(target.itemid)
        title = fmt.plain(item.headline if item else target.itemid, OPTION_TEXT_MAX) or target.itemid
        who = t.gettext("{who} · {item}", who=who, item=title)
    return fmt.plain(who, OPTION_TEXT_MAX)


def read_reply_submission(view: Mapping[str, object]) -> tuple[ReplyDraft, ShipModalMetadata | None]:
    values = state_values(view)
    metadata = ShipModalMetadata.decode(private_metadata(view))
    view_id = view.get("id") if isinstance(view, Mapping) else None
    draft = ReplyDraft(
        ref=metadata.order_ref if metadata is not None else None,
        target=selected_value(values, BLOCK_REPLY_TO, ACTION_REPLY_TO),
        text=text_value(values, BLOCK_REPLY_TEXT, ACTION_REPLY_TEXT),
        reply_id=view_id if isinstance(view_id, str) and view_id else "",
    )
    return draft, metadata


# --- Cancel item ------------------------------------------------------------------------------------------------


def build_cancel_modal(
    t: Translator, order: OrderRecord, metadata: ShipModalMetadata, *, items: Sequence[OrderItem]
) -> View:
    warning = t.gettext(
        "Order *{purchaseid}*: cancelling refunds the buyer and counts against your seller score. Only for an item "
        "you cannot ship.",
        purchaseid=fmt.clip(order.purchaseid, 60),
    )
    blocks: list[Block] = [ContextBlock(block_id=BLOCK_CANCEL_CONTEXT, elements=[MarkdownTextObject(text=warning)])]
    if len(items) > 1:
        options = [Option(value=item.itemid, text=PlainTextObject(text=_item_label(t, item))) for item in items]
        options = options[:OPTIONS_MAX]
        element: CheckboxesElement | StaticMultiSelectElement
        if len(options) <= CHECKBOX_OPTIONS_MAX:
            element = CheckboxesElement(action_id=ACTION_CANCEL_ITEMS, options=options)
        else:
            element = StaticMultiSelectElement(
                action_id=ACTION_CANCEL_ITEMS, placeholder=t.gettext("Items to cancel"), options=options
            )
        blocks.append(InputBlock(block_id=BLOCK_CANCEL_ITEMS, label=t.gettext("Items to cancel"), element=element))
    elif items:
        title = fmt.clip(items[0].headline, 150) or fmt.code(items[0].itemid, 40)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=t.gettext("Item: *{item}*", item=title))))
    blocks.append(
        InputBlock(
            block_id=BLOCK_CANCEL_REASON,
            label=t.gettext("Reason, for the buyer"),
            hint=t.gettext("Rakuten passes it on to the buyer; at most {limit} characters.", limit=CANCEL_COMMENT_MAX),
            element=PlainTextInputElement(
                action_id=ACTION_CANCEL_REASON,
                multiline=True,
                max_length=CANCEL_COMMENT_MAX,
                placeholder=t.gettext("e.g. out of stock after a damage in our warehouse"),
            ),
        )
    )
    return View(
        type="modal",
        callback_id=VIEW_CANCEL,
        title=t.gettext("Cancel items"),
        submit=t.gettext("Cancel on Rakuten"),
        close=t.gettext("Back"),
        private_metadata=metadata.encode(),
        blocks=blocks,
    )


def _item_label(t: Translator, item: OrderItem) -> str:
    title = fmt.plain(item.headline, OPTION_TEXT_MAX) or t.gettext("Untitled item")
    sku = fmt.plain(item.sku, OPTION_TEXT_MAX)
    return fmt.plain(f"{title} · {sku}" if sku else title, OPTION_TEXT_MAX)


def read_cancel_submission(view: Mapping[str, object]) -> tuple[CancelDraft, ShipModalMetadata | None]:
    values = state_values(view)
    metadata = ShipModalMetadata.decode(private_metadata(view))
    draft = CancelDraft(
        ref=metadata.order_ref if metadata is not None else None,
        itemids=selected_values(values, BLOCK_CANCEL_ITEMS, ACTION_CANCEL_ITEMS),
        reason=text_value(values, BLOCK_CANCEL_REASON, ACTION_CANCEL_REASON),
    )
    return draft, metadata


# --- field errors -----------------------------------------------------------------------------------------------


def field_errors(
    t: Translator,
    problems: Mapping[str, Sentence],
    blocks_by_field: Mapping[str, str],
    *,
    view: Mapping[str, object] | None = None,
) -> dict[str, str]:
    """The ``errors`` map for ``ack(response_action="errors")``: each problem under its field's block; a field the
    modal does not hold (Slack would refuse the map) goes under the modal's last input."""
    present = input_block_ids(view) if view is not None else frozenset(blocks_by_field.values())
    fallback = list(blocks_by_field.values())[-1]
    errors: dict[str, str] = {}
    for name, problem in problems.items():
        block_id = blocks_by_field.get(name, fallback)
        if present and block_id not in present:
            block_id = fallback
        message = t.say(problem)
        errors[block_id] = f"{errors[block_id]} {message}" if block_id in errors else message
    return errors
