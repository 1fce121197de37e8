"""Slack's Block Kit limits: the one table the builders design around and the development kit's validator
(``devkit.block_kit_limits``, which the Slack stand-in runs on every message and view) checks payloads against.

Lengths are in characters, counted as Python's ``len`` counts them (code points); Slack's reference does not say
whether an emoji made of several code points, or of two UTF-16 units, counts as one.

Sources: Slack's Block Kit reference (https://docs.slack.dev/reference/block-kit/, its pages on blocks, block
elements and composition objects), the modal reference (https://docs.slack.dev/reference/views/modal-views),
Slack's changelog on truncating long messages (https://api.slack.com/changelog/2018-04-truncating-really-long-messages),
and the same numbers in slack_sdk's models (``slack_sdk/models/blocks/*.py``, ``slack_sdk/models/views/__init__.py``),
which check them in ``to_dict()``. A number that is our own choice, not Slack's, is in the last section and says so.

Not in the table, because Slack does not document it: chat.postMessage also refuses a message whose blocks carry
too much text in all (``msg_blocks_too_long``); users report it somewhere around 12,000-13,000 characters
(slackapi/bolt-js issues 2509 and 2867). The validator does not check it; cards keep under MESSAGE_TEXT_BUDGET.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block

# --- surfaces ---------------------------------------------------------------------------------------------------

MESSAGE_MAX_BLOCKS = 50  # blocks in one message (chat.postMessage, chat.update, ephemeral, respond)
VIEW_MAX_BLOCKS = 100  # blocks in one modal or Home tab
MESSAGE_TEXT_MAX = 40_000  # a message's top-level `text`: Slack cuts it here (warning message_truncated), no refusal
VIEW_TITLE_MAX = 24  # a modal's title, and its submit and close button texts
PRIVATE_METADATA_MAX = 3000  # a view's private_metadata
ID_MAX = 255  # action_id, block_id, a view's callback_id and external_id

# --- text objects and blocks ------------------------------------------------------------------------------------

TEXT_MIN = 1  # any text object: Slack refuses empty text ("must be more than 0 characters")
TEXT_MAX = 3000  # any text object without a tighter limit, e.g. each text element of a context block
SECTION_TEXT_MAX = 3000  # a section block's text
FIELDS_MAX = 10  # fields in one section block
FIELD_TEXT_MAX = 2000  # each field of a section block
HEADER_TEXT_MAX = 150  # a header block's text (plain_text only)
MARKDOWN_TEXT_MAX = 12_000  # a markdown block's text
CONTEXT_ELEMENTS_MAX = 10  # elements (text or image) in one context block
ACTIONS_ELEMENTS_MAX = 25  # interactive elements in one actions block
INPUT_LABEL_MAX = 2000  # an input block's label (plain_text only)
INPUT_HINT_MAX = 2000  # an input block's hint (plain_text only)
IMAGE_URL_MAX = 3000  # image_url of an image block or image element
IMAGE_ALT_TEXT_MAX = 2000  # alt_text of an image block or image element
IMAGE_TITLE_MAX = 2000  # an image block's title (plain_text only)

# --- interactive elements ---------------------------------------------------------------------------------------

BUTTON_TEXT_MAX = 75  # a button's text (plain_text only)
BUTTON_VALUE_MAX = 2000  # a button's value, which Slack sends back on a click
BUTTON_URL_MAX = 3000  # a link button's url
PLACEHOLDER_MAX = 150  # the placeholder of a text input, select menu or date picker (plain_text only)
TEXT_INPUT_LENGTH_MAX = 3000  # the largest min_length / max_length a plain_text_input accepts
OPTIONS_MAX = 100  # options in a static_select / multi_static_select, and in each of its option groups
OPTION_GROUPS_MAX = 100  # option groups in a static_select / multi_static_select
OPTION_GROUP_LABEL_MAX = 75  # an option group's label (plain_text only)
CHECKBOX_OPTIONS_MAX = 10  # options in a checkboxes element
RADIO_OPTIONS_MAX = 10  # options in a radio_buttons element
OPTION_TEXT_MAX = 75  # an option's text
OPTION_VALUE_MAX = 150  # an option's value, which Slack sends back when it is chosen
OPTION_DESCRIPTION_MAX = 75  # an option's description (plain_text only)
CONFIRM_TITLE_MAX = 100  # a confirmation dialog's title
CONFIRM_TEXT_MAX = 300  # a confirmation dialog's text
CONFIRM_BUTTON_MAX = 30  # a confirmation dialog's confirm and deny button texts

# --- our own budgets, not Slack's -------------------------------------------------------------------------------

# Slack would take the message text up to MESSAGE_TEXT_MAX, but it is the notification line: it stays short.
NOTIFICATION_TEXT_MAX = 3000
# An item title on a card is cut here so that one item stays a few lines and a big order still fits its blocks.
ITEM_TITLE_MAX = 150
# The text of all of a message's blocks together, kept under the undocumented msg_blocks_too_long refusal
# (reported from about 12,000 characters) with room to spare.
MESSAGE_TEXT_BUDGET = 10_000


def blocks_text_length(blocks: Sequence[Block]) -> int:
    """Characters of text the blocks carry in all (every ``text`` string in their payload)."""

    def walk(node: Any) -> int:
        if isinstance(node, dict):
            own = len(node["text"]) if isinstance(node.get("text"), str) else 0
            return own + sum(walk(value) for value in node.values() if isinstance(value, dict | list))
        if isinstance(node, list):
            return sum(walk(value) for value in node)
        return 0

    return sum(walk(block.to_dict()) for block in blocks)


def blocks_as_dicts(blocks: Sequence[Block], *, limit: int = MESSAGE_MAX_BLOCKS) -> list[dict[str, Any]]:
    """Validated dicts of ``blocks``; SlackObjectFormationError (from slack_sdk) or ValueError when over a limit.

    slack_sdk's models check each block's own limits in ``to_dict()``; the count of blocks is ours to check.
    """
    if len(blocks) > limit:
        raise ValueError(f"{len(blocks)} blocks, over Slack's limit of {limit}")
    return [block.to_dict() for block in blocks]
