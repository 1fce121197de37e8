"""A data dir's store: new, lost (refused with one line), set aside on purpose; failed writes change nothing."""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.crypto import KEY_FILE_NAME, create_key_file
from bot.store import StoreDataError, StoreError, StoreLockedError, TinyDBStore
from bot.store.data_dir import LOCK_NAME, StoreLostError, set_aside_store, survey
from bot.store.storage import JOURNAL_NAME, SNAPSHOT_NAME
from tests.bot.services.conftest import make_account, make_order

NOW = datetime(2026, 3, 1, 9, 30, 5, tzinfo=UTC)


def used_data_dir(directory: Path) -> Path:
    """A data dir the bot has run in: an account and an order stored, a key, then a crash (journal kept)."""
    store = TinyDBStore(directory)
    create_key_file(directory)
    store.save_account(make_account())
    store.save_order(make_order("1001"))
    store._abandon()
    return directory


# --------------------------------------------------------------------------------------------- new or lost


def test_a_new_store_writes_an_empty_snapshot_before_anything_else(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path / "data")
    try:
        assert (tmp_path / "data" / SNAPSHOT_NAME).read_bytes() == b"{}"
        assert stat.S_IMODE((tmp_path / "data" / SNAPSHOT_NAME).stat().st_mode) == 0o600
    finally:
        store._abandon()
    # A crash right after the first start: the directory reads as a store, not as a lost one.
    assert not survey(tmp_path / "data").store_lost
    TinyDBStore(tmp_path / "data").close()


@pytest.mark.parametrize("damage", ["deleted", "emptied", "blanked"])
def test_a_lost_snapshot_beside_the_journal_lock_or_key_is_refused(tmp_path: Path, damage: str) -> None:
    used_data_dir(tmp_path)
    snapshot = tmp_path / SNAPSHOT_NAME
    if damage == "deleted":
        snapshot.unlink()
    else:
        snapshot.write_bytes(b"" if damage == "emptied" else b" \n")
    before = sorted(path.name for path in tmp_path.iterdir())

    with pytest.raises(StoreLostError) as refused:
        TinyDBStore(tmp_path)

    message = str(refused.value)
    assert "\n" not in message
    assert f"{JOURNAL_NAME} (" in message
    assert LOCK_NAME in message
    assert KEY_FILE_NAME in message
    assert "`rakuten-bot run --start-empty`" in message
    assert sorted(path.name for path in tmp_path.iterdir()) == before
    with pytest.raises(StoreLostError):  # the lock was let go: the same answer again, not "locked"
        TinyDBStore(tmp_path)


@pytest.mark.parametrize("trace", [JOURNAL_NAME, LOCK_NAME, KEY_FILE_NAME])
def test_any_one_trace_of_an_earlier_run_means_the_store_was_lost(tmp_path: Path, trace: str) -> None:
    (tmp_path / trace).write_bytes(b"")

    with pytest.raises(StoreLostError, match=f"although {trace}"):
        TinyDBStore(tmp_path)


def test_a_directory_with_other_files_only_is_new(tmp_path: Path) -> None:
    (tmp_path / "README.txt").write_text("backups go elsewhere")

    TinyDBStore(tmp_path).close()

    assert (tmp_path / SNAPSHOT_NAME).exists()


def test_a_damaged_snapshot_or_journal_is_a_data_error(tmp_path: Path) -> None:
    used_data_dir(tmp_path)
    (tmp_path / SNAPSHOT_NAME).write_text("{not json")

    with pytest.raises(StoreDataError, match="--start-empty"):
        TinyDBStore(tmp_path)


# --------------------------------------------------------------------------------------------- set aside


def test_set_aside_moves_the_store_copies_the_key_and_leaves_an_empty_store(tmp_path: Path) -> None:
    used_data_dir(tmp_path)
    (tmp_path / SNAPSHOT_NAME).unlink()
    journal = (tmp_path / JOURNAL_NAME).read_bytes()
    key = (tmp_path / KEY_FILE_NAME).read_bytes()

    folder = set_aside_store(tmp_path, now=NOW)

    assert folder == tmp_path / "set-aside-20260301T093005Z"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert (folder / JOURNAL_NAME).read_bytes() == journal
    assert (folder / KEY_FILE_NAME).read_bytes() == key
    assert (tmp_path / KEY_FILE_NAME).read_bytes() == key  # still in use: copied, not moved
    assert not (tmp_path / JOURNAL_NAME).exists()
    with TinyDBStore(tmp_path) as fresh:
        assert fresh.list_accounts() == []


def test_set_aside_twice_in_one_second_uses_two_folders(tmp_path: Path) -> None:
    used_data_dir(tmp_path)

    first = set_aside_store(tmp_path, now=NOW)
    second = set_aside_store(tmp_path, now=NOW)

    assert first != second
    assert second.name == "set-aside-20260301T093005Z-2"
    assert (first / JOURNAL_NAME).exists()
    assert (second / SNAPSHOT_NAME).read_bytes() == b"{}"


def test_set_aside_waits_for_no_one_while_another_process_runs(tmp_path: Path) -> None:
    with TinyDBStore(tmp_path), pytest.raises(StoreLockedError):
        set_aside_store(tmp_path, now=NOW)

    assert not list(tmp_path.glob("set-aside-*"))


# ------------------------------------------------------------------------------------- writes that fail


def test_a_batch_that_cannot_be_written_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = TinyDBStore(tmp_path)
    store.save_order(make_order("1001"))

    def disk_full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def one_poll_s_writes() -> None:
        with store.batch():
            store.save_order(make_order("1002"))
            store.update_order("boutique-test", "1001", lambda order: dataclasses.replace(order, card_fingerprint="x"))

    real_write = os.write
    monkeypatch.setattr("bot.store.storage.os.write", disk_full)
    with pytest.raises(StoreError, match="No space left"):
        one_poll_s_writes()

    # Memory is what the disk holds: the new order is not known, the changed one is as it was, indexes agree.
    assert store.get_order("boutique-test", "1002") is None
    assert store.get_order("boutique-test", "1001").card_fingerprint is None  # type: ignore[union-attr]
    assert [order.purchaseid for order in store.list_orders()] == ["1001"]
    assert store.find_orders("1002") == []

    monkeypatch.setattr("bot.store.storage.os.write", real_write)
    store.save_order(make_order("1002"))
    store._abandon()
    with TinyDBStore(tmp_path) as reopened:
        assert sorted(order.purchaseid for order in reopened.list_orders()) == ["1001", "1002"]
