"""An operator's ordinary mistakes, made with ``rakuten-bot run`` and ``rakuten-bot check`` as real processes
against the Slack stand-in and the simulator: each gets a few readable lines saying what to do and a non-zero
exit, never a traceback; ``run`` starts nothing (no data dir, no poll) when it refuses.

Where the problems are listed: the configuration's on stderr (exit 2, both commands), ``run``'s start-up checks on
stderr (exit 1), ``check``'s report on stdout, with a ``[FAIL]`` line per problem (exit 1).
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.local_stack import LocalStack
from tests.e2e.bot_process import bot_env, rakuten_bot
from tests.e2e.disks import SmallDisk, can_mount, read_only_directory

COMMANDS = ["run", "check"]


def told(result: subprocess.CompletedProcess[str], command: str) -> list[str]:
    """The lines that name a problem: ``  - …`` on stderr (configuration, run), ``[FAIL] …`` on stdout (check).

    Also asserts what every refusal shares: a non-zero exit and no traceback anywhere.
    """
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    if command == "check" and result.returncode == 1:
        lines = [line for line in result.stdout.splitlines() if line.startswith("[FAIL]")]
    else:
        heading = "the configuration has problems" if result.returncode == 2 else "cannot start"
        assert result.stderr.splitlines()[0] == f"rakuten-bot: {heading}:", result.stderr
        lines = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert lines, output
    return lines


def only_line(result: subprocess.CompletedProcess[str], command: str) -> str:
    (line,) = told(result, command)
    return line


def assert_nothing_polled(stack: LocalStack, command: str) -> None:
    """A refused run calls Rakuten not once (check still tries the credentials: that is part of its report)."""
    if command == "run":
        assert stack.simulator.requests == []


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another program listens on (on every address, as the bot would)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("0.0.0.0", 0))  # noqa: S104 - the bot listens on every address too
        other.listen()
        yield int(other.getsockname()[1])


# ------------------------------------------------------------------------------------------------------ Slack


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_bot_token_is_named_with_slack_s_error_and_where_to_copy_the_right_one(
    stack: LocalStack, tmp_path: Path, command: str
) -> None:
    data_dir = tmp_path / "data-never-created"

    result = rakuten_bot(command, env=bot_env(stack, data_dir, SLACK_BOT_TOKEN="xoxb-revoked-or-mistyped"))

    line = only_line(result, command)
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in line
    assert "Bot User OAuth Token (xoxb-…)" in line
    assert result.returncode == 1
    assert not data_dir.exists()
    assert_nothing_polled(stack, command)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_app_token_says_to_create_one_with_connections_write(
    stack: LocalStack, tmp_path: Path, command: str
) -> None:
    data_dir = tmp_path / "data-never-created"

    result = rakuten_bot(command, env=bot_env(stack, data_dir, SLACK_APP_TOKEN="xapp-1-deleted-token"))

    line = only_line(result, command)
    assert "SLACK_APP_TOKEN (invalid_auth)" in line
    assert "create an app-level token with connections:write" in line
    assert result.returncode == 1
    assert not data_dir.exists()
    assert stack.slack.socket_connections == []


# ------------------------------------------------------------------------------------------------------- PORT


@pytest.mark.parametrize("command", COMMANDS)
def test_a_port_in_use_says_to_choose_another(
    stack: LocalStack, tmp_path: Path, busy_port: int, command: str
) -> None:
    data_dir = tmp_path / "data-never-created"

    result = rakuten_bot(command, env=bot_env(stack, data_dir, PORT=str(busy_port)))

    line = only_line(result, command)
    assert f"PORT {busy_port} is already in use by another program: choose another PORT" in line
    assert result.returncode == 1
    assert not data_dir.exists()
    assert_nothing_polled(stack, command)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_a_port_out_of_range_says_to_choose_another(stack: LocalStack, tmp_path: Path, command: str, port: str) -> None:
    result = rakuten_bot(command, env=bot_env(stack, tmp_path / "bot-data", PORT=port))

    line = only_line(result, command)
    assert line == (
        f"  - PORT must be a TCP port between 1 and 65535, not {port!r}: choose another PORT (a free one between "
        "1024 and 65535)."
    )
    assert result.returncode == 2


# --------------------------------------------------------------------------------------------------- data dir


@pytest.mark.parametrize("command", COMMANDS)
def test_a_data_dir_that_cannot_be_created_is_named(stack: LocalStack, tmp_path: Path, command: str) -> None:
    a_file = tmp_path / "data.txt"
    a_file.write_text("not a directory")

    result = rakuten_bot(command, env=bot_env(stack, a_file / "data"))

    line = only_line(result, command)
    assert f"RAKUTEN_DATA_DIR {a_file / 'data'} cannot be created: {a_file} is a file, not a directory" in line
    assert "Choose another RAKUTEN_DATA_DIR" in line
    assert result.returncode == 1
    assert a_file.read_text() == "not a directory"


@pytest.mark.parametrize("command", COMMANDS)
def test_a_data_dir_that_is_a_file_is_named(stack: LocalStack, tmp_path: Path, command: str) -> None:
    a_file = tmp_path / "bot-data"
    a_file.write_text("not a directory")

    line = only_line(rakuten_bot(command, env=bot_env(stack, a_file)), command)

    assert f"RAKUTEN_DATA_DIR {a_file} is a file, not a directory: choose another RAKUTEN_DATA_DIR" in line


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("inside", [False, True], ids=["the dir itself", "its parent"])
def test_a_data_dir_that_cannot_be_written_is_named(
    stack: LocalStack, tmp_path: Path, command: str, inside: bool
) -> None:
    with read_only_directory(tmp_path / "read-only") as read_only:
        data_dir = read_only / "data" if inside else read_only

        result = rakuten_bot(command, env=bot_env(stack, data_dir))

        line = only_line(result, command)
        assert f"RAKUTEN_DATA_DIR {data_dir}" in line
        assert "is on a read-only file system" in line or "is not writable by this user" in line
        assert "choose another RAKUTEN_DATA_DIR, or give the bot's user write access to it" in line
        assert result.returncode == 1
        assert list(read_only.iterdir()) == []
    assert_nothing_polled(stack, command)


def test_run_on_a_full_disk_says_to_free_some_space(stack: LocalStack, tmp_path: Path) -> None:
    if not can_mount():
        pytest.skip("a full disk needs a small file system of its own, and mounting one is not allowed here")
    disk = SmallDisk(tmp_path / "small-disk")
    try:
        disk.break_writes()

        result = rakuten_bot("run", env=bot_env(stack, disk.data_dir))
    finally:
        disk.close()

    line = only_line(result, "run")
    assert f"RAKUTEN_DATA_DIR {disk.data_dir} cannot be written (No space left on device)" in line
    assert "free some space on its disk, or choose another RAKUTEN_DATA_DIR" in line
    assert stack.simulator.requests == []


# ------------------------------------------------------------------------------------------- other variables


@pytest.mark.parametrize("command", COMMANDS)
def test_a_poll_interval_that_is_not_a_number_is_named(stack: LocalStack, tmp_path: Path, command: str) -> None:
    result = rakuten_bot(command, env=bot_env(stack, tmp_path / "bot-data", RAKUTEN_POLL_SECONDS="10 minutes"))

    line = only_line(result, command)
    assert line == "  - RAKUTEN_POLL_SECONDS must be a positive number of seconds (such as 600), not '10 minutes'."
    assert result.returncode == 2


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unknown_log_level_is_named_with_the_accepted_ones(
    stack: LocalStack, tmp_path: Path, command: str
) -> None:
    result = rakuten_bot(command, env=bot_env(stack, tmp_path / "bot-data", LOG_LEVEL="VERBOSE"))

    line = only_line(result, command)
    assert line == "  - LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'VERBOSE'."
    assert result.returncode == 2


def test_an_unknown_log_level_on_the_command_line_is_named_as_such(stack: LocalStack, tmp_path: Path) -> None:
    result = rakuten_bot("--log-level", "trace", "check", env=bot_env(stack, tmp_path / "bot-data"))

    assert only_line(result, "check").startswith("  - --log-level must be one of DEBUG, INFO, WARNING")


def test_log_levels_are_accepted_in_any_case(stack: LocalStack, tmp_path: Path) -> None:
    result = rakuten_bot("check", env=bot_env(stack, tmp_path / "bot-data", LOG_LEVEL="warning"))

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_http_mode_without_a_signing_secret_says_where_to_find_it(
    stack: LocalStack, tmp_path: Path, command: str
) -> None:
    result = rakuten_bot(command, env=bot_env(stack, tmp_path / "bot-data", SLACK_SIGNING_SECRET=None))

    line = only_line(result, command)
    assert "SLACK_SIGNING_SECRET is required in HTTP mode (Basic Information > Signing Secret)" in line
    assert "or set SLACK_APP_TOKEN to use Socket Mode" in line
    assert result.returncode == 2


def test_run_lists_every_start_up_problem_at_once(stack: LocalStack, tmp_path: Path, busy_port: int) -> None:
    a_file = tmp_path / "data.txt"
    a_file.write_text("")
    env = bot_env(stack, a_file / "data", SLACK_BOT_TOKEN="xoxb-mistyped", PORT=str(busy_port))

    lines = told(rakuten_bot("run", env=env), "run")

    assert len(lines) == 3
    assert "RAKUTEN_DATA_DIR" in lines[0]
    assert "SLACK_BOT_TOKEN" in lines[1]
    assert f"PORT {busy_port}" in lines[2]
