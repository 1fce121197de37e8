"""What only the PostgreSQL store has: several processes on one database (each with its own pool and its own
store lock, as replicas are), the unique keys, the schema's migrations, and a server that fails or goes away.

The contract both stores keep is in ``test_store.py``."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import sqlalchemy
from alembic import command
from psycopg.conninfo import make_conninfo
from setuptools import find_packages

from bot.config import Settings
from bot.domain.audit import AuditEntry
from bot.domain.orders import CardRef, ItemState, OrderRecord, PendingAction, PendingKind
from bot.startup import open_store_for_run
from bot.store import StoreError, TinyDBStore
from bot.store.database_url import database_url_problem, describe_database, libpq_conninfo
from bot.store.postgres_schema import alembic_config, head_revision
from bot.store.postgres_store import PostgresStore
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)
LOGIN = "boutique-zoe"

Replicas = Callable[[int], list[PostgresStore]]


@pytest.fixture
def replicas(pg_url: str) -> Iterator[Replicas]:
    """``replicas(n)``: n stores on one schema, each with its own connections and its own store lock."""
    opened: list[PostgresStore] = []

    def open_replicas(count: int) -> list[PostgresStore]:
        stores = [PostgresStore(pg_url) for _ in range(count)]
        opened.extend(stores)
        return stores

    yield open_replicas
    for store in opened:
        store.close()


def order(purchaseid: str = "1001", *, card: CardRef | None = None) -> OrderRecord:
    return factories.order(
        factories.item(f"{purchaseid}-1", ItemState.TO_ACCEPT),
        factories.item(f"{purchaseid}-2", ItemState.TO_ACCEPT),
        account=LOGIN,
        purchaseid=purchaseid,
        card=card,
    )


def run_together(workers: list[Callable[[], None]]) -> None:
    """Start every worker at the same moment, wait for all, and re-raise the first failure."""
    start = threading.Barrier(len(workers))
    failures: list[BaseException] = []

    def run(worker: Callable[[], None]) -> None:
        try:
            start.wait(timeout=10)
            worker()
        except BaseException as error:  # handed to the test thread, which re-raises it
            failures.append(error)

    threads = [threading.Thread(target=run, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()
    if failures:
        raise failures[0]


# --- replicas on one database ---------------------------------------------------------------------------


def test_two_replicas_never_lose_an_update(replicas: Replicas) -> None:
    first, second = replicas(2)
    base = order()
    base.unlisted_polls = 0
    first.save_order(base)
    increments = 30

    def count_once(current: OrderRecord) -> OrderRecord:
        current.unlisted_polls += 1
        return current

    def worker(store: PostgresStore) -> Callable[[], None]:
        return lambda: [store.update_order(LOGIN, "1001", count_once) for _ in range(increments)]  # type: ignore[func-returns-value]

    run_together([worker(store) for store in (first, second) for _ in range(3)])

    for store in (first, second):
        stored = store.get_order(LOGIN, "1001")
        assert stored is not None
        assert stored.unlisted_polls == 2 * 3 * increments


def test_an_item_is_claimed_once_whichever_replica_the_clicks_reach(replicas: Replicas) -> None:
    stores = replicas(3)
    stores[0].save_order(order())
    claimed_by: list[str] = []
    lock = threading.Lock()

    def click(store: PostgresStore, user: str) -> Callable[[], None]:
        def claim(current: OrderRecord) -> OrderRecord | None:
            item = current.item("1001-1")
            assert item is not None
            if item.pending is not None or item.state is not ItemState.TO_ACCEPT:
                return None  # already claimed: a second click sends nothing
            item.pending = PendingAction(PendingKind.ACCEPT, user, NOW)
            with lock:
                claimed_by.append(user)
            return current

        return lambda: [store.update_order(LOGIN, "1001", claim) for _ in range(5)]  # type: ignore[func-returns-value]

    run_together([click(store, f"U{n}{m}") for n, store in enumerate(stores) for m in range(2)])

    assert len(claimed_by) == 1
    stored = stores[2].get_order(LOGIN, "1001")
    assert stored is not None
    assert stored.items[0].pending is not None
    assert stored.items[0].pending.requested_by == claimed_by[0]
    assert stored.items[1].pending is None


def test_the_same_new_order_saved_by_two_replicas_is_one_order(replicas: Replicas) -> None:
    first, second = replicas(2)
    run_together([lambda: first.save_order(order("1001")), lambda: second.save_order(order("1001"))])

    assert [found.purchaseid for found in first.find_orders("1001")] == ["1001"]
    assert len(second.list_orders(open_only=False)) == 1


def test_a_batch_is_seen_by_other_replicas_all_at_once(replicas: Replicas) -> None:
    writer, reader = replicas(2)
    with writer.batch():
        writer.save_orders([order("1001"), order("1002")])
        writer.set_meta("bootstrap_admin", "U0ADMIN")
        assert reader.list_orders() == []
        assert reader.get_meta("bootstrap_admin") is None
    assert [found.purchaseid for found in reader.list_orders()] == ["1002", "1001"]
    assert reader.get_meta("bootstrap_admin") == "U0ADMIN"


# --- unique keys ----------------------------------------------------------------------------------------


def test_a_slack_message_is_the_card_of_one_order_only(replicas: Replicas) -> None:
    (store,) = replicas(1)
    card = CardRef(channel="C0ORDERS", ts="1764345600.000100")
    store.save_order(order("1001", card=card))

    with pytest.raises(StoreError, match="orders_one_order_per_card"):
        store.save_order(order("1002", card=card))
    assert store.get_order(LOGIN, "1002") is None

    def steal_card(current: OrderRecord) -> OrderRecord:
        return dataclasses.replace(current, card=card)

    store.save_order(order("1003"))
    with pytest.raises(StoreError, match="duplicate"):
        store.update_order(LOGIN, "1003", steal_card)
    assert store.get_order(LOGIN, "1003").card is None  # type: ignore[union-attr]


def test_a_batch_the_database_refuses_is_undone_whole(replicas: Replicas) -> None:
    (store,) = replicas(1)
    card = CardRef(channel="C0ORDERS", ts="1764345600.000100")
    store.save_order(order("1001", card=card))

    def batch_with_a_duplicate() -> None:
        with store.batch():
            store.save_order(order("1002"))
            store.add_audit(AuditEntry(at=NOW, actor="system", action="poll"))
            store.save_order(order("1003", card=card))

    with pytest.raises(StoreError, match="duplicate"):
        batch_with_a_duplicate()
    assert store.get_order(LOGIN, "1002") is None
    assert store.list_audit() == []
    store.save_order(order("1004"))  # the connection is usable again
    assert store.get_order(LOGIN, "1004") is not None


# --- schema migrations ----------------------------------------------------------------------------------


def schema_version(pg_url: str) -> list[str]:
    with psycopg.connect(pg_url) as conn:
        return [row[0] for row in conn.execute("SELECT version_num FROM alembic_version").fetchall()]


def test_opening_migrates_an_empty_schema_to_the_newest_revision(pg_url: str) -> None:
    with PostgresStore(pg_url) as store:
        store.save_order(order())
    assert schema_version(pg_url) == [head_revision()]

    with PostgresStore(pg_url) as reopened:  # already there: nothing to do, nothing lost
        assert reopened.get_order(LOGIN, "1001") == order()
    assert schema_version(pg_url) == [head_revision()]


def test_bots_starting_together_migrate_once(pg_url: str) -> None:
    opened: list[PostgresStore] = []
    lock = threading.Lock()

    def start() -> None:
        store = PostgresStore(pg_url)
        with lock:
            opened.append(store)

    try:
        run_together([start for _ in range(4)])
    finally:
        for store in opened:
            store.close()
    assert len(opened) == 4
    assert schema_version(pg_url) == [head_revision()]


def test_a_schema_migrated_by_a_newer_bot_is_refused(pg_url: str) -> None:
    PostgresStore(pg_url).close()
    with psycopg.connect(pg_url) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")

    with pytest.raises(StoreError, match=r"revision 9999, which this rakuten-bot does not know") as refused:
        PostgresStore(pg_url)
    assert "\n" not in str(refused.value)


def test_every_revision_downgrades_and_upgrades_again(pg_url: str) -> None:
    PostgresStore(pg_url).close()
    engine = sqlalchemy.create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(pg_url))
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
            assert sqlalchemy.inspect(connection).get_table_names() == ["alembic_version"]
            command.upgrade(config, "head")
    finally:
        engine.dispose()
    with PostgresStore(pg_url) as store:
        store.save_order(order())
        assert store.list_orders() == [order()]


def test_the_migrations_ship_inside_the_package() -> None:
    packages = find_packages(str(ROOT), include=["bot*"])
    assert {"bot.store.migrations", "bot.store.migrations.versions"} <= set(packages)
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"bot.store.migrations" = ["script.py.mako"]' in pyproject
    assert head_revision() == "0002"


# --- the server: unreachable, restarted, chosen by DATABASE_URL ----------------------------------------


def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    with pytest.raises(StoreError) as refused:
        PostgresStore("postgresql://bot:s3cret-pw@127.0.0.1:1/orders")
    message = str(refused.value)
    assert message.startswith("Cannot reach PostgreSQL at 127.0.0.1:1/orders: ")
    assert "s3cret-pw" not in message
    assert "\n" not in message


def test_connections_the_server_dropped_are_replaced(pg_url: str) -> None:
    name = f"rakuten-test-{id(pg_url)}"
    with PostgresStore(make_conninfo(pg_url, application_name=name)) as store:
        store.save_order(order())
        with psycopg.connect(pg_url, autocommit=True) as admin:
            ended = admin.execute(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s) AS terminated",
                (name,),
            ).fetchone()
        assert ended is not None
        assert ended[0] >= 1

        assert store.get_order(LOGIN, "1001") == order()
        store.save_order(order("1002"))
        assert len(store.list_orders()) == 2


def test_database_url_chooses_the_store(tmp_path: Path, pg_url: str) -> None:
    chosen = open_store_for_run(tmp_path / "data", database_url=pg_url)
    try:
        assert isinstance(chosen, PostgresStore)
    finally:
        chosen.close()
    assert not (tmp_path / "data").exists()  # nothing of the embedded store is made beside it
    embedded = open_store_for_run(tmp_path / "data")
    try:
        assert isinstance(embedded, TinyDBStore)
    finally:
        embedded.close()


def test_database_url_is_read_and_checked_without_echoing_it() -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}
    url = "postgresql://bot:pw@db.internal:5432/orders"
    assert Settings.from_env({**env, "DATABASE_URL": url}).database_url == url
    assert Settings.from_env(env).database_url is None
    assert "pw" not in repr(Settings.from_env({**env, "DATABASE_URL": url}))

    problem = database_url_problem("host=db password=s3cret-pw junk")
    assert problem is not None
    assert "s3cret-pw" not in problem
    assert database_url_problem("postgresql+psycopg://bot@db/orders") is None
    assert libpq_conninfo("postgresql+psycopg://bot@db/orders") == "postgresql://bot@db/orders"
    assert describe_database("postgresql://bot:pw@db.internal:5432/orders") == "PostgreSQL at db.internal:5432/orders"
