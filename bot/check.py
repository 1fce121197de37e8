"""``rakuten-bot check``: a readable report on configuration, data dir, Slack and Rakuten; exit 1 on problems.

It passes only when ``rakuten-bot run`` would start and work: the same start-up checks (``bot.preflight``), a Socket
Mode connection opened and closed, the order channels reachable with the bot in them, and each account's token
accepted by Rakuten. It writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from slack_sdk import WebClient

from bot.config import Settings
from bot.crypto import KEY_FILE_NAME, SecretKeyError, TokenCipher, TokenDecryptError
from bot.domain.accounts import AccountRecord
from bot.preflight import PreflightError, data_dir_problem, listen_on_port
from bot.slack.connectivity import BotIdentity, SlackSetupError, channel_problem, probe_socket_mode, verify_bot_token
from bot.slack.http_server import EVENTS_PATH, HEALTH_PATH
from bot.slack.manifest import REQUIRED_BOT_SCOPES
from bot.slack.poster import build_web_client
from bot.startup import judge_key
from bot.store import StoreError
from bot.store.data_dir import data_dir_in_use, survey
from bot.store.documents import account_from_doc
from bot.store.storage import read_tables
from rakuten.client import RakutenClient, RetryPolicy
from rakuten.errors import AuthenticationError, RakutenError

OK, WARN, FAIL = "ok", "warn", "FAIL"


@dataclass
class Report:
    lines: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, status: str, topic: str, detail: str) -> None:
        self.lines.append((status, topic, detail))

    @property
    def failed(self) -> bool:
        return any(status == FAIL for status, _, _ in self.lines)

    def render(self) -> str:
        width = max((len(topic) for _, topic, _ in self.lines), default=10)
        rows = [f"[{status:>4}] {topic:<{width}}  {detail}" for status, topic, detail in self.lines]
        verdict = "Problems found: fix the FAIL lines above." if self.failed else "All checks passed."
        return "\n".join(["rakuten-bot check", *rows, "", verdict])


def run_check(settings: Settings, *, out: Callable[[str], None] = print) -> int:
    """Every check ``run`` makes before it starts, and those of what it does next (post to the channel, poll each
    account), reported one line each. Writes nothing: no directory, key, lock or store is created."""
    report = Report()
    report.add(OK, "configuration", f"{settings.mode.value} mode, polling every {settings.poll_seconds:g}s")
    stored = _check_postgres(settings, report) if settings.database_url else _check_data_dir(settings, report)
    tokens = _readable_tokens(settings, stored, report) if stored is not None else {}
    accounts = stored or []
    client = build_web_client(settings.slack_bot_token, settings.slack_api_url, rate_limit_retries=1)
    bot = _check_slack(client, settings, report)
    _check_slack_requests(client, settings, report)
    if bot is not None:
        _check_channels(client, bot, _channels(settings, accounts), report)
    if settings.rakuten_login and settings.rakuten_token:
        tokens[settings.rakuten_login] = settings.rakuten_token
    if not tokens and not accounts:
        report.add(WARN, "rakuten", "no account connected yet: run /rakuten connect in Slack, or set RAKUTEN_LOGIN")
    for login, token in tokens.items():
        _check_rakuten(settings, login, token, report)
    out(report.render())
    return 1 if report.failed else 0


def _check_slack(client: WebClient, settings: Settings, report: Report) -> BotIdentity | None:
    try:
        bot = verify_bot_token(client, settings.slack_api_url)
    except SlackSetupError as error:
        report.add(FAIL, "slack", str(error))
        return None
    report.add(OK, "slack", f"connected to {bot.team} as {bot.user}")
    missing = sorted(REQUIRED_BOT_SCOPES - bot.scopes)
    if bot.scopes and missing:
        report.add(FAIL, "slack scopes", f"missing {', '.join(missing)}: add them (app.yaml) and reinstall the app")
    elif bot.scopes:
        report.add(OK, "slack scopes", ", ".join(sorted(bot.scopes)))
    return bot


def _check_slack_requests(client: WebClient, settings: Settings, report: Report) -> None:
    """How Slack's requests reach the bot: a Socket Mode connection, or PORT with a signing secret."""
    if settings.slack_app_token:
        try:
            probe_socket_mode(client, settings.slack_app_token, settings.slack_api_url)
        except SlackSetupError as error:
            report.add(FAIL, "socket mode", str(error))
        else:
            report.add(OK, "socket mode", "SLACK_APP_TOKEN opened a Socket Mode connection (closed again)")
        return
    # The configuration already refused HTTP mode without a signing secret; what is left is the port.
    status, detail = _port_status(settings.port)
    report.add(status, "http mode", detail)


def _port_status(port: int) -> tuple[str, str]:
    try:
        listen_on_port(port).close()
    except PreflightError as error:
        if _serves_health(port):
            return WARN, f"PORT {port} is taken by a running rakuten-bot: a second one could not start beside it"
        return FAIL, str(error)
    return OK, f"SLACK_SIGNING_SECRET is set; PORT {port} is free for POST {EVENTS_PATH}"


def _serves_health(port: int) -> bool:
    """Whether what holds PORT answers the bot's health check (so it is a running bot, not another program)."""
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}{HEALTH_PATH}", timeout=1, trust_env=False)
        return "polling" in answer.json()
    except (httpx.HTTPError, ValueError, TypeError):
        return False


def _channels(settings: Settings, accounts: list[AccountRecord]) -> dict[str, str]:
    """Each channel cards go to, and what names it (for the report): RAKUTEN_CHANNEL, then stored accounts'."""
    named: dict[str, str] = {}
    if settings.rakuten_channel:
        named[settings.rakuten_channel] = "RAKUTEN_CHANNEL"
    for account in accounts:
        if account.channel_id and account.channel_id not in named:
            named[account.channel_id] = f"the order channel of {account.login}"
    return named


def _check_channels(client: WebClient, bot: BotIdentity, channels: dict[str, str], report: Report) -> None:
    for channel_id, named in channels.items():
        problem = channel_problem(client, channel_id, bot, variable=named)
        if problem is None:
            report.add(OK, f"channel {channel_id}", f"exists, and {bot.user} is in it")
        else:
            report.add(FAIL, f"channel {channel_id}", problem)


def _check_data_dir(settings: Settings, report: Report) -> list[AccountRecord] | None:
    """Check the data dir and return the stored accounts; None when the directory is unusable.

    Reads only: nothing is created or written (no directory, no key, no lock), so it is safe beside a running
    bot and on a directory whose store was lost.
    """
    data_dir: Path = settings.data_dir
    problem = data_dir_problem(data_dir)
    if problem is not None:
        report.add(FAIL, "data dir", problem)
        return None
    if not data_dir.exists():
        report.add(OK, "data dir", f"{data_dir} does not exist yet: `rakuten-bot run` creates it")
        return []
    found = survey(data_dir)
    if found.store_lost:
        report.add(FAIL, "data dir", found.lost_message())
        return None
    try:
        accounts = [account_from_doc(doc) for doc in read_tables(data_dir).get("accounts", {}).values()]
    except StoreError as error:
        report.add(FAIL, "data dir", str(error))
        return None
    report.add(OK, "data dir", f"{data_dir.resolve()} ({len(accounts)} account(s) stored)")
    if data_dir_in_use(data_dir):
        report.add(WARN, "data dir", "a running rakuten-bot uses it: a second one could not start on it")
    return accounts


def _check_postgres(settings: Settings, report: Report) -> list[AccountRecord] | None:
    """With DATABASE_URL the accounts live in PostgreSQL, read without writing (no migration runs); the data dir
    then only holds the encryption key, and is not needed at all with RAKUTEN_SECRET_KEY."""
    from bot.store.database_url import describe_database
    from bot.store.postgres_peek import peek_accounts  # psycopg loads only where the store is PostgreSQL

    assert settings.database_url is not None
    if not settings.secret_key and (problem := data_dir_problem(settings.data_dir)):
        report.add(FAIL, "data dir", f"{problem} (It holds the encryption key; or set RAKUTEN_SECRET_KEY.)")
        return None
    where = describe_database(settings.database_url)
    try:
        accounts = peek_accounts(settings.database_url)
    except StoreError as error:
        report.add(FAIL, "store", f"Cannot read {where}: {error}")
        return None
    if accounts is None:
        report.add(OK, "store", f"{where} holds no store yet: `rakuten-bot run` creates its tables")
        return []
    report.add(OK, "store", f"{where} ({len(accounts)} account(s) stored)")
    return accounts


def _readable_tokens(settings: Settings, accounts: list[AccountRecord], report: Report) -> dict[str, str]:
    """The stored accounts' tokens that the key decrypts; a FAIL line for the key or each token it cannot."""
    cipher = _check_key(settings, accounts, report)
    tokens: dict[str, str] = {}
    for account in accounts:
        if cipher is None:
            continue
        try:
            tokens[account.login] = cipher.decrypt(account.token_ciphertext)
        except TokenDecryptError:
            if account.login != settings.rakuten_login:
                report.add(FAIL, f"account {account.login}", "stored token cannot be decrypted (damaged): reconnect it")
    return tokens


def _check_key(settings: Settings, accounts: list[AccountRecord], report: Report) -> TokenCipher | None:
    """The key must decrypt the stored tokens; a missing key is fine only while no token needs it."""
    env_login = settings.rakuten_login if settings.rakuten_token else None
    try:
        verdict = judge_key(settings.data_dir, settings.secret_key, accounts, env_login=env_login)
    except SecretKeyError as error:
        report.add(FAIL, "secret key", str(error))
        return None
    if verdict.problem is not None:
        report.add(FAIL, "secret key", verdict.problem)
        return None
    if verdict.key is None:
        report.add(OK, "secret key", f"none yet: `rakuten-bot run` creates {settings.data_dir / KEY_FILE_NAME}")
        return None
    source = "RAKUTEN_SECRET_KEY" if verdict.from_environment else str(settings.data_dir / KEY_FILE_NAME)
    report.add(OK, "secret key", f"{source} decrypts the stored tokens" if accounts else f"{source} is valid")
    return TokenCipher(verdict.key)


def _check_rakuten(settings: Settings, login: str, token: str, report: Report) -> None:
    client = RakutenClient(login, token, base_url=settings.rakuten_api_url, timeout=15.0, retry=RetryPolicy(attempts=2))
    try:
        seller_id = client.check_credentials()
    except AuthenticationError:
        report.add(
            FAIL, f"rakuten {login}", "Rakuten refused the login/token pair (make a new token: My Account > Tokens)"
        )
    except RakutenError as error:
        report.add(FAIL, f"rakuten {login}", str(error))
    else:
        report.add(OK, f"rakuten {login}", f"credentials accepted (seller id {seller_id or 'not given'})")
    finally:
        client.close()
