"""What ``/rakuten status``, ``/rakuten orders`` and the Home tab show.

Accounts are shown with their polling health from memory (``PollHealthBoard``), where the poller keeps it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from slack_sdk.models.views import View

from bot.domain.accounts import AccountRecord
from bot.services.orders import OrderDesk
from bot.services.permissions import Permissions
from bot.services.poll_health import PollHealthBoard
from bot.services.scheduler import PollScheduler
from bot.store.base import Store
from bot.ui.home import build_home
from bot.ui.i18n import Languages
from bot.ui.messages import Message, orders_list_message, status_message


class StatusService:
    def __init__(
        self,
        *,
        store: Store,
        desk: OrderDesk,
        scheduler: PollScheduler,
        permissions: Permissions,
        clock: Callable[[], datetime],
        languages: Languages,
        health: PollHealthBoard | None = None,
    ) -> None:
        self._languages = languages
        self._store = store
        self._desk = desk
        self._scheduler = scheduler
        self._permissions = permissions
        self._clock = clock
        self._health = health or PollHealthBoard()

    def status(self, user_id: str) -> Message:
        accounts = self._accounts()
        orders = {account.login: self._store.list_orders(account.login, open_only=True) for account in accounts}
        return status_message(self._languages.user(user_id), accounts, orders, self._next_polls(), self._clock())

    def orders(self, user_id: str) -> Message:
        t = self._languages.user(user_id)
        return orders_list_message(t, self._desk.needing_action(user_id), self._clock())

    def home(self, user_id: str) -> View:
        return build_home(
            self._languages.user(user_id),
            self._accounts(),
            self._desk.needing_action(user_id),
            now=self._clock(),
            next_polls=self._next_polls(),
            is_admin=self._permissions.is_admin(user_id),
        )

    def _accounts(self) -> list[AccountRecord]:
        accounts = self._store.list_accounts()
        for account in accounts:
            account.health = self._health.get(account.login)
        return accounts

    def _next_polls(self) -> dict[str, datetime | None]:
        return {account.login: self._scheduler.next_poll(account.login) for account in self._store.list_accounts()}
