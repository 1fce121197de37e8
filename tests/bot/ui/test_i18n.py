"""The message catalogues are complete, and money, dates and numbers read as each language writes them."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.ui.i18n import LOCALES_DIR, SUPPORTED_LOCALES, normalise_locale, translator
from rakuten.models import Money

ROOT = Path(__file__).resolve().parents[3]
MOMENT = datetime(2026, 12, 1, 13, 5, tzinfo=UTC)  # 14:05 in Paris


def source_messages() -> dict[str, tuple[str, ...]]:
    """Every message id in the code, as ``make messages`` extracts it: id -> (id, plural id if any)."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, tuple[str, ...]] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT,
        method_map,
        options_map,
        keywords={
            "gettext": None,
            "ngettext": (1, 2),
            "said": None,
            "counted": (1, 2),
            "InvalidTrackingError": (2,),
            "_rule": (1,),
        },
    ):
        ids = (message,) if isinstance(message, str) else tuple(message)
        found[ids[0]] = ids
    return found


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_message_has_a_translation_with_the_same_placeholders(locale: str) -> None:
    in_code = source_messages()
    assert in_code, "no message found in the code: is babel.cfg right?"
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale=locale)
    translated: dict[str, tuple[str, ...]] = {}
    problems: list[str] = []
    for message in catalogue:
        if not message.id:
            continue
        ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        forms = (message.string,) if isinstance(message.string, str) else tuple(message.string)
        if message.fuzzy or not all(forms):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        wanted = set().union(*(placeholders(each) for each in ids))
        for form in forms:
            if placeholders(form) - (wanted | {"count"}) or placeholders(ids[0]) - {"count"} - placeholders(form):
                problems.append(f"placeholders differ: {ids[0]!r} -> {form!r}")
        translated[ids[0]] = ids
    problems += [f"missing (run make messages): {msgid!r}" for msgid in in_code.keys() - translated.keys()]
    problems += [f"no longer in the code: {msgid!r}" for msgid in translated.keys() - in_code.keys()]
    assert not problems, f"{locale} catalogue:\n" + "\n".join(sorted(problems))


@pytest.mark.parametrize(
    ("given", "expected"),
    [("fr", "fr"), ("fr-FR", "fr"), ("fr_CA", "fr"), ("EN-us", "en"), ("de-DE", None), ("", None)],
)
def test_slack_locales_map_to_a_supported_language(given: str, expected: str | None) -> None:
    assert normalise_locale(given) == expected


def test_french_formats() -> None:
    t = translator("fr-FR")
    assert t.money(Money(Decimal("1234.5"))) == "1\u202f234,50\xa0€"
    assert t.datetime(MOMENT) == "1 déc. 2026 à 14:05"
    assert t.short_datetime(MOMENT) == "1 déc. 14:05"
    assert t.duration(timedelta(hours=3, minutes=5)) == "3 h 05"
    assert t.duration(timedelta(days=2, hours=4)) == "2 j 4 h"


def test_english_formats() -> None:
    t = translator("en-US")
    assert t.money(Money(Decimal("1234.5"))) == "€1,234.50"
    assert re.fullmatch(r"Dec 1, 2026 at 2:05\s?PM", t.datetime(MOMENT))
    assert t.duration(timedelta(seconds=42)) == "42 s"
    assert t.duration(timedelta(days=2)) == "2 d"


def test_an_unknown_language_falls_back_to_the_default() -> None:
    assert translator("de").locale == "fr"
    assert translator(None).locale == "fr"
