"""The workspace takes the bot's Slack access away (tokens revoked, app uninstalled): polling stops, the bot makes
no more Slack calls with the dead token, says so once in its log, and ``GET /healthz`` reports it.

The whole app stack over loopback, the events signed as Slack signs them and posted to the app's Request URL.
"""

from __future__ import annotations

import logging

import httpx
import pytest

from bot.slack.http_server import EVENTS_PATH, HEALTH_PATH
from devkit.local_stack import CHANNEL, LOGIN, LocalStack
from devkit.slack_requests import app_uninstalled_event, tokens_revoked_event
from tests.e2e.conftest import StackFactory

REVOKED_LOG = "Slack access revoked"


def healthz(stack: LocalStack) -> httpx.Response:
    return httpx.get(stack.app_url.removesuffix(EVENTS_PATH) + HEALTH_PATH, timeout=5)


def polling_stack(make_stack: StackFactory) -> LocalStack:
    """A stack whose first poll (at start, by the scheduler) has posted the one order there is."""
    stack = make_stack(poll_seconds=3600)
    stack.simulator.add_sale(LOGIN)
    stack.bot.start_polling()
    stack.slack.wait_for(lambda: len(stack.cards()) == 1, timeout=10)
    stack.wait_until(lambda: not stack.poll().skipped, timeout=10)  # that first poll is over
    assert healthz(stack).status_code == 200
    return stack


def test_revoked_tokens_and_uninstall_stop_polling_and_every_slack_call(
    make_stack: StackFactory, caplog: pytest.LogCaptureFixture
) -> None:
    stack = polling_stack(make_stack)
    assert stack.bot.scheduler.next_poll(LOGIN) is not None
    assert stack.sender is not None
    stack.slack.revoke_token()  # what Slack does before it tells the app

    with caplog.at_level(logging.INFO):
        revoked = stack.sender.event(tokens_revoked_event(bot_user_ids=[stack.slack.bot_user_id]))
        uninstalled = stack.sender.event(app_uninstalled_event())

    assert (revoked.status_code, uninstalled.status_code) == (200, 200)
    # Polling stopped: no job left, and one asked for (as /rakuten connect would) is not scheduled.
    assert stack.bot.scheduler.next_poll(LOGIN) is None
    stack.bot.scheduler.poll_now(LOGIN)
    assert stack.bot.scheduler.next_poll(LOGIN) is None

    slack_calls, rakuten_calls = len(stack.slack.calls), len(stack.simulator.requests)
    new_orders = stack.simulator.generate_sales(LOGIN, 3, express_ratio=0)
    outcome = stack.poll()  # the scheduler's job, run by hand: it does nothing either
    stack.bot.actions.resume_pending()  # nor does any work left for Slack

    assert outcome.skipped
    assert stack.slack.calls[slack_calls:] == []
    assert len(stack.simulator.requests) == rakuten_calls
    assert len(stack.cards()) == 1
    assert all(stack.bot.store.get_order(LOGIN, pid) is None for pid in new_orders)  # Rakuten lists them later
    unhealthy = healthz(stack)
    assert unhealthy.status_code == 503
    (problem,) = unhealthy.json()["problems"]
    assert "Slack access was revoked (tokens_revoked, workspace T0STANDIN" in problem
    assert "new SLACK_BOT_TOKEN" in problem
    assert unhealthy.json()["polling"] is False
    # Said once at WARNING, whichever of Slack's two events comes second, and never with the token.
    warnings = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert [message for message in warnings if REVOKED_LOG in message] == warnings
    assert len(warnings) == 1
    assert "tokens_revoked" in warnings[0]
    assert stack.slack.bot_token not in caplog.text


def test_uninstall_alone_is_enough(make_stack: StackFactory) -> None:
    stack = polling_stack(make_stack)
    assert stack.sender is not None
    stack.slack.revoke_token()

    assert stack.sender.event(app_uninstalled_event()).status_code == 200

    assert stack.bot.scheduler.next_poll(LOGIN) is None
    assert "Slack access was revoked (app_uninstalled" in healthz(stack).json()["problems"][0]


def test_revoked_user_tokens_leave_the_bot_working(make_stack: StackFactory) -> None:
    stack = polling_stack(make_stack)
    assert stack.sender is not None

    answer = stack.sender.event(tokens_revoked_event(user_ids=["U0ADMIN"], bot_user_ids=["U0OTHERBOT"]))

    assert answer.status_code == 200
    assert stack.bot.scheduler.next_poll(LOGIN) is not None
    later = stack.simulator.add_sale(LOGIN)
    assert stack.poll().cards_posted == 1
    assert later in stack.cards()[-1].text
    assert healthz(stack).status_code == 200


def test_slack_refusing_the_dead_token_stops_the_bot_when_the_events_never_came(
    make_stack: StackFactory, caplog: pytest.LogCaptureFixture
) -> None:
    stack = polling_stack(make_stack)
    stack.slack.revoke_token()  # the events were sent while the bot was down: it only sees Slack's refusal
    stack.simulator.add_sale(LOGIN)

    with caplog.at_level(logging.INFO):
        refused = stack.poll()
    slack_calls = len(stack.slack.calls)
    again = stack.poll()

    assert not refused.ok
    assert refused.failure is not None
    assert "token_revoked" in refused.failure.detail
    assert again.skipped
    assert stack.slack.calls[slack_calls:] == []
    assert stack.bot.scheduler.next_poll(LOGIN) is None
    assert "Slack access was revoked (token_revoked" in healthz(stack).json()["problems"][0]
    assert sum(REVOKED_LOG in record.getMessage() for record in caplog.records) == 1
    assert [m.text for m in stack.slack.messages(CHANNEL)] == [stack.cards()[0].text]
