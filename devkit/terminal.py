"""Block Kit as readable plain text, for the demo terminal: what a seller would see in Slack, roughly.

Headers come out in upper case over a rule, fields as ``label: value`` lines, context lines prefixed
``  · ``, buttons as ``[ Accept ] [ Refuse ]`` and links ``<url|label>`` as ``label (url)``. Mentions and
emoji are kept. ANSI colours only when asked for (``color=True``).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_ANGLE = re.compile(r"<([^<>\n]+)>")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])")


@dataclass(frozen=True, slots=True)
class _Style:
    color: bool

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color and text else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def button(self, text: str, style: str | None) -> str:
        code = {"primary": "32;1", "danger": "31;1"}.get(style or "", "1")
        return self._wrap(code, text)


def mrkdwn_to_text(text: str, *, color: bool = False) -> str:
    """Slack mrkdwn as plain text: links as ``label (url)``, mentions kept, markup stripped, entities decoded."""
    style = _Style(color)
    converted = _ANGLE.sub(_angle_to_text, text)
    converted = _BOLD.sub(lambda match: style.bold(match.group(1)), converted)
    converted = _ITALIC.sub(lambda match: match.group(1), converted)
    converted = _STRIKE.sub(lambda match: match.group(1), converted)
    return converted.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _angle_to_text(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return f"<{target}>"  # user mention: kept as Slack writes it
    if target.startswith("#"):
        return f"#{label}" if label else f"<{target}>"
    if target.startswith("!"):
        if label:
            return label
        special = target[1:]
        return f"@{special}" if special in {"here", "channel", "everyone"} else f"<{target}>"
    url = target.replace("&amp;", "&")
    return f"{label} ({url})" if label else url


def render_blocks(
    blocks: Sequence[Mapping[str, Any] | Any],
    *,
    text: str = "",
    width: int = 100,
    color: bool = False,
) -> str:
    """A message's blocks as plain text; the notification ``text`` when there are no blocks."""
    style = _Style(color)
    dicts = [_as_dict(block) for block in blocks]
    if not dicts:
        return _wrap_lines(mrkdwn_to_text(text, color=color), width)
    lines: list[str] = []
    for index, block in enumerate(dicts):
        rendered = _render_block(block, style, width)
        # A blank line between blocks, as Slack spaces them; a header sits right on top of what follows.
        if index and dicts[index - 1].get("type") != "header":
            lines.append("")
        lines.append(rendered)
    return "\n".join(lines)


def render_view(view: Mapping[str, Any] | Any, *, width: int = 100, color: bool = False) -> str:
    """A modal or Home tab: title over a rule, its blocks, then the submit / close buttons."""
    style = _Style(color)
    data = _as_dict(view)
    lines: list[str] = []
    title = _text_of(data.get("title"))
    if title:
        lines += _header(title, style, width)
    lines.append(render_blocks(data.get("blocks") or [], width=width, color=color))
    buttons = [
        style.button(f"[ {label} ]", kind)
        for label, kind in ((_text_of(data.get("submit")), "primary"), (_text_of(data.get("close")), None))
        if label
    ]
    if buttons:
        lines += ["", " ".join(buttons)]
    return "\n".join(lines)


# --- blocks ---------------------------------------------------------------------------------------------------


def _as_dict(value: Any) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    to_dict = getattr(value, "to_dict", None)
    return to_dict() if callable(to_dict) else {}


def _render_block(block: Mapping[str, Any], style: _Style, width: int) -> str:
    kind = block.get("type")
    if kind == "header":
        return "\n".join(_header(_text_of(block.get("text")), style, width))
    if kind == "divider":
        return "-" * width
    if kind == "section":
        return _section(block, style, width)
    if kind == "context":
        return _context(block, style, width)
    if kind == "actions":
        return " ".join(_element(element, style) for element in block.get("elements") or [])
    if kind == "input":
        return _input(block, style, width)
    if kind == "image":
        return f"[image: {block.get('alt_text', '')}]"
    if kind in {"markdown", "rich_text"}:
        return _wrap_lines(mrkdwn_to_text(_rich_text(block), color=style.color), width)
    return f"[{kind} block]"


def _header(text: str, style: _Style, width: int) -> list[str]:
    upper = text.upper()
    return [style.bold(upper), "=" * max(1, min(width, len(upper)))]


def _section(block: Mapping[str, Any], style: _Style, width: int) -> str:
    lines: list[str] = []
    body = _text_of(block.get("text"))
    if body:
        lines.append(_wrap_lines(_convert(block.get("text"), style), width))
    for field in block.get("fields") or []:
        lines.append(_field(field, style, width))
    accessory = block.get("accessory")
    if isinstance(accessory, Mapping):
        lines.append(_element(accessory, style))
    return "\n".join(lines)


def _field(field: Mapping[str, Any], style: _Style, width: int) -> str:
    """``*Label*\\nvalue`` fields as ``Label: value``, further value lines indented under the value."""
    raw = _text_of(field)
    first, newline, rest = raw.partition("\n")
    label_match = re.fullmatch(r"\*([^*\n]+)\*", first.strip()) if newline else None
    if label_match is None:
        return _wrap_lines(_convert(field, style), width)
    label = mrkdwn_to_text(label_match.group(1))
    value_lines = mrkdwn_to_text(rest, color=style.color).split("\n")
    prefix = f"{label}: "
    indent = " " * len(prefix)
    lines = [style.bold(label) + ": " + value_lines[0]] + [indent + line for line in value_lines[1:]]
    return _wrap_lines("\n".join(lines), width)


def _context(block: Mapping[str, Any], style: _Style, width: int) -> str:
    parts = []
    for element in block.get("elements") or []:
        if element.get("type") == "image":
            parts.append(f"[{element.get('alt_text', 'image')}]")
        else:
            parts.append(mrkdwn_to_text(_text_of(element)) if element.get("type") == "mrkdwn" else _text_of(element))
    return style.dim(_wrap_lines("  · " + " · ".join(parts), width, indent="    "))


def _input(block: Mapping[str, Any], style: _Style, width: int) -> str:
    label = _text_of(block.get("label"))
    if block.get("optional"):
        label += " (optional)"
    element = block.get("element") or {}
    lines = [f"{style.bold(label)}:"]
    if element.get("type") in {"checkboxes", "radio_buttons"}:
        chosen = {option.get("value") for option in element.get("initial_options") or []}
        if element.get("initial_option"):
            chosen.add(element["initial_option"].get("value"))
        for option in element.get("options") or []:
            mark = "x" if option.get("value") in chosen else " "
            lines.append(f"  [{mark}] {_text_of(option.get('text'))}")
    else:
        lines[0] += " " + _element(element, style)
    hint = _text_of(block.get("hint"))
    if hint:
        lines.append(style.dim(_wrap_lines(f"  ({hint})", width, indent="   ")))
    return "\n".join(lines)


def _element(element: Mapping[str, Any], style: _Style) -> str:
    kind = element.get("type")
    if kind == "button":
        return style.button(f"[ {_text_of(element.get('text'))} ]", element.get("style"))
    if kind in {"static_select", "external_select"}:
        initial = element.get("initial_option")
        shown = _text_of(initial.get("text")) if isinstance(initial, Mapping) else _text_of(element.get("placeholder"))
        return f"[ {shown} ▾ ]"
    if kind in {"multi_static_select", "multi_external_select"}:
        chosen = [_text_of(option.get("text")) for option in element.get("initial_options") or []]
        return f"[ {', '.join(chosen) if chosen else _text_of(element.get('placeholder'))} ▾ ]"
    if kind in {"conversations_select", "channels_select"}:
        initial = element.get("initial_conversation") or element.get("initial_channel")
        return f"[ {f'<#{initial}>' if initial else _text_of(element.get('placeholder'))} ▾ ]"
    if kind == "users_select":
        initial = element.get("initial_user")
        return f"[ {f'<@{initial}>' if initial else _text_of(element.get('placeholder'))} ▾ ]"
    if kind in {"plain_text_input", "url_text_input", "email_text_input", "number_input"}:
        value = element.get("initial_value")
        return f"[ {value} ]" if value else f"[ {_text_of(element.get('placeholder')) or '…'} ]"
    if kind == "overflow":
        return "[ ⋯ ]"
    return f"[ {kind} ]"


# --- text -----------------------------------------------------------------------------------------------------


def _text_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        text = value.get("text")
        return text if isinstance(text, str) else ""
    return ""


def _convert(text_object: Any, style: _Style) -> str:
    text = _text_of(text_object)
    if isinstance(text_object, Mapping) and text_object.get("type") == "plain_text":
        return text
    return mrkdwn_to_text(text, color=style.color)


def _rich_text(block: Mapping[str, Any]) -> str:
    if isinstance(block.get("text"), str):
        return block["text"]
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for child in node.get("elements") or []:
                walk(child)

    walk(block)
    return "".join(parts)


def _wrap_lines(text: str, width: int, *, indent: str | None = None) -> str:
    """Each line wrapped to ``width``, continuation lines keeping the line's own indentation."""
    wrapped: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            wrapped.append(line)
            continue
        leading = indent if indent is not None else line[: len(line) - len(line.lstrip())]
        wrapped.extend(
            textwrap.wrap(
                line,
                width=width,
                subsequent_indent=leading,
                break_long_words=False,
                break_on_hyphens=False,
            )
            or [line]
        )
    return "\n".join(wrapped)
