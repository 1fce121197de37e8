"""Where the bot keeps accounts, orders and the audit trail: one interface, an embedded TinyDB implementation."""

from bot.store.base import PruneReport, Store, StoreDataError, StoreError, StoreLockedError
from bot.store.tinydb_store import TinyDBStore, open_store

__all__ = ["PruneReport", "Store", "StoreDataError", "StoreError", "StoreLockedError", "TinyDBStore", "open_store"]
