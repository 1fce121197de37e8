from __future__ import annotations

import json

import pytest

from bot.domain.orders import OrderRef
from bot.ui.refs import (
    ConnectModalMetadata,
    SettingsModalMetadata,
    ShipModalMetadata,
    decode_order_ref,
    encode_order_ref,
)


def test_order_ref_round_trips_through_a_compact_value() -> None:
    ref = OrderRef("boutique-lyon", "123456789")
    value = encode_order_ref(ref)
    assert " " not in value
    assert decode_order_ref(value) == ref


def test_order_ref_keeps_non_ascii_logins() -> None:
    ref = OrderRef("librairie-été", "42")
    assert decode_order_ref(encode_order_ref(ref)) == ref


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        "",
        "123456789",
        "not json",
        "[1, 2]",
        '{"a": "x"}',
        '{"a": "", "p": "1"}',
        '{"a": 1, "p": "1"}',
        '{"a": "x", "p": null}',
        "{" * 5000,
        b'{"a":"x","p":"1"}',
        42,
    ],
)
def test_garbage_button_values_decode_to_none(garbage: object) -> None:
    assert decode_order_ref(garbage) is None


def test_order_ref_too_long_for_a_button_value_is_refused_when_encoding() -> None:
    with pytest.raises(ValueError, match="2000"):
        encode_order_ref(OrderRef("x" * 2100, "1"))


def test_ship_metadata_round_trips_with_and_without_a_card() -> None:
    full = ShipModalMetadata("boutique-lyon", "123456789", "C0ORDERS", "1700000000.000100")
    bare = ShipModalMetadata("boutique-lyon", "123456789")
    assert ShipModalMetadata.decode(full.encode()) == full
    assert ShipModalMetadata.decode(bare.encode()) == bare
    assert full.order_ref == OrderRef("boutique-lyon", "123456789")
    assert len(full.encode()) <= 3000


@pytest.mark.parametrize(
    "garbage",
    ['{"a": "x", "p": "1", "c": 5}', '{"a": "x"}', "null", "x" * 3001, '{"a": "x", "p": "1", "t": ""}'],
)
def test_ship_metadata_garbage_decodes_to_none(garbage: str) -> None:
    assert ShipModalMetadata.decode(garbage) is None


def test_settings_and_connect_metadata_round_trip() -> None:
    assert SettingsModalMetadata.decode(SettingsModalMetadata("boutique-lyon").encode()) == SettingsModalMetadata(
        "boutique-lyon"
    )
    assert ConnectModalMetadata.decode(ConnectModalMetadata("C0ORDERS").encode()) == ConnectModalMetadata("C0ORDERS")
    assert ConnectModalMetadata.decode(ConnectModalMetadata().encode()) == ConnectModalMetadata(None)
    assert SettingsModalMetadata.decode('{"a": 3}') is None
    assert ConnectModalMetadata.decode("[]") is None


def test_metadata_holds_only_what_it_names() -> None:
    payload = json.loads(ShipModalMetadata("boutique-lyon", "1", "C0ORDERS", "1.2").encode())
    assert set(payload) == {"a", "p", "c", "t"}
