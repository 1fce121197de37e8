"""PollScheduler: one job per account, never overlapping, coalesced, generous misfire grace, first poll at once,
and a shutdown that lets the running poll finish."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.services.scheduler import MAINTENANCE_HOURS, MAINTENANCE_JOB_ID, PollScheduler, poll_job_id
from devkit.local_stack import wait_until

HOUR = 3600.0


class RecordingPolls:
    """A poll function that records each call and can be held until released."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.lock = threading.Lock()
        self.hold = threading.Event()
        self.hold.set()
        self.started = threading.Event()
        self.finished = threading.Event()

    def __call__(self, login: str) -> None:
        with self.lock:
            self.calls.append(login)
        self.started.set()
        self.hold.wait(10)
        self.finished.set()

    def count(self, login: str) -> int:
        with self.lock:
            return self.calls.count(login)


@pytest.fixture
def polls() -> RecordingPolls:
    return RecordingPolls()


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[BackgroundScheduler]:
    """The APScheduler instances PollScheduler creates, to look at their jobs through APScheduler's API."""
    created: list[BackgroundScheduler] = []

    class Recorded(BackgroundScheduler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            created.append(self)

    monkeypatch.setattr("bot.services.scheduler.BackgroundScheduler", Recorded)
    return created


@pytest.fixture
def paused(monkeypatch: pytest.MonkeyPatch, made: list[BackgroundScheduler]) -> list[BackgroundScheduler]:
    """Like ``made``, but the scheduler starts paused: jobs are scheduled for real and nothing runs."""
    original = BackgroundScheduler.start

    def start_paused(self: BackgroundScheduler, *args: Any, paused: bool = False, **kwargs: Any) -> None:
        original(self, *args, paused=True, **kwargs)

    monkeypatch.setattr(BackgroundScheduler, "start", start_paused)
    return made


@pytest.fixture
def schedulers() -> Iterator[list[PollScheduler]]:
    started: list[PollScheduler] = []
    yield started
    for scheduler in started:
        scheduler.shutdown()


def new_scheduler(schedulers: list[PollScheduler], polls: RecordingPolls, **options: Any) -> PollScheduler:
    scheduler = PollScheduler(polls, **{"interval": HOUR, **options})
    schedulers.append(scheduler)
    return scheduler


# ------------------------------------------------------------------------------------------ job settings


def test_each_account_gets_one_safe_polling_job(
    paused: list[BackgroundScheduler], polls: RecordingPolls, schedulers: list[PollScheduler]
) -> None:
    scheduler = new_scheduler(schedulers, polls, interval=600)
    before = datetime.now(UTC)

    scheduler.start(["boutique-a", "boutique-b"])

    (apscheduler,) = paused
    jobs = {job.id: job for job in apscheduler.get_jobs()}
    assert set(jobs) == {poll_job_id("boutique-a"), poll_job_id("boutique-b")}
    for login in ("boutique-a", "boutique-b"):
        job = jobs[poll_job_id(login)]
        assert job.args == (login,)
        assert job.max_instances == 1  # a slow poll is never overlapped by the next
        assert job.coalesce is True  # missed runs collapse into one
        assert job.misfire_grace_time == 600  # a poll delayed by a busy pool still runs
        assert isinstance(job.trigger, IntervalTrigger)
        assert job.trigger.interval == timedelta(seconds=600)
        # The first poll is due right away, not one interval later.
        assert before - timedelta(seconds=1) <= job.next_run_time <= datetime.now(UTC) + timedelta(seconds=1)
    assert polls.calls == []


@pytest.mark.parametrize(("interval", "grace"), [(2.0, 30), (45.5, 45), (600.0, 600), (HOUR, 3600)])
def test_the_misfire_grace_fits_the_interval(
    paused: list[BackgroundScheduler],
    polls: RecordingPolls,
    schedulers: list[PollScheduler],
    interval: float,
    grace: int,
) -> None:
    new_scheduler(schedulers, polls, interval=interval).start(["boutique"])

    job = paused[0].get_job(poll_job_id("boutique"))

    assert job is not None
    assert job.misfire_grace_time == grace


def test_store_maintenance_runs_daily_starting_now(
    paused: list[BackgroundScheduler], polls: RecordingPolls, schedulers: list[PollScheduler]
) -> None:
    maintenance_calls: list[bool] = []
    new_scheduler(schedulers, polls, maintenance=lambda: maintenance_calls.append(True)).start([])

    job = paused[0].get_job(MAINTENANCE_JOB_ID)

    assert job is not None
    assert job.trigger.interval == timedelta(hours=MAINTENANCE_HOURS)
    assert job.next_run_time <= datetime.now(UTC) + timedelta(seconds=1)
    assert job.max_instances == 1


def test_no_maintenance_job_without_maintenance(
    paused: list[BackgroundScheduler], polls: RecordingPolls, schedulers: list[PollScheduler]
) -> None:
    new_scheduler(schedulers, polls).start(["boutique"])
    assert paused[0].get_job(MAINTENANCE_JOB_ID) is None


def test_adding_an_account_again_replaces_its_job(
    paused: list[BackgroundScheduler], polls: RecordingPolls, schedulers: list[PollScheduler]
) -> None:
    scheduler = new_scheduler(schedulers, polls)
    scheduler.start(["boutique"])

    scheduler.add_account("boutique")
    scheduler.add_account("autre")

    assert sorted(job.id for job in paused[0].get_jobs()) == [poll_job_id("autre"), poll_job_id("boutique")]


def test_removing_an_account_stops_its_polls(
    paused: list[BackgroundScheduler], polls: RecordingPolls, schedulers: list[PollScheduler]
) -> None:
    scheduler = new_scheduler(schedulers, polls)
    scheduler.start(["boutique", "autre"])

    scheduler.remove_account("boutique")
    scheduler.remove_account("never-connected")  # nothing to remove: no error

    assert scheduler.next_poll("boutique") is None
    assert scheduler.next_poll("autre") is not None
    assert [job.id for job in paused[0].get_jobs()] == [poll_job_id("autre")]


# ------------------------------------------------------------------------------------------ running


def test_the_first_poll_runs_at_once(polls: RecordingPolls, schedulers: list[PollScheduler]) -> None:
    scheduler = new_scheduler(schedulers, polls)
    assert not scheduler.running

    scheduler.start(["boutique"])

    assert scheduler.running
    assert polls.started.wait(5)  # within seconds, although the interval is an hour
    assert polls.calls == ["boutique"]
    next_poll = scheduler.next_poll("boutique")
    assert next_poll is not None
    assert next_poll > datetime.now(UTC) + timedelta(minutes=50)


def test_poll_now_brings_the_next_poll_forward(polls: RecordingPolls, schedulers: list[PollScheduler]) -> None:
    scheduler = new_scheduler(schedulers, polls)
    scheduler.start(["boutique"])
    wait_until(lambda: polls.count("boutique") == 1)

    scheduler.poll_now("boutique")

    wait_until(lambda: polls.count("boutique") == 2)


def test_poll_now_schedules_an_account_it_did_not_know(
    polls: RecordingPolls, schedulers: list[PollScheduler]
) -> None:
    scheduler = new_scheduler(schedulers, polls)
    scheduler.start([])

    scheduler.poll_now("nouvelle")

    wait_until(lambda: polls.count("nouvelle") == 1)
    assert scheduler.next_poll("nouvelle") is not None


def test_a_failing_poll_is_logged_and_polling_goes_on(
    schedulers: list[PollScheduler], caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[str] = []

    def broken(login: str) -> None:
        attempts.append(login)
        raise RuntimeError("poll blew up")

    scheduler = PollScheduler(broken, interval=HOUR)
    schedulers.append(scheduler)
    with caplog.at_level(logging.ERROR, logger="bot.services.scheduler"):
        scheduler.start(["boutique"])
        wait_until(lambda: any("poll blew up" in record.getMessage() for record in caplog.records))
        scheduler.poll_now("boutique")
        wait_until(lambda: len(attempts) == 2)

    assert scheduler.running
    assert any(record.getMessage().startswith(f"job {poll_job_id('boutique')} failed") for record in caplog.records)


def test_shutdown_lets_the_running_poll_finish(polls: RecordingPolls, schedulers: list[PollScheduler]) -> None:
    scheduler = new_scheduler(schedulers, polls)
    polls.hold.clear()
    scheduler.start(["boutique"])
    assert polls.started.wait(5)
    finished_when_shutdown_returned: list[bool] = []

    def shut_down() -> None:
        scheduler.shutdown()
        finished_when_shutdown_returned.append(polls.finished.is_set())

    stopping = threading.Thread(target=shut_down)
    stopping.start()
    wait_until(lambda: not scheduler.running)  # no new poll starts from here on
    stopping.join(timeout=0.5)  # time enough for a shutdown that does not wait to return
    assert stopping.is_alive()  # ...but shutdown is still waiting for the running poll
    polls.hold.set()
    stopping.join(timeout=5)

    assert not stopping.is_alive()
    assert finished_when_shutdown_returned == [True]
    assert polls.calls == ["boutique"]


def test_shutdown_of_a_scheduler_never_started_is_harmless(polls: RecordingPolls) -> None:
    scheduler = PollScheduler(polls, interval=HOUR)
    scheduler.shutdown()
    assert not scheduler.running


# ------------------------------------------------------------------------------------------ stopping for good


def test_stop_polling_removes_every_poll_and_keeps_maintenance(
    paused: list[BackgroundScheduler], polls: RecordingPolls, schedulers: list[PollScheduler]
) -> None:
    scheduler = new_scheduler(schedulers, polls, maintenance=lambda: None)
    scheduler.start(["boutique", "autre"])
    assert scheduler.polling

    scheduler.stop_polling()
    scheduler.add_account("nouvelle")  # /rakuten connect after the stop
    scheduler.poll_now("boutique")

    assert [job.id for job in paused[0].get_jobs()] == [MAINTENANCE_JOB_ID]
    assert scheduler.next_poll("boutique") is None
    assert scheduler.running
    assert not scheduler.polling


# ------------------------------------------------------------------------------------------ overrun


def test_a_poll_longer_than_the_interval_is_one_clear_warning_not_one_per_skipped_run(
    polls: RecordingPolls, schedulers: list[PollScheduler], caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = new_scheduler(schedulers, polls, interval=0.1)
    polls.hold.clear()  # the first poll runs until released: every run due meanwhile is skipped
    with caplog.at_level(logging.DEBUG):
        scheduler.start(["boutique"])
        wait_until(lambda: sum("skipped a run" in record.getMessage() for record in caplog.records) >= 3)
        runs_while_held = polls.count("boutique")
        polls.hold.set()

    warnings = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert [record.getMessage() for record in warnings] == [
        "polling boutique: a poll was due while the previous one was still running, so it was skipped; a poll "
        "takes longer than the poll interval (RAKUTEN_POLL_SECONDS=0.1), so polls run less often than it says: "
        "raise it"
    ]
    assert not any("maximum number of running instances" in record.getMessage() for record in caplog.records)
    assert runs_while_held == 1  # the skipped runs never started a second poll
