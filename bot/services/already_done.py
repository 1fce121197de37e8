"""Reading Rakuten's "that item is already shipped / accepted / refused" refusals.

Accept, refuse and tracking are not idempotent at Rakuten: when a call is carried out but its answer is lost
(a timeout, a dropped connection, the bot killed mid-call), the next try is refused because the item is already
in the state the call asked for. Rakuten words this in French or English, in the error's message or details
(``Article 123 : a déjà été expédié``), so the words are matched without accents or case.

Whether such a refusal means "done" depends on who did it: ``ItemActions`` trusts it only for a request it had
already sent once (recorded before the call went out); for a first try it stays a refusal shown to the user.
"""

from __future__ import annotations

import unicodedata

from bot.domain.orders import PendingKind
from rakuten.errors import BusinessError, RakutenError

_ALREADY_IN_STATE: dict[PendingKind, tuple[str, ...]] = {
    PendingKind.SHIP: ("deja ete expedie", "deja expedie", "already shipped", "already been shipped", "is shipped"),
    PendingKind.ACCEPT: ("deja accepte", "already accepted", "already been accepted", "is accepted"),
    PendingKind.REFUSE: ("deja refuse", "already refused", "already been refused", "is refused"),
    PendingKind.CANCEL: ("deja annule", "already cancelled", "already canceled", "is cancelled", "is canceled"),
}


def says_already_done(kind: PendingKind, error: RakutenError) -> bool:
    """True when Rakuten refused because the item is already where ``kind`` would have put it."""
    if not isinstance(error, BusinessError):
        return False  # a bad token, a bad parameter or an outage says nothing about the item
    words = _plain(" ".join((error.error.message or "", *error.details)))
    return any(phrase in words for phrase in _ALREADY_IN_STATE[kind])


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(char for char in decomposed if not unicodedata.combining(char)).split())
