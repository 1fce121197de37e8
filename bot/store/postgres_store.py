"""The server-backed store: PostgreSQL (``DATABASE_URL``), shared by any number of bot processes.

Tables (``bot/store/migrations``): ``accounts`` (login), ``orders`` (account + purchaseid), ``audit`` (a sequence)
and ``meta`` (key). Each record is stored whole as its JSON document (``bot.store.documents``, in JSONB), beside
the few columns that listing and pruning filter and sort on; records handed out are built afresh from the
documents, so changing one changes nothing until it is saved.

What the embedded store gets from owning its directory, this one gets from the database:

- ``update_order`` / ``update_account`` read the row ``FOR UPDATE`` in the transaction that writes it back, so two
  processes changing one order take turns and neither change is lost; a claim (an item's pending action) is such
  an update, so an item is claimed once, whichever process the clicks reach.
- ``batch()`` is one transaction: the others see all of its writes when it ends, or none.
- One row per order (primary key), and one order per Slack message (a unique index on the card's channel and ts).

Within one process, writes also take the store lock while a batch holds it, as in the embedded store: the
services' check-then-act inside a batch stays atomic among the process's threads. Reads never wait for it: they
see what other transactions committed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from bot.domain.accounts import AccountRecord
from bot.domain.audit import AuditEntry
from bot.domain.orders import OrderRecord, order_key
from bot.store.base import PruneReport, StoreError
from bot.store.database_url import describe_database
from bot.store.documents import account_from_doc, audit_from_doc, order_from_doc, to_doc, without_personal_data
from bot.store.postgres_schema import CONNECT_TIMEOUT_SECONDS, upgrade_schema, with_connect_timeout

log = logging.getLogger(__name__)

Doc = dict[str, Any]
DEFAULT_POOL_SIZE = 10

_UPSERT_ORDER = """
    INSERT INTO orders (account, purchaseid, is_open, purchase_at, closed_at, personal_data_purged, card_channel,
                        card_ts, doc, after_sale_open)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (account, purchaseid) DO UPDATE SET
        is_open = EXCLUDED.is_open, purchase_at = EXCLUDED.purchase_at, closed_at = EXCLUDED.closed_at,
        personal_data_purged = EXCLUDED.personal_data_purged, card_channel = EXCLUDED.card_channel,
        card_ts = EXCLUDED.card_ts, doc = EXCLUDED.doc, after_sale_open = EXCLUDED.after_sale_open
"""
# Newest purchase first, undated orders last; ties as the embedded store breaks them (higher purchaseid first).
_NEWEST_FIRST = "ORDER BY purchase_at DESC NULLS LAST, purchaseid DESC, account DESC"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PostgresStore:
    """``Store`` on PostgreSQL. ``conninfo`` is a libpq URL or key=value string (``DATABASE_URL``); the tables live
    in the first schema of its search path (``?options=-csearch_path%3Dname`` picks another than ``public``).

    Opening applies the schema migrations (``bot.store.postgres_schema``). StoreError, with one line saying why,
    when the server cannot be reached or its schema is newer than this code.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        clock: Callable[[], datetime] = _utc_now,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> None:
        self._where = describe_database(conninfo)
        self._clock = clock
        conninfo = with_connect_timeout(conninfo)
        upgrade_schema(conninfo)
        self._pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            # A connection the server dropped (restart, failover) is replaced before use, not handed out.
            check=ConnectionPool.check_connection,
            name="rakuten-store",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
        except psycopg.Error as error:
            self._pool.close()
            raise StoreError(f"Cannot reach {self._where}: {_first_line(error)}") from error
        self._lock = threading.RLock()
        self._local = threading.local()  # .conn: this thread's batch connection, while it is in a batch
        self._closed = False

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def where(self) -> str:
        """The server and database, for messages (no password)."""
        return self._where

    @contextmanager
    def batch(self) -> Iterator[None]:
        with self._lock:
            self._check_open()
            if self._batch_connection() is not None:
                yield
                return
            with self._errors(), self._pool.connection() as conn:
                self._local.conn = conn
                try:
                    yield
                except BaseException:
                    # The caller's exception: keep what was written before it, as the embedded store does.
                    # A failed statement has aborted the transaction already; then the pool rolls it back.
                    if conn.info.transaction_status is TransactionStatus.INTRANS:
                        conn.commit()
                    raise
                finally:
                    self._local.conn = None

    # --- accounts -------------------------------------------------------------------------------------

    def get_account(self, login: str) -> AccountRecord | None:
        with self._reading() as conn:
            row = conn.execute("SELECT doc FROM accounts WHERE login = %s", (login,)).fetchone()
        return account_from_doc(row[0]) if row else None

    def list_accounts(self) -> list[AccountRecord]:
        with self._reading() as conn:
            rows = conn.execute("SELECT doc FROM accounts ORDER BY login").fetchall()
        return [account_from_doc(doc) for (doc,) in rows]

    def save_account(self, account: AccountRecord) -> None:
        with self._writing() as conn:
            conn.execute(
                "INSERT INTO accounts (login, doc) VALUES (%s, %s) "
                "ON CONFLICT (login) DO UPDATE SET doc = EXCLUDED.doc",
                (account.login, Jsonb(to_doc(account))),
            )

    def update_account(
        self, login: str, change: Callable[[AccountRecord], AccountRecord | None]
    ) -> AccountRecord | None:
        with self._writing() as conn:
            row = conn.execute("SELECT doc FROM accounts WHERE login = %s FOR UPDATE", (login,)).fetchone()
            if row is None:
                return None
            changed = change(account_from_doc(row[0]))
            if changed is None:
                return account_from_doc(row[0])
            if changed.login != login:
                raise StoreError(f"update_account: the change must not rename account {login!r}")
            doc = to_doc(changed)
            conn.execute("UPDATE accounts SET doc = %s WHERE login = %s", (Jsonb(doc), login))
        return account_from_doc(doc)

    def delete_account(self, login: str) -> bool:
        with self._writing() as conn:
            return conn.execute("DELETE FROM accounts WHERE login = %s", (login,)).rowcount > 0

    # --- orders ---------------------------------------------------------------------------------------

    def get_order(self, account: str, purchaseid: str) -> OrderRecord | None:
        with self._reading() as conn:
            row = conn.execute(
                "SELECT doc FROM orders WHERE account = %s AND purchaseid = %s", (account, purchaseid)
            ).fetchone()
        return order_from_doc(row[0]) if row else None

    def find_orders(self, purchaseid: str) -> list[OrderRecord]:
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT doc FROM orders WHERE purchaseid = %s ORDER BY account || '/' || purchaseid", (purchaseid,)
            ).fetchall()
        return [order_from_doc(doc) for (doc,) in rows]

    def find_order_by_item(self, account: str, itemid: str) -> OrderRecord | None:
        with self._reading() as conn:
            row = conn.execute(
                "SELECT doc FROM orders WHERE account = %s AND doc -> 'items' @> %s LIMIT 1",
                (account, Jsonb([{"itemid": itemid}])),
            ).fetchone()
        return order_from_doc(row[0]) if row else None

    def list_after_sale_orders(self, account: str | None = None) -> list[OrderRecord]:
        conditions, params = _filters(account=account, after_sale_open=True)
        with self._reading() as conn:
            rows = conn.execute(f"SELECT doc FROM orders {conditions} {_NEWEST_FIRST}", params).fetchall()  # noqa: S608
        return [order_from_doc(doc) for (doc,) in rows]

    def list_orders(self, account: str | None = None, *, open_only: bool = True) -> list[OrderRecord]:
        """Newest purchase first, as committed when called."""
        return [order_from_doc(doc) for doc in self._order_docs(account, open_only=open_only)]

    def iter_orders(self, account: str | None = None, *, open_only: bool = True) -> Iterator[OrderRecord]:
        """Like ``list_orders``, building one record at a time (the documents are fetched at once: no connection
        stays checked out while the caller iterates)."""
        return (order_from_doc(doc) for doc in self._order_docs(account, open_only=open_only))

    def save_order(self, order: OrderRecord) -> None:
        self.save_orders([order])

    def save_orders(self, orders: list[OrderRecord]) -> None:
        if not orders:
            return
        with self._writing() as conn, conn.cursor() as cursor:
            cursor.executemany(_UPSERT_ORDER, [self._order_row(order, self._order_doc(order)) for order in orders])

    def update_order(
        self, account: str, purchaseid: str, change: Callable[[OrderRecord], OrderRecord | None]
    ) -> OrderRecord | None:
        key = order_key(account, purchaseid)
        with self._writing() as conn:
            row = conn.execute(
                "SELECT doc FROM orders WHERE account = %s AND purchaseid = %s FOR UPDATE", (account, purchaseid)
            ).fetchone()
            if row is None:
                return None
            changed = change(order_from_doc(row[0]))
            if changed is None:
                return order_from_doc(row[0])
            if changed.key != key:
                raise StoreError(f"update_order: the change must not move order {key!r} to {changed.key!r}")
            doc = self._order_doc(changed)
            conn.execute(_UPSERT_ORDER, self._order_row(changed, doc))
        return order_from_doc(doc)

    # --- audit trail ----------------------------------------------------------------------------------

    def add_audit(self, entry: AuditEntry) -> None:
        with self._writing() as conn:
            conn.execute(
                "INSERT INTO audit (at, account, purchaseid, doc) VALUES (%s, %s, %s, %s)",
                (_aware(entry.at), entry.account, entry.purchaseid, Jsonb(to_doc(entry))),
            )

    def list_audit(
        self, *, account: str | None = None, purchaseid: str | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        conditions, params = _filters(account=account, purchaseid=purchaseid)
        with self._reading() as conn:
            rows = conn.execute(
                f"SELECT doc FROM audit {conditions} ORDER BY at DESC, id DESC LIMIT %s",  # noqa: S608 (fixed texts)
                [*params, max(limit, 0)],
            ).fetchall()
        return [audit_from_doc(doc) for (doc,) in rows]

    # --- meta -----------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        with self._reading() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str | None) -> None:
        with self._writing() as conn:
            if value is None:
                conn.execute("DELETE FROM meta WHERE key = %s", (key,))
            else:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES (%s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    (key, value),
                )

    def list_meta(self) -> dict[str, str]:
        with self._reading() as conn:
            return dict(conn.execute("SELECT key, value FROM meta ORDER BY key").fetchall())

    # --- maintenance ----------------------------------------------------------------------------------

    def prune(
        self,
        now: datetime,
        *,
        closed_retention: timedelta,
        personal_data_retention: timedelta,
        audit_retention: timedelta,
    ) -> PruneReport:
        remove_before = _aware(now - closed_retention)
        purge_before = _aware(now - personal_data_retention)
        with self.batch(), self._writing() as conn:
            removed = conn.execute(
                "DELETE FROM orders WHERE NOT is_open AND closed_at < %s", (remove_before,)
            ).rowcount
            to_purge = conn.execute(
                "SELECT doc FROM orders WHERE NOT is_open AND closed_at < %s AND NOT personal_data_purged FOR UPDATE",
                (purge_before,),
            ).fetchall()
            purged = [without_personal_data(doc) for (doc,) in to_purge]
            if purged:
                with conn.cursor() as cursor:
                    cursor.executemany(_UPSERT_ORDER, [self._order_row(order_from_doc(doc), doc) for doc in purged])
            audit_removed = conn.execute("DELETE FROM audit WHERE at < %s", (_aware(now - audit_retention),)).rowcount
        report = PruneReport(orders_removed=removed, orders_anonymised=len(purged), audit_removed=audit_removed)
        log.info(
            "Store pruned: %d closed orders removed, %d anonymised, %d audit entries removed",
            report.orders_removed,
            report.orders_anonymised,
            report.audit_removed,
        )
        return report

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._pool.close()

    # --- internals ------------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("The store is closed")

    def _batch_connection(self) -> psycopg.Connection[Any] | None:
        return getattr(self._local, "conn", None)

    @contextmanager
    def _reading(self) -> Iterator[psycopg.Connection[Any]]:
        """This thread's batch connection (its own writes are visible there), else one from the pool."""
        self._check_open()
        batch = self._batch_connection()
        if batch is not None:
            with self._errors():
                yield batch
            return
        with self._errors(), self._pool.connection() as conn:
            yield conn

    @contextmanager
    def _writing(self) -> Iterator[psycopg.Connection[Any]]:
        """Under the store lock; inside this thread's batch its transaction, else a transaction of its own
        (committed at the end, rolled back if anything raises)."""
        with self._lock:
            self._check_open()
            with self._reading() as conn:
                yield conn

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Database failures as StoreError (a poll reports them as the store's); the caller's own errors pass."""
        try:
            yield
        except pg_errors.UniqueViolation as error:
            raise StoreError(f"{self._where} refused a duplicate: {_first_line(error)}") from error
        except psycopg.Error as error:
            raise StoreError(f"{self._where}: {_first_line(error)}") from error

    def _order_docs(self, account: str | None, *, open_only: bool) -> list[Doc]:
        conditions, params = _filters(account=account, is_open=True if open_only else None)
        with self._reading() as conn:
            rows = conn.execute(f"SELECT doc FROM orders {conditions} {_NEWEST_FIRST}", params).fetchall()  # noqa: S608
        return [doc for (doc,) in rows]

    def _order_doc(self, order: OrderRecord) -> Doc:
        """The order's document with ``closed_at`` kept truthful, as the embedded store does."""
        doc = to_doc(order)
        if order.is_open:
            doc["closed_at"] = None
        elif doc["closed_at"] is None:
            doc["closed_at"] = self._clock().isoformat()
        return doc

    @staticmethod
    def _order_row(order: OrderRecord, doc: Doc) -> Sequence[object]:
        """The row of ``order`` stored as ``doc``: its key columns come from the same record, in one statement."""
        card = order.card
        closed_at = doc.get("closed_at")
        return (
            order.account,
            order.purchaseid,
            order.is_open,
            _aware(order.purchase_date) if order.purchase_date else None,
            _aware(datetime.fromisoformat(closed_at)) if closed_at else None,
            bool(doc.get("personal_data_purged")),
            card.channel if card else None,
            card.ts if card else None,
            Jsonb(doc),
            order.after_sale.needs_attention,
        )


def _filters(**equal: object) -> tuple[str, list[object]]:
    """``WHERE`` over the given columns (None: no condition on it); the column names are this module's own."""
    pairs = [(column, value) for column, value in equal.items() if value is not None]
    if not pairs:
        return "", []
    return "WHERE " + " AND ".join(f"{column} = %s" for column, _ in pairs), [value for _, value in pairs]


def _aware(moment: datetime) -> datetime:
    # Naive datetimes are taken as UTC, as the embedded store sorts them.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
