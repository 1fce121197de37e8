"""Leases on the bot's background work: which process polls an account now, when each account's next poll is due,
and who may send an item's pending action to Rakuten.

One interface (``WorkLeases``), two implementations:

- ``LocalLeases`` (here), beside the embedded store: one process per data directory, so the schedule and the
  holds live in this process's memory, exactly as the in-process scheduling did before replicas existed. Nothing
  from an earlier run is alive: ``alone`` is True, so work an earlier run left half-done is resumed at once.
- ``PostgresLeases`` (``bot.store.postgres_work``), beside the PostgreSQL store: the schedule is a table that every
  replica reads, and a hold is a PostgreSQL session advisory lock, which the server releases the moment the
  process that took it dies (``kill -9`` included), so a dead replica's accounts are free for the others at once.

A *hold* is exclusive while its holder lives; it is what keeps two polls of one account, or two tries of one
item's action, from ever running at the same time, whichever processes they run in.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.domain.accounts import PollHealth

# The longest the embedded dispatcher sleeps with nothing due (a safety net: every change wakes it anyway).
LOCAL_MAX_WAIT = 60.0


# A periodic job is run again once this share of its period has passed since the last run began, anywhere: the
# replicas' timers fire at their own moments, and a replica that just missed the mark must not skip a whole period.
PERIODIC_SLACK = 0.9


def poll_key(login: str) -> str:
    """The hold on one account's polls (and on posting its cards)."""
    return f"poll:{login}"


def new_replica_id() -> str:
    """This process's name in the leases: unique per start, so a restarted process never mistakes an earlier
    run's work for its own."""
    return uuid.uuid4().hex[:12]


@dataclass(frozen=True, slots=True)
class PollLease:
    """One account's poll, claimed by this process: it is held until ``release``.

    ``next_due`` is when the account's next poll was scheduled at the claim (one interval after it); ``health`` is
    the account's polling health as the replica that polled it last left it (PostgreSQL), None where this
    process's own memory is the only record (embedded).
    """

    login: str
    next_due: datetime
    health: PollHealth | None = None


class WorkLeases(Protocol):
    @property
    def replica(self) -> str:
        """This process's id (see ``new_replica_id``)."""
        ...

    @property
    def alone(self) -> bool:
        """True when no other live process can share this work (the embedded store's exclusive lock)."""
        ...

    @property
    def shares_health(self) -> bool:
        """True when polling health travels with the lease (several processes poll the same accounts)."""
        ...

    # --- the poll schedule ---------------------------------------------------------------------------------------

    def schedule(self, login: str, *, now: bool) -> None:
        """Put the account on the schedule. ``now``: its next poll is due at once (a connect, "poll now"); else due
        at once only if it had no schedule yet (a process starting keeps the schedule others follow)."""
        ...

    def unschedule(self, login: str) -> None: ...

    def claim_due(self, limit: int, interval: float) -> list[PollLease]:
        """Hold up to ``limit`` accounts whose poll is due and that nobody is polling; each one's next poll is
        scheduled ``interval`` seconds from now."""
        ...

    def release(self, lease: PollLease, interval: float, health: PollHealth | None = None) -> bool:
        """The poll is over: let go of the account, keep its ``health`` (where shared). True when the poll overran
        its interval: the next poll, due while it ran, is moved to the next whole interval from its schedule."""
        ...

    def next_due(self, login: str) -> datetime | None: ...

    def wait_hint(self) -> float:
        """How long the dispatcher may sleep before asking ``claim_due`` again (it is also woken by local changes)."""
        ...

    def shared_health(self) -> dict[str, PollHealth] | None:
        """Every account's polling health as the replicas left it; None where it is not shared."""
        ...

    def claim_periodic(self, job: str, every: float) -> bool:
        """True when this process is to run ``job`` now: nobody started it in the last ``every`` seconds (a little
        less: replicas' timers drift). Jobs that need doing once per period, not once per replica."""
        ...

    # --- holds on other work --------------------------------------------------------------------------------------

    def try_hold(self, key: str) -> bool:
        """Hold ``key`` (e.g. one item's action) unless someone holds it; False at once otherwise."""
        ...

    def release_hold(self, key: str) -> None: ...

    # --- state -----------------------------------------------------------------------------------------------------

    def database_problem(self) -> str | None:
        """Why the database cannot be reached right now (one line), or None (always None without a database)."""
        ...

    @property
    def healthy(self) -> bool:
        """The last claim reached the leases (False while the database is out of reach)."""
        ...

    def close(self) -> None:
        """Let go of every hold (the process is stopping)."""
        ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Entry:
    due: datetime
    polling: bool = False


class LocalLeases:
    """``WorkLeases`` in this process's memory, for the embedded store (one process per data directory)."""

    def __init__(self, *, clock: Callable[[], datetime] = _utc_now, replica: str | None = None) -> None:
        self._clock = clock
        self._replica = replica or new_replica_id()
        self._lock = threading.Lock()
        self._schedule: dict[str, _Entry] = {}
        self._holds: set[str] = set()

    @property
    def replica(self) -> str:
        return self._replica

    @property
    def alone(self) -> bool:
        return True

    @property
    def shares_health(self) -> bool:
        return False

    @property
    def healthy(self) -> bool:
        return True

    def schedule(self, login: str, *, now: bool) -> None:
        with self._lock:
            entry = self._schedule.get(login)
            if entry is None:
                self._schedule[login] = _Entry(self._clock())
            elif now:
                entry.due = min(entry.due, self._clock())

    def unschedule(self, login: str) -> None:
        with self._lock:
            self._schedule.pop(login, None)

    def claim_due(self, limit: int, interval: float) -> list[PollLease]:
        now = self._clock()
        claimed: list[PollLease] = []
        with self._lock:
            due = sorted(
                (entry.due, login) for login, entry in self._schedule.items() if entry.due <= now and not entry.polling
            )
            for _, login in due[: max(limit, 0)]:
                entry = self._schedule[login]
                entry.polling = True
                entry.due = now + timedelta(seconds=interval)
                claimed.append(PollLease(login, entry.due))
        return claimed

    def release(self, lease: PollLease, interval: float, health: PollHealth | None = None) -> bool:
        with self._lock:
            entry = self._schedule.get(lease.login)
            if entry is None:
                return False  # unscheduled while it was polled (disconnected)
            entry.polling = False
            now = self._clock()
            if entry.due != lease.next_due or entry.due > now:
                return False  # on time, or brought forward meanwhile ("poll now"): keep it
            entry.due = next_slot(entry.due, now, interval)
            return True

    def next_due(self, login: str) -> datetime | None:
        with self._lock:
            entry = self._schedule.get(login)
            return entry.due if entry is not None else None

    def wait_hint(self) -> float:
        with self._lock:
            waiting = [entry.due for entry in self._schedule.values() if not entry.polling]
        if not waiting:
            return LOCAL_MAX_WAIT
        return min(max((min(waiting) - self._clock()).total_seconds(), 0.0), LOCAL_MAX_WAIT)

    def shared_health(self) -> dict[str, PollHealth] | None:
        return None

    def claim_periodic(self, job: str, every: float) -> bool:
        return True  # the only process: its own timer is the period

    def try_hold(self, key: str) -> bool:
        with self._lock:
            if key in self._holds:
                return False
            self._holds.add(key)
            return True

    def release_hold(self, key: str) -> None:
        with self._lock:
            self._holds.discard(key)

    def database_problem(self) -> str | None:
        return None

    def close(self) -> None:
        with self._lock:
            self._holds.clear()


def next_slot(due: datetime, now: datetime, interval: float) -> datetime:
    """The first moment after ``now`` on ``due``'s rhythm of ``interval`` seconds: a poll that overran skips the
    runs that fell due while it ran, as a fixed-rate schedule does, instead of running them back to back."""
    step = timedelta(seconds=interval)
    missed = int((now - due) / step) + 1
    return due + missed * step
