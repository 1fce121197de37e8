"""One short log line per kind of refused request and per interval, however many arrive.

Anyone can post to a public Request URL: logging every refusal (let alone its body) lets a stranger fill the
disk. The line names the reason and how many more were refused since the last line, never the body.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.slack.request_guard import Rejection

DEFAULT_INTERVAL = 60.0


@dataclass
class _Tally:
    last_logged: float
    unlogged: int = 0


class RejectionLog:
    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval = interval
        self._clock = clock
        self._tallies: dict[Rejection, _Tally] = {}
        self._lock = threading.Lock()

    def record(self, rejection: Rejection) -> None:
        now = self._clock()
        with self._lock:
            tally = self._tallies.get(rejection)
            if tally is not None and now - tally.last_logged < self._interval:
                tally.unlogged += 1
                return
            earlier = tally.unlogged if tally is not None else 0
            self._tallies[rejection] = _Tally(last_logged=now)
        if earlier:
            self._logger.warning(
                "refused a request (%d): %s; %d more since the last such line",
                rejection.status,
                rejection.reason,
                earlier,
            )
        else:
            self._logger.warning("refused a request (%d): %s", rejection.status, rejection.reason)

    def flush(self) -> None:
        """Log the refusals counted but not logged yet (at shutdown)."""
        with self._lock:
            pending = [(rejection, tally.unlogged) for rejection, tally in self._tallies.items() if tally.unlogged]
            for rejection, _ in pending:
                self._tallies[rejection].unlogged = 0
        for rejection, count in pending:
            self._logger.warning(
                "refused %d more requests (%d) since the last such line: %s", count, rejection.status, rejection.reason
            )
