"""Scheduling: each account's polls, through leases (``bot.store.work``), and periodic jobs on APScheduler 3.x (daily
store maintenance, the reminders and daily summary run, the sweep for abandoned actions: ``add_periodic``).

Polls are dispatched from the leases, not from one timer per account: a dispatcher thread claims the accounts whose
poll is due and that nobody polls, up to the free workers, and runs each poll on the pool; when it ends, the lease
is released and the account's next poll is already on the schedule. With the embedded store the leases are this
process's memory (``LocalLeases``): the schedule behaves as before, one poll per account per interval, never two at
once, the first at start. With PostgreSQL (``PostgresLeases``) the schedule and the locks are in the database, so
any number of replicas share the accounts: each poll runs on exactly one of them, and a dead replica's accounts are
polled by the others at their next due time.

A poll that takes longer than the interval makes the next one, due while it ran, wait for the next whole interval
(a fixed rate, as missed runs of a timer are skipped); the bot says so once per account per hour, in its own words:
the interval is shorter than a poll takes.

Periodic jobs keep APScheduler's guarantees: ``max_instances=1`` (never overlapping), ``coalesce`` (a backlog of
missed runs collapses into one) and a misfire grace that fits the interval (APScheduler's default is one second).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor as JobExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot.services.poll_health import PollHealthBoard
from bot.store.base import StoreError
from bot.store.work import LocalLeases, PollLease, WorkLeases

logger = logging.getLogger(__name__)

MAINTENANCE_JOB_ID = "store-maintenance"
MAINTENANCE_HOURS = 24
POLL_JOB_PREFIX = "poll:"
OVERRUN_WARNING_EVERY = 3600.0  # seconds between two "a poll takes longer than the interval" warnings per account
LEASE_FAILURE_WARNING_EVERY = 60.0  # seconds between two "cannot reach the leases" lines
APSCHEDULER_LOGGER = "apscheduler.scheduler"
_SKIPPED_RUN_MESSAGE = 'Execution of job "%s" skipped: maximum number of running instances reached'


def poll_job_id(login: str) -> str:
    return f"{POLL_JOB_PREFIX}{login}"


class PollScheduler:
    def __init__(
        self,
        poll: Callable[[str], object],
        *,
        interval: float,
        maintenance: Callable[[], object] | None = None,
        workers: int = 8,
        monotonic: Callable[[], float] = time.monotonic,
        leases: WorkLeases | None = None,
        health: PollHealthBoard | None = None,
    ) -> None:
        self._poll = poll
        self._interval = interval
        self._maintenance = maintenance
        self._workers = workers
        self._monotonic = monotonic
        self._leases: WorkLeases = leases or LocalLeases()
        self._health = health  # handed over with each lease, where the leases share it (replicas)
        self._lock = threading.Lock()
        self._stopped = False  # polling stopped for good (Slack access revoked); maintenance goes on
        self._closing = threading.Event()
        self._wake = threading.Event()
        self._inflight = 0
        self._idle = threading.Condition(self._lock)
        self._overrun_warned_at: dict[str, float] = {}
        self._lease_failure_warned_at: float | None = None
        self._claiming = False  # the last claim reached the leases
        self._dispatcher: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="poll")
        self._scheduler = BackgroundScheduler(
            executors={"default": JobExecutor(max_workers=4)},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 30},
            timezone=UTC,
        )
        self._scheduler.add_listener(self._on_job_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        quiet_apscheduler_skips()

    @property
    def running(self) -> bool:
        return self._dispatcher is not None and self._dispatcher.is_alive() and not self._closing.is_set()

    @property
    def polling(self) -> bool:
        """The scheduler runs and polling was not stopped."""
        return self.running and not self._stopped

    @property
    def taking_leases(self) -> bool:
        """Polling runs and the last claim reached the leases: this process is taking its share of the polls."""
        return self.polling and self._claiming

    @property
    def leases(self) -> WorkLeases:
        return self._leases

    def start(self, logins: Iterable[str] = ()) -> None:
        """Put every account on the schedule (each one not on it yet due at once) and start dispatching."""
        for login in logins:
            self._schedule(login, now=False)
        if self._maintenance is not None:
            self._scheduler.add_job(
                self._on_one_replica(MAINTENANCE_JOB_ID, self._maintenance, MAINTENANCE_HOURS * 3600),
                "interval",
                hours=MAINTENANCE_HOURS,
                id=MAINTENANCE_JOB_ID,
                replace_existing=True,
                next_run_time=datetime.now(UTC),
            )
        self._scheduler.start()
        self._dispatcher = threading.Thread(target=self._dispatch, name="poll-dispatcher", daemon=True)
        self._dispatcher.start()

    def add_account(self, login: str) -> None:
        """Schedule an account's polls, the first one now (nothing once polling is stopped)."""
        self.poll_now(login)

    def add_periodic(
        self, job_id: str, job: Callable[[], object], *, seconds: float, one_replica: bool = False
    ) -> None:
        """Run ``job`` every ``seconds``, the first time now (before or after ``start``). Its own rules decide what
        is due; a run that finds nothing to do costs a few store reads. ``one_replica``: with replicas, only one of
        them runs it each period (work done for every account, whichever process does it)."""
        self._scheduler.add_job(
            self._on_one_replica(job_id, job, seconds) if one_replica else job,
            "interval",
            seconds=seconds,
            id=job_id,
            name=job_id,
            replace_existing=True,
            next_run_time=datetime.now(UTC),
            misfire_grace_time=max(int(seconds), 30),
        )

    def poll_now(self, login: str) -> None:
        """The account's next poll is due now (scheduling it if it was not)."""
        if self._stopped:
            return
        self._schedule(login, now=True)
        self._wake.set()

    def remove_account(self, login: str) -> None:
        try:
            self._leases.unschedule(login)
        except StoreError as error:
            logger.error("could not take %s off the poll schedule: %s", login, error)

    def stop_polling(self) -> None:
        """Take no more polls in this process; a poll already running finishes.

        For a bot that may no longer call Slack: a poll would fetch orders it cannot post. Store maintenance
        (local retention rules) goes on. The schedule itself stays: it is shared with other replicas, each of which
        learns of the revocation from Slack's own answers.
        """
        with self._lock:
            self._stopped = True

    def next_poll(self, login: str) -> datetime | None:
        if self._stopped:
            return None
        try:
            return self._leases.next_due(login)
        except StoreError:
            return None

    def shutdown(self) -> None:
        """Stop scheduling; a poll already running finishes first, and its lease is released."""
        self._closing.set()
        self._wake.set()
        if self._dispatcher is not None:
            self._dispatcher.join()
        self._pool.shutdown(wait=True)
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def wait_idle(self, timeout: float) -> bool:
        """True once no poll runs (tests and benchmarks)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._inflight == 0, timeout)

    def _on_one_replica(self, job_id: str, job: Callable[[], object], seconds: float) -> Callable[[], None]:
        def run_if_mine() -> None:
            try:
                mine = self._leases.claim_periodic(job_id, seconds)
            except StoreError as error:
                logger.warning("job %s waits for the database: %s", job_id, error)
                return
            if mine:
                job()

        return run_if_mine

    # --- dispatching --------------------------------------------------------------------------------------------------

    def _schedule(self, login: str, *, now: bool) -> None:
        try:
            self._leases.schedule(login, now=now)
        except StoreError as error:
            # The account is scheduled at the next start of any process; meanwhile its polls wait.
            logger.error("could not put %s on the poll schedule: %s", login, error)

    def _dispatch(self) -> None:
        while not self._closing.is_set():
            self._wake.clear()
            if not self._stopped:
                self._claim()
            self._wake.wait(self._leases.wait_hint())

    def _claim(self) -> None:
        with self._lock:
            free = self._workers - self._inflight
        if free <= 0:
            return
        try:
            leases = self._leases.claim_due(free, self._interval)
        except StoreError as error:
            self._claiming = False
            self._warn_lease_failure(error)
            return
        except Exception:  # a bug must not end the dispatcher thread, and with it every poll of this process
            self._claiming = False
            logger.exception("claiming polls failed; the next look tries again")
            return
        self._claiming = True
        for lease in leases:
            with self._lock:
                self._inflight += 1
            self._pool.submit(self._run, lease)

    def _run(self, lease: PollLease) -> None:
        login = lease.login
        try:
            if self._health is not None and lease.health is not None:
                self._health.put(login, lease.health)  # the count of failures and notices where the last poll left it
            self._poll(login)
        except Exception as error:  # a poll's own failures are counted by the poller; this is what escaped it
            logger.error("job %s failed: %s", poll_job_id(login), error, exc_info=error)
        finally:
            self._release(lease)

    def _release(self, lease: PollLease) -> None:
        shared = self._health.get(lease.login) if self._health is not None and self._leases.shares_health else None
        try:
            overran = self._leases.release(lease, self._interval, shared)
        except StoreError as error:
            overran = False
            logger.warning("could not release the poll of %s (%s); its lease ends with the session", lease.login, error)
        except Exception:  # a pool thread's exception would go unseen: say it
            overran = False
            logger.exception("releasing the poll of %s failed", lease.login)
        finally:
            with self._lock:
                self._inflight -= 1
                self._idle.notify_all()
            self._wake.set()  # a worker is free: claim what is due
        if overran:
            self._warn_overrun(lease.login)

    def _warn_overrun(self, login: str) -> None:
        now = self._monotonic()
        with self._lock:
            last = self._overrun_warned_at.get(login)
            repeated = last is not None and now - last < OVERRUN_WARNING_EVERY
            if not repeated:
                self._overrun_warned_at[login] = now
        if repeated:
            logger.debug("polling %s: a poll was due while the previous one was still running", login)
            return
        logger.warning(
            "polling %s: a poll was due while the previous one was still running, so it was skipped; a poll takes "
            "longer than the poll interval (RAKUTEN_POLL_SECONDS=%s), so polls run less often than it says: raise it",
            login,
            f"{self._interval:g}",
        )

    def _warn_lease_failure(self, error: StoreError) -> None:
        now = self._monotonic()
        last = self._lease_failure_warned_at
        if last is not None and now - last < LEASE_FAILURE_WARNING_EVERY:
            logger.debug("cannot claim polls: %s", error)
            return
        self._lease_failure_warned_at = now
        logger.error("cannot claim polls (this replica polls nothing until it can): %s", error)

    @staticmethod
    def _on_job_event(event: JobExecutionEvent) -> None:
        if event.exception is not None:
            logger.error("job %s failed: %s", event.job_id, event.exception, exc_info=event.exception)
        else:
            logger.warning("job %s missed its run time", event.job_id)


class _SkippedRunFilter(logging.Filter):
    """Drops APScheduler's own line for a skipped run of a periodic job: it warns on every skip without saying what
    to do, and a periodic job still running when its next run is due simply runs again at the one after."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_SKIPPED_RUN_MESSAGE)


def quiet_apscheduler_skips() -> None:
    """Install the filter on APScheduler's logger (idempotent); a level cannot drop one message alone."""
    apscheduler_logger = logging.getLogger(APSCHEDULER_LOGGER)
    if not any(isinstance(existing, _SkippedRunFilter) for existing in apscheduler_logger.filters):
        apscheduler_logger.addFilter(_SkippedRunFilter())
