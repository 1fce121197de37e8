"""Why a poll failed: any exception that escapes a poll is a failed poll, not only Rakuten's and Slack's — a store
that cannot write (full or read-only disk), a token the key no longer decrypts, a bug. ``classify`` names the
cause (``bot.ui.poll_failures`` says it in words); none of the details carries a secret.
"""

from __future__ import annotations

import errno

from bot.crypto import TokenDecryptError
from bot.domain.accounts import FailureKind, PollFailure
from bot.slack.poster import SlackWriteError
from bot.store.base import StoreError
from rakuten.errors import RakutenError

_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_READ_ONLY = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def is_foreseen(error: BaseException) -> bool:
    """A failure with a known cause (its reason says it all); anything else is a bug worth a traceback."""
    return isinstance(error, RakutenError | SlackWriteError | TokenDecryptError | StoreError | OSError)


def classify(error: BaseException) -> PollFailure:
    if isinstance(error, RakutenError):
        return PollFailure(FailureKind.RAKUTEN, str(error))
    if isinstance(error, SlackWriteError):
        return PollFailure(FailureKind.SLACK, str(error))
    if isinstance(error, TokenDecryptError):
        return PollFailure(FailureKind.TOKEN_UNREADABLE)
    cause = _os_error(error)
    if cause is not None:
        detail = cause.strerror or type(cause).__name__
        if cause.errno in _FULL:
            return PollFailure(FailureKind.DISK_FULL, detail)
        if cause.errno in _READ_ONLY:
            return PollFailure(FailureKind.DISK_READ_ONLY, detail)
        if isinstance(error, StoreError):
            return PollFailure(FailureKind.DISK_UNWRITABLE, detail)
    if isinstance(error, StoreError):
        return PollFailure(FailureKind.STORE, str(error))
    return PollFailure(FailureKind.BUG, type(error).__name__)


def _os_error(error: BaseException) -> OSError | None:
    """The OSError behind a store failure (its cause), or the error itself when it is one."""
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, OSError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
