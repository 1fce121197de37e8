"""Making a file operation survive a power cut, for the files the bot keeps (the store, the encryption key)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def sync_directory(directory: Path) -> None:
    """Persist a rename or a new link in ``directory``: without it a crash can bring back the old directory entry."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # platforms without directory handles (Windows) persist renames themselves
    try:
        os.fsync(fd)
    except OSError:
        log.debug("fsync of directory %s is not supported here", directory)
    finally:
        os.close(fd)
