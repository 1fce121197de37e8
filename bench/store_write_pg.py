"""Store write latency at 10,000 open orders: PostgreSQL beside the embedded TinyDB store, in the same run.

    python bench/store_write_pg.py [--orders 10000] [--writes 1000] [--database-url URL] [--quick]

The same orders and the same changes go to both stores through the Store interface. Every figure is a durable
write: the embedded store fsyncs its journal line; PostgreSQL commits with fsync and synchronous_commit on (the
script prints both settings), on the same machine, over loopback. PostgreSQL runs in a schema made for the run
and dropped after it, on the server of --database-url (default: RAKUTEN_TEST_DATABASE_URL, else the machine's).
"""

from __future__ import annotations

import dataclasses
import os
import random
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psycopg
from _common import Distribution, Table, make_parser, parse, timed
from psycopg import sql
from psycopg.conninfo import make_conninfo
from store_write import ACCOUNT, changed, make_order

from bot.domain.orders import OrderRecord
from bot.store import Store, TinyDBStore
from bot.store.database_url import describe_database
from bot.store.postgres_store import PostgresStore

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
COLUMNS = ["ms", "writes", "p50", "p95", "p99", "max", "mean"]


@contextmanager
def bench_schema(url: str) -> Iterator[str]:
    """A schema of the run's own; yields a connection string whose search path is that schema."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(url, options=f"-csearch_path={name}")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


def durability(url: str) -> str:
    with psycopg.connect(url) as conn:
        shown = [(name, conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()) for name in
                 ("fsync", "synchronous_commit")]
    return ", ".join(f"{name}={row[0] if row else '?'}" for name, row in shown)


def ms(action: Callable[[], object]) -> float:
    return timed(action)[1] * 1000


def fresh_copy(order: OrderRecord) -> OrderRecord:
    copy = dataclasses.replace(order)
    copy.items = [dataclasses.replace(item) for item in order.items]
    return copy


def add_row(table: Table, label: str, samples: Sequence[float]) -> None:
    spread = Distribution.of(samples)
    table.add(label, spread.count, spread.p50, spread.p95, spread.p99, spread.maximum, spread.mean)


def bench(table: Table, label: str, store: Store, orders: list[OrderRecord], writes: int, seed: int) -> None:
    rng = random.Random(seed)  # the same orders and the same changes for both stores
    fill = ms(lambda: store.save_orders(orders))
    saves = []
    for _ in range(writes):
        order = changed(fresh_copy(orders[rng.randrange(len(orders))]), rng)
        saves.append(ms(lambda order=order: store.save_order(order)))  # type: ignore[misc]
    updates = []
    for _ in range(writes):
        purchaseid = orders[rng.randrange(len(orders))].purchaseid
        updates.append(
            ms(lambda purchaseid=purchaseid: store.update_order(ACCOUNT, purchaseid, lambda o: changed(o, rng)))  # type: ignore[misc]
        )
    listing = [ms(lambda: store.list_orders(ACCOUNT)) for _ in range(5)]
    batch_orders = [changed(order, rng) for order in store.list_orders(ACCOUNT)[:1000]]

    def batched() -> None:
        with store.batch():
            for order in batch_orders:
                store.save_order(order)

    add_row(table, f"{label}: save_order (changed order)", saves)
    add_row(table, f"{label}: update_order", updates)
    add_row(table, f"{label}: list_orders (open, {len(orders):,})", listing)
    add_row(table, f"{label}: one save_orders of {len(orders):,} (fill)", [fill])
    add_row(table, f"{label}: one batch of {len(batch_orders):,} save_order", [ms(batched)])


def bench_replicas(table: Table, conninfo: str, orders: list[OrderRecord], writes: int, seed: int) -> None:
    """Two stores on one database, as two replicas, updating at once; a tenth of the updates go to the same 10
    orders, so the replicas also queue on each other's row locks."""
    stores = [PostgresStore(conninfo) for _ in range(2)]
    samples: list[list[float]] = [[], []]
    start = threading.Barrier(2)

    def worker(index: int) -> None:
        rng = random.Random(seed + index)
        start.wait(timeout=30)
        for _ in range(writes):
            order = orders[rng.randrange(10) if rng.random() < 0.1 else rng.randrange(len(orders))]
            samples[index].append(
                ms(lambda: stores[index].update_order(ACCOUNT, order.purchaseid, lambda o: changed(o, rng)))  # noqa: B023
            )

    def run_both() -> None:
        threads = [threading.Thread(target=worker, args=(index,)) for index in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    _, elapsed = timed(run_both)
    for store in stores:
        store.close()
    both = samples[0] + samples[1]
    add_row(table, "PostgreSQL: update_order, 2 replicas at once", both)
    table.note(f"2 replicas: {len(both):,} updates in {elapsed:.2f} s, {len(both) / elapsed:,.0f} updates/s together.")


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument("--orders", type=int, default=10_000, help="open orders stored (default 10000)")
    parser.add_argument("--writes", type=int, default=1_000, help="timed writes of each kind (default 1000)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("RAKUTEN_TEST_DATABASE_URL") or DEFAULT_DATABASE_URL,
        help="PostgreSQL server to measure on (a schema is made for the run, then dropped)",
    )
    args = parse(parser, argv, {"orders": 200, "writes": 20})

    rng = random.Random(args.seed)
    orders = [make_order(n, rng) for n in range(args.orders)]
    table = Table(
        f"Store write latency with {args.orders:,} open orders: TinyDB and PostgreSQL in the same run",
        COLUMNS,
        decimals=3,
    )
    with tempfile.TemporaryDirectory() as tmp, TinyDBStore(Path(tmp) / "data") as embedded:
        bench(table, "TinyDB", embedded, orders, args.writes, args.seed)
    table.gap()
    with bench_schema(args.database_url) as conninfo:
        with PostgresStore(conninfo) as server:
            bench(table, "PostgreSQL", server, orders, args.writes, args.seed)
        bench_replicas(table, conninfo, orders, args.writes // 2, args.seed)
    table.note(
        f"PostgreSQL: {describe_database(args.database_url)}, {durability(args.database_url)}; TinyDB: journal "
        "fsynced per write, in a temp directory on the same machine. Every write is durable when the call returns."
    )
    print(table.render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
