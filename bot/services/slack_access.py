"""What the bot does when a workspace takes its Slack access away (``tokens_revoked``, ``app_uninstalled``).

The bot runs with one bot token, so a revocation that concerns it ends its work with Slack for the rest of the
process: polling stops (a poll would fetch orders it cannot post), the bot's ``WebClient`` makes no more calls
(``bot.slack.access``), one WARNING says so, and ``GET /healthz`` reports it. The state lives in memory only: a
reinstall brings a new token, which takes a restart anyway, and a restart with the revoked token stops at start,
where Slack refuses it (``auth.test``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from http.client import HTTPException

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services.scheduler import PollScheduler
from bot.slack.access import Revocation, SlackAccessGate
from bot.slack.poster import no_answer

logger = logging.getLogger(__name__)

TOKENS_REVOKED = "tokens_revoked"
APP_UNINSTALLED = "app_uninstalled"


@dataclass(frozen=True, slots=True)
class SlackIdentity:
    """Who the bot token is, as ``auth.test`` says: to tell whether a revocation is about it."""

    team_id: str | None
    bot_user_id: str | None


class SlackAccess:
    def __init__(self, gate: SlackAccessGate, scheduler: PollScheduler, clock: Callable[[], datetime]) -> None:
        self._gate = gate
        self._scheduler = scheduler
        self._clock = clock
        self._identity = SlackIdentity(None, None)
        gate.on_revoked(self._stop)

    @property
    def revocation(self) -> Revocation | None:
        return self._gate.revocation

    def learn_identity(self, client: WebClient) -> SlackIdentity:
        """Ask Slack who the token is (once, at start). Unknown, any revocation in any workspace is taken as ours:
        better to stop than to call on with a dead token."""
        try:
            answer = client.auth_test()
        except (SlackApiError, OSError, HTTPException) as error:
            logger.warning("could not ask Slack who the bot is (auth.test): %s", _reason(error))
            return self._identity
        self._identity = SlackIdentity(answer.get("team_id"), answer.get("user_id"))
        return self._identity

    def tokens_revoked(self, team_id: str | None, bot_user_ids: Iterable[str]) -> bool:
        """Slack revoked tokens in ``team_id``; the bot's access ends when its bot user is among them.
        True when this revocation closed the bot's access."""
        revoked = set(bot_user_ids)
        ours = self._identity.bot_user_id
        if not revoked or (ours is not None and ours not in revoked) or not self._same_team(team_id):
            logger.info("Slack revoked tokens other than the bot's (%s in %s): nothing to do", TOKENS_REVOKED, team_id)
            return False
        return self._revoke(TOKENS_REVOKED, team_id)

    def app_uninstalled(self, team_id: str | None) -> bool:
        """The app was uninstalled from ``team_id``: every token it had there is revoked."""
        if not self._same_team(team_id):
            logger.info("the app was uninstalled from another workspace (%s): nothing to do", team_id)
            return False
        return self._revoke(APP_UNINSTALLED, team_id)

    def _same_team(self, team_id: str | None) -> bool:
        ours = self._identity.team_id
        return ours is None or team_id is None or team_id == ours

    def _revoke(self, cause: str, team_id: str | None) -> bool:
        if self._gate.revoke(Revocation(cause=cause, at=self._clock(), team_id=team_id)):
            return True
        logger.info("Slack sent %s for workspace %s; the bot's Slack access was already revoked", cause, team_id)
        return False

    def _stop(self, revocation: Revocation) -> None:
        """Called once, by the gate, whatever closed it: an event, or Slack refusing a call with a dead token."""
        self._scheduler.stop_polling()
        logger.warning(
            "Slack access revoked (%s, workspace %s): polling stopped and the bot makes no more Slack calls. "
            "Reinstall the app in Slack, then restart the bot with the new SLACK_BOT_TOKEN.",
            revocation.cause,
            revocation.team_id or self._identity.team_id or "unknown",
        )


def _reason(error: SlackApiError | OSError | HTTPException) -> str:
    return str(error.response.get("error")) if isinstance(error, SlackApiError) else no_answer(error)
