"""What ``/rakuten status``, ``/rakuten orders`` and the Home tab show, as data (``bot.ui.screens`` renders it).

Accounts come with their polling health from memory (``PollHealthBoard``), where the poller keeps it; with replicas,
from the database, where each replica leaves it for the next (whichever replica answers, it shows the same).
"""

from __future__ import annotations

from bot.domain.accounts import AccountStatus, PollHealth
from bot.domain.orders import OrderRecord
from bot.services.orders import OrderDesk
from bot.services.permissions import Permissions
from bot.services.poll_health import PollHealthBoard
from bot.services.scheduler import PollScheduler
from bot.store.base import Store, StoreError


class StatusService:
    def __init__(
        self,
        *,
        store: Store,
        desk: OrderDesk,
        scheduler: PollScheduler,
        permissions: Permissions,
        health: PollHealthBoard | None = None,
    ) -> None:
        self._store = store
        self._desk = desk
        self._scheduler = scheduler
        self._permissions = permissions
        self._health = health or PollHealthBoard()

    def accounts(self) -> list[AccountStatus]:
        """Every connected account with its health, next poll and open orders."""
        shared = self._shared_health()
        return [
            AccountStatus(
                account=account,
                health=(shared.get(account.login) or PollHealth())
                if shared is not None
                else self._health.get(account.login),
                next_poll=self._scheduler.next_poll(account.login),
                open_orders=tuple(self._store.list_orders(account.login, open_only=True)),
            )
            for account in self._store.list_accounts()
        ]

    def _shared_health(self) -> dict[str, PollHealth] | None:
        leases = self._scheduler.leases
        if not leases.shares_health:
            return None
        try:
            return leases.shared_health()
        except StoreError:
            return None  # the database is out of reach: this replica's own view, rather than nothing

    def needing_action(self, user_id: str) -> list[OrderRecord]:
        """Open orders of the accounts ``user_id`` may act on."""
        return self._desk.needing_action(user_id)

    def is_admin(self, user_id: str) -> bool:
        return self._permissions.is_admin(user_id)
