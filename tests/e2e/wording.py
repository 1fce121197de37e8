"""Comparing what the bot shows with what it should say, in whichever language the test runs.

Tests build the expected sentence with the stack's translator (``stack.t.gettext("Shipped via {carrier}",
carrier="DPD")``); a value the test cannot know (a time, a duration, Rakuten's own words) is filled with
``ANY``, which ``says`` reads as "any text here".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bot.ui.i18n import Translator
from devkit.local_stack import LOGIN

ANY = "\x00"  # a placeholder's value that stands for any text (never in anything the bot shows)


def pattern(sentence: str) -> re.Pattern[str]:
    """``sentence`` as a regular expression: its text literally, each ``ANY`` as the shortest run of any text."""
    return re.compile(".+?".join(re.escape(part) for part in sentence.split(ANY)), re.DOTALL)


def says(shown: str, sentence: str) -> bool:
    """Whether ``shown`` contains ``sentence`` (``ANY`` in it matching any text)."""
    return pattern(sentence).search(shown) is not None


def texts(node: Any) -> Iterator[str]:
    """Every ``text`` string in a message, its Block Kit blocks, a modal or a response body, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from texts(value)


def shown(*nodes: Any) -> str:
    """All the text of messages, blocks or views as one string, one text per line, to search with ``says``."""
    return "\n".join(text for node in nodes for text in texts(node))


# --- sentences several test modules look for (``t``: the stack's translator) ---------------------------------

ANSWER_LOST = (
    "Rakuten's first answer was lost on the way; asked again, Rakuten confirmed it already has it. Nothing was sent "
    "twice."
)
ACCEPTED = (
    "✅ Order {purchaseid} accepted ({count} item). Ship it within the deadline: the card now offers Mark shipped.",
    "✅ Order {purchaseid} accepted ({count} items). Ship it within the deadline: the card now offers Mark shipped.",
)


def polling_failed(t: Translator, count: int, account: str = LOGIN) -> str:
    """The outage alert's notification line: polling failed ``count`` times (since any time)."""
    return t.ngettext(
        "⚠️ Rakuten account {account}: polling has failed {count} time since {when}",
        "⚠️ Rakuten account {account}: polling has failed {count} times since {when}",
        count,
        account=account,
        when=ANY,
    )


def reachable_again(t: Translator, account: str = LOGIN) -> str:
    return t.gettext(
        "✅ Rakuten account {account} is reachable again after {duration} (since {when}).",
        account=account,
        duration=ANY,
        when=ANY,
    )


def burst_arrived(t: Translator, count: int) -> str:
    """A burst summary's line: ``count`` new orders, their cards in its thread."""
    return t.ngettext(
        "{count} new order arrived: cards in the thread", "{count} new orders arrived: cards in the thread", count
    )


def shipped_via(t: Translator, carrier: str) -> str:
    """A shipped item's line on its card begins so."""
    return t.gettext("Shipped via {carrier}", carrier=carrier)


def rakuten_refused(t: Translator, reason: str = ANY) -> str:
    """The card's line under an item Rakuten refused."""
    return t.gettext("⚠️ Rakuten refused: {reason}", reason=reason)


def tracking_sent(t: Translator, purchaseid: str, carrier: str, tracking: str, count: int = 1) -> str:
    """The shipper's private answer once Rakuten has the tracking."""
    return t.ngettext(
        "✅ Tracking sent to Rakuten for order {purchaseid} ({count} item): {carrier} {tracking}.",
        "✅ Tracking sent to Rakuten for order {purchaseid} ({count} items): {carrier} {tracking}.",
        count,
        purchaseid=purchaseid,
        carrier=carrier,
        tracking=tracking,
    )


def tracking_rejected(t: Translator, purchaseid: str, reason: str = ANY) -> str:
    """The shipper's private answer when Rakuten refused the tracking."""
    return t.gettext(
        "⚠️ Rakuten rejected the tracking for order {purchaseid}: {reason}", purchaseid=purchaseid, reason=reason
    )
