"""Block Kit limits Slack enforces on messages, modals and Home tabs, reported the way Slack words them.

Slack refuses a message or view that breaks these limits (`invalid_blocks`, `invalid_arguments`), each problem
named with a JSON pointer such as `must be less than 3001 characters [json-pointer:/blocks/0/text/text]`.
The Slack stand-in uses them so that a builder mistake fails locally the way it would fail against Slack. The
numbers are the product's own table, ``bot.ui.limits``: the builders and this check cannot drift apart.

What is checked: every block type the bot can send (section, header, actions, context, divider, markdown,
input, image) and every element it can put in them (buttons, static and multi-static selects with options or
option groups, checkboxes, radio buttons, plain-text inputs, date pickers, conversation/channel/user selects,
images), their confirmation dialogs, text objects (never empty, never over their limit), ids, and the view's
own fields. Any other element is checked for what all share: action_id, placeholder and confirmation dialog.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.ui.limits import (
    ACTIONS_ELEMENTS_MAX,
    BUTTON_TEXT_MAX,
    BUTTON_URL_MAX,
    BUTTON_VALUE_MAX,
    CHECKBOX_OPTIONS_MAX,
    CONFIRM_BUTTON_MAX,
    CONFIRM_TEXT_MAX,
    CONFIRM_TITLE_MAX,
    CONTEXT_ELEMENTS_MAX,
    FIELD_TEXT_MAX,
    FIELDS_MAX,
    HEADER_TEXT_MAX,
    ID_MAX,
    IMAGE_ALT_TEXT_MAX,
    IMAGE_TITLE_MAX,
    IMAGE_URL_MAX,
    INPUT_HINT_MAX,
    INPUT_LABEL_MAX,
    MARKDOWN_TEXT_MAX,
    MESSAGE_MAX_BLOCKS,
    MESSAGE_TEXT_MAX,
    OPTION_DESCRIPTION_MAX,
    OPTION_GROUP_LABEL_MAX,
    OPTION_GROUPS_MAX,
    OPTION_TEXT_MAX,
    OPTION_VALUE_MAX,
    OPTIONS_MAX,
    PLACEHOLDER_MAX,
    PRIVATE_METADATA_MAX,
    RADIO_OPTIONS_MAX,
    SECTION_TEXT_MAX,
    TEXT_INPUT_LENGTH_MAX,
    TEXT_MAX,
    TEXT_MIN,
    VIEW_MAX_BLOCKS,
    VIEW_TITLE_MAX,
)

JsonDict = dict[str, Any]

_STATIC_SELECTS = frozenset({"static_select", "multi_static_select"})
# Checkboxes and radio buttons are the only option lists whose text may be mrkdwn, and they hold at most 10.
_OPTION_LISTS = {"checkboxes": CHECKBOX_OPTIONS_MAX, "radio_buttons": RADIO_OPTIONS_MAX}
_BUTTON_STYLES = frozenset({"primary", "danger"})
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _too_long(text: object, maximum: int, pointer: str) -> list[str]:
    if isinstance(text, str) and len(text) > maximum:
        return [f"must be less than {maximum + 1} characters [json-pointer:{pointer}]"]
    return []


def _text_object_problems(
    obj: object, maximum: int, pointer: str, *, plain_only: bool = False, required: bool = True
) -> list[str]:
    if obj is None and not required:
        return []
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return [f"must provide an object with a text field [json-pointer:{pointer}]"]
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if obj.get("type") not in allowed:
        return [f"must be one of {', '.join(allowed)} [json-pointer:{pointer}/type]"]
    # Slack's minimum is one character. Text of spaces alone is refused here too: Slack shows nothing for it,
    # so a builder that produced it has lost its content (a blank buyer name, an empty title) either way.
    if len(obj["text"].strip()) < TEXT_MIN:
        return [f"must be more than {TEXT_MIN - 1} characters [json-pointer:{pointer}/text]"]
    return _too_long(obj["text"], maximum, f"{pointer}/text")


def _count_problems(items: object, maximum: int, pointer: str, *, minimum: int = 1) -> list[str]:
    if not isinstance(items, list) or not minimum <= len(items) <= maximum:
        return [f"must provide between {minimum} and {maximum} items [json-pointer:{pointer}]"]
    return []


def _confirm_problems(confirm: object, pointer: str) -> list[str]:
    if confirm is None:
        return []
    if not isinstance(confirm, dict):
        return [f"must be an object [json-pointer:{pointer}]"]
    return [
        *_text_object_problems(confirm.get("title"), CONFIRM_TITLE_MAX, f"{pointer}/title", plain_only=True),
        *_text_object_problems(confirm.get("text"), CONFIRM_TEXT_MAX, f"{pointer}/text"),
        *_text_object_problems(confirm.get("confirm"), CONFIRM_BUTTON_MAX, f"{pointer}/confirm", plain_only=True),
        *_text_object_problems(confirm.get("deny"), CONFIRM_BUTTON_MAX, f"{pointer}/deny", plain_only=True),
    ]


def _option_problems(option: object, pointer: str, *, plain_only: bool) -> list[str]:
    if not isinstance(option, dict):
        return [f"must be an object [json-pointer:{pointer}]"]
    problems = _text_object_problems(option.get("text"), OPTION_TEXT_MAX, f"{pointer}/text", plain_only=plain_only)
    value = option.get("value")
    if not isinstance(value, str) or not value:
        problems.append(f"missing required field: value [json-pointer:{pointer}]")
    else:
        problems += _too_long(value, OPTION_VALUE_MAX, f"{pointer}/value")
    problems += _text_object_problems(
        option.get("description"), OPTION_DESCRIPTION_MAX, f"{pointer}/description", required=False
    )
    return problems


def _options_problems(options: object, maximum: int, pointer: str, *, plain_only: bool) -> list[str]:
    problems = _count_problems(options, maximum, pointer)
    if isinstance(options, list):
        for i, option in enumerate(options):
            problems += _option_problems(option, f"{pointer}/{i}", plain_only=plain_only)
    return problems


def _option_values(options: object) -> list[object]:
    return [option.get("value") for option in options if isinstance(option, dict)] if isinstance(options, list) else []


def _initial_options_problems(element: JsonDict, offered: list[object], pointer: str) -> list[str]:
    """Slack refuses an initial option that is not one of the element's options (it must match exactly)."""
    problems: list[str] = []
    initial = element.get("initial_option")
    if isinstance(initial, dict) and initial.get("value") not in offered:
        problems.append(f"must match one of the provided options [json-pointer:{pointer}/initial_option]")
    for i, option in enumerate(element.get("initial_options") or []):
        if not isinstance(option, dict) or option.get("value") not in offered:
            problems.append(f"must match one of the provided options [json-pointer:{pointer}/initial_options/{i}]")
    return problems


def _static_select_problems(element: JsonDict, pointer: str) -> list[str]:
    has_options, has_groups = "options" in element, "option_groups" in element
    if has_options == has_groups:
        return [f"must provide exactly one of options or option_groups [json-pointer:{pointer}]"]
    if has_options:
        problems = _options_problems(element["options"], OPTIONS_MAX, f"{pointer}/options", plain_only=True)
        offered = _option_values(element["options"])
    else:
        groups = element["option_groups"]
        problems = _count_problems(groups, OPTION_GROUPS_MAX, f"{pointer}/option_groups")
        offered = []
        for i, group in enumerate(groups if isinstance(groups, list) else []):
            here = f"{pointer}/option_groups/{i}"
            if not isinstance(group, dict):
                problems.append(f"must be an object [json-pointer:{here}]")
                continue
            problems += _text_object_problems(
                group.get("label"), OPTION_GROUP_LABEL_MAX, f"{here}/label", plain_only=True
            )
            problems += _options_problems(group.get("options"), OPTIONS_MAX, f"{here}/options", plain_only=True)
            offered += _option_values(group.get("options"))
    return problems + _initial_options_problems(element, offered, pointer)


def _text_input_problems(element: JsonDict, pointer: str) -> list[str]:
    problems: list[str] = []
    bounds: dict[str, int] = {}
    for key, smallest in (("min_length", 0), ("max_length", 1)):
        value = element.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not smallest <= value <= TEXT_INPUT_LENGTH_MAX:
            problems.append(f"must be between {smallest} and {TEXT_INPUT_LENGTH_MAX} [json-pointer:{pointer}/{key}]")
        else:
            bounds[key] = value
    if "min_length" in bounds and "max_length" in bounds and bounds["min_length"] > bounds["max_length"]:
        problems.append(f"min_length must not be greater than max_length [json-pointer:{pointer}/min_length]")
    initial = element.get("initial_value")
    if initial is not None and not isinstance(initial, str):
        problems.append(f"must be a string [json-pointer:{pointer}/initial_value]")
    elif isinstance(initial, str):
        # A prefilled value the person could not submit unchanged is refused up front.
        problems += _too_long(initial, bounds.get("max_length", TEXT_INPUT_LENGTH_MAX), f"{pointer}/initial_value")
    return problems


def _image_element_problems(element: JsonDict, pointer: str) -> list[str]:
    problems: list[str] = []
    if "slack_file" not in element:
        url = element.get("image_url")
        if not isinstance(url, str) or not url:
            problems.append(f"missing required field: image_url [json-pointer:{pointer}]")
        problems += _too_long(url, IMAGE_URL_MAX, f"{pointer}/image_url")
    alt_text = element.get("alt_text")
    if not isinstance(alt_text, str) or not alt_text.strip():
        problems.append(f"missing required field: alt_text [json-pointer:{pointer}]")
    problems += _too_long(alt_text, IMAGE_ALT_TEXT_MAX, f"{pointer}/alt_text")
    return problems


def _element_problems(element: object, pointer: str) -> list[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [f"missing required field: type [json-pointer:{pointer}]"]
    kind = element["type"]
    if kind == "image":
        return _image_element_problems(element, pointer)
    problems = _too_long(element.get("action_id"), ID_MAX, f"{pointer}/action_id")
    problems += _confirm_problems(element.get("confirm"), f"{pointer}/confirm")
    placeholder = element.get("placeholder")
    problems += _text_object_problems(
        placeholder, PLACEHOLDER_MAX, f"{pointer}/placeholder", plain_only=True, required=False
    )
    if kind == "button":
        problems += _text_object_problems(element.get("text"), BUTTON_TEXT_MAX, f"{pointer}/text", plain_only=True)
        problems += _too_long(element.get("value"), BUTTON_VALUE_MAX, f"{pointer}/value")
        problems += _too_long(element.get("url"), BUTTON_URL_MAX, f"{pointer}/url")
        if "style" in element and element["style"] not in _BUTTON_STYLES:
            problems.append(f"must be one of primary, danger [json-pointer:{pointer}/style]")
    elif kind in _STATIC_SELECTS:
        problems += _static_select_problems(element, pointer)
    elif kind in _OPTION_LISTS:
        options = element.get("options")
        problems += _options_problems(options, _OPTION_LISTS[kind], f"{pointer}/options", plain_only=False)
        problems += _initial_options_problems(element, _option_values(options), pointer)
    elif kind == "plain_text_input":
        problems += _text_input_problems(element, pointer)
    elif kind == "datepicker":
        initial_date = element.get("initial_date")
        if initial_date is not None and not (isinstance(initial_date, str) and _ISO_DATE.match(initial_date)):
            problems.append(f"must be a date as YYYY-MM-DD [json-pointer:{pointer}/initial_date]")
    return problems


def _section_problems(block: JsonDict, pointer: str) -> list[str]:
    if "text" not in block and "fields" not in block:
        return [f"must provide either text or fields [json-pointer:{pointer}]"]
    problems: list[str] = []
    if "text" in block:
        problems += _text_object_problems(block["text"], SECTION_TEXT_MAX, f"{pointer}/text")
    fields = block.get("fields")
    if fields is not None:
        if not isinstance(fields, list) or len(fields) > FIELDS_MAX:
            problems.append(f"must provide no more than {FIELDS_MAX} items [json-pointer:{pointer}/fields]")
        else:
            for i, item in enumerate(fields):
                problems += _text_object_problems(item, FIELD_TEXT_MAX, f"{pointer}/fields/{i}")
    if "accessory" in block:
        problems += _element_problems(block["accessory"], f"{pointer}/accessory")
    return problems


def _actions_problems(block: JsonDict, pointer: str) -> list[str]:
    elements = block.get("elements")
    problems = _count_problems(elements, ACTIONS_ELEMENTS_MAX, f"{pointer}/elements")
    if problems:
        return problems
    seen: set[str] = set()
    for i, element in enumerate(elements):
        here = f"{pointer}/elements/{i}"
        problems += _element_problems(element, here)
        # Slack tells clicks apart by action_id within a block, so it refuses two elements sharing one.
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if isinstance(action_id, str):
            if action_id in seen:
                problems.append(f"duplicate action_id {action_id!r} [json-pointer:{here}/action_id]")
            seen.add(action_id)
    return problems


def _context_problems(block: JsonDict, pointer: str) -> list[str]:
    elements = block.get("elements")
    problems = _count_problems(elements, CONTEXT_ELEMENTS_MAX, f"{pointer}/elements")
    if problems:
        return problems
    for i, element in enumerate(elements):
        here = f"{pointer}/elements/{i}"
        if isinstance(element, dict) and element.get("type") == "image":
            problems += _image_element_problems(element, here)
        else:
            problems += _text_object_problems(element, TEXT_MAX, here)
    return problems


def _input_problems(block: JsonDict, pointer: str) -> list[str]:
    problems = _text_object_problems(block.get("label"), INPUT_LABEL_MAX, f"{pointer}/label", plain_only=True)
    problems += _text_object_problems(
        block.get("hint"), INPUT_HINT_MAX, f"{pointer}/hint", plain_only=True, required=False
    )
    if "element" not in block:
        problems.append(f"missing required field: element [json-pointer:{pointer}]")
    else:
        problems += _element_problems(block["element"], f"{pointer}/element")
    return problems


def _image_block_problems(block: JsonDict, pointer: str) -> list[str]:
    problems = _image_element_problems(block, pointer)
    problems += _text_object_problems(
        block.get("title"), IMAGE_TITLE_MAX, f"{pointer}/title", plain_only=True, required=False
    )
    return problems


def _block_specific_problems(block: JsonDict, pointer: str) -> list[str]:
    kind = block["type"]
    if kind == "section":
        return _section_problems(block, pointer)
    if kind == "header":
        return _text_object_problems(block.get("text"), HEADER_TEXT_MAX, f"{pointer}/text", plain_only=True)
    if kind == "actions":
        return _actions_problems(block, pointer)
    if kind == "context":
        return _context_problems(block, pointer)
    if kind == "markdown":
        text = block.get("text")
        if not isinstance(text, str) or not text.strip():
            return [f"must be more than {TEXT_MIN - 1} characters [json-pointer:{pointer}/text]"]
        return _too_long(text, MARKDOWN_TEXT_MAX, f"{pointer}/text")
    if kind == "input":
        return _input_problems(block, pointer)
    if kind == "image":
        return _image_block_problems(block, pointer)
    return []


def block_problems(blocks: list[Any], *, max_blocks: int, pointer: str) -> list[str]:
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"no more than {max_blocks} items allowed [json-pointer:{pointer}]")
    seen_ids: set[str] = set()
    for i, block in enumerate(blocks):
        here = f"{pointer}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"missing required field: type [json-pointer:{here}]")
            continue
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            problems += _too_long(block_id, ID_MAX, f"{here}/block_id")
            if block_id in seen_ids:
                problems.append(f"duplicate block_id {block_id!r} [json-pointer:{here}/block_id]")
            seen_ids.add(block_id)
        problems += _block_specific_problems(block, here)
    return problems


def message_problems(message: Mapping[str, Any]) -> list[str]:
    """What Slack would refuse in a message's ``blocks`` (chat.postMessage, chat.update, ephemeral, respond)."""
    blocks = message.get("blocks") or []
    if not isinstance(blocks, list):
        return ["must be an array [json-pointer:/blocks]"]
    return block_problems(blocks, max_blocks=MESSAGE_MAX_BLOCKS, pointer="/blocks")


def message_warnings(message: Mapping[str, Any]) -> list[str]:
    """What Slack accepts but changes, named as Slack's answer names it: ``message_truncated`` when the top-level
    ``text`` is over its limit (Slack keeps the start and says so in ``warning``; it does not refuse)."""
    text = message.get("text")
    return ["message_truncated"] if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX else []


def view_problems(view: JsonDict, kind: str) -> list[str]:
    if view.get("type") != kind:
        return [f"must be {kind!r} [json-pointer:/view/type]"]
    problems: list[str] = []
    blocks = view.get("blocks", [])
    if not isinstance(blocks, list):
        problems.append("must be an array [json-pointer:/view/blocks]")
        blocks = []
    else:
        problems += block_problems(blocks, max_blocks=VIEW_MAX_BLOCKS, pointer="/view/blocks")
    if kind == "modal":
        problems += _text_object_problems(view.get("title"), VIEW_TITLE_MAX, "/view/title", plain_only=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                problems += _text_object_problems(view[key], VIEW_TITLE_MAX, f"/view/{key}", plain_only=True)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if has_input and view.get("submit") is None:
            problems.append("submit is required when a view has input blocks [json-pointer:/view/submit]")
    problems += _too_long(view.get("private_metadata"), PRIVATE_METADATA_MAX, "/view/private_metadata")
    problems += _too_long(view.get("callback_id"), ID_MAX, "/view/callback_id")
    problems += _too_long(view.get("external_id"), ID_MAX, "/view/external_id")
    return problems
