"""Opening ``RAKUTEN_DATA_DIR`` at start without ever losing or hiding data.

Two things are checked before the bot trusts the directory: the store was not lost (``bot.store.data_dir``),
and the key decrypts the stored Rakuten tokens. A key generated where tokens were encrypted with another one
would leave every account unusable without a word, so instead the start is refused with one line saying what to
do. ``--start-empty`` and ``--new-key`` are the deliberate ways past a refusal; both set the old files aside
(``set-aside-<UTC time>/``) and never delete anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.crypto import KEY_FILE_NAME, SecretKeyError, TokenCipher, create_key_file, decrypts, read_key
from bot.domain.accounts import AccountRecord
from bot.store import Store, StoreDataError, TinyDBStore
from bot.store.data_dir import set_aside, set_aside_store

logger = logging.getLogger(__name__)

_NAMED_ACCOUNTS = 5
_RECONNECT = "reconnect each account with /rakuten connect"


class KeyMismatchError(SecretKeyError):
    """The key is missing or is not the one the stored tokens were encrypted with."""


@dataclass(frozen=True, slots=True)
class KeyVerdict:
    """What the key in use makes of the stored tokens."""

    key: bytes | None  # None: no key yet (no RAKUTEN_SECRET_KEY, no secret.key)
    from_environment: bool
    unreadable: list[str] = field(default_factory=list)  # logins whose stored token this key cannot decrypt
    problem: str | None = None  # one line when the key is missing or wrong for the stored tokens

    @property
    def fits(self) -> bool:
        return self.problem is None


def judge_key(
    data_dir: Path, env_key: str | None, accounts: Iterable[AccountRecord], *, env_login: str | None = None
) -> KeyVerdict:
    """Read the key (creating nothing) and try it on every stored token.

    The account that ``RAKUTEN_LOGIN``/``RAKUTEN_TOKEN`` supply is left out: its token is not lost, it is
    encrypted again at start. Raises SecretKeyError when the key itself is malformed or unreadable.
    """
    key = read_key(data_dir, env_key)
    from_environment = bool(env_key and env_key.strip())
    at_risk = [account for account in accounts if account.token_ciphertext and account.login != env_login]
    if not at_risk:
        return KeyVerdict(key, from_environment)
    logins = [account.login for account in at_risk]
    if key is None:
        return KeyVerdict(key, from_environment, logins, _missing_key(data_dir, logins))
    unreadable = [account.login for account in at_risk if not decrypts(key, account.token_ciphertext)]
    # Some tokens read: the key is right and those others are damaged (their polls say so).
    if len(unreadable) < len(at_risk):
        return KeyVerdict(key, from_environment, unreadable)
    problem = _wrong_env_key(logins) if from_environment else _wrong_key_file(data_dir, logins)
    return KeyVerdict(key, from_environment, unreadable, problem)


def open_store_for_run(data_dir: Path, *, start_empty: bool = False, database_url: str | None = None) -> Store:
    """The store, refusing (StoreDataError) one that was lost or is damaged, unless ``start_empty``: then what
    is left is set aside and the store starts empty. With ``database_url`` (``DATABASE_URL``): PostgreSQL."""
    if database_url:
        from bot.store.postgres_store import PostgresStore  # loads psycopg and Alembic only where they are used

        if start_empty:
            logger.warning("--start-empty: DATABASE_URL is set, and the PostgreSQL store is never set aside")
        return PostgresStore(database_url)
    try:
        store = TinyDBStore(data_dir)
    except StoreDataError as error:
        if not start_empty:
            raise
        logger.warning("--start-empty: %s", error)
    else:
        if start_empty:
            logger.warning("--start-empty: the store in %s is intact, so nothing was set aside", data_dir)
        return store
    folder = set_aside_store(data_dir)
    logger.warning("--start-empty: the old store files are in %s; starting with an empty store", folder)
    return TinyDBStore(data_dir)


def open_cipher_for_run(
    data_dir: Path,
    env_key: str | None,
    accounts: Iterable[AccountRecord],
    *,
    env_login: str | None = None,
    new_key: bool = False,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> TokenCipher:
    """The cipher for the stored tokens: KeyMismatchError when the key is missing or wrong for them, unless
    ``new_key``: then the old key file is set aside and a new key made (accounts must be connected again)."""
    verdict = judge_key(data_dir, env_key, accounts, env_login=env_login)
    if not verdict.fits and not new_key:
        raise KeyMismatchError(verdict.problem)
    if verdict.fits:
        if new_key:
            logger.warning("--new-key: the key decrypts the stored tokens, so it was kept")
        if verdict.unreadable:
            logger.warning(
                "the stored Rakuten token of %s cannot be decrypted (damaged): %s",
                ", ".join(verdict.unreadable),
                _RECONNECT,
            )
        return TokenCipher(verdict.key if verdict.key is not None else create_key_file(data_dir))
    if verdict.from_environment:
        assert verdict.key is not None
        logger.warning("--new-key: RAKUTEN_SECRET_KEY is kept; %s: %s", _RECONNECT, ", ".join(verdict.unreadable))
        return TokenCipher(verdict.key)
    if verdict.key is not None:
        folder = set_aside(data_dir, [KEY_FILE_NAME], now=clock())
        logger.warning("--new-key: the old key is in %s", folder)
    key = create_key_file(data_dir)
    logger.warning(
        "--new-key: started with a new key; the stored tokens of %s cannot be used: %s",
        ", ".join(verdict.unreadable),
        _RECONNECT,
    )
    return TokenCipher(key)


def _accounts(logins: list[str]) -> str:
    named = ", ".join(logins[:_NAMED_ACCOUNTS]) + (", …" if len(logins) > _NAMED_ACCOUNTS else "")
    return f"account {named}" if len(logins) == 1 else f"{len(logins)} accounts ({named})"


def _missing_key(data_dir: Path, logins: list[str]) -> str:
    return (
        f"{KEY_FILE_NAME} is missing from {data_dir}, but the Rakuten tokens of the stored {_accounts(logins)} "
        "were encrypted with it: they cannot be decrypted, and a new key would not bring them back. Restore "
        f"{KEY_FILE_NAME} from a backup (or set RAKUTEN_SECRET_KEY to it), or run `rakuten-bot run --new-key` "
        f"to start with a new key, then {_RECONNECT}."
    )


def _wrong_key_file(data_dir: Path, logins: list[str]) -> str:
    return (
        f"The key in {Path(data_dir) / KEY_FILE_NAME} does not decrypt the Rakuten tokens of the stored "
        f"{_accounts(logins)}: it was changed or replaced since they were saved. Restore the original "
        f"{KEY_FILE_NAME} from a backup, or run `rakuten-bot run --new-key` to set this key aside and start with "
        f"a new one, then {_RECONNECT}."
    )


def _wrong_env_key(logins: list[str]) -> str:
    return (
        f"RAKUTEN_SECRET_KEY does not decrypt the Rakuten tokens of the stored {_accounts(logins)}: it was "
        "changed since they were saved. Set it back to the key they were saved with, or run "
        f"`rakuten-bot run --new-key` to keep this key, then {_RECONNECT}."
    )
