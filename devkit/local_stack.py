"""The whole bot on one machine: Rakuten simulator, Slack stand-in, the app in HTTP mode, all on loopback.

``make demo``, the end-to-end tests and the benchmarks drive the real parts through this one harness:
real HTTP to the simulator, real Web API calls to the stand-in, and Slack requests into the app signed as
Slack signs them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from datetime import time as time_of_day
from pathlib import Path
from typing import Any

import httpx

from bot.app import AppContext, build_app, build_context, utc_now
from bot.config import Settings, Tuning
from bot.constants import AFTER_SALE_EVENT_TYPE, COMMAND, ORDER_EVENT_TYPE, VIEW_CANCEL, VIEW_REPLY, VIEW_SHIP
from bot.domain.orders import OrderRef
from bot.health import health_report, readiness_report
from bot.runtime import settle_heap
from bot.services.poller import PollOutcome
from bot.slack.http_server import EVENTS_PATH, HttpServer, SlackWsgiApp
from bot.ui.i18n import Translator, translator
from bot.ui.refs import encode_order_ref
from devkit.rakuten_simulator import RakutenSimulator
from devkit.slack_requests import SlackRequestSender, static_select_state, text_input_state
from devkit.slack_standin import SlackStandIn, StoredMessage
from rakuten.client import RetryPolicy

SIGNING_SECRET = "local-stack-signing-secret"
LOGIN = "boutique-demo"
TOKEN = "demo-token-5f1c9a"  # the simulator's account: not a real Rakuten token
CHANNEL = "C0ORDERS"
ADMIN = "U0ADMIN"
SELLER = "U0SELLER"
OUTSIDER = "U0OUTSIDER"
PACKER_GROUP = "S0PACKERS"
PACKER = "U0PACKER"


@dataclass(frozen=True)
class StackOptions:
    seed: int = 7
    poll_seconds: float = 2.0
    connect_env_account: bool = True
    admins: frozenset[str] = frozenset({ADMIN})
    tuning: Tuning = field(
        default_factory=lambda: Tuning(
            post_interval=0.0, rakuten_timeout=2.0, action_retry_delays=(0.05, 0.1, 0.2, 0.4)
        )
    )
    rakuten_retry: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(attempts=2, initial_wait=0.01, max_wait=0.05)
    )
    # Apply the server's process-wide runtime settings, as `rakuten-bot run` does (benchmarks and the demo);
    # tests leave the test process as it is.
    serve_like_production: bool = False
    # The bot's default language (RAKUTEN_DEFAULT_LOCALE): the one its cards and answers speak here.
    locale: str = "en"
    # The bot's clock (reminders, daily summaries, "late", card dates): tests pass one they move by hand.
    clock: Callable[[], datetime] = utc_now
    # RAKUTEN_DAILY_SUMMARY_AT as parsed (None: off, as the harness default, so that other tests see no summary).
    daily_summary_at: time_of_day | None = None
    # RAKUTEN_TODO_POLL_SECONDS: the to-do poll's interval once the scheduler runs (tests call todo_poll() by hand).
    todo_poll_seconds: float = 900.0


class LocalStack:
    def __init__(self, data_dir: Path, options: StackOptions | None = None) -> None:
        self.data_dir = data_dir
        self.options = options or StackOptions()
        clock = self.options.clock
        # One clock for the three parts: purchase dates, message timestamps and the bot's "now" agree, as they do
        # in production (Slack's history is searched from the bot's own time of a post).
        self.simulator = RakutenSimulator(seed=self.options.seed, page_size=50, clock=clock)
        self.slack = SlackStandIn(clock=lambda: clock().timestamp())
        self.context: AppContext | None = None
        self._server: HttpServer | None = None
        self._serving: threading.Thread | None = None
        self.sender: SlackRequestSender | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> LocalStack:
        self.simulator.start()
        self.slack.start()
        furnish(self.simulator, self.slack, locale=self.options.locale)
        self.start_app()
        return self

    def start_app(self) -> AppContext:
        """(Re)start the bot on the same data dir: what a restart after a crash or a deploy does."""
        self.context = build_context(self.settings, clock=self.options.clock, retry=self.options.rakuten_retry)
        app = build_app(self.context)
        self._server = HttpServer(
            SlackWsgiApp(
                app,
                lambda: health_report(self.context),  # type: ignore[arg-type]
                signing_secret=SIGNING_SECRET,
                ready=lambda: readiness_report(self.context),  # type: ignore[arg-type]
            ),
            host="127.0.0.1",
            port=0,
            threads=8,
        )
        self._serving = threading.Thread(target=self._server.serve_forever, name="bot-http", daemon=True)
        self._serving.start()
        self.sender = SlackRequestSender(self.app_url, SIGNING_SECRET)
        if self.options.serve_like_production:
            settle_heap()
        return self.context

    def stop_app(self, *, orderly: bool = True) -> None:
        """Stop the bot. ``orderly=False`` drops it like a crash: no flush of pending work, lock released."""
        if self.sender is not None:
            self.sender.close()
        if self._server is not None:
            self._server.close()
        if self._serving is not None:
            self._serving.join(timeout=5)
        if self.context is not None:
            if orderly:
                self.context.close()
            else:
                self.context.scheduler.shutdown()
                self.context.slack_work.close(wait=False)
                self.context.runner.close(wait=False)
                self.context.poster.close()
                self.context.clients.close()
                self.context.store.close()
        self.context, self._server, self._serving, self.sender = None, None, None, None

    def stop(self) -> None:
        self.stop_app()
        self.slack.stop()
        self.simulator.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def settings(self) -> Settings:
        env_account = self.options.connect_env_account
        return Settings(
            slack_bot_token=self.slack.bot_token,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=self.slack.api_url,
            rakuten_api_url=self.simulator.url,
            rakuten_login=LOGIN if env_account else None,
            rakuten_token=TOKEN if env_account else None,
            rakuten_channel=CHANNEL if env_account else None,
            poll_seconds=self.options.poll_seconds,
            data_dir=self.data_dir,
            admins=self.options.admins,
            default_locale=self.options.locale,
            port=0,
            daily_summary_at=self.options.daily_summary_at,
            todo_poll_seconds=self.options.todo_poll_seconds,
            tuning=self.options.tuning,
        )

    def with_tuning(self, **changes: Any) -> None:
        self.options = replace(self.options, tuning=replace(self.options.tuning, **changes))

    @property
    def t(self) -> Translator:
        """The stack's language: what its cards, alerts and (everyone's Slack speaking it) private answers say."""
        return translator(self.options.locale)

    @property
    def app_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.port}{EVENTS_PATH}"

    @property
    def bot(self) -> AppContext:
        assert self.context is not None, "the app is not running"
        return self.context

    # ------------------------------------------------------------------ driving

    def poll(self, login: str = LOGIN) -> PollOutcome:
        return self.bot.poller.poll(login)

    def follow_up(self) -> None:
        """One run of the reminders and daily summary job, as the scheduler makes every minute."""
        self.bot.follow_up()

    def cards(self, channel: str = CHANNEL) -> list[StoredMessage]:
        """Order cards in the channel (thread replies included), oldest first."""
        return [
            message
            for message in self.slack.messages(channel)
            if (message.metadata or {}).get("event_type") == ORDER_EVENT_TYPE
        ]

    def card_for(self, purchaseid: str, channel: str = CHANNEL) -> StoredMessage:
        matches = [card for card in self.cards(channel) if _payload(card).get("purchaseid") == purchaseid]
        assert len(matches) == 1, f"expected one card for order {purchaseid}, found {len(matches)}"
        return matches[0]

    def command(self, text: str, *, user: str = ADMIN, channel: str = CHANNEL) -> httpx.Response:
        assert self.sender is not None
        return self.sender.command(
            command=COMMAND,
            text=text,
            user_id=user,
            channel_id=channel,
            trigger_id=self.slack.new_trigger_id(),
            response_url=self.slack.new_response_url(channel, user_id=user),
        )

    def click(self, purchaseid: str, action_id: str, *, user: str = SELLER, login: str = LOGIN) -> httpx.Response:
        """Click a button of an order's card, as Slack sends it (the card's message, a fresh trigger_id)."""
        assert self.sender is not None
        card = self.card_for(purchaseid)
        return self.sender.action(
            user_id=user,
            channel_id=card.channel,
            message_ts=card.ts,
            action_id=action_id,
            value=encode_order_ref(OrderRef(login, purchaseid)),
            trigger_id=self.slack.new_trigger_id(),
            response_url=self.slack.new_response_url(card.channel, user_id=user, message_ts=card.ts),
            message=card.as_payload(),
        )

    def opened_views(self, callback_id: str) -> list[dict[str, Any]]:
        return [view for view in self.slack.views.values() if view.get("callback_id") == callback_id]

    def submit_view(self, view: dict[str, Any], state_values: dict[str, Any], *, user: str = SELLER) -> httpx.Response:
        assert self.sender is not None
        return self.sender.submit_view(
            user_id=user,
            callback_id=view["callback_id"],
            private_metadata=view.get("private_metadata", ""),
            state_values=state_values,
            view_id=view["id"],
            view=view,
        )

    def submit_ship(
        self,
        view: dict[str, Any],
        *,
        carrier: str,
        tracking: str,
        url: str | None = None,
        itemids: Iterable[str] | None = None,
        user: str = SELLER,
    ) -> httpx.Response:
        from bot.constants import (
            ACTION_CARRIER,
            ACTION_ITEMS,
            ACTION_TRACKING_NUMBER,
            ACTION_TRACKING_URL,
            BLOCK_CARRIER,
            BLOCK_ITEMS,
            BLOCK_TRACKING_NUMBER,
            BLOCK_TRACKING_URL,
        )
        from devkit.slack_requests import checkboxes_state

        assert view.get("callback_id") == VIEW_SHIP
        values: dict[str, Any] = {
            BLOCK_CARRIER: {ACTION_CARRIER: static_select_state(carrier, carrier)},
            BLOCK_TRACKING_NUMBER: {ACTION_TRACKING_NUMBER: text_input_state(tracking)},
            BLOCK_TRACKING_URL: {ACTION_TRACKING_URL: text_input_state(url)},
        }
        if itemids is not None:
            values[BLOCK_ITEMS] = {ACTION_ITEMS: checkboxes_state(list(itemids))}
        return self.submit_view(view, values, user=user)

    # ------------------------------------------------------------------ after sale

    def todo_poll(self, login: str = LOGIN) -> Any:
        """One to-do poll (claims and messages into the cards' threads), as its schedule makes them."""
        return self.bot.after_sale.poll(login)

    def thread(self, purchaseid: str, channel: str = CHANNEL) -> list[StoredMessage]:
        """The after-sale messages in the order card's thread, oldest first."""
        card = self.card_for(purchaseid, channel)
        return [
            message
            for message in self.slack.messages(channel)
            if message.thread_ts == (card.thread_ts or card.ts)
            and (message.metadata or {}).get("event_type") == AFTER_SALE_EVENT_TYPE
            and _payload(message).get("purchaseid") == purchaseid
        ]

    def submit_reply(
        self, view: dict[str, Any], *, text: str, to: str | None = None, user: str = SELLER
    ) -> httpx.Response:
        """Submit a Reply modal; ``to`` is a target's value (``buyer:ITEMID``), else the one it opened with."""
        from bot.constants import ACTION_REPLY_TEXT, ACTION_REPLY_TO, BLOCK_REPLY_TEXT, BLOCK_REPLY_TO

        assert view.get("callback_id") == VIEW_REPLY
        if to is None:
            block = next(block for block in view["blocks"] if block.get("block_id") == BLOCK_REPLY_TO)
            to = (block["element"].get("initial_option") or {}).get("value")
        values: dict[str, Any] = {
            BLOCK_REPLY_TO: {ACTION_REPLY_TO: static_select_state(to, to)},
            BLOCK_REPLY_TEXT: {ACTION_REPLY_TEXT: text_input_state(text)},
        }
        return self.submit_view(view, values, user=user)

    def submit_cancel(
        self, view: dict[str, Any], *, reason: str, itemids: Iterable[str] | None = None, user: str = SELLER
    ) -> httpx.Response:
        from bot.constants import ACTION_CANCEL_ITEMS, ACTION_CANCEL_REASON, BLOCK_CANCEL_ITEMS, BLOCK_CANCEL_REASON
        from devkit.slack_requests import checkboxes_state

        assert view.get("callback_id") == VIEW_CANCEL
        values: dict[str, Any] = {BLOCK_CANCEL_REASON: {ACTION_CANCEL_REASON: text_input_state(reason)}}
        if itemids is not None:
            values[BLOCK_CANCEL_ITEMS] = {ACTION_CANCEL_ITEMS: checkboxes_state(list(itemids))}
        return self.submit_view(view, values, user=user)

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait for a condition on the bot's side (store, simulator), checked every few milliseconds."""
        wait_until(predicate, timeout)


def furnish(simulator: RakutenSimulator, slack: SlackStandIn, *, locale: str = "en") -> None:
    """The stack's seller account at Rakuten, and its Slack workspace: the orders channel, another channel, the
    admin, a seller, an outsider and a packers' group (also served on its own by ``devkit.stack_server``)."""
    simulator.add_account(LOGIN, TOKEN)
    slack.add_channel(CHANNEL, members=[ADMIN, SELLER], name="rakuten-orders")
    slack.add_channel("C0ELSEWHERE", members=[ADMIN, SELLER, OUTSIDER], name="general")
    # Everyone's Slack speaks the stack's language, so a demo in French shows French modals too.
    slack_locale = "fr-FR" if locale == "fr" else "en-US"
    for user in (ADMIN, SELLER, OUTSIDER, PACKER):
        slack.add_user(user, name=user.lower(), locale=slack_locale)
    slack.add_usergroup(PACKER_GROUP, [PACKER], handle="packers")


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, *, every: float = 0.01) -> None:
    """Block until ``predicate()`` holds; AssertionError after ``timeout`` seconds."""
    ticker = threading.Event()
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        ticker.wait(every)


def _payload(message: StoredMessage) -> dict[str, Any]:
    return (message.metadata or {}).get("event_payload") or {}
