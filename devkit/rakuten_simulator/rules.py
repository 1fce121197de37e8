"""What the simulated Rakuten accepts from a seller: carrier names, tracking-number shapes, deadlines.

Rakuten publishes none of this (docs/rakuten-api.md §5, §6, §8), so each rule is an assumption, chosen strict:
a client that passes here sends what the connectors that work send. Written from the notes and the carriers'
own formats, never from the client's table (``rakuten.carriers``), so that a test can hold one against the other.

* Carrier names: the union of the lists two working connectors send (Common-Services and plentymarkets,
  §5), matched exactly, case included. Where connectors disagree on the spelling (``CHRONOPOST`` for
  Common-Services and WillZWL, ``Chronopost`` for plentymarkets), the majority spelling is the one accepted.
* Tracking numbers: letters, digits and hyphens, 6 to 40 of them, case ignored; plus the published shape of
  the carriers whose numbers have one (La Poste, Chronopost, Mondial Relay, UPS).
* Acceptance deadline: the seller has "3-4 days to accept" (§6); the simulator takes the longer reading, four
  days after the purchase, after which acceptsale and refusesale are refused.
"""

from __future__ import annotations

import re
from datetime import timedelta

AUTRE = "Autre"

ACCEPTED_CARRIERS: tuple[str, ...] = (
    # Common-Services' $pm_carriers (2021-22)
    "Colis Prive",
    "So Colissimo",
    "Colissimo",
    "CHRONOPOST",
    "DPD",
    "Mondial Relay",
    "Kiala",
    "TNT",
    "UPS",
    "Fedex",
    "Tatex",
    "GLS",
    "DHL",
    "France Express",
    "Courrier Suivi",
    "Exapaq",
    AUTRE,
    # what plentymarkets' getCarrierCodeList adds (its "Chronopost" is the minority spelling, left out)
    "Geodis",
    "WeDo Logistics",
    "4PX",
    "Mondial Relay prépayé",
    "Cubyn",
    "DPD Germany",
    "DPD UK",
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
)

_ANY_NUMBER = re.compile(r"[A-Z0-9-]{6,40}", re.IGNORECASE)
# La Poste: 13 characters (6A + 11 digits, or the UPU S10 form CB123456789FR), or 2+11 digits+2 letters.
_LA_POSTE = re.compile(r"[A-Z0-9]{13}|[A-Z0-9]{2}\d{11}[A-Z]{2}", re.IGNORECASE)
_MONDIAL_RELAY = re.compile(r"\d{8,12}")
TRACKING_NUMBER_SHAPES: dict[str, re.Pattern[str]] = {
    "Colissimo": _LA_POSTE,
    "So Colissimo": _LA_POSTE,
    "CHRONOPOST": re.compile(r"[A-Z]{2}\d{9}[A-Z]{2}|[A-Z0-9]{13,14}", re.IGNORECASE),
    "Mondial Relay": _MONDIAL_RELAY,
    "Mondial Relay prépayé": _MONDIAL_RELAY,
    # 1Z + 16 (the parcel number), or UPS's numeric references (Mail Innovations, freight).
    "UPS": re.compile(r"1Z[A-Z0-9]{16}|T?\d{9,26}", re.IGNORECASE),
}

ACCEPTANCE_WINDOW = timedelta(days=4)


def is_accepted_carrier(name: str) -> bool:
    return name in ACCEPTED_CARRIERS


def tracking_number_fits(carrier: str, number: str) -> bool:
    """Whether ``number`` has a shape Rakuten would take for ``carrier`` (any carrier: letters, digits, hyphens)."""
    if _ANY_NUMBER.fullmatch(number) is None:
        return False
    shape = TRACKING_NUMBER_SHAPES.get(carrier)
    return shape is None or shape.fullmatch(number) is not None
