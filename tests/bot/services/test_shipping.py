from __future__ import annotations

from unittest.mock import Mock

import pytest

from bot.domain.orders import ItemState, OrderRef, PendingAction, PendingKind, ShipmentDraft
from bot.services.orders import OrderDesk
from bot.services.permissions import Decision
from bot.services.shipping import SHIP_USAGE, ShippingService
from bot.store import TinyDBStore
from bot.ui.refs import ShipModalMetadata
from bot.ui.ship_modal import ShipForm
from tests.bot.services.conftest import LOGIN, SELLER, START, Clock, make_account, make_item, make_order

PURCHASE = "480000001"
FROM_CARD = ShipModalMetadata(LOGIN, PURCHASE, "C0ORDERS", "1.000001")


@pytest.fixture
def service(store: TinyDBStore, permissions: Mock, actions: Mock, clock: Clock) -> ShippingService:
    store.save_account(make_account())
    return ShippingService(store=store, desk=OrderDesk(store, permissions), actions=actions, clock=clock)


def form(
    carrier: str | None = "Colissimo",
    number: str = "6A12345678901",
    url: str | None = None,
    itemids: tuple[str, ...] | None = None,
    *,
    metadata: ShipModalMetadata | None = FROM_CARD,
) -> ShipmentDraft:
    return ShipForm(carrier=carrier, tracking_number=number, tracking_url=url, itemids=itemids, metadata=metadata).draft


def ship(service: ShippingService, user: str, arguments: str) -> str | None:
    """``/rakuten ship``: claimed before the ack, started after it; the answer to the user."""
    answer = service.start(service.ship_command(user, arguments))
    return None if answer is None else str(answer)


def two_items(store: TinyDBStore) -> None:
    store.save_order(make_order(PURCHASE, make_item("9001"), make_item("9002")))


# --- validation of the modal (prepare) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("submitted", "field", "words"),
    [
        (form(carrier=None), "carrier", "Choose the carrier"),
        (form(carrier="Pigeon voyageur"), "carrier", "not a carrier Rakuten knows"),
        (form(number=""), "tracking_number", "Enter the tracking number"),
        (form(number="12 34"), "tracking_number", "6 to 40 characters"),
        (form(number="ABC#123456"), "tracking_number", "letters, digits and hyphens"),
        (form(number="12345"), "tracking_number", "6 to 40"),
        (form(number="XYZ"), "tracking_number", "6 to 40"),
        (form(carrier="Colissimo", number="ABCDEFGHIJ"), "tracking_number", "Colissimo tracking number"),
        (form(carrier="Autre", number="ABC123456"), "tracking_url", "required when the carrier is “Autre”"),
        (form(carrier="Autre", number="ABC123456", url="suivi.example.fr/1"), "tracking_url", "https://"),
        (form(carrier="Autre", number="ABC123456", url="https://a b.fr"), "tracking_url", "spaces"),
        (form(itemids=()), "items", "at least one item"),
        (form(itemids=("9001", "7777")), "items", "not part of this order"),
    ],
)
def test_each_invalid_field_gets_its_own_error(
    service: ShippingService, store: TinyDBStore, actions: Mock, submitted: ShipmentDraft, field: str, words: str
) -> None:
    two_items(store)

    result = service.prepare(SELLER, submitted)

    assert list(result.field_errors) == [field]
    assert words in str(result.field_errors[field])
    assert result.request is None
    actions.send.assert_not_called()


def test_a_valid_form_becomes_a_request_for_the_chosen_items(service: ShippingService, store: TinyDBStore) -> None:
    two_items(store)

    result = service.prepare(SELLER, form(carrier="colissimo", number="6a 1234 5678 901", itemids=("9002",)))

    assert result.field_errors == {}
    assert result.request is not None
    assert result.request.itemids == frozenset({"9002"})
    assert (result.request.tracking.carrier, result.request.tracking.number) == ("Colissimo", "6A12345678901")
    assert result.request.user_id == SELLER


def test_without_an_item_choice_every_shippable_item_is_shipped(service: ShippingService, store: TinyDBStore) -> None:
    store.save_order(make_order(PURCHASE, make_item("9001"), make_item("9002"), make_item("9003", ItemState.SHIPPED)))

    result = service.prepare(SELLER, form())

    assert result.request is not None
    assert result.request.itemids == frozenset({"9001", "9002"})


def test_a_form_without_metadata_or_for_a_forbidden_user_sends_nothing(
    service: ShippingService, store: TinyDBStore, permissions: Mock
) -> None:
    two_items(store)

    lost = service.prepare(SELLER, form(metadata=None))
    assert lost.message is not None
    assert "lost track of its order" in str(lost.message)

    permissions.order_decision.return_value = Decision(False, "Only members of <#C0ORDERS> can act on these orders.")
    refused = service.prepare("U0OUTSIDER", form())
    assert str(refused.message) == "Only members of <#C0ORDERS> can act on these orders."
    assert refused.request is None
    assert refused.field_errors == {}


@pytest.mark.parametrize(
    ("items", "with_address", "why"),
    [
        ((make_item("9001", ItemState.TO_ACCEPT),), True, "must be accepted before it can be shipped"),
        ((make_item("9001", ItemState.SHIPPED),), True, "nothing left to ship"),
        (
            (make_item("9001", pending=PendingAction(PendingKind.SHIP, SELLER, START)),),
            True,
            "already being sent to Rakuten",
        ),
        ((make_item("9001"),), False, "no shipping address"),
    ],
)
def test_an_order_that_cannot_be_shipped_says_why(
    service: ShippingService, store: TinyDBStore, items: tuple, with_address: bool, why: str
) -> None:
    store.save_order(make_order(PURCHASE, *items, with_address=with_address))

    plan = service.plan(SELLER, OrderRef(LOGIN, PURCHASE))
    result = service.prepare(SELLER, form())

    assert plan.refusal is not None
    assert why in str(plan.refusal)
    assert result.message == plan.refusal


def test_the_modal_preselects_the_carrier_the_shipping_type_implies(
    service: ShippingService, store: TinyDBStore
) -> None:
    store.save_order(make_order(PURCHASE, shipping_type="Point Relais Mondial Relay"))

    plan = service.plan(SELLER, OrderRef(LOGIN, PURCHASE))

    assert plan.refusal is None
    assert plan.preselected_carrier == "Mondial Relay"
    assert plan.access.order is not None


# --- claiming (submit, before the ack) and sending (start, after it) --------------------------------------


def test_submit_claims_the_items_once_and_start_sends_them(
    service: ShippingService, store: TinyDBStore, actions: Mock
) -> None:
    two_items(store)
    request = service.prepare(SELLER, form()).request
    assert request is not None

    submission = service.submit(request)

    # Stored before the ack, nothing sent yet: a crash now leaves the claim for the next start to resume.
    assert all(item.pending is not None for item in store.get_order(LOGIN, PURCHASE).items)  # type: ignore[union-attr]
    actions.send.assert_not_called()
    actions.refresh_card.assert_not_called()

    answer = service.start(submission)

    assert str(answer) == f"Sending Colissimo 6A12345678901 to Rakuten for order {PURCHASE} (2 items)."
    order = store.get_order(LOGIN, PURCHASE)
    assert order is not None
    for item in order.items:
        assert item.pending is not None
        assert item.pending.kind is PendingKind.SHIP
        assert item.pending.requested_by == SELLER
        assert item.pending.shipment is not None
        assert (item.pending.shipment.carrier, item.pending.shipment.tracking_number) == ("Colissimo", "6A12345678901")
    actions.refresh_card.assert_called_once_with(LOGIN, PURCHASE)
    actions.send.assert_called_once()
    assert sorted(actions.send.call_args.args[2]) == ["9001", "9002"]
    (audit,) = store.list_audit(purchaseid=PURCHASE)
    assert (audit.action, audit.actor, audit.detail) == ("ship_requested", SELLER, "Colissimo 6A12345678901")

    again = service.start(service.submit(request))  # a repeated submit of the same modal

    assert again is not None
    assert "Nothing was sent twice" in str(again)
    assert actions.send.call_count == 1
    assert len(store.list_audit(purchaseid=PURCHASE)) == 1


# --- /rakuten ship ORDER CARRIER TRACKING [URL] ------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "carrier", "number", "url"),
    [
        (f"{PURCHASE} Colissimo 6A12345678901", "Colissimo", "6A12345678901", None),
        (f"{PURCHASE} Mondial Relay 12345678", "Mondial Relay", "12345678", None),
        (f'{PURCHASE} "Mondial Relay" 12345678', "Mondial Relay", "12345678", None),
        (f"{PURCHASE} 'So Colissimo' 6A12345678901", "So Colissimo", "6A12345678901", None),
        (f"{PURCHASE} Mondial Relay prépayé 123456789", "Mondial Relay prépayé", "123456789", None),
        (
            f"{PURCHASE} Autre XK-5544 https://track.example/XK-5544",
            "Autre",
            "XK-5544",
            "https://track.example/XK-5544",
        ),
        (f"  {PURCHASE}   DPD   0912345678  ", "DPD", "0912345678", None),
    ],
)
def test_ship_command_parses_order_carrier_tracking_and_url(
    service: ShippingService,
    store: TinyDBStore,
    actions: Mock,
    arguments: str,
    carrier: str,
    number: str,
    url: str | None,
) -> None:
    store.save_order(make_order(PURCHASE))

    answer = ship(service, SELLER, arguments)

    assert answer.startswith(f"Sending {carrier} {number} to Rakuten for order {PURCHASE}")
    order = store.get_order(LOGIN, PURCHASE)
    assert order is not None
    shipment = order.items[0].pending.shipment  # type: ignore[union-attr]
    assert shipment is not None
    assert (shipment.carrier, shipment.tracking_number, shipment.tracking_url) == (carrier, number, url)
    actions.send.assert_called_once_with(LOGIN, PURCHASE, ["9001"])


def test_an_unbalanced_quote_falls_back_to_plain_words(
    service: ShippingService, store: TinyDBStore, actions: Mock
) -> None:
    store.save_order(make_order(PURCHASE))

    answer = ship(service, SELLER, f'{PURCHASE} "Mondial Relay 12345678')

    # shlex gives up on the quote; plain words still name the carrier (punctuation never tells carriers apart).
    assert answer.startswith(f"Sending Mondial Relay 12345678 to Rakuten for order {PURCHASE}")
    actions.send.assert_called_once_with(LOGIN, PURCHASE, ["9001"])


@pytest.mark.parametrize("arguments", ["", PURCHASE, f"{PURCHASE} Colissimo"])
def test_too_few_words_get_the_usage(service: ShippingService, actions: Mock, arguments: str) -> None:
    assert ship(service, SELLER, arguments) == str(SHIP_USAGE)
    actions.send.assert_not_called()


def test_ship_command_errors_list_what_to_fix(service: ShippingService, store: TinyDBStore, actions: Mock) -> None:
    store.save_order(make_order(PURCHASE))

    answer = ship(service, SELLER, f"{PURCHASE} Autre XK55443322")

    assert answer.startswith("• A tracking URL is required")
    assert answer.endswith(str(SHIP_USAGE))
    actions.send.assert_not_called()


def test_ship_command_for_an_unknown_or_forbidden_order(
    service: ShippingService, store: TinyDBStore, permissions: Mock, actions: Mock
) -> None:
    store.save_order(make_order(PURCHASE))

    assert "I know no order 999" in ship(service, SELLER, "999 Colissimo 6A12345678901")
    permissions.order_decision.return_value = Decision(False, "Only members of <#C0ORDERS> can act on these orders.")
    assert ship(service, "U0OUTSIDER", f"{PURCHASE} Colissimo 6A12345678901") == (
        "Only members of <#C0ORDERS> can act on these orders."
    )
    actions.send.assert_not_called()


def test_ship_command_refuses_an_order_found_in_two_accounts(
    service: ShippingService, store: TinyDBStore, actions: Mock
) -> None:
    store.save_account(make_account("other-shop"))
    store.save_order(make_order(PURCHASE))
    store.save_order(make_order(PURCHASE, login="other-shop"))

    answer = ship(service, SELLER, f"{PURCHASE} Colissimo 6A12345678901")

    assert "Several accounts have an order" in answer
    actions.send.assert_not_called()
