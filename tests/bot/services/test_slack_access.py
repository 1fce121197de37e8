"""SlackAccess: which revocations concern the bot's token, and what follows (polling stops, one WARNING)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient

from bot.services.scheduler import PollScheduler
from bot.services.slack_access import SlackAccess
from bot.slack.access import SlackAccessGate
from devkit.slack_standin import SlackStandIn

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TEAM = "T0STANDIN"
BOT_USER = "U0BOT"


@pytest.fixture
def scheduler() -> Iterator[PollScheduler]:
    polls = PollScheduler(lambda login: None, interval=3600)  # never started: its jobs are only looked at
    polls.add_account("boutique")
    yield polls
    polls.shutdown()


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(team_id=TEAM, bot_user_id=BOT_USER) as standin:
        yield standin


def access_for(scheduler: PollScheduler, slack: SlackStandIn | None) -> SlackAccess:
    access = SlackAccess(SlackAccessGate(), scheduler, lambda: AT)
    if slack is not None:
        access.learn_identity(WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=5))
    return access


def test_the_bot_s_own_token_revoked_stops_polling_and_says_so_once(
    scheduler: PollScheduler, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    access = access_for(scheduler, slack)

    with caplog.at_level(logging.INFO, logger="bot.services.slack_access"):
        assert access.tokens_revoked(TEAM, [BOT_USER])
        assert not access.app_uninstalled(TEAM)  # Slack sends both on an uninstall

    assert scheduler.next_poll("boutique") is None
    assert access.revocation is not None
    assert (access.revocation.cause, access.revocation.team_id, access.revocation.at) == ("tokens_revoked", TEAM, AT)
    (warning,) = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert warning.getMessage() == (
        "Slack access revoked (tokens_revoked, workspace T0STANDIN): polling stopped and the bot makes no more "
        "Slack calls. Reinstall the app in Slack, then restart the bot with the new SLACK_BOT_TOKEN."
    )


@pytest.mark.parametrize(
    ("team", "bot_users"),
    [(TEAM, []), (TEAM, ["U0OTHERBOT"]), ("T0ELSEWHERE", [BOT_USER])],
    ids=["user-tokens-only", "another-bot", "another-workspace"],
)
def test_revocations_of_other_tokens_change_nothing(
    scheduler: PollScheduler, slack: SlackStandIn, team: str, bot_users: list[str]
) -> None:
    access = access_for(scheduler, slack)

    assert not access.tokens_revoked(team, bot_users)

    assert access.revocation is None
    assert scheduler.next_poll("boutique") is not None


def test_an_uninstall_from_another_workspace_changes_nothing(scheduler: PollScheduler, slack: SlackStandIn) -> None:
    access = access_for(scheduler, slack)

    assert not access.app_uninstalled("T0ELSEWHERE")
    assert access.revocation is None


def test_without_knowing_who_it_is_the_bot_takes_any_bot_token_revocation_as_its_own(
    scheduler: PollScheduler,
) -> None:
    access = access_for(scheduler, None)

    assert access.tokens_revoked("T0ANY", ["U0WHOEVER"])
    assert scheduler.next_poll("boutique") is None


def test_slack_not_answering_who_the_bot_is_leaves_it_unknown_and_the_bot_running(
    scheduler: PollScheduler, slack: SlackStandIn
) -> None:
    access = SlackAccess(SlackAccessGate(), scheduler, lambda: AT)
    slack.go_offline()

    identity = access.learn_identity(WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=5))

    assert (identity.team_id, identity.bot_user_id) == (None, None)
    assert access.tokens_revoked("T0ANY", ["U0WHOEVER"])  # unknown: any bot token revocation is taken as ours
