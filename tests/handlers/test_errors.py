"""The listeners' boundary: whatever fails is logged (a bug with its traceback, the bot's own error in a line)
and the person is told, in their language, never left with silence."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from unittest.mock import Mock

import pytest
from slack_bolt import BoltContext

from bot.store.base import StoreError
from bot.ui.i18n import Languages
from handlers.errors import handle_listener_error
from tests.handlers.conftest import CHANNEL, USER
from tests.i18n import EN, FR

WHAT_WENT_WRONG = ":warning: Something went wrong on the bot's side while handling that."


def test_a_click_that_fails_is_answered_through_its_response_url_in_the_user_s_language(
    respond: Mock, client: Mock, bot: SimpleNamespace
) -> None:
    bot.languages = Languages("fr")
    body = {"type": "block_actions", "user": {"id": USER}, "response_url": "https://hooks.example/1"}

    handle_listener_error(RuntimeError("boom"), body, respond, client, BoltContext({"bot": bot}))

    (call,) = respond.call_args_list
    assert call.kwargs["text"] == FR.gettext(
        ":warning: Something went wrong on the bot's side while handling that. Nothing was sent to Rakuten "
        "twice; please try again in a minute. If it keeps happening, an admin can look at the bot's logs."
    )
    assert call.kwargs["text"].startswith(":warning: Un problème")
    client.chat_postEphemeral.assert_not_called()


def test_without_a_response_url_the_user_gets_an_ephemeral(
    respond: Mock, client: Mock, context: BoltContext
) -> None:
    body = {"type": "view_submission", "user": {"id": USER}, "channel": {"id": CHANNEL}}

    handle_listener_error(RuntimeError("boom"), body, respond, client, context)

    respond.assert_not_called()
    assert client.chat_postEphemeral.call_args.kwargs["text"].startswith(EN.gettext(WHAT_WENT_WRONG)[:20])


def test_a_bug_is_logged_with_its_traceback_the_bot_s_own_error_in_one_line(
    respond: Mock, client: Mock, context: BoltContext, caplog: pytest.LogCaptureFixture
) -> None:
    body = {"type": "block_actions", "user": {"id": USER}, "response_url": "https://hooks.example/1"}
    with caplog.at_level(logging.ERROR, logger="handlers.errors"):
        handle_listener_error(RuntimeError("boom"), body, respond, client, context)
        handle_listener_error(StoreError("the data dir is read-only"), body, respond, client, context)

    bug, known = caplog.records
    assert bug.exc_info is not None
    assert known.exc_info is None
    assert "the data dir is read-only" in known.getMessage()
    assert respond.call_count == 2
