"""HTTP mode against an outside probe: what reaches the log, oversized bodies, unsigned and malformed requests,
and a flood of idle connections. The bot runs as a real ``rakuten-bot run`` process where its log or its
production limits matter; its stderr goes to a file the test reads."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from bot.constants import ACTION_LOGIN, ACTION_TOKEN, BLOCK_LOGIN, BLOCK_TOKEN, COMMAND, VIEW_CONNECT
from bot.slack.http_server import EVENTS_PATH, HEALTH_PATH
from devkit.local_stack import ADMIN, CHANNEL, LOGIN, SIGNING_SECRET, TOKEN, LocalStack, wait_until
from devkit.slack_requests import (
    FORM_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    SlackRequestSender,
    sign,
    text_input_state,
    view_submission_body,
)
from tests.e2e.test_run_modes import ROOT, bot_env

# ---------------------------------------------------------------------------------------------- helpers


@dataclass
class RunningBot:
    """A ``rakuten-bot run`` process in HTTP mode; its stderr (the log) goes to ``log_path``."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    @property
    def events_url(self) -> str:
        return self.url + EVENTS_PATH

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> str:
        """SIGTERM, wait for the exit, and return the whole log."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)
        return self.log()


def responds(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
    except httpx.TransportError:
        return False
    return True


@pytest.fixture
def start_bot(stack: LocalStack, tmp_path: Path, free_port: int) -> Iterator[Any]:
    started: list[RunningBot] = []

    def start(log_level: str = "INFO", **env: str | None) -> RunningBot:
        log_path = tmp_path / f"bot-{len(started)}.log"
        environment = bot_env(
            stack,
            tmp_path / "run-data",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            PORT=str(free_port),
            LOG_LEVEL=log_level,
            **env,
        )
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=environment, stdout=log, stderr=log
            )
        bot = RunningBot(process, f"http://127.0.0.1:{free_port}", log_path)
        started.append(bot)
        wait_until(lambda: process.poll() is not None or responds(bot.url + HEALTH_PATH), timeout=20, every=0.05)
        assert process.poll() is None, bot.log()
        return bot

    yield start
    for bot in started:
        if bot.process.poll() is None:
            bot.process.kill()
        bot.process.wait(timeout=10)


def connect_command(stack: LocalStack) -> dict[str, str]:
    return {
        "command": COMMAND,
        "text": "connect",
        "user_id": ADMIN,
        "channel_id": CHANNEL,
        "trigger_id": stack.slack.new_trigger_id(),
        "response_url": stack.slack.new_response_url(CHANNEL, user_id=ADMIN),
    }


def open_connect_modal(stack: LocalStack, sender: SlackRequestSender) -> dict[str, Any]:
    assert sender.command(**connect_command(stack)).status_code == 200
    stack.slack.wait_for(lambda: any(v.get("callback_id") == VIEW_CONNECT for v in stack.slack.views.values()))
    return next(v for v in stack.slack.views.values() if v.get("callback_id") == VIEW_CONNECT)


def connect_submission(view: dict[str, Any], token: str = TOKEN) -> bytes:
    """The view_submission Slack sends when an admin submits the connect modal: the token in state.values."""
    return view_submission_body(
        user_id=ADMIN,
        callback_id=VIEW_CONNECT,
        private_metadata=view.get("private_metadata", ""),
        state_values={
            BLOCK_LOGIN: {ACTION_LOGIN: text_input_state(LOGIN)},
            BLOCK_TOKEN: {ACTION_TOKEN: text_input_state(token)},
        },
        view_id=view["id"],
        view=view,
    )


def post(url: str, body: bytes, headers: dict[str, str], content_type: str = FORM_CONTENT_TYPE) -> httpx.Response:
    return httpx.post(url, content=body, headers={"Content-Type": content_type, **headers}, timeout=5)


# ------------------------------------------------------------------------------------- 1. secrets in logs


@pytest.mark.parametrize("log_level", ["INFO", "DEBUG"])
def test_a_connect_submission_s_token_never_reaches_the_log(stack: LocalStack, start_bot: Any, log_level: str) -> None:
    bot = start_bot(log_level, RAKUTEN_LOGIN=None, RAKUTEN_TOKEN=None, RAKUTEN_CHANNEL=None)
    with SlackRequestSender(bot.events_url, SIGNING_SECRET) as sender:
        view = open_connect_modal(stack, sender)
    submission = connect_submission(view)
    payload_json = _payload_json(submission)

    refused = [
        # signed with a rotated secret, signed five minutes and more ago, not signed at all
        post(bot.events_url, submission, sign("a-rotated-signing-secret", submission)),
        post(bot.events_url, submission, sign(SIGNING_SECRET, submission, int(time.time()) - 400)),
        post(bot.events_url, submission, {}),
        # the same payload as plain JSON and as JSON URL-encoded once more
        post(bot.events_url, payload_json, sign("a-rotated-signing-secret", payload_json), JSON_CONTENT_TYPE),
        post(bot.events_url, quote(submission).encode(), {}),
    ]
    assert [response.status_code for response in refused] == [401] * len(refused)
    accepted = post(bot.events_url, submission, sign(SIGNING_SECRET, submission))
    assert accepted.status_code == 200, accepted.text
    stack.slack.wait_for(lambda: any("connected" in m.text for m in stack.slack.messages(CHANNEL)), timeout=10)

    log = bot.stop()
    assert bot.process.returncode == 0, log
    assert TOKEN not in log
    assert log.count("\n") > 3  # the log was written (the bot logged its start, the connect)


def _payload_json(submission: bytes) -> bytes:
    from urllib.parse import parse_qs

    return parse_qs(submission.decode())["payload"][0].encode()
