"""Ack latency of the app in HTTP mode, while a poll over 1,000 orders runs; and ship submit -> Rakuten.

    python bench/ack_latency.py [--orders 1000] [--requests 200] [--concurrency 20] [--ship 20] [--quick]

The app serves ``POST /slack/events`` on loopback (waitress, as in production), with requests signed as
Slack signs them. ``requests`` block_actions clicks on order cards (mostly "Show address", some "Mark
shipped", which opens a modal) go out ``concurrency`` at a time from a separate process; each is timed there,
from sending the request to reading the HTTP answer, which is what Slack waits for (it gives up at 3,000 ms).
They run twice: first with nothing else going on (the baseline), then while a second seller account's poll
over ``orders`` fresh orders runs, posting their cards through the same process.

Then, one order at a time: open the Mark shipped modal, submit it (a signed view_submission), and time from
the submit to the simulator receiving ``settrackingpackageinfos`` for the order's items. The baseline is one
``settrackingpackageinfos`` call made directly with RakutenClient.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from _common import Distribution, Table, connect_account, local_stack, make_parser, parse, timed

from bot.constants import ACTION_MARK_SHIPPED, ACTION_SHOW_ADDRESS, VIEW_SHIP
from bot.domain.orders import OrderRef
from bot.services.poller import PollOutcome
from bot.ui.refs import ShipModalMetadata, encode_order_ref
from devkit.local_stack import LOGIN, SELLER, SIGNING_SECRET, TOKEN, LocalStack, wait_until
from devkit.rakuten_simulator.state import ItemState
from devkit.slack_requests import FORM_CONTENT_TYPE, block_actions_body, sign
from rakuten.actions import Action
from rakuten.client import RakutenClient

BUSY_LOGIN = "boutique-affluence"
BUSY_TOKEN = "bench-token-affluence"  # the simulator's account: not a real Rakuten token
BUSY_CHANNEL = "C0ELSEWHERE"
MAX_POLLS = 50  # bound on the background poll loop, however long the clicks take
CARRIER = "Colissimo"
CLIENT_FLAG = "--load-generator-for"
READY = "ready"


@dataclass(frozen=True, slots=True)
class Click:
    purchaseid: str
    action_id: str


@dataclass(frozen=True, slots=True)
class Timing:
    started: float  # monotonic seconds
    ended: float
    status: int

    @property
    def ms(self) -> float:
        return (self.ended - self.started) * 1000


@dataclass(frozen=True, slots=True)
class Signed:
    """A request body as Slack would POST it, with its signature headers."""

    body: bytes
    headers: dict[str, str]


class Clicker:
    """Builds signed block_actions for the channel's cards, as Slack sends them when someone clicks a button."""

    def __init__(self, stack: LocalStack) -> None:
        self._stack = stack
        self._cards = {_purchaseid(card.metadata): card for card in stack.cards()}
        self._payloads = {purchaseid: card.as_payload() for purchaseid, card in self._cards.items()}

    def with_button(self, action_id: str) -> list[str]:
        return [purchaseid for purchaseid, payload in self._payloads.items() if _has_button(payload, action_id)]

    def build(self, click: Click) -> Signed:
        card = self._cards[click.purchaseid]
        slack = self._stack.slack
        body = block_actions_body(
            user_id=SELLER,
            channel_id=card.channel,
            message_ts=card.ts,
            action_id=click.action_id,
            value=encode_order_ref(OrderRef(LOGIN, click.purchaseid)),
            trigger_id=slack.new_trigger_id(),  # built just before sending: a trigger_id lives 3 s
            response_url=slack.new_response_url(card.channel, user_id=SELLER, message_ts=card.ts),
            message=self._payloads[click.purchaseid],
        )
        return Signed(body, {"Content-Type": FORM_CONTENT_TYPE, **sign(SIGNING_SECRET, body)})

    def send_one(self, click: Click) -> Timing:
        signed = self.build(click)
        started = time.monotonic()
        response = httpx.post(self._stack.app_url, content=signed.body, headers=signed.headers, timeout=10.0)
        return Timing(started, time.monotonic(), response.status_code)


class LoadGenerator:
    """Sends batches of requests from a separate process, ``concurrency`` in flight at once.

    Slack's servers are not inside the app's process; a client sharing the app's interpreter would take CPU
    and the GIL from the very requests it times. Times are CLOCK_MONOTONIC, comparable across processes.
    """

    def __init__(self, url: str, concurrency: int) -> None:
        command = [sys.executable, str(Path(__file__).resolve()), CLIENT_FLAG, url, "--concurrency", str(concurrency)]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if self._read() != READY:
            raise RuntimeError("the load generator did not start")

    def send_all(self, requests: Sequence[Signed]) -> list[Timing]:
        batch = [{"body": r.body.decode("ascii"), "headers": r.headers} for r in requests]
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(batch) + "\n")
        self._process.stdin.flush()
        return [Timing(*timing) for timing in json.loads(self._read())]

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _read(self) -> str:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the load generator exited (code {self._process.poll()})")
        return line.strip()


def serve_load(url: str, concurrency: int) -> int:
    """The load generator's side: read a batch per line on stdin, answer its timings on one line of stdout."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(timeout=10.0, limits=limits) as http, ThreadPoolExecutor(max_workers=concurrency) as pool:

        def send(request: dict[str, Any]) -> tuple[float, float, int]:
            body = request["body"].encode("ascii")
            started = time.monotonic()
            response = http.post(url, content=body, headers=request["headers"])
            return started, time.monotonic(), response.status_code

        print(READY, flush=True)
        for line in sys.stdin:
            print(json.dumps(list(pool.map(send, json.loads(line)))), flush=True)
    return 0


class PollLoop:
    """Polls one account back to back in a thread until stopped (at most MAX_POLLS), noting each poll's span."""

    def __init__(self, poll: Callable[[], PollOutcome]) -> None:
        self._poll = poll
        self._stop = threading.Event()
        self.spans: list[tuple[float, float]] = []
        self.outcomes: list[PollOutcome] = []
        self._thread = threading.Thread(target=self._run, name="bench-poll-loop", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=120)

    def _run(self) -> None:
        for _ in range(MAX_POLLS):
            if self._stop.is_set():
                return
            started = time.monotonic()
            self.outcomes.append(self._poll())
            self.spans.append((started, time.monotonic()))


def overlapping(timings: Sequence[Timing], spans: Sequence[tuple[float, float]]) -> int:
    return sum(any(start < t.ended and t.started < end for start, end in spans) for t in timings)


def plan_clicks(clicker: Clicker, count: int, rng: random.Random, shipped_share: float) -> list[Click]:
    addressable = clicker.with_button(ACTION_SHOW_ADDRESS)
    shippable = clicker.with_button(ACTION_MARK_SHIPPED)
    clicks = []
    for _ in range(count):
        if shippable and rng.random() < shipped_share:
            clicks.append(Click(rng.choice(shippable), ACTION_MARK_SHIPPED))
        else:
            clicks.append(Click(rng.choice(addressable), ACTION_SHOW_ADDRESS))
    return clicks


@dataclass(frozen=True, slots=True)
class ShipTiming:
    submit_ack_ms: float
    first_item_ms: float
    all_items_ms: float
    items: int


def ship_one(stack: LocalStack, clicker: Clicker, purchaseid: str, number: int) -> ShipTiming:
    """Open the modal from the card, submit it, and time until Rakuten has tracking for every item."""
    opened = clicker.send_one(Click(purchaseid, ACTION_MARK_SHIPPED))
    if opened.status != 200:
        raise RuntimeError(f"Mark shipped click answered HTTP {opened.status}")
    stack.wait_until(lambda: _ship_view(stack, purchaseid) is not None)
    view = _ship_view(stack, purchaseid)
    assert view is not None
    itemids = {item.itemid for item in stack.simulator.sale(purchaseid).items if item.status is ItemState.ACCEPTED}

    submitted = time.time()
    response, submit_seconds = timed(lambda: stack.submit_ship(view, carrier=CARRIER, tracking=f"6A{number:011d}"))
    if response.status_code != 200 or response.content.strip():
        raise RuntimeError(f"ship submit answered HTTP {response.status_code}: {response.text[:200]}")
    stack.wait_until(lambda: itemids <= {r.params.get("itemid") for r in _tracking_requests(stack)}, timeout=10)
    arrivals = [r.at.timestamp() for r in _tracking_requests(stack) if r.params.get("itemid") in itemids]
    return ShipTiming(
        submit_ack_ms=submit_seconds * 1000,
        first_item_ms=(min(arrivals) - submitted) * 1000,
        all_items_ms=(max(arrivals) - submitted) * 1000,
        items=len(itemids),
    )


def direct_tracking_call(stack: LocalStack, purchaseids: Sequence[str]) -> list[float]:
    """Baseline: milliseconds of one settrackingpackageinfos made straight with RakutenClient (warm)."""
    samples = []
    with RakutenClient(LOGIN, TOKEN, base_url=stack.simulator.url, retry=stack.options.rakuten_retry) as client:
        client.get_item_todo_list()  # opens the connection, as the bot's client is already connected
        for number, purchaseid in enumerate(purchaseids):
            itemid = stack.simulator.sale(purchaseid).items[0].itemid
            _, seconds = timed(
                lambda itemid=itemid, number=number: client.set_tracking(
                    itemid, carrier=CARRIER, tracking_number=f"6B{number:011d}"
                )
            )
            samples.append(seconds * 1000)
    return samples


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument("--orders", type=int, default=1000, help="orders carded, and orders the busy poll reads")
    parser.add_argument("--requests", type=int, default=200, help="block_actions requests per run (default 200)")
    parser.add_argument("--concurrency", type=int, default=20, help="requests in flight at once (default 20)")
    parser.add_argument("--ship", type=int, default=20, help="orders shipped through the modal (default 20)")
    parser.add_argument("--shipped-share", type=float, default=0.1, help="share of Mark shipped clicks (default 0.1)")
    parser.add_argument(CLIENT_FLAG, metavar="URL", help=argparse.SUPPRESS)  # the load generator's own process
    args = parse(parser, argv, {"orders": 20, "requests": 20, "concurrency": 5, "ship": 3})
    if args.load_generator_for:
        return serve_load(args.load_generator_for, args.concurrency)
    rng = random.Random(args.seed)

    with local_stack(seed=args.seed, post_interval=0.0, burst_threshold=args.orders + 1) as stack:
        stack.simulator.generate_sales(LOGIN, args.orders, new=False)
        stack.poll()
        connect_account(stack, BUSY_LOGIN, BUSY_TOKEN, BUSY_CHANNEL)
        stack.simulator.generate_sales(BUSY_LOGIN, args.orders, new=False)

        clicker = Clicker(stack)

        def clicks(count: int) -> list[Signed]:
            return [clicker.build(click) for click in plan_clicks(clicker, count, rng, args.shipped_share)]

        load = LoadGenerator(stack.app_url, args.concurrency)
        try:
            load.send_all(clicks(args.concurrency * 2))  # warm-up: connections, caches, listener threads
            stack.bot.runner.wait_idle()
            quiet = load.send_all(clicks(args.requests))

            loop = PollLoop(lambda: stack.poll(BUSY_LOGIN))
            rakuten_before = len(stack.simulator.requests)
            loop.start()
            # Clicks start once the poll is really under way: it has asked Rakuten for the busy account's sales.
            wait_until(
                lambda: any(r.login == BUSY_LOGIN for r in stack.simulator.requests[rakuten_before:]), timeout=10
            )
            busy = load.send_all(clicks(args.requests))
            loop.stop()
        finally:
            load.close()
        first_poll = loop.outcomes[0]

        shippable = [pid for pid in clicker.with_button(ACTION_MARK_SHIPPED) if _all_accepted(stack, pid)]
        to_ship, direct = shippable[: args.ship], shippable[args.ship : args.ship * 2]
        ships = [ship_one(stack, clicker, pid, number) for number, pid in enumerate(to_ship)]
        direct_ms = direct_tracking_call(stack, direct)

    acks = Table(
        f"Ack latency, HTTP mode: {args.requests} signed block_actions, {args.concurrency} in flight, ms "
        "(Slack gives up at 3,000 ms; target p99 < 100 ms)",
        ["", "n", "p50", "p95", "p99", "max", "mean", "non-200"],
    )
    for label, timings in (
        ("baseline: nothing else running", quiet),
        (f"while a poll over {args.orders:,} new orders runs", busy),
    ):
        dist = Distribution.of([t.ms for t in timings])
        errors = sum(t.status != 200 for t in timings)
        acks.add(label, dist.count, dist.p50, dist.p95, dist.p99, dist.maximum, dist.mean, errors)
    poll_seconds = loop.spans[0][1] - loop.spans[0][0]
    acks.note(
        f"{overlapping(busy, loop.spans)} of {len(busy)} requests overlapped a running poll; the busy account's first "
        f"poll posted {first_poll.cards_posted:,} cards in {poll_seconds:.1f} s ({len(loop.outcomes)} poll(s) in "
        f"all). About {args.shipped_share:.0%} of clicks are Mark shipped (the modal opens after the ack), the rest "
        "Show address (answered through response_url after the ack)."
    )
    acks.note(
        "Requests come from a separate process; the Slack stand-in and the Rakuten simulator share the app's "
        "process and interpreter, so their work (Slack's and Rakuten's side, elsewhere in production) competes "
        "with the app's for the GIL here."
    )
    print(acks.render())
    print()

    ship_table = Table(
        f"Ship submit -> Rakuten received the tracking ({len(ships)} orders, one at a time), ms",
        ["", "n", "p50", "p99", "max", "mean"],
    )
    for label, samples in (
        ("view_submission answered (the ack)", [s.submit_ack_ms for s in ships]),
        ("submit -> first item's settrackingpackageinfos", [s.first_item_ms for s in ships]),
        ("submit -> every item's settrackingpackageinfos", [s.all_items_ms for s in ships]),
        ("baseline: one direct settrackingpackageinfos call", direct_ms),
    ):
        dist = Distribution.of(samples)
        ship_table.add(label, dist.count, dist.p50, dist.p99, dist.maximum, dist.mean)
    ship_table.note(
        f"{sum(s.items for s in ships)} items in {len(ships)} orders, all items of each order shipped at once; "
        "times from the client's submit to the moment the simulator received each request."
    )
    print(ship_table.render())
    return 0


def _purchaseid(metadata: dict[str, Any] | None) -> str:
    return str(((metadata or {}).get("event_payload") or {}).get("purchaseid"))


def _has_button(message: dict[str, Any], action_id: str) -> bool:
    for block in message.get("blocks") or []:
        for element in [*(block.get("elements") or []), block.get("accessory")]:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return True
    return False


def _all_accepted(stack: LocalStack, purchaseid: str) -> bool:
    return all(item.status is ItemState.ACCEPTED for item in stack.simulator.sale(purchaseid).items)


def _ship_view(stack: LocalStack, purchaseid: str) -> dict[str, Any] | None:
    """The newest Mark shipped modal opened for this order, if any."""
    for view in reversed(stack.opened_views(VIEW_SHIP)):
        metadata = ShipModalMetadata.decode(view.get("private_metadata"))
        if metadata is not None and metadata.purchaseid == purchaseid:
            return view
    return None


def _tracking_requests(stack: LocalStack) -> list[Any]:
    return stack.simulator.requests_for(Action.SET_TRACKING.value)


if __name__ == "__main__":
    raise SystemExit(main())
