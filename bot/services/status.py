"""What ``/rakuten status``, ``/rakuten orders`` and the Home tab show, as data (``bot.ui.screens`` renders it).

Accounts come with their polling health from memory (``PollHealthBoard``), where the poller keeps it.
"""

from __future__ import annotations

from bot.domain.accounts import AccountStatus
from bot.domain.orders import OrderRecord
from bot.services.orders import OrderDesk
from bot.services.permissions import Permissions
from bot.services.poll_health import PollHealthBoard
from bot.services.scheduler import PollScheduler
from bot.store.base import Store


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
        return [
            AccountStatus(
                account=account,
                health=self._health.get(account.login),
                next_poll=self._scheduler.next_poll(account.login),
                open_orders=tuple(self._store.list_orders(account.login, open_only=True)),
            )
            for account in self._store.list_accounts()
        ]

    def needing_action(self, user_id: str) -> list[OrderRecord]:
        """Open orders of the accounts ``user_id`` may act on."""
        return self._desk.needing_action(user_id)

    def is_admin(self, user_id: str) -> bool:
        return self._permissions.is_admin(user_id)
