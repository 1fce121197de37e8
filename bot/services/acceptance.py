"""Accept or refuse a new sale: ``acceptsale`` / ``refusesale`` for each item still awaiting the decision.

Accepting charges the buyer's card; refusing now is better for the seller's score than cancelling later
(the card's confirmation dialogs say so). Auto-accept, when an account turns it on, accepts new sales as the
poller finds them, except negotiated prices, which Rakuten wants answered on its site.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.domain.accounts import AccountRecord
from bot.domain.orders import OrderRecord, OrderRef, OrderState, PendingKind
from bot.domain.sentences import Sentence, counted, said
from bot.services.item_actions import ItemActions, Submission
from bot.services.orders import OrderDesk
from bot.store.base import Store

logger = logging.getLogger(__name__)

AUTO_ACCEPT_ACTOR = "auto-accept"


class AcceptanceService:
    def __init__(self, *, store: Store, desk: OrderDesk, actions: ItemActions, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._desk = desk
        self._actions = actions
        self._clock = clock

    def accept(self, user_id: str, ref: OrderRef | None) -> Submission:
        """Claim the sale's items for acceptance (before the ack); ``start`` sends them."""
        return self._decide(user_id, ref, PendingKind.ACCEPT)

    def refuse(self, user_id: str, ref: OrderRef | None) -> Submission:
        """Claim the sale's items for refusal (before the ack); ``start`` sends them."""
        return self._decide(user_id, ref, PendingKind.REFUSE)

    def start(self, submission: Submission) -> Sentence | None:
        """After the ack: update the card and send the claimed items; returns what to tell the user."""
        self._actions.start(submission.claim)
        return submission.answer

    def auto_accept(self, account: AccountRecord, orders: list[OrderRecord]) -> None:
        """Poller hook: accept the new sales of an account that chose auto-accept (negotiated prices excepted)."""
        if not account.settings.auto_accept:
            return
        for order in orders:
            if order.state is OrderState.TO_ACCEPT and not any(item.is_nego for item in order.items):
                self._actions.request(order, PendingKind.ACCEPT, AUTO_ACCEPT_ACTOR)

    def _decide(self, user_id: str, ref: OrderRef | None, kind: PendingKind) -> Submission:
        access = self._desk.access(user_id, ref)
        if not access.allowed:
            return Submission(access.refusal or said("You cannot act on this order."))
        order = access.order
        assert order is not None
        claim = self._actions.claim(order, kind, user_id)
        if not claim:
            return Submission(
                said(
                    "Order {purchaseid} has no item waiting for a decision any more. Nothing sent twice.",
                    purchaseid=order.purchaseid,
                )
            )
        count, purchaseid = len(claim.itemids), order.purchaseid
        if kind is PendingKind.ACCEPT:
            answer = counted(
                "Accepting order {purchaseid} ({count} item) on Rakuten…",
                "Accepting order {purchaseid} ({count} items) on Rakuten…",
                count,
                purchaseid=purchaseid,
            )
        else:
            answer = counted(
                "Refusing order {purchaseid} ({count} item) on Rakuten…",
                "Refusing order {purchaseid} ({count} items) on Rakuten…",
                count,
                purchaseid=purchaseid,
            )
        return Submission(answer, claim)
