"""Refused requests are logged one line per reason and interval, with a count of the rest."""

from __future__ import annotations

import logging

import pytest

from bot.slack.rejection_log import RejectionLog
from bot.slack.request_guard import Rejection


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_writes_one_line_per_reason_then_the_count(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    clock = FakeClock()
    log = RejectionLog(logging.getLogger("test.rejections"), interval=60, clock=clock)

    for _ in range(500):
        log.record(Rejection.UNSIGNED)
    for _ in range(3):
        log.record(Rejection.TOO_LARGE)
    assert [record.getMessage() for record in caplog.records] == [
        "refused a request (401): missing or wrong Slack signature",
        "refused a request (413): body larger than 1 MiB",
    ]

    clock.now += 59
    log.record(Rejection.UNSIGNED)
    assert len(caplog.records) == 2
    clock.now += 1
    log.record(Rejection.UNSIGNED)
    assert caplog.records[-1].getMessage() == (
        "refused a request (401): missing or wrong Slack signature; 500 more since the last such line"
    )

    log.flush()
    assert caplog.records[-1].getMessage() == (
        "refused 2 more requests (413) since the last such line: body larger than 1 MiB"
    )
    log.flush()
    assert len(caplog.records) == 4
