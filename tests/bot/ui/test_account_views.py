from __future__ import annotations

from typing import Any

import pytest

from bot.constants import (
    ACTION_CHANNEL,
    ACTION_DISCONNECT_CONFIRM,
    ACTION_EXPRESS_MENTION,
    ACTION_LOGIN,
    ACTION_OPTIONS,
    ACTION_SHIPPER_GROUP,
    ACTION_TOKEN,
    BLOCK_CHANNEL,
    BLOCK_EXPRESS_MENTION,
    BLOCK_LOGIN,
    BLOCK_OPTIONS,
    BLOCK_SHIPPER_GROUP,
    BLOCK_TOKEN,
    OPTION_AUTO_ACCEPT,
    OPTION_SHOW_FULL_ADDRESS,
    VIEW_CONNECT,
    VIEW_SETTINGS,
)
from bot.domain.accounts import AccountSettings
from bot.domain.sentences import said
from bot.ui.account_views import (
    build_connect_modal,
    build_disconnect_confirmation,
    build_settings_modal,
    connect_errors,
    read_connect_submission,
    read_settings_submission,
    settings_errors,
)
from bot.ui.i18n import Translator
from bot.ui.limits import CONFIRM_TEXT_MAX, OPTION_DESCRIPTION_MAX, OPTION_TEXT_MAX
from bot.ui.refs import ConnectModalMetadata, SettingsModalMetadata
from devkit.block_kit_limits import block_problems, view_problems
from tests.factories import account, texts
from tests.i18n import EN, FR

SECRET = "tok-3f9a1c5e7d"


def input_block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


# --- connect --------------------------------------------------------------------------------------------------


def test_connect_modal_asks_for_login_and_token_and_explains_the_token() -> None:
    view = build_connect_modal(EN, ConnectModalMetadata("C0ORDERS")).to_dict()
    assert view_problems(view, "modal") == []
    assert view["callback_id"] == VIEW_CONNECT
    assert view["title"]["text"] == "Connect Rakuten"
    assert view["submit"]["text"] == "Connect"
    assert input_block(view, BLOCK_LOGIN)["element"]["action_id"] == ACTION_LOGIN
    token = input_block(view, BLOCK_TOKEN)
    assert token["element"]["type"] == "plain_text_input"
    hint = token["hint"]["text"]
    assert "My Account > Tokens" in hint
    assert "Mon compte > Tokens" in hint
    assert "encrypted at rest, and never shown again" in hint
    assert "<#C0ORDERS>" in texts(view["blocks"])
    assert ConnectModalMetadata.decode(view["private_metadata"]) == ConnectModalMetadata("C0ORDERS")


def test_connect_submission_is_read_and_its_repr_hides_the_token() -> None:
    view = {
        "private_metadata": ConnectModalMetadata("C0ORDERS").encode(),
        "state": {
            "values": {
                BLOCK_LOGIN: {ACTION_LOGIN: {"type": "plain_text_input", "value": " boutique-lyon "}},
                BLOCK_TOKEN: {ACTION_TOKEN: {"type": "plain_text_input", "value": f"{SECRET}\n"}},
            }
        },
    }
    form = read_connect_submission(view)
    assert form.login == "boutique-lyon"
    assert form.token == SECRET
    assert form.metadata == ConnectModalMetadata("C0ORDERS")
    assert SECRET not in repr(form)


def test_connect_submission_with_missing_fields_reads_empty() -> None:
    form = read_connect_submission({"state": {"values": {}}})
    assert (form.login, form.token, form.metadata) == ("", "", None)


def test_connect_errors_are_keyed_by_block_id_in_the_user_s_language() -> None:
    refused = said("Rakuten refused this login and token. Check the login, or make a new token.")
    assert connect_errors(EN, token=refused) == {BLOCK_TOKEN: str(refused)}
    assert connect_errors(FR, token=refused) == {
        BLOCK_TOKEN: "Rakuten a refusé cet identifiant et ce jeton. Vérifiez l'identifiant, ou créez un nouveau jeton."
    }
    assert connect_errors(EN, login="Required", token="Required") == {
        BLOCK_LOGIN: "Required",
        BLOCK_TOKEN: "Required",
    }
    assert connect_errors(EN) == {}


# --- settings -------------------------------------------------------------------------------------------------


def test_settings_modal_is_prefilled_from_the_account() -> None:
    record = account(
        settings=AccountSettings(show_full_address=True, express_mention="U0123ABCD", shipper_group="S0456EFGH")
    )
    view = build_settings_modal(EN, record, SettingsModalMetadata("boutique-lyon"), default_language="fr").to_dict()
    assert view_problems(view, "modal") == []
    assert view["callback_id"] == VIEW_SETTINGS
    channel = input_block(view, BLOCK_CHANNEL)["element"]
    assert channel["type"] == "conversations_select"
    assert channel["initial_conversation"] == "C0ORDERS"
    assert input_block(view, BLOCK_EXPRESS_MENTION)["element"]["initial_value"] == "U0123ABCD"
    assert input_block(view, BLOCK_SHIPPER_GROUP)["element"]["initial_value"] == "S0456EFGH"
    options = input_block(view, BLOCK_OPTIONS)["element"]
    assert options["type"] == "checkboxes"
    assert [o["value"] for o in options["options"]] == [OPTION_SHOW_FULL_ADDRESS, OPTION_AUTO_ACCEPT]
    assert [o["value"] for o in options["initial_options"]] == [OPTION_SHOW_FULL_ADDRESS]


@pytest.mark.parametrize("t", [EN, FR], ids=["en", "fr"])
def test_settings_options_fit_slacks_option_limits_in_each_language(t: Translator) -> None:
    # slack_sdk does not check an option's description, and Slack refuses the whole modal past 75 characters.
    view = build_settings_modal(t, account(), SettingsModalMetadata("boutique-lyon"), default_language="fr").to_dict()
    for option in input_block(view, BLOCK_OPTIONS)["element"]["options"]:
        assert len(option["text"]["text"]) <= OPTION_TEXT_MAX
        assert len(option["description"]["text"]) <= OPTION_DESCRIPTION_MAX, option["description"]["text"]


def test_settings_modal_for_default_settings_has_no_initial_values() -> None:
    view = build_settings_modal(EN, account(), SettingsModalMetadata("boutique-lyon"), default_language="fr").to_dict()
    assert "initial_value" not in input_block(view, BLOCK_EXPRESS_MENTION)["element"]
    assert "initial_options" not in input_block(view, BLOCK_OPTIONS)["element"]


def _settings_view(mention: str | None, group: str | None, options: list[str], channel: str | None) -> dict[str, Any]:
    return {
        "private_metadata": SettingsModalMetadata("boutique-lyon").encode(),
        "state": {
            "values": {
                BLOCK_CHANNEL: {ACTION_CHANNEL: {"type": "conversations_select", "selected_conversation": channel}},
                BLOCK_EXPRESS_MENTION: {ACTION_EXPRESS_MENTION: {"type": "plain_text_input", "value": mention}},
                BLOCK_SHIPPER_GROUP: {ACTION_SHIPPER_GROUP: {"type": "plain_text_input", "value": group}},
                BLOCK_OPTIONS: {
                    ACTION_OPTIONS: {"type": "checkboxes", "selected_options": [{"value": v} for v in options]}
                },
            }
        },
    }


def test_settings_submission_is_read_and_applied() -> None:
    view = _settings_view("<@U0123ABCD|camille>", "<!subteam^S0456EFGH|@shippers>", [OPTION_AUTO_ACCEPT], "C0NEW")
    form = read_settings_submission(view)
    assert form.channel_id == "C0NEW"
    assert form.express_mention == "U0123ABCD"
    assert form.shipper_group == "S0456EFGH"
    assert (form.show_full_address, form.auto_accept) == (False, True)
    assert form.account_login == "boutique-lyon"
    assert settings_errors(EN, form) == {}
    updated = form.apply_to(AccountSettings(show_full_address=True, shipping_from_country="BE"))
    assert updated == AccountSettings(
        show_full_address=False,
        express_mention="U0123ABCD",
        auto_accept=True,
        shipper_group="S0456EFGH",
        shipping_from_country="BE",
    )


def test_settings_submission_with_optional_fields_empty_clears_them() -> None:
    form = read_settings_submission(_settings_view(None, "", [], "C0ORDERS"))
    assert form.express_mention is None
    assert form.shipper_group is None
    assert settings_errors(EN, form) == {}


def test_settings_submission_flags_unreadable_ids() -> None:
    form = read_settings_submission(_settings_view("@camille", "U0123ABCD", [], None))
    errors = settings_errors(EN, form)
    assert set(errors) == {BLOCK_CHANNEL, BLOCK_EXPRESS_MENTION, BLOCK_SHIPPER_GROUP}
    assert "display name" in errors[BLOCK_EXPRESS_MENTION]


# --- disconnect -----------------------------------------------------------------------------------------------


def test_disconnect_confirmation_has_a_confirmed_danger_button() -> None:
    blocks = [b.to_dict() for b in build_disconnect_confirmation(EN, "boutique & co")]
    assert block_problems(blocks, max_blocks=50, pointer="/blocks") == []
    assert "boutique &amp; co" in blocks[0]["text"]["text"]
    button = blocks[-1]["elements"][0]
    assert button["action_id"] == ACTION_DISCONNECT_CONFIRM
    assert button["value"] == "boutique & co"
    assert button["style"] == "danger"
    assert button["confirm"]["style"] == "danger"
    assert "token is deleted" in button["confirm"]["text"]["text"]


@pytest.mark.parametrize("t", [EN, FR], ids=["en", "fr"])
def test_disconnect_confirmation_of_a_login_full_of_markup_stays_within_the_dialog_limit(t: Translator) -> None:
    # Escaped, 100 characters of & < > grow to 400: the dialog text is cut, not refused by Slack (300 at most).
    blocks = [b.to_dict() for b in build_disconnect_confirmation(t, "&<>" * 40)]
    confirm_text = blocks[-1]["elements"][0]["confirm"]["text"]["text"]
    assert block_problems(blocks, max_blocks=50, pointer="/blocks") == []
    assert len(confirm_text) <= CONFIRM_TEXT_MAX
    assert confirm_text.endswith("…")
