"""Carrier names and the checks on tracking data, each rule explicit."""

from __future__ import annotations

import dataclasses

import pytest

from devkit.rakuten_simulator import ACCEPTED_CARRIERS
from devkit.rakuten_simulator.rules import tracking_number_fits
from rakuten.carriers import (
    AUTRE,
    CARRIERS,
    InvalidTrackingError,
    Tracking,
    carrier_for_shipping_type,
    is_prepaid_shipping,
    lookup_carrier,
    validate_tracking,
)

# The two connector lists of docs/rakuten-api.md §5, spelled as they send them; where they disagree (plentymarkets'
# "Chronopost" against Common-Services' and WillZWL's "CHRONOPOST") the majority spelling is kept.
CS_LIST = [
    "Colis Prive", "So Colissimo", "Colissimo", "CHRONOPOST", "DPD", "Mondial Relay", "Kiala", "TNT", "UPS", "Fedex",
    "Tatex", "GLS", "DHL", "France Express", "Courrier Suivi", "Exapaq", "Autre",
]
PLENTY_ADDITIONS = [
    "Geodis", "WeDo Logistics", "4PX", "Mondial Relay prépayé", "Cubyn", "DPD Germany", "DPD UK",
    "B2C Europe", "TrackYourParcel", "Yun Express", "China EMS", "Swiss Post", "PostNL International",
    "Royal Mail", "CNE Express", "S.F. Express", "Singapore Post", "Hong Kong Post", "Bpost",
]


# ----------------------------------------------------------------------------------------- the list


def test_carriers_are_the_union_of_both_lists() -> None:
    assert set(CARRIERS) == set(CS_LIST) | set(PLENTY_ADDITIONS)
    assert len(CARRIERS) == len(set(CARRIERS))


def test_autre_is_last() -> None:
    assert AUTRE == "Autre"
    assert CARRIERS[-1] == AUTRE


def test_chronopost_appears_once_in_the_capitals_most_connectors_send() -> None:
    assert [name for name in CARRIERS if name.lower() == "chronopost"] == ["CHRONOPOST"]


def test_every_carrier_finds_itself() -> None:
    for name in CARRIERS:
        assert lookup_carrier(name) == name


# ------------------------------------------------------------------------------------------- lookup


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("chronopost", "CHRONOPOST"),
        ("Chronopost", "CHRONOPOST"),
        ("  Chrono post ", "CHRONOPOST"),
        ("mondial relay prepaye", "Mondial Relay prépayé"),
        ("MONDIAL RELAY PRÉPAYÉ", "Mondial Relay prépayé"),
        ("mondial relay", "Mondial Relay"),
        ("so colissimo", "So Colissimo"),
        ("SoColissimo", "So Colissimo"),
        ("La Poste", "Colissimo"),
        ("laposte", "Colissimo"),
        ("colis privé", "Colis Prive"),
        ("fedex", "Fedex"),
        ("FedEx Express", "Fedex"),
        ("sf express", "S.F. Express"),
        ("dhl express", "DHL"),
        ("postnl", "PostNL International"),
        ("autre", "Autre"),
        ("Other", "Autre"),
        ("shop2shop", "CHRONOPOST"),
    ],
)
def test_lookup_ignores_case_accents_and_spacing(typed: str, expected: str) -> None:
    assert lookup_carrier(typed) == expected


@pytest.mark.parametrize("typed", ["", "   ", "Pigeon voyageur", "Relais Colis", "-"])
def test_unknown_carriers_give_none(typed: str) -> None:
    assert lookup_carrier(typed) is None


@pytest.mark.parametrize(
    ("shipping_type", "expected"),
    [
        ("Point relais Mondial Relay", "Mondial Relay"),
        ("So Colissimo", "So Colissimo"),
        ("SO COLISSIMO", "So Colissimo"),
        ("Colissimo", "Colissimo"),
        ("Chronopost", "CHRONOPOST"),
        ("Shop2Shop by Chronopost", "CHRONOPOST"),
        ("Relais Kiala", "Kiala"),
        ("Relai Kiala", "Kiala"),
        ("Mondial Relay prépayé", "Mondial Relay prépayé"),
        ("Normal", None),
        ("Suivi", None),
        ("Recommandé", None),
        ("Express", None),
        ("EXPRESS_DELIVERY", None),
        ("Retrait chez le vendeur", None),
        ("", None),
        (None, None),
    ],
)
def test_carrier_implied_by_a_shipping_type(shipping_type: str | None, expected: str | None) -> None:
    assert carrier_for_shipping_type(shipping_type) == expected


# ------------------------------------------------------------------------------------- validation


def test_valid_tracking_is_normalised() -> None:
    tracking = validate_tracking("colissimo", " 6a 1234 5678 901 ", None)
    assert tracking == Tracking(carrier="Colissimo", number="6A12345678901", url=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tracking.number = "x"  # type: ignore[misc]


def test_url_is_kept_stripped() -> None:
    tracking = validate_tracking("DHL", "1234567890", "  https://www.dhl.com/fr/track?id=1234567890 ")
    assert tracking.url == "https://www.dhl.com/fr/track?id=1234567890"


def test_unknown_carrier_suggests_autre() -> None:
    with pytest.raises(InvalidTrackingError) as caught:
        validate_tracking("Pigeon voyageur", "ABC123456", None)
    error = caught.value
    assert error.field == "carrier"
    assert "“Autre”" in error.message
    assert "Pigeon voyageur" in error.message
    assert isinstance(error, ValueError)
    assert str(error) == error.message


def test_a_long_unknown_carrier_is_not_echoed_in_full() -> None:
    with pytest.raises(InvalidTrackingError) as caught:
        validate_tracking("x" * 300, "ABC123456", None)
    assert len(caught.value.message) < 200


def test_empty_carrier() -> None:
    with pytest.raises(InvalidTrackingError) as caught:
        validate_tracking("  ", "ABC123456", None)
    assert caught.value.field == "carrier"


@pytest.mark.parametrize("number", ["", "   ", "\t\n"])
def test_empty_tracking_number(number: str) -> None:
    with pytest.raises(InvalidTrackingError) as caught:
        validate_tracking("DHL", number, None)
    assert caught.value.field == "tracking_number"
    assert caught.value.message == "Enter the tracking number."


@pytest.mark.parametrize("number", ["ABC/12345", "ABC_12345", "ABC.12345", "ÉÀ123456", "12345#67", "1234567'"])
def test_tracking_number_characters(number: str) -> None:
    with pytest.raises(InvalidTrackingError) as caught:
        validate_tracking("DHL", number, None)
    assert caught.value.field == "tracking_number"
    assert "letters, digits and hyphens" in caught.value.message


@pytest.mark.parametrize(("number", "valid"), [("A" * 5, False), ("A" * 6, True), ("A" * 40, True), ("A" * 41, False)])
def test_tracking_number_length_bounds(number: str, valid: bool) -> None:
    if valid:
        assert validate_tracking("GLS", number, None).number == number
    else:
        with pytest.raises(InvalidTrackingError, match="6 to 40 characters") as caught:
            validate_tracking("GLS", number, None)
        assert caught.value.field == "tracking_number"


def test_hyphens_are_allowed() -> None:
    assert validate_tracking("DPD", "ABC-123-456", None).number == "ABC-123-456"


CARRIER_RULES = [
    # Colissimo and So Colissimo: 13 characters, or 2 characters + 11 digits + 2 letters.
    ("Colissimo", "6A12345678901", True),
    ("Colissimo", "CB123456789FR", True),
    ("Colissimo", "8R12345678901FR", True),
    ("So Colissimo", "6A12345678901", True),
    ("Colissimo", "6A1234567890", False),
    ("Colissimo", "6A12345678901234", False),
    ("Colissimo", "6A-1234567890", False),
    ("So Colissimo", "12345", False),
    # Chronopost: 13 or 14 letters and digits (XY123456789FR is the usual form).
    ("Chronopost", "XY123456789FR", True),
    ("CHRONOPOST", "XY1234567890FR", True),
    ("Chronopost", "XY12345678", False),
    ("Chronopost", "XY123456789FRAB", False),
    # UPS: 1Z + 16 letters or digits, or a numeric reference of 9 to 26 digits (T prefix allowed).
    ("UPS", "1Z999AA10123456784", True),
    ("UPS", "T1234567890", True),
    ("UPS", "123456789012", True),
    ("UPS", "1Z999AA1012345678", False),
    ("UPS", "ABCDEFGHIJ", False),
    # Mondial Relay (and its prepaid mode): 8 to 12 digits.
    ("Mondial Relay", "12345678", True),
    ("Mondial Relay", "123456789012", True),
    ("Mondial Relay prépayé", "87654321", True),
    ("Mondial Relay", "1234567", False),
    ("Mondial Relay", "1234567890123", False),
    ("Mondial Relay", "MR12345678", False),
    # Carriers without a stable public format only get the general checks.
    ("DHL", "JJD0099999999", True),
    ("GLS", "ZX-9", False),
    ("Royal Mail", "AB123456789GB", True),
]


@pytest.mark.parametrize(("carrier", "number", "valid"), CARRIER_RULES)
def test_carrier_specific_number_rules(carrier: str, number: str, valid: bool) -> None:
    if valid:
        assert validate_tracking(carrier, number, None).number == number
    else:
        with pytest.raises(InvalidTrackingError) as caught:
            validate_tracking(carrier, number, None)
        assert caught.value.field == "tracking_number"


# ------------------------------------------------------------------- against what Rakuten accepts


def test_the_carrier_table_is_spelled_exactly_as_rakuten_accepts_it() -> None:
    # The simulator's list is written from the notes, independently of this table: every name the bot offers
    # or derives must be one Rakuten takes, byte for byte (Rakuten matches carrier names exactly, case included).
    assert set(CARRIERS) == set(ACCEPTED_CARRIERS)
    derived = {lookup_carrier(name) for name in (*CARRIERS, "La Poste", "Shop2Shop", "Other", "chronopost")}
    shipping_types = ("So Colissimo", "Chronopost", "Point relais Mondial Relay", "Mondial Relay prépayé")
    derived |= {carrier_for_shipping_type(kind) for kind in shipping_types}
    assert derived <= set(ACCEPTED_CARRIERS)


PROBES = sorted({number for _, number, _ in CARRIER_RULES} | {"6A 123 456 789 01", "xy123456789fr", "1234567890"})


@pytest.mark.parametrize("carrier", CARRIERS)
def test_no_number_the_bot_lets_through_is_one_rakuten_refuses(carrier: str) -> None:
    for probe in PROBES:
        try:
            tracking = validate_tracking(carrier, probe, "https://t.example/1")
        except InvalidTrackingError:
            continue
        assert tracking_number_fits(tracking.carrier, tracking.number), (carrier, probe)


def test_carrier_rule_message_says_what_is_expected() -> None:
    with pytest.raises(InvalidTrackingError) as caught:
        validate_tracking("Mondial Relay", "MR12345678", None)
    assert caught.value.message == "This does not look like a Mondial Relay tracking number: expected 8 to 12 digits."


def test_autre_requires_a_tracking_url() -> None:
    with pytest.raises(InvalidTrackingError) as caught:
        validate_tracking("Autre", "ABC123456", None)
    assert caught.value.field == "tracking_url"
    assert "required" in caught.value.message
    with pytest.raises(InvalidTrackingError):
        validate_tracking("autre", "ABC123456", "   ")


def test_autre_with_a_url() -> None:
    tracking = validate_tracking("Autre", "abc123456", "http://suivi.example.fr/colis/ABC123456")
    assert tracking == Tracking("Autre", "ABC123456", "http://suivi.example.fr/colis/ABC123456")


@pytest.mark.parametrize(
    "url",
    [
        "suivi.example.fr/colis/1",
        "ftp://example.fr/1",
        "javascript:alert(1)",
        "https://",
        "https:///path",
        "http://exa mple.fr/1",
        "https://example.fr/a b",
        "https://example.fr/\x00",
        "https://[::1/",
        "https://example.fr/" + "a" * 490,
    ],
)
def test_invalid_tracking_urls(url: str) -> None:
    with pytest.raises(InvalidTrackingError) as caught:
        validate_tracking("Autre", "ABC123456", url)
    assert caught.value.field == "tracking_url"


def test_url_length_limit_is_inclusive() -> None:
    url = "https://example.fr/" + "a" * (500 - len("https://example.fr/"))
    assert validate_tracking("Autre", "ABC123456", url).url == url


def test_a_url_given_for_a_known_carrier_is_checked_too() -> None:
    with pytest.raises(InvalidTrackingError) as caught:
        validate_tracking("DHL", "1234567890", "not a url")
    assert caught.value.field == "tracking_url"


@pytest.mark.parametrize(
    ("shipping_type", "prepaid"),
    [
        ("So Colissimo", True),
        ("SO COLISSIMO", True),
        ("Chronopost", True),
        ("Shop2Shop by Chronopost", True),
        ("Mondial Relay prépayé", True),
        ("Point relais Mondial Relay", False),
        ("Suivi", False),
        ("Express", False),
        (None, False),
    ],
)
def test_prepaid_shipping_types_are_those_with_a_rakuten_label(shipping_type: str | None, prepaid: bool) -> None:
    assert is_prepaid_shipping(shipping_type) is prepaid
