"""Every other message the bot sends: status, open orders, help, alerts, private answers and action outcomes.

Each builder returns a ``Message`` (notification ``text`` plus blocks) whose ``as_kwargs()`` goes straight to
``chat_postMessage``, ``chat_postEphemeral`` or ``respond()``. None of them takes or shows a token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.constants import COMMAND
from bot.domain.accounts import AccountStatus
from bot.domain.deadlines import aware
from bot.domain.orders import OrderRecord, OrderState, PendingKind, Shipment
from bot.domain.sentences import Sentence
from bot.services.notices import ActionOutcome
from bot.subcommands import SUBCOMMANDS, Sub
from bot.ui import formatting as fmt
from bot.ui.i18n import Translator
from bot.ui.limits import MESSAGE_MAX_BLOCKS, NOTIFICATION_TEXT_MAX, SECTION_TEXT_MAX, blocks_as_dicts
from bot.ui.order_card import EXPRESS_MARKER
from bot.ui.summaries import account_status_lines, action_label, order_line
from rakuten.models import AddressKind

ORDERS_PER_SECTION = 20
ORDERS_LIST_LIMIT = 100

_STATE_COUNT_ORDER = (
    OrderState.TO_ACCEPT,
    OrderState.TO_SHIP,
    OrderState.PARTIALLY_SHIPPED,
    OrderState.ON_HOLD,
    OrderState.UNKNOWN,
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


def status_message(t: Translator, accounts: Sequence[AccountStatus], now: datetime) -> Message:
    if not accounts:
        return _simple(
            t.gettext("No Rakuten account is connected."),
            note=t.gettext("An admin can connect one with `{command}`.", command=f"{COMMAND} connect"),
        )
    failing = sum(1 for status in accounts if status.health.consecutive_failures)
    if failing:
        text = t.ngettext(
            "Rakuten status: {count} account, {failing} failing",
            "Rakuten status: {count} accounts, {failing} failing",
            len(accounts),
            failing=t.number(failing),
        )
    else:
        text = t.ngettext(
            "Rakuten status: {count} account, all healthy",
            "Rakuten status: {count} accounts, all healthy",
            len(accounts),
        )
    blocks: list[Block] = [HeaderBlock(block_id="status_header", text=t.gettext("Rakuten status"))]
    room = MESSAGE_MAX_BLOCKS - len(blocks) - 1
    for index, status in enumerate(accounts[:room]):
        lines = account_status_lines(t, status, now)
        counts = _state_counts(t, status.open_orders)
        lines.append(t.gettext("Open orders: {counts}", counts=counts))
        if status.unanswered_messages or status.open_claims:
            waiting = [
                t.ngettext("{count} buyer message", "{count} buyer messages", status.unanswered_messages)
                if status.unanswered_messages
                else None,
                t.ngettext("{count} claim open", "{count} claims open", status.open_claims)
                if status.open_claims
                else None,
            ]
            lines.append(t.gettext("To answer: {counts}", counts=fmt.join_nonempty(waiting)))
        blocks.append(_section("\n".join(lines), f"status_account_{index}"))
    if len(accounts) > room:
        more = t.ngettext("…and {count} more account", "…and {count} more accounts", len(accounts) - room)
        blocks.append(_context(more, "status_more"))
    return Message(text=text, blocks=blocks)


def _state_count(t: Translator, state: OrderState, count: int) -> str:
    match state:
        case OrderState.TO_ACCEPT:
            return t.ngettext("{count} to accept", "{count} to accept", count)
        case OrderState.TO_SHIP:
            return t.ngettext("{count} to ship", "{count} to ship", count)
        case OrderState.PARTIALLY_SHIPPED:
            return t.ngettext("{count} partially shipped", "{count} partially shipped", count)
        case OrderState.ON_HOLD:
            return t.ngettext("{count} on hold", "{count} on hold", count)
    return t.ngettext("{count} with unknown status", "{count} with unknown status", count)


def _state_counts(t: Translator, orders: Sequence[OrderRecord]) -> str:
    counts: dict[OrderState, int] = {}
    for order in orders:
        if order.is_open:
            counts[order.state] = counts.get(order.state, 0) + 1
    parts = [_state_count(t, state, counts[state]) for state in _STATE_COUNT_ORDER if counts.get(state)]
    return " · ".join(parts) if parts else t.gettext("none")


# --- open orders ----------------------------------------------------------------------------------------------


def orders_list_message(t: Translator, orders: Sequence[OrderRecord], now: datetime) -> Message:
    """Open orders needing action (to accept, to ship, on hold), newest first, with their state."""
    waiting = [order for order in orders if order.is_open and order.state in _NEEDS_ACTION]
    if not waiting:
        return _simple(t.gettext("Nothing to do: no order is waiting for acceptance or shipment."))
    waiting.sort(key=_newest_first)
    several_accounts = len({order.account for order in waiting}) > 1
    lines = [_list_line(t, order, now, several_accounts) for order in waiting[:ORDERS_LIST_LIMIT]]
    headline = t.ngettext("{count} open order needs action", "{count} open orders need action", len(waiting))
    blocks: list[Block] = [_section(f"*{headline}*", "orders_title")]
    # Keep one block for the "and N more" line.
    chunks = _line_chunks(lines, MESSAGE_MAX_BLOCKS - len(blocks) - 1)
    blocks += [_section("\n".join(chunk), f"orders_{index}") for index, chunk in enumerate(chunks)]
    left_out = len(waiting) - sum(len(chunk) for chunk in chunks)
    if left_out:
        more = t.gettext("…and {count} more: see the app's Home tab.", count=t.number(left_out))
        blocks.append(_context(more, "orders_more"))
    express = sum(1 for order in waiting if order.is_express)
    text = headline
    if express:
        text = t.gettext(
            "{headline} ({marker} {express} Express)", headline=headline, marker=EXPRESS_MARKER, express=express
        )
    return Message(text=text, blocks=blocks)


def _line_chunks(lines: list[str], budget: int) -> list[list[str]]:
    """Whole lines in at most ``budget`` sections of up to ORDERS_PER_SECTION lines that fit a section's text:
    a line that does not fit is left for the "and N more" count, never cut in the middle of the list."""
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for line in lines:
        if current and (len(current) == ORDERS_PER_SECTION or size + 1 + len(line) > SECTION_TEXT_MAX):
            chunks.append(current)
            current, size = [], 0
        if len(chunks) == budget or len(line) > SECTION_TEXT_MAX:
            break
        size += len(line) + (1 if current else 0)
        current.append(line)
    if current and len(chunks) < budget:
        chunks.append(current)
    return chunks


def _newest_first(order: OrderRecord) -> tuple[bool, float, str]:
    reference = order.purchase_date or order.first_seen_at
    return (reference is None, -aware(reference).timestamp() if reference else 0.0, order.purchaseid)


def _list_line(t: Translator, order: OrderRecord, now: datetime, with_account: bool) -> str:
    line = order_line(t, order, now)
    return f"{line} · {fmt.clip(order.account, 40)}" if with_account else line


# --- help -----------------------------------------------------------------------------------------------------


def _meaning(t: Translator, sub: Sub) -> str:
    match sub:
        case Sub.CONNECT:
            return t.gettext("connect a Rakuten seller account (admins)")
        case Sub.STATUS:
            return t.gettext("polling health and open orders per account")
        case Sub.ORDERS:
            return t.gettext("open orders that need action")
        case Sub.SHIP:
            example = f"`{COMMAND} {spoken_name(t, Sub.SHIP)} 123456789 Colissimo 6A12345678901`"
            return t.gettext("mark an order shipped without its card, e.g. {example}", example=example)
        case Sub.SETTINGS:
            return t.gettext("order channel, language, Express mention, shipper group, options (admins)")
        case Sub.DISCONNECT:
            return t.gettext("stop polling an account and delete its token (admins)")
    return t.gettext("this help")


def spoken_name(t: Translator, sub: Sub) -> str:
    """The subcommand's name in the reader's language: French readers see the French alias."""
    entry = next(entry for entry in SUBCOMMANDS if entry.sub is sub)
    return entry.aliases[0] if t.locale == "fr" and entry.aliases else entry.sub.value


def _usage_text(t: Translator) -> str:
    lines = [t.gettext("*Rakuten orders in Slack*")]
    for entry in SUBCOMMANDS:
        arguments = t.gettext("ORDER CARRIER TRACKING [URL]") if entry.arguments else ""
        usage = f"{COMMAND} {spoken_name(t, entry.sub)} {arguments}".strip()
        lines.append(f"`{usage}`: {_meaning(t, entry.sub)}")
    return "\n".join(lines)


def _help_note(t: Translator) -> str:
    return t.gettext(
        "Order cards carry the buttons: Accept or Refuse a new order, then Mark shipped. Carrier names are "
        "Rakuten's; for any other carrier use Autre with a tracking URL."
    )


def help_summary(t: Translator) -> str:
    """The help's notification line: ``How to use /rakuten: connect, status, …`` in the reader's words."""
    names = ", ".join(spoken_name(t, entry.sub) for entry in SUBCOMMANDS)
    return t.gettext("How to use {command}: {subcommands}", command=COMMAND, subcommands=names)


def help_message(t: Translator) -> Message:
    return Message(
        text=help_summary(t),
        blocks=[_section(_usage_text(t), "help_usage"), _context(_help_note(t), "help_note")],
    )


def unknown_subcommand_message(t: Translator, sub: str) -> Message:
    shown = fmt.clip(sub.replace("`", "'"), 40)
    intro = t.gettext("I don't know `{command}`. Here is what I can do:", command=f"{COMMAND} {shown}")
    return Message(
        text=t.gettext(
            "Unknown command {command}: try {help}",
            command=f"{COMMAND} {shown}",
            help=f"{COMMAND} {spoken_name(t, Sub.HELP)}",
        ),
        blocks=[
            _section(intro, "unknown_intro"),
            _section(_usage_text(t), "help_usage"),
            _context(_help_note(t), "help_note"),
        ],
    )


# --- alerts ---------------------------------------------------------------------------------------------------


def outage_alert(t: Translator, login: str, error: str, since: datetime, failures: int) -> Message:
    account = fmt.clip(login, 100)
    when = t.short_datetime(since)
    text = t.ngettext(
        "⚠️ Rakuten account {account}: polling has failed {count} time since {when}",
        "⚠️ Rakuten account {account}: polling has failed {count} times since {when}",
        failures,
        account=account,
        when=when,
    )
    detail = t.ngettext(
        "⚠️ *Rakuten account {account} cannot be polled.* {count} attempt failed in a row since {when}; "
        "new orders are not reaching Slack meanwhile.\nLast error: {error}",
        "⚠️ *Rakuten account {account} cannot be polled.* {count} attempts failed in a row since {when}; "
        "new orders are not reaching Slack meanwhile.\nLast error: {error}",
        failures,
        account=account,
        when=when,
        error=fmt.clip(error, 500),
    )
    note = t.gettext(
        "The bot keeps retrying and will post here once polling works again. Nothing is lost: missed orders follow."
    )
    return Message(text=text, blocks=[_section(detail, "outage"), _context(note, "outage_note")])


def recovered_message(t: Translator, login: str, down_since: datetime, now: datetime) -> Message:
    text = t.gettext(
        "✅ Rakuten account {account} is reachable again after {duration} (since {when}).",
        account=fmt.clip(login, 100),
        duration=t.duration(aware(now) - aware(down_since)),
        when=t.short_datetime(down_since),
    )
    return _simple(text, note=t.gettext("Orders that arrived meanwhile are being posted now."))


def quota_message(t: Translator, login: str, action: str, retry_at: datetime) -> Message:
    text = t.gettext(
        "⏳ Rakuten's hourly quota for {action} is used up on account {account}. Polling for it resumes at {when} "
        "(Paris time), when the quota renews; nothing is lost.",
        action=action_label(t, action),
        account=fmt.clip(login, 100),
        when=t.short_datetime(retry_at),
    )
    return _simple(text)


def burst_summary(t: Translator, login: str, count: int, express_count: int) -> Message:
    arrived = t.ngettext(
        "{count} new order arrived: cards in the thread", "{count} new orders arrived: cards in the thread", count
    )
    text = f"🛒 {arrived}"
    detail = f"*{arrived}.*"
    if express_count:
        express = t.ngettext(
            "{count} Express order in the channel", "{count} Express orders in the channel", express_count
        )
        text = f"{text} ({EXPRESS_MARKER} {express})"
        detail += "\n" + t.ngettext(
            "{marker} {count} Express order is posted in the channel itself.",
            "{marker} {count} Express orders are posted in the channel itself.",
            express_count,
            marker=EXPRESS_MARKER,
        )
    account = t.gettext("Rakuten account {login}", login=fmt.clip(login, 100))
    return Message(text=text, blocks=[_section(detail, "burst"), _context(account, "burst_account")])


# --- private answers ------------------------------------------------------------------------------------------


def address_message(t: Translator, order: OrderRecord) -> Message:
    """The private "Show address" answer: full ship-to address, phone, relay point."""
    purchaseid = fmt.clip(order.purchaseid, 60)
    title = t.gettext("📍 Ship-to for order *{purchaseid}*", purchaseid=purchaseid)
    text = t.gettext("Ship-to address for order {purchaseid}", purchaseid=purchaseid)
    address = order.ship_to
    if order.personal_data_purged:
        return _simple(f"{title}\n" + t.gettext("Buyer data was removed after the retention period."))
    if address is None:
        return _simple(
            f"{title}\n" + t.gettext("⚠️ No shipping address in this order: check it on Rakuten before shipping.")
        )
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
        relay = fmt.clip(address.point_name, 100) or t.gettext("relay point")
        if address.point_id:
            relay = f"{relay} ({fmt.clip(address.point_id, 40)})"
        lines.append(t.gettext("Relay point: {relay}", relay=relay))
    shipping = t.gettext("Shipping: {type}", type=fmt.clip(order.shipping_type, 80)) if order.shipping_type else None
    note = fmt.join_nonempty([shipping, t.gettext("Only you can see this.")])
    return Message(
        text=text,
        blocks=[_section("\n".join(line for line in lines if line), "address"), _context(note, "address_note")],
    )


def not_allowed_message(t: Translator, what: Sentence | str, why: Sentence | str) -> Message:
    """A permission refusal, e.g. ("mark this order shipped", "only members of <#C1> can"). Both are our own
    wording (they may hold mentions), never user input: said here in the user's language."""
    return _simple(t.gettext("🚫 You can't {what}: {why}", what=t.say(what), why=t.say(why)))


_ACTION_OF: dict[PendingKind, str] = {
    PendingKind.ACCEPT: "acceptsale",
    PendingKind.REFUSE: "refusesale",
    PendingKind.SHIP: "settrackingpackageinfos",
    PendingKind.CANCEL: "cancelitem",
}


def _already_done_text(t: Translator, kind: PendingKind, purchaseid: str) -> str:
    if kind is PendingKind.ACCEPT:
        return t.gettext(
            "Order {purchaseid} was already accepted: nothing was sent to Rakuten again.", purchaseid=purchaseid
        )
    if kind is PendingKind.REFUSE:
        return t.gettext(
            "Order {purchaseid} was already refused: nothing was sent to Rakuten again.", purchaseid=purchaseid
        )
    if kind is PendingKind.CANCEL:
        return t.gettext(
            "Those items of order {purchaseid} were already cancelled: nothing was sent to Rakuten again.",
            purchaseid=purchaseid,
        )
    return t.gettext(
        "Order {purchaseid} was already marked shipped: nothing was sent to Rakuten again.", purchaseid=purchaseid
    )


def _rejected_text(t: Translator, kind: PendingKind, purchaseid: str, reason: str) -> str:
    if kind is PendingKind.ACCEPT:
        return t.gettext(
            "⚠️ Rakuten rejected the acceptance of order {purchaseid}: {reason}", purchaseid=purchaseid, reason=reason
        )
    if kind is PendingKind.REFUSE:
        return t.gettext(
            "⚠️ Rakuten rejected the refusal of order {purchaseid}: {reason}", purchaseid=purchaseid, reason=reason
        )
    if kind is PendingKind.CANCEL:
        return t.gettext(
            "⚠️ Rakuten rejected the cancellation in order {purchaseid}: {reason}", purchaseid=purchaseid, reason=reason
        )
    return t.gettext(
        "⚠️ Rakuten rejected the tracking for order {purchaseid}: {reason}", purchaseid=purchaseid, reason=reason
    )


def _quota_wait_text(t: Translator, kind: PendingKind, purchaseid: str, retry_at: datetime | None) -> str:
    action = action_label(t, _ACTION_OF[kind])
    if retry_at is None:
        resumes = t.gettext("when the hour turns")
    else:
        resumes = t.gettext("at {when} (Paris time)", when=t.short_datetime(retry_at))
    if kind is PendingKind.ACCEPT:
        return t.gettext(
            "⏳ Rakuten's hourly quota for {action} is used up: the acceptance of order {purchaseid} is queued and "
            "goes out {resumes}, when the quota renews.",
            action=action,
            purchaseid=purchaseid,
            resumes=resumes,
        )
    if kind is PendingKind.REFUSE:
        return t.gettext(
            "⏳ Rakuten's hourly quota for {action} is used up: the refusal of order {purchaseid} is queued and "
            "goes out {resumes}, when the quota renews.",
            action=action,
            purchaseid=purchaseid,
            resumes=resumes,
        )
    if kind is PendingKind.CANCEL:
        return t.gettext(
            "⏳ Rakuten's hourly quota for {action} is used up: the cancellation in order {purchaseid} is queued "
            "and goes out {resumes}, when the quota renews.",
            action=action,
            purchaseid=purchaseid,
            resumes=resumes,
        )
    return t.gettext(
        "⏳ Rakuten's hourly quota for {action} is used up: the tracking for order {purchaseid} is queued and "
        "goes out {resumes}, when the quota renews.",
        action=action,
        purchaseid=purchaseid,
        resumes=resumes,
    )


def _queued_text(t: Translator, kind: PendingKind, purchaseid: str, retry_at: datetime | None) -> str:
    if kind is PendingKind.ACCEPT:
        what = t.gettext("the acceptance of order {purchaseid}", purchaseid=purchaseid)
    elif kind is PendingKind.REFUSE:
        what = t.gettext("the refusal of order {purchaseid}", purchaseid=purchaseid)
    elif kind is PendingKind.CANCEL:
        what = t.gettext("the cancellation in order {purchaseid}", purchaseid=purchaseid)
    else:
        what = t.gettext("the tracking for order {purchaseid}", purchaseid=purchaseid)
    if retry_at is None:
        return t.gettext(
            "⏳ Rakuten is not answering right now: {what} is queued and will be retried automatically.", what=what
        )
    return t.gettext(
        "⏳ Rakuten is not answering right now: {what} is queued and will be retried automatically "
        "(next try at {when}).",
        what=what,
        when=t.short_datetime(retry_at),
    )


def action_result_message(
    t: Translator,
    action: PendingKind | str,
    purchaseid: str,
    outcome: ActionOutcome | str,
    *,
    item_count: int = 1,
    reason: Sentence | str | None = None,
    retry_at: datetime | None = None,
    shipment: Shipment | None = None,
) -> Message:
    """What happened to an accept / refuse / ship request, told to the person who asked."""
    kind, result = PendingKind(action), ActionOutcome(outcome)
    order_id = fmt.clip(purchaseid, 60)
    if result is ActionOutcome.OK:
        return _simple(_success_text(t, kind, order_id, item_count, shipment))
    if result is ActionOutcome.ALREADY_DONE:
        return _simple(_already_done_text(t, kind, order_id))
    if result is ActionOutcome.WENT_THROUGH:
        return _simple(
            _success_text(t, kind, order_id, item_count, shipment),
            note=t.gettext(
                "Rakuten's first answer was lost on the way; asked again, Rakuten confirmed it already has it. "
                "Nothing was sent twice."
            ),
        )
    if result is ActionOutcome.REFUSED_BY_RAKUTEN:
        # Rakuten's own words (a plain string) are shown as they are; our sentences are said in the reader's language.
        why = fmt.clip(t.say(reason) if isinstance(reason, Sentence) else reason, 500) or t.gettext("no reason given")
        note = None
        if kind is PendingKind.SHIP:
            note = t.gettext("Check the carrier and tracking number, then use Mark shipped again.")
        return _simple(_rejected_text(t, kind, order_id, why), note=note)
    if result is ActionOutcome.BOT_FAILED:
        return _simple(
            t.gettext(
                "❌ Order {purchaseid}: the bot stopped on an error of its own ({error}) before Rakuten confirmed "
                "anything. The card offers the button again; the operator finds the details in the bot's log.",
                purchaseid=order_id,
                error=fmt.clip(t.say(reason) if isinstance(reason, Sentence) else reason, 300) or "?",
            )
        )
    progress = t.gettext("The card shows the progress; no need to click again.")
    if result is ActionOutcome.WAITING_FOR_QUOTA:
        return _simple(_quota_wait_text(t, kind, order_id, retry_at), note=progress)
    return _simple(_queued_text(t, kind, order_id, retry_at), note=progress)


def _success_text(t: Translator, kind: PendingKind, order_id: str, count: int, shipment: Shipment | None) -> str:
    if kind is PendingKind.ACCEPT:
        return t.ngettext(
            "✅ Order {purchaseid} accepted ({count} item). Ship it within the deadline: the card now offers "
            "Mark shipped.",
            "✅ Order {purchaseid} accepted ({count} items). Ship it within the deadline: the card now offers "
            "Mark shipped.",
            count,
            purchaseid=order_id,
        )
    if kind is PendingKind.REFUSE:
        return t.ngettext(
            "⛔ Order {purchaseid} refused ({count} item).",
            "⛔ Order {purchaseid} refused ({count} items).",
            count,
            purchaseid=order_id,
        )
    if kind is PendingKind.CANCEL:
        return t.ngettext(
            "✖️ {count} item of order {purchaseid} cancelled on Rakuten; the buyer is refunded.",
            "✖️ {count} items of order {purchaseid} cancelled on Rakuten; the buyer is refunded.",
            count,
            purchaseid=order_id,
        )
    if shipment is None:
        return t.ngettext(
            "✅ Tracking sent to Rakuten for order {purchaseid} ({count} item).",
            "✅ Tracking sent to Rakuten for order {purchaseid} ({count} items).",
            count,
            purchaseid=order_id,
        )
    number = fmt.link(shipment.tracking_url, fmt.truncate(shipment.tracking_number, 40))
    return t.ngettext(
        "✅ Tracking sent to Rakuten for order {purchaseid} ({count} item): {carrier} {tracking}.",
        "✅ Tracking sent to Rakuten for order {purchaseid} ({count} items): {carrier} {tracking}.",
        count,
        purchaseid=order_id,
        carrier=fmt.clip(shipment.carrier, 40),
        tracking=number,
    )


# --- account lifecycle ----------------------------------------------------------------------------------------


def connected_message(t: Translator, login: str, channel_id: str) -> Message:
    return _simple(
        t.gettext(
            "✅ Rakuten account *{login}* connected. New orders will be posted in {channel}; the first check runs now.",
            login=fmt.clip(login, 100),
            channel=fmt.channel(channel_id) or t.gettext("no channel"),
        ),
        note=t.gettext(
            "Change the channel, language, Express mention and options with `{command}`.", command=f"{COMMAND} settings"
        ),
    )


def disconnected_message(t: Translator, login: str) -> Message:
    return _simple(
        t.gettext(
            "Rakuten account *{login}* disconnected: polling stopped and its token was deleted.",
            login=fmt.clip(login, 100),
        ),
        note=t.gettext("Cards already posted stay in the channel; their buttons no longer act on Rakuten."),
    )


def account_choice_message(t: Translator, sub: str, logins: Sequence[str]) -> Message:
    """``/rakuten settings`` with several accounts connected (or a login that is not one): which one?"""
    names = ", ".join(fmt.clip(login, 100) for login in logins) or t.gettext("none connected")
    return _simple(
        t.gettext("Name the account: `{command}` (accounts: {names}).", command=f"{COMMAND} {sub} LOGIN", names=names)
    )


def notice(text: str, *, note: str | None = None) -> Message:
    """A plain answer to one person, already in their language (instructions)."""
    return _simple(text, note=note)


def cannot_post_message(t: Translator, login: str, channel_id: str, error: str) -> Message:
    """Told to the admin who connected an account whose channel the bot cannot post in."""
    return _simple(
        t.gettext(
            "Rakuten account {login} is connected and polling has started, but I cannot post in <#{channel}> "
            "({error}). Invite me there with `/invite @Rakuten Orders`.",
            login=fmt.clip(login, 100),
            channel=channel_id,
            error=error,
        )
    )


def listener_error_message(t: Translator) -> Message:
    """Told to the person whose click or command the bot failed to handle (the log has the details)."""
    return _simple(
        t.gettext(
            ":warning: Something went wrong on the bot's side while handling that. Nothing was sent to Rakuten "
            "twice; please try again in a minute. If it keeps happening, an admin can look at the bot's logs."
        )
    )


def form_lost_message(t: Translator) -> Message:
    return _simple(t.gettext("This form lost track of its account; open /rakuten settings again."))


def answer_message(t: Translator, answer: Sentence) -> Message:
    """A service's answer to the person who asked (a saved setting, a request under way), in their language."""
    return _simple(t.say(answer))


def reply_result_message(
    t: Translator,
    purchaseid: str,
    to_service: bool,
    outcome: ActionOutcome | str,
    *,
    reason: Sentence | str | None = None,
    retry_at: datetime | None = None,
) -> Message:
    """How a reply written in Slack ended, or where it stands, told to the person who wrote it."""
    result, order_id = ActionOutcome(outcome), fmt.clip(purchaseid, 60)
    why = fmt.clip(t.say(reason) if isinstance(reason, Sentence) else reason, 500) or t.gettext("no reason given")
    if result in (ActionOutcome.OK, ActionOutcome.WENT_THROUGH, ActionOutcome.ALREADY_DONE):
        if to_service:
            text = t.gettext(
                "✅ Your reply reached Rakuten's customer service (order {purchaseid}); it is in the card's thread.",
                purchaseid=order_id,
            )
        else:
            text = t.gettext(
                "✅ Your reply reached the buyer (order {purchaseid}); it is in the card's thread.", purchaseid=order_id
            )
        note = None
        if result is ActionOutcome.WENT_THROUGH:
            note = t.gettext(
                "Rakuten's first answer was lost on the way; its history shows the reply arrived. Nothing was sent "
                "twice."
            )
        return _simple(text, note=note)
    if result is ActionOutcome.REFUSED_BY_RAKUTEN:
        return _simple(
            t.gettext("⚠️ Rakuten refused your reply on order {purchaseid}: {reason}", purchaseid=order_id, reason=why),
            note=t.gettext("Nothing was sent. Use Reply again once it is fixed."),
        )
    if result is ActionOutcome.BOT_FAILED:
        return _simple(
            t.gettext(
                "❌ Order {purchaseid}: the bot stopped on an error of its own ({error}) before Rakuten confirmed your "
                "reply. Use Reply again; the operator finds the details in the bot's log.",
                purchaseid=order_id,
                error=why,
            )
        )
    if result is ActionOutcome.WAITING_FOR_QUOTA:
        when = t.short_datetime(retry_at) if retry_at else t.gettext("when the hour turns")
        return _simple(
            t.gettext(
                "⏳ Rakuten's hourly quota is used up: your reply on order {purchaseid} goes out at {when}.",
                purchaseid=order_id,
                when=when,
            )
        )
    return _simple(
        t.gettext(
            "⏳ Rakuten is not answering right now ({reason}): your reply on order {purchaseid} is kept and sent "
            "again automatically.",
            purchaseid=order_id,
            reason=why,
        )
    )
