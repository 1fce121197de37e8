"""Background work after a Slack ack: run now on a small pool, or later (retry after an outage, after a quota).

Slack wants an answer within 3 seconds and a Rakuten call may take longer (and may need retrying for an hour
through an outage), so Rakuten work requested from Slack runs here. Jobs are plain callables; what must
survive a restart (the pending action) lives in the store, and is re-submitted at start.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

logger = logging.getLogger(__name__)


class BackgroundRunner:
    def __init__(
        self, *, workers: int = 4, name: str = "rakuten-action", clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._clock = clock
        self._lock = threading.Condition()
        self._delayed: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._closed = False
        self._inflight = 0
        self._timer = threading.Thread(target=self._release_due, name=f"{name}-timer", daemon=True)
        self._timer.start()

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            if self._closed:
                logger.warning("background runner closed; job dropped (its pending state resumes at next start)")
                return
            self._inflight += 1
        self._pool.submit(self._run, job)

    def submit_later(self, delay: float, job: Callable[[], None]) -> None:
        with self._lock:
            if self._closed:
                return
            heapq.heappush(self._delayed, (self._clock() + max(delay, 0.0), next(self._order), job))
            self._lock.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once nothing runs and nothing is due within ``timeout`` (for the demo and tests)."""
        deadline = self._clock() + timeout
        with self._lock:
            while self._inflight or (self._delayed and self._delayed[0][0] <= deadline):
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return False
                self._lock.wait(min(remaining, 0.05))
            return True

    def close(self, *, wait: bool = True) -> None:
        """Stop taking work; running jobs finish. Delayed jobs are dropped: their state is in the store."""
        with self._lock:
            self._closed = True
            self._delayed.clear()
            self._lock.notify_all()
        self._pool.shutdown(wait=wait)

    def _run(self, job: Callable[[], None]) -> None:
        try:
            job()
        except Exception:  # a job must never kill the worker; it logs and the pending state stays visible
            logger.exception("background job failed")
        finally:
            with self._lock:
                self._inflight -= 1
                self._lock.notify_all()

    def _release_due(self) -> None:
        while True:
            with self._lock:
                while not self._closed and (not self._delayed or self._delayed[0][0] > self._clock()):
                    timeout = self._delayed[0][0] - self._clock() if self._delayed else None
                    self._lock.wait(timeout)
                if self._closed:
                    return
                _, _, job = heapq.heappop(self._delayed)
            self.submit(job)
