"""Run modes: the app in HTTP mode (health check, signed requests), ``rakuten-bot check`` and ``rakuten-bot run``
as real processes against the simulator and the Slack stand-in."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bot.constants import COMMAND
from bot.slack.http_server import EVENTS_PATH, HEALTH_PATH, READY_PATH
from bot.store import TinyDBStore
from bot.ui.i18n import Translator
from bot.ui.messages import help_summary
from devkit.local_stack import ADMIN, CHANNEL, LOGIN, SIGNING_SECRET, TOKEN, LocalStack, wait_until
from devkit.slack_requests import (
    FORM_CONTENT_TYPE,
    SlackRequestSender,
    app_home_opened_event,
    sign,
    slash_command_body,
)
from rakuten.actions import Action
from tests.e2e.bot_process import ROOT, answers, bot_env, rakuten_bot, start_bot
from tests.e2e.conftest import only_in
from tests.i18n import EN, FR

BAD_RAKUTEN_TOKEN = "not-the-token-7e1d"
BAD_SLACK_TOKEN = "xoxb-not-the-bot-token-42"


# ---------------------------------------------------------------------------------------------- helpers


def base_url(stack: LocalStack) -> str:
    return stack.app_url.removesuffix(EVENTS_PATH)


# `rakuten-bot check` and `run` as processes: their command lines speak English, to operators, whatever the
# bot's language, so those tests run once; the HTTP-mode tests of the in-process app run in both languages.
processes_only_in_english = only_in("en")


def help_answers(stack: LocalStack, t: Translator | None = None) -> list[dict]:
    """Answers to ``/rakuten help`` in ``t``'s language (the stack's, by default: its people's Slack speaks it)."""
    help_text = help_summary(t or stack.t)
    return [answer for answer in stack.slack.responses if answer.get("text") == help_text]


# ------------------------------------------------------------------------------------------- HTTP mode


def test_healthz_says_whether_the_bot_is_polling(stack: LocalStack) -> None:
    idle = httpx.get(base_url(stack) + HEALTH_PATH, timeout=5)
    assert idle.status_code == 503
    assert idle.json()["status"] == "unhealthy"
    assert idle.json()["polling"] is False
    assert idle.json()["problems"] == ["polling is not running"]

    stack.bot.start_polling()
    polling = httpx.get(base_url(stack) + HEALTH_PATH, timeout=5)

    assert polling.status_code == 200
    report = polling.json()
    assert report["status"] == "ok"
    assert report["polling"] is True
    assert report["problems"] == []
    (account,) = report["accounts"]
    assert account["login"] == LOGIN
    assert account["next_poll_at"] is not None
    assert TOKEN not in polling.text


def test_readyz_says_whether_this_process_takes_its_polls(stack: LocalStack) -> None:
    idle = httpx.get(base_url(stack) + READY_PATH, timeout=5)
    assert idle.status_code == 503
    assert idle.json()["taking_poll_leases"] is False

    stack.bot.start_polling()
    ready = httpx.get(base_url(stack) + READY_PATH, timeout=5)

    assert ready.status_code == 200
    report = ready.json()
    assert (report["taking_poll_leases"], report["database"], report["problems"]) == (True, "embedded", [])
    assert report["replica"] == stack.bot.leases.replica
    assert httpx.get(base_url(stack) + HEALTH_PATH, timeout=5).json()["database"] == "embedded"


def test_a_signed_slash_command_is_served(stack: LocalStack) -> None:
    response = stack.command("help")

    assert response.status_code == 200
    stack.slack.wait_for(lambda: len(help_answers(stack)) == 1)


def test_a_signed_event_is_served(stack: LocalStack) -> None:
    assert stack.sender is not None
    response = stack.sender.event(app_home_opened_event(ADMIN))

    assert response.status_code == 200
    stack.slack.wait_for(lambda: stack.slack.published_home(ADMIN) is not None)


def test_requests_without_slack_s_signature_are_refused(stack: LocalStack) -> None:
    body = slash_command_body(
        command=COMMAND,
        text="help",
        user_id=ADMIN,
        channel_id=CHANNEL,
        trigger_id=stack.slack.new_trigger_id(),
        response_url=stack.slack.new_response_url(CHANNEL, user_id=ADMIN),
    )
    with SlackRequestSender(stack.app_url, "not-the-signing-secret") as forger:
        forged = forger.post(body, content_type=FORM_CONTENT_TYPE)
    stale_headers = {"Content-Type": FORM_CONTENT_TYPE, **sign(SIGNING_SECRET, body, int(time.time()) - 600)}
    stale = httpx.post(stack.app_url, content=body, headers=stale_headers, timeout=5)
    unsigned = httpx.post(stack.app_url, content=body, headers={"Content-Type": FORM_CONTENT_TYPE}, timeout=5)

    assert (forged.status_code, stale.status_code, unsigned.status_code) == (401, 401, 401)
    assert help_answers(stack) == []
    # The same body, properly signed, goes through: the refusals were about the signature alone.
    assert stack.sender is not None
    assert stack.sender.post(body, content_type=FORM_CONTENT_TYPE).status_code == 200
    stack.slack.wait_for(lambda: len(help_answers(stack)) == 1)


# ---------------------------------------------------------------------------------------------- check


@processes_only_in_english
def test_check_passes_against_the_simulator_and_the_stand_in(stack: LocalStack, tmp_path: Path) -> None:
    result = rakuten_bot("check", env=bot_env(stack, tmp_path / "check-data"))

    assert not (tmp_path / "check-data").exists()  # check only looks: no data dir, no key, no store made

    assert result.returncode == 0, result.stdout + result.stderr
    assert "All checks passed." in result.stdout
    assert "connected to Stand-in workspace" in result.stdout
    assert f"rakuten {LOGIN}" in result.stdout
    assert "credentials accepted" in result.stdout
    assert "FAIL" not in result.stdout
    assert stack.slack.calls_to("auth.test")
    assert stack.simulator.requests_for(Action.GET_ITEM_TODO_LIST.value)


@processes_only_in_english
def test_check_fails_on_a_bad_rakuten_token_without_showing_it(stack: LocalStack, tmp_path: Path) -> None:
    result = rakuten_bot("check", env=bot_env(stack, tmp_path / "check-data", RAKUTEN_TOKEN=BAD_RAKUTEN_TOKEN))

    assert result.returncode != 0
    assert f"[FAIL] rakuten {LOGIN}" in result.stdout
    assert "refused the login/token pair" in result.stdout
    assert "Problems found" in result.stdout
    assert BAD_RAKUTEN_TOKEN not in result.stdout + result.stderr


@processes_only_in_english
def test_check_fails_on_a_bad_slack_token_without_showing_it(stack: LocalStack, tmp_path: Path) -> None:
    result = rakuten_bot("check", env=bot_env(stack, tmp_path / "check-data", SLACK_BOT_TOKEN=BAD_SLACK_TOKEN))

    assert result.returncode != 0
    assert "[FAIL] slack" in result.stdout
    assert "invalid_auth" in result.stdout
    assert BAD_SLACK_TOKEN not in result.stdout + result.stderr


# ------------------------------------------------------------------------------------------ config errors


@processes_only_in_english
def test_run_lists_every_configuration_problem_at_once(stack: LocalStack, tmp_path: Path) -> None:
    secret_like = "xoxp-a-user-token-pasted-by-mistake"
    env = bot_env(
        stack,
        tmp_path / "never-created",
        SLACK_BOT_TOKEN=secret_like,
        SLACK_SIGNING_SECRET=None,
        RAKUTEN_TOKEN=None,
        RAKUTEN_POLL_SECONDS="soon",
        PORT="70000",
    )

    result = rakuten_bot("run", env=env)

    assert result.returncode == 2
    problems = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert len(problems) == 5, result.stderr
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "RAKUTEN_TOKEN", "RAKUTEN_POLL_SECONDS", "PORT"):
        assert any(name in problem for problem in problems), name
    assert secret_like not in result.stderr + result.stdout
    assert not (tmp_path / "never-created").exists()  # nothing was started


@processes_only_in_english
def test_run_refuses_an_account_from_the_environment_without_admins(stack: LocalStack, tmp_path: Path) -> None:
    # Nobody would be admin, and the first member to run /rakuten connect would take the shop over.
    data_dir = tmp_path / "never-created"

    result = rakuten_bot("run", env=bot_env(stack, data_dir, SLACK_SIGNING_SECRET=SIGNING_SECRET, RAKUTEN_ADMINS=None))

    assert result.returncode == 2
    problems = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert len(problems) == 1, result.stderr
    assert problems[0].startswith("  - RAKUTEN_ADMINS is required with RAKUTEN_LOGIN/RAKUTEN_TOKEN")
    assert "Traceback" not in result.stderr
    assert not data_dir.exists()
    assert stack.simulator.requests == []


@processes_only_in_english
def test_a_missing_bot_token_is_named(stack: LocalStack, tmp_path: Path) -> None:
    result = rakuten_bot("check", env=bot_env(stack, tmp_path / "never-created", SLACK_BOT_TOKEN=None))

    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN is required." in result.stderr


# ------------------------------------------------------------------------------------------ rakuten-bot run


@only_in("en")  # the French default with RAKUTEN_DEFAULT_LOCALE unset, read by an admin whose Slack is English
def test_rakuten_bot_run_serves_http_polls_and_stops_cleanly_on_sigterm(
    stack: LocalStack, tmp_path: Path, free_port: int, running_bots: list[subprocess.Popen[str]]
) -> None:
    purchaseid = stack.simulator.add_sale(LOGIN, shipping_type="Express")
    data_dir = tmp_path / "run-data"
    env = bot_env(
        stack, data_dir, SLACK_SIGNING_SECRET=SIGNING_SECRET, PORT=str(free_port), RAKUTEN_DEFAULT_LOCALE=None
    )
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    running_bots.append(bot)
    url = f"http://127.0.0.1:{free_port}"

    wait_until(lambda: bot.poll() is not None or answers(url + HEALTH_PATH), timeout=20, every=0.05)
    assert bot.poll() is None, "rakuten-bot run exited early"
    # The first poll runs at start: the waiting order's card reaches Slack.
    stack.slack.wait_for(lambda: any(purchaseid in card.text for card in stack.cards()), timeout=10)
    # With no RAKUTEN_DEFAULT_LOCALE the channel speaks French, the product's default.
    (card,) = [card for card in stack.cards() if purchaseid in card.text]
    assert card.text.startswith(FR.gettext("{marker} Express order {purchaseid}", marker="⚡", purchaseid=purchaseid))
    help_command = {
        "command": COMMAND,
        "text": "help",
        "user_id": ADMIN,
        "channel_id": CHANNEL,
        "trigger_id": stack.slack.new_trigger_id(),
        "response_url": stack.slack.new_response_url(CHANNEL, user_id=ADMIN),
    }
    with SlackRequestSender(url + EVENTS_PATH, "not-the-signing-secret") as forger:
        forged = forger.command(**help_command)
    with SlackRequestSender(url + EVENTS_PATH, SIGNING_SECRET) as sender:
        signed = sender.command(**help_command)
    assert signed.status_code == 200
    assert forged.status_code == 401
    stack.slack.wait_for(lambda: len(help_answers(stack, EN)) == 1)  # the admin's own Slack speaks English

    second = rakuten_bot("run", env=env)
    assert second.returncode != 0
    assert "Another rakuten-bot process is already using the data directory" in second.stderr

    bot.send_signal(signal.SIGTERM)
    stdout, stderr = bot.communicate(timeout=20)
    assert bot.returncode == 0, stderr
    assert "shutting down" in stderr
    for secret in (TOKEN, stack.slack.bot_token, SIGNING_SECRET):
        assert secret not in stdout + stderr
    # The lock went with the process: the data dir is free for the next start.
    TinyDBStore(data_dir).close()


def test_rakuten_bot_run_in_socket_mode_connects_polls_and_closes_the_connection_on_sigterm(
    stack: LocalStack, tmp_path: Path, running_bots: list[subprocess.Popen[str]]
) -> None:
    purchaseid = stack.simulator.add_sale(LOGIN)
    env = bot_env(stack, tmp_path / "socket-data", SLACK_APP_TOKEN=stack.slack.app_token, SLACK_SIGNING_SECRET=None)
    bot = start_bot("run", env=env)
    running_bots.append(bot)

    stack.slack.wait_for(lambda: bot.poll() is not None or any(c.open for c in stack.slack.socket_connections), 20)
    assert bot.poll() is None, "rakuten-bot run exited early"
    stack.slack.wait_for(lambda: any(purchaseid in card.text for card in stack.cards()), timeout=10)

    bot.send_signal(signal.SIGTERM)
    stdout, stderr = bot.communicate(timeout=20)

    assert bot.returncode == 0, stderr
    assert "Socket Mode: connected" in stderr
    assert "SIGTERM received" in stderr
    (connection,) = stack.slack.socket_connections
    assert connection.closed_by == "client"
    assert stack.slack.app_token not in stdout + stderr

