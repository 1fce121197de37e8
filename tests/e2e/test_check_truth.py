"""``rakuten-bot check`` passes only when ``rakuten-bot run`` would start and work, and writes nothing.

Real processes against the Slack stand-in (Web API and Socket Mode's WebSocket) and the Rakuten simulator. A
data dir from a "previous life" is made by the in-process bot of the stack, then stopped.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet

from bot.crypto import TokenCipher
from bot.domain.accounts import AccountRecord
from bot.store.postgres_store import PostgresStore
from devkit.local_stack import ADMIN, CHANNEL, LOGIN, LocalStack, wait_until
from rakuten.actions import Action
from tests.e2e.bot_process import BotProcess, answers, bot_env, rakuten_bot, start_bot
from tests.e2e.disks import read_only_directory
from tests.postgres import fresh_schema

NOT_INVITED = "C0NOBOT"


def report_lines(result: subprocess.CompletedProcess[str]) -> dict[str, list[tuple[str, str]]]:
    """The report's lines by topic: ``{"slack": [("ok", "connected to …")], …}``; never a traceback."""
    assert "Traceback" not in result.stdout + result.stderr
    lines: dict[str, list[tuple[str, str]]] = {}
    for line in result.stdout.splitlines():
        if line.startswith("[") and "]" in line:
            status, rest = line[1:].split("]", 1)
            topic, _, detail = rest.strip().partition("  ")
            lines.setdefault(topic.strip(), []).append((status.strip(), detail.strip()))
    return lines


def failures(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    lines = report_lines(result).items()
    return {topic: detail for topic, found in lines for status, detail in found if status == "FAIL"}


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``directory`` with its size and modification time (ns): what a write would change."""
    return {
        str(path.relative_to(directory)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(directory.rglob("*"))
    }


def previous_life(stack: LocalStack) -> None:
    """The stack's bot ran on its data dir (the env account stored, its token encrypted) and stopped."""
    stack.poll()
    stack.stop_app()


def stored_account_only(stack: LocalStack, data_dir: Path, **overrides: str | None) -> dict[str, str]:
    """The account is in the store only (as after /rakuten connect): its token and channel exist nowhere else."""
    return bot_env(stack, data_dir, RAKUTEN_LOGIN=None, RAKUTEN_TOKEN=None, RAKUTEN_CHANNEL=None, **overrides)


# ------------------------------------------------------------------------------------------------ passing


def test_check_in_socket_mode_opens_and_closes_a_real_connection(stack: LocalStack, tmp_path: Path) -> None:
    env = bot_env(stack, tmp_path / "bot-data", SLACK_APP_TOKEN=stack.slack.app_token, SLACK_SIGNING_SECRET=None)

    result = rakuten_bot("check", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert report_lines(result)["socket mode"] == [
        ("ok", "SLACK_APP_TOKEN opened a Socket Mode connection (closed again)")
    ]
    (connection,) = stack.slack.socket_connections
    assert not connection.open  # closed before check exited
    assert len(stack.slack.calls_to("apps.connections.open")) == 1


def test_check_in_http_mode_names_the_signing_secret_and_port(stack: LocalStack, tmp_path: Path) -> None:
    env = bot_env(stack, tmp_path / "bot-data")

    result = rakuten_bot("check", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert report_lines(result)["http mode"] == [
        ("ok", f"SLACK_SIGNING_SECRET is set; PORT {env['PORT']} is free for POST /slack/events")
    ]
    assert stack.slack.socket_connections == []


def test_check_fails_in_http_mode_without_a_signing_secret(stack: LocalStack, tmp_path: Path) -> None:
    # Before, check ignored it, and passed where run refused to start.
    result = rakuten_bot("check", env=bot_env(stack, tmp_path / "bot-data", SLACK_SIGNING_SECRET=None))

    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET is required in HTTP mode" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_beside_the_running_bot_warns_and_passes(stack: LocalStack, tmp_path: Path) -> None:
    bot = BotProcess(stack, tmp_path / "running-data").start()
    try:
        port = bot.url.rsplit(":", 1)[1]
        env = bot_env(stack, tmp_path / "running-data", PORT=port)

        result = rakuten_bot("check", env=env)
    finally:
        bot.stop()

    assert result.returncode == 0, result.stdout + result.stderr
    lines = report_lines(result)
    assert ("warn", "a running rakuten-bot uses it: a second one could not start on it") in lines["data dir"]
    assert lines["http mode"] == [
        ("warn", f"PORT {port} is taken by a running rakuten-bot: a second one could not start beside it")
    ]


# ----------------------------------------------------------------------------------------------- channels


def test_check_fails_when_the_order_channel_does_not_exist(stack: LocalStack, tmp_path: Path) -> None:
    result = rakuten_bot("check", env=bot_env(stack, tmp_path / "bot-data", RAKUTEN_CHANNEL="C0DELETED"))

    assert result.returncode == 1
    assert failures(result)["channel C0DELETED"].startswith("RAKUTEN_CHANNEL C0DELETED was not found")
    assert "All checks passed." not in result.stdout


def test_check_fails_when_the_bot_is_not_in_the_order_channel(stack: LocalStack, tmp_path: Path) -> None:
    stack.slack.add_channel(NOT_INVITED, name="orders-new", bot_is_member=False)

    result = rakuten_bot("check", env=bot_env(stack, tmp_path / "bot-data", RAKUTEN_CHANNEL=NOT_INVITED))

    assert result.returncode == 1
    assert failures(result)[f"channel {NOT_INVITED}"] == (
        f"The bot is not in RAKUTEN_CHANNEL {NOT_INVITED} (#orders-new): invite it there with /invite @rakuten-bot."
    )
    assert stack.slack.calls_to("conversations.info")[-1].params["channel"] == NOT_INVITED


def test_check_looks_at_each_stored_account_s_channel(stack: LocalStack, data_dir: Path) -> None:
    previous_life(stack)
    # The bot was removed from the order channel since (channels.kick, or someone left it for the bot).
    stack.slack.add_channel(CHANNEL, name="rakuten-orders", bot_is_member=False)

    result = rakuten_bot("check", env=stored_account_only(stack, data_dir))

    assert result.returncode == 1
    assert failures(result)[f"channel {CHANNEL}"] == (
        f"The bot is not in the order channel of {LOGIN} {CHANNEL} (#rakuten-orders): invite it there with "
        "/invite @rakuten-bot."
    )


# ---------------------------------------------------------------------------------------- data dir, Rakuten


def test_check_fails_on_a_data_dir_it_could_not_write(stack: LocalStack, tmp_path: Path) -> None:
    with read_only_directory(tmp_path / "read-only") as read_only:
        result = rakuten_bot("check", env=bot_env(stack, read_only))

    assert result.returncode == 1
    assert failures(result)["data dir"].startswith(f"RAKUTEN_DATA_DIR {read_only} ")


def test_check_tries_each_stored_account_s_token_against_rakuten(stack: LocalStack, data_dir: Path) -> None:
    previous_life(stack)
    stack.simulator.add_account(LOGIN, "a-token-made-since")  # the seller made a new token: the stored one is dead
    stack.simulator.reset_requests()

    result = rakuten_bot("check", env=stored_account_only(stack, data_dir))

    assert result.returncode == 1
    assert failures(result)[f"rakuten {LOGIN}"].startswith("Rakuten refused the login/token pair")
    (tried,) = stack.simulator.requests_for(Action.GET_ITEM_TODO_LIST.value)
    assert tried.login == LOGIN


# ------------------------------------------------------------------------------------------ writes nothing


def test_check_on_a_missing_data_dir_leaves_it_missing(stack: LocalStack, tmp_path: Path) -> None:
    data_dir = tmp_path / "not-yet"

    result = rakuten_bot("check", env=bot_env(stack, data_dir))

    assert result.returncode == 0, result.stdout + result.stderr
    assert not data_dir.exists()


def test_check_on_an_empty_data_dir_leaves_it_empty(stack: LocalStack, tmp_path: Path) -> None:
    data_dir = tmp_path / "empty"
    data_dir.mkdir()

    result = rakuten_bot("check", env=bot_env(stack, data_dir))

    assert result.returncode == 0, result.stdout + result.stderr
    assert list(data_dir.iterdir()) == []  # no secret.key, no store.json, no lock: run makes those


def test_check_on_a_used_data_dir_changes_no_file(stack: LocalStack, data_dir: Path) -> None:
    previous_life(stack)
    before = snapshot(data_dir)
    os.utime(data_dir, ns=(0, 0))

    result = rakuten_bot("check", env=bot_env(stack, data_dir))

    assert result.returncode == 0, result.stdout + result.stderr
    assert snapshot(data_dir) == before
    assert data_dir.stat().st_mtime_ns == 0  # not a file created and removed either


@pytest.mark.parametrize("mode", ["http", "socket"])
def test_check_passes_where_run_starts(
    stack: LocalStack, tmp_path: Path, mode: str, running_bots: list[subprocess.Popen[str]]
) -> None:
    """The other side of the truth: when check passes, run starts on the same environment and serves Slack."""
    socket_mode = {"SLACK_APP_TOKEN": stack.slack.app_token} if mode == "socket" else {}
    env = bot_env(stack, tmp_path / "bot-data", **socket_mode)
    assert rakuten_bot("check", env=env).returncode == 0
    checked_connections = len(stack.slack.socket_connections)

    bot = start_bot("run", env=env)
    running_bots.append(bot)

    if mode == "socket":
        wait_until(lambda: bot.poll() is not None or len(stack.slack.socket_connections) > checked_connections)
        assert stack.slack.socket_connections[-1].open
    else:
        wait_until(lambda: bot.poll() is not None or answers(f"http://127.0.0.1:{env['PORT']}/healthz"), timeout=20)
    assert bot.poll() is None, bot.communicate(timeout=10)


# ------------------------------------------------------------------------------------------------ PostgreSQL


@pytest.fixture
def database_url() -> Iterator[str]:
    with fresh_schema() as url:
        yield url


def tables(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()
    return sorted(row[0] for row in rows)


def test_check_reads_a_new_postgresql_store_without_creating_it(
    stack: LocalStack, tmp_path: Path, database_url: str
) -> None:
    env = bot_env(stack, tmp_path / "key-only", DATABASE_URL=database_url)

    result = rakuten_bot("check", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    (status, detail), *_ = report_lines(result)["store"]
    assert status == "ok"
    assert detail.endswith("holds no store yet: `rakuten-bot run` creates its tables")
    assert tables(database_url) == []  # no migration ran
    assert not (tmp_path / "key-only").exists()


def test_check_tries_the_tokens_a_postgresql_store_holds(stack: LocalStack, tmp_path: Path, database_url: str) -> None:
    key = Fernet.generate_key().decode()
    with PostgresStore(database_url) as store:
        store.save_account(
            AccountRecord(
                login=LOGIN,
                token_ciphertext=TokenCipher(key.encode()).encrypt("a-token-rakuten-no-longer-takes"),
                channel_id=CHANNEL,
                connected_by=ADMIN,
                connected_at=datetime.now(UTC),
            )
        )
    env = stored_account_only(stack, tmp_path / "unused", DATABASE_URL=database_url, RAKUTEN_SECRET_KEY=key)

    result = rakuten_bot("check", env=env)

    assert result.returncode == 1
    assert report_lines(result)["store"][0][1].endswith("(1 account(s) stored)")
    assert failures(result)[f"rakuten {LOGIN}"].startswith("Rakuten refused the login/token pair")
    assert not (tmp_path / "unused").exists()  # with RAKUTEN_SECRET_KEY the data dir is not needed


def test_check_fails_on_a_postgresql_server_it_cannot_reach(stack: LocalStack, tmp_path: Path, free_port: int) -> None:
    unreachable = f"postgresql://rakuten:a-password@127.0.0.1:{free_port}/rakuten"

    result = rakuten_bot("check", env=bot_env(stack, tmp_path / "bot-data", DATABASE_URL=unreachable))

    assert result.returncode == 1
    assert failures(result)["store"].startswith("Cannot read PostgreSQL")
    assert "a-password" not in result.stdout + result.stderr


def test_run_with_postgresql_and_a_secret_key_needs_no_writable_data_dir(
    stack: LocalStack, tmp_path: Path, database_url: str, running_bots: list[subprocess.Popen[str]]
) -> None:
    key = Fernet.generate_key().decode()
    with read_only_directory(tmp_path / "read-only") as read_only:
        env = bot_env(stack, read_only, DATABASE_URL=database_url, RAKUTEN_SECRET_KEY=key)
        assert rakuten_bot("check", env=env).returncode == 0

        bot = start_bot("run", env=env)
        running_bots.append(bot)
        wait_until(lambda: bot.poll() is not None or answers(f"http://127.0.0.1:{env['PORT']}/healthz"), timeout=20)

        assert bot.poll() is None, bot.communicate(timeout=10)
        assert "accounts" in tables(database_url)
