from __future__ import annotations

from types import SimpleNamespace
from unittest.mock import Mock

import pytest
from slack_bolt import BoltContext

from bot.constants import ACTION_DISCONNECT_CONFIRM
from bot.domain.sentences import said
from bot.ui.messages import answer_message
from handlers.actions.account import confirm_disconnect
from tests.handlers.conftest import ADMIN, LOGIN, first_call_name
from tests.i18n import EN


@pytest.mark.parametrize(("value", "login"), [(LOGIN, LOGIN), (None, "")])
def test_confirm_disconnect_acks_then_replaces_the_prompt_with_the_outcome(
    client: Mock,
    ack: Mock,
    respond: Mock,
    context: BoltContext,
    bot: SimpleNamespace,
    calls: Mock,
    value: str | None,
    login: str,
) -> None:
    bot.accounts.disconnect.return_value = said(f"Disconnected {LOGIN}: its token is deleted and polling has stopped.")
    action = {"action_id": ACTION_DISCONNECT_CONFIRM, "value": value}
    body = {"type": "block_actions", "user": {"id": ADMIN}, "actions": [action]}

    confirm_disconnect(ack=ack, body=body, action=action, context=context, client=client, respond=respond)

    assert first_call_name(calls) == "ack"
    bot.accounts.disconnect.assert_called_once_with(ADMIN, login)
    answer = answer_message(EN, said(f"Disconnected {LOGIN}: its token is deleted and polling has stopped."))
    respond.assert_called_once_with(response_type="ephemeral", replace_original=True, **answer.as_kwargs())
