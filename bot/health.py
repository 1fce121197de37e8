"""What ``GET /healthz`` reports: the process is healthy when it is polling; Rakuten's state is detail.

A Rakuten outage must not make an orchestrator restart the bot (that would not help), so per-account
health is reported but does not fail the check.
"""

from __future__ import annotations

from typing import Any

from bot.context import AppContext


def health_report(context: AppContext) -> tuple[bool, dict[str, Any]]:
    accounts = []
    for account in context.store.list_accounts():
        health = account.health
        next_poll = context.scheduler.next_poll(account.login)
        accounts.append(
            {
                "login": account.login,
                "last_success_at": health.last_success_at.isoformat() if health.last_success_at else None,
                "consecutive_failures": health.consecutive_failures,
                "next_poll_at": next_poll.isoformat() if next_poll else None,
            }
        )
    healthy = context.scheduler.running
    return healthy, {"polling": healthy, "accounts": accounts}
