from __future__ import annotations

from typing import Any

from bot.constants import (
    ACTION_CARRIER,
    ACTION_ITEMS,
    ACTION_TRACKING_NUMBER,
    ACTION_TRACKING_URL,
    BLOCK_CARRIER,
    BLOCK_ITEMS,
    BLOCK_TRACKING_NUMBER,
    BLOCK_TRACKING_URL,
    VIEW_SHIP,
)
from bot.domain.orders import ItemState, OrderRecord, PendingAction, PendingKind, PrepaidLabel
from bot.domain.sentences import said
from bot.ui.refs import ShipModalMetadata
from bot.ui.ship_modal import build_ship_modal, read_ship_submission, ship_errors
from devkit.block_kit_limits import view_problems
from tests.factories import NOW, item, order, relay_address, shipment, texts
from tests.i18n import EN, FR

CARRIERS = ("Colissimo", "Chronopost", "Mondial Relay", "DPD", "Autre")
METADATA = ShipModalMetadata("boutique-lyon", "123456789", "C0ORDERS", "1700000000.000100")


def modal(record: OrderRecord, preselected: str | None = None) -> dict[str, Any]:
    view = build_ship_modal(EN, record, METADATA, preselected_carrier=preselected, carriers=CARRIERS).to_dict()
    assert view_problems(view, "modal") == []
    return view


def input_block(view: dict[str, Any], block_id: str) -> dict[str, Any] | None:
    return next((b for b in view["blocks"] if b.get("block_id") == block_id and b["type"] == "input"), None)


def test_modal_has_title_submit_callback_and_metadata() -> None:
    view = modal(order())
    assert view["callback_id"] == VIEW_SHIP
    assert view["title"]["text"] == "Mark shipped"
    assert view["submit"]["text"] == "Send to Rakuten"
    assert ShipModalMetadata.decode(view["private_metadata"]) == METADATA


def test_carrier_select_lists_the_given_carriers_and_preselects_case_insensitively() -> None:
    view = modal(order(), preselected="mondial relay")
    element = input_block(view, BLOCK_CARRIER)["element"]
    assert element["action_id"] == ACTION_CARRIER
    assert [option["value"] for option in element["options"]] == list(CARRIERS)
    assert element["initial_option"]["value"] == "Mondial Relay"


def test_no_initial_carrier_when_none_or_unknown() -> None:
    assert "initial_option" not in input_block(modal(order()), BLOCK_CARRIER)["element"]
    assert "initial_option" not in input_block(modal(order(), preselected="Pigeon"), BLOCK_CARRIER)["element"]


def test_tracking_inputs_with_url_optional_and_hinted_for_autre() -> None:
    view = modal(order())
    number = input_block(view, BLOCK_TRACKING_NUMBER)
    url = input_block(view, BLOCK_TRACKING_URL)
    assert number["element"]["action_id"] == ACTION_TRACKING_NUMBER
    assert not number.get("optional")
    assert url["optional"] is True
    assert url["hint"]["text"] == "Required when the carrier is Autre"


def test_single_item_order_has_no_item_choice() -> None:
    assert input_block(modal(order()), BLOCK_ITEMS) is None


def test_several_items_offer_checkboxes_of_unshipped_items_all_ticked() -> None:
    record = order(
        item("1", ItemState.SHIPPED, shipment=shipment()),
        item("2"),
        item("3", headline="Tom & Jerry <DVD>"),
        item("4", pending=PendingAction(kind=PendingKind.SHIP, requested_by="U0PACKER", requested_at=NOW)),
    )
    block = input_block(modal(record), BLOCK_ITEMS)
    element = block["element"]
    assert element["type"] == "checkboxes"
    assert element["action_id"] == ACTION_ITEMS
    assert [option["value"] for option in element["options"]] == ["2", "3"]
    assert element["initial_options"] == element["options"]
    assert element["options"][1]["text"] == {"type": "plain_text", "text": "Tom & Jerry <DVD> · SKU-3"}
    assert "2 items already shipped" in block["hint"]["text"]


def test_more_than_ten_items_switch_to_a_multi_select() -> None:
    record = order(*(item(str(i)) for i in range(12)))
    element = input_block(modal(record), BLOCK_ITEMS)["element"]
    assert element["type"] == "multi_static_select"
    assert len(element["options"]) == 12
    assert len(element["initial_options"]) == 12


def test_an_item_whose_title_is_blank_is_offered_as_untitled() -> None:
    # Slack refuses an option with empty text, and the whole modal with it.
    view = modal(order(item("1", headline="   ", sku=None), item("2", headline=" \t", sku="SKU-2")))
    options = input_block(view, BLOCK_ITEMS)["element"]["options"]
    assert [option["text"]["text"] for option in options] == ["Untitled item", "Untitled item · SKU-2"]


def test_context_shows_order_id_and_ship_to_city() -> None:
    view = modal(order(ship_to=relay_address(), is_express=True))
    context = texts(view["blocks"][0])
    assert "123456789" in context
    assert "69003 Lyon" in context
    assert "Tabac de la Gare" in context
    assert "⚡" in context
    assert "Martin" not in context


def _submitted(values: dict[str, Any], metadata: str | None = None) -> dict[str, Any]:
    return {
        "id": "V0MODAL",
        "type": "modal",
        "callback_id": VIEW_SHIP,
        "private_metadata": metadata if metadata is not None else METADATA.encode(),
        "state": {"values": values},
    }


def test_reads_a_full_submission() -> None:
    values = {
        BLOCK_CARRIER: {
            ACTION_CARRIER: {
                "type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": "Autre"}, "value": "Autre"},
            }
        },
        BLOCK_TRACKING_NUMBER: {ACTION_TRACKING_NUMBER: {"type": "plain_text_input", "value": "  XY123456  "}},
        BLOCK_TRACKING_URL: {ACTION_TRACKING_URL: {"type": "plain_text_input", "value": "https://t.example/XY123456"}},
        BLOCK_ITEMS: {
            ACTION_ITEMS: {
                "type": "checkboxes",
                "selected_options": [{"value": "2"}, {"value": "3"}, {"value": "2"}],
            }
        },
    }
    form = read_ship_submission(_submitted(values))
    assert form.carrier == "Autre"
    assert form.tracking_number == "XY123456"
    assert form.tracking_url == "https://t.example/XY123456"
    assert form.itemids == ("2", "3")
    assert form.metadata == METADATA


def test_reads_a_submission_with_optional_fields_left_empty_and_no_item_block() -> None:
    values = {
        BLOCK_CARRIER: {ACTION_CARRIER: {"type": "static_select", "selected_option": None}},
        BLOCK_TRACKING_NUMBER: {ACTION_TRACKING_NUMBER: {"type": "plain_text_input", "value": "6A12345678901"}},
        BLOCK_TRACKING_URL: {ACTION_TRACKING_URL: {"type": "plain_text_input", "value": None}},
    }
    form = read_ship_submission(_submitted(values))
    assert form.carrier is None
    assert form.tracking_url is None
    assert form.itemids is None


def test_no_items_ticked_reads_as_an_empty_choice_not_as_all() -> None:
    values = {BLOCK_ITEMS: {ACTION_ITEMS: {"type": "checkboxes", "selected_options": []}}}
    assert read_ship_submission(_submitted(values)).itemids == ()


def test_malformed_submissions_read_as_empty_forms() -> None:
    form = read_ship_submission({"private_metadata": "garbage", "state": {"values": {BLOCK_CARRIER: "oops"}}})
    assert form.carrier is None
    assert form.tracking_number == ""
    assert form.metadata is None
    assert read_ship_submission({}).itemids is None


def test_ship_errors_are_keyed_by_input_block_ids_in_the_user_s_language() -> None:
    errors = ship_errors(EN, {"carrier": "Pick a carrier", "tracking_url": "Required for Autre"})
    assert errors == {BLOCK_CARRIER: "Pick a carrier", BLOCK_TRACKING_URL: "Required for Autre"}
    assert ship_errors(EN, {BLOCK_TRACKING_NUMBER: "Too short"}) == {BLOCK_TRACKING_NUMBER: "Too short"}
    assert ship_errors(FR, {"carrier": said("Choose the carrier.")}) == {BLOCK_CARRIER: "Choisissez le transporteur."}


def test_ship_error_for_a_block_the_modal_lacks_is_moved_not_lost() -> None:
    view = modal(order())  # one item: no item checkboxes
    errors = ship_errors(EN, {"items": "Pick at least one item", "tracking_number": "Too short"}, view=view)
    assert errors == {BLOCK_TRACKING_NUMBER: "Pick at least one item Too short"}


def test_a_prepaid_label_prefills_the_tracking_number_and_says_where_it_comes_from() -> None:
    record = order(item("1"), shipping_type="So Colissimo")
    record.prepaid_label = PrepaidLabel("https://etiquettes.example/1.pdf", "6A00000000017", None)

    number_input = next(b for b in modal(record, "So Colissimo")["blocks"] if b["block_id"] == BLOCK_TRACKING_NUMBER)

    assert number_input["element"]["initial_value"] == "6A00000000017"
    assert "prepaid label" in number_input["hint"]["text"]
    plain = next(b for b in modal(order(item("1")))["blocks"] if b["block_id"] == BLOCK_TRACKING_NUMBER)
    assert "initial_value" not in plain["element"]
