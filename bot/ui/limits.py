"""Slack's size limits the builders design around, and the check that turns models into API payloads.

slack_sdk's models check per-block limits in ``to_dict()``; the per-message block count is ours to check.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
OPTION_TEXT_MAX = 75
OPTIONS_MAX = 100
CHECKBOX_OPTIONS_MAX = 10
# Slack truncates ``text`` far above this; a notification line stays short anyway.
NOTIFICATION_TEXT_MAX = 3000


def blocks_as_dicts(blocks: Sequence[Block], *, limit: int = MESSAGE_MAX_BLOCKS) -> list[dict[str, Any]]:
    """Validated dicts of ``blocks``; SlackObjectFormationError (from slack_sdk) or ValueError when over a limit."""
    if len(blocks) > limit:
        raise ValueError(f"{len(blocks)} blocks, over Slack's limit of {limit}")
    return [block.to_dict() for block in blocks]
