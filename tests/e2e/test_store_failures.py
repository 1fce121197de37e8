"""The data dir stops taking writes mid-run (full disk, read-only): every poll fails loudly — counted, told in
the channel once with a plain reason, ``GET /healthz`` 503 with the reason in ``problems`` — nothing is lost
or half-stored, and the first good poll posts what was missed, once, with one recovery message.

The whole app stack over loopback (simulator, Slack stand-in, the app's HTTP server); see ``disks`` for how
the disk breaks. The channel speaks the stack's language (each test runs in English and in French, see
``conftest``); ``/healthz`` speaks English, to operators.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pytest_mock import MockerFixture

from bot.constants import ORDER_EVENT_TYPE
from bot.slack.http_server import EVENTS_PATH, HEALTH_PATH
from devkit.local_stack import CHANNEL, LOGIN, LocalStack
from devkit.slack_standin import StoredMessage
from tests.e2e.conftest import StackFactory
from tests.e2e.disks import BreakableDisk, breakable_disk
from tests.e2e.wording import ANY, polling_failed, reachable_again, says, shown

# Why polls fail, as /healthz tells operators (in English) and the channel alert tells the shop (its language).
REASONS = {"full": "data directory is full", "read-only": "data directory is read-only"}
ALERT_REASONS = {
    "full": "the bot's data directory is full, so new orders cannot be saved ({detail}); free some space",
    "read-only": "the bot's data directory is read-only, so new orders cannot be saved ({detail})",
}


@pytest.fixture(params=["full", "read-only"])
def disk(request: pytest.FixtureRequest, tmp_path: Path, mocker: MockerFixture) -> Iterator[BreakableDisk]:
    broken = breakable_disk(request.param, tmp_path, mocker)
    broken.kind = request.param  # type: ignore[attr-defined]
    yield broken
    broken.close()


@pytest.fixture
def data_dir(disk: BreakableDisk) -> Path:
    return disk.data_dir


def healthz(stack: LocalStack) -> httpx.Response:
    return httpx.get(stack.app_url.removesuffix(EVENTS_PATH) + HEALTH_PATH, timeout=5)


def notices(stack: LocalStack) -> list[StoredMessage]:
    return [m for m in stack.slack.messages(CHANNEL) if (m.metadata or {}).get("event_type") != ORDER_EVENT_TYPE]


def cards_for(stack: LocalStack, purchaseids: list[str]) -> dict[str, int]:
    return {pid: sum(pid in card.text for card in stack.cards()) for pid in purchaseids}


def test_polls_fail_loudly_while_the_data_dir_takes_no_writes_and_nothing_is_lost(
    make_stack: StackFactory, disk: BreakableDisk
) -> None:
    reason = REASONS[disk.kind]  # type: ignore[attr-defined]
    stack = make_stack(poll_seconds=3600, failure_alert_threshold=2)
    earlier = stack.simulator.add_sale(LOGIN)
    stack.bot.start_polling()  # the first poll runs now, in the scheduler; the next ones are this test's
    stack.slack.wait_for(lambda: cards_for(stack, [earlier]) == {earlier: 1}, timeout=10)
    stack.wait_until(lambda: not stack.poll().skipped, timeout=10)  # that first poll is over
    assert healthz(stack).status_code == 200
    missed = stack.simulator.generate_sales(LOGIN, 6, express_ratio=0)

    disk.break_writes()
    outcomes = [stack.poll() for _ in range(3)]

    for outcome in outcomes:
        assert not outcome.ok
    # Told once, in plain words, when the threshold was reached; not once per poll.
    (alert,) = notices(stack)
    assert says(alert.text, polling_failed(stack.t, 2))
    told_reason = stack.t.gettext(ALERT_REASONS[disk.kind], detail=ANY)  # type: ignore[attr-defined]
    assert says(shown(alert.blocks), told_reason)
    unhealthy = healthz(stack)
    assert unhealthy.status_code == 503
    (account,) = unhealthy.json()["accounts"]
    assert account["consecutive_failures"] == 3
    (problem,) = unhealthy.json()["problems"]
    assert LOGIN in problem
    assert reason in problem
    # Nothing posted that could not be recorded, nothing half-stored: the orders are simply not known yet.
    assert cards_for(stack, missed) == dict.fromkeys(missed, 0)
    assert [stack.bot.store.get_order(LOGIN, pid) for pid in missed] == [None] * len(missed)

    disk.repair()
    recovered = stack.poll()

    assert recovered.ok, recovered.error
    assert recovered.cards_posted == len(missed)
    assert cards_for(stack, missed) == dict.fromkeys(missed, 1)
    assert cards_for(stack, [earlier]) == {earlier: 1}
    alert_again, back = notices(stack)
    assert alert_again.ts == alert.ts
    assert says(back.text, reachable_again(stack.t))
    assert healthz(stack).status_code == 200
    assert healthz(stack).json()["problems"] == []
    # Recorded for good: a restart posts nothing again.
    stack.stop_app()
    stack.start_app()
    assert stack.poll().cards_posted == 0
    assert cards_for(stack, missed) == dict.fromkeys(missed, 1)
    assert all(stack.bot.store.get_order(LOGIN, pid).card is not None for pid in missed)  # type: ignore[union-attr]
    assert len(notices(stack)) == 2
