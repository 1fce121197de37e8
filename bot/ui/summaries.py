"""One-line summaries shared by the Home tab and the status / orders messages: an order, an account's health."""

from __future__ import annotations

from datetime import datetime

from bot.domain.accounts import AccountStatus
from bot.domain.deadlines import aware
from bot.domain.orders import OrderRecord, OrderState
from bot.ui import formatting as fmt
from bot.ui.i18n import Translator
from bot.ui.order_card import EXPRESS_MARKER, order_state_label
from bot.ui.poll_failures import failure_text
from bot.ui.timing import time_left_to_decide


def action_label(t: Translator, action: str) -> str:
    """A Rakuten action as a seller would name it (quota notices, account health)."""
    match str(action):
        case "getnewsales":
            return t.gettext("fetching new orders")
        case "getcurrentsales":
            return t.gettext("fetching current orders")
        case "acceptsale":
            return t.gettext("accepting orders")
        case "refusesale":
            return t.gettext("refusing orders")
        case "settrackingpackageinfos":
            return t.gettext("sending tracking numbers")
        case "getitemtodolist":
            return t.gettext("checking the account")
        case "getbillinginformation":
            return t.gettext("reading order amounts")
        case "getshippinginformation":
            return t.gettext("reading shipping details")
    return fmt.code(str(action), 40)


def order_line(t: Translator, order: OrderRecord, now: datetime) -> str:
    """``⚡ `123456789` · 28/11 14:05 · Paris · 🟡 To accept (52 h left to decide)``: no link, no street, no name."""
    state = order.state
    label = order_state_label(t, state)
    if state is OrderState.TO_ACCEPT:
        countdown = time_left_to_decide(t, order, now)
        label = f"{label} ({countdown})" if countdown else label
    city = None if order.personal_data_purged or order.ship_to is None else fmt.clip(order.ship_to.city, 40)
    parts = [
        f"{EXPRESS_MARKER + ' ' if order.is_express else ''}{fmt.code(order.purchaseid, 40)}",
        t.short_datetime(order.purchase_date) if order.purchase_date else None,
        city,
        label,
    ]
    return fmt.join_nonempty(parts)


def account_status_lines(t: Translator, status: AccountStatus, now: datetime) -> list[str]:
    """Channel, last successful and next poll, health (or the last error), and any Rakuten quota wait."""
    account, health, next_poll = status.account, status.health, status.next_poll
    next_text = t.when(next_poll, now) if next_poll else t.gettext("not scheduled")
    lines = [
        t.gettext(
            "*{login}* · orders in {channel}",
            login=fmt.clip(account.login, 100),
            channel=_channel(t, account.channel_id),
        ),
        fmt.join_nonempty(
            [
                t.gettext("Last successful poll: {when}", when=t.ago(health.last_success_at, now)),
                t.gettext("next poll: {when}", when=next_text),
            ]
        ),
    ]
    if health.last_error and health.consecutive_failures:
        error = fmt.clip(failure_text(t, health.last_error), 300)
        if health.last_error_at:
            lines.append(
                t.ngettext(
                    "⚠️ {count} failure in a row, last at {when}; last error: {error}",
                    "⚠️ {count} failures in a row, last at {when}; last error: {error}",
                    health.consecutive_failures,
                    when=t.when(health.last_error_at, now),
                    error=error,
                )
            )
        else:
            lines.append(
                t.ngettext(
                    "⚠️ {count} failure in a row; last error: {error}",
                    "⚠️ {count} failures in a row; last error: {error}",
                    health.consecutive_failures,
                    error=error,
                )
            )
    else:
        lines.append(t.gettext("✅ healthy"))
    for action, until in sorted(health.quota_blocked_until.items()):
        if until and aware(until) > aware(now):
            lines.append(
                t.gettext(
                    "⏳ Rakuten quota reached for {action} until {when}",
                    action=action_label(t, action),
                    when=t.when(until, now),
                )
            )
    return lines


def _channel(t: Translator, channel_id: str | None) -> str:
    return fmt.channel(channel_id) or t.gettext("no channel")
