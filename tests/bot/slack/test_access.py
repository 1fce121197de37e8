"""The bot's WebClient and its access gate, against the Slack stand-in over loopback: once the gate is closed no
request leaves, and Slack refusing a dead token closes it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack.access import Revocation, SlackAccessGate
from bot.slack.poster import SlackPoster, SlackWriteError, build_web_client
from devkit.slack_standin import SlackStandIn

CHANNEL = "C0ORDERS"
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        standin.add_channel(CHANNEL)
        yield standin


@pytest.fixture
def gate() -> SlackAccessGate:
    return SlackAccessGate()


@pytest.fixture
def revocations(gate: SlackAccessGate) -> list[Revocation]:
    seen: list[Revocation] = []
    gate.on_revoked(seen.append)
    return seen


def test_an_open_gate_lets_every_call_through(slack: SlackStandIn, gate: SlackAccessGate) -> None:
    client = build_web_client(slack.bot_token, slack.api_url, gate=gate)

    assert client.auth_test()["user_id"] == slack.bot_user_id
    assert [call.method for call in slack.calls] == ["auth.test"]


def test_a_closed_gate_answers_token_revoked_without_calling_slack(
    slack: SlackStandIn, gate: SlackAccessGate, revocations: list[Revocation]
) -> None:
    client = build_web_client(slack.bot_token, slack.api_url, gate=gate)
    poster = SlackPoster(client, interval=0)

    assert gate.revoke(Revocation("app_uninstalled", AT, "T0STANDIN"))
    assert not gate.revoke(Revocation("tokens_revoked", AT, "T0STANDIN"))  # the first one stands

    with pytest.raises(SlackApiError) as refused:
        client.conversations_members(channel=CHANNEL)
    assert refused.value.response["error"] == "token_revoked"
    with pytest.raises(SlackWriteError, match="token_revoked"):  # as every caller already handles it
        poster.post(CHANNEL, text="a card")
    assert slack.calls == []
    assert [revocation.cause for revocation in revocations] == ["app_uninstalled"]
    assert gate.revocation == Revocation("app_uninstalled", AT, "T0STANDIN")


def test_slack_refusing_a_dead_token_closes_the_gate_once(
    slack: SlackStandIn, gate: SlackAccessGate, revocations: list[Revocation]
) -> None:
    client = build_web_client(slack.bot_token, slack.api_url, gate=gate)
    slack.revoke_token()

    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel=CHANNEL, text="a card")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel=CHANNEL, text="another card")

    assert [call.method for call in slack.calls] == ["chat.postMessage"]
    assert [revocation.cause for revocation in revocations] == ["token_revoked"]


def test_other_refusals_leave_the_gate_open(slack: SlackStandIn, gate: SlackAccessGate) -> None:
    client = build_web_client(slack.bot_token, slack.api_url, gate=gate)
    slack.fail("chat.postMessage", "not_in_channel")

    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel=CHANNEL, text="a card")

    assert gate.revocation is None
    assert client.chat_postMessage(channel=CHANNEL, text="a card")["ok"]
