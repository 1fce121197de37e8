"""``rakuten-bot check``: a readable report on configuration, data dir, Slack and Rakuten; exit 1 on problems."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.crypto import TokenCipher, TokenDecryptError
from bot.slack.manifest import REQUIRED_BOT_SCOPES
from bot.slack.poster import build_web_client
from bot.store import StoreError, StoreLockedError, TinyDBStore
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
    """Check the data dir and return the stored accounts' tokens (empty when the store is in use)."""
    data_dir: Path = settings.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        report.add(FAIL, "data dir", f"cannot create {data_dir}: {error.strerror}")
        return {}
    if not os.access(data_dir, os.W_OK):
        report.add(FAIL, "data dir", f"{data_dir} is not writable by this user")
        return {}
    try:
        cipher = TokenCipher.from_data_dir(data_dir, settings.secret_key)
    except (ValueError, OSError) as error:
        report.add(FAIL, "secret key", str(error))
        return {}
    try:
        store = TinyDBStore(data_dir)
    except StoreLockedError:
        report.add(OK, "data dir", f"{data_dir} is in use by a running rakuten-bot; stored accounts not checked")
        return {}
    except StoreError as error:
        report.add(FAIL, "data dir", str(error))
        return {}
    tokens: dict[str, str] = {}
    try:
        accounts = store.list_accounts()
        report.add(OK, "data dir", f"{data_dir.resolve()} ({len(accounts)} account(s) stored)")
        for account in accounts:
            try:
                tokens[account.login] = cipher.decrypt(account.token_ciphertext)
            except TokenDecryptError:
                report.add(
                    FAIL, f"account {account.login}", "stored token cannot be decrypted with this RAKUTEN_SECRET_KEY"
                )
    finally:
        store.close()
    return tokens


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
