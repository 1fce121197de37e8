"""PollScheduler: each account polled on its schedule, the first poll at once, never two polls of one account at a
time, an overrun said once, a shutdown that lets the running poll finish; periodic jobs on APScheduler.

First with this process's own leases (the embedded store), then with PostgreSQL's: schedulers sharing one schema
are replicas, and each account's polls run on one of them at a time, with its health handed from one to the next.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.domain.accounts import FailureKind, PollFailure
from bot.services.poll_health import PollHealthBoard
from bot.services.scheduler import MAINTENANCE_HOURS, MAINTENANCE_JOB_ID, PollScheduler, poll_job_id
from bot.store.postgres_store import PostgresStore
from bot.store.postgres_work import PostgresLeases
from devkit.local_stack import wait_until
from tests import factories
from tests.postgres import end_session

HOUR = 3600.0


@dataclass(frozen=True)
class Run:
    login: str
    started: float
    ended: float
    by: str = ""


class RecordingPolls:
    """A poll function that records each call (start and end) and can be held until released."""

    def __init__(self, by: str = "") -> None:
        self.by = by
        self.calls: list[str] = []
        self.runs: list[Run] = []
        self.lock = threading.Lock()
        self.hold = threading.Event()
        self.hold.set()
        self.started = threading.Event()
        self.finished = threading.Event()
        self.before: Callable[[str], None] = lambda _login: None

    def __call__(self, login: str) -> None:
        started = time.monotonic()
        with self.lock:
            self.calls.append(login)
        self.before(login)
        self.started.set()
        self.hold.wait(10)
        with self.lock:
            self.runs.append(Run(login, started, time.monotonic(), self.by))
        self.finished.set()

    def count(self, login: str) -> int:
        with self.lock:
            return self.calls.count(login)


def overlapping(runs: list[Run]) -> list[tuple[Run, Run]]:
    """Pairs of runs of one account that were under way at the same time."""
    by_login: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        by_login[run.login].append(run)
    found = []
    for login_runs in by_login.values():
        ordered = sorted(login_runs, key=lambda run: run.started)
        found += [(a, b) for a, b in itertools.pairwise(ordered) if b.started < a.ended]
    return found


@pytest.fixture
def polls() -> RecordingPolls:
    return RecordingPolls()


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[BackgroundScheduler]:
    """The APScheduler instances PollScheduler creates (periodic jobs), to look at their jobs through its API."""
    created: list[BackgroundScheduler] = []

    class Recorded(BackgroundScheduler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            created.append(self)

    monkeypatch.setattr("bot.services.scheduler.BackgroundScheduler", Recorded)
    return created


@pytest.fixture
def paused(monkeypatch: pytest.MonkeyPatch, made: list[BackgroundScheduler]) -> list[BackgroundScheduler]:
    """Like ``made``, but APScheduler starts paused: periodic jobs are scheduled for real and none runs."""
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


# ------------------------------------------------------------------------------------------ polls


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


def test_each_account_is_polled_every_interval(polls: RecordingPolls, schedulers: list[PollScheduler]) -> None:
    scheduler = new_scheduler(schedulers, polls, interval=0.05)
    started = time.monotonic()

    scheduler.start(["boutique-a", "boutique-b"])
    wait_until(lambda: polls.count("boutique-a") >= 5 and polls.count("boutique-b") >= 5)

    # Five polls each: the first at once, four more an interval apart (never faster than the interval).
    assert time.monotonic() - started >= 4 * 0.05
    assert overlapping(polls.runs) == []


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


def test_polls_of_one_account_never_overlap(polls: RecordingPolls, schedulers: list[PollScheduler]) -> None:
    scheduler = new_scheduler(schedulers, polls, interval=0.01)
    polls.hold.clear()
    scheduler.start(["boutique"])
    assert polls.started.wait(5)

    for _ in range(20):
        scheduler.poll_now("boutique")  # asked for again and again while it runs
        scheduler.add_account("boutique")
    assert polls.count("boutique") == 1
    polls.hold.set()
    wait_until(lambda: polls.count("boutique") >= 3)

    assert overlapping(polls.runs) == []


def test_removing_an_account_stops_its_polls(polls: RecordingPolls, schedulers: list[PollScheduler]) -> None:
    scheduler = new_scheduler(schedulers, polls, interval=0.02)
    scheduler.start(["boutique", "autre"])
    wait_until(lambda: polls.count("boutique") >= 1)

    scheduler.remove_account("boutique")
    scheduler.remove_account("never-connected")  # nothing to remove: no error
    removed_at = polls.count("boutique")
    seen = polls.count("autre")
    wait_until(lambda: polls.count("autre") >= seen + 3)

    assert scheduler.next_poll("boutique") is None
    assert scheduler.next_poll("autre") is not None
    assert polls.count("boutique") <= removed_at + 1  # at most the one already claimed when it was removed


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


def test_stop_polling_ends_this_process_s_polls_and_keeps_maintenance(
    paused: list[BackgroundScheduler], polls: RecordingPolls, schedulers: list[PollScheduler]
) -> None:
    scheduler = new_scheduler(schedulers, polls, interval=0.02, maintenance=lambda: None)
    scheduler.start(["boutique", "autre"])
    wait_until(lambda: polls.count("boutique") >= 1 and polls.count("autre") >= 1)
    assert scheduler.polling
    assert scheduler.taking_leases

    scheduler.stop_polling()
    scheduler.add_account("nouvelle")  # /rakuten connect after the stop
    scheduler.poll_now("boutique")
    assert scheduler.wait_idle(5)
    stopped_at = len(polls.calls)
    due = scheduler.leases.next_due("autre")
    assert due is not None
    wait_until(lambda: datetime.now(UTC) > due + timedelta(seconds=0.2))  # its next poll's time, and then some

    assert scheduler.next_poll("boutique") is None
    assert [job.id for job in paused[0].get_jobs()] == [MAINTENANCE_JOB_ID]
    assert scheduler.running
    assert not scheduler.polling
    assert not scheduler.taking_leases
    assert len(polls.calls) == stopped_at
    assert "nouvelle" not in polls.calls


# ------------------------------------------------------------------------------------------ overrun


def test_a_poll_longer_than_the_interval_is_one_clear_warning_not_one_per_skipped_run(
    polls: RecordingPolls, schedulers: list[PollScheduler], caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = new_scheduler(schedulers, polls, interval=0.1)
    polls.hold.clear()  # the first poll runs until released: every run due meanwhile is skipped
    with caplog.at_level(logging.DEBUG):
        scheduler.start(["boutique"])
        assert polls.started.wait(5)
        due = scheduler.next_poll("boutique")
        assert due is not None
        wait_until(lambda: datetime.now(UTC) > due + timedelta(seconds=0.25))  # three runs fell due meanwhile
        runs_while_held = polls.count("boutique")
        gate = threading.Event()
        polls.before = lambda _login: gate.wait(10) if polls.count("boutique") == 2 else None  # the next one too
        polls.hold.set()
        wait_until(lambda: polls.count("boutique") == 2)
        due = scheduler.next_poll("boutique")
        assert due is not None
        wait_until(lambda: datetime.now(UTC) > due + timedelta(seconds=0.1))
        gate.set()
        wait_until(lambda: polls.count("boutique") >= 3)

    warnings = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert [record.getMessage() for record in warnings] == [
        "polling boutique: a poll was due while the previous one was still running, so it was skipped; a poll "
        "takes longer than the poll interval (RAKUTEN_POLL_SECONDS=0.1), so polls run less often than it says: "
        "raise it"
    ]
    assert not any("maximum number of running instances" in record.getMessage() for record in caplog.records)
    assert runs_while_held == 1  # the runs due meanwhile never started a second poll
    assert overlapping(polls.runs) == []


# ------------------------------------------------------------------------------------------ periodic jobs


def test_store_maintenance_runs_daily_starting_now(
    paused: list[BackgroundScheduler], polls: RecordingPolls, schedulers: list[PollScheduler]
) -> None:
    new_scheduler(schedulers, polls, maintenance=lambda: None).start([])

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


@pytest.mark.parametrize(("seconds", "grace"), [(2.0, 30), (45.5, 45), (600.0, 600)])
def test_a_periodic_job_never_overlaps_and_its_misfire_grace_fits_its_interval(
    paused: list[BackgroundScheduler],
    polls: RecordingPolls,
    schedulers: list[PollScheduler],
    seconds: float,
    grace: int,
) -> None:
    scheduler = new_scheduler(schedulers, polls)
    scheduler.add_periodic("follow-up", lambda: None, seconds=seconds)
    scheduler.start([])

    job = paused[0].get_job("follow-up")

    assert job is not None
    assert isinstance(job.trigger, IntervalTrigger)
    assert job.trigger.interval == timedelta(seconds=seconds)
    assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, grace)
    assert job.next_run_time <= datetime.now(UTC) + timedelta(seconds=1)


# ------------------------------------------------------------------------------------------ replicas (PostgreSQL)


@dataclass
class Replica:
    scheduler: PollScheduler
    polls: RecordingPolls
    health: PollHealthBoard
    leases: PostgresLeases


Replicas = Callable[[int, float], list[Replica]]


@pytest.fixture
def replicas(pg_url: str) -> Iterator[Replicas]:
    """``replicas(n, interval)``: n schedulers on one schema with six accounts, each with its own leases (its own
    database session), as n ``rakuten-bot run`` processes would be; not started yet."""
    made: list[Replica] = []
    store = PostgresStore(pg_url)
    for login in LOGINS:
        store.save_account(factories.account(login))

    def build(count: int, interval: float) -> list[Replica]:
        for number in range(count):
            polls = RecordingPolls(by=f"replica-{number}")
            health = PollHealthBoard()
            leases = PostgresLeases(pg_url, recheck=0.02)
            scheduler = PollScheduler(polls, interval=interval, leases=leases, health=health, workers=2)
            made.append(Replica(scheduler, polls, health, leases))
        return made[-count:]

    yield build
    for replica in made:
        replica.polls.hold.set()
        replica.scheduler.shutdown()
        replica.leases.close()
    store.close()


LOGINS = [f"boutique-{number}" for number in range(6)]


def start(replicas: list[Replica]) -> None:
    for replica in replicas:
        replica.scheduler.start(LOGINS)


def stop(replicas: list[Replica]) -> None:
    for replica in replicas:
        replica.scheduler.stop_polling()
    for replica in replicas:
        assert replica.scheduler.wait_idle(5)


def test_replicas_poll_each_account_on_one_replica_at_a_time(replicas: Replicas) -> None:
    interval = 0.1
    three = replicas(3, interval)
    start(three)

    wait_until(lambda: all(sum(r.polls.count(login) for r in three) >= 5 for login in LOGINS), timeout=15)
    stop(three)

    runs = [run for replica in three for run in replica.polls.runs]
    assert overlapping(runs) == []
    assert len({run.by for run in runs}) == 3  # the work was shared
    for login in LOGINS:  # and no account was polled faster than its interval, whoever polled it
        starts = sorted(run.started for run in runs if run.login == login)
        assert min(later - earlier for earlier, later in itertools.pairwise(starts)) > interval / 2


def test_a_replica_that_dies_mid_poll_leaves_its_accounts_to_the_others(replicas: Replicas, pg_url: str) -> None:
    interval = 1.0
    first, second = replicas(2, interval)
    first.polls.hold.clear()  # the first replica's polls hang: it dies in the middle of them
    start([first])
    wait_until(lambda: len(first.polls.calls) == 2)  # both its workers are polling
    start([second])
    held = set(first.polls.calls)

    end_session(pg_url, f"rakuten-bot {first.leases.replica}")  # its database session ends, as with kill -9
    died_at = time.monotonic()

    wait_until(lambda: held <= set(second.polls.calls), timeout=5)
    assert time.monotonic() - died_at < interval + 0.5  # at their next due time: within one interval
    assert set(second.polls.calls) == set(LOGINS)


def test_a_job_for_one_replica_runs_once_per_period_whichever_replica_runs_it(replicas: Replicas) -> None:
    period = 0.3
    runs: list[tuple[str, float]] = []
    three = replicas(3, HOUR)
    for replica in three:
        by = replica.polls.by
        replica.scheduler.add_periodic(
            "follow-up", lambda by=by: runs.append((by, time.monotonic())), seconds=period, one_replica=True
        )
        replica.scheduler.add_periodic(
            "every-replica", lambda by=by: runs.append((f"all-{by}", time.monotonic())), seconds=HOUR
        )
    start(three)

    wait_until(lambda: len([run for run in runs if not run[0].startswith("all-")]) >= 6, timeout=15)
    stop(three)

    shared = sorted(at for by, at in runs if not by.startswith("all-"))
    assert min(later - earlier for earlier, later in itertools.pairwise(shared)) > period * 0.8
    assert sorted(by for by, _ in runs if by.startswith("all-")) == ["all-replica-0", "all-replica-1", "all-replica-2"]


def test_the_polling_health_goes_from_one_replica_to_the_next(replicas: Replicas) -> None:
    seen: list[tuple[str, int]] = []
    three = replicas(3, 0.05)
    for replica in three:

        def count_a_failure(login: str, replica: Replica = replica) -> None:
            if login != "boutique-0":
                return
            health = replica.health.get(login)
            seen.append((replica.polls.by, health.consecutive_failures))
            health.consecutive_failures += 1
            health.last_error = PollFailure(FailureKind.RAKUTEN, "503")
            replica.health.put(login, health)

        replica.polls.before = count_a_failure
    start(three)

    wait_until(lambda: len({by for by, _ in seen}) >= 2 and len(seen) >= 6, timeout=15)
    stop(three)

    # Whichever replica polled it, each poll found the count the previous one left.
    assert [count for _, count in seen] == list(range(len(seen)))
    shared = three[0].leases.shared_health()
    assert shared is not None
    assert shared["boutique-0"].consecutive_failures == len(seen)
