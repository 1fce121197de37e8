"""Process-wide settings for a long-running bot, applied once by whoever starts the server.

Slack gives an ack 3 seconds and we aim at 100 ms at p99 while a poll renders hundreds of cards in the same
interpreter (bench/ack_latency.py measures it). Two things stood in the way:

- the cyclic garbage collector stops every thread while it scans; with the store's documents in memory, a
  full collection during a busy poll took 45-75 ms. Freezing the heap built at start (modules, the loaded
  store) takes it out of every later scan, and a larger first-generation threshold makes collections rarer;
  memory is still freed by reference counting as usual;
- a CPU-bound poll keeps the GIL for Python's default 5 ms switch interval each time a request thread asks
  for it, and a request asks dozens of times; 1 ms cuts that wait with no measurable cost to the poll.
"""

from __future__ import annotations

import gc
import sys

GEN0_THRESHOLD = 50_000


def settle_heap() -> None:
    """Tune this process for serving Slack requests while polling (call once, after start-up)."""
    sys.setswitchinterval(0.001)
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
