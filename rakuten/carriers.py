"""Rakuten's carrier names (``transporter_name``) and the checks run on tracking data before it is sent.

Rakuten publishes no official list; ``CARRIERS`` is the union of the lists working connectors send
(docs/rakuten-api.md §5), spelled exactly as they send them: it is the one table of what goes out as
``transporter_name``. Where connectors disagree, the majority spelling goes out: ``CHRONOPOST`` in capitals
(Common-Services and WillZWL; only plentymarkets writes ``Chronopost``). What a person types is matched
without case, accents or spacing. Anything else goes out as ``Autre`` with a tracking URL.

Tracking-number rules are deliberately lenient: they only reject numbers that cannot be right, because a
refused valid number blocks a seller while a wrong one is merely a typo Rakuten shows the buyer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

__all__ = [
    "AUTRE",
    "CARRIERS",
    "InvalidTrackingError",
    "Tracking",
    "carrier_for_shipping_type",
    "is_prepaid_shipping",
    "lookup_carrier",
    "validate_tracking",
]

AUTRE = "Autre"
CHRONOPOST = "CHRONOPOST"

CARRIERS: tuple[str, ...] = (
    "Colissimo",
    "So Colissimo",
    CHRONOPOST,
    "Mondial Relay",
    "Mondial Relay prépayé",
    "Colis Prive",
    "DPD",
    "DPD Germany",
    "DPD UK",
    "Kiala",
    "TNT",
    "UPS",
    "Fedex",
    "DHL",
    "GLS",
    "Tatex",
    "France Express",
    "Courrier Suivi",
    "Exapaq",
    "Geodis",
    "WeDo Logistics",
    "4PX",
    "Cubyn",
    "B2C Europe",
    "TrackYourParcel",
    "Yun Express",
    "China EMS",
    "Swiss Post",
    "PostNL International",
    "Royal Mail",
    "CNE Express",
    "S.F. Express",
    "Singapore Post",
    "Hong Kong Post",
    "Bpost",
    AUTRE,
)

TRACKING_NUMBER_MIN_LENGTH = 6
TRACKING_NUMBER_MAX_LENGTH = 40
TRACKING_URL_MAX_LENGTH = 500

TrackingField = Literal["carrier", "tracking_number", "tracking_url"]


class InvalidTrackingError(ValueError):
    """Tracking data Rakuten would refuse or that cannot be right. ``message`` is meant for the seller, in English;
    ``template`` and ``params`` let an app say it in the seller's language (its catalogues extract the template)."""

    def __init__(self, field: TrackingField, template: str, **params: object) -> None:
        message = template.format(**params) if params else template
        super().__init__(message)
        self.field: TrackingField = field
        self.message = message
        self.template = template
        self.params = params


@dataclass(frozen=True, slots=True)
class Tracking:
    """Carrier (Rakuten's spelling), tracking number (upper case, no spaces) and optional tracking URL."""

    carrier: str
    number: str
    url: str | None = None


def _key(name: str) -> str:
    # Case, accents, spaces and punctuation never distinguish two carriers: "S.F. Express" == "sf express".
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch)).casefold()


_ALIASES: dict[str, str] = {
    "La Poste": "Colissimo",
    "Colissimo Expert": "Colissimo",
    "Colissimo Access": "Colissimo",
    "Socolissimo": "So Colissimo",
    "Lettre suivie": "Courrier Suivi",
    "Chronopost Shop2Shop": CHRONOPOST,
    "Shop2Shop": CHRONOPOST,
    "Shop2Shop by Chronopost": CHRONOPOST,
    "Mondial Relais": "Mondial Relay",
    "Mondial Relay prepaid": "Mondial Relay prépayé",
    "FedEx Express": "Fedex",
    "Federal Express": "Fedex",
    "DHL Express": "DHL",
    "DPD France": "DPD",
    "GLS France": "GLS",
    "TNT Express": "TNT",
    "PostNL": "PostNL International",
    "SF Express": "S.F. Express",
    "Other": AUTRE,
}

_CARRIER_BY_KEY: dict[str, str] = {
    **{_key(alias): carrier for alias, carrier in _ALIASES.items()},
    **{_key(carrier): carrier for carrier in CARRIERS},
}


def lookup_carrier(name: str) -> str | None:
    """Rakuten's spelling of a carrier typed by a person (case, accents and spacing ignored), or None."""
    key = _key(name or "")
    return _CARRIER_BY_KEY.get(key) if key else None


# Shipping types are free text (docs/rakuten-api.md §5); matched on folded words, most specific first.
_CARRIER_BY_SHIPPING_TYPE: tuple[tuple[str, str], ...] = (
    ("mondialrelayprepaye", "Mondial Relay prépayé"),
    ("mondialrelay", "Mondial Relay"),
    ("socolissimo", "So Colissimo"),
    ("colissimo", "Colissimo"),
    ("shop2shop", CHRONOPOST),
    ("chronopost", CHRONOPOST),
    ("kiala", "Kiala"),
)


def carrier_for_shipping_type(shipping_type: str | None) -> str | None:
    """The carrier a shipping type implies (relay and prepaid modes); None for Normal, Suivi, Express…"""
    if not shipping_type:
        return None
    key = _key(shipping_type)
    for fragment, carrier in _CARRIER_BY_SHIPPING_TYPE:
        if fragment in key:
            return carrier
    return None


# Prepaid modes: Rakuten sells the label, so getshippinginformation has its URL and tracking number.
_PREPAID_SHIPPING_TYPES = ("socolissimo", "chronopost", "shop2shop", "prepaye")


def is_prepaid_shipping(shipping_type: str | None) -> bool:
    """So Colissimo, Chronopost, Shop2Shop, "… prépayé": shipping types that come with a Rakuten label."""
    key = _key(shipping_type or "")
    return any(fragment in key for fragment in _PREPAID_SHIPPING_TYPES)


@dataclass(frozen=True, slots=True)
class _NumberRule:
    patterns: tuple[re.Pattern[str], ...]
    expected: str


def _rule(expected: str, *patterns: str) -> _NumberRule:
    return _NumberRule(tuple(re.compile(pattern) for pattern in patterns), expected)


# Only formats that are well known and stable; every other carrier gets the general checks alone.
_COLISSIMO_RULE = _rule(
    "13 letters and digits (e.g. 6A12345678901 or CB123456789FR), or 2 characters, 11 digits and 2 letters",
    r"[A-Z0-9]{13}",
    r"[A-Z0-9]{2}\d{11}[A-Z]{2}",
)
_MONDIAL_RELAY_RULE = _rule("8 to 12 digits", r"\d{8,12}")
_NUMBER_RULES: dict[str, _NumberRule] = {
    "Colissimo": _COLISSIMO_RULE,
    "So Colissimo": _COLISSIMO_RULE,
    CHRONOPOST: _rule(
        "13 or 14 letters and digits (e.g. XY123456789FR)",
        r"[A-Z]{2}\d{9}[A-Z]{2}",
        r"[A-Z0-9]{13,14}",
    ),
    "UPS": _rule(
        "1Z followed by 16 letters or digits (18 characters), or a numeric UPS reference of 9 to 26 digits",
        r"1Z[A-Z0-9]{16}",
        r"T?\d{9,26}",
    ),
    "Mondial Relay": _MONDIAL_RELAY_RULE,
    "Mondial Relay prépayé": _MONDIAL_RELAY_RULE,
}

_NUMBER_CHARACTERS = re.compile(r"[A-Z0-9-]+")
_WHITESPACE = re.compile(r"\s+")


def validate_tracking(carrier: str, tracking_number: str, tracking_url: str | None) -> Tracking:
    """Check and normalise what a seller typed; raise InvalidTrackingError with a message they can act on."""
    canonical = _validate_carrier(carrier)
    number = _validate_number(canonical, tracking_number)
    url = _validate_url(canonical, tracking_url)
    return Tracking(carrier=canonical, number=number, url=url)


def _validate_carrier(carrier: str) -> str:
    if not carrier or not carrier.strip():
        raise InvalidTrackingError("carrier", "Choose a carrier.")
    canonical = lookup_carrier(carrier)
    if canonical is None:
        raise InvalidTrackingError(
            "carrier",
            "{carrier} is not a carrier Rakuten knows. Choose “{other}” (other) and give the tracking URL instead.",
            carrier=_quote(carrier),
            other=AUTRE,
        )
    return canonical


def _validate_number(carrier: str, tracking_number: str) -> str:
    number = _WHITESPACE.sub("", tracking_number or "").upper()
    if not number:
        raise InvalidTrackingError("tracking_number", "Enter the tracking number.")
    if _NUMBER_CHARACTERS.fullmatch(number) is None:
        raise InvalidTrackingError(
            "tracking_number", "A tracking number may only contain letters, digits and hyphens (-)."
        )
    if not TRACKING_NUMBER_MIN_LENGTH <= len(number) <= TRACKING_NUMBER_MAX_LENGTH:
        raise InvalidTrackingError(
            "tracking_number",
            "A tracking number has {low} to {high} characters; this one has {length}.",
            low=TRACKING_NUMBER_MIN_LENGTH,
            high=TRACKING_NUMBER_MAX_LENGTH,
            length=len(number),
        )
    rule = _NUMBER_RULES.get(carrier)
    if rule is not None and not any(pattern.fullmatch(number) for pattern in rule.patterns):
        raise InvalidTrackingError(
            "tracking_number",
            "This does not look like a {carrier} tracking number: expected {expected}.",
            carrier=carrier,
            expected=rule.expected,
        )
    return number


def _validate_url(carrier: str, tracking_url: str | None) -> str | None:
    url = (tracking_url or "").strip()
    if not url:
        if carrier == AUTRE:
            raise InvalidTrackingError(
                "tracking_url",
                "A tracking URL is required when the carrier is “{other}”, so the buyer can follow it.",
                other=AUTRE,
            )
        return None
    if len(url) > TRACKING_URL_MAX_LENGTH:
        raise InvalidTrackingError(
            "tracking_url",
            "The tracking URL is too long ({length} characters; at most {limit}).",
            length=len(url),
            limit=TRACKING_URL_MAX_LENGTH,
        )
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
        raise InvalidTrackingError("tracking_url", "The tracking URL must not contain spaces.")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not host:
        raise InvalidTrackingError(
            "tracking_url", "The tracking URL must be a full web address starting with https:// (or http://)."
        )
    return url


def _quote(text: str) -> str:
    shown = " ".join(text.split())
    return f"“{shown[:40]}…”" if len(shown) > 40 else f"“{shown}”"
