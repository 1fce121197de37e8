"""A data dir that stops taking writes in the middle of a run (full, or read-only), and one that never took any.

*Full* is real whenever this process may mount a file system (root in a container, as in CI): the data dir
lives on a tmpfs of a few hundred KB, and ``break_writes`` fills it to the last page with a filler file that
``repair`` deletes. Root ignores ``chmod``, and a file system cannot be remounted read-only while the bot
holds its journal open for writing (the kernel answers EBUSY), so *read-only* (and *full* where mounting is
not allowed) injects the error the kernel would give at the storage's one write to the journal.
"""

from __future__ import annotations

import errno
import functools
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Protocol

import pytest
from pytest_mock import MockerFixture

from bot.store.base import StoreError
from bot.store.storage import JournaledStorage

SMALL_DISK = "384k"
_CHUNK = b"\0" * 65536


class BreakableDisk(Protocol):
    data_dir: Path
    real: bool

    def break_writes(self) -> None: ...
    def repair(self) -> None: ...
    def close(self) -> None: ...


@functools.cache
def can_mount() -> bool:
    """Whether a tmpfs can be mounted here (checked once, on a scratch directory)."""
    if os.geteuid() != 0:
        return False
    probe = Path(tempfile.mkdtemp(prefix="mount-probe-"))
    try:
        if not _mount_tmpfs(probe, "64k"):
            return False
        _unmount(probe)
        return True
    finally:
        with suppress(OSError):
            probe.rmdir()


class SmallDisk:
    """A real, tiny file system: writes fail with ENOSPC once ``break_writes`` has filled it."""

    real = True

    def __init__(self, mount_point: Path) -> None:
        mount_point.mkdir(parents=True)
        if not _mount_tmpfs(mount_point, SMALL_DISK):
            raise RuntimeError(f"could not mount a tmpfs on {mount_point}")
        self._mount_point = mount_point
        self._filler = mount_point / "filler"
        self.data_dir = mount_point / "data"

    def break_writes(self) -> None:
        fd = os.open(self._filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            while True:
                os.write(fd, _CHUNK)
        except OSError as error:
            if error.errno != errno.ENOSPC:
                raise
        finally:
            os.close(fd)

    def repair(self) -> None:
        self._filler.unlink()

    def close(self) -> None:
        _unmount(self._mount_point)


class InjectedFault:
    """The kernel's answer to a journal write on a full or read-only file system, injected at that write."""

    real = False

    def __init__(self, data_dir: Path, code: int, mocker: MockerFixture) -> None:
        self.data_dir = data_dir
        self._code = code
        self._mocker = mocker
        self._patch: object | None = None

    def break_writes(self) -> None:
        error = OSError(self._code, os.strerror(self._code))

        def refuse(storage: JournaledStorage, line: bytes) -> None:
            raise StoreError(f"Could not write to the store journal {storage.journal_path}: {error}") from error

        self._patch = self._mocker.patch.object(JournaledStorage, "_append", autospec=True, side_effect=refuse)

    def repair(self) -> None:
        self._mocker.stop(self._patch)

    def close(self) -> None:
        pass


def breakable_disk(kind: str, tmp_path: Path, mocker: MockerFixture) -> BreakableDisk:
    if kind == "full" and can_mount():
        return SmallDisk(tmp_path / "small-disk")
    code = errno.ENOSPC if kind == "full" else errno.EROFS
    return InjectedFault(tmp_path / "data", code, mocker)


@contextmanager
def read_only_directory(path: Path) -> Iterator[Path]:
    """A directory this process cannot write to: a read-only tmpfs where it may mount one (root, who ignores
    ``chmod``), else mode 0500 for an ordinary user; the test is skipped where neither is possible."""
    path.mkdir(parents=True)
    if os.geteuid() != 0:
        path.chmod(0o500)
        try:
            yield path
        finally:
            path.chmod(0o700)
    elif can_mount() and _mount_tmpfs(path, "64k", read_only=True):
        try:
            yield path
        finally:
            _unmount(path)
    else:
        pytest.skip("no read-only directory here: root ignores chmod, and mounting a file system is not allowed")


def _mount_tmpfs(mount_point: Path, size: str, *, read_only: bool = False) -> bool:
    options = f"size={size},mode=0700" + (",ro" if read_only else "")
    command = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount_point)]
    try:
        return subprocess.run(command, capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _unmount(mount_point: Path) -> None:
    if subprocess.run(["umount", str(mount_point)], capture_output=True, timeout=10, check=False).returncode:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, timeout=10, check=False)
