"""Why a poll failed, in words a seller (channel alert) and an operator (``GET /healthz``) both understand.

Any exception that escapes a poll is a failed poll, not only Rakuten's and Slack's: a store that cannot write
(full or read-only disk), a token the key no longer decrypts, a bug. None of the reasons carries a secret.
"""

from __future__ import annotations

import errno

from bot.crypto import TokenDecryptError
from bot.slack.poster import SlackWriteError
from bot.store.base import StoreError
from rakuten.errors import RakutenError

_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_READ_ONLY = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def is_foreseen(error: BaseException) -> bool:
    """A failure with a known cause (its reason says it all); anything else is a bug worth a traceback."""
    return isinstance(error, RakutenError | SlackWriteError | TokenDecryptError | StoreError | OSError)


def poll_failure_reason(error: BaseException) -> str:
    if isinstance(error, RakutenError):
        return f"Rakuten: {error}"
    if isinstance(error, SlackWriteError):
        return f"Slack: {error}"
    if isinstance(error, TokenDecryptError):
        return (
            "the stored Rakuten token cannot be decrypted with the bot's key (secret.key or RAKUTEN_SECRET_KEY "
            "changed): an admin must connect the account again with /rakuten connect"
        )
    disk = _disk_reason(error)
    if disk is not None:
        return disk
    if isinstance(error, StoreError):
        return f"the bot's store failed: {error}"
    return f"an unexpected error in the bot ({type(error).__name__}); the details are in its log"


def _disk_reason(error: BaseException) -> str | None:
    cause = _os_error(error)
    if cause is None:
        return None
    detail = cause.strerror or type(cause).__name__
    if cause.errno in _FULL:
        return f"the bot's data directory is full, so new orders cannot be saved ({detail}); free some space"
    if cause.errno in _READ_ONLY:
        return f"the bot's data directory is read-only, so new orders cannot be saved ({detail})"
    if isinstance(error, StoreError):
        return f"the bot cannot write to its data directory ({detail})"
    return None


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
