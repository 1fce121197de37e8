"""The running bot's parts, built once from Settings and handed to whoever needs them (no module globals)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient

from bot.card_publisher import CardPublisher
from bot.config import Settings
from bot.crypto import TokenCipher, TokenDecryptError
from bot.poller import Poller
from bot.rakuten_clients import RakutenClients
from bot.scheduler import PollScheduler
from bot.services.permissions import Permissions
from bot.slack_poster import SlackPoster, build_web_client
from bot.store import Store, TinyDBStore
from bot.store.base import PruneReport
from bot.store.records import AccountRecord
from rakuten.client import RetryPolicy

logger = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AppContext:
    settings: Settings
    store: Store
    cipher: TokenCipher
    web_client: WebClient
    poster: SlackPoster
    clients: RakutenClients
    publisher: CardPublisher
    poller: Poller
    scheduler: PollScheduler
    permissions: Permissions
    clock: Callable[[], datetime] = field(default=utc_now)

    def prune(self) -> PruneReport:
        return prune_store(self.store, self.settings, self.clock)

    def start_polling(self) -> None:
        self.scheduler.start(account.login for account in self.store.list_accounts())

    def close(self) -> None:
        """Orderly stop: the running poll finishes, then Slack waits end, clients close, the store flushes."""
        self.scheduler.shutdown()
        self.poster.close()
        self.clients.close()
        self.store.close()


def prune_store(store: Store, settings: Settings, clock: Callable[[], datetime]) -> PruneReport:
    """Daily maintenance: drop long-closed orders and old audit entries, blank old buyers' personal data."""
    tuning = settings.tuning
    report = store.prune(
        clock(),
        closed_retention=timedelta(days=tuning.closed_retention_days),
        personal_data_retention=timedelta(days=tuning.personal_data_retention_days),
        audit_retention=timedelta(days=tuning.audit_retention_days),
    )
    if report.orders_removed or report.orders_anonymised or report.audit_removed:
        logger.info(
            "store maintenance: %d old orders removed, %d anonymised, %d audit entries removed",
            report.orders_removed,
            report.orders_anonymised,
            report.audit_removed,
        )
    return report


def build_context(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    store: Store | None = None,
    web_client: WebClient | None = None,
    retry: RetryPolicy | None = None,
) -> AppContext:
    """Open the store (exclusive to this process), and wire every part. Raises StoreLockedError."""
    store = store or TinyDBStore(settings.data_dir)
    try:
        cipher = TokenCipher.from_data_dir(settings.data_dir, settings.secret_key)
        web_client = web_client or build_web_client(settings.slack_bot_token, settings.slack_api_url)
        tuning = settings.tuning
        poster = SlackPoster(web_client, interval=tuning.post_interval)
        clients = RakutenClients(cipher, base_url=settings.rakuten_api_url, timeout=tuning.rakuten_timeout, retry=retry)
        publisher = CardPublisher(store, poster, clock=clock, burst_threshold=tuning.burst_threshold)
        poller = Poller(store=store, clients=clients, publisher=publisher, poster=poster, clock=clock, tuning=tuning)
        context = AppContext(
            settings=settings,
            store=store,
            cipher=cipher,
            web_client=web_client,
            poster=poster,
            clients=clients,
            publisher=publisher,
            poller=poller,
            scheduler=PollScheduler(
                poller.poll,
                interval=settings.poll_seconds,
                maintenance=functools.partial(prune_store, store, settings, clock),
            ),
            permissions=Permissions(web_client, store, settings.admins),
            clock=clock,
        )
        _connect_env_account(context)
    except BaseException:
        store.close()
        raise
    return context


def _connect_env_account(context: AppContext) -> None:
    """RAKUTEN_LOGIN/RAKUTEN_TOKEN connect one account without /rakuten connect (the token is re-encrypted)."""
    settings = context.settings
    if not (settings.rakuten_login and settings.rakuten_token and settings.rakuten_channel):
        return
    existing = context.store.get_account(settings.rakuten_login)
    if existing is not None and _stored_token(context.cipher, existing) == settings.rakuten_token:
        if existing.channel_id != settings.rakuten_channel:
            existing.channel_id = settings.rakuten_channel
            context.store.save_account(existing)
        return
    account = existing or AccountRecord(
        login=settings.rakuten_login,
        token_ciphertext="",
        channel_id=settings.rakuten_channel,
        connected_by="environment",
        connected_at=context.clock(),
    )
    account.token_ciphertext = context.cipher.encrypt(settings.rakuten_token)
    account.channel_id = settings.rakuten_channel
    context.store.save_account(account)


def _stored_token(cipher: TokenCipher, account: AccountRecord) -> str | None:
    try:
        return cipher.decrypt(account.token_ciphertext)
    except TokenDecryptError:
        return None  # encrypted with another key: the environment's token replaces it
