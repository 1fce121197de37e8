"""What ``/rakuten status``, ``/rakuten orders`` and the Home tab show, rendered for the person asking: the status
service's data in their own Slack language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from slack_sdk.models.views import View

from bot.domain.deadlines import DEFAULT_RULES, DeadlineRules
from bot.services.status import StatusService
from bot.ui.home import build_home
from bot.ui.i18n import Languages
from bot.ui.messages import Message, orders_list_message, status_message


class Screens:
    def __init__(
        self,
        status: StatusService,
        languages: Languages,
        clock: Callable[[], datetime],
        rules: DeadlineRules = DEFAULT_RULES,
    ) -> None:
        self._status = status
        self._languages = languages
        self._clock = clock
        self._rules = rules

    def status(self, user_id: str) -> Message:
        return status_message(self._languages.user(user_id), self._status.accounts(), self._clock())

    def orders(self, user_id: str) -> Message:
        return orders_list_message(self._languages.user(user_id), self._status.needing_action(user_id), self._clock())

    def home(self, user_id: str) -> View:
        return build_home(
            self._languages.user(user_id),
            self._status.accounts(),
            self._status.needing_action(user_id),
            to_answer=self._status.to_answer(user_id),
            now=self._clock(),
            is_admin=self._status.is_admin(user_id),
            rules=self._rules,
        )
