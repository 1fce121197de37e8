"""``WorkLeases`` on PostgreSQL: the leases that let any number of replicas share one database's work.

The schedule is the ``poll_schedule`` table (``bot/store/migrations/versions/0002_replicas.py``): when each account's
next poll is due, by the database's clock, so the replicas' clocks never need to agree. What makes a poll (or one
try of an item's action) exclusive is a *session advisory lock* taken on this process's own lease connection:

- at most one session holds a given lock, so two replicas never poll one account at the same time, and a poll that
  overruns its interval is not joined by a second one;
- the server releases a session's locks when the session ends, and a process killed with ``kill -9`` ends its
  session at once (the kernel closes its socket), so a dead replica's accounts are free for the others immediately:
  a poll it left unfinished (its "being polled" mark still there, its lock gone) is run again by another replica at
  its next look at the schedule, and its other accounts are polled at their due times; for a replica cut off
  without its socket closing (a network partition), TCP keepalives end the session within about half a minute;
- no timer decides that a live holder is dead: a replica stalled by a long pause keeps its locks, so there is no
  expiry to race against.

A claim takes the account's lock, then, under it, moves the account's due time one interval on with an update that
checks it is still due; whoever got the lock and saw it due polls. The lock is released when the poll is over,
after the next due time and the account's polling health are written, so the next replica to poll it continues the
count of failures and the outage and quota notices where this one left them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.types.json import Jsonb

from bot.domain.accounts import PollHealth
from bot.store.base import StoreError
from bot.store.database_url import describe_database
from bot.store.documents import poll_health_from_doc, to_doc
from bot.store.postgres_schema import with_connect_timeout
from bot.store.work import PERIODIC_SLACK, PollLease, new_replica_id, next_slot, poll_key

logger = logging.getLogger(__name__)

# The server ends the session of a peer that stopped answering (a partition, not a crash) after about
# IDLE + INTERVAL * COUNT seconds, and with it that replica's locks.
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 10, 5, 3
HEALTH_CHECK_TIMEOUT = 3  # seconds; libpq's shortest connect timeout is 2
HEALTH_CHECK_CACHE = 1.0  # seconds a reachability answer is reused (a load balancer may ask many times a second)
DEFAULT_RECHECK = 1.0  # seconds between two looks at the schedule, for accounts other replicas made due
MIN_WAIT = 0.01  # an account due but not claimable (held elsewhere a moment longer) is looked at again this soon

# The lock's key: 64 bits of the schema and the work's name, so that stores in two schemas of one database (the
# tests' way) never exclude each other.
_LOCK = "pg_try_advisory_lock(hashtextextended(current_schema() || '/' || %s, 0))"
_UNLOCK = "pg_advisory_unlock(hashtextextended(current_schema() || '/' || %s, 0))"
_CLAIM_PERIODIC = """
    INSERT INTO periodic_runs AS runs (job, started_at) VALUES (%s, clock_timestamp())
    ON CONFLICT (job) DO UPDATE SET started_at = EXCLUDED.started_at
    WHERE runs.started_at <= clock_timestamp() - make_interval(secs => %s)
    RETURNING started_at
"""
_SCHEDULE_IF_NEW = """
    INSERT INTO poll_schedule (login, due_at) SELECT login, clock_timestamp() FROM accounts WHERE login = %s
    ON CONFLICT (login) DO NOTHING
"""
_SCHEDULE_NOW = """
    INSERT INTO poll_schedule (login, due_at) SELECT login, clock_timestamp() FROM accounts WHERE login = %s
    ON CONFLICT (login) DO UPDATE SET due_at = LEAST(poll_schedule.due_at, EXCLUDED.due_at)
"""


class PostgresLeases:
    """``WorkLeases`` for the PostgreSQL store at ``conninfo`` (the store's ``DATABASE_URL``)."""

    def __init__(
        self,
        conninfo: str,
        *,
        replica: str | None = None,
        recheck: float = DEFAULT_RECHECK,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._replica = replica or new_replica_id()
        self._where = describe_database(conninfo)
        self._conninfo = with_connect_timeout(conninfo)
        self._recheck = recheck
        self._wait = recheck
        self._monotonic = monotonic
        self._lock = threading.Lock()  # one statement sequence at a time on the lease connection
        self._conn: psycopg.Connection[Any] | None = None
        self._held: set[str] = set()
        self._healthy = True
        self._closed = False
        self._checked: tuple[float, str | None] | None = None  # (when, problem) of the last reachability check
        with self._session():
            pass  # connect now: a store that opened but whose leases cannot start is a failed start

    @property
    def replica(self) -> str:
        return self._replica

    @property
    def alone(self) -> bool:
        return False

    @property
    def shares_health(self) -> bool:
        return True

    @property
    def healthy(self) -> bool:
        return self._healthy

    # --- the poll schedule -------------------------------------------------------------------------------------------

    def schedule(self, login: str, *, now: bool) -> None:
        # Only an account that exists gets a row (a foreign key drops it with the account): a replica acting on a
        # stale list of accounts cannot bring a disconnected one back.
        with self._session() as conn:
            conn.execute(_SCHEDULE_NOW if now else _SCHEDULE_IF_NEW, (login,))

    def unschedule(self, login: str) -> None:
        with self._session() as conn:
            conn.execute("DELETE FROM poll_schedule WHERE login = %s", (login,))

    def claim_due(self, limit: int, interval: float) -> list[PollLease]:
        if limit <= 0:
            self._wait = self._recheck  # no free worker: a finished poll wakes the dispatcher
            return []
        claimed: list[PollLease] = []
        with self._session() as conn:
            # Due accounts, and accounts marked as being polled: if such a mark's lock is free, the replica that
            # made it died mid-poll (a live one clears the mark before letting go of the lock), so the poll it
            # left unfinished is run again now rather than at the next due time.
            due = conn.execute(
                "SELECT login FROM poll_schedule WHERE due_at <= clock_timestamp() OR polled_by IS NOT NULL "
                "ORDER BY due_at"
            ).fetchall()
            for (login,) in due:
                if len(claimed) >= limit:
                    break
                key = poll_key(login)
                if key in self._held or not self._take(conn, key):
                    continue  # being polled, here or by another replica
                row = conn.execute(
                    "UPDATE poll_schedule SET due_at = clock_timestamp() + make_interval(secs => %s), polled_by = %s, "
                    "poll_started_at = clock_timestamp() "
                    "WHERE login = %s AND (due_at <= clock_timestamp() OR polled_by IS NOT NULL) "
                    "RETURNING due_at, health",
                    (interval, self._replica, login),
                ).fetchone()
                if row is None:  # polled by another replica between the look and the lock: not due any more
                    self._give_back(conn, key)
                    continue
                due_at, health = row
                claimed.append(PollLease(login, due_at, poll_health_from_doc(health) if health else None))
            self._wait = self._recheck if len(claimed) >= limit else self._until_next_due(conn)
        return claimed

    def release(self, lease: PollLease, interval: float, health: PollHealth | None = None) -> bool:
        key = poll_key(lease.login)
        overran = False
        try:
            with self._session() as conn, conn.transaction():
                row = conn.execute(
                    "SELECT due_at, clock_timestamp() FROM poll_schedule WHERE login = %s FOR UPDATE", (lease.login,)
                ).fetchone()
                if row is not None:
                    due_at, now = row
                    overran = due_at == lease.next_due and due_at <= now
                    conn.execute(
                        "UPDATE poll_schedule SET polled_by = NULL, poll_started_at = NULL, "
                        "health = COALESCE(%s, health), due_at = %s WHERE login = %s",
                        (
                            Jsonb(to_doc(health)) if health is not None else None,
                            next_slot(due_at, now, interval) if overran else due_at,
                            lease.login,
                        ),
                    )
        finally:
            self.release_hold(key)
        return overran

    def next_due(self, login: str) -> datetime | None:
        with self._session() as conn:
            row = conn.execute("SELECT due_at FROM poll_schedule WHERE login = %s", (login,)).fetchone()
        return row[0] if row else None

    def wait_hint(self) -> float:
        """Until the next due time (as of the last claim), at most ``recheck``: other replicas change the schedule
        (poll now, a connect, a poll that ended) and the dispatcher here is not told."""
        return self._wait

    def shared_health(self) -> dict[str, PollHealth] | None:
        with self._session() as conn:
            rows = conn.execute("SELECT login, health FROM poll_schedule WHERE health IS NOT NULL").fetchall()
        return {login: poll_health_from_doc(health) for login, health in rows}

    def pollers(self) -> dict[str, str]:
        """Which replica polls which account right now (login -> replica id), for operators and benchmarks."""
        with self._session() as conn:
            rows = conn.execute("SELECT login, polled_by FROM poll_schedule WHERE polled_by IS NOT NULL").fetchall()
        return dict(rows)

    def claim_periodic(self, job: str, every: float) -> bool:
        with self._session() as conn:
            return conn.execute(_CLAIM_PERIODIC, (job, every * PERIODIC_SLACK)).fetchone() is not None

    # --- holds --------------------------------------------------------------------------------------------------------

    def try_hold(self, key: str) -> bool:
        with self._session() as conn:
            return key not in self._held and self._take(conn, key)

    def release_hold(self, key: str) -> None:
        if key not in self._held:
            return  # never held, or lost with a session that ended (the server let go of it then)
        try:
            with self._session() as conn:
                self._give_back(conn, key)
        except StoreError as error:
            logger.debug("could not release %s (%s): the session's end releases it", key, error)

    # --- state --------------------------------------------------------------------------------------------------------

    def database_problem(self) -> str | None:
        """Whether the database answers a fresh connection, at most once a second (never on the lease connection,
        which a slow statement may be holding up)."""
        now = self._monotonic()
        if self._checked is not None and now - self._checked[0] < HEALTH_CHECK_CACHE:
            return self._checked[1]
        problem = reachability_problem(self._conninfo)
        self._checked = (self._monotonic(), problem)
        return problem

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
            self._held.clear()
        if conn is not None:
            conn.close()  # ends the session: the server releases whatever it still held

    # --- internals ----------------------------------------------------------------------------------------------------

    def _until_next_due(self, conn: psycopg.Connection[Any]) -> float:
        row = conn.execute(
            "SELECT EXTRACT(EPOCH FROM min(due_at) - clock_timestamp()) FROM poll_schedule WHERE polled_by IS NULL"
        ).fetchone()
        if row is None or row[0] is None:
            return self._recheck
        return min(max(float(row[0]), MIN_WAIT), self._recheck)

    def _take(self, conn: psycopg.Connection[Any], key: str) -> bool:
        row = conn.execute(f"SELECT {_LOCK}", (key,)).fetchone()
        taken = bool(row and row[0])
        if taken:
            self._held.add(key)
        return taken

    def _give_back(self, conn: psycopg.Connection[Any], key: str) -> None:
        self._held.discard(key)
        conn.execute(f"SELECT {_UNLOCK}", (key,))

    @contextmanager
    def _session(self) -> Iterator[psycopg.Connection[Any]]:
        """The lease connection, under the lock (connected again after a loss). Database failures are StoreError."""
        with self._lock:
            if self._closed:
                raise StoreError("the leases are closed")
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = self._connect()
                yield self._conn
            except psycopg.Error as error:
                self._healthy = False
                self._lose_session_if_broken()
                raise StoreError(f"{self._where}: {_first_line(error)}") from error
            self._healthy = True

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(
            make_conninfo(self._conninfo, application_name=f"rakuten-bot {self._replica}"), autocommit=True
        )
        for setting, value in (
            ("tcp_keepalives_idle", KEEPALIVE_IDLE),
            ("tcp_keepalives_interval", KEEPALIVE_INTERVAL),
            ("tcp_keepalives_count", KEEPALIVE_COUNT),
        ):
            conn.execute("SELECT set_config(%s, %s, false)", (setting, str(value)))
        return conn

    def _lose_session_if_broken(self) -> None:
        conn = self._conn
        if conn is None or not conn.broken:
            return
        self._conn = None
        if self._held:
            # The server let go of them with the session: another replica may start the same work while this one
            # finishes it. Said once, loudly, since it is the one way a poll can overlap another.
            logger.error(
                "the database session holding %s was lost; other replicas may take that work over while this one "
                "finishes it",
                ", ".join(sorted(self._held)),
            )
        self._held.clear()
        conn.close()


def reachability_problem(conninfo: str) -> str | None:
    """One line saying why a new connection to ``conninfo`` cannot run ``SELECT 1`` (within a few seconds), or None."""
    try:
        with psycopg.connect(make_conninfo(conninfo, connect_timeout=HEALTH_CHECK_TIMEOUT)) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        return f"cannot reach {describe_database(conninfo)}: {_first_line(error)}"
    return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
