"""After sale in Slack: each message, mail, claim event and reply as a reply in the order card's thread, the card's
badges, and the "Show all" modal for a long message.

What buyers and Rakuten write is data: escaped for mrkdwn (``formatting.paragraphs``: line breaks kept, nothing
can format, mention or link), and shortened in the thread to ``THREAD_CONTENT_MAX`` characters, the whole text one
"Show all" click away (a modal, which holds far more than a message).
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.constants import ACTION_REPLY, ACTION_SHOW_ALL, VIEW_MESSAGE
from bot.domain.after_sale import EntryKind, Party, ThreadEntry
from bot.domain.orders import OrderRecord
from bot.ui import formatting as fmt
from bot.ui.i18n import Translator
from bot.ui.limits import NOTIFICATION_TEXT_MAX, SECTION_TEXT_MAX, VIEW_MAX_BLOCKS
from bot.ui.messages import Message
from bot.ui.refs import EntryRef, encode_entry_ref

# Characters of a message shown in the thread; the rest is behind "Show all".
THREAD_CONTENT_MAX = 700
THREAD_CONTENT_LINES = 15
_MODAL_CHUNK = 2900  # a section's text is at most 3,000 characters, escaping included: chunks leave room
_MODAL_CONTENT_MAX = 60_000

BLOCK_ENTRY_HEAD = "after_sale_head"
BLOCK_ENTRY_BODY = "after_sale_body"
BLOCK_ENTRY_ACTIONS = "after_sale_actions"


def entry_heading(t: Translator, order: OrderRecord, entry: ThreadEntry) -> str:
    """``💬 *Message from the buyer* (julie_b) · Dec 1, 2:05 PM · about Lampe``: who, when, which item."""
    who = fmt.clip(entry.sender_name, 60)
    match entry.kind:
        case EntryKind.MESSAGE if entry.party is Party.BUYER:
            title = t.gettext("💬 *Message from the buyer*")
            if who:
                title = t.gettext("{title} ({who})", title=title, who=who)
        case EntryKind.MAIL if entry.party is Party.CUSTOMER_SERVICE:
            title = t.gettext("📨 *Mail from Rakuten's customer service*")
        case EntryKind.MESSAGE | EntryKind.MAIL:
            title = _sent_title(t, entry)
        case EntryKind.CLAIM_OPENED:
            title = t.gettext("⚠️ *Claim opened* by the buyer")
            if entry.claim is not None and entry.claim.type:
                title = t.gettext("{title}: {reason}", title=title, reason=fmt.clip(entry.claim.type, 60))
        case EntryKind.CLAIM_CHANGED:
            state = fmt.clip(entry.claim.state if entry.claim else None, 60) or "?"
            title = t.gettext("⚠️ *Claim updated*: now {state}", state=state)
        case _:
            title = t.gettext("✅ *Claim closed*")
            if entry.claim is not None and entry.claim.state:
                title = t.gettext("{title} ({state})", title=title, state=fmt.clip(entry.claim.state, 60))
    parts = [title, t.short_datetime(entry.sent_at) if entry.sent_at else None, _item_part(t, order, entry.itemid)]
    return fmt.join_nonempty(parts)


def _sent_title(t: Translator, entry: ThreadEntry) -> str:
    to_service = entry.to is Party.CUSTOMER_SERVICE
    user = fmt.user(entry.sent_by)
    if user is not None:
        if to_service:
            return t.gettext("↩️ *Reply to Rakuten's customer service* sent by {user}", user=user)
        return t.gettext("↩️ *Reply to the buyer* sent by {user}", user=user)
    if to_service:
        return t.gettext("↩️ *Mail to Rakuten's customer service*, sent from the Rakuten site")
    return t.gettext("↩️ *Message to the buyer*, sent from the Rakuten site")


def _item_part(t: Translator, order: OrderRecord, itemid: str) -> str | None:
    if len(order.items) < 2:
        return None
    item = order.item(itemid)
    title = fmt.clip(item.headline, 60) if item is not None else fmt.code(itemid, 30)
    return t.gettext("about {item}", item=title or fmt.code(itemid, 30))


def thread_entry_message(t: Translator, order: OrderRecord, entry: ThreadEntry) -> Message:
    """One reply in the card's thread. Incoming messages and mails get a Reply button, long ones Show all."""
    heading = entry_heading(t, order, entry)
    lines = [heading]
    if entry.subject:
        lines.append(t.gettext("*Subject:* {subject}", subject=fmt.clip(entry.subject, 200)))
    body = fmt.paragraphs(entry.content, THREAD_CONTENT_MAX, max_lines=THREAD_CONTENT_LINES)
    blocks: list[Block] = [_section(BLOCK_ENTRY_HEAD, "\n".join(lines))]
    if body:
        blocks.append(_section(BLOCK_ENTRY_BODY, body))
    buttons: list[ButtonElement] = []
    value = encode_entry_ref(EntryRef(order.account, order.purchaseid, entry.key))
    if fmt.is_shortened(entry.content, THREAD_CONTENT_MAX, max_lines=THREAD_CONTENT_LINES):
        buttons.append(ButtonElement(text=t.gettext("Show all"), action_id=ACTION_SHOW_ALL, value=value))
    if entry.is_incoming and not order.personal_data_purged:
        buttons.append(ButtonElement(text=t.gettext("Reply"), action_id=ACTION_REPLY, value=value, style="primary"))
    if buttons:
        blocks.append(ActionsBlock(block_id=BLOCK_ENTRY_ACTIONS, elements=buttons))
    preview = fmt.plain(entry.content, 150)
    text = t.gettext("Order {purchaseid}: {heading}", purchaseid=fmt.clip(order.purchaseid, 60), heading=heading)
    if preview:
        text = f"{text} · {fmt.literal(preview)}"
    return Message(text=fmt.fit(text, NOTIFICATION_TEXT_MAX), blocks=blocks)


def message_modal(t: Translator, order: OrderRecord, entry: ThreadEntry) -> View:
    """"Show all": the whole text of one message, read-only."""
    lines = [entry_heading(t, order, entry), t.gettext("Order {purchaseid}", purchaseid=fmt.clip(order.purchaseid, 60))]
    if entry.subject:
        lines.append(t.gettext("*Subject:* {subject}", subject=fmt.clip(entry.subject, 500)))
    head = MarkdownTextObject(text=fmt.fit("\n".join(lines), SECTION_TEXT_MAX))
    blocks: list[Block] = [ContextBlock(elements=[head])]
    text = fmt.paragraphs(entry.content, _MODAL_CONTENT_MAX, max_lines=10_000)
    for chunk in _chunks(text, _MODAL_CHUNK)[: VIEW_MAX_BLOCKS - 2]:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
    if not text:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=t.gettext("_No text._"))))
    return View(
        type="modal", callback_id=VIEW_MESSAGE, title=t.gettext("Message"), close=t.gettext("Close"), blocks=blocks
    )


def _section(block_id: str, text: str) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=fmt.fit(text, SECTION_TEXT_MAX)))


def _chunks(text: str, size: int) -> list[str]:
    """``text`` in pieces of at most ``size`` characters, cut at line breaks or spaces, never inside an entity."""
    pieces: list[str] = []
    while len(text) > size:
        cut = max(text.rfind("\n", 0, size), text.rfind(" ", 0, size))
        if cut < size // 2:
            cut = size
        amp = text.rfind("&", 0, cut)
        if amp > text.rfind(";", 0, cut) and amp > 0:
            cut = amp  # keep &amp; / &lt; / &gt; whole
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip(" ")
    if text:
        pieces.append(text)
    return [piece for piece in pieces if piece]


def conversation_lines(t: Translator, order: OrderRecord, entries: Sequence[ThreadEntry], *, limit: int) -> list[str]:
    """The conversation so far, one text per entry (heading, then the words, each cut at ``limit``)."""
    texts = []
    for entry in entries:
        body = fmt.paragraphs(entry.content, limit, max_lines=8)
        texts.append(f"{entry_heading(t, order, entry)}\n{body}" if body else entry_heading(t, order, entry))
    return texts
