from __future__ import annotations

from types import SimpleNamespace
from unittest.mock import Mock

from slack_bolt import BoltContext
from slack_sdk.models.views import View

from handlers.events.app_home_opened import app_home_opened
from tests.handlers.conftest import USER


def test_opening_the_home_tab_publishes_the_users_queue(
    respond: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace
) -> None:
    home = View(type="home", blocks=[])
    bot.screens.home.return_value = home

    app_home_opened(
        event={"type": "app_home_opened", "user": USER, "tab": "home"},
        body={},
        context=context,
        client=client,
        respond=respond,
    )

    bot.screens.home.assert_called_once_with(USER)
    client.views_publish.assert_called_once_with(user_id=USER, view=home)


def test_an_event_without_a_tab_is_treated_as_the_home_tab(
    respond: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace
) -> None:
    bot.screens.home.return_value = View(type="home", blocks=[])

    app_home_opened(
        event={"type": "app_home_opened", "user": USER}, body={}, context=context, client=client, respond=respond
    )

    client.views_publish.assert_called_once()


def test_the_messages_tab_needs_no_answer(
    respond: Mock, client: Mock, context: BoltContext, bot: SimpleNamespace
) -> None:
    app_home_opened(
        event={"type": "app_home_opened", "user": USER, "tab": "messages"},
        body={},
        context=context,
        client=client,
        respond=respond,
    )

    bot.screens.home.assert_not_called()
    client.views_publish.assert_not_called()
