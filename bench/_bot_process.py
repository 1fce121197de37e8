"""The bot as its own process for a benchmark: ``rakuten-bot run`` with the benchmark's ``Tuning``.

    python bench/_bot_process.py          # configured from the environment, as rakuten-bot run

The same configuration (``Settings.from_env``), logging and ``run`` as ``rakuten-bot run``, HTTP mode with a
signing secret; only ``Tuning`` fields, which have no environment variable, change: from the JSON object in
``BENCH_BOT_TUNING`` (``{"post_interval": 0}`` turns Slack's pacing off so that the bot's own cost shows).
``BotProcess`` starts it and waits for ``/healthz``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

TUNING_VARIABLE = "BENCH_BOT_TUNING"
HEALTH_PATH = "/healthz"
EVENTS_PATH = "/slack/events"
START_TIMEOUT = 30.0


class BotProcess:
    """Starts the bot (this file as a script) on ``port`` with ``env`` added to a clean environment."""

    def __init__(self, env: dict[str, str], *, port: int, tuning: dict[str, Any], log: Path) -> None:
        clean = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("SLACK_", "RAKUTEN_", "BENCH_"))
            and name.lower() not in ("http_proxy", "https_proxy", "port")
        }
        clean.update(env, PORT=str(port), NO_PROXY="127.0.0.1,localhost", **{TUNING_VARIABLE: json.dumps(tuning)})
        self.url = f"http://127.0.0.1:{port}"
        self.events_url = self.url + EVENTS_PATH
        self.health_url = self.url + HEALTH_PATH
        self._log_path = log
        with log.open("wb") as sink:
            self._process = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve())], env=clean, stdout=sink, stderr=subprocess.STDOUT
            )
        self._wait_healthy()

    @property
    def pid(self) -> int:
        return self._process.pid

    def health(self) -> dict[str, Any]:
        return httpx.get(self.health_url, timeout=5).json()

    def cpu_seconds(self) -> float | None:
        """User + system CPU the bot's process has used so far (Linux; None elsewhere)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log(self) -> str:
        return self._log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()  # SIGTERM: the orderly stop of rakuten-bot run
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the bot exited (code {self._process.returncode}):\n{self.log()}")
            try:
                if httpx.get(self.health_url, timeout=1).status_code in (200, 503):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)  # waiting for another process to listen: nothing to wait on but time
        self.stop()
        raise RuntimeError(f"the bot did not answer {HEALTH_PATH} within {START_TIMEOUT:.0f} s:\n{self.log()}")


def main() -> int:
    from bot.cli import run
    from bot.config import Settings
    from bot.logging_setup import configure_logging

    configure_logging(os.environ.get("LOG_LEVEL") or "WARNING")
    settings = Settings.from_env(os.environ)
    changes = {
        name: tuple(value) if isinstance(value, list) else value
        for name, value in json.loads(os.environ.get(TUNING_VARIABLE) or "{}").items()
    }
    return run(replace(settings, tuning=replace(settings.tuning, **changes)))


if __name__ == "__main__":
    sys.exit(main())
