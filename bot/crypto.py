"""Encryption at rest of the sellers' Rakuten tokens (Fernet: AES-128-CBC with HMAC-SHA256).

The key comes from ``RAKUTEN_SECRET_KEY`` when it is set; otherwise it is generated once into
``<RAKUTEN_DATA_DIR>/secret.key`` (mode 0600) and reused. Messages never contain a key, a token or a
ciphertext.
"""

from __future__ import annotations

import binascii
import logging
import os
import stat
from contextlib import suppress
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from bot.durable import sync_directory
from bot.errors import BotError

log = logging.getLogger(__name__)

KEY_FILE_NAME = "secret.key"
_KEY_ENV = "RAKUTEN_SECRET_KEY"
_KEY_HELP = (
    "A key is 32 random bytes in URL-safe base64 (44 characters); make one with "
    "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
)


class SecretKeyError(BotError):
    """The encryption key is unusable (malformed, unreadable, or cannot be created)."""


class TokenDecryptError(BotError):
    """A stored token cannot be decrypted: the key changed, or the stored value is damaged."""


class TokenCipher:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(_validated_key(key, source="The key given to TokenCipher"))

    @classmethod
    def from_data_dir(cls, data_dir: Path, env_key: str | None) -> TokenCipher:
        return cls(load_or_create_key(data_dir, env_key))

    def encrypt(self, token: str) -> str:
        return self._fernet.encrypt(token.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, TypeError, AttributeError):
            raise TokenDecryptError(
                "A stored Rakuten token cannot be decrypted with the current key (was RAKUTEN_SECRET_KEY or "
                "secret.key changed?). Connect the account again with /rakuten connect."
            ) from None

    def __repr__(self) -> str:
        return "TokenCipher(<key hidden>)"


def load_or_create_key(data_dir: Path, env_key: str | None) -> bytes:
    """``env_key`` (``RAKUTEN_SECRET_KEY``) when set, else ``<data_dir>/secret.key``, created on first use.

    Creating a key where tokens were encrypted with a lost one makes them unreadable for good: at start, the
    key is checked against the stored tokens first (``bot.startup``).
    """
    existing = read_key(data_dir, env_key)
    if existing is not None:
        return existing
    return create_key_file(data_dir)


def read_key(data_dir: Path, env_key: str | None) -> bytes | None:
    """``env_key`` when set, else the key in ``<data_dir>/secret.key``; None when there is none. Creates nothing."""
    if env_key is not None and env_key.strip():
        return _validated_key(env_key.strip().encode("ascii", errors="replace"), source=_KEY_ENV)
    return _read_key_file(Path(data_dir) / KEY_FILE_NAME)


def create_key_file(data_dir: Path) -> bytes:
    """A new key in ``<data_dir>/secret.key`` (mode 0600); a key another process wrote meanwhile wins."""
    return _create_key_file(Path(data_dir) / KEY_FILE_NAME)


def decrypts(key: bytes, ciphertext: str) -> bool:
    """Whether ``key`` decrypts ``ciphertext`` (the clear text is dropped at once)."""
    try:
        TokenCipher(key).decrypt(ciphertext)
    except TokenDecryptError:
        return False
    return True


def _read_key_file(key_path: Path) -> bytes | None:
    try:
        raw = key_path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SecretKeyError(f"Cannot read the encryption key file {key_path}: {exc.strerror}") from None
    if key_path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("The encryption key file %s is readable by other users; run: chmod 600 %s", key_path, key_path)
    return _validated_key(raw.strip(), source=f"The key in {key_path}")


def _create_key_file(key_path: Path) -> bytes:
    """Write a new key without ever exposing a partial or world-readable file, and without clobbering.

    The key goes to a private temp file first and is then hard-linked into place, which fails if another
    process created the key meanwhile: that key wins and is returned.
    """
    key = Fernet.generate_key()
    directory = key_path.parent
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise SecretKeyError(f"Cannot create the data directory {directory}: {exc.strerror}") from None
    tmp_path = directory / f".{KEY_FILE_NAME}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, key + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp_path, key_path)
        except FileExistsError:
            existing = _read_key_file(key_path)
            if existing is None:
                raise SecretKeyError(f"The key file {key_path} vanished while it was being created") from None
            return existing
        sync_directory(directory)
    except OSError as exc:
        raise SecretKeyError(f"Cannot write the encryption key file {key_path}: {exc.strerror}") from None
    finally:
        with suppress(OSError):
            os.unlink(tmp_path)
    log.info("Generated a new encryption key for stored tokens in %s", key_path)
    return key


def _validated_key(key: bytes, *, source: str) -> bytes:
    try:
        Fernet(key)
    except (ValueError, TypeError, binascii.Error):
        raise SecretKeyError(f"{source} is not a valid encryption key. {_KEY_HELP}") from None
    return key
