"""Waiting in the main thread for SIGTERM or SIGINT, the way ``rakuten-bot run`` is told to stop.

The kernel may hand a process-wide signal to any thread. Python's C-level handler then only flags it for the
main thread, which must wake up to run the Python handler: a main thread blocked on a lock (``Event.wait()``)
may not wake, and the process would ignore SIGTERM until it is killed. So the main thread waits in
``select()`` on a socket that the C-level handler itself writes to (``signal.set_wakeup_fd``), whichever thread
received the signal, and reads which signal came from the bytes written there.
"""

from __future__ import annotations

import select
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    """Between ``install`` and ``uninstall`` (main thread only), SIGTERM and SIGINT end ``wait``."""

    def __init__(self) -> None:
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._received: signal.Signals | None = None
        self._previous_handlers: dict[signal.Signals, object] = {}
        self._previous_wakeup_fd = -1

    def install(self) -> None:
        self._previous_wakeup_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        for signum in STOP_SIGNALS:
            self._previous_handlers[signum] = signal.signal(signum, self._note)

    def uninstall(self) -> None:
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._previous_handlers.clear()
        signal.set_wakeup_fd(self._previous_wakeup_fd)
        self._reader.close()
        self._writer.close()

    @property
    def received(self) -> signal.Signals | None:
        return self._received

    def wait(self) -> signal.Signals:
        """Block until SIGTERM or SIGINT arrives (or arrived since ``install``); return which."""
        while self._received is None:
            select.select([self._reader], [], [])
            self._drain()
        return self._received

    def _drain(self) -> None:
        try:
            written = self._reader.recv(512)
        except BlockingIOError:
            return
        for number in written:
            if number in STOP_SIGNALS:
                self._received = signal.Signals(number)

    def _note(self, signum: int, frame: FrameType | None) -> None:
        # Runs in the main thread once it gets to it; the byte on the wakeup socket has already ended select().
        self._received = signal.Signals(signum)


@contextmanager
def stop_signals() -> Iterator[StopSignals]:
    signals = StopSignals()
    signals.install()
    try:
        yield signals
    finally:
        signals.uninstall()
