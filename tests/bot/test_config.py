"""Settings.from_env: every variable's default, missing and invalid value; all problems at once; no secrets."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.config import (
    DEFAULT_POLL_SECONDS,
    DEFAULT_PORT,
    DEFAULT_RAKUTEN_API_URL,
    DEFAULT_SLACK_API_URL,
    ConfigError,
    RunMode,
    Settings,
    Tuning,
)
from bot.domain.deadlines import DeadlineRules

BOT_TOKEN = "xoxb-1111-2222-bottokenvalue"
APP_TOKEN = "xapp-1-A111-222-apptokenvalue"
SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
RAKUTEN_TOKEN = "3c59dc048e8850243be8079a5c74d079"
SECRET_KEY = "secret-key-material-for-fernet"
MINIMAL = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}


def problems(env: dict[str, str], *, require_slack_secret: bool = True) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env, require_slack_secret=require_slack_secret)
    assert str(raised.value) == "\n".join(raised.value.problems)
    return raised.value.problems


def only_problem(env: dict[str, str]) -> str:
    (problem,) = problems(env)
    return problem


# --------------------------------------------------------------------------------------------- defaults


def test_defaults_with_only_the_required_variables() -> None:
    settings = Settings.from_env(MINIMAL)

    assert settings.slack_bot_token == BOT_TOKEN
    assert settings.slack_signing_secret == SIGNING_SECRET
    assert settings.slack_app_token is None
    assert settings.mode is RunMode.HTTP
    assert settings.slack_api_url == DEFAULT_SLACK_API_URL == "https://slack.com/api/"
    assert settings.rakuten_api_url == DEFAULT_RAKUTEN_API_URL == "https://ws.fr.shopping.rakuten.com/"
    assert (settings.rakuten_login, settings.rakuten_token, settings.rakuten_channel) == (None, None, None)
    assert settings.poll_seconds == DEFAULT_POLL_SECONDS
    assert settings.data_dir == Path("data")
    assert settings.secret_key is None
    assert settings.admins == frozenset()
    assert settings.port == DEFAULT_PORT == 3000
    assert settings.tuning == Tuning()


def test_every_variable_is_read() -> None:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": "http://127.0.0.1:8123/api",
        "RAKUTEN_API_URL": "https://sandbox.fr.shopping.rakuten.com",
        "RAKUTEN_LOGIN": "boutique",
        "RAKUTEN_TOKEN": RAKUTEN_TOKEN,
        "RAKUTEN_CHANNEL": "C0123ABCD",
        "RAKUTEN_POLL_SECONDS": "2",
        "RAKUTEN_DATA_DIR": "/var/lib/rakuten-bot",
        "RAKUTEN_SECRET_KEY": SECRET_KEY,
        "RAKUTEN_ADMINS": "U0AAA, W0BBB  U0CCC",
        "PORT": "8080",
    }

    settings = Settings.from_env(env)

    assert settings.mode is RunMode.SOCKET
    assert settings.slack_app_token == APP_TOKEN
    assert settings.slack_api_url == "http://127.0.0.1:8123/api/"  # a trailing slash is added
    assert settings.rakuten_api_url == "https://sandbox.fr.shopping.rakuten.com/"
    assert (settings.rakuten_login, settings.rakuten_token, settings.rakuten_channel) == (
        "boutique",
        RAKUTEN_TOKEN,
        "C0123ABCD",
    )
    assert settings.poll_seconds == 2.0
    assert settings.data_dir == Path("/var/lib/rakuten-bot")
    assert settings.secret_key == SECRET_KEY
    assert settings.admins == frozenset({"U0AAA", "W0BBB", "U0CCC"})
    assert settings.port == 8080


def test_values_are_stripped_and_blank_means_unset() -> None:
    settings = Settings.from_env({**MINIMAL, "SLACK_BOT_TOKEN": f"  {BOT_TOKEN}\n", "RAKUTEN_LOGIN": "  ", "PORT": ""})

    assert settings.slack_bot_token == BOT_TOKEN
    assert settings.rakuten_login is None
    assert settings.port == DEFAULT_PORT


# -------------------------------------------------------------------------------------------- Slack


def test_the_bot_token_is_required() -> None:
    assert only_problem({"SLACK_SIGNING_SECRET": SIGNING_SECRET}) == "SLACK_BOT_TOKEN is required."


def test_the_bot_token_must_be_a_bot_token() -> None:
    problem = only_problem({**MINIMAL, "SLACK_BOT_TOKEN": "xoxp-user-token-value"})
    assert "SLACK_BOT_TOKEN" in problem
    assert "xoxb-" in problem


def test_the_app_token_must_be_an_app_level_token() -> None:
    problem = only_problem({**MINIMAL, "SLACK_APP_TOKEN": "xoxb-wrong-kind-of-token"})
    assert "SLACK_APP_TOKEN" in problem
    assert "xapp-" in problem


def test_the_signing_secret_is_required_in_http_mode_only() -> None:
    problem = only_problem({"SLACK_BOT_TOKEN": BOT_TOKEN})
    assert "SLACK_SIGNING_SECRET is required in HTTP mode" in problem
    assert "SLACK_APP_TOKEN" in problem  # says how to avoid it

    socket_mode = Settings.from_env({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN})
    assert socket_mode.mode is RunMode.SOCKET
    assert socket_mode.slack_signing_secret is None
    check_only = Settings.from_env({"SLACK_BOT_TOKEN": BOT_TOKEN}, require_slack_secret=False)
    assert check_only.mode is RunMode.HTTP


@pytest.mark.parametrize("name", ["SLACK_API_URL", "RAKUTEN_API_URL"])
@pytest.mark.parametrize("value", ["ftp://example.com/api/", "slack.com/api", "http://"])
def test_urls_must_be_http_urls(name: str, value: str) -> None:
    problem = only_problem({**MINIMAL, name: value})
    assert problem.startswith(f"{name} must be an http(s) URL")
    assert repr(value) in problem


# ------------------------------------------------------------------------------------------- Rakuten


@pytest.mark.parametrize("given", ["RAKUTEN_LOGIN", "RAKUTEN_TOKEN"])
def test_login_and_token_go_together(given: str) -> None:
    env = {**MINIMAL, "RAKUTEN_CHANNEL": "C0123ABCD", given: "boutique" if given == "RAKUTEN_LOGIN" else RAKUTEN_TOKEN}
    problem = only_problem(env)
    assert "RAKUTEN_LOGIN and RAKUTEN_TOKEN go together" in problem


def test_an_environment_account_needs_a_channel() -> None:
    problem = only_problem(
        {**MINIMAL, "RAKUTEN_LOGIN": "boutique", "RAKUTEN_TOKEN": RAKUTEN_TOKEN, "RAKUTEN_ADMINS": "U0AAA"}
    )
    assert "RAKUTEN_CHANNEL is required with RAKUTEN_LOGIN" in problem


@pytest.mark.parametrize("channel", ["#rakuten-orders", "rakuten", "U0123ABCD", "c0123abcd"])
def test_the_channel_must_be_a_channel_id(channel: str) -> None:
    problem = only_problem({**MINIMAL, "RAKUTEN_CHANNEL": channel})
    assert problem.startswith("RAKUTEN_CHANNEL must be a channel ID")


def test_a_channel_alone_is_accepted() -> None:
    assert Settings.from_env({**MINIMAL, "RAKUTEN_CHANNEL": "G0PRIVATE"}).rakuten_channel == "G0PRIVATE"


@pytest.mark.parametrize("value", ["0", "-5", "soon", "nan", "inf", "1e999"])
def test_the_poll_interval_must_be_a_positive_number(value: str) -> None:
    problem = only_problem({**MINIMAL, "RAKUTEN_POLL_SECONDS": value})
    assert problem.startswith("RAKUTEN_POLL_SECONDS must be a positive number of seconds")


def test_a_fractional_poll_interval_is_honoured() -> None:
    assert Settings.from_env({**MINIMAL, "RAKUTEN_POLL_SECONDS": "0.5"}).poll_seconds == 0.5


def test_admins_must_be_user_ids() -> None:
    problem = only_problem({**MINIMAL, "RAKUTEN_ADMINS": "U0GOOD,@alice,C0CHANNEL"})
    assert problem.startswith("RAKUTEN_ADMINS must list Slack user IDs")
    assert "@alice" in problem
    assert "C0CHANNEL" in problem
    assert "U0GOOD" not in problem


@pytest.mark.parametrize("value", ["0", "65536", "http", "-1", "80.5"])
def test_the_port_must_be_a_tcp_port(value: str) -> None:
    problem = only_problem({**MINIMAL, "PORT": value})
    assert problem.startswith("PORT must be a TCP port between 1 and 65535")


@pytest.mark.parametrize("value", ["1", "65535"])
def test_the_port_range_is_inclusive(value: str) -> None:
    assert Settings.from_env({**MINIMAL, "PORT": value}).port == int(value)


# ------------------------------------------------------------------------------------------------- admins


def test_an_account_from_the_environment_requires_admins() -> None:
    env = {**MINIMAL, "RAKUTEN_LOGIN": "boutique", "RAKUTEN_TOKEN": RAKUTEN_TOKEN, "RAKUTEN_CHANNEL": "C0123ABCD"}

    problem = only_problem(env)

    assert problem.startswith("RAKUTEN_ADMINS is required with RAKUTEN_LOGIN/RAKUTEN_TOKEN")
    assert RAKUTEN_TOKEN not in problem
    assert Settings.from_env({**env, "RAKUTEN_ADMINS": "U0AAA"}).admins == frozenset({"U0AAA"})


# ------------------------------------------------------------------------------------ all at once, secrets


def test_every_problem_is_reported_at_once() -> None:
    env = {
        "SLACK_APP_TOKEN": "not-an-app-token",
        "SLACK_API_URL": "nowhere",
        "RAKUTEN_API_URL": "ftp://rakuten",
        "RAKUTEN_TOKEN": RAKUTEN_TOKEN,
        "RAKUTEN_CHANNEL": "orders",
        "RAKUTEN_POLL_SECONDS": "never",
        "RAKUTEN_ADMINS": "alice",
        "PORT": "99999",
    }

    found = problems(env)

    expected_names = [
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "RAKUTEN_LOGIN and RAKUTEN_TOKEN",
        "RAKUTEN_CHANNEL",
        "RAKUTEN_ADMINS",
        "SLACK_API_URL",
        "RAKUTEN_API_URL",
        "RAKUTEN_POLL_SECONDS",
        "PORT",
    ]
    assert len(found) == len(expected_names), found
    for name in expected_names:
        assert any(problem.startswith(name) for problem in found), name


def test_secrets_never_appear_in_problems_or_repr() -> None:
    secrets = {
        "SLACK_BOT_TOKEN": "xoxp-9999-not-a-bot-token-secretvalue",
        "SLACK_APP_TOKEN": "xoxa-8888-not-an-app-token-secretvalue",
        "RAKUTEN_TOKEN": "f0e1d2c3b4a5-rakuten-secretvalue",
        "RAKUTEN_SECRET_KEY": "fernet-key-secretvalue",
        "SLACK_SIGNING_SECRET": "signing-secretvalue",
    }

    found = "\n".join(problems({**secrets, "PORT": "nope"}))
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "RAKUTEN_LOGIN": "boutique",
            "RAKUTEN_TOKEN": RAKUTEN_TOKEN,
            "RAKUTEN_CHANNEL": "C0123ABCD",
            "RAKUTEN_SECRET_KEY": SECRET_KEY,
            "RAKUTEN_ADMINS": "U0AAA",
        }
    )

    assert "secretvalue" not in found
    shown = repr(settings)
    for secret in (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, RAKUTEN_TOKEN, SECRET_KEY):
        assert secret not in shown
    assert "boutique" in shown


# --------------------------------------------------------------------------------------------- reminders and summary


def test_reminder_and_summary_defaults() -> None:
    settings = Settings.from_env(MINIMAL)
    assert settings.deadlines == DeadlineRules(accept_reminder_before=timedelta(hours=12), ship_within_working_days=2)
    assert settings.daily_summary_at == time(8, 30)


def test_reminder_and_summary_settings_are_read() -> None:
    settings = Settings.from_env(
        {
            **MINIMAL,
            "RAKUTEN_ACCEPT_REMINDER_HOURS": "6.5",
            "RAKUTEN_SHIP_WITHIN_WORKING_DAYS": "3",
            "RAKUTEN_DAILY_SUMMARY_AT": " 7:05 ",
        }
    )
    assert settings.deadlines.accept_reminder_before == timedelta(hours=6, minutes=30)
    assert settings.deadlines.ship_within_working_days == 3
    assert settings.daily_summary_at == time(7, 5)


@pytest.mark.parametrize("value", ["", "   ", "off", "OFF"])
def test_the_daily_summary_is_off_when_set_empty_or_off(value: str) -> None:
    assert Settings.from_env({**MINIMAL, "RAKUTEN_DAILY_SUMMARY_AT": value}).daily_summary_at is None


@pytest.mark.parametrize("value", ["8h30", "24:00", "08:60", "830", "soon"])
def test_the_daily_summary_time_must_be_hh_mm(value: str) -> None:
    assert only_problem({**MINIMAL, "RAKUTEN_DAILY_SUMMARY_AT": value}).startswith(
        "RAKUTEN_DAILY_SUMMARY_AT must be a time of day as HH:MM (24-hour, Paris time)"
    )


@pytest.mark.parametrize("value", ["0", "-1", "abc", "72", "100"])
def test_the_accept_reminder_must_come_before_the_deadline(value: str) -> None:
    assert only_problem({**MINIMAL, "RAKUTEN_ACCEPT_REMINDER_HOURS": value}).startswith("RAKUTEN_ACCEPT_REMINDER_HOURS")


@pytest.mark.parametrize("value", ["0", "2.5", "-2", "31", "two"])
def test_the_working_days_must_be_a_whole_number_in_range(value: str) -> None:
    assert only_problem({**MINIMAL, "RAKUTEN_SHIP_WITHIN_WORKING_DAYS": value}) == (
        f"RAKUTEN_SHIP_WITHIN_WORKING_DAYS must be a whole number from 1 to 30, not {value!r}."
    )
