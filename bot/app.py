"""The composition root: every part of the running bot, built once from Settings and wired here (no module
globals), and the Bolt App with the listeners of ``handlers/``. It is the only module of ``bot/`` that imports
``handlers``; everything else depends inward (``handlers`` → ``bot.ui`` → ``bot.services`` → ``bot.domain``).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from slack_bolt import App
from slack_sdk import WebClient

from bot.config import Settings
from bot.crypto import TokenCipher, TokenDecryptError
from bot.domain.accounts import AccountRecord
from bot.rakuten_clients import RakutenClients
from bot.services.acceptance import AcceptanceService
from bot.services.account_locks import AccountLocks
from bot.services.accounts import AccountService
from bot.services.after_sale import AfterSaleDesk
from bot.services.background import BackgroundRunner
from bot.services.cancellation import CancelService
from bot.services.card_publisher import CardPublisher, CardRecoveryError
from bot.services.daily_summary import DailySummaries
from bot.services.item_actions import ItemActions, RetrySchedule
from bot.services.orders import OrderDesk
from bot.services.permissions import Permissions
from bot.services.poller import Poller
from bot.services.reminders import Reminders
from bot.services.replies import ReplyService
from bot.services.scheduler import PollScheduler
from bot.services.shipping import ShippingService
from bot.services.slack_access import SlackAccess
from bot.services.status import StatusService
from bot.slack.access import SlackAccessGate
from bot.slack.permalinks import Permalinks
from bot.slack.poster import SlackPoster, SlackWriteError, build_web_client
from bot.slack.user_locales import UserLocales
from bot.startup import open_cipher_for_run, open_store_for_run
from bot.store import Store
from bot.store.base import PruneReport
from bot.ui.i18n import Languages
from bot.ui.notices import SlackNotices
from bot.ui.screens import Screens
from handlers import register_handlers
from handlers.errors import handle_listener_error
from rakuten.client import RetryPolicy

logger = logging.getLogger(__name__)

FOLLOW_UP_JOB_ID = "follow-up"
TODO_JOB_ID = "after-sale"


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
    runner: BackgroundRunner
    slack_work: BackgroundRunner  # what listeners do after their ack (handlers.deps.after_ack)
    actions: ItemActions
    desk: OrderDesk
    shipping: ShippingService
    acceptance: AcceptanceService
    accounts: AccountService
    status: StatusService
    screens: Screens
    languages: Languages
    slack_access: SlackAccess
    reminders: Reminders
    summaries: DailySummaries
    after_sale: AfterSaleDesk
    replies: ReplyService
    cancellation: CancelService
    clock: Callable[[], datetime] = field(default=utc_now)

    def maintain(self) -> PruneReport:
        return maintain_store(self.store, self.publisher, self.settings, self.clock)

    def start_polling(self) -> None:
        """First poll of every account now, then on schedule; actions a previous run left pending resume; the
        reminders and daily summary job runs now and every minute or so."""
        self.actions.resume_pending()
        self.replies.resume_pending()
        self.scheduler.add_periodic(FOLLOW_UP_JOB_ID, self.follow_up, seconds=self.settings.tuning.follow_up_seconds)
        self.scheduler.add_periodic(TODO_JOB_ID, self.todo_poll, seconds=self.settings.todo_poll_seconds)
        self.scheduler.start(account.login for account in self.store.list_accounts())

    def todo_poll(self) -> None:
        """Rakuten's to-do list, each account's claims and messages into their cards' threads (its own schedule)."""
        try:
            self.after_sale.run()
        except Exception:
            logger.exception("to-do poll: the run failed; the next one tries again")

    def follow_up(self) -> None:
        """Reminders, the daily summaries, and after-sale messages a failed post left behind; one failing (the
        store, a bug) does not hold up the others."""
        jobs = (
            ("reminders", self.reminders.run),
            ("daily summary", self.summaries.run),
            ("after-sale messages", self.after_sale.post_pending),
        )
        for name, job in jobs:
            try:
                job()
            except Exception:
                logger.exception("%s: the run failed; the next one tries again", name)

    def close(self) -> None:
        """Orderly stop: the running poll finishes, then Slack waits end, clients close, the store flushes."""
        self.scheduler.shutdown()
        self.slack_work.close()
        self.runner.close()
        self.poster.close()
        self.clients.close()
        self.store.close()


def maintain_store(
    store: Store, publisher: CardPublisher, settings: Settings, clock: Callable[[], datetime]
) -> PruneReport:
    """Daily maintenance: drop long-closed orders and old audit entries, blank old buyers' personal data —
    in the store and on their cards in Slack."""
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
    if report.orders_anonymised:
        _refresh_purged_cards(store, publisher)
    return report


def _refresh_purged_cards(store: Store, publisher: CardPublisher) -> None:
    for account in store.list_accounts():
        for order in store.iter_orders(account.login, open_only=False):
            if order.personal_data_purged and order.card is not None:
                try:
                    publisher.refresh(account, order)  # a no-op once the card shows the purge
                except (SlackWriteError, CardRecoveryError) as error:
                    logger.warning("could not blank the card of order %s: %s", order.purchaseid, error)


def build_context(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    store: Store | None = None,
    web_client: WebClient | None = None,
    retry: RetryPolicy | None = None,
    start_empty: bool = False,
    new_key: bool = False,
) -> AppContext:
    """Open the store (exclusive to this process), check the key against it, and wire every part.

    Raises StoreError (locked, lost, damaged) or SecretKeyError (missing, wrong), each with a one-line message;
    ``start_empty`` / ``new_key`` are ``rakuten-bot run --start-empty`` / ``--new-key`` (see ``bot.startup``).
    """
    store = store or open_store_for_run(
        settings.data_dir, start_empty=start_empty, database_url=settings.database_url
    )
    try:
        cipher = open_cipher_for_run(
            settings.data_dir,
            settings.secret_key,
            store.list_accounts(),
            env_login=settings.rakuten_login if settings.rakuten_token else None,
            new_key=new_key,
            clock=clock,
        )
        gate = SlackAccessGate()
        web_client = web_client or build_web_client(settings.slack_bot_token, settings.slack_api_url, gate=gate)
        tuning = settings.tuning
        poster = SlackPoster(web_client, interval=tuning.post_interval)
        languages = Languages(settings.default_locale, UserLocales(web_client))
        notices = SlackNotices(languages, settings.deadlines)
        claim_grace = timedelta(seconds=tuning.follow_up_claim_grace)
        clients = RakutenClients(cipher, base_url=settings.rakuten_api_url, timeout=tuning.rakuten_timeout, retry=retry)
        publisher = CardPublisher(store, poster, clock=clock, cards=notices, burst_threshold=tuning.burst_threshold)
        permissions = Permissions(web_client, store, settings.admins)
        locks = AccountLocks()
        runner = BackgroundRunner()
        actions = ItemActions(
            store=store,
            clients=clients,
            publisher=publisher,
            runner=runner,
            web_client=web_client,
            clock=clock,
            reports=notices,
            schedule=RetrySchedule(tuning.action_retry_delays),
        )
        desk = OrderDesk(store, permissions)
        acceptance = AcceptanceService(store=store, desk=desk, actions=actions, clock=clock)
        poller = Poller(
            store=store,
            clients=clients,
            publisher=publisher,
            poster=poster,
            clock=clock,
            tuning=tuning,
            notices=notices,
            on_new_orders=acceptance.auto_accept,
            access=gate,
            locks=locks,
        )
        scheduler = PollScheduler(
            poller.poll,
            interval=settings.poll_seconds,
            maintenance=functools.partial(maintain_store, store, publisher, settings, clock),
        )
        after_sale = AfterSaleDesk(
            store,
            clients,
            publisher,
            poster,
            clock=clock,
            notices=notices,
            tuning=tuning,
            locks=locks,
            health=poller.health,
            access=gate,
        )
        status = StatusService(
            store=store, desk=desk, scheduler=scheduler, permissions=permissions, health=poller.health
        )
        context = AppContext(
            settings=settings,
            store=store,
            cipher=cipher,
            web_client=web_client,
            poster=poster,
            clients=clients,
            publisher=publisher,
            poller=poller,
            scheduler=scheduler,
            permissions=permissions,
            runner=runner,
            slack_work=BackgroundRunner(workers=4, name="slack-work"),
            actions=actions,
            desk=desk,
            shipping=ShippingService(store=store, desk=desk, actions=actions, clock=clock),
            acceptance=acceptance,
            accounts=AccountService(
                store=store,
                cipher=cipher,
                clients=clients,
                scheduler=scheduler,
                permissions=permissions,
                actions=actions,
                clock=clock,
                fixed_channel=settings.rakuten_channel,
            ),
            status=status,
            screens=Screens(status, languages, clock, settings.deadlines),
            languages=languages,
            slack_access=SlackAccess(gate, scheduler, clock),
            reminders=Reminders(
                store,
                poster,
                publisher,
                clock=clock,
                notices=notices,
                rules=settings.deadlines,
                claim_grace=claim_grace,
                access=gate,
            ),
            summaries=DailySummaries(
                store,
                poster,
                clock=clock,
                notices=notices,
                rules=settings.deadlines,
                at=settings.daily_summary_at,
                permalink=Permalinks(web_client),
                claim_grace=claim_grace,
                access=gate,
            ),
            after_sale=after_sale,
            replies=ReplyService(
                store=store,
                desk=desk,
                clients=clients,
                after_sale=after_sale,
                runner=runner,
                web_client=web_client,
                clock=clock,
                reports=notices,
                schedule=RetrySchedule(tuning.action_retry_delays),
            ),
            cancellation=CancelService(desk=desk, actions=actions),
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


def build_app(context: AppContext) -> App:
    # Bolt reads SLACK_BOT_TOKEN from the environment when it is given no token, then warns on every start that
    # the client's token wins. The settings hold the token already; the environment's copy has no reader left.
    os.environ.pop("SLACK_BOT_TOKEN", None)
    app = App(
        client=context.web_client,
        signing_secret=context.settings.slack_signing_secret or "",
        # Listeners run in the request thread and return right after their ack, handing what is slow to the
        # bot's Slack work pool (handlers.deps.after_ack): the ack never waits for a free listener thread,
        # nor for Bolt's polling of it, however busy the process is with a poll.
        process_before_response=True,
        raise_error_for_unhandled_request=False,
    )
    app.error(handle_listener_error)
    register_handlers(app, context)
    context.slack_access.learn_identity(context.web_client)  # the token works: Bolt's auth.test just said so
    return app
