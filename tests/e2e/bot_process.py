"""``rakuten-bot`` as a real process wired to a local stack's simulator and Slack stand-in: one-off commands,
background runs, and ``BotProcess`` for crash tests (killed with SIGKILL, no flush, no shutdown hook, and started
again on its data dir)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from bot.slack.http_server import EVENTS_PATH, HEALTH_PATH
from devkit.local_stack import ADMIN, CHANNEL, LOGIN, SIGNING_SECRET, TOKEN, LocalStack, wait_until
from devkit.slack_requests import SlackRequestSender
from tests.e2e.tuned_bot import TUNING_VARIABLE

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0


def bot_env(stack: LocalStack, data_dir: Path, **overrides: str | None) -> dict[str, str]:
    """The environment of a rakuten-bot process wired to the stack's simulator and Slack stand-in, in HTTP mode on
    a free port (``SLACK_APP_TOKEN=stack.slack.app_token``: Socket Mode to the stand-in).

    ``overrides`` set variables; None removes one.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SLACK_", "RAKUTEN_")) and name.lower() not in ("http_proxy", "https_proxy", "port")
    }
    env.update(
        SLACK_BOT_TOKEN=stack.slack.bot_token,
        SLACK_API_URL=stack.slack.api_url,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        RAKUTEN_API_URL=stack.simulator.url,
        RAKUTEN_LOGIN=LOGIN,
        RAKUTEN_TOKEN=TOKEN,
        RAKUTEN_CHANNEL=CHANNEL,
        RAKUTEN_ADMINS=ADMIN,
        RAKUTEN_DATA_DIR=str(data_dir),
        PORT=str(_free_port()),
        NO_PROXY="127.0.0.1,localhost",
        LOG_LEVEL="INFO",
        # The stack's language, as its people's Slack and its translator (stack.t); None tests the French default.
        RAKUTEN_DEFAULT_LOCALE=stack.options.locale,
    )
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def rakuten_bot(*args: str, env: dict[str, str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def start_bot(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """``rakuten-bot run`` (or another command) as a background process; register it in ``running_bots``."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )



class BotProcess:
    """One data dir, one bot process at a time; ``start`` again after ``kill`` is a restart after a crash.

    ``tuning`` (``Tuning`` field names) runs ``tests.e2e.tuned_bot`` instead of ``python -m bot run``. Each start
    points the stack's signed-request sender at the process, so ``stack.click`` and ``stack.submit_ship`` reach it.
    """

    def __init__(self, stack: LocalStack, data_dir: Path, *, tuning: dict[str, Any] | None = None) -> None:
        self._stack = stack
        self._data_dir = data_dir
        self._tuning = tuning
        self._process: subprocess.Popen[bytes] | None = None
        self._starts = 0
        self.url = ""

    def start(self, **env: str) -> BotProcess:
        assert self._process is None or self._process.poll() is not None, "the bot is already running"
        self._starts += 1
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        log = (self._data_dir.parent / f"bot-{self._starts}.log").open("wb")
        module = ["tests.e2e.tuned_bot"] if self._tuning else ["bot", "run"]
        command = [sys.executable, "-m", *module]
        self._process = subprocess.Popen(
            command, cwd=ROOT, env=self._env(port, env), stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        wait_until(lambda: self._exited() or _polling(self.url), timeout=START_TIMEOUT, every=0.02)
        assert not self._exited(), f"the bot exited early:\n{self.log()}"
        if self._stack.sender is not None:
            self._stack.sender.close()
        self._stack.sender = SlackRequestSender(self.url + EVENTS_PATH, SIGNING_SECRET)
        return self

    def kill(self) -> None:
        """kill -9."""
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGKILL)
        self._process.wait(timeout=10)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)

    def log(self) -> str:
        return (self._data_dir.parent / f"bot-{self._starts}.log").read_text(errors="replace")

    def _exited(self) -> bool:
        return self._process is not None and self._process.poll() is not None

    def _env(self, port: int, overrides: dict[str, str]) -> dict[str, str]:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("SLACK_", "RAKUTEN_", "TEST_BOT_"))
            and name.lower() not in ("http_proxy", "https_proxy", "port")
        }
        env.update(
            SLACK_BOT_TOKEN=self._stack.slack.bot_token,
            SLACK_API_URL=self._stack.slack.api_url,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            RAKUTEN_API_URL=self._stack.simulator.url,
            RAKUTEN_LOGIN=LOGIN,
            RAKUTEN_TOKEN=TOKEN,
            RAKUTEN_CHANNEL=CHANNEL,
            RAKUTEN_ADMINS=ADMIN,
            RAKUTEN_DATA_DIR=str(self._data_dir),
            RAKUTEN_POLL_SECONDS="3600",  # the poll at start only: a test decides what happens next
            PORT=str(port),
            NO_PROXY="127.0.0.1,localhost",
            LOG_LEVEL="INFO",
            RAKUTEN_DEFAULT_LOCALE=self._stack.options.locale,
        )
        if self._tuning:
            env[TUNING_VARIABLE] = json.dumps(self._tuning)
        env.update(overrides)
        return env


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _polling(url: str) -> bool:
    try:
        return httpx.get(url + HEALTH_PATH, timeout=1).status_code == 200
    except httpx.TransportError:
        return False
