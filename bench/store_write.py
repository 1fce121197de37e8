"""Store write latency with 10,000 open orders stored, against plain TinyDB in the same run.

    python bench/store_write.py [--orders 10000] [--writes 1000] [--baseline-writes 100]

Every figure is a durable write (fsync'd before the call returns), on the disk holding the temp directory.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tinydb import TinyDB
from tinydb.storages import JSONStorage

from bot.domain.orders import CardRef, ItemState, OrderItem, OrderRecord, Shipment
from bot.store import TinyDBStore
from bot.store.documents import to_doc
from bot.store.storage import JOURNAL_NAME, SNAPSHOT_NAME
from rakuten.models import Address, AddressKind, Money

ACCOUNT = "boutique-bench"
START = datetime(2025, 1, 1, 8, 0, tzinfo=UTC)
CITIES = [("Paris", "75011"), ("Lyon", "69003"), ("Marseille", "13006"), ("Lille", "59000"), ("Nantes", "44000")]


def make_order(n: int, rng: random.Random) -> OrderRecord:
    city, zipcode = rng.choice(CITIES)
    purchase_date = START + timedelta(minutes=7 * n)
    return OrderRecord(
        account=ACCOUNT,
        purchaseid=str(400_000_000 + n),
        purchase_date=purchase_date,
        shipping_type=rng.choice(["Normal", "Suivi", "Colissimo Express", "Mondial Relay"]),
        is_express=rng.random() < 0.2,
        items=[
            OrderItem(
                itemid=str(900_000_000 + 2 * n + k),
                headline=f"Article d'occasion n°{n}-{k} — très bon état, expédié sous 48 h",
                state=ItemState.TO_SHIP,
                rakuten_status="ACCEPTED",
                sku=f"SKU-{n:06d}-{k}",
                eans=(f"{3_000_000_000_000 + n * 2 + k}",),
                price=Money(Decimal(rng.randint(199, 9999)) / 100),
            )
            for k in range(2)
        ],
        ship_to=Address(
            kind=AddressKind.DELIVERY,
            civility="M.",
            firstname=f"Prénom{n}",
            lastname=f"Nom{n}",
            address1=f"{rng.randint(1, 200)} rue de la République",
            address2="Bâtiment B, 3e étage",
            zipcode=zipcode,
            city=city,
            country="France",
            country_code="FR",
            phone1=f"06{rng.randint(10_000_000, 99_999_999)}",
        ),
        buyer_login=f"acheteur{n}",
        total=Money(Decimal(rng.randint(500, 20000)) / 100),
        card=CardRef(channel="C0ORDERS", ts=f"{1_735_700_000 + n}.{n:06d}"),
        card_fingerprint=f"{rng.getrandbits(64):016x}",
        first_seen_at=purchase_date + timedelta(minutes=2),
        updated_at=purchase_date + timedelta(minutes=2),
    )


def changed(order: OrderRecord, rng: random.Random) -> OrderRecord:
    """What a click or a poll typically writes: a new card fingerprint and timestamp, sometimes a shipment."""
    order.card_fingerprint = f"{rng.getrandbits(64):016x}"
    order.updated_at = (order.updated_at or START) + timedelta(seconds=1)
    if rng.random() < 0.1:
        order.items[0].shipment = Shipment("Colissimo", f"6A{rng.randint(10**10, 10**11)}", shipped_by="U0PACKER")
    return order


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary(label: str, samples: list[float]) -> str:
    return (
        f"{label:<44} {len(samples):>6} {percentile(samples, 50):>9.3f} {percentile(samples, 95):>9.3f} "
        f"{percentile(samples, 99):>9.3f} {max(samples):>9.3f} {statistics.fmean(samples):>9.3f}"
    )


def size_mb(path: Path) -> float:
    return path.stat().st_size / 1e6 if path.exists() else 0.0


def bench_store(directory: Path, orders: list[OrderRecord], writes: int, rng: random.Random) -> list[str]:
    lines: list[str] = []
    store = TinyDBStore(directory)
    fill_ms = timed(lambda: store.save_orders(orders))
    store.compact()

    save_samples = []
    for _ in range(writes):
        order = changed(dataclasses.replace(orders[rng.randrange(len(orders))]), rng)
        order.items = [dataclasses.replace(item) for item in order.items]
        save_samples.append(timed(lambda order=order: store.save_order(order)))  # type: ignore[misc]

    update_samples = []
    for _ in range(writes):
        purchaseid = orders[rng.randrange(len(orders))].purchaseid
        update_samples.append(
            timed(lambda purchaseid=purchaseid: store.update_order(ACCOUNT, purchaseid, lambda o: changed(o, rng)))  # type: ignore[misc]
        )

    list_samples = [timed(lambda: store.list_orders(ACCOUNT)) for _ in range(5)]

    batch_orders = [changed(order, rng) for order in store.list_orders(ACCOUNT)[: min(1000, len(orders))]]

    def batched() -> None:
        with store.batch():
            for order in batch_orders:
                store.save_order(order)

    batch_ms = timed(batched)
    journal_mb = size_mb(directory / JOURNAL_NAME)
    snapshot_before_mb = size_mb(directory / SNAPSHOT_NAME)
    store._abandon()  # leave the journal in place, as a crash would

    reopened: list[TinyDBStore] = []
    open_with_journal_ms = timed(lambda: reopened.append(TinyDBStore(directory)))
    close_ms = timed(reopened[0].close)  # folds the journal into the snapshot
    open_compacted_ms = timed(lambda: reopened.append(TinyDBStore(directory)))
    count = len(reopened[1].list_orders(ACCOUNT))
    reopened[1].close()

    lines.append(summary("journaled store: save_order (changed order)", save_samples))
    lines.append(summary("journaled store: update_order", update_samples))
    lines.append(summary(f"journaled store: list_orders (open, {count})", list_samples))
    lines.append("")
    lines.append(f"initial fill, one save_orders of {len(orders)} orders: {fill_ms:9.1f} ms")
    lines.append(f"one batch of {len(batch_orders)} save_order calls (one journal line): {batch_ms:9.1f} ms")
    lines.append(f"open with a {journal_mb:.1f} MB journal to replay:      {open_with_journal_ms:9.1f} ms")
    lines.append(f"close (compaction into the snapshot):          {close_ms:9.1f} ms")
    lines.append(f"open after compaction:                         {open_compacted_ms:9.1f} ms")
    lines.append(
        f"files: snapshot {snapshot_before_mb:.1f} MB before the run, {size_mb(directory / SNAPSHOT_NAME):.1f} MB "
        f"after compaction; journal {journal_mb:.1f} MB after {2 * writes} single writes and one batch"
    )
    return lines


def bench_plain_tinydb(path: Path, orders: list[OrderRecord], writes: int, rng: random.Random) -> list[str]:
    db = TinyDB(path, storage=JSONStorage)
    table = db.table("orders")
    ids = table.insert_multiple(to_doc(order) for order in orders)
    samples = []
    for _ in range(writes):
        index = rng.randrange(len(orders))
        doc = to_doc(changed(orders[index], rng))
        samples.append(timed(lambda doc=doc, index=index: table.update(doc, doc_ids=[ids[index]])))  # type: ignore[misc]
    db.close()
    return [
        summary("plain TinyDB JSONStorage: update one order", samples),
        f"plain TinyDB file: {size_mb(path):.1f} MB rewritten on every write",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000, help="open orders stored (default 10000)")
    parser.add_argument("--writes", type=int, default=1_000, help="timed single writes (default 1000)")
    parser.add_argument("--baseline-writes", type=int, default=100, help="timed plain TinyDB writes (default 100)")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the stores (default: a temp dir)")
    args = parser.parse_args()

    rng = random.Random(20250630)
    orders = [make_order(n, rng) for n in range(args.orders)]
    doc_bytes = statistics.fmean(len(json.dumps(to_doc(order))) for order in orders[:200])
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        store_lines = bench_store(root / "journaled", orders, args.writes, rng)
        baseline_lines = bench_plain_tinydb(root / "plain.json", orders, args.baseline_writes, rng)

    print(f"Store write latency, {args.orders} open orders of ~{doc_bytes / 1000:.1f} kB each (ms)")
    print(f"{'':<44} {'writes':>6} {'p50':>9} {'p95':>9} {'p99':>9} {'max':>9} {'mean':>9}")
    for line in [*store_lines, "", *baseline_lines]:
        print(line)
    if args.baseline_writes:
        print()
        print("p50 and p99 include the fsync that makes each write durable, in both stores.")


if __name__ == "__main__":
    main()
