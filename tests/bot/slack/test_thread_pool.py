"""The request thread pool tells when every thread waits for work, so the server takes requests only then and
waitress has no reason to warn "Task queue depth" on a start where nothing is busy."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from bot.slack.thread_pool import ThreadPool


class Task:
    """What waitress hands its threads: something with ``service()``; this one holds its thread until released."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def service(self) -> None:
        self.started.set()
        self.release.wait(10)


@pytest.fixture
def pool() -> Iterator[ThreadPool]:
    running = ThreadPool(4)
    yield running
    running.shutdown(cancel_pending=True, timeout=5)


def test_a_new_pool_becomes_idle_and_takes_a_task_without_a_queue_warning(
    pool: ThreadPool, caplog: pytest.LogCaptureFixture
) -> None:
    assert pool.wait_until_idle(timeout=5)
    task = Task()

    with caplog.at_level(logging.WARNING, logger="waitress.queue"):
        pool.add_task(task)
        assert task.started.wait(5)
    task.release.set()

    assert [record.getMessage() for record in caplog.records] == []


def test_a_pool_with_a_busy_thread_is_not_idle_until_the_thread_is_done(pool: ThreadPool) -> None:
    assert pool.wait_until_idle(timeout=5)
    task = Task()
    pool.add_task(task)
    assert task.started.wait(5)

    assert not pool.wait_until_idle(timeout=0.05)  # the thread is held by the task: nothing can make it idle

    task.release.set()
    assert pool.wait_until_idle(timeout=5)
