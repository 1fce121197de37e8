"""What ``GET /healthz`` and ``GET /readyz`` report.

``/healthz``: healthy while polling runs, the database (PostgreSQL) answers, and no account's polling keeps failing.
An account whose polls failed ``failure_alert_threshold`` times in a row (the moment its channel gets the
outage alert) turns the check to 503 until a poll works again, whatever the cause: Rakuten, Slack, a full or
read-only data directory, a token that no longer decrypts. A workspace that revoked the bot's Slack access
(``tokens_revoked``, ``app_uninstalled``) turns it to 503 for good: polling stopped, and only a reinstall and a
restart with the new token bring it back. A replica that cannot reach the database answers 503 at once, and lists
no accounts (they are in the database). ``problems`` says why in plain words. Polling health is read from memory
(embedded store), or from the database where replicas hand it to each other, never from a store that may be the
broken part.

``/readyz``: this replica can serve Slack's requests (its database answers) and is taking its share of the polls
(the load balancer's check for replicas).
"""

from __future__ import annotations

from typing import Any

from bot.app import AppContext
from bot.domain.accounts import PollHealth
from bot.ui.i18n import translator
from bot.ui.poll_failures import failure_text

# Operators read /healthz in English, whatever the shop's language.
OPERATOR = translator("en")


def health_report(context: AppContext) -> tuple[bool, dict[str, Any]]:
    threshold = context.settings.tuning.failure_alert_threshold
    problems: list[str] = []
    polling = context.scheduler.polling
    database = context.leases.database_problem()
    if database is not None:
        problems.append(f"this replica {database}")
    revocation = context.slack_access.revocation
    if revocation is not None:
        problems.append(
            f"Slack access was revoked ({revocation.cause}, workspace {revocation.team_id or 'unknown'}, "
            f"{revocation.at.isoformat(timespec='seconds')}): polling stopped; reinstall the app in Slack and "
            "restart the bot with the new SLACK_BOT_TOKEN"
        )
    elif not polling:
        problems.append("polling is not running")
    accounts = []
    listed = context.store.list_accounts() if database is None else []
    shared = context.leases.shared_health() if listed and context.leases.shares_health else None
    for account in listed:
        health = (
            shared.get(account.login) or PollHealth()
            if shared is not None
            else context.poller.health.get(account.login)
        )
        next_poll = context.scheduler.next_poll(account.login)
        failing = health.consecutive_failures >= threshold
        accounts.append(
            {
                "login": account.login,
                "last_success_at": health.last_success_at.isoformat() if health.last_success_at else None,
                "consecutive_failures": health.consecutive_failures,
                "failing": failing,
                "last_error": failure_text(OPERATOR, health.last_error) if health.consecutive_failures else None,
                "next_poll_at": next_poll.isoformat() if next_poll else None,
            }
        )
        if failing:
            problems.append(
                f"polling account {account.login} has failed {health.consecutive_failures} times in a row: "
                f"{failure_text(OPERATOR, health.last_error)}"
            )
    detail = {"polling": polling, "database": _database_state(context, database), "problems": problems}
    return not problems, {**detail, "accounts": accounts}


def readiness_report(context: AppContext) -> tuple[bool, dict[str, Any]]:
    """Ready: the database answers and this replica takes poll leases (polling runs and its last claim worked)."""
    problems: list[str] = []
    database = context.leases.database_problem()
    if database is not None:
        problems.append(f"this replica {database}")
    taking = context.scheduler.taking_leases
    if not taking:
        problems.append(
            "this replica is not taking poll leases" + ("" if context.scheduler.polling else ": polling stopped")
        )
    return not problems, {
        "replica": context.leases.replica,
        "taking_poll_leases": taking,
        "database": _database_state(context, database),
        "problems": problems,
    }


def _database_state(context: AppContext, problem: str | None) -> str:
    if context.leases.alone:
        return "embedded"  # no database: the store is this process's own data directory
    return "unreachable" if problem is not None else "reachable"
