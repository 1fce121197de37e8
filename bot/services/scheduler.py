"""APScheduler 3.x wiring: one polling job per account, daily store maintenance, and periodic jobs such as the
reminders and daily summary run (``add_periodic``).

``max_instances=1`` and ``coalesce`` mean a slow poll is never overlapped by the next one and a backlog of
missed runs collapses into one; the misfire grace fits the interval, so a poll delayed by a busy pool still
runs instead of being dropped (APScheduler's default grace is one second).

A poll that takes longer than the interval makes APScheduler skip the runs that fall due meanwhile, with a
warning per skip that does not say what to do. The bot says it once (per account, per hour) in its own words:
the interval is shorter than a poll takes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

logger = logging.getLogger(__name__)

MAINTENANCE_JOB_ID = "store-maintenance"
MAINTENANCE_HOURS = 24
POLL_JOB_PREFIX = "poll:"
OVERRUN_WARNING_EVERY = 3600.0  # seconds between two "a poll takes longer than the interval" warnings per job
APSCHEDULER_LOGGER = "apscheduler.scheduler"
_SKIPPED_RUN_MESSAGE = 'Execution of job "%s" skipped: maximum number of running instances reached'


def poll_job_id(login: str) -> str:
    return f"{POLL_JOB_PREFIX}{login}"


def _login_of(job_id: str) -> str | None:
    return job_id.removeprefix(POLL_JOB_PREFIX) if job_id.startswith(POLL_JOB_PREFIX) else None


class PollScheduler:
    def __init__(
        self,
        poll: Callable[[str], object],
        *,
        interval: float,
        maintenance: Callable[[], object] | None = None,
        workers: int = 8,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._poll = poll
        self._interval = interval
        self._maintenance = maintenance
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._stopped = False  # polling stopped for good (Slack access revoked); maintenance goes on
        self._overrun_warned_at: dict[str, float] = {}
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=workers)},
            job_defaults={
                "max_instances": 1,
                "coalesce": True,
                "misfire_grace_time": max(int(interval), 30),
            },
            timezone=UTC,
        )
        self._scheduler.add_listener(self._on_job_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        self._scheduler.add_listener(self._on_skipped_run, EVENT_JOB_MAX_INSTANCES)
        quiet_apscheduler_skips()

    @property
    def running(self) -> bool:
        return self._scheduler.running

    @property
    def polling(self) -> bool:
        """The scheduler runs and polling was not stopped."""
        return self._scheduler.running and not self._stopped

    def start(self, logins: Iterable[str] = ()) -> None:
        """Start with one job per account; each first poll runs right away."""
        for login in logins:
            self.add_account(login)
        if self._maintenance is not None:
            self._scheduler.add_job(
                self._maintenance,
                "interval",
                hours=MAINTENANCE_HOURS,
                id=MAINTENANCE_JOB_ID,
                replace_existing=True,
                next_run_time=datetime.now(UTC),
            )
        self._scheduler.start()

    def add_account(self, login: str) -> None:
        """Schedule (or reschedule) an account's polls, the first one now (nothing once polling is stopped)."""
        with self._lock:
            if self._stopped:
                return
            self._add_poll_job(login)

    def _add_poll_job(self, login: str) -> None:
        self._scheduler.add_job(
            self._poll,
            "interval",
            seconds=self._interval,
            args=[login],
            id=poll_job_id(login),
            name=f"poll {login}",
            replace_existing=True,
            next_run_time=datetime.now(UTC),
        )

    def add_periodic(self, job_id: str, job: Callable[[], object], *, seconds: float) -> None:
        """Run ``job`` every ``seconds``, the first time now (before or after ``start``). Its own rules decide what
        is due; a run that finds nothing to do costs a few store reads."""
        self._scheduler.add_job(
            job,
            "interval",
            seconds=seconds,
            id=job_id,
            name=job_id,
            replace_existing=True,
            next_run_time=datetime.now(UTC),
            misfire_grace_time=max(int(seconds), 30),
        )

    def poll_now(self, login: str) -> None:
        with self._lock:
            if self._stopped:
                return
            job = self._scheduler.get_job(poll_job_id(login))
            if job is None:
                self._add_poll_job(login)
            else:
                job.modify(next_run_time=datetime.now(UTC))

    def remove_account(self, login: str) -> None:
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(poll_job_id(login))

    def stop_polling(self) -> None:
        """Remove every account's polling job for the rest of the process; a poll already running finishes.

        For a bot that may no longer call Slack: a poll would fetch orders it cannot post. Store maintenance
        (local retention rules) goes on.
        """
        with self._lock:
            self._stopped = True
            for job in self._scheduler.get_jobs():
                if _login_of(job.id) is not None:
                    with contextlib.suppress(JobLookupError):
                        self._scheduler.remove_job(job.id)

    def next_poll(self, login: str) -> datetime | None:
        job = self._scheduler.get_job(poll_job_id(login))
        return job.next_run_time if job is not None else None

    def shutdown(self) -> None:
        """Stop scheduling; a poll already running finishes first."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    @staticmethod
    def _on_job_event(event: JobExecutionEvent) -> None:
        if event.exception is not None:
            logger.error("job %s failed: %s", event.job_id, event.exception, exc_info=event.exception)
        else:
            logger.warning("job %s missed its run time", event.job_id)

    def _on_skipped_run(self, event: JobEvent) -> None:
        login = _login_of(event.job_id)
        now = self._monotonic()
        with self._lock:
            last = self._overrun_warned_at.get(event.job_id)
            repeated = last is not None and now - last < OVERRUN_WARNING_EVERY
            if not repeated:
                self._overrun_warned_at[event.job_id] = now
        if repeated or login is None:
            logger.debug("job %s skipped a run: the previous one is still running", event.job_id)
            return
        logger.warning(
            "polling %s: a poll was due while the previous one was still running, so it was skipped; a poll takes "
            "longer than the poll interval (RAKUTEN_POLL_SECONDS=%s), so polls run less often than it says: raise it",
            login,
            f"{self._interval:g}",
        )


class _SkippedRunFilter(logging.Filter):
    """Drops APScheduler's own line for a skipped run: ``PollScheduler`` says it once, with what to do."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_SKIPPED_RUN_MESSAGE)


def quiet_apscheduler_skips() -> None:
    """Install the filter on APScheduler's logger (idempotent); a level cannot drop one message alone."""
    apscheduler_logger = logging.getLogger(APSCHEDULER_LOGGER)
    if not any(isinstance(existing, _SkippedRunFilter) for existing in apscheduler_logger.filters):
        apscheduler_logger.addFilter(_SkippedRunFilter())
