"""``rakuten-bot migrate-store``: an embedded store of 10,000 orders copied into PostgreSQL, tokens still encrypted,
counts verified; refusals that leave both sides as they were."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.crypto import TokenCipher
from bot.domain.audit import AuditEntry
from bot.domain.orders import CardRef, ItemState, OrderRecord
from bot.store import TinyDBStore
from bot.store.migrate import migrate_store
from bot.store.postgres_schema import head_revision
from bot.store.postgres_store import PostgresStore
from tests import factories

NOW = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)
ACCOUNTS = ("boutique-zoe", "boutique-leo", "librairie-mila")
CLEAR_TOKENS = {login: f"clear-token-of-{login}-7f3a" for login in ACCOUNTS}


def make_order(n: int) -> OrderRecord:
    """Every fifth order closed (shipped), the others open; each with its own card."""
    state = ItemState.SHIPPED if n % 5 == 0 else ItemState.TO_SHIP
    return factories.order(
        factories.item(f"{n}-1", state),
        factories.item(f"{n}-2", state),
        account=ACCOUNTS[n % len(ACCOUNTS)],
        purchaseid=str(500_000_000 + n),
        purchase_date=NOW - timedelta(minutes=n),
        card=CardRef(channel="C0ORDERS", ts=f"1764345600.{n:06d}"),
        first_seen_at=NOW - timedelta(minutes=n - 1),
        closed_at=NOW - timedelta(minutes=n - 2) if state.is_final else None,
    )


def fill_source(data_dir: Path, *, orders: int, audit: int) -> TokenCipher:
    with TinyDBStore(data_dir) as source:
        cipher = TokenCipher.from_data_dir(data_dir, None)  # writes data_dir/secret.key, as the bot does
        with source.batch():
            for login in ACCOUNTS:
                source.save_account(factories.account(login, token_ciphertext=cipher.encrypt(CLEAR_TOKENS[login])))
            source.save_orders([make_order(n) for n in range(orders)])
            for n in range(audit):
                # Pairs of entries at the same moment: their order must survive the copy.
                source.add_audit(
                    AuditEntry(
                        at=NOW - timedelta(seconds=n // 2),
                        actor="U0SELLER",
                        action=f"ship-{n}",
                        account=ACCOUNTS[n % len(ACCOUNTS)],
                        purchaseid=str(500_000_000 + n),
                        itemids=(f"{n}-1",),
                    )
                )
        source.set_meta("bootstrap_admin", "U0ADMIN")
    return cipher


def migrate(data_dir: Path, pg_url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The command's own function, in this process (``main`` would set up process-wide logging)."""
    status = migrate_store(data_dir, pg_url)
    return status, capsys.readouterr().out


def test_ten_thousand_orders_are_copied_with_their_tokens_still_encrypted(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    cipher = fill_source(data_dir, orders=10_000, audit=2_000)

    status, out = migrate(data_dir, pg_url, capsys)

    assert status == 0, out
    lines = out.splitlines()
    assert lines[0].startswith(f"Copied the embedded store in {data_dir} into PostgreSQL at 127.0.0.1")
    assert lines[2].split() == ["accounts", "3", "3"]
    assert lines[3].split() == ["orders", "10000", "10000"]
    assert lines[4].split() == ["audit", "2000", "2000"]
    assert lines[5].split() == ["meta", "1", "1"]
    assert lines[6].startswith("Every count matches.")
    assert str(data_dir / "secret.key") in lines[6]
    assert len(lines) == 7

    with TinyDBStore(data_dir) as source, PostgresStore(pg_url) as target:
        assert target.list_accounts() == source.list_accounts()
        for account in target.list_accounts():
            assert cipher.decrypt(account.token_ciphertext) == CLEAR_TOKENS[account.login]
        assert target.list_orders(open_only=False) == source.list_orders(open_only=False)
        assert len(target.list_orders()) == 8_000
        assert target.list_audit(limit=5_000) == source.list_audit(limit=5_000)
        assert target.list_meta() == {"bootstrap_admin": "U0ADMIN"}
        assert not any(
            clear in str(account) for account in target.list_accounts() for clear in CLEAR_TOKENS.values()
        )


def test_a_target_that_already_holds_a_store_is_refused(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    fill_source(data_dir, orders=3, audit=1)
    with PostgresStore(pg_url) as target:
        target.save_account(factories.account("already-here"))

    status, out = migrate(data_dir, pg_url, capsys)

    assert status == 1
    assert out.strip() == (
        "rakuten-bot: The target already holds a store (1 accounts, 0 orders, 0 audit, 0 meta): migrate-store "
        "copies into an empty database only. Point --to at an empty database (or schema)."
    )
    with PostgresStore(pg_url) as target:
        assert [account.login for account in target.list_accounts()] == ["already-here"]
        assert target.list_orders(open_only=False) == []


def test_a_copy_the_database_refuses_half_way_leaves_it_empty(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    fill_source(data_dir, orders=1_500, audit=10)
    with TinyDBStore(data_dir) as source:  # the embedded store lets two orders name one Slack message
        oldest = source.get_order(ACCOUNTS[1_499 % 3], str(500_000_000 + 1_499))  # copied in the second thousand
        assert oldest is not None
        source.save_order(dataclasses.replace(oldest, card=make_order(1).card))

    status, out = migrate(data_dir, pg_url, capsys)

    assert status == 1
    assert "orders_one_order_per_card" in out
    with PostgresStore(pg_url) as target:
        assert target.list_accounts() == []
        assert target.list_orders(open_only=False) == []
        assert target.list_audit() == []


def test_a_directory_without_a_store_is_refused_and_left_alone(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = migrate(tmp_path / "nothing-here", pg_url, capsys)

    assert status == 1
    nowhere = tmp_path / "nothing-here"
    assert out.strip() == f"rakuten-bot: no embedded store in {nowhere} (no store.json): nothing to copy."
    assert not (tmp_path / "nothing-here").exists()


def test_a_store_a_running_bot_holds_is_refused(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    fill_source(data_dir, orders=2, audit=0)
    with TinyDBStore(data_dir):
        status, out = migrate(data_dir, pg_url, capsys)

    assert status == 1
    assert "Another rakuten-bot process is already using the data directory" in out
    with PostgresStore(pg_url) as target:
        assert target.list_accounts() == []



def test_the_command_line_runs_it(tmp_path: Path, pg_url: str) -> None:
    data_dir = tmp_path / "data"
    fill_source(data_dir, orders=20, audit=3)

    done = subprocess.run(
        [sys.executable, "-m", "bot", "migrate-store", "--from", str(data_dir), "--to", pg_url],
        capture_output=True,
        text=True,
        env={key: value for key, value in os.environ.items() if key != "DATABASE_URL"},
        timeout=50,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[3].split() == ["orders", "20", "20"]
    assert "Every count matches." in done.stdout
    # the one log line of the schema's creation
    assert f"migrated from nothing to revision {head_revision()}" in done.stderr
