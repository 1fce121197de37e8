"""Text helpers shared by the Block Kit builders: mrkdwn escaping, truncation, mentions. Words, dates and
amounts depend on the reader's language: they are the ``Translator``'s (``bot.ui.i18n``).

Everything here is a pure function. Text that comes from Rakuten or from users (headlines, names, cities,
error messages) always goes through ``clip`` before it reaches mrkdwn, so that ``Tom & Jerry <DVD>`` renders
literally and cannot forge a mention or a link, and ``*Jean* _Dupont_`` cannot make itself bold or italic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ELLIPSIS = "…"

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$")
_GROUP_MENTION = re.compile(r"^<!subteam\^(S[A-Z0-9]{2,})(?:\|[^>]*)?>$")
_SAFE_URL = re.compile(r"^https?://[^\s<>|]+$", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")
# French typography's no-break spaces ("Rakuten\xa0: …", "1\u202f234,50\xa0€", "2:05\u202fPM"): kept by
# single_spaced when alone, so a translated sentence that passes through ``clip`` never breaks before its colon.
_NO_BREAK_SPACES = frozenset({"\xa0", "\u202f"})


# mrkdwn has no escape for its formatting characters (Slack decodes only &amp; &lt; &gt;), so in text we do not
# control they are shown as their full-width forms: the same marks to a reader, never bold, italic, strike or code.
_FORMATTING_MARKS = str.maketrans({"*": "＊", "_": "＿", "~": "～", "`": "｀"})


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: only ``&``, ``<`` and ``>`` are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def literal(text: str) -> str:
    """Text we do not control, made inert in mrkdwn: escaped, and unable to format (see _FORMATTING_MARKS)."""
    return escape(text).translate(_FORMATTING_MARKS)


def single_spaced(text: str) -> str:
    """``text`` on one line: every run of whitespace one space (a lone no-break space stays), none at the ends."""
    return _WHITESPACE.sub(lambda run: run[0] if run[0] in _NO_BREAK_SPACES else " ", text).strip()


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
    return literal(truncate(single_spaced(text), limit))


def code(text: str | None, limit: int) -> str:
    """User-controlled text as an inline code span (SKU, EAN, tracking number): nothing formats inside one, so
    only a backtick, which would close it, is replaced; the rest is kept as typed, to be copied as it is."""
    inner = single_spaced((text or "").replace("`", "'"))
    return f"`{escape(truncate(inner, limit))}`"


def plain(text: str | None, limit: int) -> str:
    """User-controlled text for plain_text objects (headers, option labels): no escaping, but single-spaced."""
    if not text:
        return ""
    return truncate(single_spaced(text), limit)


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


def user(user_id: str | None) -> str | None:
    """A user mention, or None when the id is missing or not a Slack user id."""
    if user_id and _USER_ID.match(user_id):
        return f"<@{user_id}>"
    return None


def channel(channel_id: str | None) -> str | None:
    """A channel mention (``<#C…>``), or None when the id is missing or malformed."""
    if channel_id and _CHANNEL_ID.match(channel_id):
        return f"<#{channel_id}>"
    return None


def is_channel_id(value: str | None) -> bool:
    return bool(value and _CHANNEL_ID.match(value))


# --- lists ----------------------------------------------------------------------------------------------------


def join_nonempty(parts: Iterable[str | None], separator: str = " · ") -> str:
    return separator.join(part for part in parts if part)



def paragraphs(text: str | None, limit: int, *, max_lines: int = 30) -> str:
    """Free text someone wrote (a buyer's message), made inert in mrkdwn like ``clip`` but keeping its line breaks:
    each line single-spaced, runs of blank lines as one, at most ``max_lines`` lines and ``limit`` visible
    characters in all."""
    return literal(_paragraph_cut(text, limit, max_lines)[0])


def is_shortened(text: str | None, limit: int, *, max_lines: int = 30) -> bool:
    """Whether ``paragraphs(text, limit, max_lines=…)`` leaves something out."""
    return _paragraph_cut(text, limit, max_lines)[1]


def _paragraph_cut(text: str | None, limit: int, max_lines: int) -> tuple[str, bool]:
    if not text:
        return "", False
    kept: list[str] = []
    for line in (" ".join(line.split()) for line in text.strip().splitlines()):
        if line or (kept and kept[-1]):
            kept.append(line)
    whole = "\n".join(kept)
    cut = "\n".join(kept[:max_lines]) + (ELLIPSIS if len(kept) > max_lines else "")
    cut = truncate(cut, limit)
    return cut, cut != whole
