"""Failures nobody foresaw are failed polls like any other: counted, ``GET /healthz`` 503 while they last, told in
the channel once when Slack can be reached, and the first good poll posts what was missed.

- a bug inside a poll: a RuntimeError raised by the poll's reconciliation step (patched in the running app),
  where a real one would come from; the traceback goes to the log, the channel gets a plain reason;
- Slack not answering at all (the connection drops: a network cut, an outage), including while the poll tries
  to post the outage alert: the failures are still counted.

The whole app stack over loopback. The channel speaks the stack's language (each test runs in English and in French,
see ``conftest``); ``/healthz`` speaks English, to operators.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from bot.constants import ORDER_EVENT_TYPE
from bot.domain.accounts import FailureKind
from bot.slack.http_server import EVENTS_PATH, HEALTH_PATH
from devkit.local_stack import CHANNEL, LOGIN, LocalStack
from devkit.slack_standin import StoredMessage
from tests.e2e.conftest import StackFactory, only_in
from tests.e2e.wording import polling_failed, reachable_again, says, shown

BUG = "an unexpected error in the bot ({detail}); the details are in its log"
REASON = BUG.format(detail="RuntimeError")  # as /healthz tells operators, in English


def healthz(stack: LocalStack) -> httpx.Response:
    return httpx.get(stack.app_url.removesuffix(EVENTS_PATH) + HEALTH_PATH, timeout=5)


def notices(stack: LocalStack) -> list[StoredMessage]:
    return [m for m in stack.slack.messages(CHANNEL) if (m.metadata or {}).get("event_type") != ORDER_EVENT_TYPE]


def cards_for(stack: LocalStack, purchaseids: list[str]) -> dict[str, int]:
    return {pid: sum(pid in card.text for card in stack.cards()) for pid in purchaseids}


def reconcile_with_a_bug(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("list index out of range, somewhere in reconciliation")


def test_a_bug_inside_a_poll_fails_it_loudly_once_and_the_next_good_poll_recovers_once(
    make_stack: StackFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    stack = make_stack(poll_seconds=3600, failure_alert_threshold=2)
    earlier = stack.simulator.add_sale(LOGIN)
    stack.bot.start_polling()  # the first poll runs now, in the scheduler; the next ones are this test's
    stack.slack.wait_for(lambda: cards_for(stack, [earlier]) == {earlier: 1}, timeout=10)
    stack.wait_until(lambda: not stack.poll().skipped, timeout=10)  # that first poll is over
    assert healthz(stack).status_code == 200
    missed = stack.simulator.generate_sales(LOGIN, 2, express_ratio=0)

    monkeypatch.setattr("bot.services.poller.reconcile", reconcile_with_a_bug)
    with caplog.at_level(logging.ERROR, logger="bot.services.poller"):
        outcomes = [stack.poll() for _ in range(3)]

    assert [(outcome.ok, outcome.failure and outcome.failure.kind) for outcome in outcomes] == [
        (False, FailureKind.BUG)
    ] * 3
    # Told once, when the threshold was reached, in words; the traceback is in the log, each time.
    (alert,) = notices(stack)
    assert says(alert.text, polling_failed(stack.t, 2))
    assert stack.t.gettext(BUG, detail="RuntimeError") in shown(alert.blocks)
    assert "list index out of range" not in str(alert.blocks)
    tracebacks = [record for record in caplog.records if record.exc_info is not None]
    assert [type(record.exc_info[1]) for record in tracebacks] == [RuntimeError] * 3  # type: ignore[index]
    unhealthy = healthz(stack)
    assert unhealthy.status_code == 503
    (account,) = unhealthy.json()["accounts"]
    assert account["consecutive_failures"] == 3
    assert account["last_error"] == REASON
    (problem,) = unhealthy.json()["problems"]
    assert problem == f"polling account {LOGIN} has failed 3 times in a row: {REASON}"
    assert cards_for(stack, missed) == dict.fromkeys(missed, 0)

    monkeypatch.undo()
    recovered = stack.poll()

    assert recovered.ok, recovered.error
    assert recovered.cards_posted == len(missed)
    assert cards_for(stack, [earlier, *missed]) == dict.fromkeys([earlier, *missed], 1)
    alert_again, back = notices(stack)
    assert alert_again.ts == alert.ts
    assert says(back.text, reachable_again(stack.t))
    assert healthz(stack).status_code == 200
    assert stack.poll().ok
    assert len(notices(stack)) == 2  # one recovery message, not one per good poll


@only_in("en")  # no words reach Slack (it is down; /healthz is English) and each post waits out its timeout: once
def test_slack_not_answering_fails_polls_loudly_and_the_orders_wait_for_it(make_stack: StackFactory) -> None:
    stack = make_stack(poll_seconds=3600, failure_alert_threshold=2)
    earlier = stack.simulator.add_sale(LOGIN)
    stack.bot.start_polling()
    stack.slack.wait_for(lambda: cards_for(stack, [earlier]) == {earlier: 1}, timeout=10)
    stack.wait_until(lambda: not stack.poll().skipped, timeout=10)
    missed = stack.simulator.generate_sales(LOGIN, 2, express_ratio=0)

    stack.slack.go_offline()
    outcomes = [stack.poll() for _ in range(3)]

    assert [(outcome.ok, outcome.failure and outcome.failure.kind) for outcome in outcomes] == [
        (False, FailureKind.SLACK)
    ] * 3
    assert [call.status for call in stack.slack.calls_to("chat.postMessage")][-1] == 0  # the alert was tried
    unhealthy = healthz(stack)
    assert unhealthy.status_code == 503
    (account,) = unhealthy.json()["accounts"]
    assert account["consecutive_failures"] == 3
    (problem,) = unhealthy.json()["problems"]
    assert problem.startswith(f"polling account {LOGIN} has failed 3 times in a row: Slack: ")
    assert "no answer from Slack" in problem

    stack.slack.go_offline(False)
    recovered = stack.poll()

    assert recovered.ok, recovered.error
    assert cards_for(stack, [earlier, *missed]) == dict.fromkeys([earlier, *missed], 1)
    assert notices(stack) == []  # no alert could be posted, so there is no recovery to announce
    assert healthz(stack).status_code == 200
