"""Start checks: the key must decrypt the stored tokens (never a new key over them), and the deliberate ways
past a refusal (``--start-empty``, ``--new-key``) set the old files aside."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.crypto import KEY_FILE_NAME, TokenCipher, create_key_file
from bot.domain.accounts import AccountRecord
from bot.startup import KeyMismatchError, judge_key, open_cipher_for_run, open_store_for_run
from bot.store import TinyDBStore
from bot.store.data_dir import StoreLostError
from bot.store.storage import JOURNAL_NAME, SNAPSHOT_NAME
from tests.bot.services.conftest import make_order

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def account(login: str, key: bytes) -> AccountRecord:
    ciphertext = TokenCipher(key).encrypt(f"token-of-{login}")
    return AccountRecord(login=login, token_ciphertext=ciphertext, channel_id="C0ORDERS")


def key_file(directory: Path) -> bytes:
    return (directory / KEY_FILE_NAME).read_bytes().strip()


# ------------------------------------------------------------------------------------------- judging


def test_no_stored_account_needs_no_key(tmp_path: Path) -> None:
    verdict = judge_key(tmp_path, None, [])

    assert verdict.fits
    assert verdict.key is None
    assert not (tmp_path / KEY_FILE_NAME).exists()  # judging creates nothing


def test_the_right_key_fits(tmp_path: Path) -> None:
    key = create_key_file(tmp_path)

    verdict = judge_key(tmp_path, None, [account("a", key), account("b", key)])

    assert verdict.fits
    assert verdict.unreadable == []


def test_a_missing_key_with_stored_tokens_is_a_one_line_problem(tmp_path: Path) -> None:
    verdict = judge_key(tmp_path, None, [account("boutique-a", Fernet.generate_key())])

    assert not verdict.fits
    assert verdict.problem is not None
    assert "\n" not in verdict.problem
    assert f"{KEY_FILE_NAME} is missing from {tmp_path}" in verdict.problem
    assert "account boutique-a" in verdict.problem
    assert "`rakuten-bot run --new-key`" in verdict.problem
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_a_changed_key_file_is_a_problem_naming_the_accounts(tmp_path: Path) -> None:
    create_key_file(tmp_path)
    old = Fernet.generate_key()

    verdict = judge_key(tmp_path, None, [account("a", old), account("b", old)])

    assert verdict.problem is not None
    assert f"The key in {tmp_path / KEY_FILE_NAME} does not decrypt" in verdict.problem
    assert "2 accounts (a, b)" in verdict.problem


def test_a_changed_environment_key_is_named_as_such(tmp_path: Path) -> None:
    env_key = Fernet.generate_key().decode()

    verdict = judge_key(tmp_path, env_key, [account("a", Fernet.generate_key())])

    assert verdict.problem is not None
    assert verdict.problem.startswith("RAKUTEN_SECRET_KEY does not decrypt")
    assert env_key not in verdict.problem


def test_one_damaged_token_among_good_ones_is_not_a_wrong_key(tmp_path: Path) -> None:
    key = create_key_file(tmp_path)
    damaged = dataclass_replace_token(account("b", key), "gAAAA-damaged")

    verdict = judge_key(tmp_path, None, [account("a", key), damaged])

    assert verdict.fits
    assert verdict.unreadable == ["b"]


def test_the_account_the_environment_supplies_is_not_lost(tmp_path: Path) -> None:
    # RAKUTEN_LOGIN/RAKUTEN_TOKEN give its token again: it is simply encrypted with the key in use.
    verdict = judge_key(tmp_path, None, [account("env-shop", Fernet.generate_key())], env_login="env-shop")

    assert verdict.fits


def dataclass_replace_token(record: AccountRecord, ciphertext: str) -> AccountRecord:
    record.token_ciphertext = ciphertext
    return record


# --------------------------------------------------------------------------------------- opening for run


def test_run_refuses_instead_of_making_a_key_over_stored_tokens(tmp_path: Path) -> None:
    with pytest.raises(KeyMismatchError, match="is missing from"):
        open_cipher_for_run(tmp_path, None, [account("a", Fernet.generate_key())])

    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_run_makes_the_first_key_when_nothing_needs_one(tmp_path: Path) -> None:
    cipher = open_cipher_for_run(tmp_path, None, [])

    assert cipher.decrypt(TokenCipher(key_file(tmp_path)).encrypt("t")) == "t"


def test_new_key_sets_the_changed_key_aside_and_makes_another(tmp_path: Path) -> None:
    replaced = create_key_file(tmp_path)

    cipher = open_cipher_for_run(
        tmp_path, None, [account("a", Fernet.generate_key())], new_key=True, clock=lambda: NOW
    )

    (folder,) = tmp_path.glob("set-aside-*")
    assert (folder / KEY_FILE_NAME).read_bytes().strip() == replaced
    assert key_file(tmp_path) != replaced
    assert cipher.decrypt(TokenCipher(key_file(tmp_path)).encrypt("t")) == "t"


def test_new_key_without_any_key_just_makes_one(tmp_path: Path) -> None:
    open_cipher_for_run(tmp_path, None, [account("a", Fernet.generate_key())], new_key=True)

    assert (tmp_path / KEY_FILE_NAME).exists()
    assert not list(tmp_path.glob("set-aside-*"))


def test_new_key_keeps_an_environment_key(tmp_path: Path) -> None:
    env_key = Fernet.generate_key()

    cipher = open_cipher_for_run(tmp_path, env_key.decode(), [account("a", Fernet.generate_key())], new_key=True)

    assert cipher.decrypt(TokenCipher(env_key).encrypt("t")) == "t"
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_new_key_with_a_key_that_fits_changes_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    key = create_key_file(tmp_path)

    with caplog.at_level(logging.WARNING):
        open_cipher_for_run(tmp_path, None, [account("a", key)], new_key=True)

    assert key_file(tmp_path) == key
    assert not list(tmp_path.glob("set-aside-*"))
    assert "so it was kept" in caplog.text


def test_start_empty_on_an_intact_store_sets_nothing_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with TinyDBStore(tmp_path) as first:
        first.save_order(make_order("1001"))

    with caplog.at_level(logging.WARNING), open_store_for_run(tmp_path, start_empty=True) as store:
        assert [order.purchaseid for order in store.list_orders()] == ["1001"]

    assert not list(tmp_path.glob("set-aside-*"))
    assert "is intact, so nothing was set aside" in caplog.text


def test_start_empty_on_a_lost_store_starts_empty(tmp_path: Path) -> None:
    with TinyDBStore(tmp_path) as first:
        first.save_order(make_order("1001"))
    (tmp_path / SNAPSHOT_NAME).unlink()
    with pytest.raises(StoreLostError):
        open_store_for_run(tmp_path)

    with open_store_for_run(tmp_path, start_empty=True) as store:
        assert store.list_orders() == []

    (folder,) = tmp_path.glob("set-aside-*")
    assert (folder / JOURNAL_NAME).exists()
