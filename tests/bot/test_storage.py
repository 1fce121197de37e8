"""The journaled TinyDB storage: durability, crash recovery, compaction."""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
from pathlib import Path

import pytest
from tinydb import Query, TinyDB
from tinydb.storages import JSONStorage

from bot.store.base import StoreError
from bot.store.storage import (
    JOURNAL_NAME,
    SNAPSHOT_NAME,
    TEMP_PREFIX,
    TEMP_SUFFIX,
    JournaledStorage,
    JournaledTable,
)


class _Db(TinyDB):
    table_class = JournaledTable


def open_db(directory: Path, **options: int) -> tuple[JournaledStorage, _Db]:
    storage = JournaledStorage(directory, **options)
    return storage, _Db(storage=lambda: storage)


def table(db: _Db, name: str = "orders") -> JournaledTable:
    found = db.table(name)
    assert isinstance(found, JournaledTable)
    return found


def journal_lines(directory: Path) -> list[bytes]:
    path = directory / JOURNAL_NAME
    return path.read_bytes().splitlines() if path.exists() else []


def state(directory: Path) -> dict[str, dict[str, dict[str, object]]]:
    storage = JournaledStorage(directory)
    try:
        return json.loads(json.dumps(storage.read()))
    finally:
        storage.abandon()


def test_each_write_is_one_journal_line_and_survives_without_close(tmp_path: Path) -> None:
    storage, db = open_db(tmp_path)
    orders = table(db)
    orders.put("shop/1", {"total": "9.90", "items": [{"itemid": "a"}]})
    orders.put("shop/2", {"total": "5.00", "items": []})

    assert len(journal_lines(tmp_path)) == 2
    storage.abandon()  # no flush, no compaction: as after a crash
    assert state(tmp_path) == {
        "orders": {"shop/1": {"total": "9.90", "items": [{"itemid": "a"}]}, "shop/2": {"total": "5.00", "items": []}}
    }


def test_a_line_holds_only_the_changed_document(tmp_path: Path) -> None:
    storage, db = open_db(tmp_path)
    orders = table(db)
    orders.put_many({f"shop/{n}": {"n": n, "padding": "x" * 500} for n in range(50)})
    before = (tmp_path / JOURNAL_NAME).stat().st_size

    orders.put("shop/7", {"n": 7, "padding": "changed"})

    line = journal_lines(tmp_path)[-1]
    assert (tmp_path / JOURNAL_NAME).stat().st_size - before == len(line) + 1
    assert line.count(b'"put"') == 1
    assert len(line) < 200
    storage.close()


def test_rewriting_an_unchanged_document_writes_nothing(tmp_path: Path) -> None:
    storage, db = open_db(tmp_path)
    orders = table(db)
    orders.put("shop/1", {"state": "to_ship"})
    orders.put("shop/1", {"state": "to_ship"})

    assert len(journal_lines(tmp_path)) == 1
    storage.close()


def test_deferred_writes_become_one_line(tmp_path: Path) -> None:
    storage, db = open_db(tmp_path)
    orders = table(db)
    with storage.deferred():
        orders.put("shop/1", {"v": 1})
        with storage.deferred():
            orders.put("shop/2", {"v": 2})
            orders.put("shop/1", {"v": 3})
        assert journal_lines(tmp_path) == []
        table(db, "audit").put("000000000001", {"action": "poll"})

    assert len(journal_lines(tmp_path)) == 1
    storage.abandon()
    assert state(tmp_path) == {
        "orders": {"shop/1": {"v": 3}, "shop/2": {"v": 2}},
        "audit": {"000000000001": {"action": "poll"}},
    }


def test_deferred_block_that_raises_still_writes_what_it_changed(tmp_path: Path) -> None:
    storage, db = open_db(tmp_path)
    orders = table(db)

    def record_card_then_fail() -> None:
        with storage.deferred():
            orders.put("shop/1", {"card": "C1/123.456"})
            raise RuntimeError("posting failed")

    with pytest.raises(RuntimeError):
        record_card_then_fail()

    storage.abandon()
    assert state(tmp_path) == {"orders": {"shop/1": {"card": "C1/123.456"}}}


def test_delete_is_journaled(tmp_path: Path) -> None:
    storage, db = open_db(tmp_path)
    orders = table(db)
    orders.put_many({"shop/1": {"v": 1}, "shop/2": {"v": 2}})
    assert orders.delete(["shop/1", "shop/9"]) == ["shop/1"]

    storage.abandon()
    assert state(tmp_path) == {"orders": {"shop/2": {"v": 2}}}


def test_tinydb_generic_operations_are_journaled_too(tmp_path: Path) -> None:
    storage, db = open_db(tmp_path)
    orders = table(db)
    orders.put_many({"shop/1": {"state": "to_ship"}, "shop/2": {"state": "shipped"}})
    table(db, "scratch").put("x", {"v": 1})

    orders.update({"state": "shipped", "carrier": "Colissimo"}, Query().state == "to_ship")
    db.drop_table("scratch")

    storage.abandon()
    assert state(tmp_path) == {
        "orders": {"shop/1": {"state": "shipped", "carrier": "Colissimo"}, "shop/2": {"state": "shipped"}}
    }


def test_torn_last_line_is_ignored_with_a_warning_and_cut_off(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    storage, db = open_db(tmp_path)
    table(db).put("shop/1", {"v": 1})
    table(db).put("shop/2", {"v": 2})
    storage.abandon()
    journal = tmp_path / JOURNAL_NAME
    whole = journal.read_bytes()
    journal.write_bytes(whole[: len(whole) - 15])  # the second append stopped half way

    with caplog.at_level(logging.WARNING, logger="bot.store.storage"):
        storage, db = open_db(tmp_path)
    assert "incomplete last line" in caplog.text
    assert storage.read() == {"orders": {"shop/1": {"v": 1}}}

    # New lines must not follow the garbage, or the next start would see a corrupt line in the middle.
    table(db).put("shop/3", {"v": 3})
    storage.abandon()
    assert state(tmp_path) == {"orders": {"shop/1": {"v": 1}, "shop/3": {"v": 3}}}


def test_whole_last_line_without_its_newline_is_kept(tmp_path: Path) -> None:
    storage, db = open_db(tmp_path)
    table(db).put("shop/1", {"v": 1})
    storage.abandon()
    journal = tmp_path / JOURNAL_NAME
    journal.write_bytes(journal.read_bytes().rstrip(b"\n"))

    storage, db = open_db(tmp_path)
    table(db).put("shop/2", {"v": 2})
    storage.abandon()

    assert state(tmp_path) == {"orders": {"shop/1": {"v": 1}, "shop/2": {"v": 2}}}
    assert len(journal_lines(tmp_path)) == 2


def test_corrupt_line_in_the_middle_refuses_to_open(tmp_path: Path) -> None:
    storage, db = open_db(tmp_path)
    for n in range(3):
        table(db).put(f"shop/{n}", {"v": n})
    storage.abandon()
    journal = tmp_path / JOURNAL_NAME
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"v":1', b'"v":7')  # a flipped byte: the checksum no longer matches
    journal.write_bytes(b"".join(lines))
    damaged = journal.read_bytes()

    with pytest.raises(StoreError, match=r"corrupt at line 2 of 3"):
        JournaledStorage(tmp_path)
    assert journal.read_bytes() == damaged


def test_corrupt_snapshot_refuses_to_open(tmp_path: Path) -> None:
    (tmp_path / SNAPSHOT_NAME).write_text('{"orders": {"shop/1": {"v": 1}')

    with pytest.raises(StoreError, match="not valid JSON"):
        JournaledStorage(tmp_path)
    assert (tmp_path / SNAPSHOT_NAME).read_text() == '{"orders": {"shop/1": {"v": 1}'


def test_snapshot_that_is_not_a_database_refuses_to_open(tmp_path: Path) -> None:
    (tmp_path / SNAPSHOT_NAME).write_text('{"orders": [1, 2]}')

    with pytest.raises(StoreError, match="not a TinyDB database"):
        JournaledStorage(tmp_path)


def test_compaction_writes_an_equivalent_plain_tinydb_snapshot(tmp_path: Path) -> None:
    storage, db = open_db(tmp_path, compact_journal_lines=5)
    orders = table(db)
    for n in range(7):
        orders.put(f"shop/{n}", {"n": n, "name": "Zoé"})
    orders.delete(["shop/0"])
    expected = json.loads(json.dumps(storage.read()))

    # The fifth line crossed the threshold: the journal was folded in and only later lines remain.
    assert len(journal_lines(tmp_path)) == 3
    storage.close()
    assert journal_lines(tmp_path) == []

    plain = TinyDB(tmp_path / SNAPSHOT_NAME, storage=JSONStorage, access_mode="r")
    assert plain.storage.read() == expected
    assert plain.table("orders").get(doc_id="shop/3") == {"n": 3, "name": "Zoé"}
    plain.close()
    assert state(tmp_path) == expected


def test_compaction_by_journal_size(tmp_path: Path) -> None:
    storage, db = open_db(tmp_path, compact_journal_bytes=4096)
    for n in range(20):
        table(db).put(f"shop/{n}", {"padding": "x" * 400})

    assert (tmp_path / JOURNAL_NAME).stat().st_size < 4096
    assert (tmp_path / SNAPSHOT_NAME).exists()
    storage.abandon()
    assert len(state(tmp_path)["orders"]) == 20


def test_replaying_a_journal_already_in_the_snapshot_changes_nothing(tmp_path: Path) -> None:
    """A crash after the snapshot replace but before the journal was emptied."""
    storage, db = open_db(tmp_path)
    orders = table(db)
    orders.put("shop/1", {"v": 1})
    orders.put("shop/2", {"v": 2})
    orders.put("shop/1", {"v": 3})
    orders.delete(["shop/2"])
    orders.put("shop/2", {"v": 4})
    stale_journal = (tmp_path / JOURNAL_NAME).read_bytes()
    storage.close()
    (tmp_path / JOURNAL_NAME).write_bytes(stale_journal)

    assert state(tmp_path) == {"orders": {"shop/1": {"v": 3}, "shop/2": {"v": 4}}}


def test_unfinished_snapshot_temp_files_are_removed(tmp_path: Path) -> None:
    leftover = tmp_path / f"{TEMP_PREFIX}abc123{TEMP_SUFFIX}"
    leftover.write_text('{"orders": {"half')
    unrelated = tmp_path / "notes.txt"
    unrelated.write_text("keep me")

    storage = JournaledStorage(tmp_path)
    storage.close()

    assert not leftover.exists()
    assert unrelated.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([SNAPSHOT_NAME, JOURNAL_NAME, "notes.txt"])


def test_failed_append_leaves_no_partial_line_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage, db = open_db(tmp_path)
    orders = table(db)
    orders.put("shop/1", {"v": 1})
    size = (tmp_path / JOURNAL_NAME).stat().st_size
    real_write = os.write

    def write_half_then_fail(fd: int, data: bytes) -> int:
        real_write(fd, bytes(data[:10]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("bot.store.storage.os.write", write_half_then_fail)
    with pytest.raises(StoreError, match="No space left on device"):
        orders.put("shop/2", {"v": 2})
    with pytest.raises(StoreError, match="No space left on device"):
        orders.put("shop/1", {"v": 10})
    assert (tmp_path / JOURNAL_NAME).stat().st_size == size
    # Memory does not run ahead of the disk: the failed writes are undone.
    assert orders.get(doc_id="shop/2") is None
    assert orders.get(doc_id="shop/1") == {"v": 1}

    monkeypatch.setattr("bot.store.storage.os.write", real_write)
    orders.put("shop/3", {"v": 3})
    storage.abandon()
    assert state(tmp_path) == {"orders": {"shop/1": {"v": 1}, "shop/3": {"v": 3}}}


def test_files_are_private(tmp_path: Path) -> None:
    old_umask = os.umask(0)
    try:
        storage, db = open_db(tmp_path)
        table(db).put("shop/1", {"v": 1})
        storage.close()
    finally:
        os.umask(old_umask)

    for name in (SNAPSHOT_NAME, JOURNAL_NAME):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


def test_closed_storage_refuses_use(tmp_path: Path) -> None:
    storage, db = open_db(tmp_path)
    storage.close()

    with pytest.raises(StoreError, match="closed"):
        storage.read()
    with pytest.raises(StoreError, match="closed"):
        table(db).put("shop/1", {"v": 1})
