"""The embedded store: TinyDB in ``RAKUTEN_DATA_DIR``, one process per directory, one lock per operation.

Tables: ``accounts`` (id = login), ``orders`` (id = ``order_key(account, purchaseid)``), ``audit``
(id = zero-padded sequence number) and ``meta`` (id = key). Records go in and come out through
``to_doc`` / ``*_from_doc``, so a record handed out is always a fresh object: changing it changes nothing
until it is saved.
"""

from __future__ import annotations

import bisect
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from tinydb import TinyDB

from bot.domain.accounts import AccountRecord
from bot.domain.audit import AuditEntry
from bot.domain.orders import ItemState, OrderRecord, order_key
from bot.store.base import PruneReport, Store, StoreError
from bot.store.data_dir import create_empty_snapshot, lock_data_dir, refuse_if_lost, survey
from bot.store.documents import (
    account_from_doc,
    audit_from_doc,
    needs_after_sale_attention,
    order_from_doc,
    to_doc,
    without_personal_data,
)
from bot.store.storage import (
    DEFAULT_COMPACT_JOURNAL_BYTES,
    DEFAULT_COMPACT_JOURNAL_LINES,
    Doc,
    JournaledStorage,
    JournaledTable,
)

log = logging.getLogger(__name__)

_FINAL_ITEM_STATES = frozenset(state.value for state in ItemState if state.is_final)
_AUDIT_ID_WIDTH = 12


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Database(TinyDB):
    table_class = JournaledTable


class TinyDBStore:
    """``Store`` on TinyDB with a journaled, crash-safe storage (see ``bot.store.storage``).

    Saving an order keeps ``closed_at`` truthful: it is stamped with the store's clock when every item has
    reached a final state and the record carries none, and cleared when an item reopens (a claim).
    """

    def __init__(
        self,
        data_dir: Path | str,
        *,
        clock: Callable[[], datetime] = _utc_now,
        compact_journal_bytes: int = DEFAULT_COMPACT_JOURNAL_BYTES,
        compact_journal_lines: int = DEFAULT_COMPACT_JOURNAL_LINES,
    ) -> None:
        self._dir = Path(data_dir)
        self._clock = clock
        self._lock = threading.RLock()
        _ensure_private_dir(self._dir)
        found = survey(self._dir)  # before the lock file is created: it is one of the traces looked for
        self._file_lock = lock_data_dir(self._dir)
        try:
            if found.is_new:
                create_empty_snapshot(self._dir)
            else:
                refuse_if_lost(found)
            self._storage = JournaledStorage(
                self._dir,
                compact_journal_bytes=compact_journal_bytes,
                compact_journal_lines=compact_journal_lines,
                on_undo=self._after_undo,
            )
        except BaseException:
            self._file_lock.release()
            raise
        self._db = _Database(storage=lambda: self._storage)
        self._accounts = cast(JournaledTable, self._db.table("accounts"))
        self._orders = cast(JournaledTable, self._db.table("orders"))
        self._audit = cast(JournaledTable, self._db.table("audit"))
        self._meta = cast(JournaledTable, self._db.table("meta"))
        self._rebuild_indexes()
        self._closed = False

    @property
    def data_dir(self) -> Path:
        return self._dir

    def __enter__(self) -> TinyDBStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def batch(self) -> Iterator[None]:
        with self._lock:
            self._check_open()
            with self._storage.deferred():
                yield

    # --- accounts -------------------------------------------------------------------------------------

    def get_account(self, login: str) -> AccountRecord | None:
        with self._lock:
            self._check_open()
            doc = self._accounts.get(doc_id=login)
            return account_from_doc(doc) if doc is not None else None

    def list_accounts(self) -> list[AccountRecord]:
        with self._lock:
            self._check_open()
            return sorted((account_from_doc(doc) for doc in self._accounts), key=lambda account: account.login)

    def save_account(self, account: AccountRecord) -> None:
        with self._lock:
            self._check_open()
            self._accounts.put(account.login, to_doc(account))

    def update_account(
        self, login: str, change: Callable[[AccountRecord], AccountRecord | None]
    ) -> AccountRecord | None:
        with self._lock:
            self._check_open()
            doc = self._accounts.get(doc_id=login)
            if doc is None:
                return None
            changed = change(account_from_doc(doc))
            if changed is None:
                return account_from_doc(doc)
            if changed.login != login:
                raise StoreError(f"update_account: the change must not rename account {login!r}")
            new_doc = to_doc(changed)
            self._accounts.put(login, new_doc)
            return account_from_doc(new_doc)

    def delete_account(self, login: str) -> bool:
        with self._lock:
            self._check_open()
            return bool(self._accounts.delete([login]))

    # --- orders ---------------------------------------------------------------------------------------

    def get_order(self, account: str, purchaseid: str) -> OrderRecord | None:
        with self._lock:
            self._check_open()
            doc = self._orders.get(doc_id=order_key(account, purchaseid))
            return order_from_doc(doc) if doc is not None else None

    def find_orders(self, purchaseid: str) -> list[OrderRecord]:
        with self._lock:
            self._check_open()
            keys = sorted(self._index.keys_for_purchaseid(purchaseid))
            return [order_from_doc(doc) for doc in self._docs(keys)]

    def find_order_by_item(self, account: str, itemid: str) -> OrderRecord | None:
        with self._lock:
            self._check_open()
            key = self._index.key_for_item(account, itemid)
            docs = self._docs([key]) if key is not None else []
        return order_from_doc(docs[0]) if docs else None

    def list_after_sale_orders(self, account: str | None = None) -> list[OrderRecord]:
        with self._lock:
            self._check_open()
            docs = self._docs(self._index.after_sale_keys(account))
        return [order_from_doc(doc) for doc in docs]

    def list_orders(self, account: str | None = None, *, open_only: bool = True) -> list[OrderRecord]:
        """Newest purchase first, as stored when called.

        Records are built after the lock is released, so listing thousands of orders does not hold up clicks:
        stored documents are replaced on save, never changed in place, so the ones taken stay consistent.
        """
        return [order_from_doc(doc) for doc in self._order_docs(account, open_only=open_only)]

    def iter_orders(self, account: str | None = None, *, open_only: bool = True) -> Iterator[OrderRecord]:
        """Like ``list_orders``, building one record at a time."""
        return (order_from_doc(doc) for doc in self._order_docs(account, open_only=open_only))

    def save_order(self, order: OrderRecord) -> None:
        self.save_orders([order])

    def save_orders(self, orders: list[OrderRecord]) -> None:
        with self._lock:
            self._check_open()
            self._put_orders([self._order_doc(order) for order in orders])

    def update_order(
        self, account: str, purchaseid: str, change: Callable[[OrderRecord], OrderRecord | None]
    ) -> OrderRecord | None:
        key = order_key(account, purchaseid)
        with self._lock:
            self._check_open()
            doc = self._orders.get(doc_id=key)
            if doc is None:
                return None
            changed = change(order_from_doc(doc))
            if changed is None:
                return order_from_doc(doc)
            if changed.key != key:
                raise StoreError(f"update_order: the change must not move order {key!r} to {changed.key!r}")
            new_doc = self._order_doc(changed)
            self._put_orders([new_doc])
            return order_from_doc(new_doc)

    # --- audit trail ----------------------------------------------------------------------------------

    def add_audit(self, entry: AuditEntry) -> None:
        with self._lock:
            self._check_open()
            doc = to_doc(entry)
            doc_id = self._audit_index.next_id()
            self._audit.put(doc_id, doc)
            self._audit_index.add(doc_id, doc)

    def list_audit(
        self, *, account: str | None = None, purchaseid: str | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        with self._lock:
            self._check_open()
            entries: list[AuditEntry] = []
            for doc_id in self._audit_index.newest_first():
                if len(entries) >= limit:
                    break
                doc = self._audit.get(doc_id=doc_id)
                if doc is None:
                    continue
                if account is not None and doc.get("account") != account:
                    continue
                if purchaseid is not None and doc.get("purchaseid") != purchaseid:
                    continue
                entries.append(audit_from_doc(doc))
            return entries

    # --- meta -----------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            self._check_open()
            doc = self._meta.get(doc_id=key)
            return doc.get("value") if doc is not None else None

    def set_meta(self, key: str, value: str | None) -> None:
        with self._lock:
            self._check_open()
            if value is None:
                self._meta.delete([key])
            else:
                self._meta.put(key, {"value": value})

    def list_meta(self) -> dict[str, str]:
        with self._lock:
            self._check_open()
            return {key: doc["value"] for key, doc in self._storage.read().get("meta", {}).items()}

    # --- maintenance ----------------------------------------------------------------------------------

    def prune(
        self,
        now: datetime,
        *,
        closed_retention: timedelta,
        personal_data_retention: timedelta,
        audit_retention: timedelta,
    ) -> PruneReport:
        remove_before = _timestamp(now - closed_retention)
        purge_before = _timestamp(now - personal_data_retention)
        with self._lock, self.batch():
            expired, to_purge = self._index.closed_before(remove_before, purge_before)
            self._orders.delete(expired)
            for key in expired:
                self._index.remove(key)
            purged_docs = [without_personal_data(doc) for doc in self._docs(to_purge)]
            self._put_orders(purged_docs)
            old_audit = self._audit_index.pop_older_than(_timestamp(now - audit_retention))
            self._audit.delete(old_audit)
        report = PruneReport(
            orders_removed=len(expired), orders_anonymised=len(purged_docs), audit_removed=len(old_audit)
        )
        # DEBUG: the daily maintenance (bot.app.maintain_store) says it at INFO when something went, not every start.
        log.debug(
            "Store pruned: %d closed orders removed, %d anonymised, %d audit entries removed",
            report.orders_removed,
            report.orders_anonymised,
            report.audit_removed,
        )
        return report

    def compact(self) -> None:
        """Fold the journal into the snapshot now (close does it too)."""
        with self._lock:
            self._check_open()
            self._storage.compact()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._storage.close()
            finally:
                self._file_lock.release()

    def _abandon(self) -> None:
        """Let go of the directory as a crash would: no flush, no compaction (crash-recovery tests)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._storage.abandon()
            self._file_lock.release()

    # --- internals ------------------------------------------------------------------------------------

    def _rebuild_indexes(self) -> None:
        index = _OrderIndex()
        for key, doc in self._storage.read().get("orders", {}).items():
            index.put(key, doc)
        self._index = index
        self._audit_index = _AuditIndex(self._storage.read().get("audit", {}))

    def _after_undo(self) -> None:
        """A write that could not be made durable was undone in memory: what derives from memory follows."""
        self._rebuild_indexes()
        for table in (self._accounts, self._orders, self._audit, self._meta):
            table.clear_cache()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("The store is closed")

    def _order_docs(self, account: str | None, *, open_only: bool) -> list[Doc]:
        with self._lock:
            self._check_open()
            return self._docs(self._index.keys(account, open_only=open_only))

    def _docs(self, keys: list[str]) -> list[Doc]:
        docs = self._storage.read().get("orders", {})
        return [docs[key] for key in keys if key in docs]

    def _order_doc(self, order: OrderRecord) -> Doc:
        doc = to_doc(order)
        if order.is_open:
            doc["closed_at"] = None
        elif doc["closed_at"] is None:
            doc["closed_at"] = self._clock().isoformat()
        return doc

    def _put_orders(self, docs: list[Doc]) -> None:
        if not docs:
            return
        by_key = {order_key(doc["account"], doc["purchaseid"]): doc for doc in docs}
        self._orders.put_many(by_key)
        for key, doc in by_key.items():
            self._index.put(key, doc)


def open_store(data_dir: Path | str, *, clock: Callable[[], datetime] = _utc_now) -> Store:
    """The embedded store in ``data_dir`` (``RAKUTEN_DATA_DIR``). StoreLockedError when another process uses it,
    StoreDataError when its data was lost or is damaged (nothing is changed then)."""
    return TinyDBStore(data_dir, clock=clock)


# --- indexes --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _OrderEntry:
    account: str
    purchaseid: str
    sort_key: tuple[bool, float, str]
    is_open: bool
    closed_at: float | None
    purged: bool
    itemids: tuple[str, ...] = ()


class _OrderIndex:
    """What listing and pruning need to know about every order, without deserialising any of them."""

    def __init__(self) -> None:
        self._entries: dict[str, _OrderEntry] = {}
        self._open_by_account: dict[str, set[str]] = {}
        self._by_purchaseid: dict[str, set[str]] = {}
        self._by_item: dict[tuple[str, str], str] = {}  # (account, itemid) -> order key
        self._after_sale_by_account: dict[str, set[str]] = {}  # orders whose after sale is followed

    def put(self, key: str, doc: Doc) -> None:
        self.remove(key)
        items = doc.get("items") or []
        purchase_date = _parse_dt(doc.get("purchase_date"))
        closed_at = _parse_dt(doc.get("closed_at"))
        entry = _OrderEntry(
            account=doc["account"],
            purchaseid=doc["purchaseid"],
            sort_key=(
                purchase_date is not None,
                _timestamp(purchase_date) if purchase_date else 0.0,
                doc["purchaseid"],
            ),
            is_open=not all(item.get("state") in _FINAL_ITEM_STATES for item in items),
            closed_at=_timestamp(closed_at) if closed_at else None,
            purged=bool(doc.get("personal_data_purged")),
        )
        entry.itemids = tuple(str(item.get("itemid")) for item in items)
        self._entries[key] = entry
        if entry.is_open:
            self._open_by_account.setdefault(entry.account, set()).add(key)
        self._by_purchaseid.setdefault(entry.purchaseid, set()).add(key)
        for itemid in entry.itemids:
            self._by_item[(entry.account, itemid)] = key
        if needs_after_sale_attention(doc):
            self._after_sale_by_account.setdefault(entry.account, set()).add(key)

    def remove(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        _discard(self._open_by_account, entry.account, key)
        _discard(self._by_purchaseid, entry.purchaseid, key)
        _discard(self._after_sale_by_account, entry.account, key)
        for itemid in entry.itemids:
            if self._by_item.get((entry.account, itemid)) == key:
                del self._by_item[(entry.account, itemid)]

    def keys(self, account: str | None, *, open_only: bool) -> list[str]:
        """Newest purchase first; orders without a purchase date last."""
        if open_only and account is not None:
            keys: Iterator[str] | set[str] = self._open_by_account.get(account, set())
        elif open_only:
            keys = (key for keys in self._open_by_account.values() for key in keys)
        elif account is not None:
            keys = (key for key, entry in self._entries.items() if entry.account == account)
        else:
            keys = iter(self._entries)
        return sorted(keys, key=lambda key: self._entries[key].sort_key, reverse=True)

    def key_for_item(self, account: str, itemid: str) -> str | None:
        return self._by_item.get((account, itemid))

    def after_sale_keys(self, account: str | None) -> list[str]:
        """Newest purchase first, as ``keys``."""
        if account is not None:
            keys: Iterator[str] | set[str] = self._after_sale_by_account.get(account, set())
        else:
            keys = (key for keys in self._after_sale_by_account.values() for key in keys)
        return sorted(keys, key=lambda key: self._entries[key].sort_key, reverse=True)

    def keys_for_purchaseid(self, purchaseid: str) -> set[str]:
        return set(self._by_purchaseid.get(purchaseid, set()))

    def closed_before(self, remove_before: float, purge_before: float) -> tuple[list[str], list[str]]:
        """(orders to remove, orders whose personal data to purge), both closed orders only."""
        expired: list[str] = []
        to_purge: list[str] = []
        for key, entry in self._entries.items():
            if entry.is_open or entry.closed_at is None:
                continue
            if entry.closed_at < remove_before:
                expired.append(key)
            elif entry.closed_at < purge_before and not entry.purged:
                to_purge.append(key)
        return expired, to_purge


class _AuditIndex:
    """Audit ids ordered by time, for newest-first listing and pruning by age."""

    def __init__(self, docs: dict[str, Doc]) -> None:
        self._order: list[tuple[float, str]] = sorted(
            (_timestamp(_parse_dt(doc.get("at")) or datetime.min.replace(tzinfo=UTC)), doc_id)
            for doc_id, doc in docs.items()
        )
        numbers = [int(doc_id) for doc_id in docs if doc_id.isdigit()]
        self._next = max(numbers, default=0) + 1

    def next_id(self) -> str:
        doc_id = str(self._next).zfill(_AUDIT_ID_WIDTH)
        self._next += 1
        return doc_id

    def add(self, doc_id: str, doc: Doc) -> None:
        at = _parse_dt(doc.get("at")) or datetime.min.replace(tzinfo=UTC)
        bisect.insort(self._order, (_timestamp(at), doc_id))

    def newest_first(self) -> Iterator[str]:
        return (doc_id for _, doc_id in reversed(self._order))

    def pop_older_than(self, cutoff: float) -> list[str]:
        split = bisect.bisect_left(self._order, (cutoff, ""))
        old = [doc_id for _, doc_id in self._order[:split]]
        del self._order[:split]
        return old


# --- helpers --------------------------------------------------------------------------------------------


def _parse_dt(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _timestamp(moment: datetime) -> float:
    # Naive datetimes are taken as UTC so that they sort with aware ones instead of raising.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _discard(groups: dict[str, set[str]], group: str, key: str) -> None:
    members = groups.get(group)
    if members is None:
        return
    members.discard(key)
    if not members:
        del groups[group]


def _ensure_private_dir(directory: Path) -> None:
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"Cannot create the data directory {directory}: {exc}") from exc
    if not os.access(directory, os.W_OK | os.X_OK):
        raise StoreError(f"The data directory {directory} is not writable by this process")
