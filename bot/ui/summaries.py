"""One-line summaries shared by the Home tab and the status / orders messages: an order, an account's health."""

from __future__ import annotations

from datetime import datetime

from bot.store.records import AccountRecord, OrderRecord, OrderState
from bot.ui import formatting as fmt
from bot.ui.order_card import EXPRESS_MARKER, ORDER_STATE_LABELS
from bot.ui.timing import time_left_to_decide

# Rakuten actions as a seller would name them (quota notices, account health).
ACTION_LABELS: dict[str, str] = {
    "getnewsales": "fetching new orders",
    "getcurrentsales": "fetching current orders",
    "acceptsale": "accepting orders",
    "refusesale": "refusing orders",
    "settrackingpackageinfos": "sending tracking numbers",
    "getitemtodolist": "checking the account",
    "getbillinginformation": "reading order amounts",
    "getshippinginformation": "reading shipping details",
}


def action_label(action: str) -> str:
    key = str(action)
    return ACTION_LABELS.get(key, fmt.code(key, 40))


def order_line(order: OrderRecord, now: datetime) -> str:
    """``⚡ `123456789` · 28/11 14:05 · Paris · 🟡 To accept (52 h left to decide)``: no link, no street, no name."""
    state = order.state
    label = ORDER_STATE_LABELS[state]
    if state is OrderState.TO_ACCEPT:
        countdown = time_left_to_decide(order, now)
        label = f"{label} ({countdown})" if countdown else label
    city = None if order.personal_data_purged or order.ship_to is None else fmt.clip(order.ship_to.city, 40)
    parts = [
        f"{EXPRESS_MARKER + ' ' if order.is_express else ''}{fmt.code(order.purchaseid, 40)}",
        fmt.paris_short(order.purchase_date) if order.purchase_date else None,
        city,
        label,
    ]
    return fmt.join_nonempty(parts)


def account_status_lines(account: AccountRecord, next_poll: datetime | None, now: datetime) -> list[str]:
    """Channel, last successful and next poll, health (or the last error), and any Rakuten quota wait."""
    health = account.health
    lines = [
        f"*{fmt.clip(account.login, 100)}* · orders in {fmt.channel(account.channel_id)}",
        fmt.join_nonempty(
            [
                f"Last successful poll: {fmt.ago(health.last_success_at, now)}",
                f"next poll: {fmt.paris_when(next_poll, now) if next_poll else 'not scheduled'}",
            ]
        ),
    ]
    if health.last_error and health.consecutive_failures:
        failures = fmt.plural(health.consecutive_failures, "failure")
        when = f", last at {fmt.paris_when(health.last_error_at, now)}" if health.last_error_at else ""
        lines.append(f"⚠️ {failures} in a row{when}; last error: {fmt.clip(health.last_error, 300)}")
    else:
        lines.append("✅ healthy")
    for action, until in sorted(health.quota_blocked_until.items()):
        if until and fmt.aware(until) > fmt.aware(now):
            lines.append(f"⏳ Rakuten quota reached for {action_label(action)} until {fmt.paris_when(until, now)}")
    return lines
