"""Configuration from the environment (names from DESIGN.md), checked once at start.

Every problem found is reported at once, one clear line each, instead of failing on the first.
Secrets are validated by shape only and never appear in a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from bot.domain.deadlines import ACCEPT_DEADLINE, DEFAULT_RULES, DeadlineRules
from bot.domain.orders import ACTION_RETRY_DELAYS
from bot.errors import BotError
from bot.store.database_url import database_url_problem
from bot.ui.i18n import SUPPORTED_LOCALES, normalise_locale
from rakuten.client import DEFAULT_BASE_URL

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_RAKUTEN_API_URL = DEFAULT_BASE_URL
# Rakuten's hourly quotas are per account and per action but unpublished; connectors poll every 15 min.
# Ten minutes keeps new orders prompt while staying far below any plausible hourly quota.
DEFAULT_POLL_SECONDS = 600.0
# Rakuten's to-do list (claims, unread messages), on its own schedule: connectors sync every 15-20 min.
DEFAULT_TODO_POLL_SECONDS = 900.0
DEFAULT_PORT = 3000
# The daily summary's time (Europe/Paris): before the day's first parcels, after the night's orders.
DEFAULT_DAILY_SUMMARY_AT = time(8, 30)
SUMMARY_OFF = "off"
MAX_SHIP_WITHIN_WORKING_DAYS = 30

_CLOCK_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")


class RunMode(StrEnum):
    SOCKET = "socket"
    HTTP = "http"


class ConfigError(BotError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Tuning:
    """Knobs with sensible defaults; tests and benchmarks shorten them."""

    lookback_days: int = 30  # getcurrentsales window: the catch-up path after downtime
    burst_threshold: int = 20  # more new cards than this in one poll -> one summary with the cards in its thread
    failure_alert_threshold: int = 3  # failed polls in a row before the channel is told
    post_interval: float = 1.0  # seconds between two messages to one channel (Slack: ~1/s/channel)
    closed_retention_days: int = 90
    personal_data_retention_days: int = 30
    audit_retention_days: int = 365
    rakuten_timeout: float = 30.0
    action_retry_delays: tuple[float, ...] = ACTION_RETRY_DELAYS
    follow_up_seconds: float = 60.0  # seconds between two runs of the reminders and daily summary job
    # A reminder or summary claimed this long ago and never recorded posted is settled from Slack's history.
    follow_up_claim_grace: float = 600.0
    # After sale: getiteminfos calls per to-do poll and account at most (each marks messages read at Rakuten, and
    # its hourly quota is unknown); the rest wait for the next poll, unread at Rakuten.
    todo_reads_per_poll: int = 50
    # An open claim or an unanswered message is read again this often (a state change, a reply made on the site).
    after_sale_recheck_seconds: float = 3600.0
    # An item in the to-do list whose order the store lacks is looked for in current sales this far back.
    after_sale_catch_up_days: int = 120


@dataclass(frozen=True, slots=True)
class Settings:
    slack_bot_token: str = field(repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    rakuten_api_url: str = DEFAULT_RAKUTEN_API_URL
    rakuten_login: str | None = None
    rakuten_token: str | None = field(default=None, repr=False)
    rakuten_channel: str | None = None
    poll_seconds: float = DEFAULT_POLL_SECONDS
    todo_poll_seconds: float = DEFAULT_TODO_POLL_SECONDS  # RAKUTEN_TODO_POLL_SECONDS
    data_dir: Path = Path("data")
    secret_key: str | None = field(default=None, repr=False)
    admins: frozenset[str] = frozenset()
    # Cards and alerts of accounts that chose no language; people whose Slack language is neither fr nor en.
    default_locale: str = "fr"
    port: int = DEFAULT_PORT
    # Reminders and "late": RAKUTEN_ACCEPT_REMINDER_HOURS, RAKUTEN_SHIP_WITHIN_WORKING_DAYS.
    deadlines: DeadlineRules = DEFAULT_RULES
    # RAKUTEN_DAILY_SUMMARY_AT, Paris time; None: no daily summary.
    daily_summary_at: time | None = DEFAULT_DAILY_SUMMARY_AT
    tuning: Tuning = Tuning()
    database_url: str | None = field(default=None, repr=False)  # PostgreSQL store; None: TinyDB in data_dir

    @property
    def mode(self) -> RunMode:
        return RunMode.SOCKET if self.slack_app_token else RunMode.HTTP

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, require_slack_secret: bool = True) -> Settings:
        """Read and check every variable; raise ConfigError listing all problems.

        ``require_slack_secret`` is False for commands that never serve Slack requests (``check``).
        """
        problems: list[str] = []
        get = _Reader(env, problems)

        bot_token = get.text("SLACK_BOT_TOKEN", required=True)
        if bot_token and not bot_token.startswith("xoxb-"):
            problems.append(
                "SLACK_BOT_TOKEN must be a bot token starting with xoxb- (Slack app > OAuth & Permissions)."
            )
        app_token = get.text("SLACK_APP_TOKEN")
        if app_token and not app_token.startswith("xapp-"):
            problems.append(
                "SLACK_APP_TOKEN must be an app-level token starting with xapp- (Basic Information > App-Level Tokens, "
                "scope connections:write); unset it to run in HTTP mode."
            )
        signing_secret = get.text("SLACK_SIGNING_SECRET")
        if require_slack_secret and not app_token and not signing_secret:
            problems.append(
                "SLACK_SIGNING_SECRET is required in HTTP mode (Basic Information > Signing Secret); "
                "or set SLACK_APP_TOKEN to use Socket Mode."
            )

        login = get.text("RAKUTEN_LOGIN")
        token = get.text("RAKUTEN_TOKEN")
        if bool(login) != bool(token):
            problems.append(
                "RAKUTEN_LOGIN and RAKUTEN_TOKEN go together: set both, or neither (then use /rakuten connect)."
            )
        channel = get.text("RAKUTEN_CHANNEL")
        if channel and not _CHANNEL_ID.match(channel):
            problems.append(f"RAKUTEN_CHANNEL must be a channel ID such as C0123ABCD, not {channel!r}.")
        if login and token and not channel:
            problems.append("RAKUTEN_CHANNEL is required with RAKUTEN_LOGIN: the channel ID where order cards go.")

        admins_raw = get.text("RAKUTEN_ADMINS") or ""
        admins = frozenset(part for part in re.split(r"[\s,]+", admins_raw) if part)
        bad_admins = sorted(a for a in admins if not _USER_ID.match(a))
        if bad_admins:
            problems.append(
                f"RAKUTEN_ADMINS must list Slack user IDs (U…/W…), comma-separated; not {', '.join(bad_admins)}."
            )
        if login and token and not admins:
            # Without it nobody could administer the account, and the bootstrap rule (first connect becomes admin)
            # would hand the shop to whichever workspace member ran /rakuten connect first.
            problems.append(
                "RAKUTEN_ADMINS is required with RAKUTEN_LOGIN/RAKUTEN_TOKEN: set it to the Slack user IDs of the "
                "people who may connect, disconnect and configure (profile > ⋮ > Copy member ID)."
            )

        default_locale = get.text("RAKUTEN_DEFAULT_LOCALE") or "fr"
        if normalise_locale(default_locale) is None:
            problems.append(
                f"RAKUTEN_DEFAULT_LOCALE must be one of {', '.join(SUPPORTED_LOCALES)}, not {default_locale!r}."
            )

        reminder_hours = get.positive_number(
            "RAKUTEN_ACCEPT_REMINDER_HOURS", DEFAULT_RULES.accept_reminder_before.total_seconds() / 3600, unit="hours"
        )
        deadline_hours = ACCEPT_DEADLINE.total_seconds() / 3600
        if reminder_hours >= deadline_hours:
            problems.append(
                f"RAKUTEN_ACCEPT_REMINDER_HOURS must be less than the {deadline_hours:g} hours Rakuten gives to accept "
                f"a sale, not {reminder_hours:g}."
            )
            reminder_hours = DEFAULT_RULES.accept_reminder_before.total_seconds() / 3600
        deadlines = DeadlineRules(
            accept_reminder_before=timedelta(hours=reminder_hours),
            ship_within_working_days=get.whole_number(
                "RAKUTEN_SHIP_WITHIN_WORKING_DAYS",
                DEFAULT_RULES.ship_within_working_days,
                maximum=MAX_SHIP_WITHIN_WORKING_DAYS,
            ),
            message_reminder_after=timedelta(
                hours=get.positive_number(
                    "RAKUTEN_MESSAGE_REMINDER_HOURS",
                    DEFAULT_RULES.message_reminder_after.total_seconds() / 3600,
                    unit="hours",
                )
            ),
        )

        database_url = get.text("DATABASE_URL")
        if database_url and (problem := database_url_problem(database_url)):
            problems.append(problem)

        settings = cls(
            slack_bot_token=bot_token or "",
            slack_app_token=app_token,
            slack_signing_secret=signing_secret,
            slack_api_url=get.url("SLACK_API_URL", DEFAULT_SLACK_API_URL),
            rakuten_api_url=get.url("RAKUTEN_API_URL", DEFAULT_RAKUTEN_API_URL),
            rakuten_login=login,
            rakuten_token=token,
            rakuten_channel=channel,
            poll_seconds=get.positive_number("RAKUTEN_POLL_SECONDS", DEFAULT_POLL_SECONDS),
            todo_poll_seconds=get.positive_number("RAKUTEN_TODO_POLL_SECONDS", DEFAULT_TODO_POLL_SECONDS),
            data_dir=Path(get.text("RAKUTEN_DATA_DIR") or "data"),
            secret_key=get.text("RAKUTEN_SECRET_KEY"),
            admins=admins,
            default_locale=normalise_locale(default_locale) or "fr",
            port=get.port("PORT", DEFAULT_PORT),
            deadlines=deadlines,
            daily_summary_at=get.clock_time("RAKUTEN_DAILY_SUMMARY_AT", DEFAULT_DAILY_SUMMARY_AT),
            database_url=database_url,
        )
        if problems:
            raise ConfigError(problems)
        return settings


class _Reader:
    def __init__(self, env: Mapping[str, str], problems: list[str]) -> None:
        self._env = env
        self._problems = problems

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = (self._env.get(name) or "").strip()
        if not value:
            if required:
                self._problems.append(f"{name} is required.")
            return None
        return value

    def url(self, name: str, default: str) -> str:
        value = self.text(name) or default
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self._problems.append(f"{name} must be an http(s) URL such as {default}, not {value!r}.")
            return default
        return value if value.endswith("/") else value + "/"

    def positive_number(self, name: str, default: float, *, unit: str = "seconds") -> float:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not number > 0 or number != number or number == float("inf"):
            self._problems.append(f"{name} must be a positive number of {unit}, not {value!r}.")
            return default
        return number

    def whole_number(self, name: str, default: int, *, maximum: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        if not value.isdigit() or not 1 <= int(value) <= maximum:
            self._problems.append(f"{name} must be a whole number from 1 to {maximum}, not {value!r}.")
            return default
        return int(value)

    def clock_time(self, name: str, default: time) -> time | None:
        """``HH:MM`` (24-hour); unset: ``default``; set but empty, or ``off``: None (the feature is off)."""
        raw = self._env.get(name)
        if raw is None:
            return default
        value = raw.strip()
        if not value or value.lower() == SUMMARY_OFF:
            return None
        match = _CLOCK_TIME.match(value)
        if match is None:
            self._problems.append(
                f"{name} must be a time of day as HH:MM (24-hour, Paris time) such as 08:30, or {SUMMARY_OFF!r}; "
                f"not {value!r}."
            )
            return default
        return time(int(match.group(1)), int(match.group(2)))

    def port(self, name: str, default: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        if not value.isdigit() or not 1 <= int(value) <= 65535:
            self._problems.append(f"{name} must be a TCP port between 1 and 65535, not {value!r}.")
            return default
        return int(value)
