"""Fakes for calling listeners directly, as Bolt would: ack, respond, a WebClient and a context holding the bot.

Every fake hangs off one parent mock (``calls``), so a test can check the order of what a listener did:
the ack first, the slow work after it.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from unittest.mock import Mock

import pytest
from pytest_mock import MockerFixture
from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.domain.accounts import AccountRecord
from bot.domain.orders import OrderRecord
from bot.services.acceptance import AcceptanceService
from bot.services.accounts import AccountService
from bot.services.orders import OrderDesk
from bot.services.permissions import Permissions
from bot.services.shipping import ShippingService
from bot.services.status import StatusService
from bot.slack.poster import SlackPoster
from bot.ui.screens import Screens
from handlers.deps import BOT_KEY
from rakuten.models import Money
from tests import factories
from tests.i18n import ENGLISH

USER = "U0SELLER"
ADMIN = "U0ADMIN"
CHANNEL = "C0ORDERS"
LOGIN = "boutique-test"
TRIGGER = "1700000000.1.abcdef"

_SERVICES = {
    "accounts": AccountService,
    "acceptance": AcceptanceService,
    "desk": OrderDesk,
    "permissions": Permissions,
    "shipping": ShippingService,
    "status": StatusService,
    "screens": Screens,
    "poster": SlackPoster,
}


@pytest.fixture
def calls(mocker: MockerFixture) -> Mock:
    """Parent of every fake below: ``calls.mock_calls`` lists what the listener did, in order."""
    return mocker.Mock()


@pytest.fixture
def ack(mocker: MockerFixture, calls: Mock) -> Mock:
    fake = mocker.create_autospec(Ack())  # an instance as spec: calls are checked against Ack.__call__
    calls.attach_mock(fake, "ack")
    return fake


@pytest.fixture
def respond(mocker: MockerFixture, calls: Mock) -> Mock:
    fake = mocker.create_autospec(Respond(response_url="https://hooks.slack.test/response"))
    calls.attach_mock(fake, "respond")
    return fake


@pytest.fixture
def client(mocker: MockerFixture, calls: Mock) -> Mock:
    fake = mocker.Mock(spec=WebClient)
    calls.attach_mock(fake, "client")
    return fake


@pytest.fixture
def bot(mocker: MockerFixture, calls: Mock) -> SimpleNamespace:
    """The services a listener reaches through ``context["bot"]``, each a mock with the real signatures."""
    services: dict[str, Any] = {}
    for name, cls in _SERVICES.items():
        services[name] = mocker.create_autospec(cls, instance=True)
        calls.attach_mock(services[name], name)
    # Work after the ack runs at once here, so a test sees it in order after the ack.
    services["slack_work"] = SimpleNamespace(submit=lambda job: job())
    services["languages"] = ENGLISH
    return SimpleNamespace(**services)


@pytest.fixture
def context(bot: SimpleNamespace) -> BoltContext:
    return BoltContext({BOT_KEY: bot})


def first_call_name(calls: Mock) -> str:
    return calls.mock_calls[0][0]


def account(login: str = LOGIN, **changes: Any) -> AccountRecord:
    return factories.account(login, channel_id=CHANNEL, **changes)


def order(*itemids: str, shipping_type: str = "Suivi") -> OrderRecord:
    price = Money(Decimal("9.90"))
    return factories.order(
        *(factories.item(itemid, headline=f"Article {itemid}", price=price) for itemid in itemids or ("9001",)),
        account=LOGIN,
        purchaseid="480000001",
        shipping_type=shipping_type,
    )
