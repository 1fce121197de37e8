"""HTTP mode against an outside probe: what reaches the log, oversized bodies, unsigned and malformed requests,
and a flood of idle connections. The bot runs as a real ``rakuten-bot run`` process where its log or its
production limits matter; its stderr goes to a file the test reads."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from bot.app import build_app
from bot.constants import ACTION_LOGIN, ACTION_TOKEN, BLOCK_LOGIN, BLOCK_TOKEN, COMMAND, VIEW_CONNECT
from bot.health import health_report
from bot.slack.http_server import EVENTS_PATH, HEALTH_PATH, HttpServer, ServerLimits, SlackWsgiApp
from bot.ui.messages import help_summary
from devkit.local_stack import ADMIN, CHANNEL, LOGIN, SIGNING_SECRET, TOKEN, LocalStack, wait_until
from devkit.slack_requests import (
    FORM_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    SlackRequestSender,
    app_home_opened_event,
    block_actions_body,
    event_callback_body,
    form_body,
    form_fields,
    interactive_body,
    interactive_payload,
    sign,
    slash_command_body,
    text_input_state,
    view_submission_body,
)
from tests.e2e.conftest import only_in
from tests.e2e.test_run_modes import ROOT, bot_env

# The HTTP layer and the log have no language: one is enough.
pytestmark = only_in("en")

# ---------------------------------------------------------------------------------------------- helpers


@dataclass
class RunningBot:
    """A ``rakuten-bot run`` process in HTTP mode; its stderr (the log) goes to ``log_path``."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    @property
    def events_url(self) -> str:
        return self.url + EVENTS_PATH

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> str:
        """SIGTERM, wait for the exit, and return the whole log."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)
        return self.log()


def responds(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
    except httpx.TransportError:
        return False
    return True


@pytest.fixture
def start_bot(stack: LocalStack, tmp_path: Path, free_port: int) -> Iterator[Any]:
    started: list[RunningBot] = []

    def start(log_level: str = "INFO", **env: str | None) -> RunningBot:
        log_path = tmp_path / f"bot-{len(started)}.log"
        environment = bot_env(
            stack,
            tmp_path / "run-data",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            PORT=str(free_port),
            LOG_LEVEL=log_level,
            **env,
        )
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=environment, stdout=log, stderr=log
            )
        bot = RunningBot(process, f"http://127.0.0.1:{free_port}", log_path)
        started.append(bot)
        wait_until(lambda: process.poll() is not None or responds(bot.url + HEALTH_PATH), timeout=20, every=0.05)
        assert process.poll() is None, bot.log()
        return bot

    yield start
    for bot in started:
        if bot.process.poll() is None:
            bot.process.kill()
        bot.process.wait(timeout=10)


def connect_command(stack: LocalStack) -> dict[str, str]:
    return {
        "command": COMMAND,
        "text": "connect",
        "user_id": ADMIN,
        "channel_id": CHANNEL,
        "trigger_id": stack.slack.new_trigger_id(),
        "response_url": stack.slack.new_response_url(CHANNEL, user_id=ADMIN),
    }


def open_connect_modal(stack: LocalStack, sender: SlackRequestSender) -> dict[str, Any]:
    assert sender.command(**connect_command(stack)).status_code == 200
    stack.slack.wait_for(lambda: any(v.get("callback_id") == VIEW_CONNECT for v in stack.slack.views.values()))
    return next(v for v in stack.slack.views.values() if v.get("callback_id") == VIEW_CONNECT)


def connect_submission(view: dict[str, Any], token: str = TOKEN) -> bytes:
    """The view_submission Slack sends when an admin submits the connect modal: the token in state.values."""
    return view_submission_body(
        user_id=ADMIN,
        callback_id=VIEW_CONNECT,
        private_metadata=view.get("private_metadata", ""),
        state_values={
            BLOCK_LOGIN: {ACTION_LOGIN: text_input_state(LOGIN)},
            BLOCK_TOKEN: {ACTION_TOKEN: text_input_state(token)},
        },
        view_id=view["id"],
        view=view,
    )


def post(
    url: str, body: bytes, headers: dict[str, str | bytes], content_type: str = FORM_CONTENT_TYPE
) -> httpx.Response:
    return httpx.post(url, content=body, headers={"Content-Type": content_type, **headers}, timeout=5)


# ------------------------------------------------------------------------------------- 1. secrets in logs


@pytest.mark.parametrize("log_level", ["INFO", "DEBUG"])
def test_a_connect_submission_s_token_never_reaches_the_log(stack: LocalStack, start_bot: Any, log_level: str) -> None:
    bot = start_bot(log_level, RAKUTEN_LOGIN=None, RAKUTEN_TOKEN=None, RAKUTEN_CHANNEL=None)
    with SlackRequestSender(bot.events_url, SIGNING_SECRET) as sender:
        view = open_connect_modal(stack, sender)
    submission = connect_submission(view)
    payload_json = json.dumps(interactive_payload(submission)).encode()

    refused = [
        # signed with a rotated secret, signed five minutes and more ago, not signed at all
        post(bot.events_url, submission, sign("a-rotated-signing-secret", submission)),
        post(bot.events_url, submission, sign(SIGNING_SECRET, submission, int(time.time()) - 400)),
        post(bot.events_url, submission, {}),
        # the same payload as plain JSON and as JSON URL-encoded once more
        post(bot.events_url, payload_json, sign("a-rotated-signing-secret", payload_json), JSON_CONTENT_TYPE),
        post(bot.events_url, quote(submission).encode(), {}),
    ]
    assert [response.status_code for response in refused] == [401] * len(refused)
    accepted = post(bot.events_url, submission, sign(SIGNING_SECRET, submission))
    assert accepted.status_code == 200, accepted.text
    stack.slack.wait_for(lambda: any(m.text.startswith("✅") for m in stack.slack.messages(CHANNEL)), timeout=10)

    log = bot.stop()
    assert bot.process.returncode == 0, log
    assert TOKEN not in log
    assert log.count("\n") > 3  # the log was written (the bot logged its start, the connect)


# ------------------------------------------------------------------- 3. unsigned and malformed requests


def help_command(stack: LocalStack, text: str = "help") -> dict[str, str]:
    return {**connect_command(stack), "text": text}


def help_answers(stack: LocalStack) -> list[dict]:
    return [answer for answer in stack.slack.responses if answer.get("text") == help_summary(stack.t)]


def test_unsigned_requests_get_401_and_signed_malformed_ones_400_never_a_traceback(
    stack: LocalStack, start_bot: Any
) -> None:
    bot = start_bot()
    url, now = bot.events_url, int(time.time())
    command = slash_command_body(**help_command(stack))
    good_sign = sign(SIGNING_SECRET, command)

    unsigned = {
        "no signature": post(url, command, {}),
        "bad JSON, no signature": post(url, b"{not json", {}, JSON_CONTENT_TYPE),
        "not UTF-8, no signature": post(url, b"\xff\xfe\x00payload", {}),
        "rotated secret": post(url, command, sign("a-rotated-signing-secret", command)),
        "signature of another body": post(url, command + b"&x=1", good_sign),
        "signature without timestamp": post(url, command, {"X-Slack-Signature": good_sign["X-Slack-Signature"]}),
        "non-numeric timestamp": post(url, command, {**good_sign, "X-Slack-Request-Timestamp": "soon"}),
        "negative timestamp": post(url, command, {**good_sign, "X-Slack-Request-Timestamp": "-1"}),
        "six minutes old": post(url, command, sign(SIGNING_SECRET, command, now - 360)),
        "six minutes ahead": post(url, command, sign(SIGNING_SECRET, command, now + 360)),
        "non-ASCII signature": post(url, command, {**good_sign, "X-Slack-Signature": b"v0=\xe9" + b"z" * 80}),
    }
    assert {name: response.status_code for name, response in unsigned.items()} == dict.fromkeys(unsigned, 401)

    submission = connect_submission({"id": "V1", "private_metadata": ""})
    without_user = interactive_payload(submission)
    del without_user["user"]
    click = interactive_payload(
        block_actions_body(
            user_id=ADMIN,
            channel_id=CHANNEL,
            message_ts="1700000000.000100",
            action_id="order_accept",
            value="x",
            trigger_id=stack.slack.new_trigger_id(),
            response_url=stack.slack.new_response_url(CHANNEL, user_id=ADMIN),
        )
    )
    command_fields = form_fields(command)
    del command_fields["user_id"]
    home_without_user = app_home_opened_event(ADMIN)
    del home_without_user["user"]
    malformed_forms = {
        "bad JSON in payload=": b"payload=%7Bnot+json",
        "payload is a list": interactive_body([1, 2]),
        "payload is a string": interactive_body("view_submission"),
        "submission without user": interactive_body(without_user),
        "user is a number": interactive_body({**click, "user": 42}),
        "click without actions": interactive_body({**click, "actions": []}),
        "submission without view": interactive_body({k: v for k, v in without_user.items() if k != "view"}),
        "slash command without user_id": form_body(command_fields),
        "not UTF-8": b"command=%2Frakuten&text=\xff",
        "empty body": b"",
    }
    malformed_json = {
        "bad JSON": b"{not json",
        "JSON list": b"[1, 2]",
        "event is a string": json.dumps({"type": "event_callback", "event": "app_home_opened"}).encode(),
        "app_home_opened without user": event_callback_body(event=home_without_user),
        "authorizations not a list": json.dumps({"type": "event_callback", "authorizations": 3}).encode(),
    }
    statuses = {name: post(url, body, sign(SIGNING_SECRET, body)).status_code for name, body in malformed_forms.items()}
    statuses |= {
        name: post(url, body, sign(SIGNING_SECRET, body), JSON_CONTENT_TYPE).status_code
        for name, body in malformed_json.items()
    }
    assert statuses == dict.fromkeys(statuses, 400)

    # Slack's own requests still go through, slash command and event alike.
    assert post(url, command, sign(SIGNING_SECRET, command)).status_code == 200
    stack.slack.wait_for(lambda: len(help_answers(stack)) == 1)
    home = event_callback_body(event=app_home_opened_event(ADMIN))
    assert post(url, home, sign(SIGNING_SECRET, home), JSON_CONTENT_TYPE).status_code == 200
    stack.slack.wait_for(lambda: stack.slack.published_home(ADMIN) is not None)

    log = bot.stop()
    assert "Traceback" not in log
    assert " ERROR " not in log
    refusals = [line for line in log.splitlines() if "refused" in line]
    # One line per reason; the rest are counted (the count shows at shutdown).
    assert 3 <= len(refusals) <= 8, refusals
    assert all(len(line) < 200 for line in refusals)


# ----------------------------------------------------------------------------------- 2. oversized bodies


def raw_request(port: int, head: dict[str, str], body: bytes = b"", *, timeout: float = 3.0) -> socket.socket:
    """A POST to the Request URL over a plain socket, sent as far as the server lets it (it may close early)."""
    lines = [f"POST {EVENTS_PATH} HTTP/1.1", "Host: 127.0.0.1", *(f"{name}: {value}" for name, value in head.items())]
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # refused before the whole body went
        sock.sendall("\r\n".join([*lines, "", ""]).encode() + body)
    return sock


def read_status(sock: socket.socket) -> tuple[int, bytes]:
    """The status code and body of the response on ``sock`` (closes it)."""
    received = b""
    with sock:
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
            0,
        )
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return int(head.split(b" ")[1]), body


def chunked(data: bytes, *, complete: bool = True, size: int = 64 * 1024) -> bytes:
    """``data`` in chunked transfer encoding; ``complete=False`` leaves out the last (empty) chunk."""
    pieces = [data[start : start + size] for start in range(0, len(data), size)]
    body = b"".join(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" for piece in pieces)
    return body + b"0\r\n\r\n" if complete else body


def port_of(bot: RunningBot) -> int:
    return int(bot.url.rsplit(":", 1)[1])


def test_a_body_over_1_mib_is_refused_with_413_before_it_is_read(stack: LocalStack, start_bot: Any) -> None:
    bot = start_bot()
    port = port_of(bot)
    form = {"Content-Type": FORM_CONTENT_TYPE}

    # Only 64 KiB of the announced 10 MB are sent: the answer comes without the rest.
    announced = raw_request(port, {**form, "Content-Length": str(10_000_000)}, b"x" * 65536)
    # Chunked: 1 MiB and a chunk more, then nothing; the end of the body never comes.
    streamed = raw_request(
        port, {**form, "Transfer-Encoding": "chunked"}, chunked(b"y" * (1024 * 1024 + 65536), complete=False)
    )
    assert read_status(announced) == (413, b"request body too large\n")
    assert read_status(streamed) == (413, b"request body too large\n")

    # A signed body of exactly 1 MiB is Slack's business: it is served.
    fields = help_command(stack, text="help ")
    padding = 1024 * 1024 - len(slash_command_body(**fields))
    largest = slash_command_body(**{**fields, "text": "help " + "z" * padding})
    assert len(largest) == 1024 * 1024
    assert post(bot.events_url, largest, sign(SIGNING_SECRET, largest)).status_code == 200

    log = bot.stop()
    for filler in ("x", "y", "z"):
        assert filler * 100 not in log


def test_a_stream_of_large_unsigned_posts_writes_a_few_short_log_lines(stack: LocalStack, start_bot: Any) -> None:
    bot = start_bot()
    port = port_of(bot)
    form = {"Content-Type": FORM_CONTENT_TYPE}
    junk = b"command=%2Frakuten&text=" + b"A" * (2 * 1024 * 1024)
    before = len(bot.log())

    statuses = []
    for _ in range(10):
        statuses.append(read_status(raw_request(port, {**form, "Content-Length": str(len(junk))}, junk))[0])
        statuses.append(read_status(raw_request(port, {**form, "Transfer-Encoding": "chunked"}, chunked(junk)))[0])
        # A length that lies: the rest of the body arrives where the next request's header is expected.
        statuses.append(read_status(raw_request(port, {**form, "Content-Length": "100"}, junk))[0])
    small_unsigned = [post(bot.events_url, b"command=%2Frakuten&text=help", {}).status_code for _ in range(10)]

    assert set(statuses) <= {413, 401, 400, 431}
    assert small_unsigned == [401] * 10
    # Slack's requests are served all along.
    with SlackRequestSender(bot.events_url, SIGNING_SECRET) as sender:
        assert sender.command(**help_command(stack)).status_code == 200
    stack.slack.wait_for(lambda: len(help_answers(stack)) == 1)
    written = bot.log()[before:]
    assert len(written) < 1500, written[:3000]
    assert "AAAAAAAA" not in written


# ------------------------------------------------------------------------------ 4. idle connection flood

SLACK_ACK_DEADLINE = 3.0


def idle_connections(port: int, count: int) -> list[socket.socket]:
    """``count`` connections that never finish a request: half silent, half stopped inside a header."""
    sockets = []
    for number in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if number % 2:
            sock.sendall(f"POST {EVENTS_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty".encode())
        sockets.append(sock)
    return sockets


def test_slack_requests_are_acknowledged_while_hundreds_of_idle_connections_are_open(
    stack: LocalStack, start_bot: Any
) -> None:
    bot = start_bot()
    flood = idle_connections(port_of(bot), 250)
    try:
        with SlackRequestSender(bot.events_url, SIGNING_SECRET, timeout=SLACK_ACK_DEADLINE) as sender:
            started = time.monotonic()
            response = sender.command(**help_command(stack))
            elapsed = time.monotonic() - started
        assert response.status_code == 200
        assert elapsed < SLACK_ACK_DEADLINE
        stack.slack.wait_for(lambda: len(help_answers(stack)) == 1)
        assert httpx.get(bot.url + HEALTH_PATH, timeout=SLACK_ACK_DEADLINE).status_code in (200, 503)
    finally:
        for sock in flood:
            sock.close()
    assert "Traceback" not in bot.stop()


def closed_by_peer(sock: socket.socket) -> bool:
    """Whether the server has closed ``sock`` (never blocks: the socket is non-blocking)."""
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def test_idle_connections_are_closed_after_the_configured_timeout(stack: LocalStack) -> None:
    wsgi_app = SlackWsgiApp(build_app(stack.bot), lambda: health_report(stack.bot), signing_secret=SIGNING_SECRET)
    server = HttpServer(
        wsgi_app,
        host="127.0.0.1",
        port=0,
        threads=4,
        limits=ServerLimits(connection_limit=40, channel_timeout=1, cleanup_interval=1),
    )
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    flood = idle_connections(server.port, 40)  # every slot the server has
    try:
        for sock in flood:
            sock.setblocking(False)
        # Timeout 1 s, looked for every second: all gone within about 2 s; 4 s is the margin of a busy machine.
        wait_until(lambda: all(closed_by_peer(sock) for sock in flood), timeout=4, every=0.05)
        # The slots are free again: Slack's request is answered at once.
        with SlackRequestSender(f"http://127.0.0.1:{server.port}{EVENTS_PATH}", SIGNING_SECRET, timeout=2) as sender:
            assert sender.command(**help_command(stack)).status_code == 200
        stack.slack.wait_for(lambda: len(help_answers(stack)) == 1)
    finally:
        for sock in flood:
            sock.close()
        server.close()
        serving.join(timeout=5)
