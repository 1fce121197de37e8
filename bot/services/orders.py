"""Finding an order for someone who wants to act on it, with the permission check made every time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.accounts import AccountRecord
from bot.domain.orders import OrderRecord, OrderRef, OrderState
from bot.domain.sentences import Sentence, said
from bot.services.permissions import Permissions
from bot.store.base import Store

ACTIONABLE = {OrderState.TO_ACCEPT, OrderState.TO_SHIP, OrderState.PARTIALLY_SHIPPED, OrderState.ON_HOLD}


@dataclass(frozen=True, slots=True)
class OrderAccess:
    """Either an order the user may act on (``account`` and ``order`` set) or the reason they may not."""

    account: AccountRecord | None = None
    order: OrderRecord | None = None
    refusal: Sentence | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None and self.order is not None


class OrderDesk:
    def __init__(self, store: Store, permissions: Permissions) -> None:
        self._store = store
        self._permissions = permissions

    def access(self, user_id: str, ref: OrderRef | None) -> OrderAccess:
        if ref is None:
            return OrderAccess(refusal=said("That button no longer points to an order I know."))
        account = self._store.get_account(ref.account)
        order = self._store.get_order(ref.account, ref.purchaseid)
        if account is None:
            return OrderAccess(
                refusal=said("The Rakuten account {login} is not connected any more.", login=ref.account)
            )
        if order is None:
            return OrderAccess(
                refusal=said(
                    "Order {purchaseid} is not in my records any more (closed and pruned).", purchaseid=ref.purchaseid
                )
            )
        decision = self._permissions.order_decision(user_id, account)
        if not decision:
            return OrderAccess(account=account, refusal=decision.reason)
        return OrderAccess(account=account, order=order)

    def access_by_purchaseid(self, user_id: str, purchaseid: str) -> OrderAccess:
        matches = self._store.find_orders(purchaseid.strip())
        if not matches:
            return OrderAccess(
                refusal=said(
                    "I know no order {purchaseid}. `/rakuten orders` lists the open ones.", purchaseid=purchaseid
                )
            )
        if len(matches) > 1:
            return OrderAccess(
                refusal=said(
                    "Several accounts have an order {purchaseid}; use the buttons on its card.", purchaseid=purchaseid
                )
            )
        order = matches[0]
        return self.access(user_id, OrderRef(order.account, order.purchaseid))

    def needing_action(self, user_id: str) -> list[OrderRecord]:
        """Open orders waiting for the seller, newest first, from the accounts this user may act on."""
        orders: list[OrderRecord] = []
        for account in self._store.list_accounts():
            if not self._permissions.order_decision(user_id, account):
                continue
            orders.extend(o for o in self._store.list_orders(account.login, open_only=True) if o.state in ACTIONABLE)
        orders.sort(key=lambda order: order.purchase_date or datetime.min.astimezone(), reverse=True)
        return orders
