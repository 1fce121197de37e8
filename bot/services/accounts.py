"""Connecting, configuring and disconnecting Rakuten seller accounts (admins only).

The token typed into the connect modal is checked against Rakuten (``getitemtodolist``) before anything is
stored, within the view submission's 3-second window so that a bad pair comes back as an error on the token
field; a good pair is stored encrypted, and the account's first poll starts at once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.crypto import TokenCipher
from bot.domain.accounts import AccountRecord, Credentials, SettingsChange
from bot.domain.audit import AuditEntry
from bot.domain.sentences import Sentence, said
from bot.rakuten_clients import RakutenClients
from bot.services.item_actions import ItemActions
from bot.services.permissions import Decision, Permissions
from bot.services.scheduler import PollScheduler
from bot.store.base import Store
from rakuten.client import RetryPolicy
from rakuten.errors import AuthenticationError, RakutenError

logger = logging.getLogger(__name__)

# The check must answer inside Slack's 3-second window for view submissions, with time to spare for the ack.
CREDENTIAL_CHECK_TIMEOUT = 2.2
_LOGIN = re.compile(r"^[^\s]{1,100}$")


@dataclass(frozen=True, slots=True)
class ConnectResult:
    """``field_errors`` keyed by "login"/"token" when the modal must show them; else the account stored."""

    field_errors: dict[str, Sentence] = field(default_factory=dict)
    account: AccountRecord | None = None
    refusal: Sentence | None = None


class AccountService:
    def __init__(
        self,
        *,
        store: Store,
        cipher: TokenCipher,
        clients: RakutenClients,
        scheduler: PollScheduler,
        permissions: Permissions,
        actions: ItemActions,
        clock: Callable[[], datetime],
        fixed_channel: str | None = None,
    ) -> None:
        self._actions = actions
        self._store = store
        self._cipher = cipher
        self._clients = clients
        self._scheduler = scheduler
        self._permissions = permissions
        self._clock = clock
        self._fixed_channel = fixed_channel

    def may_connect(self, user_id: str) -> Decision:
        """Checked before the modal opens and again on submit; while the bootstrap rule applies, anyone may."""
        if self._permissions.is_admin(user_id) or self._permissions.bootstrap_open():
            return Decision(True)
        return self._permissions.admin_decision(user_id, said("connect an account"))

    def connect(self, user_id: str, form: Credentials, *, channel_id: str | None) -> ConnectResult:
        login, token = form.login.strip(), form.token.strip()
        errors: dict[str, Sentence] = {}
        if not _LOGIN.match(login):
            errors["login"] = said(
                "Enter your Rakuten seller login (your seller name, not your e-mail), without spaces."
            )
        if len(token) < 8 or any(ch.isspace() for ch in token):
            errors["token"] = said("Paste the whole API token from My Account > Tokens on Rakuten (no spaces).")
        if errors:
            return ConnectResult(field_errors=errors)
        decision = self.may_connect(user_id)  # checked again: the modal may have been opened before an admin was set
        if not decision:
            return ConnectResult(refusal=decision.reason)
        channel = self._fixed_channel or channel_id
        if not channel:
            return ConnectResult(refusal=said("Run /rakuten connect in the channel where the order cards should go."))

        check_client = self._clients.build(
            login, token, timeout=CREDENTIAL_CHECK_TIMEOUT, retry=RetryPolicy(attempts=1)
        )
        try:
            seller_id = check_client.check_credentials()
        except AuthenticationError:
            return ConnectResult(
                field_errors={
                    "token": said("Rakuten refused this login and token. Check the login, or make a new token.")
                }
            )
        except RakutenError as error:
            if error.retryable:
                problem = said("Rakuten did not answer in time; nothing was saved. Try again in a minute.")
            else:
                problem = said("Rakuten answered with an error; nothing was saved. Try again in a minute.")
            return ConnectResult(field_errors={"token": problem})
        finally:
            check_client.close()

        # Only a pair Rakuten accepted makes its submitter the bootstrap admin (see Permissions.bootstrap_open).
        decision = self._permissions.claim_bootstrap_admin(user_id)
        if not decision:
            return ConnectResult(refusal=decision.reason)
        now = self._clock()
        existing = self._store.get_account(login)
        account = existing or AccountRecord(login=login, token_ciphertext="", channel_id=channel)
        account.token_ciphertext = self._cipher.encrypt(token)
        account.channel_id = channel
        account.connected_by, account.connected_at, account.seller_id = user_id, now, seller_id
        with self._store.batch():
            self._store.save_account(account)
            self._store.add_audit(
                AuditEntry(
                    at=now, actor=user_id, action="account_connected", account=login, detail=f"channel {channel}"
                )
            )
        self._clients.forget(login)
        self._scheduler.add_account(login)
        logger.info("account %s connected by %s; order channel %s", login, user_id, channel)
        return ConnectResult(account=account)

    def update_settings(self, user_id: str, login: str, form: SettingsChange) -> Sentence:
        decision = self._permissions.admin_decision(user_id, said("change the settings"))
        if not decision:
            return decision.reason or said("You cannot change the settings.")

        def change(account: AccountRecord) -> AccountRecord:
            account.settings = form.apply_to(account.settings)
            if form.channel_id:
                account.channel_id = form.channel_id
            return account

        with self._store.batch():
            updated = self._store.update_account(login, change)
            if updated is None:
                return said("The Rakuten account {login} is not connected any more.", login=login)
            self._store.add_audit(AuditEntry(at=self._clock(), actor=user_id, action="settings_changed", account=login))
        self._permissions.forget()
        self._actions.refresh_cards_later(login)  # cards follow the new settings (address shown, mention)
        return said("Settings of {login} saved.", login=login)

    def disconnect(self, user_id: str, login: str) -> Sentence:
        decision = self._permissions.admin_decision(user_id, said("disconnect an account"))
        if not decision:
            return decision.reason or said("You cannot disconnect an account.")
        with self._store.batch():
            if not self._store.delete_account(login):
                return said("The Rakuten account {login} was not connected.", login=login)
            self._store.add_audit(
                AuditEntry(at=self._clock(), actor=user_id, action="account_disconnected", account=login)
            )
        self._scheduler.remove_account(login)
        self._clients.forget(login)
        logger.info("account %s disconnected by %s", login, user_id)
        return said("Disconnected {login}: its token is deleted and polling has stopped.", login=login)

    def accounts(self) -> list[AccountRecord]:
        return self._store.list_accounts()
