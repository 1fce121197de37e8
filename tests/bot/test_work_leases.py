"""The leases on the bot's background work (``bot.store.work``), on both implementations: this process's memory
(embedded store) and PostgreSQL (replicas). One account's poll is held by one claimant at a time, its next poll is
scheduled at the claim, an overrun keeps the rhythm, and holds on other work exclude each other.

Then what only PostgreSQL has: several processes share the schedule, a dead process's holds are free at once, the
polling health travels with the lease, and the schedule follows the accounts table."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from bot.domain.accounts import FailureKind, PollFailure, PollHealth
from bot.store.postgres_store import PostgresStore
from bot.store.postgres_work import PostgresLeases, reachability_problem
from bot.store.work import LocalLeases, WorkLeases, next_slot
from devkit.local_stack import wait_until
from tests import factories
from tests.postgres import end_session

ROOT = Path(__file__).resolve().parents[2]
HOUR = 3600.0
START = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)


class Harness:
    """Leases of one kind, with accounts to schedule and a way to move time on (the fake clock of the local
    leases; for PostgreSQL, whose clock is the server's, every due time is moved back instead)."""

    def __init__(self, kind: str, pg_url: str | None) -> None:
        self.kind = kind
        self.pg_url = pg_url
        self.now = START
        self.store = PostgresStore(pg_url) if pg_url else None
        self.opened: list[WorkLeases] = []

    def leases(self) -> WorkLeases:
        if self.pg_url is None:
            local = LocalLeases(clock=lambda: self.now)
            self.opened.append(local)
            return local
        return self.pg_leases()

    def pg_leases(self) -> PostgresLeases:
        assert self.pg_url is not None
        made = PostgresLeases(self.pg_url, recheck=0.05)
        self.opened.append(made)
        return made

    def account(self, login: str) -> str:
        if self.store is not None:
            self.store.save_account(factories.account(login))  # the schedule follows the accounts table
        return login

    def advance(self, seconds: float) -> None:
        if self.pg_url is None:
            self.now += timedelta(seconds=seconds)
            return
        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            conn.execute("UPDATE poll_schedule SET due_at = due_at - make_interval(secs => %s)", (seconds,))

    def let_pass(self, moment: datetime) -> None:
        """Until just after ``moment``: the fake clock is set; the server's clock is waited for."""
        if self.pg_url is None:
            self.now = max(self.now, moment + timedelta(milliseconds=1))
            return
        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            wait_until(lambda: conn.execute("SELECT clock_timestamp() > %s", (moment,)).fetchone()[0], timeout=5)

    def close(self) -> None:
        for leases in self.opened:
            leases.close()
        if self.store is not None:
            self.store.close()


@pytest.fixture(params=["local", "postgres"])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    pg_url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    made = Harness(request.param, pg_url)
    yield made
    made.close()


def logins(claimed: list) -> list[str]:
    return sorted(lease.login for lease in claimed)


# ------------------------------------------------------------------------------------------------ the schedule


def test_a_new_account_is_due_at_once_and_held_by_one_claimant(harness: Harness) -> None:
    leases = harness.leases()
    leases.schedule(harness.account("boutique"), now=False)

    first = leases.claim_due(8, HOUR)
    again = leases.claim_due(8, HOUR)

    assert logins(first) == ["boutique"]
    assert again == []  # held, and not due before an hour
    (lease,) = first
    assert lease.next_due == leases.next_due("boutique")


def test_the_next_poll_is_one_interval_after_the_claim(harness: Harness) -> None:
    leases = harness.leases()
    leases.schedule(harness.account("boutique"), now=True)
    (lease,) = leases.claim_due(8, HOUR)
    assert not leases.release(lease, HOUR)

    harness.advance(HOUR - 60)
    assert leases.claim_due(8, HOUR) == []
    harness.advance(61)
    assert logins(leases.claim_due(8, HOUR)) == ["boutique"]


def test_a_held_account_is_not_claimed_again_even_when_due(harness: Harness) -> None:
    interval = 0.3  # PostgreSQL keeps the server's time: this one is let pass for real
    leases = harness.leases()
    leases.schedule(harness.account("boutique"), now=True)
    (lease,) = leases.claim_due(8, interval)

    harness.let_pass(lease.next_due)  # due again while its poll still runs
    assert leases.claim_due(8, interval) == []

    assert leases.release(lease, interval)  # it overran: the runs due meanwhile are skipped...
    assert leases.claim_due(8, interval) == []
    next_due = leases.next_due("boutique")
    assert next_due is not None
    assert (next_due - lease.next_due).total_seconds() % interval == pytest.approx(0, abs=1e-3)
    harness.let_pass(next_due)
    assert logins(leases.claim_due(8, interval)) == ["boutique"]  # ...and the rhythm goes on


def test_a_poll_asked_for_while_one_runs_follows_it(harness: Harness) -> None:
    leases = harness.leases()
    leases.schedule(harness.account("boutique"), now=True)
    (lease,) = leases.claim_due(8, HOUR)

    leases.schedule("boutique", now=True)  # "poll now" while the poll runs: not lost, not doubled
    assert leases.claim_due(8, HOUR) == []
    assert not leases.release(lease, HOUR)
    assert logins(leases.claim_due(8, HOUR)) == ["boutique"]


def test_poll_now_brings_the_next_poll_forward_and_a_start_keeps_the_schedule(harness: Harness) -> None:
    leases = harness.leases()
    leases.schedule(harness.account("boutique"), now=True)
    (lease,) = leases.claim_due(8, HOUR)
    leases.release(lease, HOUR)

    leases.schedule("boutique", now=False)  # another process starting: the schedule stands
    assert leases.claim_due(8, HOUR) == []
    leases.schedule("boutique", now=True)  # "poll now"
    assert logins(leases.claim_due(8, HOUR)) == ["boutique"]


def test_a_claim_takes_no_more_than_the_free_workers(harness: Harness) -> None:
    leases = harness.leases()
    for login in ("a", "b", "c"):
        leases.schedule(harness.account(login), now=True)

    first = leases.claim_due(2, HOUR)
    second = leases.claim_due(2, HOUR)

    assert len(first) == 2
    assert len(second) == 1
    assert logins(first + second) == ["a", "b", "c"]
    assert leases.claim_due(0, HOUR) == []


def test_an_unscheduled_account_is_never_claimed(harness: Harness) -> None:
    leases = harness.leases()
    leases.schedule(harness.account("boutique"), now=True)
    leases.unschedule("boutique")

    assert leases.claim_due(8, HOUR) == []
    assert leases.next_due("boutique") is None


def test_holds_exclude_each_other_until_released(harness: Harness) -> None:
    leases = harness.leases()

    assert leases.try_hold("action:boutique/1/9001")
    assert not leases.try_hold("action:boutique/1/9001")
    assert leases.try_hold("action:boutique/1/9002")
    leases.release_hold("action:boutique/1/9001")
    assert leases.try_hold("action:boutique/1/9001")


def test_a_periodic_job_is_run_once_per_period_across_replicas(harness: Harness) -> None:
    first, second = harness.leases(), harness.leases()

    runs = [first.claim_periodic("follow-up", 60), second.claim_periodic("follow-up", 60)]
    other_job = second.claim_periodic("after-sale", 60)

    if harness.kind == "local":
        assert runs == [True, True]  # one process per store: its own timer is the period
        return
    assert runs == [True, False]
    assert other_job
    with psycopg.connect(harness.pg_url, autocommit=True) as conn:  # 55 s later: within the slack for drift
        conn.execute("UPDATE periodic_runs SET started_at = started_at - interval '55 seconds'")
    assert second.claim_periodic("follow-up", 60)
    assert not first.claim_periodic("follow-up", 60)


def test_next_slot_skips_the_runs_missed_while_a_poll_ran() -> None:
    assert next_slot(START, START + timedelta(minutes=25), 600) == START + timedelta(minutes=30)
    assert next_slot(START, START, 600) == START + timedelta(minutes=10)


# ------------------------------------------------------------------------------------------------ replicas


@pytest.fixture
def pg_harness(pg_url: str) -> Iterator[Harness]:
    made = Harness("postgres", pg_url)
    yield made
    made.close()


def test_replicas_share_the_schedule_and_never_hold_one_account_twice(pg_harness: Harness) -> None:
    first, second = pg_harness.pg_leases(), pg_harness.pg_leases()
    for login in ("a", "b", "c", "d"):
        first.schedule(pg_harness.account(login), now=False)

    by_first = first.claim_due(2, HOUR)
    by_second = second.claim_due(8, HOUR)

    assert len(by_first) == 2
    assert logins(by_first + by_second) == ["a", "b", "c", "d"]  # each account once
    pg_harness.advance(2 * HOUR)  # all due again while held
    assert first.claim_due(8, HOUR) == []
    assert second.claim_due(8, HOUR) == []
    assert first.pollers() == {lease.login: first.replica for lease in by_first} | {
        lease.login: second.replica for lease in by_second
    }


def test_a_replica_whose_session_ends_frees_its_accounts_at_once(pg_harness: Harness, pg_url: str) -> None:
    first, second = pg_harness.leases(), pg_harness.leases()
    first.schedule(pg_harness.account("boutique"), now=True)
    assert logins(first.claim_due(8, HOUR)) == ["boutique"]
    assert first.try_hold("action:boutique/1/9001")
    pg_harness.advance(HOUR)  # due again: only the hold keeps the other replica away
    assert second.claim_due(8, HOUR) == []
    assert not second.try_hold("action:boutique/1/9001")

    end_session(pg_url, f"rakuten-bot {first.replica}")  # the server ends the first replica's session

    assert logins(second.claim_due(8, HOUR)) == ["boutique"]
    assert second.try_hold("action:boutique/1/9001")


def test_a_poll_left_unfinished_by_a_dead_replica_is_run_again_at_once(pg_harness: Harness, pg_url: str) -> None:
    first, second = pg_harness.pg_leases(), pg_harness.pg_leases()
    first.schedule(pg_harness.account("boutique"), now=True)
    first.schedule(pg_harness.account("autre"), now=True)
    (unfinished,) = first.claim_due(1, HOUR)
    (finished,) = first.claim_due(1, HOUR)
    first.release(finished, HOUR)
    assert second.claim_due(8, HOUR) == []  # one is being polled, the other not due for an hour

    end_session(pg_url, f"rakuten-bot {first.replica}")

    # Not due for an hour, but its poll was cut short: the other replica runs it now. The finished one waits.
    assert logins(second.claim_due(8, HOUR)) == [unfinished.login]


def test_a_process_killed_with_sigkill_holds_nothing(pg_harness: Harness, pg_url: str) -> None:
    """A real process: it claims, says so, and is killed before it can release anything."""
    survivor = pg_harness.leases()
    survivor.schedule(pg_harness.account("boutique"), now=True)
    script = (
        "import sys\n"
        "from bot.store.postgres_work import PostgresLeases, reachability_problem\n"
        "leases = PostgresLeases(sys.argv[1])\n"
        "print(','.join(lease.login for lease in leases.claim_due(8, 3600)), flush=True)\n"
        "sys.stdin.read()\n"
    )
    doomed = subprocess.Popen(
        [sys.executable, "-c", script, pg_url], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert doomed.stdout is not None
        assert doomed.stdout.readline().strip() == "boutique"
        pg_harness.advance(HOUR)
        assert survivor.claim_due(8, HOUR) == []  # held by the live process

        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)

        # The server notices the closed socket by itself: no expiry to wait for.
        wait_until(lambda: bool(survivor.claim_due(8, HOUR)), timeout=5)
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait(timeout=10)


def test_polling_health_travels_with_the_lease(pg_harness: Harness) -> None:
    first, second = pg_harness.leases(), pg_harness.leases()
    first.schedule(pg_harness.account("boutique"), now=True)
    (lease,) = first.claim_due(8, HOUR)
    assert lease.health is None  # never polled
    failing = PollHealth(
        last_attempt_at=START,
        last_error=PollFailure(FailureKind.RAKUTEN, "503"),
        last_error_at=START,
        consecutive_failures=2,
        quota_blocked_until={"getnewsales": START + timedelta(hours=1)},
        quota_notified={"getnewsales": True},
    )
    first.release(lease, HOUR, failing)
    pg_harness.advance(HOUR)

    (taken,) = second.claim_due(8, HOUR)

    assert taken.health == failing
    assert second.shared_health() == {"boutique": failing}


def test_the_schedule_follows_the_accounts_table(pg_harness: Harness) -> None:
    leases = pg_harness.leases()
    assert pg_harness.store is not None

    leases.schedule("never-connected", now=True)  # a stale list of accounts cannot schedule a ghost
    leases.schedule(pg_harness.account("boutique"), now=True)
    pg_harness.store.delete_account("boutique")  # disconnected on another replica

    assert leases.claim_due(8, HOUR) == []
    assert leases.next_due("boutique") is None


def test_the_database_out_of_reach_is_said_in_one_line(pg_harness: Harness) -> None:
    leases = pg_harness.leases()
    assert leases.database_problem() is None
    assert leases.healthy

    problem = reachability_problem("postgresql://postgres@127.0.0.1:9/test")  # nothing listens on port 9

    assert problem is not None
    assert problem.startswith("cannot reach PostgreSQL at 127.0.0.1:9/test: ")
    assert "\n" not in problem
