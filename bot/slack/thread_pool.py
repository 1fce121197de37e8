"""Waitress's request thread pool, able to say when every thread is waiting for work.

Waitress counts a thread it has just started as busy until the thread first waits for work, and logs "Task queue
depth is 1" at WARNING for a request that arrives before then. A bot whose health is checked the moment it listens
(a supervisor, a load balancer) would print that warning on a start where nothing is busy: a start-up artefact of
the pool, not load. ``HttpServer`` therefore takes requests only once every thread waits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from waitress.task import ThreadedTaskDispatcher


class _NotingCondition(threading.Condition):
    """The pool's work condition, calling ``before_wait`` (with the lock held) each time a thread waits on it."""

    def __init__(self, lock: threading.Lock, before_wait: Callable[[], None]) -> None:
        super().__init__(lock)
        self._before_wait = before_wait

    def wait(self, timeout: float | None = None) -> bool:
        self._before_wait()
        return super().wait(timeout)


class ThreadPool(ThreadedTaskDispatcher):
    def __init__(self, threads: int) -> None:
        super().__init__()
        self._idle = threading.Condition(self.lock)
        # Set before any thread starts, so that every wait goes through it.
        self.queue_cv = _NotingCondition(self.lock, self._idle.notify_all)
        self.set_thread_count(threads)

    def wait_until_idle(self, timeout: float) -> bool:
        """Whether every thread waits for work, waiting up to ``timeout`` seconds for it."""
        with self.lock:
            return self._idle.wait_for(lambda: self.active_count <= 0, timeout)
