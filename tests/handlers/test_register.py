"""The wiring: ``register_handlers`` puts the bot in every listener's context and routes each kind of request.

A real Bolt App dispatches the requests; Slack's Web API and response URLs are the stand-in on loopback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.models.views import View

from bot.constants import ACTION_ACCEPT, COMMAND
from bot.domain.orders import OrderRef
from bot.domain.sentences import said
from bot.services.item_actions import Submission
from bot.services.permissions import Decision
from bot.ui.refs import encode_order_ref
from devkit.slack_requests import app_home_opened_event, event_callback_body
from devkit.slack_standin import SlackStandIn
from handlers import register_handlers
from tests.handlers.conftest import CHANNEL, LOGIN, USER

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        standin.add_channel(CHANNEL, members=[USER])
        standin.add_user(USER)
        yield standin


@pytest.fixture
def app(slack: SlackStandIn, bot: SimpleNamespace) -> App:
    application = App(
        client=WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=5),
        signing_secret="signatures-are-tested-end-to-end",
        request_verification_enabled=False,
        token_verification_enabled=False,
        process_before_response=True,  # listeners finish inside dispatch(): the test sees their effects
    )
    register_handlers(application, bot)  # type: ignore[arg-type]
    return application


def dispatch(app: App, body: str, content_type: str = FORM) -> BoltResponse:
    return app.dispatch(BoltRequest(body=body, headers={"content-type": [content_type]}))


def command_body(text: str, response_url: str) -> str:
    fields = {
        "command": COMMAND,
        "text": text,
        "user_id": USER,
        "channel_id": CHANNEL,
        "team_id": "T0STANDIN",
        "trigger_id": "1.2.3",
        "response_url": response_url,
    }
    return urlencode(fields)


def test_a_slash_command_reaches_the_rakuten_listener_with_the_bot(
    app: App, slack: SlackStandIn, bot: SimpleNamespace
) -> None:
    bot.shipping.ship_command.return_value = Submission(said("Usage: `/rakuten ship ORDER CARRIER TRACKING [URL]`"))
    bot.shipping.start.side_effect = lambda submission: submission.answer

    response = dispatch(app, command_body("ship 1", slack.new_response_url(CHANNEL, user_id=USER)))

    assert response.status == 200
    bot.shipping.ship_command.assert_called_once_with(USER, "1")
    assert [answer["text"] for answer in slack.responses] == ["Usage: `/rakuten ship ORDER CARRIER TRACKING [URL]`"]


def test_a_refusal_in_the_ack_is_the_http_answer(app: App, slack: SlackStandIn, bot: SimpleNamespace) -> None:
    bot.accounts.may_connect.return_value = Decision(False, "Only the bot's admins can connect an account.")

    response = dispatch(app, command_body("connect", slack.new_response_url(CHANNEL, user_id=USER)))

    assert response.status == 200
    assert "Only the bot's admins can connect an account." in json.loads(response.body)["text"]
    assert slack.calls_to("views.open") == []


def test_a_button_click_reaches_the_accept_listener(app: App, slack: SlackStandIn, bot: SimpleNamespace) -> None:
    bot.acceptance.accept.return_value = Submission(said("Accepting order 480000001 (1 item) on Rakuten…"))
    bot.acceptance.start.side_effect = lambda submission: submission.answer
    payload = {
        "type": "block_actions",
        "user": {"id": USER},
        "team": {"id": "T0STANDIN"},
        "trigger_id": "1.2.3",
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": "1.000001"},
        "channel": {"id": CHANNEL},
        "response_url": slack.new_response_url(CHANNEL, user_id=USER),
        "actions": [
            {"action_id": ACTION_ACCEPT, "block_id": "b", "value": encode_order_ref(OrderRef(LOGIN, "480000001"))}
        ],
    }

    response = dispatch(app, urlencode({"payload": json.dumps(payload)}))

    assert response.status == 200
    bot.acceptance.accept.assert_called_once_with(USER, OrderRef(LOGIN, "480000001"))
    assert [answer["text"] for answer in slack.responses] == ["Accepting order 480000001 (1 item) on Rakuten…"]


def test_app_home_opened_reaches_the_home_listener(app: App, slack: SlackStandIn, bot: SimpleNamespace) -> None:
    bot.screens.home.return_value = View(type="home", blocks=[SectionBlock(text="Rakuten orders")])

    response = dispatch(app, event_callback_body(event=app_home_opened_event(USER)).decode(), "application/json")

    assert response.status == 200
    bot.screens.home.assert_called_once_with(USER)
    assert slack.published_home(USER) is not None
