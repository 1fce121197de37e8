"""Mark shipped: from the card's modal or from ``/rakuten ship ORDER CARRIER TRACKING [URL]``.

Validation errors go back to their field; a valid request claims the items before Slack gets its ack (a durable
local write: a crash right after the ack loses nothing, and a repeated submit sends nothing twice). After the
ack (``start``), the card shows "sending to Rakuten", and one ``settrackingpackageinfos`` call per item runs in
the background (see ``item_actions``).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.orders import ItemState, OrderRecord, OrderRef, PendingKind, Shipment, ShipmentDraft, shippable_items
from bot.domain.sentences import Sentence, counted, said
from bot.services.item_actions import ItemActions, Submission
from bot.services.orders import OrderAccess, OrderDesk
from bot.store.base import Store
from rakuten.carriers import InvalidTrackingError, Tracking, carrier_for_shipping_type, validate_tracking

SHIP_USAGE = said(
    "Usage: `/rakuten ship ORDER CARRIER TRACKING [URL]`, e.g. `/rakuten ship 123456789 Colissimo 6A12345678901`"
)


@dataclass(frozen=True, slots=True)
class ShipPlan:
    """What the Mark shipped modal opens with, or why it cannot open."""

    access: OrderAccess
    preselected_carrier: str | None = None
    refusal: Sentence | None = None


@dataclass(frozen=True, slots=True)
class ShipRequest:
    """A validated shipment, ready to claim its items and go to Rakuten."""

    user_id: str
    order: OrderRecord
    tracking: Tracking
    itemids: frozenset[str]


@dataclass(frozen=True, slots=True)
class ShipResult:
    """``field_errors`` (field name -> message) when the form must be corrected; ``request`` when it can be
    sent (``execute``); else ``message`` explains why nothing will be sent."""

    field_errors: dict[str, Sentence] = field(default_factory=dict)
    message: Sentence | None = None
    request: ShipRequest | None = None


class ShippingService:
    def __init__(self, *, store: Store, desk: OrderDesk, actions: ItemActions, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._desk = desk
        self._actions = actions
        self._clock = clock

    def plan(self, user_id: str, ref: OrderRef | None) -> ShipPlan:
        access = self._desk.access(user_id, ref)
        if not access.allowed:
            return ShipPlan(access, refusal=access.refusal)
        order = access.order
        assert order is not None
        refusal = _why_not_shippable(order)
        return ShipPlan(access, preselected_carrier=carrier_for_shipping_type(order.shipping_type), refusal=refusal)

    def prepare(self, user_id: str, form: ShipmentDraft) -> ShipResult:
        """Validate a submitted modal (fast: runs before the view submission is acked)."""
        if form.ref is None:
            return ShipResult(message=said("This form lost track of its order; open Mark shipped again from the card."))
        access = self._desk.access(user_id, form.ref)
        if not access.allowed:
            return ShipResult(message=access.refusal)
        if not form.carrier:
            return ShipResult(field_errors={"carrier": said("Choose the carrier.")})
        return self._validate(user_id, access, form.carrier, form.tracking_number, form.tracking_url, form.itemids)

    def ship_command(self, user_id: str, arguments: str) -> Submission:
        """``ORDER CARRIER TRACKING [URL]``; a carrier of several words may be quoted or not. Claims the items
        (before the ack) when the command is valid; the answer says what happens or what to fix."""
        try:
            words = shlex.split(arguments)
        except ValueError:
            words = arguments.split()
        url = words.pop() if len(words) >= 4 and words[-1].lower().startswith(("http://", "https://")) else None
        if len(words) < 3:
            return Submission(SHIP_USAGE)
        purchaseid, carrier, tracking = words[0], " ".join(words[1:-1]), words[-1]
        access = self._desk.access_by_purchaseid(user_id, purchaseid)
        if not access.allowed:
            return Submission(access.refusal or SHIP_USAGE)
        result = self._validate(user_id, access, carrier, tracking, url, None)
        if result.field_errors:
            (problem, *_) = result.field_errors.values()  # one field at a time: validation stops at the first
            return Submission(said("• {problem}\n{usage}", problem=problem, usage=SHIP_USAGE))
        if result.request is None:
            return Submission(result.message or SHIP_USAGE)
        return self.submit(result.request)

    def _validate(
        self,
        user_id: str,
        access: OrderAccess,
        carrier: str,
        tracking_number: str,
        tracking_url: str | None,
        itemids: tuple[str, ...] | None,
    ) -> ShipResult:
        order = access.order
        assert order is not None
        refusal = _why_not_shippable(order)
        if refusal:
            return ShipResult(message=refusal)
        try:
            tracking = validate_tracking(carrier, tracking_number, tracking_url)
        except InvalidTrackingError as error:
            return ShipResult(field_errors={error.field: _tracking_problem(error)})
        shippable = {item.itemid for item in shippable_items(order)}
        wanted = set(itemids) if itemids is not None else shippable
        if not wanted:
            return ShipResult(field_errors={"items": said("Choose at least one item to ship.")})
        unknown = wanted - {item.itemid for item in order.items}
        if unknown:
            return ShipResult(field_errors={"items": said("Some chosen items are not part of this order any more.")})
        return ShipResult(request=ShipRequest(user_id, order, tracking, frozenset(wanted)))

    def submit(self, request: ShipRequest) -> Submission:
        """Claim the items, durably and once (a repeated submit finds them claimed): made before the ack."""
        order, tracking = request.order, request.tracking
        claim = self._actions.claim(
            order,
            PendingKind.SHIP,
            request.user_id,
            itemids=request.itemids,
            shipment=Shipment(carrier=tracking.carrier, tracking_number=tracking.number, tracking_url=tracking.url),
            detail=f"{tracking.carrier} {tracking.number}",
        )
        if not claim:
            return Submission(
                said(
                    "Order {purchaseid}: those items are already shipped or being sent. Nothing was sent twice.",
                    purchaseid=order.purchaseid,
                )
            )
        answer = counted(
            "Sending {carrier} {tracking} to Rakuten for order {purchaseid} ({count} item).",
            "Sending {carrier} {tracking} to Rakuten for order {purchaseid} ({count} items).",
            len(claim.itemids),
            carrier=tracking.carrier,
            tracking=tracking.number,
            purchaseid=order.purchaseid,
        )
        return Submission(answer, claim)

    def start(self, submission: Submission) -> Sentence | None:
        """After the ack: update the card and send the claimed items; returns what to tell the user."""
        self._actions.start(submission.claim)
        return submission.answer


def _why_not_shippable(order: OrderRecord) -> Sentence | None:
    purchaseid = order.purchaseid
    if order.ship_to is None:
        return said(
            "Order {purchaseid} has no shipping address: check it on Rakuten before shipping.", purchaseid=purchaseid
        )
    if not shippable_items(order):
        if any(item.state is ItemState.TO_ACCEPT for item in order.items):
            return said("Order {purchaseid} must be accepted before it can be shipped.", purchaseid=purchaseid)
        if any(item.pending is not None for item in order.items):
            return said("Order {purchaseid}: the tracking is already being sent to Rakuten.", purchaseid=purchaseid)
        return said("Order {purchaseid} has nothing left to ship.", purchaseid=purchaseid)
    return None


def _tracking_problem(error: InvalidTrackingError) -> Sentence:
    """The client's message for the seller, to be said in their language (its catalogue entry comes from
    rakuten/carriers.py); the values it quotes are shown as they are, or translated when they are ours."""
    return Sentence(
        error.template,
        {name: Sentence(value) if isinstance(value, str) else value for name, value in error.params.items()},
    )
