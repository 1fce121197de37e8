"""Every other message the bot sends: status, open orders, help, alerts, private answers and action outcomes.

Each builder returns a ``Message`` (notification ``text`` plus blocks) whose ``as_kwargs()`` goes straight to
``chat_postMessage``, ``chat_postEphemeral`` or ``respond()``. None of them takes or shows a token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.constants import COMMAND
from bot.store.records import AccountRecord, OrderRecord, OrderState, PendingKind, Shipment
from bot.ui import formatting as fmt
from bot.ui.limits import MESSAGE_MAX_BLOCKS, NOTIFICATION_TEXT_MAX, SECTION_TEXT_MAX, blocks_as_dicts
from bot.ui.order_card import EXPRESS_MARKER
from bot.ui.summaries import account_status_lines, action_label, order_line
from rakuten.models import AddressKind

ORDERS_PER_SECTION = 20
ORDERS_LIST_LIMIT = 100

_STATE_COUNT_ORDER: tuple[tuple[OrderState, str], ...] = (
    (OrderState.TO_ACCEPT, "to accept"),
    (OrderState.TO_SHIP, "to ship"),
    (OrderState.PARTIALLY_SHIPPED, "partially shipped"),
    (OrderState.ON_HOLD, "on hold"),
    (OrderState.UNKNOWN, "unknown status"),
)
_NEEDS_ACTION = frozenset({OrderState.TO_ACCEPT, OrderState.TO_SHIP, OrderState.PARTIALLY_SHIPPED, OrderState.ON_HOLD})


@dataclass(frozen=True)
class Message:
    text: str
    blocks: list[Block]

    def as_kwargs(self) -> dict[str, Any]:
        """``text`` and ``blocks`` kwargs for chat_postMessage, chat_postEphemeral, respond() or ack()."""
        return {"text": self.text, "blocks": blocks_as_dicts(self.blocks)}

    def to_dict(self) -> dict[str, Any]:
        return self.as_kwargs()


def _section(text: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=fmt.fit(text, SECTION_TEXT_MAX)))


def _context(text: str, block_id: str | None = None) -> ContextBlock:
    return ContextBlock(block_id=block_id, elements=[MarkdownTextObject(text=fmt.fit(text, SECTION_TEXT_MAX))])


def _simple(text: str, *, note: str | None = None) -> Message:
    blocks: list[Block] = [_section(text, "message")]
    if note:
        blocks.append(_context(note, "message_note"))
    return Message(text=fmt.fit(text, NOTIFICATION_TEXT_MAX), blocks=blocks)


# --- status ---------------------------------------------------------------------------------------------------


def status_message(
    accounts: Sequence[AccountRecord],
    orders_by_account: Mapping[str, Sequence[OrderRecord]],
    next_polls: Mapping[str, datetime | None],
    now: datetime,
) -> Message:
    if not accounts:
        return _simple(
            "No Rakuten account is connected.",
            note=f"An admin can connect one with `{COMMAND} connect`.",
        )
    failing = [account.login for account in accounts if account.health.consecutive_failures]
    text = f"Rakuten status: {fmt.plural(len(accounts), 'account')}"
    text += f", {len(failing)} failing" if failing else ", all healthy"
    blocks: list[Block] = [HeaderBlock(block_id="status_header", text="Rakuten status")]
    room = MESSAGE_MAX_BLOCKS - len(blocks) - 1
    for index, account in enumerate(accounts[:room]):
        lines = account_status_lines(account, next_polls.get(account.login), now)
        lines.append(f"Open orders: {_state_counts(orders_by_account.get(account.login, ()))}")
        blocks.append(_section("\n".join(lines), f"status_account_{index}"))
    if len(accounts) > room:
        blocks.append(_context(f"…and {fmt.plural(len(accounts) - room, 'more account')}", "status_more"))
    return Message(text=text, blocks=blocks)


def _state_counts(orders: Sequence[OrderRecord]) -> str:
    counts: dict[OrderState, int] = {}
    for order in orders:
        if order.is_open:
            counts[order.state] = counts.get(order.state, 0) + 1
    parts = [f"{counts[state]} {label}" for state, label in _STATE_COUNT_ORDER if counts.get(state)]
    return " · ".join(parts) if parts else "none"


# --- open orders ----------------------------------------------------------------------------------------------


def orders_list_message(orders: Sequence[OrderRecord], now: datetime) -> Message:
    """Open orders needing action (to accept, to ship, on hold), newest first, with their state."""
    waiting = [order for order in orders if order.is_open and order.state in _NEEDS_ACTION]
    if not waiting:
        return _simple("Nothing to do: no order is waiting for acceptance or shipment.")
    waiting.sort(key=_newest_first)
    several_accounts = len({order.account for order in waiting}) > 1
    lines = [_list_line(order, now, several_accounts) for order in waiting[:ORDERS_LIST_LIMIT]]
    title = f"*{fmt.plural(len(waiting), 'open order')} need{'s' if len(waiting) == 1 else ''} action*"
    blocks: list[Block] = [_section(title, "orders_title")]
    for index in range(0, len(lines), ORDERS_PER_SECTION):
        chunk = "\n".join(lines[index : index + ORDERS_PER_SECTION])
        blocks.append(_section(chunk, f"orders_{index // ORDERS_PER_SECTION}"))
    if len(waiting) > ORDERS_LIST_LIMIT:
        blocks.append(_context(f"…and {len(waiting) - ORDERS_LIST_LIMIT} more: see the app's Home tab.", "orders_more"))
    express = sum(1 for order in waiting if order.is_express)
    text = f"{fmt.plural(len(waiting), 'open order')} need{'s' if len(waiting) == 1 else ''} action"
    if express:
        text += f" ({EXPRESS_MARKER} {express} Express)"
    return Message(text=text, blocks=blocks)


def _newest_first(order: OrderRecord) -> tuple[bool, float, str]:
    reference = order.purchase_date or order.first_seen_at
    return (reference is None, -fmt.aware(reference).timestamp() if reference else 0.0, order.purchaseid)


def _list_line(order: OrderRecord, now: datetime, with_account: bool) -> str:
    line = order_line(order, now)
    return f"{line} · {fmt.clip(order.account, 40)}" if with_account else line


# --- help -----------------------------------------------------------------------------------------------------

_USAGE: tuple[tuple[str, str], ...] = (
    ("connect", "connect a Rakuten seller account (admins)"),
    ("status", "polling health and open orders per account"),
    ("orders", "open orders that need action"),
    (
        "ship ORDER CARRIER TRACKING [URL]",
        f"mark an order shipped without its card, e.g. `{COMMAND} ship 123456789 Colissimo 6A12345678901`",
    ),
    ("settings", "order channel, Express mention, shipper group, options (admins)"),
    ("disconnect", "stop polling an account and delete its token (admins)"),
    ("help", "this help"),
)


def _usage_text() -> str:
    lines = ["*Rakuten orders in Slack*"]
    lines += [f"`{COMMAND} {usage}`: {meaning}" for usage, meaning in _USAGE]
    return "\n".join(lines)


_HELP_NOTE = (
    "Order cards carry the buttons: Accept or Refuse a new order, then Mark shipped. Carrier names are "
    "Rakuten's; for any other carrier use Autre with a tracking URL."
)


def help_message() -> Message:
    return Message(
        text=f"How to use {COMMAND}: connect, status, orders, ship, settings, disconnect, help",
        blocks=[_section(_usage_text(), "help_usage"), _context(_HELP_NOTE, "help_note")],
    )


def unknown_subcommand_message(sub: str) -> Message:
    shown = fmt.clip(sub.replace("`", "'"), 40)
    intro = f"I don't know `{COMMAND} {shown}`. Here is what I can do:"
    return Message(
        text=f"Unknown command {COMMAND} {shown}: try {COMMAND} help",
        blocks=[
            _section(intro, "unknown_intro"),
            _section(_usage_text(), "help_usage"),
            _context(_HELP_NOTE, "help_note"),
        ],
    )


# --- alerts ---------------------------------------------------------------------------------------------------


def outage_alert(login: str, error: str, since: datetime, failures: int) -> Message:
    account = fmt.clip(login, 100)
    text = (
        f"⚠️ Rakuten account {account}: polling has failed {fmt.plural(failures, 'time')} since {fmt.paris_short(since)}"
    )
    detail = (
        f"⚠️ *Rakuten account {account} cannot be polled.* {fmt.plural(failures, 'attempt')} failed in a row "
        f"since {fmt.paris_short(since)}; new orders are not reaching Slack meanwhile.\n"
        f"Last error: {fmt.clip(error, 500)}"
    )
    note = "The bot keeps retrying and will post here once polling works again. Nothing is lost: missed orders follow."
    return Message(text=text, blocks=[_section(detail, "outage"), _context(note, "outage_note")])


def recovered_message(login: str, down_since: datetime, now: datetime) -> Message:
    account = fmt.clip(login, 100)
    text = (
        f"✅ Rakuten account {account} is reachable again after {fmt.duration(fmt.aware(now) - fmt.aware(down_since))} "
        f"(since {fmt.paris_short(down_since)})."
    )
    return _simple(text, note="Orders that arrived meanwhile are being posted now.")


def quota_message(login: str, action: str, retry_at: datetime) -> Message:
    text = (
        f"⏳ Rakuten's hourly quota for {action_label(action)} is used up on account {fmt.clip(login, 100)}. "
        f"Polling for it resumes at {fmt.paris_short(retry_at)} (Paris time), when the quota renews; nothing is lost."
    )
    return _simple(text)


def burst_summary(login: str, count: int, express_count: int) -> Message:
    text = f"🛒 {fmt.plural(count, 'new order')} arrived: cards in the thread"
    detail = f"*{fmt.plural(count, 'new order')} arrived: cards in the thread.*"
    if express_count:
        express = fmt.plural(express_count, "Express order")
        text += f" ({EXPRESS_MARKER} {express} in the channel)"
        detail += f"\n{EXPRESS_MARKER} {express} {'is' if express_count == 1 else 'are'} posted in the channel itself."
    return Message(
        text=text,
        blocks=[_section(detail, "burst"), _context(f"Rakuten account {fmt.clip(login, 100)}", "burst_account")],
    )


# --- private answers ------------------------------------------------------------------------------------------


def address_message(order: OrderRecord) -> Message:
    """The private "Show address" answer: full ship-to address, phone, relay point."""
    title = f"📍 Ship-to for order *{fmt.clip(order.purchaseid, 60)}*"
    text = f"Ship-to address for order {fmt.clip(order.purchaseid, 60)}"
    address = order.ship_to
    if order.personal_data_purged:
        return _simple(f"{title}\nBuyer data was removed after the retention period.")
    if address is None:
        return _simple(f"{title}\n⚠️ No shipping address in this order: check it on Rakuten before shipping.")
    lines = [
        title,
        fmt.clip(" ".join(part for part in (address.civility, address.full_name) if part), 120),
        fmt.clip(address.address1, 200),
        fmt.clip(address.address2, 200),
        fmt.join_nonempty([fmt.clip(address.zipcode, 20), fmt.clip(address.city, 100)], " "),
        fmt.clip(address.country or address.country_code, 60),
    ]
    phones = [phone for phone in (address.phone1, address.phone2) if phone]
    if phones:
        lines.append("☎ " + " / ".join(fmt.clip(phone, 30) for phone in phones))
    if address.kind is AddressKind.COLLECTION_POINT:
        relay = fmt.clip(address.point_name, 100) or "relay point"
        lines.append(f"Relay point: {relay}" + (f" ({fmt.clip(address.point_id, 40)})" if address.point_id else ""))
    note = fmt.join_nonempty(
        [f"Shipping: {fmt.clip(order.shipping_type, 80)}" if order.shipping_type else None, "Only you can see this."]
    )
    return Message(
        text=text,
        blocks=[_section("\n".join(line for line in lines if line), "address"), _context(note, "address_note")],
    )


def not_allowed_message(what: str, why: str) -> Message:
    """A permission refusal, e.g. ("mark this order shipped", "only members of <#C1> can"). Both are our own
    wording (they may hold mentions), never user input."""
    return _simple(f"🚫 You can't {what}: {why}")


class ActionOutcome(StrEnum):
    OK = "ok"
    REFUSED_BY_RAKUTEN = "refused_by_rakuten"
    QUEUED = "queued"
    WAITING_FOR_QUOTA = "waiting_for_quota"
    ALREADY_DONE = "already_done"
    WENT_THROUGH = "went_through"  # an earlier try whose answer was lost had worked: Rakuten says it is done


_ACTION_OF: dict[PendingKind, str] = {
    PendingKind.ACCEPT: "acceptsale",
    PendingKind.REFUSE: "refusesale",
    PendingKind.SHIP: "settrackingpackageinfos",
}

_DONE: dict[PendingKind, str] = {
    PendingKind.ACCEPT: "accepted",
    PendingKind.REFUSE: "refused",
    PendingKind.SHIP: "marked shipped",
}
_NOUN: dict[PendingKind, str] = {
    PendingKind.ACCEPT: "the acceptance of",
    PendingKind.REFUSE: "the refusal of",
    PendingKind.SHIP: "the tracking for",
}


def action_result_message(
    action: PendingKind | str,
    purchaseid: str,
    outcome: ActionOutcome | str,
    *,
    item_count: int = 1,
    reason: str | None = None,
    retry_at: datetime | None = None,
    shipment: Shipment | None = None,
) -> Message:
    """What happened to an accept / refuse / ship request, told to the person who asked."""
    kind, result = PendingKind(action), ActionOutcome(outcome)
    order_id = fmt.clip(purchaseid, 60)
    order = f"order {order_id}"
    items = fmt.plural(item_count, "item")
    if result is ActionOutcome.OK:
        return _simple(_success_text(kind, order_id, items, shipment))
    if result is ActionOutcome.ALREADY_DONE:
        return _simple(f"Order {order_id} was already {_DONE[kind]}: nothing was sent to Rakuten again.")
    if result is ActionOutcome.WENT_THROUGH:
        return _simple(
            _success_text(kind, order_id, items, shipment),
            note="Rakuten's first answer was lost on the way; asked again, Rakuten confirmed it already has it. "
            "Nothing was sent twice.",
        )
    if result is ActionOutcome.REFUSED_BY_RAKUTEN:
        why = fmt.clip(reason, 500) or "no reason given"
        note = None
        if kind is PendingKind.SHIP:
            note = "Check the carrier and tracking number, then use Mark shipped again."
        return _simple(f"⚠️ Rakuten rejected {_NOUN[kind]} {order}: {why}", note=note)
    when = f" (next try at {fmt.paris_short(retry_at)})" if retry_at else ""
    if result is ActionOutcome.WAITING_FOR_QUOTA:
        resumes = f"at {fmt.paris_short(retry_at)} (Paris time)" if retry_at else "when the hour turns"
        return _simple(
            f"⏳ Rakuten's hourly quota for {action_label(_ACTION_OF[kind])} is used up: {_NOUN[kind]} {order} is "
            f"queued and goes out {resumes}, when the quota renews.",
            note="The card shows the progress; no need to click again.",
        )
    return _simple(
        f"⏳ Rakuten is not answering right now: {_NOUN[kind]} {order} is queued and will be retried "
        f"automatically{when}.",
        note="The card shows the progress; no need to click again.",
    )


def _success_text(kind: PendingKind, order_id: str, items: str, shipment: Shipment | None) -> str:
    if kind is PendingKind.ACCEPT:
        return f"✅ Order {order_id} accepted ({items}). Ship it within the deadline: the card now offers Mark shipped."
    if kind is PendingKind.REFUSE:
        return f"⛔ Order {order_id} refused ({items})."
    tracking = ""
    if shipment is not None:
        number = fmt.link(shipment.tracking_url, fmt.truncate(shipment.tracking_number, 40))
        tracking = f": {fmt.clip(shipment.carrier, 40)} {number}"
    return f"✅ Tracking sent to Rakuten for order {order_id} ({items}){tracking}."


# --- account lifecycle ----------------------------------------------------------------------------------------


def connected_message(login: str, channel_id: str) -> Message:
    return _simple(
        f"✅ Rakuten account *{fmt.clip(login, 100)}* connected. New orders will be posted in "
        f"{fmt.channel(channel_id)}; the first check runs now.",
        note=f"Change the channel, Express mention and options with `{COMMAND} settings`.",
    )


def disconnected_message(login: str) -> Message:
    return _simple(
        f"Rakuten account *{fmt.clip(login, 100)}* disconnected: polling stopped and its token was deleted.",
        note="Cards already posted stay in the channel; their buttons no longer act on Rakuten.",
    )


def notice(text: str, *, note: str | None = None) -> Message:
    """A plain answer to one person (our own wording: service outcomes, instructions)."""
    return _simple(text, note=note)
