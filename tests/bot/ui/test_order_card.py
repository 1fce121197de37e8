from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.constants import (
    ACTION_ACCEPT,
    ACTION_CANCEL_ITEM,
    ACTION_MARK_SHIPPED,
    ACTION_REFUSE,
    ACTION_SHOW_ADDRESS,
    ORDER_EVENT_TYPE,
)
from bot.domain.accounts import AccountSettings
from bot.domain.orders import ItemState, OrderRecord, OrderRef, PendingAction, PendingKind, PrepaidLabel
from bot.ui.limits import MESSAGE_TEXT_BUDGET, blocks_text_length
from bot.ui.order_card import OrderCard, build_order_card
from bot.ui.refs import decode_order_ref
from devkit.block_kit_limits import block_problems
from rakuten.models import Money
from tests.factories import NOW, PURCHASED, address, item, order, relay_address, shipment, texts
from tests.i18n import EN


def render(record: OrderRecord, settings: AccountSettings | None = None, now: datetime = NOW) -> dict[str, Any]:
    card = build_order_card(record, settings or AccountSettings(), now=now, t=EN)
    payload = card.as_kwargs()
    assert block_problems(payload["blocks"], max_blocks=50, pointer="/blocks") == []
    return payload


def block(payload: dict[str, Any], block_id: str) -> dict[str, Any] | None:
    return next((b for b in payload["blocks"] if b.get("block_id") == block_id), None)


def buttons(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    actions = block(payload, "order_actions")
    return {element["action_id"]: element for element in actions["elements"]} if actions else {}


def state_line(payload: dict[str, Any]) -> str:
    return block(payload, "order_state")["text"]["text"]


# --- header, text, metadata -----------------------------------------------------------------------------------


def test_express_marker_leads_the_header_and_the_notification_text() -> None:
    payload = render(order(is_express=True, shipping_type="Express"))
    assert payload["blocks"][0]["type"] == "header"
    assert payload["blocks"][0]["text"]["text"] == "⚡ EXPRESS · Order 123456789"
    assert payload["text"].startswith("⚡ Express order 123456789")


def test_standard_order_has_a_plain_header_and_text() -> None:
    payload = render(order())
    assert payload["blocks"][0]["text"]["text"] == "🛒 Order 123456789"
    assert payload["text"].startswith("🛒 Order 123456789")
    assert "⚡" not in payload["text"]


def test_notification_text_has_id_item_count_total_and_city_but_no_street_or_phone() -> None:
    record = order(item("1"), item("2"))
    payload = render(record, AccountSettings(show_full_address=True))
    text = payload["text"]
    for expected in ("123456789", "2 items", "€29.90", "Lyon"):
        assert expected in text
    for private in ("rue des Lilas", "0612345678", "Martin"):
        assert private not in text


def test_total_falls_back_to_the_sum_of_item_prices_labelled_items() -> None:
    record = order(item("1", price=Money(Decimal("10.00"))), item("2", price=Money(Decimal("5.50"))), total=None)
    payload = render(record)
    assert "*Total (items)*\n€15.50" in texts(block(payload, "order_fields"))
    assert "€15.50 (items)" in payload["text"]


def test_card_carries_order_metadata_for_crash_recovery() -> None:
    payload = render(order())
    assert payload["metadata"] == {
        "event_type": ORDER_EVENT_TYPE,
        "event_payload": {"account": "boutique-lyon", "purchaseid": "123456789"},
    }


def test_fields_show_paris_purchase_date_shipping_type_and_ship_to() -> None:
    fields = texts(block(render(order()), "order_fields"))
    assert "*Ordered*\nNov 28, 2026 at 2:05\u202fPM" in fields
    assert "*Shipping*\nSuivi" in fields
    assert "Camille Martin" in fields
    assert "69003 Lyon" in fields
    assert "France" in fields


def test_context_names_the_account_and_update_time_without_personal_data() -> None:
    context = block(render(order()), "order_context")["elements"][0]["text"]
    assert context == "Rakuten account boutique-lyon · updated Nov 28, 3:02\u202fPM"


# --- state line and countdown ---------------------------------------------------------------------------------


def test_to_accept_shows_the_deadline_72_hours_after_purchase_as_an_absolute_date() -> None:
    # An absolute date stays true however long the card sits in the channel; Slack shows it in each
    # reader's time zone, the fallback in Paris time.
    record = order(item(state=ItemState.TO_ACCEPT))
    now = PURCHASED.astimezone(UTC) + timedelta(hours=20)
    deadline = PURCHASED + timedelta(hours=72)
    expected = (
        f"*🟡 To accept* — decide by <!date^{int(deadline.timestamp())}^{{date_short_pretty}} {{time}}"
        "|Dec 1, 2:05\u202fPM Paris time>"
    )
    assert state_line(render(record, now=now)) == expected
    assert "deadline passed" in state_line(render(record, now=now + timedelta(hours=60)))


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ((ItemState.TO_SHIP,), "📦 Awaiting shipment"),
        ((ItemState.SHIPPED,), "✅ Shipped"),
        ((ItemState.SHIPPED, ItemState.TO_SHIP, ItemState.TO_SHIP), "Partially shipped (1 of 3)"),
        ((ItemState.REFUSED,), "⛔ Refused"),
        ((ItemState.CANCELLED,), "✖️ Cancelled"),
        ((ItemState.ON_HOLD,), "⏳ On hold (claim)"),
    ],
)
def test_state_line_tells_what_happens_next(states: tuple[ItemState, ...], expected: str) -> None:
    record = order(*(item(str(i), state) for i, state in enumerate(states)))
    assert expected in state_line(render(record))


def test_pending_ship_shows_sending_tracking_with_retry_details() -> None:
    pending = PendingAction(
        kind=PendingKind.SHIP,
        requested_by="U0PACKER",
        requested_at=NOW,
        attempts=3,
        last_error="Rakuten timed out",
        shipment=shipment(),
    )
    record = order(item("1", pending=pending), item("2"))
    payload = render(record)
    assert "Sending tracking to Rakuten…" in state_line(payload)
    item_text = texts(block(payload, "item_0"))
    assert "sending Colissimo 6A12345678901 to Rakuten…" in item_text
    assert "attempt 3" in item_text
    assert "last error: Rakuten timed out" in item_text


# --- buttons --------------------------------------------------------------------------------------------------


def test_to_accept_offers_accept_and_refuse_with_confirm_dialogs() -> None:
    record = order(*(item(str(i), ItemState.TO_ACCEPT) for i in range(3)))
    found = buttons(render(record))
    assert set(found) == {ACTION_ACCEPT, ACTION_REFUSE}
    accept, refuse = found[ACTION_ACCEPT], found[ACTION_REFUSE]
    assert accept["style"] == "primary"
    assert "charges the buyer's card" in accept["confirm"]["text"]["text"]
    assert refuse["style"] == "danger"
    assert "better for your seller score than cancelling later" in refuse["confirm"]["text"]["text"]
    assert "Refuse all 3 items?" in refuse["confirm"]["text"]["text"]
    assert decode_order_ref(accept["value"]) == OrderRef("boutique-lyon", "123456789")


def test_to_ship_offers_mark_shipped_and_show_address() -> None:
    found = buttons(render(order()))
    assert list(found) == [ACTION_MARK_SHIPPED, ACTION_SHOW_ADDRESS, ACTION_CANCEL_ITEM]
    assert found[ACTION_MARK_SHIPPED]["style"] == "primary"
    assert decode_order_ref(found[ACTION_MARK_SHIPPED]["value"]) == OrderRef("boutique-lyon", "123456789")


def test_show_address_button_is_dropped_when_the_card_already_shows_it() -> None:
    assert list(buttons(render(order(), AccountSettings(show_full_address=True)))) == [
        ACTION_MARK_SHIPPED,
        ACTION_CANCEL_ITEM,
    ]


def test_partially_shipped_still_offers_mark_shipped() -> None:
    record = order(item("1", ItemState.SHIPPED, shipment=shipment()), item("2"))
    assert ACTION_MARK_SHIPPED in buttons(render(record))


@pytest.mark.parametrize("state", [ItemState.SHIPPED, ItemState.REFUSED, ItemState.CANCELLED])
def test_final_states_have_no_buttons(state: ItemState) -> None:
    payload = render(order(item(state=state)))
    assert block(payload, "order_actions") is None
    assert not [b for b in payload["blocks"] if b["type"] == "actions"]


def test_no_ship_to_warns_and_offers_no_mark_shipped() -> None:
    payload = render(order(ship_to=None))
    assert ACTION_MARK_SHIPPED not in buttons(payload)
    warning = texts(block(payload, "order_no_address"))
    assert "No shipping address in this order" in warning
    assert "check it on Rakuten before shipping" in warning


def test_pending_accept_hides_accept_and_refuse() -> None:
    pending = PendingAction(kind=PendingKind.ACCEPT, requested_by="U0SELLER", requested_at=NOW)
    payload = render(order(item(state=ItemState.TO_ACCEPT, pending=pending)))
    assert buttons(payload) == {}
    assert "Accepting on Rakuten…" in state_line(payload)


# --- personal data --------------------------------------------------------------------------------------------


def test_street_and_phone_are_hidden_by_default() -> None:
    shown = texts(render(order())["blocks"])
    assert "rue des Lilas" not in shown
    assert "Bâtiment B" not in shown
    assert "0612345678" not in shown


def test_street_and_phone_are_shown_with_the_setting() -> None:
    shown = texts(render(order(), AccountSettings(show_full_address=True))["blocks"])
    assert "8 rue des Lilas" in shown
    assert "Bâtiment B" in shown
    assert "☎ 0612345678" in shown


def test_relay_point_is_shown_for_collection_points() -> None:
    fields = texts(block(render(order(ship_to=relay_address())), "order_fields"))
    assert "*Relay point*\nTabac de la Gare (069042)" in fields
    assert "place du Marché" not in fields


def test_purged_order_says_buyer_data_was_removed() -> None:
    payload = render(order(item(state=ItemState.SHIPPED), ship_to=None, personal_data_purged=True))
    assert "buyer data removed after retention" in texts(block(payload, "order_fields"))
    assert block(payload, "order_no_address") is None


# --- express mention ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("configured", "expected"), [("U0123ABCD", "<@U0123ABCD>"), ("S0456EFGH", "<!subteam^S0456EFGH>")]
)
def test_express_orders_mention_the_configured_user_or_group(configured: str, expected: str) -> None:
    payload = render(order(is_express=True), AccountSettings(express_mention=configured))
    assert expected in texts(block(payload, "order_mention"))
    assert expected in payload["text"]


def test_no_mention_for_standard_orders_or_finished_express_orders() -> None:
    settings = AccountSettings(express_mention="U0123ABCD")
    standard = render(order(), settings)
    shipped_express = render(order(item(state=ItemState.SHIPPED), is_express=True), settings)
    for payload in (standard, shipped_express):
        assert "<@U0123ABCD>" not in texts(payload)


# --- items ----------------------------------------------------------------------------------------------------


def test_user_controlled_text_is_escaped() -> None:
    record = order(
        item(headline="Tom & Jerry <DVD>", sku="A<1>"),
        ship_to=address(firstname="<@U999>", lastname="& Co"),
    )
    payload = render(record)
    item_text = texts(block(payload, "item_0"))
    assert "*Tom &amp; Jerry &lt;DVD&gt;*" in item_text
    assert "`A&lt;1&gt;`" in item_text
    fields = texts(block(payload, "order_fields"))
    assert "&lt;@U999&gt; &amp; Co" in fields
    assert "<@U999>" not in texts(payload)


def test_item_shows_identifiers_price_and_flags() -> None:
    record = order(item(is_preorder=True, is_nego=True, is_fulfilled_by_rakuten=True))
    item_text = texts(block(render(record), "item_0"))
    assert "SKU `SKU-9001`" in item_text
    assert "EAN `9782070360024`" in item_text
    assert "€12.50" in item_text
    for tag in ("`Pre-order`", "`Negotiated price`", "`Fulfilled by Rakuten`"):
        assert tag in item_text


def test_shipped_item_shows_carrier_linked_tracking_who_and_when() -> None:
    record = order(item("1", ItemState.SHIPPED, shipment=shipment()), item("2"))
    item_text = texts(block(render(record), "item_0"))
    assert "✅ Shipped" in item_text  # mixed states: each item says where it stands
    assert (
        "Shipped via Colissimo · <https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901|6A12345678901>"
        " · by <@U0PACKER> · Nov 28, 3:02\u202fPM"
    ) in item_text


def test_rakuten_refusal_is_shown_on_the_item() -> None:
    record = order(item(failure="Numéro de suivi invalide"))
    assert "⚠️ Rakuten refused: Numéro de suivi invalide" in texts(block(render(record), "item_0"))


def test_thirty_item_order_fits_in_fifty_blocks() -> None:
    record = order(*(item(str(1000 + i)) for i in range(30)))
    payload = render(record)
    assert len(payload["blocks"]) <= 50
    shown = texts(payload["blocks"])
    assert all(f"Livre de poche n°{1000 + i}" in shown for i in range(30))


def test_huge_order_is_grouped_and_says_how_many_items_are_left_out() -> None:
    long_headline = "Encyclopédie & atlas <édition collector> " * 4
    record = order(*(item(str(i), headline=long_headline + str(i), failure="x" * 200) for i in range(400)))
    payload = render(record)
    assert len(payload["blocks"]) <= 50
    more = texts(block(payload, "order_items_more"))
    assert "more items" in more
    shown_items = sum(texts(b).count("⚠️ Rakuten refused") for b in payload["blocks"])
    assert shown_items >= 20  # the buttons' confirmation texts take their share of the budget
    assert f"…and {400 - shown_items} more items" in more
    assert blocks_text_length(build_order_card(record, AccountSettings(), now=NOW, t=EN).blocks) <= MESSAGE_TEXT_BUDGET


def test_an_order_of_sixty_ordinary_items_shows_them_all() -> None:
    record = order(*(item(str(1000 + i), headline=f"Le Petit Prince, tome {i} (poche)") for i in range(60)))
    payload = render(record)
    assert all(f"tome {i} (poche)" in texts(payload["blocks"]) for i in range(60))
    assert block(payload, "order_items_more") is None


# --- fingerprint ----------------------------------------------------------------------------------------------


def test_the_card_does_not_change_with_time_alone_and_passing_the_deadline_forces_no_update() -> None:
    record = order(item(state=ItemState.TO_ACCEPT))
    early = build_order_card(record, AccountSettings(), now=NOW, t=EN)
    later = build_order_card(record, AccountSettings(), now=NOW + timedelta(hours=5), t=EN)
    overdue = build_order_card(record, AccountSettings(), now=NOW + timedelta(days=5), t=EN)
    assert early.as_kwargs() == later.as_kwargs()
    assert overdue.as_kwargs()["blocks"] != early.as_kwargs()["blocks"]  # says "deadline passed" when re-rendered
    assert early.fingerprint == later.fingerprint == overdue.fingerprint


def test_fingerprint_changes_when_the_order_changes_state() -> None:
    record = order(item(state=ItemState.TO_ACCEPT))
    before = build_order_card(record, AccountSettings(), now=NOW, t=EN).fingerprint
    record.items[0].state = ItemState.TO_SHIP
    after_accept = build_order_card(record, AccountSettings(), now=NOW, t=EN).fingerprint
    record.items[0].pending = PendingAction(kind=PendingKind.SHIP, requested_by="U0PACKER", requested_at=NOW)
    sending = build_order_card(record, AccountSettings(), now=NOW, t=EN).fingerprint
    assert len({before, after_accept, sending}) == 3


def test_fingerprint_changes_with_settings_that_change_the_card() -> None:
    record = order()
    hidden = build_order_card(record, AccountSettings(), now=NOW, t=EN)
    shown = build_order_card(record, AccountSettings(show_full_address=True), now=NOW, t=EN)
    assert hidden.fingerprint != shown.fingerprint


def test_card_is_a_frozen_value_with_models_inside() -> None:
    card = build_order_card(order(), AccountSettings(), now=NOW, t=EN)
    assert isinstance(card, OrderCard)
    assert card.to_dict() == card.as_kwargs()
    with pytest.raises(AttributeError):
        card.text = "changed"  # type: ignore[misc]


def test_a_prepaid_label_is_linked_with_its_tracking_number_while_the_order_is_open() -> None:
    record = order(item("1"), shipping_type="So Colissimo")
    record.prepaid_label = PrepaidLabel(
        "https://etiquettes.example/42.pdf", "6A00000000042", "https://track.example/42"
    )

    fields = texts(block(render(record), "order_fields"))
    assert "<https://etiquettes.example/42.pdf|🏷️ Print the label>" in fields
    assert "<https://track.example/42|`6A00000000042`>" in fields

    record.items[0].state = ItemState.SHIPPED
    assert "Print the label" not in texts(block(render(record), "order_fields"))
