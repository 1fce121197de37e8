from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest

from bot.services.background import BackgroundRunner

WAIT = 5.0


@pytest.fixture
def runner() -> Iterator[BackgroundRunner]:
    running = BackgroundRunner(workers=2)
    yield running
    running.close()


def test_a_submitted_job_runs_off_the_callers_thread(runner: BackgroundRunner) -> None:
    ran_on: list[str] = []
    done = threading.Event()

    def job() -> None:
        ran_on.append(threading.current_thread().name)
        done.set()

    runner.submit(job)

    assert done.wait(WAIT)
    assert ran_on[0].startswith("rakuten-action")
    assert ran_on[0] != threading.current_thread().name


def test_a_failing_job_is_logged_and_the_runner_carries_on(
    runner: BackgroundRunner, caplog: pytest.LogCaptureFixture
) -> None:
    done = threading.Event()

    def broken() -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="bot.services.background"):
        runner.submit(broken)
        runner.submit(done.set)
        assert done.wait(WAIT)
        assert runner.wait_idle(WAIT)

    assert "background job failed" in caplog.text


def test_delayed_jobs_run_in_due_order_not_before_their_time(runner: BackgroundRunner) -> None:
    order: list[str] = []
    started = time.monotonic()
    done = threading.Event()

    def record(name: str) -> None:
        order.append(name)
        if len(order) == 2:
            done.set()

    runner.submit_later(0.2, lambda: record("later"))
    runner.submit_later(0.05, lambda: record("sooner"))

    assert done.wait(WAIT)
    assert order == ["sooner", "later"]
    assert time.monotonic() - started >= 0.2


def test_wait_idle_waits_for_running_and_soon_due_jobs(runner: BackgroundRunner) -> None:
    release = threading.Event()
    finished = threading.Event()

    def slow() -> None:
        release.wait(WAIT)
        finished.set()

    runner.submit(slow)
    assert runner.wait_idle(timeout=0.05) is False  # still running
    release.set()
    assert runner.wait_idle(WAIT) is True
    assert finished.is_set()

    ran = threading.Event()
    runner.submit_later(0.05, ran.set)
    assert runner.wait_idle(WAIT) is True  # due within the timeout: waited for
    assert ran.is_set()


def test_a_job_due_after_the_timeout_does_not_keep_wait_idle_waiting(runner: BackgroundRunner) -> None:
    runner.submit_later(3600, lambda: None)

    started = time.monotonic()
    assert runner.wait_idle(timeout=0.1) is True
    assert time.monotonic() - started < 1.0


def test_close_drops_delayed_jobs_and_refuses_new_ones(caplog: pytest.LogCaptureFixture) -> None:
    runner = BackgroundRunner(workers=1)
    ran = threading.Event()
    runner.submit_later(0.05, ran.set)

    runner.close()
    with caplog.at_level(logging.WARNING, logger="bot.services.background"):
        runner.submit(ran.set)
    runner.submit_later(0, ran.set)

    assert not ran.wait(0.2)
    assert "job dropped" in caplog.text
