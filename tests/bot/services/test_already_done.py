from __future__ import annotations

import pytest

from bot.domain.orders import PendingKind
from bot.services.already_done import says_already_done
from rakuten.errors import AuthenticationError, BusinessError, ErrorDetails, RakutenError, ServerError

INVALID_STATUS = "The item status does not allow this action."
BAD_LOGIN_SAYING_SHIPPED = ErrorDetails("Sender", "InvalidUserConnection", "already shipped")


def business(*details: str, message: str = INVALID_STATUS) -> BusinessError:
    return BusinessError(ErrorDetails("Sender", "InvalidItemStatus", message, details), action="x")


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        (PendingKind.SHIP, business("Article 123 : a déjà été expédié")),
        (PendingKind.SHIP, business("ARTICLE 123 : A DEJA ETE EXPEDIE")),
        (PendingKind.SHIP, business(message="Item already shipped")),
        (PendingKind.ACCEPT, business("Item 123 is ACCEPTED: only an item awaiting confirmation can be accepted.")),
        (PendingKind.ACCEPT, business("Vente déjà acceptée")),
        (PendingKind.REFUSE, business("Item 123 is REFUSED: only an item awaiting confirmation can be refused.")),
        (PendingKind.REFUSE, business(message="This sale was already refused")),
    ],
)
def test_rakuten_saying_the_item_is_already_there_is_recognised(kind: PendingKind, error: RakutenError) -> None:
    assert says_already_done(kind, error)


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        (PendingKind.SHIP, business("Article 123 : statut incorrect (TO_CONFIRM)")),
        (PendingKind.SHIP, business("Article 123 : numéro incorrect")),
        # The other decision was taken: not ours.
        (PendingKind.REFUSE, business("Item 123 is ACCEPTED: only an item awaiting confirmation can be refused.")),
        (PendingKind.ACCEPT, business("Item 123 is REFUSED: only an item awaiting confirmation can be accepted.")),
        (PendingKind.ACCEPT, business("Item 123 is CANCELLED: only an item awaiting confirmation can be accepted.")),
        # Not a business refusal at all.
        (PendingKind.SHIP, ServerError("already shipped?", action="x")),
        (PendingKind.SHIP, AuthenticationError(BAD_LOGIN_SAYING_SHIPPED, action="x")),
    ],
)
def test_other_refusals_are_not_taken_for_success(kind: PendingKind, error: RakutenError) -> None:
    assert not says_already_done(kind, error)
