"""``rakuten-bot run`` with shortened tuning, for crash tests that need a burst without waiting Slack's pace.

Run as ``python -m tests.e2e.tuned_bot``: the same configuration from the environment and the same ``run`` as
``rakuten-bot run``; only ``Tuning`` fields (which have no environment variable) are changed, from the JSON
object in ``TEST_BOT_TUNING`` (e.g. ``{"post_interval": 0, "burst_threshold": 2}``).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from typing import Any

from bot.cli import run
from bot.config import Settings
from bot.logging_setup import configure_logging

TUNING_VARIABLE = "TEST_BOT_TUNING"


def tuning_changes(raw: str) -> dict[str, Any]:
    return {name: tuple(value) if isinstance(value, list) else value for name, value in json.loads(raw).items()}


def main() -> int:
    configure_logging(os.environ.get("LOG_LEVEL") or "INFO")
    settings = Settings.from_env(os.environ)
    changes = tuning_changes(os.environ.get(TUNING_VARIABLE) or "{}")
    return run(replace(settings, tuning=replace(settings.tuning, **changes)))


if __name__ == "__main__":
    sys.exit(main())
