"""Who may do what.

Admins (``RAKUTEN_ADMINS``) connect, disconnect and configure. Bootstrap rule, for a bot set up from Slack alone:
with no ``RAKUTEN_ADMINS`` and no account at all, the person whose first connect Rakuten accepts becomes the
admin, remembered in the store; that happens once, and never on a bot that already has an account (an account
from the environment requires ``RAKUTEN_ADMINS``, checked at start).

Order actions (ship, accept, refuse, see the address) are for members of the account's order channel or of its
configured user group. Membership is read from Slack and cached
briefly; when Slack cannot tell (missing scope, bot not in the channel), the answer is "no", with the reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.accounts import AccountRecord
from bot.domain.sentences import Sentence, said
from bot.store.base import Store

logger = logging.getLogger(__name__)

BOOTSTRAP_ADMIN_KEY = "bootstrap_admin"
MEMBERSHIP_TTL_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: Sentence | None = None  # why not, for the person who asked

    def __bool__(self) -> bool:
        return self.allowed


class Permissions:
    def __init__(
        self,
        client: WebClient,
        store: Store,
        admins: frozenset[str],
        *,
        ttl: float = MEMBERSHIP_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._store = store
        self._admins = admins
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[float, frozenset[str]]] = {}

    def is_admin(self, user_id: str) -> bool:
        if self._admins:
            return user_id in self._admins
        return self._store.get_meta(BOOTSTRAP_ADMIN_KEY) == user_id

    def has_admin(self) -> bool:
        return bool(self._admins) or self._store.get_meta(BOOTSTRAP_ADMIN_KEY) is not None

    def bootstrap_open(self) -> bool:
        """True while the bootstrap rule still applies: no RAKUTEN_ADMINS, no admin yet, and no account at all."""
        return not self.has_admin() and not self._store.list_accounts()

    def admin_decision(self, user_id: str, what: Sentence) -> Decision:
        """May ``user_id`` do ``what`` (an admin's task, e.g. ``said("change the settings")``)?"""
        if self.is_admin(user_id):
            return Decision(True)
        if self._admins:
            return Decision(False, said("Only the bot's admins can {what} (RAKUTEN_ADMINS).", what=what))
        if self.has_admin():
            return Decision(
                False, said("Only the bot's admin (the person who first connected an account) can {what}.", what=what)
            )
        return Decision(
            False,
            said(
                "Only the bot's admins can {what}, and none is set: the operator sets RAKUTEN_ADMINS to the admins' "
                "Slack user IDs and restarts the bot.",
                what=what,
            ),
        )

    def claim_bootstrap_admin(self, user_id: str) -> Decision:
        """Make ``user_id`` the admin if the bootstrap rule still applies (see ``bootstrap_open``); else the
        usual admin decision. Called once Rakuten has accepted the submitted pair, before it is stored."""
        with self._store.batch():
            if self.bootstrap_open():
                self._store.set_meta(BOOTSTRAP_ADMIN_KEY, user_id)
                logger.info("no RAKUTEN_ADMINS set: %s becomes the bot's admin (first connect)", user_id)
                return Decision(True)
        return self.admin_decision(user_id, said("connect an account"))

    def order_decision(self, user_id: str, account: AccountRecord) -> Decision:
        """May ``user_id`` ship, accept, refuse or see addresses for this account's orders?"""
        if self.is_admin(user_id):
            return Decision(True)
        try:
            if user_id in self._members("channel", account.channel_id):
                return Decision(True)
            group = account.settings.shipper_group
            if group and user_id in self._members("usergroup", group):
                return Decision(True)
        except SlackApiError as error:
            code = error.response.get("error", "unknown_error") if error.response is not None else "unknown_error"
            logger.warning("cannot check who may act on %s's orders: %s", account.login, code)
            return Decision(
                False, said("I could not check who may act on these orders (Slack said {code}).", code=code)
            )
        channel = f"<#{account.channel_id}>"
        if account.settings.shipper_group:
            group = f"<!subteam^{account.settings.shipper_group}>"
            return Decision(
                False,
                said(
                    "Only members of {channel} or the {group} group can act on these orders.",
                    channel=channel,
                    group=group,
                ),
            )
        return Decision(False, said("Only members of {channel} can act on these orders.", channel=channel))

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()

    def _members(self, kind: str, ident: str) -> frozenset[str]:
        key = (kind, ident)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and now - cached[0] < self._ttl:
                return cached[1]
        members = self._fetch_channel_members(ident) if kind == "channel" else self._fetch_group_members(ident)
        with self._lock:
            self._cache[key] = (now, members)
        return members

    def _fetch_channel_members(self, channel: str) -> frozenset[str]:
        members: set[str] = set()
        cursor: str | None = None
        while True:
            response = self._client.conversations_members(channel=channel, cursor=cursor, limit=500)
            members.update(response.get("members") or [])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return frozenset(members)

    def _fetch_group_members(self, group: str) -> frozenset[str]:
        response = self._client.usergroups_users_list(usergroup=group)
        return frozenset(response.get("users") or [])
