"""KeepAliveWebClient: slack_sdk's answers, errors and retries unchanged, over connections kept between calls."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.error import URLError

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack import web_api
from bot.slack.web_api import KeepAliveWebClient, keep_alive_client


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append((self.client_address[1], self.path, dict(self.headers), body))
        status, answer, headers = self.server.answers.pop(0) if self.server.answers else (200, {"ok": True}, {})
        payload = json.dumps(answer).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json; charset=utf-8", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        if self.server.hang_up_after_answer:
            self.close_connection = True  # silently: no "Connection: close" was announced

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[int, str, dict[str, str], bytes]] = []
        self.answers: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        self.hang_up_after_answer = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/"

    def connections(self) -> int:
        return len({port for port, *_ in self.seen})


@pytest.fixture
def server() -> Iterator[_Server]:
    running = _Server()
    thread = threading.Thread(target=running.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


def client(server: _Server, **kwargs: Any) -> KeepAliveWebClient:
    return KeepAliveWebClient(token="xoxb-test", base_url=server.url, **kwargs)


def test_calls_from_one_thread_share_one_connection(server: _Server) -> None:
    web = client(server)
    assert web.chat_postMessage(channel="C1", text="one")["ok"]
    assert web.views_open(trigger_id="t", view={"type": "modal"})["ok"]
    assert keep_alive_client(web).auth_test()["ok"]  # another client built alike: the same connection
    assert [path for _, path, *_ in server.seen] == ["/api/chat.postMessage", "/api/views.open", "/api/auth.test"]
    assert server.connections() == 1


def test_the_request_is_the_one_urllib_sends(server: _Server) -> None:
    client(server).views_open(trigger_id="t", view={"type": "modal", "title": "é"})
    WebClient(token="xoxb-test", base_url=server.url).views_open(trigger_id="t", view={"type": "modal", "title": "é"})
    (_, _, kept_headers, kept_body), (_, _, plain_headers, plain_body) = server.seen
    assert kept_body == plain_body
    assert kept_headers.pop("Connection", None) is None  # HTTP/1.1 keeps it open by default
    assert plain_headers.pop("Connection") == "close"
    assert kept_headers == plain_headers


def test_a_connection_the_server_closed_while_idle_is_replaced_at_once(server: _Server) -> None:
    server.hang_up_after_answer = True
    web = client(server)
    web.retry_handlers = []  # no slack_sdk retry: the replacement is the client's own
    for text in ("one", "two", "three"):
        assert web.chat_postMessage(channel="C1", text=text)["ok"]
    assert len(server.seen) == 3
    assert server.connections() == 3


def test_a_connection_idle_too_long_is_not_reused(server: _Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_api, "IDLE_SECONDS", -1.0)
    web = client(server)
    web.auth_test()
    web.auth_test()
    assert server.connections() == 2


def test_each_thread_has_its_own_connection(server: _Server) -> None:
    web = client(server)
    web.auth_test()
    worker = threading.Thread(target=web.auth_test)
    worker.start()
    worker.join()
    assert server.connections() == 2


def test_slack_s_refusals_and_rate_limits_read_as_with_urllib(server: _Server) -> None:
    refused = (200, {"ok": False, "error": "channel_not_found"}, {})
    limited = (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"})
    outcomes = []
    for web in (client(server), WebClient(token="xoxb-test", base_url=server.url)):
        web.retry_handlers = []
        server.answers = [refused, limited]
        for _ in range(2):
            with pytest.raises(SlackApiError) as raised:
                web.chat_postMessage(channel="C1", text="x")
            response = raised.value.response
            outcomes.append((response.status_code, response["error"], response.headers.get("Retry-After")))
    assert outcomes[:2] == outcomes[2:] == [(200, "channel_not_found", None), (429, "ratelimited", "7")]
    assert server.connections() == 3  # the kept client's one, and urllib's one per call


def test_a_slack_that_cannot_be_reached_fails_as_with_urllib() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once closed
    web = KeepAliveWebClient(token="xoxb-test", base_url=f"http://127.0.0.1:{port}/api/")
    web.retry_handlers = []
    with pytest.raises(URLError):
        web.auth_test()
