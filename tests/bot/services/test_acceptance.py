from __future__ import annotations

from unittest.mock import Mock

import pytest

from bot.domain.orders import ItemState, OrderRef, PendingAction, PendingKind
from bot.services.acceptance import AUTO_ACCEPT_ACTOR, AcceptanceService
from bot.services.orders import OrderDesk
from bot.services.permissions import Decision
from bot.store import TinyDBStore
from tests.bot.services.conftest import LOGIN, SELLER, START, Clock, make_account, make_item, make_order

PURCHASE = "480000001"
REF = OrderRef(LOGIN, PURCHASE)


@pytest.fixture
def service(store: TinyDBStore, permissions: Mock, actions: Mock, clock: Clock) -> AcceptanceService:
    store.save_account(make_account())
    return AcceptanceService(store=store, desk=OrderDesk(store, permissions), actions=actions, clock=clock)


def decide(service: AcceptanceService, decision: str, user: str, ref: OrderRef | None) -> str | None:
    """A click: claimed before the ack, started after it; the answer to the clicker (in English)."""
    answer = service.start(getattr(service, decision)(user, ref))
    return None if answer is None else str(answer)


def new_sale(store: TinyDBStore, purchaseid: str = PURCHASE, *, nego: bool = False) -> None:
    store.save_order(
        make_order(
            purchaseid,
            make_item("9001", ItemState.TO_ACCEPT, is_nego=nego),
            make_item("9002", ItemState.TO_ACCEPT),
            make_item("9003", ItemState.REFUSED),
        )
    )


@pytest.mark.parametrize(
    ("decision", "kind", "verb"),
    [("accept", PendingKind.ACCEPT, "Accepting"), ("refuse", PendingKind.REFUSE, "Refusing")],
)
def test_a_decision_claims_each_item_awaiting_it_and_sends_them(
    service: AcceptanceService, store: TinyDBStore, actions: Mock, decision: str, kind: PendingKind, verb: str
) -> None:
    new_sale(store)

    submission = getattr(service, decision)(SELLER, REF)

    # Claimed (stored) before the ack; nothing is sent until it is started after the ack.
    actions.send.assert_not_called()
    answer = service.start(submission)

    assert str(answer) == f"{verb} order {PURCHASE} (2 items) on Rakuten…"
    order = store.get_order(LOGIN, PURCHASE)
    assert order is not None
    pending = {item.itemid: item.pending for item in order.items}
    assert pending["9003"] is None  # already refused: not claimed
    for itemid in ("9001", "9002"):
        claim = pending[itemid]
        assert claim is not None
        assert (claim.kind, claim.requested_by, claim.requested_at) == (kind, SELLER, START)
    actions.refresh_card.assert_called_once_with(LOGIN, PURCHASE)
    actions.send.assert_called_once_with(LOGIN, PURCHASE, ["9001", "9002"])
    (audit,) = store.list_audit(purchaseid=PURCHASE)
    assert (audit.action, audit.actor, audit.itemids) == (f"{kind.value}_requested", SELLER, ("9001", "9002"))


def test_a_second_click_sends_nothing_twice(service: AcceptanceService, store: TinyDBStore, actions: Mock) -> None:
    new_sale(store)
    decide(service, "accept", SELLER, REF)

    again = decide(service, "accept", SELLER, REF)
    refuse_after = decide(service, "refuse", SELLER, REF)

    assert again is not None
    assert refuse_after is not None
    assert "no item waiting for a decision any more. Nothing sent twice." in again
    assert "Nothing sent twice" in refuse_after
    assert actions.send.call_count == 1
    assert len(store.list_audit(purchaseid=PURCHASE)) == 1


def test_an_item_left_with_a_failure_is_claimed_again_and_the_failure_cleared(
    service: AcceptanceService, store: TinyDBStore, actions: Mock
) -> None:
    store.save_order(make_order(PURCHASE, make_item("9001", ItemState.TO_ACCEPT, failure="Rakuten said no")))

    decide(service, "accept", SELLER, REF)

    order = store.get_order(LOGIN, PURCHASE)
    assert order is not None
    assert order.items[0].failure is None
    assert order.items[0].pending is not None
    actions.send.assert_called_once()


def test_a_pending_item_is_not_claimed_by_the_other_decision(
    service: AcceptanceService, store: TinyDBStore, actions: Mock
) -> None:
    store.save_order(
        make_order(
            PURCHASE,
            make_item("9001", ItemState.TO_ACCEPT, pending=PendingAction(PendingKind.ACCEPT, "U0OTHER", START)),
        )
    )

    assert "Nothing sent twice" in (decide(service, "refuse", SELLER, REF) or "")
    actions.send.assert_not_called()


def test_refusals_of_access_are_returned_and_nothing_is_claimed(
    service: AcceptanceService, store: TinyDBStore, permissions: Mock, actions: Mock
) -> None:
    new_sale(store)
    permissions.order_decision.return_value = Decision(False, "Only members of <#C0ORDERS> can act on these orders.")

    assert decide(service, "accept", "U0OUTSIDER", REF) == "Only members of <#C0ORDERS> can act on these orders."
    assert decide(service, "refuse", SELLER, None) == "That button no longer points to an order I know."
    assert "is not in my records" in (decide(service, "accept", SELLER, OrderRef(LOGIN, "999")) or "")
    assert "is not connected any more" in (decide(service, "accept", SELLER, OrderRef("gone-shop", PURCHASE)) or "")
    actions.send.assert_not_called()
    order = store.get_order(LOGIN, PURCHASE)
    assert order is not None
    assert all(item.pending is None for item in order.items)


# --- auto-accept ------------------------------------------------------------------------------------------


def test_auto_accept_does_nothing_unless_the_account_asked_for_it(
    service: AcceptanceService, store: TinyDBStore, actions: Mock
) -> None:
    new_sale(store)
    order = store.get_order(LOGIN, PURCHASE)
    assert order is not None

    service.auto_accept(make_account(auto_accept=False), [order])

    actions.send.assert_not_called()


def test_auto_accept_accepts_new_sales_except_negotiated_prices(
    service: AcceptanceService, store: TinyDBStore, actions: Mock, permissions: Mock
) -> None:
    new_sale(store, "480000001")
    new_sale(store, "480000002", nego=True)
    store.save_order(make_order("480000003", make_item("9101")))  # already accepted
    orders = store.list_orders(LOGIN)

    service.auto_accept(make_account(auto_accept=True), orders)

    actions.send.assert_called_once_with(LOGIN, "480000001", ["9001", "9002"])
    (audit,) = store.list_audit(purchaseid="480000001")
    assert audit.actor == AUTO_ACCEPT_ACTOR
    assert store.list_audit(purchaseid="480000002") == []
    permissions.order_decision.assert_not_called()  # the poller is not a Slack user
