"""No secret in the log, whatever encoding carries it: the redaction, Bolt's verification log, the handler."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from bot.constants import ACTION_LOGIN, ACTION_TOKEN, BLOCK_LOGIN, BLOCK_TOKEN, VIEW_CONNECT
from bot.logging_setup import (
    BOLT_VERIFICATION_LOGGER,
    SLACK_SDK_CLIENT_LOGGERS,
    configure_logging,
    quiet_bolt_request_verification,
    redact,
)
from devkit.slack_requests import interactive_payload, sign, text_input_state, view_submission_body

PLAIN_TOKEN = "5f1c9a0b7e2d4c6a8b1e3f5a7c9d0e2f"
ODD_TOKEN = "ab+cd/ef=gh&ij%kl mn"  # every character URL-encoding or a form would change


def connect_submission(token: str) -> bytes:
    return view_submission_body(
        user_id="U0ADMIN",
        callback_id=VIEW_CONNECT,
        private_metadata="",
        state_values={
            BLOCK_LOGIN: {ACTION_LOGIN: text_input_state("boutique")},
            BLOCK_TOKEN: {ACTION_TOKEN: text_input_state(token)},
        },
    )


def encodings(token: str) -> dict[str, str]:
    """The forms a connect submission takes on its way through a request and into a log line."""
    body = connect_submission(token)
    payload = interactive_payload(body)
    compact = json.dumps(payload, separators=(",", ":"))
    return {
        "form body (payload= and URL-encoded JSON)": body.decode(),
        "form body encoded once more": quote(body.decode()),
        "form body with + for spaces": "payload=" + quote_plus(json.dumps(payload)),
        "plain JSON": json.dumps(payload),
        "compact JSON": compact,
        "JSON inside a JSON string": json.dumps({"body": compact}),
        "Python dict": repr(payload),
        "the state values alone": repr(payload["view"]["state"]["values"]),
    }


def leaks(text: str, token: str) -> list[str]:
    forms = {token, quote(token), quote_plus(token), quote(quote(token)), json.dumps(token)[1:-1]}
    return [form for form in forms if form in text]


@pytest.mark.parametrize("token", [PLAIN_TOKEN, ODD_TOKEN])
def test_the_connect_token_is_masked_in_every_encoding_of_a_submission(token: str) -> None:
    for name, text in encodings(token).items():
        cleaned = redact(f"Invalid request (body: {text})")
        assert leaks(cleaned, token) == [], name
        assert "***" in cleaned, name


def test_redaction_keeps_what_is_not_secret() -> None:
    cleaned = redact(connect_submission(PLAIN_TOKEN).decode())

    assert "boutique" in cleaned  # the login is not a secret
    assert VIEW_CONNECT in cleaned
    assert redact("polled boutique-demo: 3 new orders") == "polled boutique-demo: 3 new orders"
    assert redact("50% of 3 orders") == "50% of 3 orders"


def test_the_older_patterns_still_hold() -> None:
    assert "xoxb-1-abc" not in redact("auth with xoxb-1-abc failed")
    assert "s3cret" not in redact("GET https://ws/sales_ws?login=a&pwd=s3cret&version=1")
    assert "s3cret" not in redact(quote("GET https://ws/sales_ws?login=a&pwd=s3cret"))
    assert "abc123" not in redact('{"token": "abc123"}')
    assert "abc123" not in redact('{\\"token\\":\\"abc123\\"}')
    assert "abc123" not in redact("{'client_secret': 'abc123'}")


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
def test_bolt_s_verification_log_keeps_no_body(level: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(level)
    quiet_bolt_request_verification()
    app = App(signing_secret="the-signing-secret", token="xoxb-offline", token_verification_enabled=False)
    body = connect_submission(PLAIN_TOKEN).decode()
    rotated = sign("a-rotated-secret", body.encode())

    response = app.dispatch(BoltRequest(body=body, headers={k.lower(): v for k, v in rotated.items()}))

    assert response.status == 401
    assert "body not logged" in caplog.text
    assert PLAIN_TOKEN not in caplog.text
    assert rotated["X-Slack-Signature"] not in caplog.text


def test_quieting_bolt_twice_adds_one_filter() -> None:
    quiet_bolt_request_verification()
    quiet_bolt_request_verification()
    filters = logging.getLogger(BOLT_VERIFICATION_LOGGER).filters
    assert len([f for f in filters if type(f).__name__ == "_BodylessVerificationFilter"]) == 1


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    names = ("slack_sdk", "slack_bolt", "httpx", "waitress", *SLACK_SDK_CLIENT_LOGGERS)
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


@pytest.mark.usefixtures("restored_logging")
@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_the_configured_handler_masks_every_logger(level: str, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level)
    body = connect_submission(ODD_TOKEN).decode()

    logging.getLogger("slack_bolt.App").warning("Unhandled request (%s)", body)
    logging.getLogger("handlers.views").error("failed on %r", interactive_payload(body.encode()))
    try:
        raise ValueError(body)
    except ValueError:
        logging.getLogger("bot").exception("listener failed")

    written = capsys.readouterr().err
    assert written.count("***") >= 3
    assert leaks(written, ODD_TOKEN) == []


@pytest.mark.usefixtures("restored_logging")
@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_slack_sdk_clients_build_no_debug_line_that_would_not_be_written(level: str) -> None:
    """slack_sdk reads its client logger's own level (``logger.level <= DEBUG``) before formatting a whole
    request and answer for a DEBUG line: that level is set, to the one its lines are written at."""
    configure_logging(level)
    sdk_level = logging.getLogger("slack_sdk").level
    client, webhook = WebClient(token="xoxb-test"), WebhookClient("http://127.0.0.1/hook")
    assert client.logger.level == webhook.logger.level == sdk_level > logging.DEBUG
    assert not client.logger.isEnabledFor(logging.DEBUG)
