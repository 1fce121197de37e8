"""Comparing what the bot shows with what it should say, in whichever language the test runs.

Tests build the expected sentence with the stack's translator (``stack.t.gettext("Shipped via {carrier}",
carrier="DPD")``); a value the test cannot know (a time, a duration, Rakuten's own words) is filled with
``ANY``, which ``says`` reads as "any text here".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

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
