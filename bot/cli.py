"""``rakuten-bot run | demo | check | migrate-store`` (also ``python -m bot``)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from bot.config import ConfigError, RunMode, Settings
from bot.crypto import SecretKeyError
from bot.logging_setup import LOG_LEVELS, configure_logging, log_level_problem, parse_log_level
from bot.preflight import Ready, StartRefused, check_before_run
from bot.runtime import settle_heap
from bot.signals import StopSignals, stop_signals
from bot.slack.connectivity import app_token_problem, unreachable_problem
from bot.store import StoreError
from bot.ui.i18n import normalise_locale

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.app import AppContext

logger = logging.getLogger("bot")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    level_name = "--log-level" if args.log_level else "LOG_LEVEL"
    level_text = args.log_level or os.environ.get("LOG_LEVEL") or ("WARNING" if args.command == "demo" else "INFO")
    level = parse_log_level(level_text)
    configure_logging(level or "INFO")
    problems = [] if level else [log_level_problem(level_text, name=level_name)]
    if args.command in ("demo", "migrate-store") and problems:
        return _refuse("the configuration has problems", problems, exit_code=2)
    if args.command == "migrate-store":
        from bot.store.migrate import migrate_store  # psycopg and Alembic load only for this command

        return migrate_store(args.source, args.target)
    if args.command == "demo":
        return _demo(orders=args.orders, seed=args.seed, locale=normalise_locale(args.lang) or "en")
    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as error:
        problems = error.problems + problems
    if problems:
        return _refuse("the configuration has problems", problems, exit_code=2)
    if args.command == "check":
        from bot.check import run_check

        return run_check(settings)
    return run(settings, start_empty=args.start_empty, new_key=args.new_key)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rakuten-bot", description="Run a Rakuten France seller's order desk from Slack."
    )
    parser.add_argument(
        "--log-level", help=f"{', '.join(LOG_LEVELS)} (default: LOG_LEVEL, else INFO; demo: WARNING)"
    )
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
    return parser


def _refuse(heading: str, problems: list[str], *, exit_code: int) -> int:
    """Readable lines on stderr, one per problem, and the exit code: never a traceback."""
    print(f"rakuten-bot: {heading}:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    return exit_code


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
    """Check what an operator can get wrong, then serve until SIGTERM or SIGINT; 0 after an orderly stop."""
    from bot.app import build_app, build_context

    try:
        ready = check_before_run(settings)
    except StartRefused as refused:
        return _refuse("cannot start", refused.problems, exit_code=1)
    # From here on a SIGTERM is noted, not fatal: one that comes during start-up stops the bot once it is up.
    with stop_signals() as signals:
        try:
            context = build_context(settings, start_empty=start_empty, new_key=new_key)
        except (StoreError, SecretKeyError) as error:
            # Locked, lost or damaged store, missing or wrong key: one line saying what to do, nothing changed.
            ready.close()
            print(f"rakuten-bot: {error}", file=sys.stderr)
            return 1
        try:
            app = build_app(context)
            settle_heap()
            if settings.mode is RunMode.SOCKET:
                return _serve_socket_mode(app, context, settings, signals)
            return _serve_http(app, context, ready, signals)
        except BoltError as error:
            # Slack turned the token down after the checks passed (revoked meanwhile): still no traceback.
            return _refuse("cannot start", [f"Slack refused SLACK_BOT_TOKEN: {error}"], exit_code=1)
        finally:
            ready.close()
            logger.info("shutting down: letting the running poll finish, flushing the store")
            context.close()


def _serve_socket_mode(app: App, context: AppContext, settings: Settings, signals: StopSignals) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(app, settings.slack_app_token)
    try:
        handler.connect()
    except SlackApiError as error:
        handler.close()
        code = str(error.response.get("error") or "unknown error")
        return _refuse("cannot start", [app_token_problem(code)], exit_code=1)
    except OSError as error:
        handler.close()
        return _refuse("cannot start", [unreachable_problem(settings.slack_api_url, error)], exit_code=1)
    if handler.client.is_connected():
        logger.info("Socket Mode: connected; polling every %gs", settings.poll_seconds)
    else:
        # Slack handed out an address but the WebSocket failed (network): the SDK keeps trying every few seconds.
        logger.warning("Socket Mode: the first connection failed; retrying (see the lines above for why)")
    context.start_polling()
    received = signals.wait()
    logger.info("%s received", received.name)
    handler.close()
    return 0


def _serve_http(app: App, context: AppContext, ready: Ready, signals: StopSignals) -> int:
    from bot.health import health_report, readiness_report
    from bot.slack.http_server import HttpServer, SlackWsgiApp, raise_open_files_limit

    raise_open_files_limit()  # before the server sizes its connection limit to it
    settings = context.settings
    wsgi_app = SlackWsgiApp(
        app,
        lambda: health_report(context),
        signing_secret=settings.slack_signing_secret or "",
        ready=lambda: readiness_report(context),
    )
    server = HttpServer(wsgi_app, listener=ready.listener)
    serving = threading.Thread(target=server.serve_forever, name="http-server", daemon=True)
    serving.start()
    context.start_polling()
    received = signals.wait()
    logger.info("%s received", received.name)
    server.close()
    serving.join(timeout=10)
    return 0
