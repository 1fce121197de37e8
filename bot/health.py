"""What ``GET /healthz`` reports: healthy while polling runs and no account's polling keeps failing.

An account whose polls failed ``failure_alert_threshold`` times in a row (the moment its channel gets the
outage alert) turns the check to 503 until a poll works again, whatever the cause: Rakuten, Slack, a full or
read-only data directory, a token that no longer decrypts. A workspace that revoked the bot's Slack access
(``tokens_revoked``, ``app_uninstalled``) turns it to 503 for good: polling stopped, and only a reinstall and a
restart with the new token bring it back. ``problems`` says why in plain words. Health is read from memory,
never from the store, which may be the broken part.
"""

from __future__ import annotations

from typing import Any

from bot.app import AppContext
from bot.ui.i18n import translator
from bot.ui.poll_failures import failure_text

# Operators read /healthz in English, whatever the shop's language.
OPERATOR = translator("en")


def health_report(context: AppContext) -> tuple[bool, dict[str, Any]]:
    threshold = context.settings.tuning.failure_alert_threshold
    problems: list[str] = []
    polling = context.scheduler.polling
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
    for account in context.store.list_accounts():
        health = context.poller.health.get(account.login)
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
    return not problems, {"polling": polling, "problems": problems, "accounts": accounts}
