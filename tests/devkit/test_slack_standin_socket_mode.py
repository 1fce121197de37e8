"""Socket Mode on the Slack stand-in, driven by slack_sdk's own built-in Socket Mode client over loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin.client import SocketModeClient

from devkit.local_stack import wait_until
from devkit.slack_standin import SlackStandIn


@pytest.fixture
def socket_client(standin: SlackStandIn, client: WebClient) -> Iterator[tuple[SocketModeClient, list[dict]]]:
    """A Socket Mode client on the stand-in's app token, with the messages it received."""
    received: list[dict] = []
    lock = threading.Lock()

    def keep(raw: str) -> None:
        with lock:
            received.append(json.loads(raw))

    sdk_client = SocketModeClient(
        app_token=standin.app_token, web_client=client, auto_reconnect_enabled=False, on_message_listeners=[keep]
    )
    yield sdk_client, received
    sdk_client.close()


def test_apps_connections_open_takes_the_app_token_and_points_at_a_websocket(
    standin: SlackStandIn, client: WebClient
) -> None:
    answer = client.apps_connections_open(app_token=standin.app_token)

    assert answer["url"].startswith(standin.base_url.replace("http://", "ws://") + "/link/?ticket=")
    assert f"app_id={standin.app_id}" in answer["url"]


@pytest.mark.parametrize(("token_kind", "error"), [("bot", "not_allowed_token_type"), ("wrong", "invalid_auth")])
def test_apps_connections_open_refuses_any_other_token(
    standin: SlackStandIn, client: WebClient, token_kind: str, error: str
) -> None:
    token = standin.bot_token if token_kind == "bot" else "xapp-1-not-the-app-token"

    with pytest.raises(SlackApiError) as refused:
        client.apps_connections_open(app_token=token)

    assert refused.value.response["error"] == error


def test_web_api_methods_refuse_the_app_token(standin: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as refused:
        WebClient(token=standin.app_token, base_url=standin.api_url).auth_test()

    assert refused.value.response["error"] == "not_allowed_token_type"


def test_the_sdk_client_connects_is_greeted_with_hello_and_its_pings_answered(
    standin: SlackStandIn, socket_client: tuple[SocketModeClient, list[dict]]
) -> None:
    sdk_client, received = socket_client

    sdk_client.connect()

    wait_until(lambda: bool(received), timeout=5)
    assert received[0]["type"] == "hello"
    assert received[0]["num_connections"] == 1
    assert sdk_client.is_connected()
    (connection,) = standin.socket_connections
    assert connection.open
    # The SDK pings as soon as it is connected and notes the pong: that is how it tells a live connection.
    session = sdk_client.current_session
    assert session is not None
    wait_until(lambda: session.last_ping_pong_time is not None, timeout=5)


def test_closing_the_client_closes_the_connection(
    standin: SlackStandIn, socket_client: tuple[SocketModeClient, list[dict]]
) -> None:
    sdk_client, received = socket_client
    sdk_client.connect()
    wait_until(lambda: bool(received), timeout=5)

    sdk_client.close()

    standin.wait_for(lambda: not standin.socket_connections[0].open)
    assert standin.socket_connections[0].closed_by == "client"


def test_stopping_the_stand_in_ends_open_connections(client: WebClient) -> None:
    standin = SlackStandIn().start()
    local_client = WebClient(token=standin.bot_token, base_url=standin.api_url, timeout=5)
    greeted = threading.Event()
    sdk_client = SocketModeClient(
        app_token=standin.app_token,
        web_client=local_client,
        auto_reconnect_enabled=False,
        on_message_listeners=[lambda raw: greeted.set()],
    )
    try:
        sdk_client.connect()
        assert greeted.wait(5)

        standin.stop()

        wait_until(lambda: not standin.socket_connections[0].open, timeout=5)
        assert standin.socket_connections[0].closed_by == "server"
    finally:
        sdk_client.close()
        standin.stop()


def test_a_ticket_opens_one_connection_only(standin: SlackStandIn, client: WebClient) -> None:
    url = client.apps_connections_open(app_token=standin.app_token)["url"].replace("ws://", "http://")
    handshake = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"}
    key = {"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}

    with httpx.stream("GET", url, headers={**handshake, **key}, timeout=5) as first:
        assert first.status_code == 101
        assert first.headers["Sec-WebSocket-Accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455's own example
    second = httpx.get(url, headers={**handshake, **key}, timeout=5)

    assert second.status_code == 401
    standin.wait_for(lambda: len(standin.socket_connections) == 1 and not standin.socket_connections[0].open)
