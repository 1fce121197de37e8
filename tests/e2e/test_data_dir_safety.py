"""A data dir whose store or key was lost: ``rakuten-bot run`` and ``check`` refuse with one line instead of
starting empty (and posting every card again) or making a key over tokens it cannot decrypt; ``--start-empty``
and ``--new-key`` go past the refusal on purpose, setting the old files aside. Real processes, against the
simulator and the Slack stand-in; the data dir is made by the bot itself, in-process, beforehand."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from bot.crypto import KEY_FILE_NAME
from bot.slack.http_server import HEALTH_PATH
from bot.store.storage import JOURNAL_NAME, SNAPSHOT_NAME
from devkit.local_stack import CHANNEL, LOGIN, SIGNING_SECRET, LocalStack, wait_until
from devkit.slack_standin import StoredMessage
from tests.e2e.bot_process import bot_env, rakuten_bot, start_bot
from tests.e2e.conftest import only_in
from tests.e2e.wording import ANY, says, shown

# What these tests check has no language: the processes' command lines (English, for operators) and the safety of
# the data dir. The one channel alert is compared with the stack's translator all the same.
pytestmark = only_in("en")
TOKEN_UNREADABLE = (
    "the stored Rakuten token cannot be decrypted with the bot's key (secret.key or RAKUTEN_SECRET_KEY "
    "changed): an admin must connect the account again with /rakuten connect"
)


def outage_alerts(stack: LocalStack) -> list[StoredMessage]:
    """The channel's "polling has failed" alerts, known by their block."""
    return [
        message
        for message in stack.slack.messages(CHANNEL)
        if any(block.get("block_id") == "outage" for block in message.blocks)
    ]


def previous_life(stack: LocalStack) -> str:
    """The bot ran on the data dir: an account stored (token encrypted), one order with its card, then a stop."""
    purchaseid = stack.simulator.add_sale(LOGIN)
    assert stack.poll().cards_posted == 1
    stack.stop_app()
    return purchaseid


def run_env(stack: LocalStack, data_dir: Path, port: int, **overrides: str | None) -> dict[str, str]:
    return bot_env(stack, data_dir, SLACK_SIGNING_SECRET=SIGNING_SECRET, PORT=str(port), **overrides)


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in directory.iterdir() if path.is_file()}


def set_aside_folders(data_dir: Path) -> list[Path]:
    return sorted(path for path in data_dir.iterdir() if path.is_dir() and path.name.startswith("set-aside-"))


def serving(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
    except httpx.TransportError:
        return False
    return True


# ---------------------------------------------------------------------------------------------- lost store


@pytest.mark.parametrize("damage", ["deleted", "emptied"])
def test_run_and_check_refuse_a_data_dir_whose_store_was_lost(
    stack: LocalStack, data_dir: Path, free_port: int, damage: str
) -> None:
    previous_life(stack)
    posts_before = len(stack.slack.calls_to("chat.postMessage"))
    snapshot = data_dir / SNAPSHOT_NAME
    if damage == "deleted":
        snapshot.unlink()
    else:
        snapshot.write_bytes(b"")
    left = files(data_dir)

    refused = rakuten_bot("run", env=run_env(stack, data_dir, free_port), timeout=20)
    checked = rakuten_bot("check", env=bot_env(stack, data_dir))

    assert refused.returncode == 1
    line = one_line(refused.stderr)
    assert line.startswith("rakuten-bot: The store was lost: store.json ")
    assert ("is missing from" if damage == "deleted" else "is empty (0 bytes)") in line
    for found in (f"{JOURNAL_NAME} (", "store.lock", KEY_FILE_NAME):  # what was found
        assert found in line
    assert "would post every open order to Slack again" in line  # what it means
    assert "Restore store.json from a backup, or run `rakuten-bot run --start-empty`" in line  # what to do
    assert checked.returncode == 1
    assert "[FAIL] data dir" in checked.stdout
    assert "The store was lost" in checked.stdout
    # Nothing was reposted, nothing in the data dir was changed or deleted.
    assert len(stack.slack.calls_to("chat.postMessage")) == posts_before
    assert files(data_dir) == left
    assert set_aside_folders(data_dir) == []


def test_run_start_empty_sets_the_leftovers_aside_and_starts_with_an_empty_store(
    stack: LocalStack, data_dir: Path, free_port: int, running_bots: list[subprocess.Popen[str]]
) -> None:
    purchaseid = previous_life(stack)
    (data_dir / SNAPSHOT_NAME).unlink()
    left = files(data_dir)

    bot = start_bot("run", "--start-empty", env=run_env(stack, data_dir, free_port))
    running_bots.append(bot)
    url = f"http://127.0.0.1:{free_port}{HEALTH_PATH}"
    wait_until(lambda: bot.poll() is not None or serving(url), timeout=20, every=0.05)
    assert bot.poll() is None, bot.communicate()[1]
    # Started empty on purpose: the order is new to this store, so its card is posted again.
    stack.slack.wait_for(lambda: sum(purchaseid in card.text for card in stack.cards()) == 2, timeout=10)
    bot.send_signal(signal.SIGTERM)
    _, stderr = bot.communicate(timeout=20)

    assert bot.returncode == 0, stderr
    (folder,) = set_aside_folders(data_dir)
    assert folder.name.startswith("set-aside-20")
    assert folder.name.endswith("Z")
    aside = files(folder)
    assert aside[JOURNAL_NAME] == left[JOURNAL_NAME]  # moved whole, never deleted
    assert aside[KEY_FILE_NAME] == left[KEY_FILE_NAME] == (data_dir / KEY_FILE_NAME).read_bytes()  # a copy
    assert str(folder) in stderr
    assert (data_dir / SNAPSHOT_NAME).exists()
    # The next start finds a healthy store: no refusal, nothing set aside again.
    again = rakuten_bot("check", env=bot_env(stack, data_dir))
    assert "[FAIL] data dir" not in again.stdout, again.stdout
    assert len(set_aside_folders(data_dir)) == 1


def test_a_first_start_killed_early_leaves_a_store_that_is_new_not_lost(
    stack: LocalStack, tmp_path: Path, free_port: int
) -> None:
    data_dir = tmp_path / "new-data"
    bot = start_bot("run", env=run_env(stack, data_dir, free_port))
    try:
        wait_until(lambda: (data_dir / JOURNAL_NAME).exists(), timeout=20, every=0.01)
    finally:
        bot.kill()  # kill -9: no clean stop, no compaction
        bot.communicate(timeout=10)

    # The empty snapshot is written before anything else, so this directory reads as a store, not a lost one.
    assert (data_dir / SNAPSHOT_NAME).read_bytes() == b"{}"
    checked = rakuten_bot("check", env=bot_env(stack, data_dir))
    assert "[FAIL] data dir" not in checked.stdout, checked.stdout


# -------------------------------------------------------------------------------------------------- the key


def without_env_account(stack: LocalStack, data_dir: Path, port: int | None = None) -> dict[str, str]:
    """The account is only in the store (as after /rakuten connect): its token exists nowhere else."""
    none: dict[str, str | None] = {"RAKUTEN_LOGIN": None, "RAKUTEN_TOKEN": None, "RAKUTEN_CHANNEL": None}
    if port is None:
        return bot_env(stack, data_dir, **none)
    return run_env(stack, data_dir, port, **none)


@pytest.mark.parametrize("change", ["deleted", "replaced"])
def test_run_and_check_refuse_a_key_that_cannot_decrypt_the_stored_tokens(
    stack: LocalStack, data_dir: Path, free_port: int, change: str
) -> None:
    previous_life(stack)
    key_file = data_dir / KEY_FILE_NAME
    if change == "deleted":
        key_file.unlink()
    else:
        key_file.write_bytes(Fernet.generate_key() + b"\n")
    left = files(data_dir)

    refused = rakuten_bot("run", env=without_env_account(stack, data_dir, free_port), timeout=20)
    checked = rakuten_bot("check", env=without_env_account(stack, data_dir))

    assert refused.returncode == 1
    line = one_line(refused.stderr)
    if change == "deleted":
        assert f"rakuten-bot: {KEY_FILE_NAME} is missing from {data_dir}" in line
    else:
        assert f"rakuten-bot: The key in {key_file} does not decrypt" in line
    assert f"the stored account {LOGIN}" in line
    assert "`rakuten-bot run --new-key`" in line
    assert "/rakuten connect" in line
    assert checked.returncode == 1
    assert "[FAIL] secret key" in checked.stdout
    # No key was made over the encrypted tokens, by either command; nothing else changed either.
    assert files(data_dir) == left
    assert not stack.slack.calls_to("chat.postMessage")[1:]  # only the previous life's card


def test_run_new_key_sets_the_old_key_aside_and_the_account_then_fails_loudly(
    stack: LocalStack, data_dir: Path, free_port: int, running_bots: list[subprocess.Popen[str]]
) -> None:
    previous_life(stack)
    replaced = Fernet.generate_key() + b"\n"
    (data_dir / KEY_FILE_NAME).write_bytes(replaced)
    env = without_env_account(stack, data_dir, free_port)
    env["RAKUTEN_POLL_SECONDS"] = "0.2"

    bot = start_bot("run", "--new-key", env=env)
    running_bots.append(bot)
    url = f"http://127.0.0.1:{free_port}{HEALTH_PATH}"
    wait_until(lambda: bot.poll() is not None or serving(url), timeout=20, every=0.05)
    assert bot.poll() is None, bot.communicate()[1]
    # The account's token cannot be used: its polls fail, the channel is told once, /healthz says so.
    stack.slack.wait_for(lambda: bool(outage_alerts(stack)), timeout=10)
    wait_until(lambda: httpx.get(url, timeout=2).status_code == 503, timeout=10, every=0.05)
    health = httpx.get(url, timeout=2).json()
    bot.send_signal(signal.SIGTERM)
    _, stderr = bot.communicate(timeout=20)

    assert bot.returncode == 0, stderr
    (folder,) = set_aside_folders(data_dir)
    assert (folder / KEY_FILE_NAME).read_bytes() == replaced
    new_key = (data_dir / KEY_FILE_NAME).read_bytes()
    assert new_key != replaced
    (alert,) = outage_alerts(stack)
    # What to do: connect the account again. (The reason is made inert like Rakuten's own words, so its
    # underscores show as full-width ones.)
    assert says(shown(alert.blocks), stack.t.gettext(TOKEN_UNREADABLE).replace("RAKUTEN_SECRET_KEY", ANY))
    assert health["status"] == "unhealthy"
    (problem,) = health["problems"]
    assert LOGIN in problem
    assert "cannot be decrypted" in problem
    assert new_key.strip().decode() not in stderr
