"""One lock per account, shared by the jobs that post an account's cards: the order poll and the after-sale desk
(which posts the card of an order older than the bot before its messages). Without it both could post the same
order's card at the same moment: the card publisher trusts that one poster runs per account."""

from __future__ import annotations

import threading


class AccountLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.RLock] = {}

    def lock(self, login: str) -> threading.RLock:
        with self._guard:
            return self._locks.setdefault(login, threading.RLock())
