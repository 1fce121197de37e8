"""``rakuten-bot migrate-store --from DATA_DIR --to DATABASE_URL``: copy the embedded store into PostgreSQL.

Everything is copied through the two stores' own interface, in one transaction on the PostgreSQL side (a failure
leaves the database as empty as it was, and the command can simply run again): accounts with their tokens still
encrypted as stored, every order open or closed with its card reference, the audit trail in its order, and the
meta settings. Then both stores are counted again, each through its own reads, and the counts compared.

The embedded store is opened as the bot opens it: refused while a bot runs on the directory (its lock), or when
its data was lost or is damaged. The target must hold no store yet: merging two stores is not a copy.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import TextIO

from bot.crypto import KEY_FILE_NAME
from bot.domain.orders import OrderRecord
from bot.store.base import Store, StoreError
from bot.store.data_dir import survey
from bot.store.database_url import describe_database
from bot.store.postgres_store import PostgresStore
from bot.store.storage import SNAPSHOT_NAME
from bot.store.tinydb_store import TinyDBStore

_ORDERS_PER_STATEMENT_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Counts:
    accounts: int = 0
    orders: int = 0
    audit: int = 0
    meta: int = 0

    @classmethod
    def of(cls, store: Store) -> Counts:
        """What ``store`` gives back through its own reads (the orders open and closed)."""
        return cls(
            accounts=len(store.list_accounts()),
            orders=sum(1 for _ in store.iter_orders(open_only=False)),
            audit=len(store.list_audit(limit=sys.maxsize)),
            meta=len(store.list_meta()),
        )

    @property
    def empty(self) -> bool:
        return not any(astuple(self))


@dataclass(frozen=True, slots=True)
class MigrationReport:
    source: Counts
    target: Counts
    seconds: float

    @property
    def complete(self) -> bool:
        return self.source == self.target


def copy_store(source: Store, target: Store) -> MigrationReport:
    """Copy every record of ``source`` into the empty ``target`` in one batch, then count both.

    StoreError, with nothing written, when ``target`` already holds something.
    """
    started = time.perf_counter()
    existing = Counts.of(target)
    if not existing.empty:
        raise StoreError(
            f"The target already holds a store ({_listing(existing)}): migrate-store copies into an empty "
            "database only. Point --to at an empty database (or schema)."
        )
    # Everything is read before the first write: a record the source cannot give back then stops the copy
    # before it starts, instead of half way through the batch (which would keep what it had written).
    accounts = source.list_accounts()
    orders = source.list_orders(open_only=False)
    audit = source.list_audit(limit=sys.maxsize)
    meta = source.list_meta()
    with target.batch():
        for account in accounts:
            target.save_account(account)
        for chunk in _chunks(orders, _ORDERS_PER_STATEMENT_BATCH):
            target.save_orders(chunk)
        for entry in reversed(audit):  # oldest first: entries made at the same moment keep their order
            target.add_audit(entry)
        for key, value in meta.items():
            target.set_meta(key, value)
    source_counts, target_counts = Counts.of(source), Counts.of(target)
    return MigrationReport(source_counts, target_counts, time.perf_counter() - started)


def migrate_store(data_dir: Path, database_url: str, out: TextIO | None = None) -> int:
    """The command: copy, verify, and say so in a few lines (on stdout). Exit status 0 when every count matches."""
    out = out or sys.stdout
    where = describe_database(database_url)
    if survey(data_dir).is_new:
        print(f"rakuten-bot: no embedded store in {data_dir} (no {SNAPSHOT_NAME}): nothing to copy.", file=out)
        return 1
    try:
        with TinyDBStore(data_dir) as source, PostgresStore(database_url) as target:
            report = copy_store(source, target)
    except StoreError as error:
        print(f"rakuten-bot: {error}", file=out)
        return 1
    print(f"Copied the embedded store in {data_dir} into {where} in {report.seconds:.1f} s.", file=out)
    print(f"  {'':<9}{'embedded':>10}{'PostgreSQL':>12}", file=out)
    for field in fields(Counts):
        source, target = getattr(report.source, field.name), getattr(report.target, field.name)
        mark = "" if source == target else "   <- differs"
        print(f"  {field.name:<9}{source:>10}{target:>12}{mark}", file=out)
    if not report.complete:
        print("The counts differ: do not switch to DATABASE_URL; run the copy again into an empty database.", file=out)
        return 1
    print(f"Every count matches. {_key_advice(data_dir)}", file=out)
    return 0


def _key_advice(data_dir: Path) -> str:
    key_file = data_dir / KEY_FILE_NAME
    if key_file.exists():
        return (
            f"The Rakuten tokens were copied encrypted, as stored, with the key in {key_file}: every bot on this "
            "database needs it (set RAKUTEN_SECRET_KEY to that file's contents)."
        )
    return (
        "The Rakuten tokens were copied encrypted, as stored, with RAKUTEN_SECRET_KEY: every bot on this database "
        "needs that same key."
    )


def _listing(counts: Counts) -> str:
    return ", ".join(f"{getattr(counts, field.name)} {field.name}" for field in fields(Counts))


def _chunks(orders: list[OrderRecord], size: int) -> Iterator[list[OrderRecord]]:
    for start in range(0, len(orders), size):
        yield orders[start : start + size]
