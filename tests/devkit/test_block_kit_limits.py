"""Block Kit limits the stand-in enforces, checked directly."""

from __future__ import annotations

from typing import Any

import pytest

from bot.ui.limits import MESSAGE_MAX_BLOCKS
from devkit.block_kit_limits import block_problems, view_problems


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def button(text: str = "Mark shipped", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": "order_mark_shipped", "text": plain(text), "value": "1001", **extra}


def test_a_well_formed_order_card_has_no_problems() -> None:
    card = [
        {"type": "header", "text": plain("Order 1001")},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{i}*"} for i in range(10)]},
        {"type": "section", "text": {"type": "mrkdwn", "text": "Express"}, "accessory": button()},
        {"type": "actions", "block_id": "order_actions", "elements": [button()]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "posted by the bot"}]},
        {"type": "divider"},
    ]

    assert block_problems(card, max_blocks=MESSAGE_MAX_BLOCKS, pointer="/blocks") == []


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            {"type": "header", "text": plain("h" * 151)},
            "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
        ),
        ({"type": "header", "text": {"type": "mrkdwn", "text": "h"}}, "[json-pointer:/blocks/0/text/type]"),
        ({"type": "section"}, "must provide either text or fields [json-pointer:/blocks/0]"),
        (
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11},
            "must provide no more than 10 items [json-pointer:/blocks/0/fields]",
        ),
        (
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]},
            "must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
        ),
        (
            {"type": "actions", "elements": [button("b" * 76)]},
            "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
        ),
        (
            {"type": "actions", "elements": [button(value="v" * 2001)]},
            "must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]",
        ),
        ({"type": "actions", "elements": [button()] * 26}, "must provide between 1 and 25 items"),
        ({"type": "context", "elements": []}, "must provide between 1 and 10 items"),
        ({"type": "section", "block_id": "b" * 256, "text": plain("x")}, "[json-pointer:/blocks/0/block_id]"),
        ({"text": plain("x")}, "missing required field: type [json-pointer:/blocks/0]"),
    ],
)
def test_each_limit_is_reported_with_its_pointer(block: dict[str, Any], expected: str) -> None:
    problems = block_problems([block], max_blocks=MESSAGE_MAX_BLOCKS, pointer="/blocks")

    assert any(expected in problem for problem in problems), problems


def test_block_ids_must_be_unique_within_a_message() -> None:
    blocks = [{"type": "divider", "block_id": "same"}, {"type": "divider", "block_id": "same"}]

    assert block_problems(blocks, max_blocks=MESSAGE_MAX_BLOCKS, pointer="/blocks") == [
        "duplicate block_id 'same' [json-pointer:/blocks/1/block_id]"
    ]


def test_too_many_blocks() -> None:
    problems = block_problems([{"type": "divider"}] * 51, max_blocks=MESSAGE_MAX_BLOCKS, pointer="/blocks")

    assert problems == ["no more than 50 items allowed [json-pointer:/blocks]"]


def test_view_type_must_match_the_surface() -> None:
    assert view_problems({"type": "modal", "title": plain("Ship")}, "home") == [
        "must be 'home' [json-pointer:/view/type]"
    ]


def test_a_modal_needs_a_title_and_a_home_does_not() -> None:
    assert view_problems({"type": "modal", "blocks": []}, "modal") == [
        "must provide an object with a text field [json-pointer:/view/title]"
    ]
    assert view_problems({"type": "home", "blocks": []}, "home") == []


def test_callback_id_and_private_metadata_lengths() -> None:
    view = {"type": "modal", "title": plain("Ship"), "callback_id": "c" * 256, "private_metadata": "m" * 3001}

    assert view_problems(view, "modal") == [
        "must be less than 3001 characters [json-pointer:/view/private_metadata]",
        "must be less than 256 characters [json-pointer:/view/callback_id]",
    ]
