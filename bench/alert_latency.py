"""Alert latency: from an order appearing on Rakuten to its card reaching Slack, with a 2-second poll interval.

    python bench/alert_latency.py [--samples 10] [--interval 2] [--orders 1000] [--quick]

The bot runs on its real scheduler against the simulator and the Slack stand-in on loopback, with ``orders``
open orders already carded (so every poll reads them all). Each sample adds one new sale at a random moment,
then reads when the stand-in received that order's ``chat.postMessage``. The baseline, from the same run, is
what polling implies: half an interval of waiting on average, plus the duration of one poll that finds one
new order, timed on its own before the scheduler starts.
"""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from _common import Distribution, Table, local_stack, make_parser, parse, timed

from bot.constants import ORDER_EVENT_TYPE
from devkit.local_stack import LOGIN, LocalStack
from devkit.slack_standin import ApiCall
from rakuten.actions import Action


@dataclass(frozen=True, slots=True)
class Sample:
    appeared: float  # epoch seconds: the sale was added to the simulator
    poll_started: float  # the first getnewsales request after that
    card_arrived: float  # the stand-in received the card's chat.postMessage

    @property
    def latency(self) -> float:
        return self.card_arrived - self.appeared

    @property
    def waiting(self) -> float:
        return self.poll_started - self.appeared

    @property
    def delivery(self) -> float:
        return self.card_arrived - self.poll_started


def card_post(stack: LocalStack, purchaseid: str) -> ApiCall | None:
    """The stand-in's record of the chat.postMessage that carried this order's card, if it came."""
    for call in stack.slack.calls_to("chat.postMessage"):
        metadata = call.params.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        if not isinstance(metadata, dict) or metadata.get("event_type") != ORDER_EVENT_TYPE:
            continue
        if (metadata.get("event_payload") or {}).get("purchaseid") == purchaseid:
            return call
    return None


def first_poll_after(stack: LocalStack, moment: float) -> float:
    """When the simulator received the first getnewsales at or after ``moment`` (epoch seconds)."""
    starts = [
        request.at.timestamp()
        for request in stack.simulator.requests_for(Action.GET_NEW_SALES.value)
        if request.at.timestamp() >= moment
    ]
    return min(starts) if starts else moment


def one_new_order_poll(stack: LocalStack) -> float:
    """Seconds of one poll that finds one new order and posts its card (no scheduler running)."""
    purchaseid = stack.simulator.add_sale(LOGIN, new=True)
    outcome, seconds = timed(stack.poll)
    if outcome.cards_posted != 1 or card_post(stack, purchaseid) is None:
        raise RuntimeError(f"the timing poll did not post exactly the new card: {outcome}")
    return seconds


def measure_samples(stack: LocalStack, *, samples: int, interval: float, rng: random.Random) -> list[Sample]:
    pause = threading.Event()  # never set: its wait() is the deliberate random delay before each new order
    measured: list[Sample] = []
    for _ in range(samples):
        pause.wait(rng.uniform(0, interval))
        appeared = time.time()
        purchaseid = stack.simulator.add_sale(LOGIN, new=True)
        stack.slack.wait_for(lambda pid=purchaseid: card_post(stack, pid) is not None, timeout=3 * interval + 10)
        call = card_post(stack, purchaseid)
        assert call is not None
        measured.append(Sample(appeared, first_poll_after(stack, appeared), call.at))
    return measured


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument("--samples", type=int, default=10, help="orders added, one at a time (default 10)")
    parser.add_argument("--interval", type=float, default=2.0, help="poll interval in seconds (default 2)")
    parser.add_argument("--orders", type=int, default=1000, help="open orders every poll reads (default 1000)")
    parser.add_argument("--timing-polls", type=int, default=3, help="polls timed alone for the baseline (default 3)")
    args = parse(parser, argv, {"samples": 3, "interval": 0.5, "orders": 20, "timing_polls": 2})
    rng = random.Random(args.seed)

    with local_stack(seed=args.seed, poll_seconds=args.interval, post_interval=0.0) as stack:
        stack.simulator.generate_sales(LOGIN, args.orders, new=False)
        stack.poll()  # the backlog gets its cards before anything is timed
        poll_seconds = statistics.median(one_new_order_poll(stack) for _ in range(args.timing_polls))
        stack.bot.start_polling()
        samples = measure_samples(stack, samples=args.samples, interval=args.interval, rng=rng)

    latency = Distribution.of([sample.latency for sample in samples])
    waiting = Distribution.of([sample.waiting for sample in samples])
    delivery = Distribution.of([sample.delivery for sample in samples])
    table = Table(
        f"Alert latency: order appears on Rakuten -> its card in Slack (poll every {args.interval:g} s, "
        f"{args.orders:,} open orders read by each poll), seconds",
        ["", "n", "min", "p50", "p90", "max", "mean"],
        decimals=2,
    )

    def add(label: str, dist: Distribution) -> None:
        table.add(label, dist.count, dist.minimum, dist.p50, dist.p90, dist.maximum, dist.mean)

    add("order appears -> card reaches Slack", latency)
    add("  of which: waiting for the next poll", waiting)
    add("  of which: the poll (getnewsales -> card)", delivery)
    table.gap()
    expected_mean = args.interval / 2 + poll_seconds
    table.add(
        "baseline: interval/2 + one poll (expected)",
        None,
        poll_seconds,
        None,
        None,
        args.interval + poll_seconds,
        expected_mean,
    )
    table.note(
        f"Baseline: a poll finding one new order took {poll_seconds:.3f} s (median of {args.timing_polls}, timed "
        f"alone); an order appearing at a uniformly random moment waits {args.interval / 2:g} s on average for the "
        f"next poll, between 0 and {args.interval:g} s, so latency is expected in [{poll_seconds:.2f}, "
        f"{args.interval + poll_seconds:.2f}] s with mean {expected_mean:.2f} s."
    )
    table.note(
        "Slack pacing is off here (post_interval 0). With the production pacing (about 1 s between messages to "
        "one channel) and an interval of 1 s or more, a lone new card is not held back: the previous card went "
        "out a whole poll earlier."
    )
    table.note("Samples (s): " + ", ".join(f"{sample.latency:.2f}" for sample in samples))
    print(table.render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
