"""``devkit.stack_server``: the stand-ins driven by JSON lines, as a benchmark drives them from another process."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient

from devkit.local_stack import CHANNEL, LOGIN, SELLER, TOKEN, furnish
from devkit.rakuten_simulator import RakutenSimulator
from devkit.slack_standin import SlackStandIn
from devkit.stack_server import bot_environment, serve_control, urls
from rakuten.client import RakutenClient


@pytest.fixture
def stand_ins() -> Iterator[tuple[RakutenSimulator, SlackStandIn]]:
    with RakutenSimulator(seed=3) as simulator, SlackStandIn() as slack:
        furnish(simulator, slack)
        yield simulator, slack


def control(stand_ins: tuple[RakutenSimulator, SlackStandIn], *requests: dict[str, Any]) -> list[dict[str, Any]]:
    answers = io.StringIO()
    lines = "".join(json.dumps(request) + "\n" for request in requests)
    serve_control(*stand_ins, io.StringIO(lines + "\n"), answers)
    return [json.loads(line) for line in answers.getvalue().splitlines()]


def test_sales_added_over_the_control_lines_are_what_rakuten_serves(
    stand_ins: tuple[RakutenSimulator, SlackStandIn],
) -> None:
    simulator, _ = stand_ins
    [added] = control(stand_ins, {"op": "generate_sales", "args": {"login": LOGIN, "count": 3}})
    assert added["ok"]
    with RakutenClient(LOGIN, TOKEN, base_url=simulator.url) as client:
        sales = client.get_current_sales(date.today() - timedelta(days=30))
    assert sorted(sale.purchaseid for sale in sales) == sorted(added["result"])
    [seen] = control(stand_ins, {"op": "requests", "args": {"login": LOGIN, "action": "getcurrentsales"}})
    assert len(seen["result"]) >= 1
    assert seen["result"][0]["params"]["pwd"] == "***"  # the token never leaves the simulator
    [items] = control(stand_ins, {"op": "sale_items", "args": {"purchaseid": added["result"][0]}})
    assert {item["status"] for item in items["result"]} == {"ACCEPTED"}


def test_a_posted_message_comes_back_as_a_click_carries_it_with_fresh_interaction_tokens(
    stand_ins: tuple[RakutenSimulator, SlackStandIn],
) -> None:
    _, slack = stand_ins
    client = WebClient(token=slack.bot_token, base_url=slack.api_url)
    posted = client.chat_postMessage(
        channel=CHANNEL, text="card", metadata={"event_type": "rakuten_order", "event_payload": {"purchaseid": "1"}}
    )
    messages, minted, calls = control(
        stand_ins,
        {"op": "messages", "args": {"channel": CHANNEL}},
        {"op": "interactions", "args": {"clicks": [{"channel": CHANNEL, "user": SELLER, "message_ts": posted["ts"]}]}},
        {"op": "calls", "args": {"method": "chat.postMessage"}},
    )
    [message] = messages["result"]
    assert (message["ts"], message["channel"], message["metadata"]["event_payload"]) == (
        posted["ts"],
        CHANNEL,
        {"purchaseid": "1"},
    )
    [tokens] = minted["result"]
    assert tokens["response_url"].startswith(slack.response_url_base)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "callback_id": "cb", "blocks": []}
    assert client.views_open(trigger_id=tokens["trigger_id"], view=view)["ok"]
    [opened] = control(stand_ins, {"op": "views", "args": {"callback_id": "cb"}})
    assert len(opened["result"]) == 1
    assert [(call["method"], call["channel"], call["status"]) for call in calls["result"]] == [
        ("chat.postMessage", CHANNEL, 200)
    ]


def test_an_unknown_or_failing_operation_is_answered_with_its_reason_and_serving_goes_on(
    stand_ins: tuple[RakutenSimulator, SlackStandIn],
) -> None:
    unknown, failing, fine = control(
        stand_ins,
        {"op": "format_disk"},
        {"op": "generate_sales", "args": {"login": "nobody", "count": 1}},
        {"op": "messages", "args": {"channel": CHANNEL}},
    )
    assert unknown == {"ok": False, "error": "KeyError: 'format_disk'"}
    assert not failing["ok"]
    assert "nobody" in failing["error"]
    assert fine == {"ok": True, "result": []}


def test_the_environment_printed_points_a_bot_at_the_stand_ins(
    stand_ins: tuple[RakutenSimulator, SlackStandIn],
) -> None:
    simulator, slack = stand_ins
    env = bot_environment(urls(simulator, slack))
    assert (env["RAKUTEN_API_URL"], env["SLACK_API_URL"]) == (simulator.url, slack.api_url)
    assert (env["RAKUTEN_LOGIN"], env["RAKUTEN_TOKEN"], env["RAKUTEN_CHANNEL"]) == (LOGIN, TOKEN, CHANNEL)
    assert env["SLACK_BOT_TOKEN"] == slack.bot_token
