"""What ``rakuten-bot run`` writes to its log, read from a real process: nothing from Bolt or APScheduler on start,
one INFO line per poll that found or did something and none for an idle poll, one clear WARNING when polls take
longer than the interval, and one WARNING when Slack access is revoked.

The bot runs as its own process against the stack's simulator and Slack stand-in (``BotProcess``); its log is
read from the file its stderr goes to. Each wait is on something the test sees from outside (the simulator's
requests, Slack messages, ``/healthz``); polls of one account never overlap, so once the simulator sees poll N
begin, poll N-1 has logged all it will.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.slack.http_server import HEALTH_PATH
from devkit.local_stack import LOGIN, LocalStack
from devkit.rakuten_simulator import Fault
from devkit.slack_requests import app_uninstalled_event, tokens_revoked_event
from tests.e2e.bot_process import BotProcess
from tests.e2e.conftest import only_in

# A process's log is in English, to operators, whatever the bot's language: once is enough.
pytestmark = only_in("en")

NEW_SALES = "getnewsales"
CURRENT_SALES = "getcurrentsales"


@pytest.fixture
def bot(stack: LocalStack, tmp_path: Path) -> Iterator[BotProcess]:
    process = BotProcess(stack, tmp_path / "bot-data")
    yield process
    process.stop()


# The bot's log format (bot.logging_setup): "%(asctime)s %(levelname)-7s %(name)s: %(message)s".
LINE = re.compile(r"^\S+ \S+ (?P<level>[A-Z]+) +(?P<logger>\S+): (?P<message>.*)$")


def log_records(bot: BotProcess, *, level: str | None = None, logger: str | None = None) -> list[str]:
    """The messages of the log's records, by level and by logger (``logger`` and its children)."""
    found = []
    for line in bot.log().splitlines():
        record = LINE.match(line)
        if record is None:
            continue  # a traceback's lines
        if level is not None and record["level"] != level:
            continue
        if logger is not None and not (record["logger"] == logger or record["logger"].startswith(logger + ".")):
            continue
        found.append(record["message"])
    return found


def polls_started(stack: LocalStack) -> int:
    return len(stack.simulator.requests_for(NEW_SALES))


def test_start_and_idle_polls_are_quiet_and_a_poll_that_posts_says_so_once(
    stack: LocalStack, bot: BotProcess
) -> None:
    stack.simulator.add_sale(LOGIN)
    stack.simulator.reset_requests()

    bot.start(RAKUTEN_POLL_SECONDS="1")
    stack.slack.wait_for(lambda: len(stack.cards()) == 1, timeout=10)
    stack.wait_until(lambda: polls_started(stack) >= 3, timeout=15)  # the first poll and an idle one are over

    assert log_records(bot, logger="slack_bolt") == []
    assert log_records(bot, logger="apscheduler") == []
    assert log_records(bot, level="WARNING") == []
    assert log_records(bot, level="ERROR") == []
    assert log_records(bot, logger="bot.services.poller") == [
        f"poll of {LOGIN}: orders new 1, changed 0; cards posted 1, updated 0"
    ]


def test_polls_longer_than_the_interval_are_one_clear_warning(stack: LocalStack, bot: BotProcess) -> None:
    stack.simulator.reset_requests()
    stack.simulator.inject_fault(CURRENT_SALES, Fault.SLOW, delay=3.5)  # the first poll: 3.5 s, interval 1 s

    bot.start(RAKUTEN_POLL_SECONDS="1")
    stack.wait_until(lambda: polls_started(stack) >= 2, timeout=15)  # the slow poll is over: 3 runs were due

    assert log_records(bot, level="WARNING") == [
        f"polling {LOGIN}: a poll was due while the previous one was still running, so it was skipped; a poll "
        "takes longer than the poll interval (RAKUTEN_POLL_SECONDS=1), so polls run less often than it says: "
        "raise it"
    ]
    assert not [line for line in bot.log().splitlines() if "maximum number of running instances" in line]


def test_revoked_slack_access_is_one_warning_without_the_token(stack: LocalStack, bot: BotProcess) -> None:
    bot.start()
    assert stack.sender is not None
    stack.slack.revoke_token()

    assert stack.sender.event(tokens_revoked_event(bot_user_ids=[stack.slack.bot_user_id])).status_code == 200
    assert stack.sender.event(app_uninstalled_event()).status_code == 200
    stack.wait_until(lambda: httpx.get(bot.url + HEALTH_PATH, timeout=2).status_code == 503, timeout=10)

    (warning,) = log_records(bot, level="WARNING")
    assert "Slack access revoked (tokens_revoked, workspace T0STANDIN): polling stopped" in warning
    assert stack.slack.bot_token not in bot.log()
