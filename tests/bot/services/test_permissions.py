from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest.mock import Mock, call

import pytest
from pytest_mock import MockerFixture
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.sentences import said
from bot.services.permissions import BOOTSTRAP_ADMIN_KEY, MEMBERSHIP_TTL_SECONDS, Permissions
from bot.store import TinyDBStore
from tests.bot.services.conftest import ADMIN, CHANNEL, SELLER, make_account

PACKER = "U0PACKER"
OUTSIDER = "U0OUTSIDER"
GROUP = "S0PACKERS"


class Ticker:
    """A monotonic clock for the membership cache."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def slack(mocker: MockerFixture) -> Mock:
    client = mocker.Mock(spec=WebClient)
    client.conversations_members.return_value = {"members": [SELLER], "response_metadata": {"next_cursor": ""}}
    client.usergroups_users_list.return_value = {"users": [PACKER]}
    return client


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def make_permissions(slack: Mock, store: TinyDBStore, ticker: Ticker) -> Callable[..., Permissions]:
    def make(admins: frozenset[str] = frozenset({ADMIN})) -> Permissions:
        return Permissions(slack, store, admins, clock=ticker)

    return make


@pytest.fixture
def permissions(make_permissions: Callable[..., Permissions]) -> Permissions:
    return make_permissions()


def slack_error(code: str) -> SlackApiError:
    return SlackApiError(f"The request to the Slack API failed. ({code})", {"ok": False, "error": code})


# --- admins -----------------------------------------------------------------------------------------------


def test_admins_from_the_environment(permissions: Permissions, store: TinyDBStore) -> None:
    store.set_meta(BOOTSTRAP_ADMIN_KEY, SELLER)  # ignored while RAKUTEN_ADMINS is set

    assert permissions.is_admin(ADMIN)
    assert not permissions.is_admin(SELLER)
    assert permissions.has_admin()
    assert permissions.admin_decision(ADMIN, said("disconnect an account"))
    refused = permissions.admin_decision(SELLER, said("disconnect an account"))
    assert not refused
    assert str(refused.reason) == "Only the bot's admins can disconnect an account (RAKUTEN_ADMINS)."


def test_with_admins_configured_nobody_claims_the_bootstrap(permissions: Permissions, store: TinyDBStore) -> None:
    assert not permissions.claim_bootstrap_admin(SELLER)
    assert permissions.claim_bootstrap_admin(ADMIN)
    assert store.get_meta(BOOTSTRAP_ADMIN_KEY) is None


def test_bootstrap_the_first_connector_becomes_the_only_admin(
    make_permissions: Callable[..., Permissions], store: TinyDBStore
) -> None:
    permissions = make_permissions(frozenset())
    assert not permissions.has_admin()
    assert not permissions.is_admin(SELLER)

    assert permissions.claim_bootstrap_admin(SELLER)

    assert store.get_meta(BOOTSTRAP_ADMIN_KEY) == SELLER
    assert permissions.has_admin()
    assert permissions.is_admin(SELLER)
    assert permissions.claim_bootstrap_admin(SELLER)  # asking again changes nothing
    second = permissions.claim_bootstrap_admin(ADMIN)
    assert not second
    assert str(second.reason) == (
        "Only the bot's admin (the person who first connected an account) can connect an account."
    )
    assert store.get_meta(BOOTSTRAP_ADMIN_KEY) == SELLER


# --- who may act on orders --------------------------------------------------------------------------------


def test_an_admin_may_act_without_asking_slack(permissions: Permissions, slack: Mock) -> None:
    assert permissions.order_decision(ADMIN, make_account())
    slack.conversations_members.assert_not_called()


def test_members_of_the_order_channel_may_act_others_are_told_why(permissions: Permissions, slack: Mock) -> None:
    account = make_account()

    assert permissions.order_decision(SELLER, account)
    refused = permissions.order_decision(OUTSIDER, account)

    assert not refused
    assert str(refused.reason) == f"Only members of <#{CHANNEL}> can act on these orders."
    slack.conversations_members.assert_called_once_with(channel=CHANNEL, cursor=None, limit=500)
    slack.usergroups_users_list.assert_not_called()


def test_channel_members_are_read_over_every_page(permissions: Permissions, slack: Mock) -> None:
    pages: list[dict[str, Any]] = [
        {"members": ["U0A", "U0B"], "response_metadata": {"next_cursor": "page-2"}},
        {"members": [PACKER], "response_metadata": {"next_cursor": ""}},
    ]
    slack.conversations_members.side_effect = pages

    assert permissions.order_decision(PACKER, make_account())
    assert slack.conversations_members.call_args_list == [
        call(channel=CHANNEL, cursor=None, limit=500),
        call(channel=CHANNEL, cursor="page-2", limit=500),
    ]


def test_members_of_the_shipper_group_may_act(permissions: Permissions, slack: Mock) -> None:
    account = make_account(shipper_group=GROUP)

    assert permissions.order_decision(PACKER, account)
    refused = permissions.order_decision(OUTSIDER, account)

    slack.usergroups_users_list.assert_called_once_with(usergroup=GROUP)
    assert str(refused.reason) == (
        f"Only members of <#{CHANNEL}> or the <!subteam^{GROUP}> group can act on these orders."
    )


@pytest.mark.parametrize("method", ["conversations_members", "usergroups_users_list"])
def test_a_slack_error_is_a_refusal_with_the_reason_and_is_not_cached(
    permissions: Permissions, slack: Mock, method: str
) -> None:
    account = make_account(shipper_group=GROUP)
    working = getattr(slack, method).return_value
    getattr(slack, method).side_effect = [slack_error("missing_scope"), working]

    refused = permissions.order_decision(PACKER, account)

    assert not refused
    assert str(refused.reason) == "I could not check who may act on these orders (Slack said missing_scope)."
    assert permissions.order_decision(PACKER, account)  # asked again, and Slack answers this time


def test_membership_is_cached_for_a_while(permissions: Permissions, slack: Mock, ticker: Ticker) -> None:
    account = make_account()
    for _ in range(3):
        assert permissions.order_decision(SELLER, account)
    assert slack.conversations_members.call_count == 1

    slack.conversations_members.return_value = {"members": [], "response_metadata": {}}
    ticker.now += MEMBERSHIP_TTL_SECONDS - 1
    assert permissions.order_decision(SELLER, account)
    ticker.now += 2  # the cache has expired: someone who left the channel loses access
    assert not permissions.order_decision(SELLER, account)
    assert slack.conversations_members.call_count == 2


def test_forget_drops_the_cache(permissions: Permissions, slack: Mock) -> None:
    account = make_account()
    permissions.order_decision(SELLER, account)

    permissions.forget()
    permissions.order_decision(SELLER, account)

    assert slack.conversations_members.call_count == 2
