from __future__ import annotations

from types import SimpleNamespace
from unittest.mock import Mock

from slack_bolt import BoltContext
from slack_sdk.models.views import View

from bot.constants import ACTION_HOME_REFRESH
from handlers.actions.home import refresh_home
from tests.handlers.conftest import USER, first_call_name


def test_refresh_acks_then_republishes_the_users_home(
    respond: Mock, ack: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace, calls: Mock
) -> None:
    home = View(type="home", blocks=[])
    bot.screens.home.return_value = home
    body = {"type": "block_actions", "user": {"id": USER}, "actions": [{"action_id": ACTION_HOME_REFRESH}]}

    refresh_home(ack=ack, body=body, context=context, client=client, respond=respond)

    assert first_call_name(calls) == "ack"
    bot.screens.home.assert_called_once_with(USER)
    client.views_publish.assert_called_once_with(user_id=USER, view=home)
