"""``rakuten-bot`` as a real process wired to a local stack's simulator and Slack stand-in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from devkit.local_stack import ADMIN, CHANNEL, LOGIN, TOKEN, LocalStack

ROOT = Path(__file__).resolve().parents[2]


def bot_env(stack: LocalStack, data_dir: Path, **overrides: str | None) -> dict[str, str]:
    """The environment of a rakuten-bot process wired to the stack's simulator and Slack stand-in.

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
        RAKUTEN_API_URL=stack.simulator.url,
        RAKUTEN_LOGIN=LOGIN,
        RAKUTEN_TOKEN=TOKEN,
        RAKUTEN_CHANNEL=CHANNEL,
        RAKUTEN_ADMINS=ADMIN,
        RAKUTEN_DATA_DIR=str(data_dir),
        NO_PROXY="127.0.0.1,localhost",
        LOG_LEVEL="INFO",
        RAKUTEN_DEFAULT_LOCALE="en",  # as the stack's people and the assertions; None tests the French default
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
