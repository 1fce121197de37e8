"""Poll cost: wall time, Rakuten calls and Slack calls of a poll over 1,000 open orders, and of an idle poll.

    python bench/poll.py [--orders 1000] [--new 5] [--repeats 5] [--quick]

Everything runs on loopback: the Rakuten simulator (50 sales a page), the Slack stand-in and the real bot.
The first poll finds every order and posts its card; the idle poll that follows finds nothing new. The
baseline, measured in the same run over the same data, is the raw Rakuten fetch alone (RakutenClient's
getnewsales + every page of getcurrentsales), so what the bot adds on top of the fetch is visible.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from _common import Table, connect_account, counts, local_stack, make_parser, megabytes, parse, peak_memory, timed

from bot.services.poller import PollOutcome
from devkit.local_stack import LOGIN, TOKEN, LocalStack
from rakuten.client import RakutenClient
from rakuten.models import PARIS, Sale

ONE_CARD_EACH = 2000  # a burst threshold above the order count: every card is a top-level message
DEFAULT_BURST = 20  # the bot's default: a bigger burst becomes one summary with the cards in its thread
MEMORY_LOGIN = "boutique-memoire"
MEMORY_TOKEN = "bench-token-memoire"  # the simulator's account: not a real Rakuten token
MEMORY_CHANNEL = "C0ELSEWHERE"


@dataclass(frozen=True, slots=True)
class Measured:
    seconds: float
    rakuten: list[str | None]  # action of each request the simulator received
    slack: list[str]  # method of each Web API call the stand-in received
    peak_bytes: int | None = None
    outcome: PollOutcome | None = None


def measure(stack: LocalStack, action: Callable[[], object], *, trace_memory: bool = False) -> Measured:
    """Run ``action`` once, counting what the simulator and the stand-in received meanwhile."""
    rakuten_before, slack_before = len(stack.simulator.requests), len(stack.slack.calls)
    peak: int | None = None
    if trace_memory:
        (result, seconds), peak = peak_memory(lambda: timed(action))
    else:
        result, seconds = timed(action)
    return Measured(
        seconds=seconds,
        rakuten=[request.action for request in stack.simulator.requests[rakuten_before:]],
        slack=[call.method for call in stack.slack.calls[slack_before:]],
        peak_bytes=peak,
        outcome=result if isinstance(result, PollOutcome) else None,
    )


@dataclass(frozen=True, slots=True)
class Scenario:
    first: Measured
    idle: list[Measured]
    fetch: list[Measured]
    sales_fetched: int
    detail_polls: list[Measured]  # polls after the first that still fetched order details


DETAIL_ACTIONS = frozenset({"getshippinginformation", "getbillinginformation"})
MAX_DETAIL_POLLS = 1000


def run_scenario(
    stack: LocalStack, login: str, token: str, *, orders: int, new: int, repeats: int, trace_memory: bool
) -> Scenario:
    """Fill ``login`` on the simulator, then measure its first poll, idle polls and the raw fetch baseline."""
    stack.simulator.generate_sales(login, orders, new=False)
    stack.simulator.generate_sales(login, new, new=True)
    poll = functools.partial(stack.poll, login)
    first = measure(stack, poll, trace_memory=trace_memory)
    if first.outcome is None or not first.outcome.ok:
        raise RuntimeError(f"the first poll of {login} failed: {first.outcome}")
    # Order details (prepaid labels, totals) come a few orders per poll, to spare Rakuten's hourly quota: poll
    # until that is done, so that the idle polls measured next have nothing at all to do.
    detail_polls: list[Measured] = []
    last = first
    while DETAIL_ACTIONS & set(last.rakuten) and len(detail_polls) < MAX_DETAIL_POLLS:
        last = measure(stack, poll)
        if DETAIL_ACTIONS & set(last.rakuten):
            detail_polls.append(last)
    idle = [measure(stack, poll, trace_memory=trace_memory) for _ in range(repeats)]

    # The baseline fetches what the poller fetches, with the same client settings, on a warm connection
    # as the bot's own client is by now.
    tuning = stack.bot.settings.tuning
    since = (datetime.now(PARIS) - timedelta(days=tuning.lookback_days)).date()
    with RakutenClient(
        login, token, base_url=stack.simulator.url, timeout=tuning.rakuten_timeout, retry=stack.options.rakuten_retry
    ) as client:

        def fetch() -> list[Sale]:
            return [*client.get_new_sales(), *client.get_current_sales(since)]

        sales_fetched = len(fetch())
        fetched = [measure(stack, fetch, trace_memory=trace_memory) for _ in range(repeats)]
    return Scenario(first, idle, fetched, sales_fetched, detail_polls)


def ms(seconds: float) -> float:
    return seconds * 1000


def median_ms(runs: Sequence[Measured]) -> float:
    return ms(statistics.median(run.seconds for run in runs))


def row(table: Table, label: str, run: Measured, wall_ms: float) -> None:
    cards = run.outcome.cards_posted if run.outcome is not None else None
    table.add(label, wall_ms, len(run.rakuten), counts(run.rakuten), len(run.slack), counts(run.slack), cards)


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument("--orders", type=int, default=1000, help="open orders awaiting shipment (default 1000)")
    parser.add_argument("--new", type=int, default=5, help="new sales awaiting acceptance, on top (default 5)")
    parser.add_argument("--repeats", type=int, default=5, help="idle polls and raw fetches timed (default 5)")
    args = parse(parser, argv, {"orders": 30, "new": 2, "repeats": 2})
    total = args.orders + args.new

    sizes = {"orders": args.orders, "new": args.new, "repeats": args.repeats}
    with local_stack(seed=args.seed, post_interval=0.0, burst_threshold=ONE_CARD_EACH) as stack:
        each = run_scenario(stack, LOGIN, TOKEN, **sizes, trace_memory=False)
        # Same shape of data on a second account of the same bot, traced: tracing slows code, so never timed.
        connect_account(stack, MEMORY_LOGIN, MEMORY_TOKEN, MEMORY_CHANNEL)
        memory = run_scenario(stack, MEMORY_LOGIN, MEMORY_TOKEN, **sizes, trace_memory=True)
    with local_stack(seed=args.seed, post_interval=0.0, burst_threshold=DEFAULT_BURST) as stack:
        burst = run_scenario(stack, LOGIN, TOKEN, **sizes, trace_memory=False)

    table = Table(
        f"Poll over {total:,} open orders ({args.orders:,} awaiting shipment + {args.new} to accept), loopback",
        ["", "wall ms", "Rakuten calls", "by action", "Slack calls", "by method", "cards posted"],
    )
    row(table, "first poll, one card per order", each.first, ms(each.first.seconds))
    row(table, f"first poll, burst threshold {DEFAULT_BURST} (summary + thread)", burst.first, ms(burst.first.seconds))
    idle_runs = each.idle + burst.idle
    row(table, f"idle poll, nothing new (median of {len(idle_runs)})", each.idle[0], median_ms(idle_runs))
    table.gap()
    row(table, f"baseline: raw Rakuten fetch alone (median of {args.repeats})", each.fetch[0], median_ms(each.fetch))
    idle_ms, fetch_ms = median_ms(idle_runs), median_ms(each.fetch)
    first_ms = ms(each.first.seconds)
    table.note(
        f"The raw fetch returned {each.sales_fetched:,} sales. The bot's own share: idle poll "
        f"{idle_ms - fetch_ms:,.1f} ms over the fetch (reconcile {total:,} orders against the store); first poll "
        f"{first_ms - fetch_ms:,.1f} ms over it, {(first_ms - fetch_ms) / max(total, 1):,.2f} ms per new order "
        "(build, post and store each card)."
    )
    details = sum(action in DETAIL_ACTIONS for run in [each.first, *each.detail_polls] for action in run.rakuten)
    table.note(
        f"Order details (prepaid labels and totals, {details} calls in all) came a few orders per poll: in the "
        f"first poll and {len(each.detail_polls)} follow-up poll(s) before the idle polls."
    )
    table.note("Slack pacing is off here (post_interval 0); in production cards are spaced ~1 s per channel.")
    print(table.render())
    print()

    memory_table = Table(
        "Peak traced Python memory (tracemalloc, whole process: bot, simulator and Slack stand-in)",
        ["", "peak MB"],
        decimals=1,
    )
    memory_table.add("first poll, one card per order", megabytes(memory.first.peak_bytes or 0))
    memory_table.add("idle poll (max of runs)", megabytes(max(run.peak_bytes or 0 for run in memory.idle)))
    memory_table.add(
        "baseline: raw Rakuten fetch alone (max of runs)", megabytes(max(run.peak_bytes or 0 for run in memory.fetch))
    )
    memory_table.note(
        "Measured on a second account of the same bot with the same amount of data: tracing slows the code, "
        "so these runs are not the timed ones."
    )
    print(memory_table.render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
