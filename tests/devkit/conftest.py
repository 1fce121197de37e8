"""Fixtures shared by the devtools tests: a workspace on the Slack stand-in with a controllable clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from devkit.slack_standin import SlackStandIn

ORDERS = "C0ORDERS"
SELLER = "U0SELLER"
PACKER = "U0PACKER"
OUTSIDER = "U0OUTSIDER"


class FakeClock:
    """A clock that only moves when told to: trigger and response-URL expiry without sleeping."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def standin(clock: FakeClock) -> Iterator[SlackStandIn]:
    with SlackStandIn(clock=clock) as running:
        running.add_channel(ORDERS, members=[SELLER, PACKER], name="rakuten-orders")
        running.add_user(SELLER, name="seller", is_admin=True)
        running.add_user(PACKER, name="packer")
        running.add_user(OUTSIDER, name="outsider")
        yield running


@pytest.fixture
def client(standin: SlackStandIn) -> WebClient:
    return WebClient(token=standin.bot_token, base_url=standin.api_url, timeout=5)
