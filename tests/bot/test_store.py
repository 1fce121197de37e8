"""The store contract, on both implementations (embedded TinyDB, PostgreSQL): records, copies, atomic updates,
batching, listing, pruning, audit and meta. Then what only the embedded store has: its files, its journal, crash
recovery and one process per data directory. What only PostgreSQL has (several processes on one database, the
schema's migrations) is in ``test_postgres_store.py``."""

from __future__ import annotations

import dataclasses
import inspect
import os
import stat
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from bot.crypto import TokenCipher
from bot.domain.accounts import AccountRecord, AccountSettings
from bot.domain.after_sale import ClaimInfo, EntryKind, ItemFetch, OutgoingReply, Party, ThreadEntry
from bot.domain.audit import AuditEntry
from bot.domain.orders import CardRef, ItemState, OrderRecord, PendingAction, PendingKind, Shipment
from bot.store import PruneReport, Store, StoreError, StoreLockedError, TinyDBStore
from bot.store.postgres_store import PostgresStore
from bot.store.storage import JOURNAL_NAME
from rakuten.models import Address, AddressKind, Money
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
PARIS = timezone(timedelta(hours=2))
NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
FAKE_CIPHERTEXT = "gAAAA-not-a-real-ciphertext"


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Switch threads every microsecond, so a read-modify-write without the lock would lose updates."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


STORE_KINDS = ["tinydb", "postgres"]


class StoreOpener:
    """Opens stores of one kind on this test's own storage (a temp directory, or a PostgreSQL schema), and tells
    how many durable writes were made since a mark: journal lines for the embedded store; for PostgreSQL, the
    transactions that left a row version behind (the distinct ``xmin`` of rows new or changed since the mark)."""

    def __init__(self, kind: str, location: str | Path, clock: FixedClock) -> None:
        self.kind = kind
        self.location = location
        self.clock = clock
        self.opened: list[Store] = []

    def __call__(self, clock: Callable[[], datetime] | None = None) -> Store:
        opened: Store
        if self.kind == "tinydb":
            opened = TinyDBStore(self.location, clock=clock or self.clock)
        else:
            opened = PostgresStore(str(self.location), clock=clock or self.clock)
        self.opened.append(opened)
        return opened

    def mark(self) -> object:
        if self.kind == "tinydb":
            return _journal_lines(Path(self.location))
        return self._row_versions()

    def writes_since(self, mark: object) -> int:
        if self.kind == "tinydb":
            assert isinstance(mark, int)
            return _journal_lines(Path(self.location)) - mark
        assert isinstance(mark, set)
        return len({xmin for row, xmin in self._row_versions() - mark})

    def _row_versions(self) -> set[tuple[str, str]]:
        with psycopg.connect(str(self.location)) as conn:
            rows = conn.execute(
                "SELECT 'account:' || login, xmin::text FROM accounts "
                "UNION ALL SELECT 'order:' || account || '/' || purchaseid, xmin::text FROM orders "
                "UNION ALL SELECT 'audit:' || id, xmin::text FROM audit "
                "UNION ALL SELECT 'meta:' || key, xmin::text FROM meta"
            ).fetchall()
        return {(row, xmin) for row, xmin in rows}

    def close_all(self) -> None:
        for opened in self.opened:
            opened.close()


def _journal_lines(data_dir: Path) -> int:
    path = data_dir / JOURNAL_NAME
    return len(path.read_bytes().splitlines()) if path.exists() else 0


@pytest.fixture(params=STORE_KINDS)
def opener(request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock) -> Iterator[StoreOpener]:
    location = request.getfixturevalue("pg_url") if request.param == "postgres" else tmp_path / "data"
    opening = StoreOpener(request.param, location, clock)
    yield opening
    opening.close_all()


@pytest.fixture
def store(opener: StoreOpener) -> Store:
    return opener()


def make_order(
    purchaseid: str,
    *,
    account: str = "boutique-zoe",
    state: ItemState = ItemState.TO_SHIP,
    purchase_date: datetime | None = datetime(2025, 6, 1, 9, 30, tzinfo=PARIS),
    closed_at: datetime | None = None,
) -> OrderRecord:
    """An order with every field set, so that a round trip that drops one shows."""
    shipped = state is ItemState.SHIPPED
    return factories.order(
        factories.item(
            f"{purchaseid}-1",
            state,
            headline="Le Petit Prince (édition illustrée)",
            rakuten_status="ACCEPTED",
            sku="PP-001",
            eans=("9782070612758",),
            price=Money(Decimal("12.90")),
            shipment=factories.shipment(shipped_by="U123", shipped_at=NOW) if shipped else None,
        ),
        factories.item(f"{purchaseid}-2", state, headline="Marque-page", price=Money(Decimal("2.50")), is_nego=True),
        account=account,
        purchaseid=purchaseid,
        purchase_date=purchase_date,
        shipping_type="Colissimo Express",
        is_express=True,
        ship_to=factories.address(civility="Mme", firstname="Zoé", address2=None, zipcode="75011", city="Paris"),
        buyer_login="zoe75",
        total=Money(Decimal("15.40")),
        card=card_of(account, purchaseid),
        first_seen_at=NOW,
        updated_at=None,
        closed_at=closed_at,
    )


def card_of(account: str, purchaseid: str) -> CardRef:
    """The order's own Slack message: a message is the card of one order only."""
    return CardRef(channel="C0ORDERS", ts=f"1719750000.{zlib.crc32(f'{account}/{purchaseid}'.encode()):010d}")


def make_account(login: str = "boutique-zoe", token_ciphertext: str | None = None) -> AccountRecord:
    return factories.account(
        login,
        token_ciphertext=token_ciphertext or FAKE_CIPHERTEXT,
        connected_by="UADMIN",
        connected_at=NOW,
        seller_id="12345",
        settings=AccountSettings(show_full_address=True, express_mention="S0SHIP", auto_accept=True, language="en"),
    )


# --- round trips ------------------------------------------------------------------------------------------


def test_account_round_trip(store: Store) -> None:
    account = make_account()
    store.save_account(account)

    assert store.get_account("boutique-zoe") == account
    assert store.get_account("someone-else") is None
    assert store.list_accounts() == [account]


def test_order_round_trip_with_everything_set(store: Store) -> None:
    order = make_order("1001")
    order.items[0].pending = PendingAction(
        kind=PendingKind.SHIP,
        requested_by="U123",
        requested_at=NOW,
        attempts=1,
        last_error="timeout",
        shipment=Shipment("Autre", "TRK1", tracking_url="https://track.example/TRK1"),
    )
    order.items[1].failure = "Item already shipped"
    order.card = dataclasses.replace(card_of("boutique-zoe", "1001"), thread_ts="1719749999.000001")
    order.post_started_at = NOW
    order.card_fingerprint = "abc123"
    store.save_order(order)

    stored = store.get_order("boutique-zoe", "1001")
    assert stored == order
    assert stored is not None
    assert stored.total == Money(Decimal("15.40"))
    assert stored.purchase_date is not None
    assert stored.purchase_date.utcoffset() == timedelta(hours=2)


def with_conversation(order: OrderRecord, *, answered: bool = False, posted: bool = True) -> OrderRecord:
    """The order with a buyer message on its first item (answered from Slack or not) and a claim that is over."""
    itemid = order.items[0].itemid
    after_sale = order.after_sale
    after_sale.entries.append(
        ThreadEntry(
            key=f"message:{itemid}:abc",
            kind=EntryKind.MESSAGE,
            itemid=itemid,
            party=Party.BUYER,
            sent_at=NOW - timedelta(hours=2),
            content="Bonjour, où est mon colis ?",
            sender_name="zoe75",
            stored_at=NOW,
            post_claim="c1" if posted else None,
            post_claimed_at=NOW if posted else None,
            posted_ts="1719750000.000200" if posted else None,
        )
    )
    after_sale.claims[itemid] = ClaimInfo("DAMAGED", "CLOSED", True, "abîmé", NOW - timedelta(days=1), NOW)
    after_sale.fetches[itemid] = ItemFetch(NOW, NOW, ("CLAIM",), found_claim=True, requested=2, answered=2)
    if answered:
        after_sale.replies.append(
            OutgoingReply("V1", itemid, Party.BUYER, "Parti ce matin.", "U123", NOW, attempts=1, done_at=NOW)
        )
        after_sale.entries.append(
            ThreadEntry(
                key="reply:V1",
                kind=EntryKind.MESSAGE,
                itemid=itemid,
                party=Party.SELLER,
                sent_at=NOW,
                content="Parti ce matin.",
                to=Party.BUYER,
                sent_by="U123",
                stored_at=NOW,
                posted_ts="1719750000.000300",
            )
        )
    return order


def test_order_round_trip_with_an_after_sale_conversation(store: Store) -> None:
    order = with_conversation(make_order("1001"), answered=True)
    order.items[0].pending = PendingAction(PendingKind.CANCEL, "U123", NOW, comment="Rupture de stock")
    store.save_order(order)

    assert store.get_order("boutique-zoe", "1001") == order


def test_an_order_stored_before_after_sale_loads_without_one(store: Store) -> None:
    order = make_order("1001")
    store.save_order(order)

    stored = store.get_order("boutique-zoe", "1001")
    assert stored is not None
    assert stored.after_sale.entries == []
    assert not stored.after_sale.needs_attention


def test_find_order_by_item_open_or_closed_and_per_account(store: Store) -> None:
    store.save_orders(
        [
            make_order("open"),
            make_order("shipped", state=ItemState.SHIPPED, closed_at=NOW),
            make_order("open", account="boutique-other"),
        ]
    )

    found = store.find_order_by_item("boutique-zoe", "shipped-2")
    assert found is not None
    assert found.purchaseid == "shipped"
    other = store.find_order_by_item("boutique-other", "open-1")
    assert other is not None
    assert other.account == "boutique-other"
    assert store.find_order_by_item("boutique-zoe", "unknown-1") is None
    assert store.find_order_by_item("boutique-nobody", "open-1") is None


def test_after_sale_listing_follows_what_waits_on_the_seller(store: Store) -> None:
    waiting = with_conversation(make_order("waiting", state=ItemState.SHIPPED, closed_at=NOW))
    answered = with_conversation(make_order("answered"), answered=True)
    unposted = with_conversation(make_order("unposted"), answered=True, posted=False)
    store.save_orders([waiting, answered, unposted, make_order("quiet")])

    listed = [order.purchaseid for order in store.list_after_sale_orders("boutique-zoe")]
    assert sorted(listed) == ["unposted", "waiting"]
    assert [order.purchaseid for order in store.list_after_sale_orders()] == listed
    assert store.list_after_sale_orders("boutique-other") == []

    def answer(order: OrderRecord) -> OrderRecord:
        return with_conversation(make_order("waiting", state=ItemState.SHIPPED, closed_at=NOW), answered=True)

    store.update_order("boutique-zoe", "waiting", answer)
    assert [order.purchaseid for order in store.list_after_sale_orders("boutique-zoe")] == ["unposted"]


def test_anonymising_blanks_what_buyers_wrote(store: Store) -> None:
    order = with_conversation(make_order("old", state=ItemState.SHIPPED, closed_at=NOW - timedelta(days=100)))
    order.after_sale.claims[order.items[0].itemid].comment = "Mon adresse est 8 rue des Lilas"
    store.save_order(order)

    store.prune(
        NOW,
        closed_retention=timedelta(days=365),
        personal_data_retention=timedelta(days=90),
        audit_retention=timedelta(days=730),
    )

    purged = store.get_order("boutique-zoe", "old")
    assert purged is not None
    assert [entry.content for entry in purged.after_sale.entries] == [""]
    assert purged.after_sale.entries[0].sender_name is None
    assert all(claim.comment is None for claim in purged.after_sale.claims.values())
    assert purged.after_sale.entries[0].posted_ts == "1719750000.000200"


def test_audit_and_meta_round_trip(store: Store) -> None:
    entry = AuditEntry(
        at=NOW, actor="U123", action="ship", account="boutique-zoe", purchaseid="1001", itemids=("1001-1",)
    )
    store.add_audit(entry)
    store.set_meta("bootstrap_admin", "UADMIN")

    assert store.list_audit() == [entry]
    assert store.get_meta("bootstrap_admin") == "UADMIN"
    store.set_meta("bootstrap_admin", None)
    assert store.get_meta("bootstrap_admin") is None


def test_everything_survives_reopening(opener: StoreOpener) -> None:
    order, account = make_order("1001"), make_account()
    entry = AuditEntry(at=NOW, actor="system", action="poll")
    first = opener()
    first.save_account(account)
    first.save_order(order)
    first.add_audit(entry)
    first.set_meta("k", "v")
    first.close()

    second = opener()
    assert second.get_account(account.login) == account
    assert second.get_order(order.account, order.purchaseid) == order
    assert second.list_audit() == [entry]
    assert second.get_meta("k") == "v"
    assert second.list_meta() == {"k": "v"}
    second.add_audit(entry)
    assert len(second.list_audit()) == 2  # ids continue after the stored ones


def test_returned_records_are_copies(store: Store) -> None:
    store.save_order(make_order("1001"))
    store.save_account(make_account())

    order = store.get_order("boutique-zoe", "1001")
    assert order is not None
    order.items[0].state = ItemState.SHIPPED
    order.items.append(dataclasses.replace(order.items[1], itemid="extra"))
    account = store.get_account("boutique-zoe")
    assert account is not None
    account.settings.language = "fr"
    account.settings.auto_accept = False

    assert store.get_order("boutique-zoe", "1001") == make_order("1001")
    assert store.get_account("boutique-zoe") == make_account()


def test_saved_record_is_copied_at_save_time(store: Store) -> None:
    order = make_order("1001")
    store.save_order(order)
    order.items[0].headline = "changed after saving"

    stored = store.get_order("boutique-zoe", "1001")
    assert stored is not None
    assert stored.items[0].headline == "Le Petit Prince (édition illustrée)"


@pytest.mark.parametrize("implementation_class", [TinyDBStore, PostgresStore])
def test_store_implements_every_protocol_method(implementation_class: type) -> None:
    methods = [(name, member) for name, member in inspect.getmembers(Store, inspect.isfunction) if name[0] != "_"]
    assert len(methods) == 22
    for name, member in methods:
        implementation = getattr(implementation_class, name)
        expected = list(inspect.signature(member).parameters)
        assert list(inspect.signature(implementation).parameters) == expected, name


# --- updates --------------------------------------------------------------------------------------------


def test_update_order_gives_a_copy_and_stores_the_result(store: Store) -> None:
    store.save_order(make_order("1001"))
    seen: list[OrderRecord] = []

    def mark_pending(order: OrderRecord) -> OrderRecord:
        seen.append(order)
        order.items[0].pending = PendingAction(PendingKind.SHIP, "U123", NOW)
        return order

    result = store.update_order("boutique-zoe", "1001", mark_pending)

    assert result is not None
    assert result is not seen[0]
    assert result.items[0].pending == PendingAction(PendingKind.SHIP, "U123", NOW)
    assert store.get_order("boutique-zoe", "1001") == result


def test_update_order_returning_none_stores_nothing(store: Store, opener: StoreOpener) -> None:
    store.save_order(make_order("1001"))
    mark = opener.mark()

    def look_only(order: OrderRecord) -> None:
        order.items[0].state = ItemState.REFUSED  # a change to the private copy, not stored

    result = store.update_order("boutique-zoe", "1001", look_only)

    assert result == make_order("1001")
    assert store.get_order("boutique-zoe", "1001") == make_order("1001")
    assert opener.writes_since(mark) == 0


def test_update_order_whose_change_fails_stores_nothing(store: Store) -> None:
    store.save_order(make_order("1001"))

    def fail_half_way(order: OrderRecord) -> OrderRecord:
        order.items[0].state = ItemState.SHIPPED
        raise RuntimeError("Rakuten said no")

    with pytest.raises(RuntimeError, match="Rakuten said no"):
        store.update_order("boutique-zoe", "1001", fail_half_way)
    assert store.get_order("boutique-zoe", "1001") == make_order("1001")


def test_update_of_missing_records_returns_none(store: Store) -> None:
    assert store.update_order("boutique-zoe", "404", lambda order: order) is None
    assert store.update_account("nobody", lambda account: account) is None
    assert store.list_orders(open_only=False) == []


def test_update_order_refuses_to_move_an_order(store: Store) -> None:
    store.save_order(make_order("1001"))

    with pytest.raises(StoreError, match="must not move order"):
        store.update_order("boutique-zoe", "1001", lambda order: dataclasses.replace(order, purchaseid="1002"))
    assert store.get_order("boutique-zoe", "1002") is None


@pytest.mark.usefixtures("frequent_thread_switches")
def test_update_order_is_atomic_across_threads(store: Store) -> None:
    order = make_order("1001")
    order.items[0].pending = PendingAction(PendingKind.SHIP, "U123", NOW, attempts=0)
    store.save_order(order)
    threads_count, increments = 8, 25
    start = threading.Barrier(threads_count)

    def increment(order: OrderRecord) -> OrderRecord:
        pending = order.items[0].pending
        assert pending is not None
        pending.attempts += 1
        return order

    def worker() -> None:
        start.wait(timeout=10)
        for _ in range(increments):
            store.update_order("boutique-zoe", "1001", increment)

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()

    stored = store.get_order("boutique-zoe", "1001")
    assert stored is not None
    assert stored.items[0].pending is not None
    assert stored.items[0].pending.attempts == threads_count * increments


@pytest.mark.usefixtures("frequent_thread_switches")
def test_update_account_is_atomic_across_threads(store: Store) -> None:
    account = make_account()
    account.seller_id = ""
    store.save_account(account)

    def change_once(account: AccountRecord) -> AccountRecord:
        account.seller_id = (account.seller_id or "") + "x"
        return account

    threads = [
        threading.Thread(target=lambda: [store.update_account("boutique-zoe", change_once) for _ in range(20)])
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()

    stored = store.get_account("boutique-zoe")
    assert stored is not None
    assert stored.seller_id == "x" * 120


def test_delete_account_keeps_its_orders(store: Store) -> None:
    store.save_account(make_account())
    store.save_order(make_order("1001"))

    assert store.delete_account("boutique-zoe") is True
    assert store.delete_account("boutique-zoe") is False
    assert store.get_account("boutique-zoe") is None
    assert store.get_order("boutique-zoe", "1001") is not None


# --- listing --------------------------------------------------------------------------------------------


def test_list_orders_open_only_newest_first(store: Store) -> None:
    store.save_orders(
        [
            make_order("old", purchase_date=datetime(2025, 5, 1, tzinfo=UTC)),
            make_order("undated", purchase_date=None),
            make_order("new", purchase_date=datetime(2025, 6, 2, 8, 0, tzinfo=PARIS)),
            make_order("mid", purchase_date=datetime(2025, 6, 2, 7, 0, tzinfo=UTC)),  # later than "new" in UTC
            make_order("done", state=ItemState.SHIPPED),
            make_order("other-shop", account="boutique-leo"),
        ]
    )

    def ids(orders: list[OrderRecord]) -> list[str]:
        return [order.purchaseid for order in orders]

    assert ids(store.list_orders("boutique-zoe")) == ["mid", "new", "old", "undated"]
    assert ids(list(store.iter_orders("boutique-zoe"))) == ["mid", "new", "old", "undated"]
    assert "done" in ids(store.list_orders("boutique-zoe", open_only=False))
    assert sorted(ids(store.list_orders())) == ["mid", "new", "old", "other-shop", "undated"]
    assert len(store.list_orders(open_only=False)) == 6


def test_open_listing_follows_state_changes(store: Store) -> None:
    store.save_order(make_order("1001"))

    def ship_all(order: OrderRecord) -> OrderRecord:
        for item in order.items:
            item.state = ItemState.SHIPPED
        return order

    store.update_order("boutique-zoe", "1001", ship_all)
    assert store.list_orders("boutique-zoe") == []

    def claim(order: OrderRecord) -> OrderRecord:
        order.items[0].state = ItemState.ON_HOLD
        return order

    store.update_order("boutique-zoe", "1001", claim)
    assert [order.purchaseid for order in store.list_orders("boutique-zoe")] == ["1001"]


def test_find_orders_looks_across_accounts(store: Store) -> None:
    store.save_orders([make_order("1001"), make_order("1001", account="boutique-leo"), make_order("2002")])

    assert [order.account for order in store.find_orders("1001")] == ["boutique-leo", "boutique-zoe"]
    assert store.find_orders("9999") == []


def test_closed_at_is_stamped_on_close_and_cleared_on_reopen(store: Store, clock: FixedClock) -> None:
    store.save_order(make_order("1001", state=ItemState.SHIPPED))
    stored = store.get_order("boutique-zoe", "1001")
    assert stored is not None
    assert stored.closed_at == NOW

    given = NOW - timedelta(days=3)
    store.save_order(make_order("1002", state=ItemState.REFUSED, closed_at=given))
    assert store.get_order("boutique-zoe", "1002").closed_at == given  # type: ignore[union-attr]

    store.save_order(make_order("1002", state=ItemState.ON_HOLD, closed_at=given))
    assert store.get_order("boutique-zoe", "1002").closed_at is None  # type: ignore[union-attr]


# --- batching and durability ----------------------------------------------------------------------------


def test_batch_is_one_durable_write(store: Store, opener: StoreOpener) -> None:
    mark = opener.mark()
    with store.batch():
        for n in range(10):
            store.save_order(make_order(f"10{n:02d}"))
        with store.batch():
            store.add_audit(AuditEntry(at=NOW, actor="system", action="poll"))
            store.update_order("boutique-zoe", "1000", lambda order: dataclasses.replace(order, card_fingerprint="x"))
        assert store.get_order("boutique-zoe", "1000").card_fingerprint == "x"  # type: ignore[union-attr]
        assert opener.writes_since(mark) == 0  # nothing durable (nor, on a server, seen by others) yet

    assert opener.writes_since(mark) == 1
    assert len(store.list_orders()) == 10


def test_batch_that_raises_keeps_the_writes_made_before(store: Store) -> None:
    def poll_failing_half_way() -> None:
        with store.batch():
            store.save_order(make_order("1001"))
            store.add_audit(AuditEntry(at=NOW, actor="system", action="poll"))
            raise RuntimeError("the poll failed half way")

    with pytest.raises(RuntimeError, match="half way"):
        poll_failing_half_way()

    assert store.get_order("boutique-zoe", "1001") == make_order("1001")
    assert len(store.list_audit()) == 1


def test_batch_holds_the_store_lock(store: Store) -> None:
    entered, outside_done = threading.Event(), threading.Event()

    def outside() -> None:
        entered.wait(timeout=10)
        store.save_order(make_order("outside"))
        outside_done.set()

    thread = threading.Thread(target=outside)
    thread.start()
    with store.batch():
        store.save_order(make_order("inside"))
        entered.set()
        assert not outside_done.wait(timeout=0.2)
        assert store.get_order("boutique-zoe", "outside") is None
    thread.join(timeout=10)
    assert outside_done.is_set()


# --- what only the embedded store has: files, journal, crash recovery -----------------------------------


def test_writes_survive_a_crash(tmp_path: Path, clock: FixedClock) -> None:
    crashed = TinyDBStore(tmp_path, clock=clock)
    crashed.save_account(make_account())
    with crashed.batch():
        crashed.save_orders([make_order("1001"), make_order("1002")])
    crashed.update_order("boutique-zoe", "1002", lambda order: dataclasses.replace(order, card_fingerprint="f2"))
    crashed.add_audit(AuditEntry(at=NOW, actor="U123", action="ship", purchaseid="1002"))
    crashed._abandon()

    with TinyDBStore(tmp_path, clock=clock) as recovered:
        assert recovered.get_account("boutique-zoe") == make_account()
        # Same purchase date: the higher purchaseid comes first.
        assert [order.purchaseid for order in recovered.list_orders()] == ["1002", "1001"]
        assert recovered.get_order("boutique-zoe", "1002").card_fingerprint == "f2"  # type: ignore[union-attr]
        assert recovered.list_audit(purchaseid="1002")[0].action == "ship"


def test_compaction_then_reopen_is_equivalent(tmp_path: Path, clock: FixedClock) -> None:
    with TinyDBStore(tmp_path, clock=clock, compact_journal_lines=3) as first:
        for n in range(10):
            first.save_order(make_order(f"{n}"))
        first.update_order("boutique-zoe", "4", lambda order: dataclasses.replace(order, shipping_type="Lettre"))
        before = first.list_orders(open_only=False)
    assert (tmp_path / JOURNAL_NAME).stat().st_size == 0

    with TinyDBStore(tmp_path, clock=clock) as second:
        assert second.list_orders(open_only=False) == before


def test_store_that_cannot_be_read_releases_its_lock(tmp_path: Path) -> None:
    with TinyDBStore(tmp_path) as first:
        first.save_order(make_order("1001"))
        first.save_order(make_order("1002"))
    (tmp_path / "store.json").write_text("{not json")

    for _ in range(2):  # a second attempt must meet the same error, not a leftover lock
        with pytest.raises(StoreError, match="not valid JSON") as raised:
            TinyDBStore(tmp_path)
        assert not isinstance(raised.value, StoreLockedError)


def test_closed_store_refuses_use(opener: StoreOpener) -> None:
    closed = opener()
    closed.close()
    closed.close()  # closing twice is harmless

    with pytest.raises(StoreError, match="closed"):
        closed.get_order("boutique-zoe", "1001")
    with pytest.raises(StoreError, match="closed"), closed.batch():
        pass


# --- one process per data directory ---------------------------------------------------------------------

_SECOND_PROCESS = """
import sys
from bot.store import StoreLockedError, TinyDBStore
try:
    TinyDBStore(sys.argv[1]).close()
except StoreLockedError as exc:
    print(exc)
    sys.exit(3)
print("opened")
"""


def run_second_process(data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", _SECOND_PROCESS, str(data_dir)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=30,
        check=False,
    )


def test_second_process_on_the_same_directory_is_refused(tmp_path: Path) -> None:
    with TinyDBStore(tmp_path):
        refused = run_second_process(tmp_path)

    assert refused.returncode == 3, refused.stderr
    assert "Another rakuten-bot process is already using the data directory" in refused.stdout
    assert str(tmp_path / "store.lock") in refused.stdout
    assert "RAKUTEN_DATA_DIR" in refused.stdout

    allowed = run_second_process(tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.strip() == "opened"


def test_second_store_in_the_same_process_is_refused(tmp_path: Path) -> None:
    with TinyDBStore(tmp_path), pytest.raises(StoreLockedError, match="already using the data directory"):
        TinyDBStore(tmp_path)


# --- pruning --------------------------------------------------------------------------------------------


def test_prune_removes_old_closed_orders_and_anonymises_older_ones(store: Store, opener: StoreOpener) -> None:
    store.save_orders(
        [
            make_order("ancient", state=ItemState.SHIPPED, closed_at=NOW - timedelta(days=400)),
            make_order("old", state=ItemState.SHIPPED, closed_at=NOW - timedelta(days=100)),
            make_order("refused", state=ItemState.REFUSED, closed_at=NOW - timedelta(days=95)),
            make_order("recent", state=ItemState.SHIPPED, closed_at=NOW - timedelta(days=10)),
            make_order("open-and-old", purchase_date=NOW - timedelta(days=500)),
        ]
    )
    store.add_audit(AuditEntry(at=NOW - timedelta(days=800), actor="U1", action="ship"))
    store.add_audit(AuditEntry(at=NOW - timedelta(days=1), actor="U1", action="accept"))
    mark = opener.mark()

    report = store.prune(
        NOW,
        closed_retention=timedelta(days=365),
        personal_data_retention=timedelta(days=90),
        audit_retention=timedelta(days=730),
    )

    assert report == PruneReport(orders_removed=1, orders_anonymised=2, audit_removed=1)
    assert opener.writes_since(mark) == 1
    assert store.get_order("boutique-zoe", "ancient") is None
    for purchaseid in ("old", "refused"):
        purged = store.get_order("boutique-zoe", purchaseid)
        assert purged is not None
        assert purged.personal_data_purged is True
        assert purged.buyer_login is None
        assert purged.ship_to == Address(kind=AddressKind.DELIVERY, country_code="FR")
        assert purged.items == make_order(purchaseid, state=purged.items[0].state).items
        assert purged.card == card_of("boutique-zoe", purchaseid)
    assert store.get_order("boutique-zoe", "recent") == make_order(
        "recent", state=ItemState.SHIPPED, closed_at=NOW - timedelta(days=10)
    )
    assert store.get_order("boutique-zoe", "open-and-old") == make_order(
        "open-and-old", purchase_date=NOW - timedelta(days=500)
    )
    assert [entry.action for entry in store.list_audit()] == ["accept"]

    again = store.prune(
        NOW,
        closed_retention=timedelta(days=365),
        personal_data_retention=timedelta(days=90),
        audit_retention=timedelta(days=730),
    )
    assert again == PruneReport(orders_removed=0, orders_anonymised=0, audit_removed=0)


def test_pruned_state_is_durable(opener: StoreOpener) -> None:
    first = opener()
    first.save_orders(
        [
            make_order("gone", state=ItemState.SHIPPED, closed_at=NOW - timedelta(days=400)),
            make_order("purged", state=ItemState.SHIPPED, closed_at=NOW - timedelta(days=100)),
        ]
    )
    first.prune(
        NOW,
        closed_retention=timedelta(days=365),
        personal_data_retention=timedelta(days=90),
        audit_retention=timedelta(days=730),
    )
    first.close()

    second = opener()
    assert [order.purchaseid for order in second.list_orders(open_only=False)] == ["purged"]
    assert second.find_orders("gone") == []
    for content in stored_contents(opener):
        assert b"Lilas" not in content
        assert b"zoe75" not in content


# --- audit listing --------------------------------------------------------------------------------------


def test_list_audit_newest_first_with_filters_and_limit(store: Store) -> None:
    for minutes, action, purchaseid in [(3, "accept", "1"), (1, "poll", None), (5, "ship", "1"), (2, "ship", "2")]:
        store.add_audit(
            AuditEntry(at=NOW + timedelta(minutes=minutes), actor="U1", action=action, purchaseid=purchaseid)
        )
    store.add_audit(AuditEntry(at=NOW, actor="U1", action="connect", account="boutique-leo"))

    assert [entry.action for entry in store.list_audit()] == ["ship", "accept", "ship", "poll", "connect"]
    assert [entry.action for entry in store.list_audit(purchaseid="1")] == ["ship", "accept"]
    assert [entry.action for entry in store.list_audit(account="boutique-leo")] == ["connect"]
    assert len(store.list_audit(limit=2)) == 2


# --- files on disk --------------------------------------------------------------------------------------


def stored_contents(opener: StoreOpener) -> list[bytes]:
    """Everything the store holds, as bytes: the data directory's files, or every row of every table."""
    if opener.kind == "tinydb":
        return [path.read_bytes() for path in Path(opener.location).rglob("*") if path.is_file()]
    with psycopg.connect(str(opener.location)) as conn:
        rows = conn.execute(
            "SELECT t::text FROM accounts t UNION ALL SELECT t::text FROM orders t "
            "UNION ALL SELECT t::text FROM audit t UNION ALL SELECT t::text FROM meta t"
        ).fetchall()
    return [row.encode() for (row,) in rows]


def test_data_directory_and_files_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    old_umask = os.umask(0o022)
    try:
        with TinyDBStore(data_dir) as private:
            private.save_order(make_order("1001"))
    finally:
        os.umask(old_umask)

    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    files = [path for path in data_dir.iterdir() if path.is_file()]
    assert {path.name for path in files} >= {"store.json", "store.journal"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_token_is_never_stored_in_clear(opener: StoreOpener, tmp_path: Path) -> None:
    clear_token = "c0ffee-rakuten-token-4f2a9b"
    store = opener()
    cipher = TokenCipher.from_data_dir(tmp_path / "key", None)
    ciphertext = cipher.encrypt(clear_token)
    store.save_account(make_account(token_ciphertext=ciphertext))

    assert any(ciphertext.encode() in content for content in stored_contents(opener))  # the account is stored
    assert not any(clear_token.encode() in content for content in stored_contents(opener))
    store.close()
    assert not any(clear_token.encode() in content for content in stored_contents(opener))
    reopened = opener()
    account = reopened.get_account("boutique-zoe")
    reopened.close()
    assert account is not None
    assert cipher.decrypt(account.token_ciphertext) == clear_token
