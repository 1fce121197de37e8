"""Replicas at work: several ``rakuten-bot run`` processes (HTTP mode, the production command) on one PostgreSQL
database, N seller accounts on the Rakuten simulator, the Slack stand-in, all on this machine.

    python bench/replicas.py [--accounts 200] [--replicas 3] [--poll-seconds 10] [--seconds 60]
                             [--orders-per-second 2] [--database-url URL] [--quick]

Every account has its own order channel and two open orders at start; new orders arrive at the simulator while the
replicas run. Measured from Rakuten's side (the simulator's request log: a poll is a ``getnewsales``):

- polls per minute sustained over ``--seconds``, beside what the schedule asks (accounts x 60 / interval);
- each account's gap between two polls (the interval, if the replicas keep up);
- duplicate cards (must be 0) and orders left without a card, counted over every channel once all is settled;
- ``kill -9`` of the replica polling the most accounts at that moment: how long until each account it was polling
  is polled again by the others, and how late the polls of every account were in the first round after the kill.

PostgreSQL runs in a schema made for the run and dropped after it (default server: RAKUTEN_TEST_DATABASE_URL, else
the machine's). Figures depend on the machine; the script prints its core count.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from _common import Distribution, Table, make_parser, parse
from cryptography.fernet import Fernet
from store_write_pg import DEFAULT_DATABASE_URL, bench_schema

from bot.constants import ORDER_EVENT_TYPE
from bot.crypto import TokenCipher
from bot.domain.accounts import AccountRecord
from bot.slack.http_server import READY_PATH
from bot.store.postgres_store import PostgresStore
from devkit.local_stack import SIGNING_SECRET, wait_until
from devkit.rakuten_simulator import RakutenSimulator
from devkit.slack_standin import SlackStandIn
from rakuten.actions import Action

ROOT = Path(__file__).resolve().parents[1]
GET_NEW_SALES = Action.GET_NEW_SALES.value
START_TIMEOUT = 60.0
CLOCK_FUZZ = timedelta(milliseconds=50)  # the database's and the simulator's clocks, read by two processes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Replica:
    def __init__(self, index: int, env: dict[str, str], folder: Path) -> None:
        self.index = index
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        data_dir = folder / f"replica-{index}"
        data_dir.mkdir()
        self.log = data_dir / "bot.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=ROOT,
                env={**env, "PORT": str(self.port), "RAKUTEN_DATA_DIR": str(data_dir)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.replica_id = ""

    def ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"replica {self.index} exited:\n{self.log.read_text(errors='replace')[-3000:]}")
        try:
            answer = httpx.get(self.url + READY_PATH, timeout=5)
        except httpx.TransportError:
            return False
        if answer.status_code == 200:
            self.replica_id = answer.json()["replica"]
        return answer.status_code == 200

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


class Run:
    """The simulator, the stand-in, the database and the replicas of one benchmark run."""

    def __init__(self, args: argparse.Namespace, database_url: str, folder: Path) -> None:
        self.args = args
        self.database_url = database_url
        self.folder = folder
        self.simulator = RakutenSimulator(seed=args.seed, page_size=50).start()
        self.slack = SlackStandIn().start()
        self.key = Fernet.generate_key().decode()
        self.replicas: list[Replica] = []
        self.accounts = [f"bench-{n:03d}" for n in range(args.accounts)]
        self.orders: dict[str, str] = {}  # purchaseid -> channel
        self.rng = random.Random(args.seed)

    def channel(self, login: str) -> str:
        return f"C{login.upper().replace('-', '')}"

    def connect_accounts(self) -> None:
        cipher = TokenCipher(self.key.encode())
        with PostgresStore(self.database_url) as store:
            for login in self.accounts:
                token = f"token-{login}"
                self.simulator.add_account(login, token)
                self.slack.add_channel(self.channel(login), members=["U0SELLER"], name=login)
                account = AccountRecord(login, cipher.encrypt(token), self.channel(login), connected_by="bench")
                store.save_account(account)
                for _ in range(2):
                    self.add_order(login)

    def add_order(self, login: str) -> str:
        purchaseid = self.simulator.add_sale(login, new=False)
        self.orders[purchaseid] = self.channel(login)
        return purchaseid

    def start_replicas(self, count: int, poll_seconds: float) -> None:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("SLACK_", "RAKUTEN_", "DATABASE_URL"))
            and name.lower() not in ("http_proxy", "https_proxy")
        }
        env.update(
            SLACK_BOT_TOKEN=self.slack.bot_token,
            SLACK_API_URL=self.slack.api_url,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            RAKUTEN_API_URL=self.simulator.url,
            RAKUTEN_POLL_SECONDS=f"{poll_seconds:g}",
            RAKUTEN_SECRET_KEY=self.key,
            RAKUTEN_DAILY_SUMMARY_AT="off",
            DATABASE_URL=self.database_url,
            NO_PROXY="127.0.0.1,localhost",
            LOG_LEVEL="WARNING",
        )
        self.replicas = [Replica(index, env, self.folder) for index in range(count)]
        wait_until(lambda: all(replica.ready() for replica in self.replicas), timeout=START_TIMEOUT, every=0.2)

    def cards(self) -> Counter[str]:
        """Cards per order, over every channel."""
        seen: Counter[str] = Counter()
        for login in self.accounts:
            for message in self.slack.messages(self.channel(login)):
                metadata = message.metadata or {}
                if metadata.get("event_type") == ORDER_EVENT_TYPE:
                    seen[metadata["event_payload"]["purchaseid"]] += 1
        return seen

    def all_carded(self) -> bool:
        return set(self.orders) <= set(self.cards())

    def polls_since(self, moment: datetime) -> dict[str, list[datetime]]:
        starts: dict[str, list[datetime]] = defaultdict(list)
        for request in self.simulator.requests:
            if request.action == GET_NEW_SALES and request.at >= moment and request.login:
                starts[request.login].append(request.at)
        return starts

    def schedule(self) -> tuple[dict[str, str], dict[str, datetime]]:
        """(login -> replica polling it now, login -> next due time), read at one instant."""
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute("SELECT login, polled_by, due_at FROM poll_schedule").fetchall()
        return {login: by for login, by, _ in rows if by}, {login: due for login, _, due in rows}

    def feed_orders(self, per_second: float, stop: threading.Event) -> None:
        """New orders arrive at the simulator, at random accounts, until ``stop``."""
        while not stop.wait(1 / per_second):
            self.add_order(self.rng.choice(self.accounts))

    def close(self) -> None:
        for replica in self.replicas:
            replica.stop()
        self.slack.stop()
        self.simulator.stop()


def measure(run: Run, args: argparse.Namespace, table: Table) -> None:
    accounts, seconds, poll_seconds = args.accounts, args.seconds, args.poll_seconds
    started = time.monotonic()
    run.start_replicas(args.replicas, poll_seconds)
    table.note(f"{args.replicas} replicas ready in {time.monotonic() - started:.1f} s.")
    started = time.monotonic()
    wait_until(run.all_carded, timeout=max(120.0, accounts), every=0.5)
    table.note(f"First polls: {len(run.orders):,} orders carded in {time.monotonic() - started:.1f} s.")

    stop_feeding = threading.Event()
    feeder = threading.Thread(target=run.feed_orders, args=(args.orders_per_second, stop_feeding), daemon=True)
    feeder.start()
    window_start = datetime.now(UTC)
    time.sleep(seconds)  # the measuring window: the replicas run on their own meanwhile
    window = run.polls_since(window_start)
    total = sum(len(starts) for starts in window.values())
    gaps = [
        (later - earlier).total_seconds()
        for starts in window.values()
        for earlier, later in itertools.pairwise(starts)
    ]
    demand = accounts * 60 / poll_seconds
    table.add("polls per minute, sustained", total * 60 / seconds, None, None, None)
    table.add("baseline: the schedule's demand (accounts x 60 / interval)", demand, None, None, None)
    if gaps:
        spread = Distribution.of(gaps)
        table.add("gap between two polls of one account, s", spread.p50, spread.p99, spread.maximum, spread.count)
    table.add("accounts polled in the window", len(window), None, None, None)

    stop_feeding.set()
    feeder.join(timeout=10)

    # kill -9 in the middle of a poll: the replica posting a new order's card, Slack's answer held until it is dead
    # (once every earlier order has its card, so that the card held is that one's)
    wait_until(run.all_carded, timeout=max(60.0, accounts / 2), every=0.5)
    target = run.rng.choice(run.accounts)
    hold = run.slack.hold("chat.postMessage", timeout=60)
    purchaseid = run.add_order(target)
    wait_until(hold.carried_out.is_set, timeout=2 * poll_seconds + 10, every=0.01)
    if purchaseid not in run.cards():
        raise RuntimeError(f"the message held is not the card of order {purchaseid}: the measure would be wrong")
    pollers, due = run.schedule()
    victim = next(replica for replica in run.replicas if replica.replica_id == pollers[target])
    its_accounts = [login for login, by in pollers.items() if by == victim.replica_id]
    killed_at = datetime.now(UTC)  # before the kill: the take-over may come within the milliseconds the kill takes
    victim.kill()
    hold.release()
    wait_until(
        lambda: all(run.polls_since(killed_at).get(login) for login in run.accounts), timeout=4 * poll_seconds + 30
    )
    after = run.polls_since(killed_at)
    taken_over = Distribution.of([(min(after[login]) - killed_at).total_seconds() for login in its_accounts])
    # The others' accounts: how late past its due time (as the schedule said at the kill) each one's next poll began.
    around = run.polls_since(killed_at - timedelta(seconds=2 * poll_seconds))
    lateness = [
        max((min(at for at in around[login] if at >= due[login] - CLOCK_FUZZ) - due[login]).total_seconds(), 0.0)
        for login in run.accounts
        if login not in its_accounts
    ]
    late = Distribution.of(lateness)
    table.add(
        "kill -9 mid-poll: its accounts polled again after, s",
        taken_over.p50,
        taken_over.p99,
        taken_over.maximum,
        taken_over.count,
    )
    table.add("kill -9: the other accounts' next poll, late by, s", late.p50, late.p99, late.maximum, late.count)
    table.note(
        f"Killed replica {victim.index} while it was posting a card of {target} (it was polling "
        f"{len(its_accounts)} of {accounts} accounts at that instant: {', '.join(sorted(its_accounts))})."
    )

    wait_until(run.all_carded, timeout=max(60.0, accounts / 2), every=0.5)
    cards = run.cards()
    duplicates = sum(count - 1 for count in cards.values() if count > 1)
    missing = len(set(run.orders) - set(cards))
    table.add("orders, all carded once settled", len(run.orders), None, None, None)
    table.add("duplicate cards (must be 0)", duplicates, None, None, None)
    table.add("orders without a card", missing, None, None, None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser(__doc__)
    parser.add_argument("--accounts", type=int, default=200, help="seller accounts (default 200)")
    parser.add_argument("--replicas", type=int, default=3, help="rakuten-bot run processes (default 3)")
    parser.add_argument("--poll-seconds", type=float, default=10.0, help="RAKUTEN_POLL_SECONDS (default 10)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measuring window (default 60)")
    parser.add_argument("--orders-per-second", type=float, default=2.0, help="new orders arriving (default 2)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("RAKUTEN_TEST_DATABASE_URL") or DEFAULT_DATABASE_URL,
        help="PostgreSQL server (a schema is made for the run, then dropped)",
    )
    args = parse(parser, argv, {"accounts": 6, "replicas": 2, "poll_seconds": 1.0, "seconds": 3.0})
    table = Table(
        f"{args.replicas} replicas, {args.accounts} accounts, polling every {args.poll_seconds:g} s, loopback "
        f"({os.cpu_count()} cores)",
        ["", "value / p50", "p99", "max", "samples"],
        decimals=2,
    )
    with tempfile.TemporaryDirectory(prefix="rakuten-bench-") as tmp, bench_schema(args.database_url) as url:
        run = Run(args, url, Path(tmp))
        try:
            run.connect_accounts()
            measure(run, args, table)
        finally:
            run.close()
    print(table.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
