"""The audit trail: who connected, shipped, accepted or refused what, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class AuditEntry:
    at: datetime
    actor: str  # Slack user id, or "system" for the poller
    action: str
    account: str | None = None
    purchaseid: str | None = None
    itemids: tuple[str, ...] = ()
    outcome: str = "ok"
    detail: str | None = None
