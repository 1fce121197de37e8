"""One RakutenClient per connected account, built from the stored (encrypted) token on first use."""

from __future__ import annotations

import threading

from bot.crypto import TokenCipher
from bot.domain.accounts import AccountRecord
from rakuten.client import RakutenClient, RetryPolicy


class RakutenClients:
    def __init__(
        self, cipher: TokenCipher, *, base_url: str, timeout: float = 30.0, retry: RetryPolicy | None = None
    ) -> None:
        self._cipher = cipher
        self._base_url = base_url
        self._timeout = timeout
        self._retry = retry or RetryPolicy()
        self._lock = threading.Lock()
        # (login, retry policy or None) -> (token ciphertext the client was built with, client): a reconnect with
        # a new token replaces the client.
        self._clients: dict[tuple[str, RetryPolicy | None], tuple[str, RakutenClient]] = {}

    def client_for(self, account: AccountRecord, *, retry: RetryPolicy | None = None) -> RakutenClient:
        """The account's client; ``retry`` asks for one with its own retry policy (kept apart from the default)."""
        key = (account.login, retry)
        with self._lock:
            cached = self._clients.get(key)
            if cached is not None and cached[0] == account.token_ciphertext:
                return cached[1]
            client = self.build(account.login, self._cipher.decrypt(account.token_ciphertext), retry=retry)
            self._clients[key] = (account.token_ciphertext, client)
            if cached is not None:
                cached[1].close()
            return client

    def build(
        self, login: str, token: str, *, timeout: float | None = None, retry: RetryPolicy | None = None
    ) -> RakutenClient:
        """A client for a login/token pair not stored yet (checking credentials before saving them)."""
        return RakutenClient(
            login, token, base_url=self._base_url, timeout=timeout or self._timeout, retry=retry or self._retry
        )

    def forget(self, login: str) -> None:
        with self._lock:
            forgotten = [self._clients.pop(key) for key in list(self._clients) if key[0] == login]
        for _, client in forgotten:
            client.close()

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for _, client in clients:
            client.close()
