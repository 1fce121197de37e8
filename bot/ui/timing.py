"""Deadlines as sellers read them: time left to decide, "decide by" with Slack's date formatting."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.deadlines import accept_deadline, aware
from bot.domain.orders import OrderRecord
from bot.ui.i18n import Translator


def time_left_to_decide(t: Translator, order: OrderRecord, now: datetime) -> str | None:
    """``52 h left to decide`` / ``less than 1 h left to decide`` / ``deadline passed``; None without a date."""
    deadline = accept_deadline(order)
    if deadline is None:
        return None
    remaining = deadline - aware(now)
    if remaining <= timedelta(0):
        return t.gettext("deadline passed")
    hours = int(remaining.total_seconds() // 3600)
    if hours < 1:
        return t.gettext("less than 1 h left to decide")
    return t.gettext("{hours} h left to decide", hours=hours)


def decide_by(t: Translator, order: OrderRecord, now: datetime) -> str | None:
    """``decide by Mon 1 Dec 14:05`` for a card: an absolute deadline stays true as the card ages.

    Slack renders the date token in each reader's own time zone and language; the fallback (Paris time, in the
    card's language) is what clients without date formatting, and the terminal demo, show. Once the deadline
    has passed, the card says so.
    """
    deadline = accept_deadline(order)
    if deadline is None:
        return None
    if deadline <= aware(now):
        return t.gettext("deadline passed")
    fallback = t.gettext("{when} Paris time", when=t.short_datetime(deadline))
    token = f"<!date^{int(deadline.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"
    return t.gettext("decide by {deadline}", deadline=token)
