"""Text helpers shared by the Block Kit builders: mrkdwn escaping, truncation, mentions, dates and amounts.

Everything here is a pure function. Text that comes from Rakuten or from users (headlines, names, cities,
error messages) always goes through ``clip`` before it reaches mrkdwn, so that ``Tom & Jerry <DVD>`` renders
literally and cannot forge a mention or a link, and ``*Jean* _Dupont_`` cannot make itself bold or italic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from rakuten.models import Money

PARIS = ZoneInfo("Europe/Paris")
ELLIPSIS = "…"

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$")
_GROUP_MENTION = re.compile(r"^<!subteam\^(S[A-Z0-9]{2,})(?:\|[^>]*)?>$")
_SAFE_URL = re.compile(r"^https?://[^\s<>|]+$", re.IGNORECASE)


# mrkdwn has no escape for its formatting characters (Slack decodes only &amp; &lt; &gt;), so in text we do not
# control they are shown as their full-width forms: the same marks to a reader, never bold, italic, strike or code.
_FORMATTING_MARKS = str.maketrans({"*": "＊", "_": "＿", "~": "～", "`": "｀"})


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: only ``&``, ``<`` and ``>`` are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def literal(text: str) -> str:
    """Text we do not control, made inert in mrkdwn: escaped, and unable to format (see _FORMATTING_MARKS)."""
    return escape(text).translate(_FORMATTING_MARKS)


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, with an ellipsis when something was cut."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def clip(text: str | None, limit: int) -> str:
    """User-controlled text made safe for mrkdwn: single-spaced, truncated to ``limit`` visible characters, literal.

    Truncating before escaping keeps entities such as ``&amp;`` whole; the escaped form may be longer than
    ``limit``, so callers budget for up to five times ``limit`` in the worst case (every character a ``&``).
    """
    if not text:
        return ""
    return literal(truncate(" ".join(text.split()), limit))


def code(text: str | None, limit: int) -> str:
    """User-controlled text as an inline code span (SKU, EAN, tracking number): nothing formats inside one, so
    only a backtick, which would close it, is replaced; the rest is kept as typed, to be copied as it is."""
    inner = " ".join((text or "").replace("`", "'").split())
    return f"`{escape(truncate(inner, limit))}`"


def plain(text: str | None, limit: int) -> str:
    """User-controlled text for plain_text objects (headers, option labels): no escaping, but single-spaced."""
    if not text:
        return ""
    return truncate(" ".join(text.split()), limit)


def fit(mrkdwn: str, limit: int) -> str:
    """Already-built mrkdwn cut to ``limit`` characters, at a line break when possible, never inside an entity."""
    if len(mrkdwn) <= limit:
        return mrkdwn
    cut = mrkdwn[: limit - 1]
    newline = cut.rfind("\n")
    if newline > limit // 2:
        cut = cut[:newline]
    # Never leave half an entity (&am…) or half a link/mention (<https://…) behind.
    amp, semicolon = cut.rfind("&"), cut.rfind(";")
    if amp > semicolon:
        cut = cut[:amp]
    opening, closing = cut.rfind("<"), cut.rfind(">")
    if opening > closing:
        cut = cut[:opening]
    return cut.rstrip() + ELLIPSIS


def link(url: str | None, label: str) -> str:
    """A mrkdwn link ``<url|label>``, or just the escaped label when the URL is not a plain http(s) URL."""
    safe_label = escape(label.replace("|", "/"))
    if not url or not _SAFE_URL.match(url):
        return safe_label
    return f"<{url.replace('&', '&amp;')}|{safe_label}>"


# --- Slack ids and mentions ---------------------------------------------------------------------------------


def parse_mention_target(value: str | None) -> str | None:
    """The user id (U…/W…) or user group id (S…) in an id or a pasted mention (``<@U1|ann>``); None otherwise."""
    if not value:
        return None
    text = value.strip()
    for pattern in (_USER_MENTION, _GROUP_MENTION):
        match = pattern.match(text)
        if match:
            return match.group(1)
    upper = text.upper()
    if _USER_ID.match(upper) or _GROUP_ID.match(upper):
        return upper
    return None


def parse_group_id(value: str | None) -> str | None:
    """A user group id (S…) from an id or a pasted ``<!subteam^S…>`` mention; None otherwise."""
    target = parse_mention_target(value)
    return target if target and _GROUP_ID.match(target) else None


def mention(target: str | None) -> str | None:
    """``<@U…>`` for a user id, ``<!subteam^S…>`` for a user group id, None for anything else."""
    parsed = parse_mention_target(target)
    if parsed is None:
        return None
    if _GROUP_ID.match(parsed):
        return f"<!subteam^{parsed}>"
    return f"<@{parsed}>"


def user(user_id: str | None) -> str:
    """A user mention, or "someone" when the id is missing or not a Slack user id."""
    if user_id and _USER_ID.match(user_id):
        return f"<@{user_id}>"
    return "someone"


def channel(channel_id: str | None) -> str:
    """A channel mention (``<#C…>``), or "no channel" when the id is missing or malformed."""
    if channel_id and _CHANNEL_ID.match(channel_id):
        return f"<#{channel_id}>"
    return "no channel"


def is_channel_id(value: str | None) -> bool:
    return bool(value and _CHANNEL_ID.match(value))


# --- dates, durations, amounts ------------------------------------------------------------------------------


def aware(moment: datetime) -> datetime:
    """``moment`` with a time zone; a naive datetime is taken as UTC, the store's convention."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def as_paris(moment: datetime) -> datetime:
    """``moment`` in Europe/Paris (naive datetimes taken as UTC)."""
    return aware(moment).astimezone(PARIS)


def paris_datetime(moment: datetime | None) -> str:
    """``28/11/2026 14:05`` in Paris time, or "unknown"."""
    return as_paris(moment).strftime("%d/%m/%Y %H:%M") if moment else "unknown"


def paris_short(moment: datetime | None) -> str:
    """``28/11 14:05`` in Paris time, or "never"."""
    return as_paris(moment).strftime("%d/%m %H:%M") if moment else "never"


def paris_when(moment: datetime | None, now: datetime) -> str:
    """``14:05`` for a moment on today's Paris date, ``28/11 14:05`` for any other day, "never" for None."""
    if moment is None:
        return "never"
    local = as_paris(moment)
    if local.date() == as_paris(now).date():
        return local.strftime("%H:%M")
    return local.strftime("%d/%m %H:%M")


def duration(span: timedelta) -> str:
    """A rounded, human duration: ``45 s``, ``12 min``, ``3 h 05 min``, ``2 d 4 h``."""
    seconds = max(0, int(span.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def ago(moment: datetime | None, now: datetime) -> str:
    """``28/11 15:02 (12 min ago)``, or "never"."""
    if moment is None:
        return "never"
    return f"{paris_when(moment, now)} ({duration(aware(now) - aware(moment))} ago)"


def money(amount: Money | None) -> str:
    return amount.format() if amount is not None else "—"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


def join_nonempty(parts: Iterable[str | None], separator: str = " · ") -> str:
    return separator.join(part for part in parts if part)
