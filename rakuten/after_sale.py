"""After sale at Rakuten France: an item's conversation and claim (``getiteminfos``), as typed values.

Shapes from rakuten-api.md §2.8 (one documentation example, medium confidence): ``response/item`` holds the item's
status and state, at most one ``claim``, the ``availableactions``, ``mail`` elements (with Rakuten's customer
service; each has a ``mailid``), ``message`` elements (with the buyer; no id) and ``itemlog`` entries. The example
mixes mails and messages in any order and pads every value with newlines: read tolerantly, like the sales.

Not documented, and so read with care:

* whether the item carries its ``purchaseid`` (the example does not): read when present, else None;
* the limits on what a seller may write: Rakuten refuses a cancellation comment over 400 characters ("Your message
  cannot exceed 400 characters", §3); nothing is known for messages, which get the same kind of bound, at
  ``MESSAGE_MAX`` (an assumption: the seller sees Rakuten's refusal if it is lower);
* the answers of the two contact actions and ``cancelitem``: ``status`` (``SENT``, ``CANCELLED`` in the examples),
  read by ``parse_action_status``.
"""

from __future__ import annotations

from lxml import etree

from rakuten.after_sale_models import (
    CANCEL_COMMENT_MAX,
    MESSAGE_MAX,
    ItemClaim,
    ItemInfos,
    ItemLog,
    ItemMail,
    ItemMessage,
)
from rakuten.errors import MalformedResponseError
from rakuten.parsing import parse_purchase_date, raise_for_error

__all__ = [
    "CANCEL_COMMENT_MAX",
    "MESSAGE_MAX",
    "ItemClaim",
    "ItemInfos",
    "ItemLog",
    "ItemMail",
    "ItemMessage",
    "parse_item_infos",
]

Element = etree._Element

# The values live in rakuten.after_sale_models (plain data the bot's domain reads); parsed here.
def parse_item_infos(root: Element, *, itemid: str) -> ItemInfos:
    """getiteminfos: the item of ``response/item`` (a lone ``item`` or the response itself if unwrapped)."""
    raise_for_error(root, action="getiteminfos")
    response = _child(root, "response") if root.tag != "response" else root
    if response is None:
        raise MalformedResponseError(
            f"answered with an unexpected document (root element <{root.tag}>)", action="getiteminfos"
        )
    seller_id = _text(_child(response, "sellerid"))
    item = _child(response, "item")
    if item is None:
        item = _child(_child(response, "items"), "item")
    if item is None:
        raise MalformedResponseError(f"no <item> in the answer about item {itemid}", action="getiteminfos")
    mails: list[ItemMail] = []
    messages: list[ItemMessage] = []
    logs: list[ItemLog] = []
    actions: list[str] = []
    fields: dict[str, Element] = {}
    position = 0
    for child in item:
        tag = child.tag
        for element in child if tag in ("mails", "messages", "itemlogs") else (child,):
            position += 1
            if element.tag == "mail":
                mails.append(_mail(element, position))
            elif element.tag == "message":
                messages.append(_message(element, position))
            elif element.tag == "itemlog":
                logs.append(_log(element))
        if tag in ("mail", "message", "itemlog", "mails", "messages", "itemlogs"):
            continue
        if tag == "availableactions":
            actions.extend(code for code in (_text(_child(action, "actioncode")) for action in child) if code)
        else:
            fields[tag] = child
    return ItemInfos(
        itemid=_text(fields.get("itemid")) or itemid,
        purchaseid=_text(fields.get("purchaseid")),
        purchase_date=parse_purchase_date(_text(fields.get("date"))),
        status=_text(fields.get("itemstatus")),
        state=_text(fields.get("itemstate")),
        state_label=_text(fields.get("itemstatelabel")),
        payment_status=_text(fields.get("paymentstatus")),
        claim=_claim(fields.get("claim")),
        actions=tuple(actions),
        mails=tuple(mails),
        messages=tuple(messages),
        logs=tuple(logs),
        seller_id=seller_id,
    )


def _mail(element: Element, position: int) -> ItemMail:
    fields = _texts(element)
    return ItemMail(
        mail_id=fields.get("mailid"),
        sent_at=parse_purchase_date(fields.get("senddate")),
        sender=fields.get("sender") or "",
        recipient=fields.get("recipient") or "",
        subject=fields.get("object"),
        content=fields.get("content") or "",
        status=_upper(fields.get("status")),
        position=position,
    )


def _message(element: Element, position: int) -> ItemMessage:
    fields = _texts(element)
    return ItemMessage(
        sent_at=parse_purchase_date(fields.get("senddate")),
        sender=fields.get("sender") or "",
        recipient=fields.get("recipient") or "",
        content=fields.get("content") or "",
        status=_upper(fields.get("status")),
        position=position,
    )


def _claim(element: Element | None) -> ItemClaim | None:
    if element is None:
        return None
    fields = _texts(element)
    if not any(fields.values()):
        return None  # <claim/>: no claim
    return ItemClaim(
        created_at=parse_purchase_date(fields.get("creationdate")),
        type=fields.get("type"),
        state=_upper(fields.get("state")),
        amicable=(fields.get("amicable") or "").strip().upper() in {"Y", "YES", "TRUE", "1", "O", "OUI"},
        comment=fields.get("claimcomment"),
    )


def _log(element: Element) -> ItemLog:
    fields = _texts(element)
    return ItemLog(
        created_at=parse_purchase_date(fields.get("creationdate")),
        code=fields.get("itemlogcode"),
        description=fields.get("description"),
        complement=fields.get("complement"),
    )


def _child(element: Element | None, name: str) -> Element | None:
    if element is None:
        return None
    return next((child for child in element if child.tag == name), None)


def _texts(element: Element) -> dict[str, str | None]:
    return {child.tag: _text(child) for child in element}


def _text(element: Element | None) -> str | None:
    """Stripped text; empty forms give None. Free text keeps its inner line breaks (a message's paragraphs)."""
    if element is None or not element.text:
        return None
    return element.text.strip() or None


def _upper(value: str | None) -> str | None:
    return value.upper() if value else None
