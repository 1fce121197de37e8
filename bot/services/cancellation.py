"""Cancel item: ``cancelitem`` for an accepted item the seller cannot ship, with the reason Rakuten passes on to the
buyer. The card asks for confirmation first (cancelling refunds the buyer and counts against the seller's score),
then a modal takes the items and the reason. Who may cancel is who may ship. The items are claimed before Slack
gets its ack and sent like Mark shipped (``item_actions``): once, in the background, each try recorded first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.orders import ItemState, OrderItem, OrderRecord, OrderRef, PendingKind, shippable_items
from bot.domain.sentences import Sentence, counted, said
from bot.services.item_actions import ItemActions, Submission
from bot.services.orders import OrderAccess, OrderDesk
from rakuten.after_sale import CANCEL_COMMENT_MAX


@dataclass(frozen=True, slots=True)
class CancelPlan:
    access: OrderAccess
    items: tuple[OrderItem, ...] = ()
    refusal: Sentence | None = None


@dataclass(frozen=True, slots=True)
class CancelDraft:
    """A submitted Cancel item modal; ``itemids`` None: the modal offered no choice (one item)."""

    ref: OrderRef | None
    itemids: tuple[str, ...] | None
    reason: str


@dataclass(frozen=True, slots=True)
class CancelResult:
    field_errors: dict[str, Sentence] = field(default_factory=dict)
    submission: Submission | None = None


class CancelService:
    def __init__(self, *, desk: OrderDesk, actions: ItemActions) -> None:
        self._desk = desk
        self._actions = actions

    def plan(self, user_id: str, ref: OrderRef | None) -> CancelPlan:
        access = self._desk.access(user_id, ref)
        if not access.allowed:
            return CancelPlan(access, refusal=access.refusal)
        order = access.order
        assert order is not None
        items = cancellable_items(order)
        if not items:
            return CancelPlan(access, refusal=_why_not(order))
        return CancelPlan(access, tuple(items))

    def prepare(self, user_id: str, draft: CancelDraft) -> CancelResult:
        """Check the form and claim the items (fast: before the view submission is acked)."""
        if draft.ref is None:
            message = said("This form lost track of its order; open Cancel item again from the card.")
            return CancelResult(submission=Submission(message))
        access = self._desk.access(user_id, draft.ref)
        if not access.allowed:
            return CancelResult(submission=Submission(access.refusal))
        order = access.order
        assert order is not None
        cancellable = {item.itemid for item in cancellable_items(order)}
        if not cancellable:
            return CancelResult(submission=Submission(_why_not(order)))
        wanted = set(draft.itemids) if draft.itemids is not None else cancellable
        if not wanted:
            return CancelResult(field_errors={"items": said("Choose at least one item to cancel.")})
        reason = draft.reason.strip()
        if not reason:
            return CancelResult(field_errors={"reason": said("Give the reason: Rakuten passes it on to the buyer.")})
        if len(reason) > CANCEL_COMMENT_MAX:
            problem = said(
                "Rakuten takes at most {limit} characters; this reason has {length}.",
                limit=CANCEL_COMMENT_MAX,
                length=len(reason),
            )
            return CancelResult(field_errors={"reason": problem})
        claim = self._actions.claim(
            order, PendingKind.CANCEL, user_id, itemids=wanted & cancellable, comment=reason, detail=reason
        )
        if not claim:
            message = said(
                "Order {purchaseid}: those items are already cancelled, shipped or on their way to Rakuten. "
                "Nothing was sent twice.",
                purchaseid=order.purchaseid,
            )
            return CancelResult(submission=Submission(message))
        answer = counted(
            "Cancelling {count} item of order {purchaseid} on Rakuten…",
            "Cancelling {count} items of order {purchaseid} on Rakuten…",
            len(claim.itemids),
            purchaseid=order.purchaseid,
        )
        return CancelResult(submission=Submission(answer, claim))

    def start(self, submission: Submission) -> Sentence | None:
        """After the ack: update the card and send the claimed items; returns what to tell the user."""
        self._actions.start(submission.claim)
        return submission.answer


def cancellable_items(order: OrderRecord) -> list[OrderItem]:
    """Accepted, not shipped, nothing on its way to Rakuten for it."""
    return shippable_items(order)


def _why_not(order: OrderRecord) -> Sentence:
    if any(item.state is ItemState.TO_ACCEPT for item in order.items):
        return said(
            "Order {purchaseid} is not accepted yet: refuse it instead (better for your seller score).",
            purchaseid=order.purchaseid,
        )
    return said("Order {purchaseid} has no accepted item left to cancel.", purchaseid=order.purchaseid)
