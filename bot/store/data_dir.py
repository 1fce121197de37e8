"""What a data directory holds, how to tell a new one from one whose store was lost, and setting files aside.

From the first start on, the directory holds a snapshot (``store.json``): it is written, holding an empty
database, before anything else, and only ever replaced atomically afterwards. So a directory with a journal, a
lock file or a key but no snapshot, or a blank one, lost its data: starting empty there would forget every
account and post every open order again. The bot refuses; ``rakuten-bot run --start-empty`` moves what is left
into ``set-aside-<UTC time>/`` (nothing is ever deleted) and starts with an empty store.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from bot.crypto import KEY_FILE_NAME
from bot.store.base import StoreDataError, StoreError, StoreLockedError
from bot.store.storage import JOURNAL_NAME, SNAPSHOT_NAME, TEMP_PREFIX, TEMP_SUFFIX, write_snapshot_file

LOCK_NAME = "store.lock"
SET_ASIDE_PREFIX = "set-aside-"
EMPTY_DATABASE = b"{}"
# Files that only exist once the bot has run in the directory.
_TRACES = (JOURNAL_NAME, LOCK_NAME, KEY_FILE_NAME)
_BLANK_PROBE_BYTES = 4096


class StoreLostError(StoreDataError):
    """The snapshot is missing or blank where the bot has run before."""


@dataclass(frozen=True, slots=True)
class DataDirSurvey:
    """Which of the bot's files a data directory holds, looked at before anything is written to it."""

    directory: Path
    present: frozenset[str]
    snapshot_blank: bool
    journal_bytes: int

    @property
    def is_new(self) -> bool:
        """Nothing of the bot's is there yet: the store may be created."""
        return not self.present

    @property
    def store_lost(self) -> bool:
        traces = self.present & set(_TRACES)
        if SNAPSHOT_NAME in self.present:
            return self.snapshot_blank
        return bool(traces)

    def lost_message(self) -> str:
        """One line: what was found, what it means, what to do."""
        traces = self._found_descriptions()
        found = _listing(traces)
        if SNAPSHOT_NAME in self.present:
            what = f"{SNAPSHOT_NAME} in {self.directory} is empty (0 bytes)"
            what += f" beside {found}" if found else ""
        else:
            verb = "is" if len(traces) == 1 else "are"
            what = f"{SNAPSHOT_NAME} is missing from {self.directory} although {found} {verb} there"
        return (
            f"The store was lost: {what}. The saved accounts, orders and card references are gone, and starting "
            "with an empty store would post every open order to Slack again. Restore "
            f"{SNAPSHOT_NAME} from a backup, or run `rakuten-bot run --start-empty` to move what is left to "
            f"{self.directory / (SET_ASIDE_PREFIX + '<UTC time>')}/ and start with an empty store."
        )

    def _found_descriptions(self) -> list[str]:
        found = []
        for name in _TRACES:
            if name not in self.present:
                continue
            if name == JOURNAL_NAME:
                found.append(f"{name} ({_size(self.journal_bytes)})")
            else:
                found.append(name)
        return found


def survey(directory: Path) -> DataDirSurvey:
    directory = Path(directory)
    present = frozenset(name for name in (SNAPSHOT_NAME, *_TRACES) if (directory / name).exists())
    return DataDirSurvey(
        directory=directory,
        present=present,
        snapshot_blank=SNAPSHOT_NAME in present and _is_blank(directory / SNAPSHOT_NAME),
        journal_bytes=_file_size(directory / JOURNAL_NAME),
    )


def refuse_if_lost(found: DataDirSurvey) -> None:
    if found.store_lost:
        raise StoreLostError(found.lost_message())


def create_empty_snapshot(directory: Path) -> None:
    """The snapshot of a new store: it tells later starts that this directory's store existed."""
    write_snapshot_file(Path(directory) / SNAPSHOT_NAME, EMPTY_DATABASE)


def set_aside_store(directory: Path, *, now: datetime | None = None) -> Path:
    """Move the store's files (snapshot, journal, unfinished snapshots) to ``set-aside-<UTC time>/``, copy the key
    there too (it still decrypts the tokens in them, and stays in use), and leave a new, empty store.

    Holds the directory's lock meanwhile. Returns the folder the files went to.
    """
    directory = Path(directory)
    with lock_data_dir(directory):
        leftovers = [name for name in (SNAPSHOT_NAME, JOURNAL_NAME) if (directory / name).exists()]
        leftovers += sorted(path.name for path in directory.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"))
        copies = [KEY_FILE_NAME] if (directory / KEY_FILE_NAME).exists() else []
        folder = set_aside(directory, leftovers, copy=copies, now=now)
        create_empty_snapshot(directory)
    return folder


def set_aside(directory: Path, names: Iterable[str], *, copy: Iterable[str] = (), now: datetime | None = None) -> Path:
    """Move ``names`` (and copy ``copy``) from ``directory`` into a new private ``set-aside-<UTC time>/`` folder."""
    folder = _new_set_aside_folder(Path(directory), now or datetime.now(UTC))
    try:
        for name in copy:
            shutil.copy2(directory / name, folder / name)
        for name in names:
            os.replace(directory / name, folder / name)
    except OSError as exc:
        raise StoreError(f"Could not set the old files aside in {folder}: {exc}") from exc
    return folder


def lock_data_dir(directory: Path) -> FileLock:
    """Take the directory's lock file (one process per data directory); StoreLockedError when it is taken."""
    lock_path = Path(directory) / LOCK_NAME
    # Not thread-local: the store may be closed from another thread than the one that opened it.
    file_lock = FileLock(lock_path, timeout=0, mode=0o600, thread_local=False)
    try:
        file_lock.acquire()
    except Timeout:
        raise StoreLockedError(in_use_message(directory)) from None
    except OSError as exc:
        raise StoreError(f"Cannot take the lock file {lock_path}: {exc}") from exc
    return file_lock


def in_use_message(directory: Path) -> str:
    return (
        f"Another rakuten-bot process is already using the data directory {directory} (lock file "
        f"{Path(directory) / LOCK_NAME}). Stop it first, or give this one its own RAKUTEN_DATA_DIR."
    )


def data_dir_in_use(directory: Path) -> bool:
    """Whether a running process holds the directory's lock, found without creating or changing anything: the
    existing lock file is opened read-only and its lock tried and let go at once (flock, as FileLock takes it)."""
    try:
        import fcntl
    except ImportError:  # no flock here: the store's own lock still refuses a second process
        return False
    try:
        fd = os.open(Path(directory) / LOCK_NAME, os.O_RDONLY)
    except OSError:
        return False  # no lock file (never run) or unreadable: the store's own lock has the last word
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _new_set_aside_folder(directory: Path, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    for attempt in range(1, 100):
        folder = directory / f"{SET_ASIDE_PREFIX}{stamp}{'' if attempt == 1 else f'-{attempt}'}"
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        except OSError as exc:
            raise StoreError(f"Could not create {folder} to set the old files aside: {exc}") from exc
        return folder
    raise StoreError(f"Could not find a free set-aside folder name in {directory}")


def _is_blank(path: Path) -> bool:
    try:
        if path.stat().st_size > _BLANK_PROBE_BYTES:
            return False
        return not path.read_bytes().strip()
    except OSError:
        return False  # unreadable: reported when the store reads it, with the reason


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / (1024 * 1024):.1f} MB"


def _listing(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]
