"""Whether the bot may still call Slack, and the one place that stops it from calling once it may not.

When a workspace uninstalls the app or revokes its bot token, every later Web API call with that token is refused
(``token_revoked``). Calling on would only fill the log and Slack's side with refusals, so the bot's one
``WebClient`` asks the gate before each call and answers a refusal itself, as Slack would, without a request.
Callers already handle Slack's refusals (``SlackApiError``): they see the same error as before, minus the call.

The gate learns of a revocation from the Events API (``bot.services.slack_access``) or from Slack itself: a call
answered ``token_revoked`` or ``account_inactive`` closes it too, for the events may never arrive (the bot was
down when Slack sent them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

# Slack's answers that mean the token is dead for good (a deleted workspace or bot, a revoked token).
DEAD_TOKEN_ERRORS = frozenset({"token_revoked", "account_inactive"})
REFUSAL = "token_revoked"


@dataclass(frozen=True, slots=True)
class Revocation:
    cause: str  # the event ("tokens_revoked", "app_uninstalled") or Slack's answer to a call ("token_revoked")
    at: datetime
    team_id: str | None = None


class SlackAccessGate:
    """Open until the first revocation, closed for the rest of the process (a new token means a restart)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._revocation: Revocation | None = None
        self._on_revoked: list[Callable[[Revocation], None]] = []

    @property
    def revocation(self) -> Revocation | None:
        return self._revocation

    def on_revoked(self, callback: Callable[[Revocation], None]) -> None:
        """Call ``callback`` once, with the first revocation."""
        with self._lock:
            self._on_revoked.append(callback)

    def revoke(self, revocation: Revocation) -> bool:
        """Close the gate; False (and nothing done) when it was already closed."""
        with self._lock:
            if self._revocation is not None:
                return False
            self._revocation = revocation
            callbacks = list(self._on_revoked)
        for callback in callbacks:  # outside the lock: a callback may read the gate
            callback(revocation)
        return True


class GatedWebClient(WebClient):
    """A WebClient that makes no call once its gate is closed, and closes it when Slack says the token is dead."""

    def __init__(
        self,
        *args: Any,
        gate: SlackAccessGate,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.gate = gate
        self._clock = clock

    def api_call(self, api_method: str, **kwargs: Any) -> Any:  # every WebClient method goes through here
        if self.gate.revocation is not None:
            raise SlackApiError(f"not called: Slack access was revoked ({api_method})", self._refusal(api_method))
        try:
            return super().api_call(api_method, **kwargs)
        except SlackApiError as error:
            code = _error_code(error)
            if code in DEAD_TOKEN_ERRORS:
                self.gate.revoke(Revocation(cause=code, at=self._clock()))
            raise

    def _refusal(self, api_method: str) -> SlackResponse:
        return SlackResponse(
            client=self,
            http_verb="POST",
            api_url=self.base_url + api_method,
            req_args={},
            data={"ok": False, "error": REFUSAL},
            headers={},
            status_code=200,
        )


def _error_code(error: SlackApiError) -> str | None:
    try:
        return str(error.response["error"])
    except (KeyError, TypeError):
        return None
