"""What ``/rakuten status``, ``/rakuten orders`` and the Home tab show, as data (``bot.ui.screens`` renders it).

Accounts come with their polling health from memory (``PollHealthBoard``), where the poller keeps it.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.accounts import AccountStatus
from bot.domain.after_sale import waiting_since
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
        """Every connected account with its health, next poll, open orders and what waits for an answer."""
        statuses = []
        for account in self._store.list_accounts():
            followed = self._store.list_after_sale_orders(account.login)
            statuses.append(
                AccountStatus(
                    account=account,
                    health=self._health.get(account.login),
                    next_poll=self._scheduler.next_poll(account.login),
                    open_orders=tuple(self._store.list_orders(account.login, open_only=True)),
                    unanswered_messages=sum(len(order.after_sale.unanswered()) for order in followed),
                    open_claims=sum(len(order.after_sale.open_claims()) for order in followed),
                )
            )
        return statuses

    def to_answer(self, user_id: str) -> list[OrderRecord]:
        """Orders with an unanswered buyer message or an open claim, oldest wait first, from the accounts
        ``user_id`` may act on."""
        waiting: list[tuple[datetime, OrderRecord]] = []
        for account in self._store.list_accounts():
            if not self._permissions.order_decision(user_id, account):
                continue
            for order in self._store.list_after_sale_orders(account.login):
                since = waiting_since(order.after_sale)
                if since is not None:
                    waiting.append((since, order))
        waiting.sort(key=lambda pair: (pair[0], pair[1].purchaseid))
        return [order for _, order in waiting]

    def needing_action(self, user_id: str) -> list[OrderRecord]:
        """Open orders of the accounts ``user_id`` may act on."""
        return self._desk.needing_action(user_id)

    def is_admin(self, user_id: str) -> bool:
        return self._permissions.is_admin(user_id)
