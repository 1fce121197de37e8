"""Signed Slack-style requests, accepted by a real Bolt App that talks to the Slack stand-in."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import Ack, App, BoltRequest, BoltResponse, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from devkit.slack_requests import (
    FORM_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    SlackRequestSender,
    app_home_opened_event,
    block_actions_body,
    event_callback_body,
    sign,
    slash_command_body,
    static_select_state,
    text_input_state,
    view_submission_body,
)
from devkit.slack_standin import SlackStandIn
from tests.devkit.conftest import ORDERS, PACKER, SELLER

SECRET = "test-signing-secret"
CARD_BLOCKS = [
    {"type": "section", "block_id": "order_summary", "text": {"type": "mrkdwn", "text": "*Order 1001*"}},
    {
        "type": "actions",
        "block_id": "order_actions",
        "elements": [
            {
                "type": "button",
                "action_id": "order_mark_shipped",
                "text": {"type": "plain_text", "text": "Mark shipped"},
                "style": "primary",
                "value": "1001",
            }
        ],
    },
]
SHIP_MODAL = {
    "type": "modal",
    "callback_id": "ship_modal",
    "title": {"type": "plain_text", "text": "Mark shipped"},
    "submit": {"type": "plain_text", "text": "Ship"},
    "blocks": [
        {
            "type": "input",
            "block_id": "ship_tracking_number",
            "label": {"type": "plain_text", "text": "Tracking number"},
            "element": {"type": "plain_text_input", "action_id": "ship_tracking_number_input"},
        }
    ],
}


@pytest.fixture(autouse=True)
def no_slack_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Bolt switches to OAuth or another token when SLACK_* variables are present.
    for name in [name for name in os.environ if name.startswith("SLACK_")]:
        monkeypatch.delenv(name)


def make_app(standin: SlackStandIn) -> App:
    client = WebClient(token=standin.bot_token, base_url=standin.api_url, timeout=5)
    # process_before_response: dispatch() returns only once the listener finished, so asserts need no waiting.
    return App(client=client, signing_secret=SECRET, process_before_response=True)


def dispatch(app: App, body: bytes, content_type: str, *, headers: dict[str, str] | None = None) -> BoltResponse:
    signed = headers if headers is not None else sign(SECRET, body)
    return app.dispatch(BoltRequest(body=body.decode(), headers={"content-type": content_type, **signed}))


def command_body(standin: SlackStandIn, text: str = "status") -> bytes:
    return slash_command_body(
        command="/rakuten",
        text=text,
        user_id=SELLER,
        channel_id=ORDERS,
        trigger_id=standin.new_trigger_id(),
        response_url=standin.new_response_url(ORDERS, user_id=SELLER),
        user_name="seller",
    )


# --------------------------------------------------------------------------- signing


def test_sign_is_slacks_v0_hmac_sha256() -> None:
    body = b"token=x&command=%2Frakuten"

    headers = sign(SECRET, body, timestamp=1_700_000_000)

    expected = hmac.new(SECRET.encode(), b"v0:1700000000:" + body, hashlib.sha256).hexdigest()
    assert headers == {"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": f"v0={expected}"}


def test_sign_uses_the_current_time_by_default() -> None:
    body = b"{}"

    headers = sign(SECRET, body)

    assert abs(int(headers["X-Slack-Request-Timestamp"]) - time.time()) < 5
    assert SignatureVerifier(SECRET).is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])


# --------------------------------------------------------------------------- payload shapes


def test_slash_command_body_has_slacks_fields(standin: SlackStandIn) -> None:
    fields = {key: values[0] for key, values in parse_qs(command_body(standin, "ship 1001").decode()).items()}

    assert fields["command"] == "/rakuten"
    assert fields["text"] == "ship 1001"
    assert (fields["user_id"], fields["user_name"], fields["channel_id"], fields["team_id"]) == (
        SELLER,
        "seller",
        ORDERS,
        "T0STANDIN",
    )
    assert fields["response_url"].startswith(standin.response_url_base)
    assert {"token", "team_domain", "channel_name", "api_app_id", "trigger_id", "is_enterprise_install"} <= set(fields)


def test_block_actions_body_takes_the_clicked_button_from_the_message() -> None:
    message = {"type": "message", "ts": "1700000000.000100", "text": "Order 1001", "blocks": CARD_BLOCKS}
    body = block_actions_body(
        user_id=PACKER,
        channel_id=ORDERS,
        message_ts="1700000000.000100",
        action_id="order_mark_shipped",
        value="1001",
        trigger_id="1.2.3",
        response_url="http://127.0.0.1:1/response/x",
        message=message,
    )

    payload = json.loads(parse_qs(body.decode())["payload"][0])

    assert payload["type"] == "block_actions"
    assert payload["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": ORDERS,
        "is_ephemeral": False,
    }
    assert payload["user"]["id"] == PACKER
    assert payload["channel"]["id"] == ORDERS
    assert payload["message"] == message
    (action,) = payload["actions"]
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == (
        "order_mark_shipped",
        "order_actions",
        "1001",
        "button",
    )
    assert (action["text"]["text"], action["style"]) == ("Mark shipped", "primary")


def test_block_actions_body_without_a_message_uses_the_given_block_id() -> None:
    body = block_actions_body(
        user_id=PACKER,
        channel_id=ORDERS,
        message_ts="1.2",
        action_id="order_accept",
        value="1001",
        trigger_id="1.2.3",
        response_url="http://127.0.0.1:1/response/x",
    )

    payload = json.loads(parse_qs(body.decode())["payload"][0])

    assert payload["actions"][0]["block_id"] == "b"
    assert payload["message"]["ts"] == "1.2"


def test_view_submission_body_carries_the_opened_view() -> None:
    opened = {
        "id": "V0000000001",
        "hash": "1700000000.abcd",
        "blocks": SHIP_MODAL["blocks"],
        "title": SHIP_MODAL["title"],
    }
    values = {"ship_tracking_number": {"ship_tracking_number_input": text_input_state("6A123")}}

    body = view_submission_body(
        user_id=PACKER,
        callback_id="ship_modal",
        private_metadata='{"order": "1001"}',
        state_values=values,
        view_id="V0000000001",
        view=opened,
    )

    payload = json.loads(parse_qs(body.decode())["payload"][0])
    assert payload["type"] == "view_submission"
    view = payload["view"]
    assert (view["id"], view["hash"], view["callback_id"], view["type"]) == (
        "V0000000001",
        "1700000000.abcd",
        "ship_modal",
        "modal",
    )
    assert view["state"]["values"] == values
    assert view["blocks"] == SHIP_MODAL["blocks"]


def test_event_callback_body_wraps_the_event() -> None:
    payload = json.loads(event_callback_body(event=app_home_opened_event(SELLER)))

    assert payload["type"] == "event_callback"
    assert payload["event"]["type"] == "app_home_opened"
    assert payload["event"]["user"] == SELLER
    assert payload["event_id"].startswith("Ev")
    assert payload["authorizations"][0]["user_id"] == "U0BOT"


def test_select_state_entries() -> None:
    assert static_select_state("colissimo", "Colissimo")["selected_option"] == {
        "text": {"type": "plain_text", "text": "Colissimo"},
        "value": "colissimo",
    }
    assert static_select_state(None)["selected_option"] is None


# --------------------------------------------------------------------------- Bolt accepts them


def test_bolt_accepts_a_signed_slash_command(standin: SlackStandIn) -> None:
    app = make_app(standin)
    seen: list[dict[str, Any]] = []

    def status(ack: Ack, command: dict[str, Any]) -> None:
        seen.append(command)
        ack(f"status for {command['user_id']}")

    app.command("/rakuten")(status)

    response = dispatch(app, command_body(standin), FORM_CONTENT_TYPE)

    assert response.status == 200
    assert response.body == f"status for {SELLER}"
    assert seen[0]["channel_id"] == ORDERS


@pytest.mark.parametrize(
    "forge",
    [
        lambda body: sign("another-secret", body),
        lambda body: sign(SECRET, body, timestamp=int(time.time()) - 6 * 60),
        lambda body: sign(SECRET, body + b"&text=tampered"),
    ],
    ids=["wrong-secret", "stale-timestamp", "tampered-body"],
)
def test_bolt_rejects_a_badly_signed_request(standin: SlackStandIn, forge: Any) -> None:
    app = make_app(standin)
    ran: list[str] = []
    app.command("/rakuten")(lambda ack: ran.append("listener") or ack())
    body = command_body(standin)

    response = dispatch(app, body, FORM_CONTENT_TYPE, headers=forge(body))

    assert response.status == 401
    assert ran == []


def test_a_button_click_opens_a_modal_and_responds(standin: SlackStandIn) -> None:
    app = make_app(standin)
    posted = app.client.chat_postMessage(channel=ORDERS, text="Order 1001", blocks=CARD_BLOCKS)
    card = standin.message(ORDERS, posted["ts"])

    def mark_shipped(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        container = body["container"]
        metadata = json.dumps({"order": body["actions"][0]["value"], "ts": container["message_ts"]})
        client.views_open(trigger_id=body["trigger_id"], view=SHIP_MODAL | {"private_metadata": metadata})
        respond(text="Opening the shipping form", replace_original=False)

    app.action("order_mark_shipped")(mark_shipped)
    body = block_actions_body(
        user_id=PACKER,
        channel_id=ORDERS,
        message_ts=card.ts,
        action_id="order_mark_shipped",
        value="1001",
        trigger_id=standin.new_trigger_id(),
        response_url=standin.new_response_url(ORDERS, user_id=PACKER, message_ts=card.ts),
        message=card.as_payload(),
    )

    response = dispatch(app, body, FORM_CONTENT_TYPE)

    assert response.status == 200
    (modal,) = standin.views.values()
    assert json.loads(modal["private_metadata"]) == {"order": "1001", "ts": card.ts}
    assert standin.responses == [{"text": "Opening the shipping form", "replace_original": False}]
    assert [e["text"] for e in standin.ephemerals(PACKER)] == ["Opening the shipping form"]


def test_a_view_submission_gets_errors_or_updates_the_card(standin: SlackStandIn) -> None:
    app = make_app(standin)
    card_ts = app.client.chat_postMessage(channel=ORDERS, text="Order 1001", blocks=CARD_BLOCKS)["ts"]

    def ship(ack: Ack, view: dict[str, Any], client: WebClient) -> None:
        tracking = view["state"]["values"]["ship_tracking_number"]["ship_tracking_number_input"]["value"]
        if not tracking:
            ack(response_action="errors", errors={"ship_tracking_number": "Enter the tracking number"})
            return
        ack()
        ts = json.loads(view["private_metadata"])["ts"]
        client.chat_update(channel=ORDERS, ts=ts, text=f"Shipped, tracking {tracking}", blocks=[])

    app.view("ship_modal")(ship)

    def submit(tracking: str | None) -> BoltResponse:
        values = {"ship_tracking_number": {"ship_tracking_number_input": text_input_state(tracking)}}
        body = view_submission_body(
            user_id=PACKER,
            callback_id="ship_modal",
            private_metadata=json.dumps({"order": "1001", "ts": card_ts}),
            state_values=values,
        )
        return dispatch(app, body, FORM_CONTENT_TYPE)

    refused = submit(None)
    accepted = submit("6A12345678")

    assert json.loads(refused.body) == {
        "response_action": "errors",
        "errors": {"ship_tracking_number": "Enter the tracking number"},
    }
    assert (accepted.status, accepted.body) == (200, "")
    assert standin.message(ORDERS, card_ts).text == "Shipped, tracking 6A12345678"


def test_an_app_home_opened_event_publishes_the_home_tab(standin: SlackStandIn) -> None:
    app = make_app(standin)

    def home(event: dict[str, Any], client: WebClient) -> None:
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": CARD_BLOCKS[:1]})

    app.event("app_home_opened")(home)

    response = dispatch(app, event_callback_body(event=app_home_opened_event(SELLER)), JSON_CONTENT_TYPE)

    assert response.status == 200
    assert standin.published_home(SELLER)["blocks"] == CARD_BLOCKS[:1]


# --------------------------------------------------------------------------- the sender, over real HTTP


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def served_app(standin: SlackStandIn) -> Iterator[tuple[App, str]]:
    app = make_app(standin)
    server: WSGIServer = make_server("127.0.0.1", 0, SlackRequestHandler(app), handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}/slack/events"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_sender_posts_signed_commands_actions_views_and_events(
    standin: SlackStandIn, served_app: tuple[App, str]
) -> None:
    app, url = served_app

    def open_modal(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=SHIP_MODAL)

    def publish_home(event: dict[str, Any], client: WebClient) -> None:
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": []})

    app.command("/rakuten")(lambda ack, command: ack(f"echo {command['text']}"))
    app.action("order_mark_shipped")(open_modal)
    app.view("ship_modal")(lambda ack: ack(response_action="clear"))
    app.event("app_home_opened")(publish_home)
    card_ts = app.client.chat_postMessage(channel=ORDERS, text="Order 1001", blocks=CARD_BLOCKS)["ts"]

    with SlackRequestSender(url, SECRET, timeout=5) as sender:
        command = sender.command(
            command="/rakuten",
            text="help",
            user_id=SELLER,
            channel_id=ORDERS,
            trigger_id=standin.new_trigger_id(),
            response_url=standin.new_response_url(ORDERS, user_id=SELLER),
        )
        action = sender.action(
            user_id=PACKER,
            channel_id=ORDERS,
            message_ts=card_ts,
            action_id="order_mark_shipped",
            value="1001",
            trigger_id=standin.new_trigger_id(),
            response_url=standin.new_response_url(ORDERS, user_id=PACKER, message_ts=card_ts),
            message=standin.message(ORDERS, card_ts).as_payload(),
        )
        submitted = sender.submit_view(
            user_id=PACKER,
            callback_id="ship_modal",
            private_metadata="{}",
            state_values={"ship_carrier": {"ship_carrier_select": static_select_state("colissimo", "Colissimo")}},
        )
        event = sender.event(app_home_opened_event(SELLER))

    assert (command.status_code, command.text) == (200, "echo help")
    assert action.status_code == 200
    assert (submitted.status_code, submitted.json()) == (200, {"response_action": "clear"})
    assert event.status_code == 200
    assert len(standin.calls_to("views.open")) == 1
    assert standin.published_home(SELLER) is not None


def test_the_sender_with_the_wrong_secret_gets_401(standin: SlackStandIn, served_app: tuple[App, str]) -> None:
    app, url = served_app
    app.command("/rakuten")(lambda ack: ack("should not run"))

    with SlackRequestSender(url, "not-the-secret", timeout=5) as sender:
        response = sender.command(
            command="/rakuten",
            text="status",
            user_id=SELLER,
            channel_id=ORDERS,
            trigger_id=standin.new_trigger_id(),
            response_url=standin.new_response_url(ORDERS, user_id=SELLER),
        )

    assert response.status_code == 401
