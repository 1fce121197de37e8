"""The reminders posted in an order card's thread, and the daily summary, in the channel's language.

A reminder pings whoever can act: the account's shipper group when one is set in ``/rakuten settings``, else the
channel's active members (``@here``, not ``@channel``: whoever is around, not every member on holiday). An order
already overdue when the bot first saw it gets its reminder without a ping (the service decides: ``mention``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, time

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.domain.accounts import AccountSettings
from bot.domain.daily_summary import SUMMARY_LIST_LIMIT, DailyFigures, summary_moment
from bot.domain.deadlines import DeadlineRules, accept_deadline, ship_deadline
from bot.domain.orders import OrderRecord, OrderState, order_total
from bot.domain.reminders import DueReminder, ReminderKind
from bot.ui import formatting as fmt
from bot.ui.i18n import Translator
from bot.ui.limits import HEADER_TEXT_MAX, NOTIFICATION_TEXT_MAX, SECTION_TEXT_MAX
from bot.ui.messages import Message
from bot.ui.order_card import EXPRESS_MARKER

HERE = "<!here>"

BLOCK_REMINDER = "reminder"
BLOCK_SUMMARY_HEADER = "summary_header"
BLOCK_SUMMARY_FIGURES = "summary_figures"
BLOCK_SUMMARY_TO_SHIP = "summary_to_ship"
BLOCK_SUMMARY_LATE = "summary_late"
BLOCK_SUMMARY_CONTEXT = "summary_context"

# A summary names its days by a moment on each: noon, far from any time-zone edge (only the date is shown).
_NOON = time(12, 0)

Detail = Callable[[OrderRecord], str | None]


def who_to_ping(settings: AccountSettings) -> str:
    """The shipper group's mention when one is set, else ``@here``."""
    return fmt.mention(settings.shipper_group) or HERE


# --- reminders --------------------------------------------------------------------------------------------------


def reminder_message(
    t: Translator,
    order: OrderRecord,
    reminder: DueReminder,
    settings: AccountSettings,
    *,
    mention: bool,
    now: datetime,
    rules: DeadlineRules,
) -> Message:
    """One reminder for a card's thread: what is due, by when, what to do."""
    text = reminder_text(t, order, reminder, now=now, rules=rules)
    if mention:
        text = f"{who_to_ping(settings)} {text}"
    section = SectionBlock(block_id=BLOCK_REMINDER, text=MarkdownTextObject(text=fmt.fit(text, SECTION_TEXT_MAX)))
    return Message(text=fmt.fit(text, NOTIFICATION_TEXT_MAX), blocks=[section])


def reminder_text(
    t: Translator, order: OrderRecord, reminder: DueReminder, *, now: datetime, rules: DeadlineRules
) -> str:
    purchaseid = fmt.clip(order.purchaseid, 60)
    marker = f"{EXPRESS_MARKER} " if order.is_express else ""
    deadline = _paris_time(t, reminder.deadline or reminder.due_at)
    match reminder.kind:
        case ReminderKind.ACCEPT_SOON:
            left = t.duration((reminder.deadline or reminder.due_at) - now)
            return marker + t.gettext(
                "⏳ Order {purchaseid} still awaits your decision: accept or refuse it by {deadline} ({left} left).",
                purchaseid=purchaseid,
                deadline=deadline,
                left=left,
            )
        case ReminderKind.ACCEPT_EXPIRED:
            return marker + t.gettext(
                "⌛ Order {purchaseid} still awaits your decision and its acceptance deadline ({deadline}) has "
                "passed. Accept or refuse it now: Rakuten may cancel it at any time.",
                purchaseid=purchaseid,
                deadline=deadline,
            )
        case ReminderKind.SHIP_LATE:
            return marker + t.ngettext(
                "⏰ Order {purchaseid} is late: accepted but not shipped within {count} working day (due {deadline}). "
                "Ship it, then use Mark shipped on its card.",
                "⏰ Order {purchaseid} is late: accepted but not shipped within {count} working days (due {deadline}). "
                "Ship it, then use Mark shipped on its card.",
                rules.ship_within_working_days,
                purchaseid=purchaseid,
                deadline=deadline,
            )
        case ReminderKind.MESSAGE_UNANSWERED:
            waited = t.duration(now - (reminder.due_at - rules.message_reminder_after))
            return marker + t.gettext(
                "💬 A buyer message on order {purchaseid} has waited {waited} for an answer. Use Reply on its card "
                "(or on the message).",
                purchaseid=purchaseid,
                waited=waited,
            )
    return marker + t.gettext("🔔 Order {purchaseid} needs your attention.", purchaseid=purchaseid)


def _paris_time(t: Translator, moment: datetime) -> str:
    return t.gettext("{when} Paris time", when=t.short_datetime(moment))


# --- daily summary ----------------------------------------------------------------------------------------------


def daily_summary_message(
    t: Translator, login: str, figures: DailyFigures, links: Mapping[str, str], *, rules: DeadlineRules
) -> Message:
    """Yesterday's figures and what waits today, each order linked to its card."""
    day = t.date(summary_moment(figures.day, _NOON))
    header = t.gettext("📋 Daily summary · {date}", date=day)
    figures_lines = [_new_orders_line(t, figures), _shipped_line(t, figures)]
    if figures.unanswered_messages:
        figures_lines.append(
            t.ngettext(
                "💬 {count} buyer message unanswered",
                "💬 {count} buyer messages unanswered",
                figures.unanswered_messages,
            )
        )
    if figures.open_claims:
        figures_lines.append(t.ngettext("⚠️ {count} claim open", "⚠️ {count} claims open", figures.open_claims))
    blocks: list[Block] = [
        HeaderBlock(block_id=BLOCK_SUMMARY_HEADER, text=fmt.plain(header, HEADER_TEXT_MAX)),
        SectionBlock(block_id=BLOCK_SUMMARY_FIGURES, text=MarkdownTextObject(text="\n".join(figures_lines))),
        DividerBlock(),
        _order_list(
            t,
            BLOCK_SUMMARY_TO_SHIP,
            t.gettext("*📦 To ship ({count}), oldest first*", count=t.number(len(figures.to_ship))),
            figures.to_ship,
            links,
            empty=t.gettext("_Nothing to ship._"),
            detail=lambda order: _to_ship_detail(t, order, rules),
        ),
        _order_list(
            t,
            BLOCK_SUMMARY_LATE,
            t.gettext("*⏰ Late ({count})*", count=t.number(len(figures.late))),
            figures.late,
            links,
            empty=t.gettext("_Nothing late._"),
            detail=lambda order: _late_detail(t, order, rules),
        ),
        ContextBlock(
            block_id=BLOCK_SUMMARY_CONTEXT,
            elements=[
                MarkdownTextObject(
                    text=t.gettext(
                        "Rakuten account {login} · figures for {date} (Paris time)",
                        login=fmt.clip(login, 60),
                        date=t.date(summary_moment(figures.yesterday, _NOON)),
                    )
                )
            ],
        ),
    ]
    text = fmt.join_nonempty([header, *figures_lines], " · ")
    return Message(text=fmt.fit(text, NOTIFICATION_TEXT_MAX), blocks=blocks)


def _new_orders_line(t: Translator, figures: DailyFigures) -> str:
    count = len(figures.new_orders)
    if figures.new_amount is None:
        return t.ngettext("🛒 {count} new order yesterday", "🛒 {count} new orders yesterday", count)
    return t.ngettext(
        "🛒 {count} new order yesterday, {amount}",
        "🛒 {count} new orders yesterday, {amount}",
        count,
        amount=t.money(figures.new_amount),
    )


def _shipped_line(t: Translator, figures: DailyFigures) -> str:
    return t.ngettext("✅ {count} order shipped yesterday", "✅ {count} orders shipped yesterday", len(figures.shipped))


def _order_list(
    t: Translator,
    block_id: str,
    title: str,
    orders: Sequence[OrderRecord],
    links: Mapping[str, str],
    *,
    empty: str,
    detail: Detail,
) -> SectionBlock:
    lines = [title]
    if not orders:
        lines.append(empty)
    lines += [
        _order_line(t, order, links.get(order.purchaseid), detail(order)) for order in orders[:SUMMARY_LIST_LIMIT]
    ]
    if len(orders) > SUMMARY_LIST_LIMIT:
        lines.append(t.gettext("…and {count} more", count=t.number(len(orders) - SUMMARY_LIST_LIMIT)))
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=fmt.fit("\n".join(lines), SECTION_TEXT_MAX)))


def _order_line(t: Translator, order: OrderRecord, link: str | None, detail: str | None) -> str:
    """``• ⚡ <link|123456789> · 28 Nov, 2:05 PM · Lyon · €29.90 · late since …``: no street, no name."""
    name = fmt.link(link, order.purchaseid) if link else fmt.code(order.purchaseid, 40)
    city = None if order.personal_data_purged or order.ship_to is None else fmt.clip(order.ship_to.city, 40)
    total, _items_only = order_total(order)
    parts = [
        f"• {EXPRESS_MARKER + ' ' if order.is_express else ''}{name}",
        t.short_datetime(order.purchase_date) if order.purchase_date else None,
        city,
        t.money(total) if total is not None else None,
        detail,
    ]
    return fmt.join_nonempty(parts)


def _to_ship_detail(t: Translator, order: OrderRecord, rules: DeadlineRules) -> str | None:
    deadline = ship_deadline(order, rules)
    return t.gettext("ship by {deadline}", deadline=t.short_datetime(deadline)) if deadline else None


def _late_detail(t: Translator, order: OrderRecord, rules: DeadlineRules) -> str | None:
    if order.state is OrderState.TO_ACCEPT:
        deadline = accept_deadline(order)
        return t.gettext("to accept by {deadline}", deadline=t.short_datetime(deadline)) if deadline else None
    deadline = ship_deadline(order, rules)
    return t.gettext("to ship, was due {deadline}", deadline=t.short_datetime(deadline)) if deadline else None
