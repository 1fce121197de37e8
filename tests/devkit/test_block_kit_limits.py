"""Block Kit limits the stand-in enforces, checked directly."""

from __future__ import annotations

from typing import Any

import pytest

from bot.ui.limits import MESSAGE_MAX_BLOCKS
from devkit.block_kit_limits import block_problems, message_problems, message_warnings, view_problems


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


# --- rules for every element and block the bot can send ----------------------------------------------------------


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def option(text: str = "Colissimo", value: str = "colissimo", **extra: Any) -> dict[str, Any]:
    return {"text": plain(text), "value": value, **extra}


def element_in_input(element: dict[str, Any]) -> dict[str, Any]:
    return {"type": "input", "block_id": "field", "label": plain("Carrier"), "element": element}


def select(kind: str = "static_select", **extra: Any) -> dict[str, Any]:
    return {"type": kind, "action_id": "carrier", "placeholder": plain("Choose the carrier"), **extra}


def text_input(**extra: Any) -> dict[str, Any]:
    return {"type": "plain_text_input", "action_id": "tracking", **extra}


def image(**extra: Any) -> dict[str, Any]:
    return {"type": "image", "image_url": "https://example.test/label.png", "alt_text": "Prepaid label", **extra}


def confirm(**overrides: Any) -> dict[str, Any]:
    return {
        "title": plain("Accept this order?"),
        "text": plain("Accepting charges the buyer's card."),
        "confirm": plain("Accept"),
        "deny": plain("Back"),
        **overrides,
    }


def problems_of(block: dict[str, Any]) -> list[str]:
    return block_problems([block], max_blocks=MESSAGE_MAX_BLOCKS, pointer="/blocks")


WELL_FORMED = [
    pytest.param(element_in_input(select(options=[option(), option("Chronopost", "chronopost")])), id="static_select"),
    pytest.param(
        element_in_input(
            select(
                "multi_static_select",
                option_groups=[{"label": plain("La Poste"), "options": [option()]}],
                initial_options=[option()],
            )
        ),
        id="multi_static_select with groups",
    ),
    pytest.param(
        element_in_input(
            {
                "type": "checkboxes",
                "action_id": "items",
                "options": [option(f"Item {i}", f"{i}", description=mrkdwn("*SKU* 1")) for i in range(10)],
                "initial_options": [option("Item 0", "0", description=mrkdwn("*SKU* 1"))],
            }
        ),
        id="ten checkboxes",
    ),
    pytest.param(
        element_in_input(
            {"type": "radio_buttons", "action_id": "lang", "options": [{"text": mrkdwn("*FR*"), "value": "fr"}]}
        ),
        id="radio_buttons",
    ),
    pytest.param(
        element_in_input(text_input(placeholder=plain("e.g. 6A123"), initial_value="6A1", min_length=2, max_length=3)),
        id="plain_text_input",
    ),
    pytest.param(
        element_in_input({"type": "datepicker", "action_id": "day", "initial_date": "2026-12-01"}), id="datepicker"
    ),
    pytest.param(
        element_in_input({"type": "conversations_select", "action_id": "c", "placeholder": plain("Choose a channel")}),
        id="conversations_select",
    ),
    pytest.param(image(title=plain("Label"), block_id="label"), id="image block"),
    pytest.param({"type": "context", "elements": [image(), mrkdwn("Rakuten account boutique-lyon")]}, id="context"),
    pytest.param({"type": "section", "text": plain("🛒🎁✨")}, id="emoji-only text"),
    pytest.param({"type": "header", "text": plain("e\u0301" * 75)}, id="combining characters"),
    pytest.param(
        {"type": "actions", "elements": [button(confirm=confirm()), button("Show address", action_id="address")]},
        id="buttons with a confirmation dialog",
    ),
]


@pytest.mark.parametrize("block", WELL_FORMED)
def test_well_formed_elements_and_blocks_have_no_problems(block: dict[str, Any]) -> None:
    assert problems_of(block) == []


LONG = "x" * 3001


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        # Options of select menus: at most 100, text 75 (plain only), value 150, description 75.
        pytest.param(
            element_in_input(select(options=[option(value=f"v{i}") for i in range(101)])),
            "must provide between 1 and 100 items [json-pointer:/blocks/0/element/options]",
            id="101 select options",
        ),
        pytest.param(
            element_in_input(select("multi_static_select", options=[option(value=f"v{i}") for i in range(101)])),
            "must provide between 1 and 100 items [json-pointer:/blocks/0/element/options]",
            id="101 multi-select options",
        ),
        pytest.param(
            element_in_input(select(options=[option("o" * 76)])),
            "must be less than 76 characters [json-pointer:/blocks/0/element/options/0/text/text]",
            id="option text",
        ),
        pytest.param(
            element_in_input(select(options=[option(value="v" * 151)])),
            "must be less than 151 characters [json-pointer:/blocks/0/element/options/0/value]",
            id="option value",
        ),
        pytest.param(
            element_in_input(select(options=[option(description=plain("d" * 76))])),
            "must be less than 76 characters [json-pointer:/blocks/0/element/options/0/description/text]",
            id="option description",
        ),
        pytest.param(
            element_in_input(select(options=[{"text": mrkdwn("*bold*"), "value": "v"}])),
            "must be one of plain_text [json-pointer:/blocks/0/element/options/0/text/type]",
            id="mrkdwn option in a select",
        ),
        pytest.param(
            element_in_input(select(options=[{"text": plain("No value")}])),
            "missing required field: value [json-pointer:/blocks/0/element/options/0]",
            id="option without value",
        ),
        pytest.param(
            element_in_input(select(options=[option()], initial_option=option("Chronopost", "chronopost"))),
            "must match one of the provided options [json-pointer:/blocks/0/element/initial_option]",
            id="initial option not offered",
        ),
        pytest.param(
            element_in_input(select("multi_static_select", options=[option()], initial_options=[option(value="x")])),
            "must match one of the provided options [json-pointer:/blocks/0/element/initial_options/0]",
            id="initial options not offered",
        ),
        pytest.param(
            element_in_input(select()),
            "must provide exactly one of options or option_groups [json-pointer:/blocks/0/element]",
            id="select without options",
        ),
        # Option groups: at most 100, label 75, at most 100 options each.
        pytest.param(
            element_in_input(select(option_groups=[{"label": plain("g"), "options": [option()]}] * 101)),
            "must provide between 1 and 100 items [json-pointer:/blocks/0/element/option_groups]",
            id="101 option groups",
        ),
        pytest.param(
            element_in_input(select(option_groups=[{"label": plain("g" * 76), "options": [option()]}])),
            "must be less than 76 characters [json-pointer:/blocks/0/element/option_groups/0/label/text]",
            id="option group label",
        ),
        pytest.param(
            element_in_input(
                select(option_groups=[{"label": plain("g"), "options": [option(value=f"{i}") for i in range(101)]}])
            ),
            "must provide between 1 and 100 items [json-pointer:/blocks/0/element/option_groups/0/options]",
            id="101 options in a group",
        ),
        # Checkboxes and radio buttons: at most 10 options.
        pytest.param(
            element_in_input(
                {"type": "checkboxes", "action_id": "items", "options": [option(value=f"{i}") for i in range(11)]}
            ),
            "must provide between 1 and 10 items [json-pointer:/blocks/0/element/options]",
            id="11 checkboxes",
        ),
        pytest.param(
            element_in_input(
                {"type": "radio_buttons", "action_id": "lang", "options": [option(value=f"{i}") for i in range(11)]}
            ),
            "must provide between 1 and 10 items [json-pointer:/blocks/0/element/options]",
            id="11 radio buttons",
        ),
        pytest.param(
            element_in_input({"type": "checkboxes", "action_id": "items", "options": [option(value="v" * 151)]}),
            "must be less than 151 characters [json-pointer:/blocks/0/element/options/0/value]",
            id="checkbox value",
        ),
        # Plain-text inputs: action_id 255, placeholder 150, lengths within 0..3000, initial value within max_length.
        pytest.param(
            element_in_input(text_input(action_id="a" * 256)),
            "must be less than 256 characters [json-pointer:/blocks/0/element/action_id]",
            id="text input action_id",
        ),
        pytest.param(
            element_in_input(text_input(placeholder=plain("p" * 151))),
            "must be less than 151 characters [json-pointer:/blocks/0/element/placeholder/text]",
            id="text input placeholder",
        ),
        pytest.param(
            element_in_input(text_input(initial_value="A" * 101, max_length=100)),
            "must be less than 101 characters [json-pointer:/blocks/0/element/initial_value]",
            id="initial value over max_length",
        ),
        pytest.param(
            element_in_input(text_input(initial_value=LONG)),
            "must be less than 3001 characters [json-pointer:/blocks/0/element/initial_value]",
            id="initial value over 3000",
        ),
        pytest.param(
            element_in_input(text_input(max_length=3001)),
            "must be between 1 and 3000 [json-pointer:/blocks/0/element/max_length]",
            id="max_length over 3000",
        ),
        pytest.param(
            element_in_input(text_input(min_length=10, max_length=5)),
            "min_length must not be greater than max_length [json-pointer:/blocks/0/element/min_length]",
            id="min_length over max_length",
        ),
        # Date pickers and Slack-filled menus: placeholder 150.
        pytest.param(
            element_in_input({"type": "datepicker", "action_id": "day", "placeholder": plain("p" * 151)}),
            "must be less than 151 characters [json-pointer:/blocks/0/element/placeholder/text]",
            id="datepicker placeholder",
        ),
        pytest.param(
            element_in_input({"type": "datepicker", "action_id": "day", "initial_date": "01/12/2026"}),
            "must be a date as YYYY-MM-DD [json-pointer:/blocks/0/element/initial_date]",
            id="datepicker initial date",
        ),
        pytest.param(
            element_in_input({"type": "conversations_select", "action_id": "c", "placeholder": plain("p" * 151)}),
            "must be less than 151 characters [json-pointer:/blocks/0/element/placeholder/text]",
            id="conversations_select placeholder",
        ),
        pytest.param(
            element_in_input({"type": "users_select", "action_id": "u", "placeholder": plain("p" * 151)}),
            "must be less than 151 characters [json-pointer:/blocks/0/element/placeholder/text]",
            id="users_select placeholder",
        ),
        # Images: alt_text 2000 (required), image_url 3000, title 2000.
        pytest.param(
            image(alt_text="a" * 2001),
            "must be less than 2001 characters [json-pointer:/blocks/0/alt_text]",
            id="image alt_text",
        ),
        pytest.param(
            image(image_url="https://example.test/" + "i" * 3000),
            "must be less than 3001 characters [json-pointer:/blocks/0/image_url]",
            id="image url",
        ),
        pytest.param(image(alt_text=""), "missing required field: alt_text [json-pointer:/blocks/0]", id="no alt_text"),
        pytest.param(
            image(title=plain("t" * 2001)),
            "must be less than 2001 characters [json-pointer:/blocks/0/title/text]",
            id="image title",
        ),
        pytest.param(
            {"type": "context", "elements": [image(alt_text="a" * 2001)]},
            "must be less than 2001 characters [json-pointer:/blocks/0/elements/0/alt_text]",
            id="context image alt_text",
        ),
        # Context text: any text object, at most 3000 and never empty.
        pytest.param(
            {"type": "context", "elements": [mrkdwn(LONG)]},
            "must be less than 3001 characters [json-pointer:/blocks/0/elements/0/text]",
            id="context text",
        ),
        pytest.param(
            {"type": "context", "elements": [mrkdwn("x")] * 11},
            "must provide between 1 and 10 items [json-pointer:/blocks/0/elements]",
            id="11 context elements",
        ),
        # Header 150; buttons: text 75, value 2000, url 3000.
        pytest.param(
            {"type": "header", "text": plain("🛒" * 151)},
            "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
            id="header of emoji",
        ),
        pytest.param(
            {"type": "actions", "elements": [button(url="https://example.test/" + "u" * 3000)]},
            "must be less than 3001 characters [json-pointer:/blocks/0/elements/0/url]",
            id="button url",
        ),
        pytest.param(
            {"type": "section", "text": plain("x"), "accessory": button("b" * 76)},
            "must be less than 76 characters [json-pointer:/blocks/0/accessory/text/text]",
            id="accessory button text",
        ),
        pytest.param(
            {"type": "actions", "elements": [button(style="green")]},
            "must be one of primary, danger [json-pointer:/blocks/0/elements/0/style]",
            id="button style",
        ),
        # Confirmation dialogs: title 100, text 300, confirm and deny 30.
        pytest.param(
            {"type": "actions", "elements": [button(confirm=confirm(title=plain("t" * 101)))]},
            "must be less than 101 characters [json-pointer:/blocks/0/elements/0/confirm/title/text]",
            id="confirm title",
        ),
        pytest.param(
            {"type": "actions", "elements": [button(confirm=confirm(text=plain("t" * 301)))]},
            "must be less than 301 characters [json-pointer:/blocks/0/elements/0/confirm/text/text]",
            id="confirm text",
        ),
        pytest.param(
            {"type": "actions", "elements": [button(confirm=confirm(deny=plain("d" * 31)))]},
            "must be less than 31 characters [json-pointer:/blocks/0/elements/0/confirm/deny/text]",
            id="confirm deny",
        ),
        # Fields: at most 10, each at most 2000.
        pytest.param(
            {"type": "section", "fields": [mrkdwn("f")] * 11},
            "must provide no more than 10 items [json-pointer:/blocks/0/fields]",
            id="11 fields",
        ),
        # Empty text is refused wherever a text object is: Slack's minimum is one character.
        pytest.param(
            {"type": "section", "text": mrkdwn("")},
            "must be more than 0 characters [json-pointer:/blocks/0/text/text]",
            id="empty section text",
        ),
        pytest.param(
            {"type": "header", "text": plain("  \n ")},
            "must be more than 0 characters [json-pointer:/blocks/0/text/text]",
            id="blank header",
        ),
        pytest.param(
            {"type": "section", "fields": [mrkdwn("*Ship to*"), mrkdwn("")]},
            "must be more than 0 characters [json-pointer:/blocks/0/fields/1/text]",
            id="empty field",
        ),
        pytest.param(
            element_in_input(select(options=[option(" ")])),
            "must be more than 0 characters [json-pointer:/blocks/0/element/options/0/text/text]",
            id="blank option text",
        ),
        pytest.param(
            {"type": "actions", "elements": [button("")]},
            "must be more than 0 characters [json-pointer:/blocks/0/elements/0/text/text]",
            id="empty button text",
        ),
        pytest.param(
            {"type": "context", "elements": [plain("")]},
            "must be more than 0 characters [json-pointer:/blocks/0/elements/0/text]",
            id="empty context text",
        ),
        pytest.param(
            {"type": "markdown", "text": ""},
            "must be more than 0 characters [json-pointer:/blocks/0/text]",
            id="empty markdown block",
        ),
        # Two elements of one block cannot share an action_id: Slack could not tell the clicks apart.
        pytest.param(
            {"type": "actions", "elements": [button(), button("Show address")]},
            "duplicate action_id 'order_mark_shipped' [json-pointer:/blocks/0/elements/1/action_id]",
            id="duplicate action_id",
        ),
    ],
)
def test_each_new_rule_is_reported_with_its_pointer(block: dict[str, Any], expected: str) -> None:
    problems = problems_of(block)

    assert expected in problems, problems


def test_the_same_action_id_in_two_blocks_is_allowed() -> None:
    blocks = [{"type": "actions", "block_id": f"b{i}", "elements": [button()]} for i in range(2)]

    assert block_problems(blocks, max_blocks=MESSAGE_MAX_BLOCKS, pointer="/blocks") == []


def test_input_label_and_hint_lengths() -> None:
    block = element_in_input(text_input()) | {"label": plain("l" * 2001), "hint": plain("h" * 2001)}

    assert problems_of(block) == [
        "must be less than 2001 characters [json-pointer:/blocks/0/label/text]",
        "must be less than 2001 characters [json-pointer:/blocks/0/hint/text]",
    ]


def test_a_message_is_checked_as_a_whole() -> None:
    assert message_problems({"text": "Order 1001", "blocks": [{"type": "header", "text": plain("")}]}) == [
        "must be more than 0 characters [json-pointer:/blocks/0/text/text]"
    ]
    assert message_problems({"text": "Order 1001"}) == []
    assert message_problems({"blocks": "not a list"}) == ["must be an array [json-pointer:/blocks]"]


def test_a_top_level_text_over_40000_characters_is_truncated_not_refused() -> None:
    assert message_warnings({"text": "y" * 40_000}) == []
    assert message_warnings({"text": "y" * 40_001}) == ["message_truncated"]
    assert message_problems({"text": "y" * 40_001}) == []


def test_modal_title_submit_and_close_are_never_empty() -> None:
    view = {"type": "modal", "title": plain(""), "submit": plain("Save"), "close": plain(" "), "blocks": []}

    assert view_problems(view, "modal") == [
        "must be more than 0 characters [json-pointer:/view/title/text]",
        "must be more than 0 characters [json-pointer:/view/close/text]",
    ]
