"""``rakuten-bot check``: a readable report on configuration, data dir, Slack and Rakuten; exit 1 on problems."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.crypto import KEY_FILE_NAME, SecretKeyError, TokenCipher, TokenDecryptError
from bot.domain.accounts import AccountRecord
from bot.slack.manifest import REQUIRED_BOT_SCOPES
from bot.slack.poster import build_web_client
from bot.startup import judge_key
from bot.store import StoreError
from bot.store.data_dir import survey
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
    report = Report()
    report.add(OK, "configuration", f"{settings.mode.value} mode, polling every {settings.poll_seconds:g}s")
    _check_slack(settings, report)
    accounts = _check_data_dir(settings, report)
    if settings.rakuten_login and settings.rakuten_token:
        accounts[settings.rakuten_login] = settings.rakuten_token
    if not accounts:
        report.add(WARN, "rakuten", "no account connected yet: run /rakuten connect in Slack, or set RAKUTEN_LOGIN")
    for login, token in accounts.items():
        _check_rakuten(settings, login, token, report)
    out(report.render())
    return 1 if report.failed else 0


def _check_slack(settings: Settings, report: Report) -> None:
    client = build_web_client(settings.slack_bot_token, settings.slack_api_url, rate_limit_retries=1)
    try:
        response = client.auth_test()
    except SlackApiError as error:
        report.add(FAIL, "slack", f"auth.test failed: {error.response.get('error', 'unknown error')}")
        return
    except OSError as error:
        report.add(FAIL, "slack", f"cannot reach {settings.slack_api_url}: {type(error).__name__}")
        return
    report.add(OK, "slack", f"connected to {response.get('team')} as {response.get('user')}")
    granted = {scope.strip() for scope in (response.headers.get("x-oauth-scopes") or "").split(",") if scope.strip()}
    missing = sorted(REQUIRED_BOT_SCOPES - granted)
    if granted and missing:
        report.add(FAIL, "slack scopes", f"missing {', '.join(missing)}: add them (app.yaml) and reinstall the app")
    elif granted:
        report.add(OK, "slack scopes", ", ".join(sorted(granted)))


def _check_data_dir(settings: Settings, report: Report) -> dict[str, str]:
    """Check the data dir and the key, and return the stored accounts' tokens.

    Reads only: nothing is created or written (no directory, no key, no lock), so it is safe beside a running
    bot and on a directory whose store was lost.
    """
    data_dir: Path = settings.data_dir
    if not data_dir.exists():
        report.add(OK, "data dir", f"{data_dir} does not exist yet: `rakuten-bot run` creates it")
        _check_key(settings, [], report)
        return {}
    if not data_dir.is_dir() or not os.access(data_dir, os.W_OK | os.X_OK):
        report.add(FAIL, "data dir", f"{data_dir} is not a directory this user can write to")
        return {}
    found = survey(data_dir)
    if found.store_lost:
        report.add(FAIL, "data dir", found.lost_message())
        return {}
    try:
        accounts = [account_from_doc(doc) for doc in read_tables(data_dir).get("accounts", {}).values()]
    except StoreError as error:
        report.add(FAIL, "data dir", str(error))
        return {}
    report.add(OK, "data dir", f"{data_dir.resolve()} ({len(accounts)} account(s) stored)")
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
