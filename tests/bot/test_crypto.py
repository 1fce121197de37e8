"""Encryption of stored Rakuten tokens and the key's life cycle."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.crypto import KEY_FILE_NAME, SecretKeyError, TokenCipher, TokenDecryptError, load_or_create_key

TOKEN = "9f8e7d6c5b4a-seller-token"


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """A umask that would leave new files world-readable unless the code asks for 0600 itself."""
    old = os.umask(0)
    yield
    os.umask(old)


def test_encrypt_then_decrypt_gives_the_token_back() -> None:
    cipher = TokenCipher(Fernet.generate_key())

    ciphertext = cipher.encrypt(TOKEN)

    assert TOKEN not in ciphertext
    assert ciphertext != cipher.encrypt(TOKEN)  # a fresh IV each time
    assert cipher.decrypt(ciphertext) == TOKEN
    assert cipher.decrypt(cipher.encrypt("jeton-été")) == "jeton-été"


def test_decrypting_with_another_key_fails_without_revealing_anything() -> None:
    ciphertext = TokenCipher(Fernet.generate_key()).encrypt(TOKEN)
    other = TokenCipher(Fernet.generate_key())

    with pytest.raises(TokenDecryptError) as raised:
        other.decrypt(ciphertext)

    message = str(raised.value)
    assert "/rakuten connect" in message
    assert TOKEN not in message
    assert ciphertext not in message
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


@pytest.mark.parametrize("damaged", ["", "not a fernet token", "gAAAAAB-truncated", "données"])
def test_damaged_ciphertext_is_a_decrypt_error(damaged: str) -> None:
    with pytest.raises(TokenDecryptError):
        TokenCipher(Fernet.generate_key()).decrypt(damaged)


def test_repr_hides_the_key() -> None:
    key = Fernet.generate_key()
    assert key.decode() not in repr(TokenCipher(key))


def test_environment_key_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()

    assert load_or_create_key(tmp_path, f"  {key}\n") == key.encode()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", ["too-short", "x" * 44, "clé-secrète-invalide-ééééééééééééééééééééééééé"])
def test_invalid_environment_key_is_a_clear_error_without_the_value(tmp_path: Path, bad: str) -> None:
    with pytest.raises(SecretKeyError, match="RAKUTEN_SECRET_KEY is not a valid encryption key") as raised:
        load_or_create_key(tmp_path, bad)

    assert bad not in str(raised.value)
    assert "Fernet.generate_key()" in str(raised.value)


@pytest.mark.parametrize("unset", [None, "", "   "])
def test_key_is_generated_once_into_the_data_dir(tmp_path: Path, unset: str | None, permissive_umask: None) -> None:
    data_dir = tmp_path / "data"

    first = load_or_create_key(data_dir, unset)
    second = load_or_create_key(data_dir, unset)

    assert first == second
    Fernet(first)
    key_file = data_dir / KEY_FILE_NAME
    assert key_file.read_bytes().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [path.name for path in data_dir.iterdir()] == [KEY_FILE_NAME]  # no temp file left behind


def test_cipher_from_data_dir_reads_what_an_earlier_run_wrote(tmp_path: Path) -> None:
    ciphertext = TokenCipher.from_data_dir(tmp_path, None).encrypt(TOKEN)

    assert TokenCipher.from_data_dir(tmp_path, None).decrypt(ciphertext) == TOKEN


def test_environment_key_wins_over_the_key_file(tmp_path: Path) -> None:
    file_cipher = TokenCipher.from_data_dir(tmp_path, None)
    env_key = Fernet.generate_key()
    env_cipher = TokenCipher.from_data_dir(tmp_path, env_key.decode())

    with pytest.raises(TokenDecryptError):
        env_cipher.decrypt(file_cipher.encrypt(TOKEN))
    assert TokenCipher(env_key).decrypt(env_cipher.encrypt(TOKEN)) == TOKEN


def test_damaged_key_file_is_a_clear_error_naming_the_file(tmp_path: Path) -> None:
    key_file = tmp_path / KEY_FILE_NAME
    key_file.write_text("half-a-key\n")
    key_file.chmod(0o600)

    with pytest.raises(SecretKeyError, match=f"The key in {key_file} is not a valid encryption key"):
        load_or_create_key(tmp_path, None)
    assert key_file.read_text() == "half-a-key\n"  # never replaced: tokens encrypted with it would be lost


def test_key_file_readable_by_others_is_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    key = Fernet.generate_key()
    key_file = tmp_path / KEY_FILE_NAME
    key_file.write_bytes(key)
    key_file.chmod(0o644)

    with caplog.at_level(logging.WARNING, logger="bot.crypto"):
        assert load_or_create_key(tmp_path, None) == key

    assert "chmod 600" in caplog.text
    assert key.decode() not in caplog.text


def test_key_created_meanwhile_by_another_process_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes start together: the one that links its key second must use the first one's key."""
    theirs = Fernet.generate_key()
    real_link = os.link

    def other_process_links_first(src: str, dst: str) -> None:
        Path(dst).write_bytes(theirs + b"\n")
        real_link(src, dst)

    monkeypatch.setattr("bot.crypto.os.link", other_process_links_first)

    assert load_or_create_key(tmp_path, None) == theirs
    assert (tmp_path / KEY_FILE_NAME).read_bytes().strip() == theirs
    assert [path.name for path in tmp_path.iterdir()] == [KEY_FILE_NAME]
