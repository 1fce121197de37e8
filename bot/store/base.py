"""The one store interface the rest of the bot uses.

Two implementations: the embedded TinyDB store (``bot.store.tinydb_store``), one process per data directory, and
PostgreSQL (``bot.store.postgres_store``, chosen by ``DATABASE_URL``), shared by any number of processes. Both
hand out fresh records (changing one changes nothing until it is saved) and pass the same contract tests
(``tests/bot/test_store.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.domain.accounts import AccountRecord
from bot.domain.audit import AuditEntry
from bot.domain.orders import OrderRecord
from bot.errors import BotError


class StoreError(BotError):
    pass


class StoreLockedError(StoreError):
    """Another process already owns this data directory."""


class StoreDataError(StoreError):
    """The stored data cannot be trusted as it is (lost, damaged): nothing was changed, the bot must not start.

    ``rakuten-bot run --start-empty`` sets the data aside and starts with an empty store.
    """


@dataclass(frozen=True, slots=True)
class PruneReport:
    orders_removed: int
    orders_anonymised: int
    audit_removed: int


class Store(Protocol):
    def batch(self) -> AbstractContextManager[None]:
        """Group the writes made inside into one durable write (reentrant; also holds the store lock).

        A block that raises keeps the writes made before the exception, as if it had ended there; a write the
        store itself could not make durable (disk, database) undoes the whole block.
        """
        ...

    # accounts
    def get_account(self, login: str) -> AccountRecord | None: ...
    def list_accounts(self) -> list[AccountRecord]: ...
    def save_account(self, account: AccountRecord) -> None: ...
    def update_account(
        self, login: str, change: Callable[[AccountRecord], AccountRecord | None]
    ) -> AccountRecord | None:
        """Read-modify-write under the lock; ``change`` returns the new record, or None to leave it as is."""
        ...

    def delete_account(self, login: str) -> bool:
        """Remove the account (and its token). Its orders stay until pruned. False if it did not exist."""
        ...

    # orders
    def get_order(self, account: str, purchaseid: str) -> OrderRecord | None: ...
    def find_orders(self, purchaseid: str) -> list[OrderRecord]:
        """Every account's order with this purchaseid (normally zero or one)."""
        ...

    def find_order_by_item(self, account: str, itemid: str) -> OrderRecord | None:
        """The account's order holding Rakuten item ``itemid`` (open or closed), if the store keeps it."""
        ...

    def list_after_sale_orders(self, account: str | None = None) -> list[OrderRecord]:
        """Orders whose after sale is followed (``AfterSale.needs_attention``: something to post, send or answer, a
        claim open), open or closed, newest purchase first."""
        ...

    def list_orders(self, account: str | None = None, *, open_only: bool = True) -> list[OrderRecord]: ...
    def iter_orders(self, account: str | None = None, *, open_only: bool = True) -> Iterator[OrderRecord]: ...
    def save_order(self, order: OrderRecord) -> None: ...
    def save_orders(self, orders: list[OrderRecord]) -> None: ...
    def update_order(
        self, account: str, purchaseid: str, change: Callable[[OrderRecord], OrderRecord | None]
    ) -> OrderRecord | None:
        """Atomic read-modify-write (check-then-act for idempotent clicks).

        ``change`` gets a private copy; it returns the record to store, or None to store nothing.
        Returns what is stored afterwards (None if the order does not exist).
        """
        ...

    # audit trail
    def add_audit(self, entry: AuditEntry) -> None: ...
    def list_audit(
        self, *, account: str | None = None, purchaseid: str | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        """Newest first."""
        ...

    # small settings that belong to no account (e.g. the bootstrap admin)
    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str | None) -> None: ...
    def list_meta(self) -> dict[str, str]:
        """Every small setting, by key (``rakuten-bot migrate-store`` copies them all)."""
        ...

    # maintenance
    def prune(
        self,
        now: datetime,
        *,
        closed_retention: timedelta,
        personal_data_retention: timedelta,
        audit_retention: timedelta,
    ) -> PruneReport:
        """Drop orders closed before ``now - closed_retention``; blank buyers' personal data (name, address,
        phone, login) on orders closed before ``now - personal_data_retention``; drop old audit entries."""
        ...

    def close(self) -> None: ...
