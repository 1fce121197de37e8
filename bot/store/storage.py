"""A crash-safe TinyDB storage that does not rewrite the whole database on every write.

TinyDB hands its storage the complete database on each write; its ``JSONStorage`` then rewrites the
whole file, which with thousands of open orders means megabytes per click. ``JournaledStorage`` keeps the
database in memory and makes each write durable as one appended, checksummed journal line holding only the
documents that changed. The journal is folded into a snapshot (``store.json``, plain TinyDB JSON) when it
grows past a threshold and on close: temp file, fsync, atomic replace, fsync of the directory, then the
journal is emptied.

A write that cannot be made durable (a full or read-only disk) changes nothing: the documents it touched are
put back in memory as they are on disk, and the caller gets StoreError. Memory never runs ahead of the disk, so
what the bot believes is stored survives a crash, and an order whose write failed is met as new again.

Every journal operation is absolute (a whole document, or a deletion), so replaying lines that a snapshot
already contains gives the same state: a crash between replacing the snapshot and emptying the journal
loses and duplicates nothing.

``JournaledTable`` is the TinyDB table to use with it: string document ids, and it tells the storage which
documents a write touched, so a write costs one document's serialisation instead of a diff of the database.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import Any

from tinydb.storages import Storage
from tinydb.table import Table

from bot.durable import sync_directory
from bot.store.base import StoreDataError, StoreError

log = logging.getLogger(__name__)

SNAPSHOT_NAME = "store.json"
JOURNAL_NAME = "store.journal"
TEMP_PREFIX = ".store.json."
TEMP_SUFFIX = ".tmp"

DEFAULT_COMPACT_JOURNAL_BYTES = 16 * 1024 * 1024
DEFAULT_COMPACT_JOURNAL_LINES = 20_000

Doc = dict[str, Any]
Tables = dict[str, dict[str, Doc]]

# ASCII output is both the fastest json encoder path and immune to encoding surprises in the files.
_dumps = partial(json.dumps, separators=(",", ":"))
_PUT, _DELETE, _DROP = "put", "del", "drop"


class JournaledStorage(Storage):
    """TinyDB storage over ``<directory>/store.json`` plus ``<directory>/store.journal``.

    Not thread-safe on its own: the caller serialises access (the store holds one lock around everything).
    """

    def __init__(
        self,
        directory: Path,
        *,
        compact_journal_bytes: int = DEFAULT_COMPACT_JOURNAL_BYTES,
        compact_journal_lines: int = DEFAULT_COMPACT_JOURNAL_LINES,
        on_undo: Callable[[], None] | None = None,
    ) -> None:
        """``on_undo`` is called after a failed write was undone in memory (to rebuild what derives from it)."""
        super().__init__()
        self._on_undo = on_undo
        self._dir = Path(directory)
        self._snapshot_path = self._dir / SNAPSHOT_NAME
        self._journal_path = self._dir / JOURNAL_NAME
        self._compact_bytes = compact_journal_bytes
        self._compact_lines = compact_journal_lines
        self._next_compaction_bytes = compact_journal_bytes
        self._dirty: dict[str, set[str]] = {}
        self._full_diff = False
        self._defer_depth = 0
        self._closed = False
        self._remove_temp_leftovers()
        self._tables = self._read_snapshot()
        valid_bytes, self._journal_lines, needs_newline = self._replay_journal(self._tables)
        # The serialised form of what is on disk: what writes are diffed against, and what a snapshot is made of.
        self._durable: dict[str, dict[str, str]] = {
            name: {doc_id: _dumps(doc) for doc_id, doc in docs.items()} for name, docs in self._tables.items()
        }
        self._journal_fd = os.open(self._journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._journal_bytes = valid_bytes
        self._repair_journal_tail(needs_newline)

    # --- the TinyDB Storage interface -----------------------------------------------------------------

    def read(self) -> Tables:
        self._check_open()
        return self._tables

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """TinyDB's generic path (e.g. ``drop_table``): adopt ``data`` and diff every document on flush."""
        self._check_open()
        self._tables = data
        self._full_diff = True
        self._flush_unless_deferred()

    def close(self) -> None:
        """Flush, fold the journal into the snapshot, and close the journal file."""
        if self._closed:
            return
        try:
            self.flush()
            if self._journal_bytes or not self._snapshot_path.exists():
                try:
                    self.compact()
                except StoreError:
                    # Every write is durable in the journal already; the next start replays it.
                    log.exception("Could not fold the store journal into the snapshot on close; the journal keeps it")
        finally:
            self._close_journal()

    # --- what JournaledTable and the store use ----------------------------------------------------------

    def commit(self, table: str, doc_ids: Iterable[str]) -> None:
        """Record that these documents of ``table`` may have changed in memory, and make that durable."""
        self._check_open()
        self._dirty.setdefault(table, set()).update(doc_ids)
        self._flush_unless_deferred()

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Collect every write made inside into one journal line, written when the outermost block exits.

        The line is written also when the block raises: what was changed in memory stays changed, and memory
        and disk must agree.
        """
        self._check_open()
        self._defer_depth += 1
        try:
            yield
        finally:
            self._defer_depth -= 1
            if self._defer_depth == 0 and not self._closed:
                self.flush()

    def flush(self) -> None:
        """Append one journal line with every pending change (nothing when nothing changed), then fsync."""
        self._check_open()
        if not self._dirty and not self._full_diff:
            return
        changes, drops = self._diff_full() if self._full_diff else self._diff_dirty()
        self._dirty.clear()
        self._full_diff = False
        if changes or drops:
            try:
                self._append(_journal_line(changes, drops))
            except StoreError:
                self._undo(changes, drops)
                raise
            self._apply_to_durable(changes, drops)
        if self._journal_bytes >= self._next_compaction_bytes or self._journal_lines >= self._compact_lines:
            self._compact_after_threshold()

    def compact(self) -> None:
        """Write the full snapshot atomically and empty the journal."""
        self._check_open()
        self.flush()
        self._write_snapshot()
        try:
            os.ftruncate(self._journal_fd, 0)
            os.fsync(self._journal_fd)
        except OSError as exc:
            # The snapshot already holds every journaled change and replaying them again is harmless.
            raise StoreError(f"Could not empty the store journal {self._journal_path}: {exc}") from exc
        self._journal_bytes = 0
        self._journal_lines = 0
        self._next_compaction_bytes = self._compact_bytes

    def abandon(self) -> None:
        """Close the journal without flushing or compacting: what a crash leaves behind (tests use it)."""
        if not self._closed:
            self._close_journal()

    @property
    def journal_path(self) -> Path:
        return self._journal_path

    @property
    def snapshot_path(self) -> Path:
        return self._snapshot_path

    @property
    def journal_size(self) -> int:
        return self._journal_bytes

    # --- writing --------------------------------------------------------------------------------------

    def _flush_unless_deferred(self) -> None:
        if self._defer_depth == 0:
            self.flush()

    def _diff_dirty(self) -> tuple[dict[str, dict[str, str | None]], list[str]]:
        changes: dict[str, dict[str, str | None]] = {}
        for name, doc_ids in self._dirty.items():
            live = self._tables.get(name, {})
            durable = self._durable.get(name, {})
            for doc_id in doc_ids:
                _diff_one(doc_id, live, durable, changes.setdefault(name, {}))
        return {name: ops for name, ops in changes.items() if ops}, []

    def _diff_full(self) -> tuple[dict[str, dict[str, str | None]], list[str]]:
        drops = [name for name in self._durable if name not in self._tables]
        changes: dict[str, dict[str, str | None]] = {}
        for name, live in self._tables.items():
            durable = self._durable.get(name, {})
            ops: dict[str, str | None] = {}
            for doc_id in live.keys() | durable.keys():
                _diff_one(doc_id, live, durable, ops)
            if ops:
                changes[name] = ops
        return changes, drops

    def _undo(self, changes: dict[str, dict[str, str | None]], drops: list[str]) -> None:
        """Put what a failed write touched back in memory as it is on disk."""
        for name in drops:
            self._tables[name] = {doc_id: json.loads(doc) for doc_id, doc in self._durable.get(name, {}).items()}
        for name, ops in changes.items():
            live = self._tables.setdefault(name, {})
            durable = self._durable.get(name, {})
            for doc_id in ops:
                if doc_id in durable:
                    live[doc_id] = json.loads(durable[doc_id])
                else:
                    live.pop(doc_id, None)
        log.warning("A store write could not be made durable and was undone in memory")
        if self._on_undo is not None:
            self._on_undo()

    def _apply_to_durable(self, changes: dict[str, dict[str, str | None]], drops: list[str]) -> None:
        for name in drops:
            self._durable.pop(name, None)
        for name, ops in changes.items():
            durable = self._durable.setdefault(name, {})
            for doc_id, serialised in ops.items():
                if serialised is None:
                    durable.pop(doc_id, None)
                else:
                    durable[doc_id] = serialised

    def _append(self, line: bytes) -> None:
        start = self._journal_bytes
        try:
            view = memoryview(line)
            while view:
                written = os.write(self._journal_fd, view)
                view = view[written:]
            _sync_data(self._journal_fd)
        except OSError as exc:
            # Cut off a partial line, so it cannot become a corrupt line in the middle of the journal.
            with suppress(OSError):
                os.ftruncate(self._journal_fd, start)
            raise StoreError(f"Could not write to the store journal {self._journal_path}: {exc}") from exc
        self._journal_bytes = start + len(line)
        self._journal_lines += 1

    def _compact_after_threshold(self) -> None:
        try:
            self.compact()
        except StoreError:
            # The write itself is durable in the journal; try again once the journal has grown some more.
            log.exception("Store compaction failed; the journal keeps every change and it will be retried")
            self._next_compaction_bytes = self._journal_bytes + self._compact_bytes

    def _write_snapshot(self) -> None:
        write_snapshot_file(self._snapshot_path, _snapshot_text(self._durable).encode())

    def _close_journal(self) -> None:
        self._closed = True
        with suppress(OSError):
            os.close(self._journal_fd)

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("The store is closed")

    # --- loading --------------------------------------------------------------------------------------

    def _remove_temp_leftovers(self) -> None:
        for leftover in self._dir.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
            log.warning("Removing %s, an unfinished snapshot left by an interrupted process", leftover.name)
            with suppress(FileNotFoundError):
                leftover.unlink()

    def _read_snapshot(self) -> Tables:
        return read_snapshot(self._snapshot_path)

    def _replay_journal(self, tables: Tables) -> tuple[int, int, bool]:
        return replay_journal(self._journal_path, tables)

    def _repair_journal_tail(self, needs_newline: bool) -> None:
        """Cut an ignored torn tail off (or finish a whole line), so new lines never follow garbage."""
        try:
            if needs_newline:
                os.ftruncate(self._journal_fd, self._journal_bytes)
                os.write(self._journal_fd, b"\n")
                self._journal_bytes += 1
                _sync_data(self._journal_fd)
            elif os.fstat(self._journal_fd).st_size != self._journal_bytes:
                os.ftruncate(self._journal_fd, self._journal_bytes)
                _sync_data(self._journal_fd)
        except OSError as exc:
            self._close_journal()
            raise StoreError(f"Could not repair the store journal {self._journal_path}: {exc}") from exc


class _TouchRecorder(MutableMapping[str, Doc]):
    """A live table seen through TinyDB's updater functions, noting every document they may have changed.

    Reading a document counts: TinyDB's ``update`` mutates documents in place after reading them.
    """

    def __init__(self, table: dict[str, Doc]) -> None:
        self._table = table
        self.touched: set[str] = set()

    def __getitem__(self, doc_id: str) -> Doc:
        doc = self._table[doc_id]
        self.touched.add(doc_id)
        return doc

    def __setitem__(self, doc_id: str, doc: Doc) -> None:
        self._table[doc_id] = doc
        self.touched.add(doc_id)

    def __delitem__(self, doc_id: str) -> None:
        del self._table[doc_id]
        self.touched.add(doc_id)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._table

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def clear(self) -> None:
        self.touched.update(self._table)
        self._table.clear()


class JournaledTable(Table):
    """A TinyDB table with string document ids whose writes reach ``JournaledStorage`` as touched documents.

    Always give ids explicitly (``put`` / ``insert(Document(doc, doc_id=...))``): TinyDB's automatic ids are
    integers and cannot be generated for string keys.
    """

    document_id_class = str

    def put(self, doc_id: str, doc: Doc) -> None:
        """Insert or replace a whole document (TinyDB's ``upsert`` would merge it into the old one)."""
        self.put_many({doc_id: doc})

    def put_many(self, docs: Mapping[str, Doc]) -> None:
        def updater(table: MutableMapping[str, Doc]) -> None:
            for doc_id, doc in docs.items():
                table[doc_id] = doc

        self._update_table(updater)

    def delete(self, doc_ids: Iterable[str]) -> list[str]:
        """Remove these documents; returns the ids that existed."""
        removed: list[str] = []

        def updater(table: MutableMapping[str, Doc]) -> None:
            for doc_id in doc_ids:
                if doc_id in table:
                    del table[doc_id]
                    removed.append(doc_id)

        self._update_table(updater)
        return removed

    def _update_table(self, updater: Callable[[dict[str, Doc]], None]) -> None:  # type: ignore[override]
        storage = self.storage
        if not isinstance(storage, JournaledStorage):
            super()._update_table(updater)  # type: ignore[arg-type]
            return
        table = storage.read().setdefault(self.name, {})
        recorder = _TouchRecorder(table)
        try:
            updater(recorder)  # type: ignore[arg-type]
        finally:
            # What the updater changed before any failure is in memory already: journal it as well.
            self.clear_cache()
            storage.commit(self.name, recorder.touched)


# --- reading and writing the files ---------------------------------------------------------------------


def read_tables(directory: Path) -> Tables:
    """The database as the files in ``directory`` hold it, read without writing anything and without the lock.

    For readers beside a running bot (``rakuten-bot check``): a line being appended meanwhile reads as a torn
    last line and is left out, as a restart would.
    """
    tables = read_snapshot(Path(directory) / SNAPSHOT_NAME)
    replay_journal(Path(directory) / JOURNAL_NAME, tables)
    return tables


def read_snapshot(path: Path) -> Tables:
    """The snapshot's tables; empty when there is no snapshot file. StoreDataError when it is blank or damaged."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise StoreError(f"Could not read the store snapshot {path}: {exc}") from exc
    if not raw.strip():
        # Every snapshot ever written holds at least "{}": a blank one was cut short by something else.
        raise StoreDataError(
            f"The store snapshot {path} is empty (0 bytes): the saved data was lost. Nothing was changed; "
            "restore it from a backup, or run `rakuten-bot run --start-empty` to set it aside and start empty."
        )
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise StoreDataError(
            f"The store snapshot {path} is not valid JSON ({exc}). Nothing was changed; restore it from a backup, "
            "or run `rakuten-bot run --start-empty` to set it aside and start empty."
        ) from None
    if not _is_tables(data):
        raise StoreDataError(
            f"The store snapshot {path} is not a TinyDB database (tables of documents). Nothing was changed; "
            "restore it from a backup, or run `rakuten-bot run --start-empty` to set it aside and start empty."
        )
    return data


def replay_journal(path: Path, tables: Tables) -> tuple[int, int, bool]:
    """Apply the journal to ``tables``; returns (bytes to keep, lines kept, whether a newline is missing)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return 0, 0, False
    except OSError as exc:
        raise StoreError(f"Could not read the store journal {path}: {exc}") from exc
    lines = raw.split(b"\n")
    terminated = lines[:-1]
    tail = lines[-1]
    if tail:
        terminated.append(tail)
    kept_bytes = 0
    for number, line in enumerate(terminated, start=1):
        is_last = number == len(terminated)
        ops = _decode_line(line)
        if ops is None:
            if not is_last:
                raise StoreDataError(
                    f"The store journal {path} is corrupt at line {number} of {len(terminated)}. Nothing was "
                    "changed; restore the data directory from a backup, or run `rakuten-bot run --start-empty` to "
                    "set it aside and start empty."
                )
            log.warning(
                "Ignored an incomplete last line in the store journal %s: the process stopped while writing it, "
                "before that write was confirmed; every earlier write is intact",
                path,
            )
            return kept_bytes, number - 1, False
        _apply_ops(tables, ops)
        kept_bytes += len(line) + 1
    if tail:
        # The last line is whole but its newline never reached the disk.
        return kept_bytes - 1, len(terminated), True
    return kept_bytes, len(terminated), False


def write_snapshot_file(path: Path, payload: bytes) -> None:
    """Replace ``path`` with ``payload`` atomically: temp file, fsync, rename, fsync of the directory."""
    directory = path.parent
    tmp_path: str | None = None
    try:
        fd, tmp_path = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=directory)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_path, path)
        tmp_path = None
        sync_directory(directory)
    except OSError as exc:
        raise StoreError(f"Could not write the store snapshot {path}: {exc}") from exc
    finally:
        if tmp_path is not None:
            with suppress(OSError):
                os.unlink(tmp_path)


# --- journal lines ------------------------------------------------------------------------------------


def _diff_one(doc_id: str, live: dict[str, Doc], durable: dict[str, str], ops: dict[str, str | None]) -> None:
    doc = live.get(doc_id)
    if doc is None:
        if doc_id in durable:
            ops[doc_id] = None
        return
    serialised = _dumps(doc)
    if durable.get(doc_id) != serialised:
        ops[doc_id] = serialised


def _journal_line(changes: dict[str, dict[str, str | None]], drops: list[str]) -> bytes:
    """``<crc32 hex> {"ops":[...]}\\n``, built from already serialised documents."""
    ops = [f'["{_DROP}",{_dumps(name)}]' for name in drops]
    for name, table_ops in changes.items():
        table = _dumps(name)
        for doc_id, serialised in table_ops.items():
            if serialised is None:
                ops.append(f'["{_DELETE}",{table},{_dumps(doc_id)}]')
            else:
                ops.append(f'["{_PUT}",{table},{_dumps(doc_id)},{serialised}]')
    payload = f'{{"ops":[{",".join(ops)}]}}'.encode()
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def _snapshot_text(durable: dict[str, dict[str, str]]) -> str:
    """Plain TinyDB JSON, assembled from the already serialised documents instead of encoding them again."""
    tables = []
    for name, docs in durable.items():
        body = ",".join(f"{_dumps(doc_id)}:{doc}" for doc_id, doc in docs.items())
        tables.append(f"{_dumps(name)}:{{{body}}}")
    return "{" + ",".join(tables) + "}"


def _decode_line(line: bytes) -> list[list[Any]] | None:
    """The operations of one journal line, or None when it is torn or damaged."""
    checksum, _, payload = line.partition(b" ")
    if len(checksum) != 8:
        return None
    try:
        if int(checksum, 16) != zlib.crc32(payload):
            return None
        body = json.loads(payload)
    except ValueError:
        return None
    ops = body.get("ops") if isinstance(body, dict) else None
    if not isinstance(ops, list) or not all(_is_op(op) for op in ops):
        return None
    return ops


def _is_op(op: Any) -> bool:
    if not isinstance(op, list) or not op or not all(isinstance(part, str) for part in op[:3]):
        return False
    kind = op[0]
    return (
        (kind == _PUT and len(op) == 4 and isinstance(op[3], dict))
        or (kind == _DELETE and len(op) == 3)
        or (kind == _DROP and len(op) == 2)
    )


def _apply_ops(tables: Tables, ops: list[list[Any]]) -> None:
    for op in ops:
        kind, name = op[0], op[1]
        if kind == _PUT:
            tables.setdefault(name, {})[op[2]] = op[3]
        elif kind == _DELETE:
            tables.get(name, {}).pop(op[2], None)
        else:
            tables.pop(name, None)


def _is_tables(data: Any) -> bool:
    return isinstance(data, dict) and all(
        isinstance(table, dict) and all(isinstance(doc, dict) for doc in table.values()) for table in data.values()
    )


# --- durability helpers -------------------------------------------------------------------------------


def _sync_data(fd: int) -> None:
    # fdatasync also persists the file size, which is all an append changes besides the data.
    sync = getattr(os, "fdatasync", os.fsync)
    sync(fd)
