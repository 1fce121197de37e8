"""Block Kit limits Slack enforces on messages, modals and Home tabs, reported the way Slack words them.

Slack refuses a message or view that breaks these limits (`invalid_blocks`, `invalid_arguments`), each problem
named with a JSON pointer such as `must be less than 3001 characters [json-pointer:/blocks/0/text/text]`.
The Slack stand-in uses them so that a builder mistake fails locally the way it would fail against Slack. The
numbers are the product's own table, ``bot.ui.limits``: the builders and this check cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from bot.ui.limits import (
    ACTIONS_ELEMENTS_MAX,
    BUTTON_TEXT_MAX,
    BUTTON_URL_MAX,
    BUTTON_VALUE_MAX,
    CONTEXT_ELEMENTS_MAX,
    FIELD_TEXT_MAX,
    FIELDS_MAX,
    HEADER_TEXT_MAX,
    ID_MAX,
    INPUT_LABEL_MAX,
    MARKDOWN_TEXT_MAX,
    PRIVATE_METADATA_MAX,
    SECTION_TEXT_MAX,
    VIEW_MAX_BLOCKS,
    VIEW_TITLE_MAX,
)

JsonDict = dict[str, Any]


def _too_long(text: object, maximum: int, pointer: str) -> list[str]:
    if isinstance(text, str) and len(text) > maximum:
        return [f"must be less than {maximum + 1} characters [json-pointer:{pointer}]"]
    return []


def _text_object_problems(obj: object, maximum: int, pointer: str, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return [f"must provide an object with a text field [json-pointer:{pointer}]"]
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if obj.get("type") not in allowed:
        return [f"must be one of {', '.join(allowed)} [json-pointer:{pointer}/type]"]
    return _too_long(obj["text"], maximum, f"{pointer}/text")


def _element_problems(element: object, pointer: str) -> list[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [f"missing required field: type [json-pointer:{pointer}]"]
    problems = _too_long(element.get("action_id"), ID_MAX, f"{pointer}/action_id")
    if element["type"] == "button":
        problems += _text_object_problems(element.get("text"), BUTTON_TEXT_MAX, f"{pointer}/text", plain_only=True)
        problems += _too_long(element.get("value"), BUTTON_VALUE_MAX, f"{pointer}/value")
        problems += _too_long(element.get("url"), BUTTON_URL_MAX, f"{pointer}/url")
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


def _elements_problems(block: JsonDict, pointer: str, maximum: int, *, interactive: bool) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements or len(elements) > maximum:
        return [f"must provide between 1 and {maximum} items [json-pointer:{pointer}/elements]"]
    if not interactive:
        return []
    problems: list[str] = []
    for i, element in enumerate(elements):
        problems += _element_problems(element, f"{pointer}/elements/{i}")
    return problems


def _block_specific_problems(block: JsonDict, pointer: str) -> list[str]:
    kind = block["type"]
    if kind == "section":
        return _section_problems(block, pointer)
    if kind == "header":
        return _text_object_problems(block.get("text"), HEADER_TEXT_MAX, f"{pointer}/text", plain_only=True)
    if kind == "actions":
        return _elements_problems(block, pointer, ACTIONS_ELEMENTS_MAX, interactive=True)
    if kind == "context":
        return _elements_problems(block, pointer, CONTEXT_ELEMENTS_MAX, interactive=False)
    if kind == "markdown":
        return _too_long(block.get("text"), MARKDOWN_TEXT_MAX, f"{pointer}/text")
    if kind == "input":
        problems = _text_object_problems(block.get("label"), INPUT_LABEL_MAX, f"{pointer}/label", plain_only=True)
        if "element" not in block:
            problems.append(f"missing required field: element [json-pointer:{pointer}]")
        else:
            problems += _element_problems(block["element"], f"{pointer}/element")
        return problems
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
