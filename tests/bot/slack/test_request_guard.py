"""The checks a request passes before Bolt sees it: size, Slack's signature and timestamp, payload shape."""

from __future__ import annotations

import json

import pytest

from bot.slack.request_guard import (
    BODY_LIMIT,
    Rejection,
    declared_length_rejection,
    is_ssl_check,
    shape_rejection,
    signature_rejection,
)
from devkit.slack_requests import interactive_body, sign

SECRET = "the-signing-secret"
NOW = 1_700_000_000
BODY = b"command=%2Frakuten&text=help&user_id=U1&channel_id=C1"


def check(body: bytes = BODY, *, secret: str = SECRET, stamp: int = NOW, now: float = NOW, **headers: str) -> object:
    signed = sign(secret, body, stamp)
    timestamp = headers.get("timestamp", signed["X-Slack-Request-Timestamp"])
    signature = headers.get("signature", signed["X-Slack-Signature"])
    return signature_rejection(SECRET, body, timestamp or None, signature or None, now=now)


def test_a_body_signed_as_slack_signs_it_passes() -> None:
    assert check() is None
    assert check(now=NOW + 300) is None  # five minutes is the edge, still in


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ({"secret": "another-secret"}, Rejection.UNSIGNED),
        ({"signature": ""}, Rejection.UNSIGNED),
        ({"signature": "v0=" + "0" * 64}, Rejection.UNSIGNED),
        ({"signature": "v1=nonsense"}, Rejection.UNSIGNED),
        ({"timestamp": ""}, Rejection.STALE),
        ({"timestamp": "soon"}, Rejection.STALE),
        ({"timestamp": "-5"}, Rejection.STALE),
        ({"timestamp": "1" * 40}, Rejection.STALE),
        ({"now": NOW + 301}, Rejection.STALE),
        ({"now": NOW - 301}, Rejection.STALE),
    ],
)
def test_what_slack_did_not_sign_just_now_is_refused(case: dict, expected: Rejection) -> None:
    assert check(**case) is expected


def test_a_body_that_is_not_utf8_is_checked_on_its_bytes() -> None:
    assert check(b"text=\xff\xfe") is None
    assert signature_rejection(SECRET, b"text=\xff", str(NOW), "v0=\udcff", now=NOW) is Rejection.UNSIGNED


def test_the_declared_length_is_judged_before_the_body_is_read() -> None:
    assert declared_length_rejection(None) is None
    assert declared_length_rejection(str(BODY_LIMIT)) is None
    assert declared_length_rejection(str(BODY_LIMIT + 1)) is Rejection.TOO_LARGE
    assert declared_length_rejection("12abc") is Rejection.BAD_HTTP
    assert declared_length_rejection("١٢") is Rejection.BAD_HTTP  # digits, but not ASCII ones


def submission(**changes: object) -> dict:
    payload = {
        "type": "view_submission",
        "user": {"id": "U1"},
        "team": {"id": "T1"},
        "view": {"type": "modal", "callback_id": "connect", "state": {"values": {}}},
    }
    return {**payload, **changes}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (BODY, "application/x-www-form-urlencoded"),
        (interactive_body(submission()), "application/x-www-form-urlencoded"),
        (interactive_body(submission(team="T1", channel=None)), "application/x-www-form-urlencoded"),
        (json.dumps({"type": "url_verification", "challenge": "abc"}).encode(), "application/json"),
        (json.dumps({"type": "event_callback", "event": {"type": "app_home_opened", "user": "U1"}}).encode(), None),
        (json.dumps({"type": "app_rate_limited", "team_id": "T1"}).encode(), "application/json; charset=utf-8"),
    ],
)
def test_slack_s_payloads_have_the_right_shape(body: bytes, content_type: str | None) -> None:
    assert shape_rejection(body, content_type) is None


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"payload=%7Bnot+json",
        interactive_body([1]),
        interactive_body(None),
        interactive_body(submission(user=None)),
        interactive_body(submission(user={"name": "no id"})),
        interactive_body(submission(user=7)),
        interactive_body(submission(view="connect")),
        interactive_body(submission(view={"type": "modal"})),
        interactive_body(submission(type=["view_submission"])),
        interactive_body(submission(authorizations=[1])),
        interactive_body({"type": "block_actions", "user": {"id": "U1"}, "actions": []}),
        interactive_body({"type": "block_actions", "user": {"id": "U1"}, "actions": ["order_accept"]}),
        b"command=%2Frakuten&text=help&channel_id=C1",
        b"text=help&user_id=U1",
        b"command=%2Frakuten&text=\xff",
        b"{not json",
        b"[1, 2]",
        json.dumps({"type": "event_callback", "event": "app_home_opened"}).encode(),
        json.dumps({"type": "event_callback", "event": {"type": "app_home_opened"}}).encode(),
        json.dumps({"type": "event_callback"}).encode(),
        json.dumps({"type": "url_verification"}).encode(),
        json.dumps({"event": {"type": "x"}}).encode(),
    ],
)
def test_signed_bodies_bolt_could_not_read_are_malformed(body: bytes) -> None:
    assert shape_rejection(body, "application/x-www-form-urlencoded") is Rejection.MALFORMED


def test_slack_s_certificate_check_is_recognised() -> None:
    assert is_ssl_check(b"ssl_check=1&token=abc")
    assert not is_ssl_check(BODY)
    assert not is_ssl_check(b"ssl_check=1&command=%2Frakuten")
    assert not is_ssl_check(b"\xff")
    assert is_ssl_check(b"ssl%5Fcheck=1&token=abc")  # names are decoded as parse_qsl decodes them
    assert not is_ssl_check(b"ssl_check=1&" + b"&".join(b"f%d=1" % n for n in range(100)))  # too many fields


def test_each_refusal_has_a_short_constant_answer() -> None:
    for rejection in Rejection:
        assert rejection.status_line.startswith(str(rejection.status))
        assert len(rejection.body) < 40
