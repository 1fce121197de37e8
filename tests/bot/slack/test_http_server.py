"""The WSGI guard on its own (any WSGI server), and the connection limit sized to the open-files limit."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request import BoltRequest

from bot.slack import http_server
from bot.slack.http_server import EVENTS_PATH, HEALTH_PATH, READY_PATH, ParsedBoltRequest, ServerLimits, SlackWsgiApp
from bot.slack.request_guard import BODY_LIMIT, read_payload
from devkit.slack_requests import interactive_body, sign

SECRET = "the-signing-secret"


@pytest.fixture
def wsgi_app() -> SlackWsgiApp:
    app = App(signing_secret=SECRET, authorize=lambda **_: AuthorizeResult(enterprise_id=None, team_id="T1"))
    app.command("/rakuten")(lambda ack: ack("pong"))
    return SlackWsgiApp(app, lambda: (True, {"polling": True}), signing_secret=SECRET)


def call(wsgi_app: SlackWsgiApp, body: bytes, headers: dict[str, str], *, length: bool = True) -> tuple[str, bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": EVENTS_PATH,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "wsgi.input": io.BytesIO(body),
        **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()},
    }
    if length:
        environ["CONTENT_LENGTH"] = str(len(body))
    answer: list[str] = []
    chunks = wsgi_app(environ, lambda status, _headers: answer.append(status))  # type: ignore[arg-type]
    return answer[0], b"".join(chunks)


def test_a_signed_command_reaches_bolt_and_an_unsigned_one_does_not(wsgi_app: SlackWsgiApp) -> None:
    body = b"command=%2Frakuten&text=ping&user_id=U1&channel_id=C1"

    assert call(wsgi_app, body, sign(SECRET, body)) == ("200 OK", b"pong")
    assert call(wsgi_app, body, {}) == ("401 Unauthorized", b"invalid request\n")


def test_a_body_without_a_length_is_read_no_further_than_the_limit(wsgi_app: SlackWsgiApp) -> None:
    stream = io.BytesIO(b"text=" + b"a" * (3 * BODY_LIMIT))
    body = stream.getvalue()

    status, answer = call(wsgi_app, body, sign(SECRET, body), length=False)

    assert (status, answer) == ("413 Content Too Large", b"request body too large\n")


def test_a_declared_length_over_the_limit_is_refused_unread(wsgi_app: SlackWsgiApp) -> None:
    class Unreadable(io.BytesIO):
        def read(self, *_: object) -> bytes:
            raise AssertionError("the body was read")

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": EVENTS_PATH,
        "CONTENT_LENGTH": str(BODY_LIMIT + 1),
        "wsgi.input": Unreadable(),
    }
    answer: list[str] = []
    assert list(wsgi_app(environ, lambda status, _h: answer.append(status))) == [b"request body too large\n"]  # type: ignore[arg-type]


def test_the_health_check_is_unchanged(wsgi_app: SlackWsgiApp) -> None:
    answer: list[str] = []
    body = wsgi_app({"REQUEST_METHOD": "GET", "PATH_INFO": HEALTH_PATH}, lambda s, _h: answer.append(s))  # type: ignore[arg-type]
    assert answer == ["200 OK"]
    assert b"".join(body) == b'{"status": "ok", "polling": true}'


def test_readiness_has_its_own_path_and_falls_back_on_the_health_check() -> None:
    app = App(signing_secret=SECRET, token="xoxb-offline", token_verification_enabled=False)
    separate = SlackWsgiApp(
        app, lambda: (True, {}), signing_secret=SECRET, ready=lambda: (False, {"taking_poll_leases": False})
    )
    alone = SlackWsgiApp(app, lambda: (True, {"polling": True}), signing_secret=SECRET)

    for wsgi_app, status, body in [
        (separate, "503 Service Unavailable", b'{"status": "unhealthy", "taking_poll_leases": false}'),
        (alone, "200 OK", b'{"status": "ok", "polling": true}'),
    ]:
        answer: list[str] = []
        chunks = wsgi_app({"REQUEST_METHOD": "GET", "PATH_INFO": READY_PATH}, lambda s, _h, to=answer: to.append(s))  # type: ignore[arg-type]
        assert (answer, b"".join(chunks)) == ([status], body)


def test_http_mode_refuses_to_run_without_a_signing_secret() -> None:
    app = App(signing_secret="x", token="xoxb-offline", token_verification_enabled=False)
    with pytest.raises(ValueError, match="signing secret"):
        SlackWsgiApp(app, lambda: (True, {}), signing_secret="")


def test_connections_fit_the_open_files_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_server, "_open_files_limit", lambda: 1024)
    assert ServerLimits().within_fd_limit().connection_limit == (1024 - 128) // 2
    monkeypatch.setattr(http_server, "_open_files_limit", lambda: 65536)
    assert ServerLimits().within_fd_limit() == ServerLimits()
    monkeypatch.setattr(http_server, "_open_files_limit", lambda: None)
    assert ServerLimits(connection_limit=5).within_fd_limit().connection_limit == 5


def test_a_refusal_logs_no_body(wsgi_app: SlackWsgiApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = b"command=%2Frakuten&text=the-secret-words&user_id=U1&channel_id=C1"
    call(wsgi_app, body, sign("another-secret", body))
    assert "refused a request (401)" in caplog.text
    assert "the-secret-words" not in caplog.text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"command=%2Frakuten&text=ping+pong&user_id=U1&channel_id=C1", "application/x-www-form-urlencoded"),
        (
            interactive_body(
                {"type": "block_actions", "user": {"id": "U1"}, "team": {"id": "T1"}, "actions": [{"value": "a&b"}]}
            ),
            "application/x-www-form-urlencoded",
        ),
        (json.dumps({"type": "event_callback", "team_id": "T1", "event": {"type": "x"}}).encode(), "application/json"),
    ],
)
def test_the_request_handed_to_bolt_is_the_one_bolt_would_have_built(body: bytes, content_type: str) -> None:
    """The payload parsed once by the guard stands in for Bolt's own parse: nothing else differs."""
    text, payload = read_payload(body, content_type)  # type: ignore[misc]
    headers = {"content-type": content_type, "content-length": str(len(body)), "x-slack-signature": "v0=1"}
    ours = ParsedBoltRequest(raw_body=text, payload=payload, query="a=1", headers=headers)
    bolts = BoltRequest(body=text, query="a=1", headers=headers)
    assert vars(ours).keys() == vars(bolts).keys()
    for name in ("raw_body", "query", "headers", "content_type", "body", "lazy_only", "lazy_function_name", "mode"):
        assert getattr(ours, name) == getattr(bolts, name), name
    assert dict(ours.context) == dict(bolts.context)
    assert ours.to_copyable().body == bolts.body
