"""Ack latency of "Mark shipped" clicks, the bot as its own process, idle and while a poll posts 1,000 cards.

    python bench/ack_latency.py [--orders 1000] [--busy-orders 1000] [--requests 300] [--concurrency 20]
                                [--ship 20] [--profile FILE] [--quick]

Measured as production runs, in three processes on loopback:

- the Rakuten simulator and the Slack stand-in (``python -m devkit.stack_server``): Slack's and Rakuten's
  side, never inside the bot's process in production;
- the bot, ``rakuten-bot run`` in HTTP mode (bench/_bot_process.py: the same ``run``, with Slack's pacing
  off), pointed at them, with a connected account of ``orders`` open orders whose cards it posts at start;
- this script, which signs and sends the requests and times each from sending it to reading the HTTP
  answer: the ack, which Slack waits for (it gives up at 3,000 ms).

Each click is a ``block_actions`` as Slack sends it: the whole card message in ``message``, ``container``,
``channel``, a fresh ``trigger_id`` (minted by the stand-in just before sending: it lives 3 s) and a
``response_url``, signed. The bot acks, then opens the ship modal with ``views.open``. Clicks go in bursts of
``concurrency`` sent at the same instant, as when that many people click at once, each on its own kept
connection; the next burst goes once the bot has opened the last one's modals. (Clicks sent back to back
without that pause would pile up modals to open faster than any bot opens them, until their trigger_ids
expire: no one clicks like that.)

Rows: the baselines (``GET /healthz`` in the same bursts, the floor of the server and of this client; the same
clicks one at a time), then the bursts of clicks with nothing else running, then the same while a second
account, connected through ``/rakuten connect`` as a seller would, has its first poll post ``busy-orders``
cards. For the clicks, the bot's CPU per click and how long each modal took to open are shown too. Then, one
order at a time: open the modal, submit it, and time from the submit to the simulator receiving
``settrackingpackageinfos`` for the order's items; the baseline is one call made directly with RakutenClient.

``--profile FILE`` samples the bot's process with py-spy (``pip install -e '.[profile]'``) while the clicks
run, writes the raw stacks to FILE and prints where the bot's time went; sampling slows the bot, so its
figures are not the ones to quote.
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from _bot_process import BotProcess
from _common import Distribution, Table, make_parser, parse, timed

from bot.constants import (
    ACTION_CARRIER,
    ACTION_LOGIN,
    ACTION_MARK_SHIPPED,
    ACTION_TOKEN,
    ACTION_TRACKING_NUMBER,
    ACTION_TRACKING_URL,
    BLOCK_CARRIER,
    BLOCK_LOGIN,
    BLOCK_TOKEN,
    BLOCK_TRACKING_NUMBER,
    BLOCK_TRACKING_URL,
    COMMAND,
    ORDER_EVENT_TYPE,
    VIEW_CONNECT,
    VIEW_SHIP,
)
from bot.domain.orders import OrderRef
from bot.ui.refs import ShipModalMetadata, encode_order_ref
from devkit.local_stack import ADMIN, CHANNEL, LOGIN, SELLER, SIGNING_SECRET, TOKEN
from devkit.slack_requests import (
    FORM_CONTENT_TYPE,
    SlackRequestSender,
    block_actions_body,
    sign,
    static_select_state,
    text_input_state,
)
from devkit.stack_server import StackServerProcess, bot_environment
from rakuten.actions import Action
from rakuten.client import RakutenClient

BUSY_LOGIN = "boutique-affluence"
BUSY_TOKEN = "bench-token-affluence"  # the simulator's account: not a real Rakuten token
CARRIER = "Colissimo"
DRAIN_TIMEOUT = 60.0  # seconds for the after-ack work (views.open) to finish before the next phase
POLL_TIMEOUT = 300.0
WAIT_STEP = 0.01
# Every card a top-level message, no Slack pacing: the poll's own cost shows (as in bench/poll.py).
BOT_TUNING = {"post_interval": 0.0, "rakuten_timeout": 5.0}


@dataclass(frozen=True, slots=True)
class Card:
    purchaseid: str
    channel: str
    ts: str
    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: str
    body: bytes = b""
    headers: dict[str, str] | None = None
    trigger_id: str | None = None  # a click's, to find the views.open it led to


@dataclass(frozen=True, slots=True)
class Timing:
    started: float  # epoch seconds, to compare with what the stand-ins recorded
    ms: float
    status: int
    trigger_id: str | None = None


@dataclass(frozen=True, slots=True)
class Phase:
    label: str
    timings: list[Timing]
    started: float
    ended: float
    bot_cpu_seconds: float | None = None  # the bot's CPU from the first request until its after-ack work ended
    modals: tuple[int, int] | None = None  # (ship modals opened, clicks sent)
    modal_ms: list[float] | None = None  # each click's views.open, from the click's sending


# ------------------------------------------------------------------------------------------ the processes


class Stack:
    """The stand-ins' process and the bot's process, and what the driver asks of each."""

    def __init__(self, workdir: Path, *, seed: int, orders: int, burst_threshold: int) -> None:
        self.stand_ins = StackServerProcess(seed=seed)
        self.bot: BotProcess | None = None
        try:
            self.stand_ins.call("generate_sales", login=LOGIN, count=orders, new=False)
            tuning = {**BOT_TUNING, "burst_threshold": burst_threshold}
            env = {
                **bot_environment(self.stand_ins.urls),
                "RAKUTEN_DATA_DIR": str(workdir / "data"),
                "RAKUTEN_POLL_SECONDS": "3600",  # the poll at start, then only those the benchmark starts
                "RAKUTEN_DEFAULT_LOCALE": "en",
            }
            self.bot = BotProcess(env, port=_free_port(), tuning=tuning, log=workdir / "bot.log")
        except BaseException:
            self.close()
            raise
        self.sender = SlackRequestSender(self.bot.events_url, SIGNING_SECRET)

    def close(self) -> None:
        if self.bot is not None:
            self.bot.stop()
        self.stand_ins.close()

    def call(self, op: str, **args: Any) -> Any:
        return self.stand_ins.call(op, **args)

    def wait_until(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        ticker = threading.Event()
        while not predicate():
            if time.monotonic() > deadline:
                assert self.bot is not None
                raise RuntimeError(f"{what}: not within {timeout:.0f} s; the bot's log:\n{self.bot.log()[-3000:]}")
            ticker.wait(WAIT_STEP)

    def last_poll(self, login: str) -> str | None:
        assert self.bot is not None
        for account in self.bot.health().get("accounts", []):
            if account["login"] == login:
                return account["last_success_at"]
        return None

    def cards(self, login: str) -> list[Card]:
        cards = []
        for message in self.call("messages", channel=CHANNEL):
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == ORDER_EVENT_TYPE and payload.get("account") in (login, None):
                cards.append(Card(str(payload.get("purchaseid")), message["channel"], message["ts"], message))
        return cards

    def ship_modals(self) -> int:
        return len(self.call("views", callback_id=VIEW_SHIP))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -------------------------------------------------------------------------------------------- the load


class Clicks:
    """Mark shipped clicks on the account's cards, signed as Slack sends them, made ``chunk`` at a time."""

    def __init__(self, stack: Stack, cards: Sequence[Card], rng: random.Random) -> None:
        self._stack = stack
        self._cards = [card for card in cards if _has_button(card.message, ACTION_MARK_SHIPPED)]
        if not self._cards:
            raise RuntimeError("no card shows a Mark shipped button")
        self._rng = rng
        self.body_bytes: list[int] = []

    def make(self, count: int) -> list[Request]:
        chosen = [self._rng.choice(self._cards) for _ in range(count)]
        minted = self._stack.call(
            "interactions", clicks=[{"channel": c.channel, "user": SELLER, "message_ts": c.ts} for c in chosen]
        )
        return [self.request(card, tokens) for card, tokens in zip(chosen, minted, strict=True)]

    def request(self, card: Card, tokens: dict[str, str]) -> Request:
        body = block_actions_body(
            user_id=SELLER,
            channel_id=card.channel,
            message_ts=card.ts,
            action_id=ACTION_MARK_SHIPPED,
            value=encode_order_ref(OrderRef(LOGIN, card.purchaseid)),
            trigger_id=tokens["trigger_id"],
            response_url=tokens["response_url"],
            message=card.message,
        )
        assert self._stack.bot is not None
        self.body_bytes.append(len(body))
        headers = {"Content-Type": FORM_CONTENT_TYPE, **sign(SIGNING_SECRET, body)}
        return Request("POST", self._stack.bot.events_url, body, headers, tokens["trigger_id"])


class Connection:
    """One keep-alive HTTP/1.1 connection, as lean as a client gets: the request goes out as prepared bytes and
    the answer is read to its end. A Python HTTP client in 20 threads would spend about half a millisecond of
    CPU per request (httpx, measured) and its own GIL queue would show up in every latency."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._host = parts.netloc
        self._socket: socket.socket | None = None
        self._buffer = b""

    def prepare(self, request: Request) -> bytes:
        path = urlsplit(request.url).path or "/"
        lines = [f"{request.method} {path} HTTP/1.1", f"Host: {self._host}", f"Content-Length: {len(request.body)}"]
        lines += [f"{name}: {value}" for name, value in (request.headers or {}).items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + request.body

    def exchange(self, prepared: bytes) -> int:
        """Send, read the whole answer; its status."""
        if self._socket is None:
            self._socket = socket.create_connection(self._address, timeout=10)
            self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._buffer = b""
        self._socket.sendall(prepared)
        head = self._read_until(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {name.strip().lower(): value.strip() for name, _, value in (h.partition(":") for h in header_lines)}
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while (size := int(self._read_until(b"\r\n").split(b";")[0], 16)) > 0:
                self._read_exactly(size + 2)
            self._read_until(b"\r\n")
        else:
            self._read_exactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return int(status_line.split()[1])

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _read_until(self, marker: bytes) -> bytes:
        while (end := self._buffer.find(marker)) < 0:
            self._receive()
        found, self._buffer = self._buffer[:end], self._buffer[end + len(marker) :]
        return found

    def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._receive()
        found, self._buffer = self._buffer[:size], self._buffer[size:]
        return found

    def _receive(self) -> None:
        assert self._socket is not None
        chunk = self._socket.recv(65536)
        if not chunk:
            raise ConnectionError("the bot closed the connection mid-answer")
        self._buffer += chunk


class Senders:
    """``width`` threads, each with its own connection to the bot, that send bursts: one request each, all let go
    at the same instant, as when that many people click at once."""

    def __init__(self, width: int) -> None:
        self._inboxes: list[queue.SimpleQueue[tuple[Request, threading.Barrier] | None]] = [
            queue.SimpleQueue() for _ in range(width)
        ]
        self._results: queue.SimpleQueue[Timing | BaseException] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, args=(inbox,), daemon=True) for inbox in self._inboxes]
        for thread in self._threads:
            thread.start()

    def burst(self, requests: Sequence[Request]) -> list[Timing]:
        if len(requests) > len(self._inboxes):
            raise ValueError(f"a burst of {len(requests)} with {len(self._inboxes)} senders")
        gate = threading.Barrier(len(requests), timeout=30)
        for inbox, request in zip(self._inboxes, requests, strict=False):
            inbox.put((request, gate))
        timings = []
        for _ in requests:
            result = self._results.get(timeout=60)
            if isinstance(result, BaseException):
                raise RuntimeError("a request could not be sent") from result
            timings.append(result)
        return sorted(timings, key=lambda timing: timing.started)

    def close(self) -> None:
        for inbox in self._inboxes:
            inbox.put(None)
        for thread in self._threads:
            thread.join(timeout=10)

    def _work(self, inbox: queue.SimpleQueue[tuple[Request, threading.Barrier] | None]) -> None:
        connection: Connection | None = None
        while (item := inbox.get()) is not None:
            request, gate = item
            try:
                connection = connection or Connection(request.url)
                prepared = connection.prepare(request)
                gate.wait()
                started, clock = time.time(), time.perf_counter()
                status = connection.exchange(prepared)
                self._results.put(Timing(started, (time.perf_counter() - clock) * 1000, status, request.trigger_id))
            except BaseException as error:
                if connection is not None:
                    connection.close()
                connection = None
                self._results.put(error)
        if connection is not None:
            connection.close()


def run_clicks(stack: Stack, clicks: Clicks, senders: Senders, label: str, total: int, width: int) -> Phase:
    """Bursts of ``width`` clicks; the next once the bot has opened the modals of the last (or given up)."""
    assert stack.bot is not None
    modals_before, calls_before, cpu_before = stack.ship_modals(), len(_modal_calls(stack)), stack.bot.cpu_seconds()
    started = time.time()
    timings: list[Timing] = []
    while len(timings) < total:
        timings += senders.burst(clicks.make(min(width, total - len(timings))))  # trigger_ids minted just now
        sent = len(timings)
        # A modal the bot could not open (its trigger_id expired in a queue) shows in the count.
        with contextlib.suppress(RuntimeError):
            stack.wait_until(lambda sent=sent: len(_modal_calls(stack)) - calls_before >= sent, DRAIN_TIMEOUT, "modals")
    ended = time.time()
    cpu_after = stack.bot.cpu_seconds()
    cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    opened = {call["trigger_id"]: call["at"] for call in _modal_calls(stack)[calls_before:]}
    modal_ms = [(opened[t.trigger_id] - t.started) * 1000 for t in timings if t.trigger_id in opened]
    return Phase(label, timings, started, ended, cpu, (stack.ship_modals() - modals_before, total), modal_ms)


def _modal_calls(stack: Stack) -> list[dict[str, Any]]:
    return stack.call("calls", method="views.open")


def run_health(stack: Stack, senders: Senders, label: str, total: int, width: int) -> Phase:
    assert stack.bot is not None
    cpu_before, started = stack.bot.cpu_seconds(), time.time()
    timings: list[Timing] = []
    while len(timings) < total:
        timings += senders.burst([Request("GET", stack.bot.health_url)] * min(width, total - len(timings)))
    cpu_after = stack.bot.cpu_seconds()
    cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    return Phase(label, timings, started, time.time(), cpu)


# ------------------------------------------------------------------------------------- the busy account


def connect_busy_account(stack: Stack, orders: int) -> float:
    """Connect a second account as a seller does (``/rakuten connect``, then the modal); its first poll starts
    at once and posts a card per order. Returns when the connect was submitted (epoch seconds)."""
    stack.call("add_account", login=BUSY_LOGIN, token=BUSY_TOKEN)
    stack.call("generate_sales", login=BUSY_LOGIN, count=orders, new=False)
    tokens = stack.call("interactions", clicks=[{"channel": CHANNEL, "user": ADMIN}])[0]
    answer = stack.sender.command(
        command=COMMAND, text="connect", user_id=ADMIN, channel_id=CHANNEL, **tokens
    )
    if answer.status_code != 200:
        raise RuntimeError(f"/rakuten connect answered HTTP {answer.status_code}")
    stack.wait_until(lambda: bool(stack.call("views", callback_id=VIEW_CONNECT)), 10, "the connect modal")
    view = stack.call("views", callback_id=VIEW_CONNECT)[-1]
    submitted = time.time()
    answer = stack.sender.submit_view(
        user_id=ADMIN,
        callback_id=VIEW_CONNECT,
        private_metadata=view.get("private_metadata", ""),
        state_values={
            BLOCK_LOGIN: {ACTION_LOGIN: text_input_state(BUSY_LOGIN)},
            BLOCK_TOKEN: {ACTION_TOKEN: text_input_state(BUSY_TOKEN)},
        },
        view_id=view["id"],
        view=view,
    )
    if answer.status_code != 200 or answer.content.strip():
        raise RuntimeError(f"the connect submission answered HTTP {answer.status_code}: {answer.text[:200]}")
    return submitted


@dataclass(frozen=True, slots=True)
class PollSpan:
    started: float  # the busy account's poll's first request at Rakuten
    ended: float  # its last card posted
    cards: int

    def overlapping(self, phase: Phase) -> int:
        return sum(self.started < t.started + t.ms / 1000 and t.started < self.ended for t in phase.timings)


def busy_poll_span(stack: Stack, since: float) -> PollSpan:
    stack.wait_until(lambda: stack.last_poll(BUSY_LOGIN) is not None, POLL_TIMEOUT, "the busy account's poll")
    polled = (Action.GET_NEW_SALES.value, Action.GET_CURRENT_SALES.value)  # not the connect's credential check
    first = min(r["at"] for r in stack.call("requests", login=BUSY_LOGIN) if r["action"] in polled)
    posts = [call["at"] for call in stack.call("calls", method="chat.postMessage") if call["at"] >= since]
    return PollSpan(first, max(posts, default=first), len(posts))


# ---------------------------------------------------------------------------------------------- shipping


@dataclass(frozen=True, slots=True)
class ShipTiming:
    submit_ack_ms: float
    first_item_ms: float
    all_items_ms: float
    items: int


def accepted_items(stack: Stack, purchaseid: str) -> set[str] | None:
    """The order's item ids when every item is accepted (shippable as one parcel), else None."""
    items = stack.call("sale_items", purchaseid=purchaseid)
    return {item["itemid"] for item in items} if all(item["status"] == "ACCEPTED" for item in items) else None


def ship_one(stack: Stack, clicks: Clicks, card: Card, itemids: set[str], number: int) -> ShipTiming:
    """Open the modal from the card, submit it, and time until Rakuten has tracking for every item."""
    tokens = stack.call("interactions", clicks=[{"channel": card.channel, "user": SELLER, "message_ts": card.ts}])
    click = clicks.request(card, tokens[0])
    assert click.headers is not None
    opened = httpx.post(click.url, content=click.body, headers=click.headers, timeout=10)
    if opened.status_code != 200:
        raise RuntimeError(f"Mark shipped click answered HTTP {opened.status_code}")
    stack.wait_until(lambda: _ship_view(stack, card.purchaseid) is not None, 10, "the ship modal")
    view = _ship_view(stack, card.purchaseid)
    assert view is not None

    def tracked() -> list[float]:
        requests = stack.call("requests", action=Action.SET_TRACKING.value)
        return [r["at"] for r in requests if r["params"].get("itemid") in itemids]

    submitted = time.time()
    response, submit_seconds = timed(
        lambda: stack.sender.submit_view(
            user_id=SELLER,
            callback_id=VIEW_SHIP,
            private_metadata=view.get("private_metadata", ""),
            state_values={
                BLOCK_CARRIER: {ACTION_CARRIER: static_select_state(CARRIER, CARRIER)},
                BLOCK_TRACKING_NUMBER: {ACTION_TRACKING_NUMBER: text_input_state(f"6A{number:011d}")},
                BLOCK_TRACKING_URL: {ACTION_TRACKING_URL: text_input_state(None)},
            },
            view_id=view["id"],
            view=view,
        )
    )
    if response.status_code != 200 or response.content.strip():
        raise RuntimeError(f"ship submit answered HTTP {response.status_code}: {response.text[:200]}")
    stack.wait_until(lambda: len(tracked()) >= len(itemids), 10, "every item's tracking at Rakuten")
    arrivals = tracked()
    return ShipTiming(
        submit_ack_ms=submit_seconds * 1000,
        first_item_ms=(min(arrivals) - submitted) * 1000,
        all_items_ms=(max(arrivals) - submitted) * 1000,
        items=len(itemids),
    )


def direct_tracking_call(stack: Stack, itemids: Sequence[str]) -> list[float]:
    """Baseline: milliseconds of one settrackingpackageinfos made straight with RakutenClient (warm)."""
    samples = []
    with RakutenClient(LOGIN, TOKEN, base_url=stack.stand_ins.urls["rakuten_api_url"]) as client:
        client.get_item_todo_list()  # opens the connection, as the bot's client is already connected
        for number, itemid in enumerate(itemids):
            _, seconds = timed(
                lambda itemid=itemid, number=number: client.set_tracking(
                    itemid, carrier=CARRIER, tracking_number=f"6B{number:011d}"
                )
            )
            samples.append(seconds * 1000)
    return samples


def _ship_view(stack: Stack, purchaseid: str) -> dict[str, Any] | None:
    """The newest Mark shipped modal opened for this order, if any."""
    for view in reversed(stack.call("views", callback_id=VIEW_SHIP)):
        metadata = ShipModalMetadata.decode(view.get("private_metadata"))
        if metadata is not None and metadata.purchaseid == purchaseid:
            return view
    return None


def _has_button(message: dict[str, Any], action_id: str) -> bool:
    for block in message.get("blocks") or []:
        for element in [*(block.get("elements") or []), block.get("accessory")]:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return True
    return False


# ---------------------------------------------------------------------------------------------- profiling


class Profiler:
    """py-spy sampling the bot's process into raw stacks: the thread holding the GIL, the one resource every
    request, the after-ack work and the poll queue for."""

    def __init__(self, pid: int, output: Path) -> None:
        executable = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not Path(executable).exists():
            raise RuntimeError("--profile needs py-spy: pip install -e '.[profile]'")
        self.output = output
        command = [executable, "record", "--pid", str(pid), "--rate", "500", "--gil", "--nonblocking"]
        self._process = subprocess.Popen(
            [*command, "--format", "raw", "--output", str(output)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def stop(self) -> None:
        self._process.send_signal(signal.SIGINT)
        self._process.wait(timeout=60)


# What a sample was doing, from the first of these frames found in its stack (innermost first).
_KINDS = (
    ("handlers/deps.py:after_ack.<locals>.run", "after the ack: slack_work pool (views.open...)"),
    ("services/poller.py:Poller.poll", "the poll"),
    ("waitress/task.py:WSGITask.execute", "request threads: the WSGI app (guard, Bolt, listener, ack)"),
    ("waitress/channel.py:HTTPChannel.service", "request threads: waitress around the app"),
    ("waitress/server.py:BaseWSGIServer.run", "waitress's I/O loop (reading requests, writing answers)"),
)


def profile_tables(path: Path, top: int = 15) -> list[Table]:
    """Where the samples (taken while a thread held the GIL) fell: by kind of work, and the functions with most
    samples in them (inclusive) and at the top of the stack (self)."""
    kinds: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        names = [_frame_name(frame) for frame in stack.split(";")[1:]]  # the first is the thread
        total += count
        kinds[next((kind for frame, kind in _KINDS if frame in names), "other")] += count
        for name in set(names):
            inclusive[name] += count
        if names:
            own[names[-1]] += count
    if not total:
        return []
    by_kind = Table(f"Profile: {total:,} samples of the bot's process holding the GIL, by kind of work", ["", "%"])
    for kind, count in kinds.most_common():
        by_kind.add(kind, 100 * count / total)
    tables = [by_kind]
    for title, counter in (("inclusive (the function and what it calls)", inclusive), ("self", own)):
        table = Table(f"Profile: top {top} functions, {title}", ["", "%"])
        for name, count in counter.most_common(top):
            table.add(name, 100 * count / total)
        tables.append(table)
    return tables


def _frame_name(frame: str) -> str:
    """``function (path/to/module.py:123)`` -> ``to/module.py:function``."""
    function, _, where = frame.partition(" (")
    filename = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(filename).parts
    short = "/".join(parts[-2:]) if len(parts) >= 2 else filename
    return f"{short}:{function}"


# --------------------------------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument("--orders", type=int, default=1000, help="open orders of the clicked account (cards)")
    parser.add_argument("--busy-orders", type=int, default=1000, help="orders the busy poll posts cards for")
    parser.add_argument("--requests", type=int, default=300, help="clicks per row (default 300)")
    parser.add_argument("--concurrency", type=int, default=20, help="requests sent at once (default 20)")
    parser.add_argument("--ship", type=int, default=20, help="orders shipped through the modal (default 20)")
    parser.add_argument("--profile", type=Path, metavar="FILE", help="sample the bot with py-spy into FILE")
    args = parse(parser, argv, {"orders": 20, "busy_orders": 40, "requests": 20, "concurrency": 5, "ship": 3})
    rng = random.Random(args.seed)
    concurrency = args.concurrency

    with tempfile.TemporaryDirectory(prefix="rakuten-bench-") as tmp:
        burst_threshold = max(args.orders, args.busy_orders) + 1
        stack = Stack(Path(tmp), seed=args.seed, orders=args.orders, burst_threshold=burst_threshold)
        try:
            assert stack.bot is not None
            stack.wait_until(lambda: stack.last_poll(LOGIN) is not None, POLL_TIMEOUT, "the first poll")
            cards = stack.cards(LOGIN)
            clicks = Clicks(stack, cards, rng)
            senders = Senders(concurrency)
            profiler = Profiler(stack.bot.pid, args.profile) if args.profile else None

            run_clicks(stack, clicks, senders, "warm-up", concurrency * 2, concurrency)  # connections, caches
            at_once = f"{concurrency} at once"
            phases = [
                run_health(stack, senders, f"baseline: GET /healthz, {at_once}", args.requests, concurrency),
                run_clicks(stack, clicks, senders, "baseline: Mark shipped, one at a time", args.requests, 1),
                run_clicks(stack, clicks, senders, f"Mark shipped, {at_once}, idle", args.requests, concurrency),
            ]
            connected = connect_busy_account(stack, args.busy_orders)
            stack.wait_until(
                lambda: bool(stack.call("requests", login=BUSY_LOGIN, action=Action.GET_CURRENT_SALES.value)),
                10,
                "the busy account's poll",
            )
            during = f"{at_once}, during a poll"
            busy = [
                run_clicks(stack, clicks, senders, f"Mark shipped, {during}", args.requests, concurrency),
                run_health(stack, senders, f"GET /healthz, {during}", args.requests, concurrency),
            ]
            senders.close()
            span = busy_poll_span(stack, connected)
            if profiler is not None:
                profiler.stop()

            shippable = []
            for card in cards:
                if len(shippable) >= args.ship * 2:
                    break
                itemids = accepted_items(stack, card.purchaseid)
                if itemids:
                    shippable.append((card, itemids))
            to_ship, direct = shippable[: args.ship], shippable[args.ship :]
            ships = [ship_one(stack, clicks, card, items, n) for n, (card, items) in enumerate(to_ship)]
            direct_ms = direct_tracking_call(stack, [sorted(items)[0] for _, items in direct])
        finally:
            stack.close()

    print_acks(args, phases, busy, span, statistics.fmean(clicks.body_bytes))
    print()
    print_ships(ships, direct_ms)
    if args.profile:
        for table in profile_tables(args.profile):
            print()
            print(table.render())
    return 0


def print_acks(args: Any, phases: list[Phase], busy: list[Phase], span: PollSpan, body_bytes: float) -> None:
    table = Table(
        f"Ack latency, the bot as its own process (HTTP mode): {args.requests} requests a row, in bursts of "
        f"{args.concurrency} sent at once; ms from sending to the answer (Slack gives up at 3,000 ms; target p99 < "
        "60 ms)",
        ["", "n", "p50", "p90", "p99", "max", "non-200", "bot CPU ms/req", "modals", "modal p50", "modal p99"],
    )
    for phase in [*phases, *busy]:
        dist = Distribution.of([t.ms for t in phase.timings])
        errors = sum(t.status != 200 for t in phase.timings)
        cpu = phase.bot_cpu_seconds * 1000 / len(phase.timings) if phase.bot_cpu_seconds is not None else None
        modals = f"{phase.modals[0]}/{phase.modals[1]}" if phase.modals else None
        opened = Distribution.of(phase.modal_ms) if phase.modal_ms else None
        table.add(
            phase.label,
            dist.count,
            dist.p50,
            dist.p90,
            dist.p99,
            dist.maximum,
            errors,
            cpu,
            modals,
            opened.p50 if opened else None,
            opened.p99 if opened else None,
        )
    seconds = span.ended - span.started
    overlaps = ", ".join(f"{span.overlapping(phase)} of {len(phase.timings)}" for phase in busy)
    table.note(
        f"During a poll: a second account connected through /rakuten connect; its first poll posted {span.cards:,} "
        f"cards in {seconds:.1f} s; requests overlapping it: {overlaps} (the rows in that order)."
    )
    table.note(
        f"{args.orders:,} cards of the clicked account; each click carries its card (about "
        f"{body_bytes / 1000:.1f} kB of form-encoded body). Bot CPU per request: the bot's process CPU from the first "
        "request until its after-ack work (views.open) ended, divided by the requests (during the poll: the "
        "poll's CPU too). Modals: ship modals the stand-in opened / clicks sent; modal p50, p99: ms from a click's "
        "sending to its views.open reaching the stand-in (Slack allows 3,000 ms from the click)."
    )
    table.note(
        "Three processes: the stand-ins (Rakuten simulator, Slack stand-in), the bot, and this client, all on "
        f"the same {_cores()} core(s)."
    )
    print(table.render())


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def print_ships(ships: list[ShipTiming], direct_ms: list[float]) -> None:
    table = Table(
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
        table.add(label, dist.count, dist.p50, dist.p99, dist.maximum, dist.mean)
    table.note(
        f"{sum(s.items for s in ships)} items in {len(ships)} orders, all items of each order shipped at once; "
        "times from the client's submit to the moment the simulator received each request."
    )
    print(table.render())


if __name__ == "__main__":
    raise SystemExit(main())
