"""``rakuten-bot run | demo | check | migrate-store`` (also ``python -m bot``)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ConfigError, RunMode, Settings
from bot.crypto import SecretKeyError
from bot.logging_setup import configure_logging
from bot.runtime import settle_heap
from bot.store import StoreError
from bot.ui.i18n import normalise_locale

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.app import AppContext

logger = logging.getLogger("bot")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="rakuten-bot", description="Run a Rakuten France seller's order desk from Slack."
    )
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL"), help="default: INFO (demo: WARNING)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{run,demo,check,migrate-store}")
    run_parser = commands.add_parser(
        "run", help="poll Rakuten and serve Slack (Socket Mode if SLACK_APP_TOKEN is set, else HTTP)"
    )
    run_parser.add_argument(
        "--start-empty",
        action="store_true",
        help="when the store in RAKUTEN_DATA_DIR was lost or is damaged, move what is left to "
        "DATA_DIR/set-aside-<UTC time>/ and start with an empty store (nothing is deleted)",
    )
    run_parser.add_argument(
        "--new-key",
        action="store_true",
        help="when secret.key is missing or does not decrypt the stored tokens, set it aside and start with a new "
        "key; then reconnect each account with /rakuten connect",
    )
    demo = commands.add_parser("demo", help="the whole job on this machine: Rakuten simulator + local Slack stand-in")
    demo.add_argument("--orders", type=int, default=6, help="orders the simulator starts with (default 6)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument(
        "--lang", default="en", help="language of the cards and modals: fr or en (default en; `make demo LANG=fr`)"
    )
    commands.add_parser("check", help="check configuration, Slack and Rakuten connectivity; non-zero exit on problems")
    migrate = commands.add_parser("migrate-store", help="copy the embedded store into PostgreSQL and verify the counts")
    migrate.add_argument("--from", dest="source", type=Path, required=True, metavar="DATA_DIR")
    migrate.add_argument("--to", dest="target", required=True, metavar="DATABASE_URL")
    args = parser.parse_args(argv)

    configure_logging(args.log_level or ("WARNING" if args.command == "demo" else "INFO"))
    if args.command == "migrate-store":
        from bot.store.migrate import migrate_store  # psycopg and Alembic load only for this command

        return migrate_store(args.source, args.target)
    if args.command == "demo":
        return _demo(orders=args.orders, seed=args.seed, locale=normalise_locale(args.lang) or "en")
    try:
        settings = Settings.from_env(os.environ, require_slack_secret=args.command == "run")
    except ConfigError as error:
        print("rakuten-bot: the configuration has problems:", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    if args.command == "check":
        from bot.check import run_check

        return run_check(settings)
    return run(settings, start_empty=args.start_empty, new_key=args.new_key)


def _demo(*, orders: int, seed: int, locale: str) -> int:
    try:
        from devkit.demo import run_demo
    except ImportError:
        # A production install carries no simulator or Slack stand-in: they come with the development kit.
        print(
            "rakuten-bot: the demo needs the development kit (devkit/): run `make demo` from a checkout of the "
            "project, or `pip install -e ./devkit` there.",
            file=sys.stderr,
        )
        return 2
    return run_demo(orders=orders, seed=seed, locale=locale)


def run(settings: Settings, *, start_empty: bool = False, new_key: bool = False) -> int:
    from bot.app import build_app, build_context

    try:
        context = build_context(settings, start_empty=start_empty, new_key=new_key)
    except (StoreError, SecretKeyError) as error:
        # Locked, lost or damaged store, missing or wrong key: one line saying what to do, nothing changed.
        print(f"rakuten-bot: {error}", file=sys.stderr)
        return 1
    stop = threading.Event()
    app = build_app(context)
    settle_heap()
    context.start_polling()
    try:
        if settings.mode is RunMode.SOCKET:
            _serve_socket_mode(app, settings, stop)
        else:
            _serve_http(app, context, settings, stop)
    finally:
        logger.info("shutting down: letting the running poll finish, flushing the store")
        context.close()
    return 0


def _serve_socket_mode(app: App, settings: Settings, stop: threading.Event) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, settings.slack_app_token)
    _on_signals(lambda: stop.set())
    handler.connect()
    logger.info("Socket Mode: connected; polling every %ss", settings.poll_seconds)
    stop.wait()
    handler.close()


def _serve_http(app: App, context: AppContext, settings: Settings, stop: threading.Event) -> None:
    from bot.health import health_report
    from bot.slack.http_server import HttpServer, SlackWsgiApp, raise_open_files_limit

    raise_open_files_limit()  # before the server sizes its connection limit to it
    wsgi_app = SlackWsgiApp(
        app, lambda: health_report(context), signing_secret=settings.slack_signing_secret or ""
    )
    server = HttpServer(wsgi_app, port=settings.port)
    serving = threading.Thread(target=server.serve_forever, name="http-server", daemon=True)
    _on_signals(lambda: stop.set())
    serving.start()
    stop.wait()
    server.close()
    serving.join(timeout=10)


def _on_signals(callback: Callable[[], None]) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: callback())
