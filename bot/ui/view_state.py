"""Reading a submitted modal's ``view["state"]["values"]``, tolerant of missing blocks and odd shapes.

A view submission is input from Slack's servers, but the shape still depends on which blocks the modal had
(an optional input left empty may carry ``"value": null``), so every reader here returns a neutral value
instead of raising.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def state_values(view: object) -> Mapping[str, Any]:
    state = view.get("state") if isinstance(view, Mapping) else None
    values = state.get("values") if isinstance(state, Mapping) else None
    return values if isinstance(values, Mapping) else {}


def private_metadata(view: object) -> str | None:
    value = view.get("private_metadata") if isinstance(view, Mapping) else None
    return value if isinstance(value, str) else None


def element_state(values: Mapping[str, Any], block_id: str, action_id: str) -> Mapping[str, Any] | None:
    """The state of one input element; falls back to a block's only element if its action_id differs."""
    block = values.get(block_id)
    if not isinstance(block, Mapping):
        return None
    element = block.get(action_id)
    if element is None and len(block) == 1:
        element = next(iter(block.values()))
    return element if isinstance(element, Mapping) else None


def text_value(values: Mapping[str, Any], block_id: str, action_id: str) -> str:
    """A text input's value, stripped; "" when empty or absent."""
    element = element_state(values, block_id, action_id)
    value = element.get("value") if element is not None else None
    return value.strip() if isinstance(value, str) else ""


def selected_value(values: Mapping[str, Any], block_id: str, action_id: str) -> str | None:
    """The value of a static select's selected option, or None."""
    element = element_state(values, block_id, action_id)
    option = element.get("selected_option") if element is not None else None
    value = option.get("value") if isinstance(option, Mapping) else None
    return value if isinstance(value, str) and value else None


def selected_values(values: Mapping[str, Any], block_id: str, action_id: str) -> tuple[str, ...] | None:
    """Values of checked boxes / multi-select options in order; None when the block is not in the view."""
    element = element_state(values, block_id, action_id)
    if element is None:
        return None
    options = element.get("selected_options")
    if not isinstance(options, list):
        return ()
    picked = (option.get("value") for option in options if isinstance(option, Mapping))
    return tuple(dict.fromkeys(value for value in picked if isinstance(value, str) and value))


def selected_conversation(values: Mapping[str, Any], block_id: str, action_id: str) -> str | None:
    element = element_state(values, block_id, action_id)
    if element is None:
        return None
    value = element.get("selected_conversation") or element.get("selected_channel")
    return value if isinstance(value, str) and value else None


def input_block_ids(view: object) -> frozenset[str]:
    """Block ids of the input blocks a view holds: the only valid keys of a ``response_action="errors"`` map."""
    blocks = view.get("blocks") if isinstance(view, Mapping) else None
    if not isinstance(blocks, list):
        return frozenset()
    return frozenset(
        block["block_id"]
        for block in blocks
        if isinstance(block, Mapping) and block.get("type") == "input" and isinstance(block.get("block_id"), str)
    )
