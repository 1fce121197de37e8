"""Each account's polling health, kept in memory only.

Not in the store: the store may be the very part that fails (a full or read-only disk), and a failed poll must
still be counted, told in the channel once, and reported by ``GET /healthz``. A restart starts from a clean
slate; the first poll after it says how things are.
"""

from __future__ import annotations

import copy
import threading

from bot.domain.accounts import PollHealth


class PollHealthBoard:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_login: dict[str, PollHealth] = {}

    def get(self, login: str) -> PollHealth:
        """A copy of the account's health (a fresh one for an account not polled yet)."""
        with self._lock:
            return copy.deepcopy(self._by_login.get(login) or PollHealth())

    def put(self, login: str, health: PollHealth) -> None:
        with self._lock:
            self._by_login[login] = copy.deepcopy(health)

    def forget(self, login: str) -> None:
        with self._lock:
            self._by_login.pop(login, None)
