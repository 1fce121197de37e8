"""After sale: what one to-do poll costs with 0, 10 and 200 items to handle, and how long a buyer message takes from
Rakuten to the card's thread with a 2-second to-do interval.

    python bench/after_sale.py [--samples 10] [--interval 2] [--quick]
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Distribution, Table, local_stack, make_parser, parse, timed

from bot.constants import AFTER_SALE_EVENT_TYPE
from devkit.local_stack import LOGIN, LocalStack


def _orders(stack: LocalStack, count: int) -> list[str]:
    itemids = []
    for _ in range(count):
        purchaseid = stack.simulator.add_sale(LOGIN, new=False)
        itemids.append(stack.simulator.sale(purchaseid).items[0].itemid)
    stack.poll()  # every order has its card before anything is measured
    return itemids


def _thread_post(stack: LocalStack, itemid: str) -> float | None:
    for call in stack.slack.calls_to("chat.postMessage"):
        metadata = call.params.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        payload = (metadata or {}).get("event_payload") or {}
        if (metadata or {}).get("event_type") == AFTER_SALE_EVENT_TYPE and f":{itemid}:" in str(payload.get("entry")):
            return call.at
    return None


def cost(table: Table, waiting: int, orders: int) -> None:
    with local_stack(post_interval=0.0) as stack:
        itemids = _orders(stack, orders)
        for itemid in itemids[:waiting]:
            stack.simulator.buyer_writes(itemid, "Bonjour, où en est ma commande ?")
        rakuten, slack = len(stack.simulator.requests), len(stack.slack.calls)
        report, seconds = timed(stack.todo_poll)
        first = (len(stack.simulator.requests) - rakuten, len(stack.slack.calls) - slack, seconds)
        polls, total = 1, seconds
        while any(stack.simulator.unread_count(itemid) for itemid in itemids[:waiting]) and polls < 20:
            _report, seconds = timed(stack.todo_poll)
            polls, total = polls + 1, total + seconds
        table.add(
            f"{waiting} items to handle ({orders} open orders)",
            first[0],
            first[1],
            round(first[2] * 1000, 1),
            polls,
            round(total * 1000, 1),
            report.posted,
        )


def latency(samples: int, interval: float, rng: random.Random) -> list[float]:
    with local_stack(post_interval=0.0) as stack:
        stack.options = replace(stack.options, todo_poll_seconds=interval)
        stack.stop_app()
        stack.start_app()
        itemids = _orders(stack, samples)
        stack.bot.start_polling()
        pause = threading.Event()  # never set: its wait() is the random delay before each message
        measured = []
        for itemid in itemids:
            pause.wait(rng.uniform(0, interval))
            appeared = time.time()
            stack.simulator.buyer_writes(itemid, "Une question")
            stack.slack.wait_for(lambda i=itemid: _thread_post(stack, i) is not None, timeout=3 * interval + 10)
            posted = _thread_post(stack, itemid)
            assert posted is not None
            measured.append(posted - appeared)
        return measured


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument("--samples", type=int, default=10, help="buyer messages, one at a time (default 10)")
    parser.add_argument("--interval", type=float, default=2.0, help="to-do poll interval in seconds (default 2)")
    parser.add_argument("--orders", type=int, default=200, help="open orders (default 200)")
    args = parse(parser, argv, {"samples": 3, "interval": 0.5, "orders": 20})
    table = Table(
        "To-do poll cost (the first poll; the default budget reads 50 items per poll, the rest on the next ones)",
        ["items", "Rakuten calls", "Slack calls", "first poll ms", "polls to drain", "all polls ms", "posted (first)"],
    )
    for waiting in (0, 10, min(200, args.orders)):
        cost(table, waiting, args.orders)
    print(table.render())
    samples = latency(args.samples, args.interval, random.Random(args.seed))
    dist = Distribution.of(samples)
    print(
        f"\nBuyer message at Rakuten -> in the card's thread, to-do poll every {args.interval:g} s "
        f"({len(samples)} samples): p50 {dist.p50:.2f} s, p90 {dist.p90:.2f} s, max {dist.maximum:.2f} s "
        f"(expected: a mean wait of {args.interval / 2:g} s for the next poll, plus the poll)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
