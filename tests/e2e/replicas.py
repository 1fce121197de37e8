"""Several ``rakuten-bot run`` processes on one PostgreSQL database, as a deployment behind a load balancer runs them,
wired to a local stack's Rakuten simulator and Slack stand-in; and a TCP forwarder to the database that a test can
cut, to see a replica lose its database.

The replicas are real processes (``tests.e2e.tuned_bot``: ``rakuten-bot run`` with shortened tuning), started
together on free ports, each with its own (unused) data directory, the same ``DATABASE_URL`` and the same
``RAKUTEN_SECRET_KEY``. Accounts are connected in the database beforehand, as ``/rakuten connect`` would have.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from cryptography.fernet import Fernet

from bot.crypto import TokenCipher
from bot.domain.accounts import AccountRecord
from bot.slack.http_server import EVENTS_PATH, HEALTH_PATH, READY_PATH
from bot.store.postgres_store import PostgresStore
from devkit.local_stack import CHANNEL, SIGNING_SECRET, LocalStack, wait_until
from devkit.rakuten_simulator import RecordedRequest
from devkit.slack_requests import SlackRequestSender
from rakuten.actions import Action
from tests.e2e.bot_process import ROOT, START_TIMEOUT, BotProcess, _free_port

GET_NEW_SALES = Action.GET_NEW_SALES.value
GET_CURRENT_SALES = Action.GET_CURRENT_SALES.value
SET_TRACKING = Action.SET_TRACKING.value

# Short enough for a test to see several polls and a take-over in seconds.
REPLICA_TUNING: dict[str, Any] = {
    "post_interval": 0,
    "rakuten_timeout": 2.0,
    "poll_recheck_seconds": 0.1,
    "action_sweep_seconds": 0.3,
    "action_takeover_seconds": 1.0,
    "action_retry_delays": [2.0, 2.0, 2.0],
}


class Replica(BotProcess):
    """One replica: ``launch`` starts the process without waiting, ``wait_ready`` waits for its /readyz."""

    def __init__(self, stack: LocalStack, data_dir: Path, *, env: dict[str, str], tuning: dict[str, Any]) -> None:
        super().__init__(stack, data_dir, tuning=tuning)
        self._extra_env = env
        self.replica_id = ""
        self.sender: SlackRequestSender | None = None

    def launch(self) -> None:
        self._starts += 1
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        log = (self._data_dir.parent / f"bot-{self._starts}.log").open("wb")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.tuned_bot"],
            cwd=ROOT,
            env=self._env(port, self._extra_env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def wait_ready(self) -> None:
        wait_until(lambda: self._exited() or self.ready(), timeout=START_TIMEOUT, every=0.05)
        assert not self._exited(), f"the replica exited early:\n{self.log()}"
        self.replica_id = httpx.get(self.url + READY_PATH, timeout=5).json()["replica"]
        self.sender = SlackRequestSender(self.url + EVENTS_PATH, SIGNING_SECRET)

    def ready(self) -> bool:
        return self.status(READY_PATH) == 200

    def status(self, path: str = HEALTH_PATH) -> int | None:
        try:
            return httpx.get(self.url + path, timeout=5).status_code
        except httpx.TransportError:
            return None

    def report(self, path: str = HEALTH_PATH) -> dict[str, Any]:
        return httpx.get(self.url + path, timeout=10).json()

    def stop(self) -> None:
        if self.sender is not None:
            self.sender.close()
        super().stop()


@dataclass
class Deployment:
    """The replicas and what they share: the database (``store``, the test's own connection to it) and the key."""

    stack: LocalStack
    database_url: str
    secret_key: str
    store: PostgresStore
    replicas: list[Replica]

    def connect(self, login: str, token: str, channel: str = CHANNEL) -> None:
        """An account connected as /rakuten connect does: at the simulator, and in the database."""
        self.stack.simulator.add_account(login, token)
        cipher = TokenCipher(self.secret_key.encode())
        account = AccountRecord(login, cipher.encrypt(token), channel, connected_by="U0ADMIN")
        self.store.save_account(account)

    def start(
        self,
        count: int,
        root: Path,
        *,
        poll_seconds: float,
        tuning: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        env = {
            **(env or {}),
            "DATABASE_URL": self.database_url,
            "RAKUTEN_SECRET_KEY": self.secret_key,
            "RAKUTEN_POLL_SECONDS": f"{poll_seconds:g}",
            # Accounts come from the database (connected beforehand), not from the environment.
            "RAKUTEN_LOGIN": "",
            "RAKUTEN_TOKEN": "",
            "RAKUTEN_CHANNEL": "",
        }
        first = len(self.replicas)
        started = [
            Replica(self.stack, root / f"replica-{first + n}" / "data", env=env, tuning=tuning or REPLICA_TUNING)
            for n in range(count)
        ]
        for replica in started:
            replica._data_dir.mkdir(parents=True)
            replica.launch()
        self.replicas.extend(started)
        for replica in started:
            replica.wait_ready()

    def by_id(self, replica_id: str) -> Replica:
        (found,) = [replica for replica in self.replicas if replica.replica_id == replica_id]
        return found

    def pollers(self) -> dict[str, str]:
        """Which replica is polling which account right now (login -> replica id), from the shared schedule."""
        with psycopg.connect(self.database_url) as conn:
            rows = conn.execute("SELECT login, polled_by FROM poll_schedule WHERE polled_by IS NOT NULL").fetchall()
        return dict(rows)

    def stop(self) -> None:
        for replica in self.replicas:
            replica.stop()


def new_secret_key() -> str:
    return Fernet.generate_key().decode()


# ------------------------------------------------------------------------------------------- the request log


def poll_starts(requests: Iterable[RecordedRequest], login: str) -> list[datetime]:
    """When each poll of ``login`` began: its getnewsales, the first call of every poll."""
    return [request.at for request in requests if request.login == login and request.action == GET_NEW_SALES]


def overlapping_polls(requests: Iterable[RecordedRequest]) -> dict[str, list[str]]:
    """Accounts whose polls interleaved at Rakuten, with the sequence that shows it.

    A poll reads getnewsales, then the first page of getcurrentsales (later pages carry ``nexttoken``): one account's
    requests, in arrival order, alternate strictly between the two unless two polls of it ran at the same time.
    """
    sequences: dict[str, list[str]] = defaultdict(list)
    for request in sorted(requests, key=lambda request: request.at):
        if request.login is None:
            continue
        if request.action == GET_NEW_SALES:
            sequences[request.login].append("new")
        elif request.action == GET_CURRENT_SALES and not request.params.get("nexttoken"):
            sequences[request.login].append("current")
    found = {}
    for login, sequence in sequences.items():
        expected = list(itertools.islice(itertools.cycle(["new", "current"]), len(sequence)))
        if sequence != expected:
            found[login] = sequence
    return found


# ------------------------------------------------------------------------------------------- a cuttable database


class CuttableProxy:
    """A TCP forwarder on loopback to ``target``: ``cut()`` drops every open connection and closes each new one at
    once (the database out of reach, as after a network cut); ``restore()`` forwards again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._cut = False
        self._closed = False
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            dropped, self._open = self._open, set()
        for sock in dropped:
            _close(sock)

    def restore(self) -> None:
        with self._lock:
            self._cut = False

    def close(self) -> None:
        self._closed = True
        self.cut()
        _close(self._listener)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refused = self._cut
            if refused:
                _close(client)
                continue
            try:
                server = socket.create_connection(self._target, timeout=5)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._open.update((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with self._lock:
                    self._open.discard(sock)
                _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
