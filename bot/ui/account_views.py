"""Account views: the connect modal, the settings modal (and reading both submissions), the disconnect prompt.

The connect modal is the one place a Rakuten token passes through Slack: Slack has no masked input, so the
modal says so, and the token is never put back into any view, message or metadata. ``ConnectForm`` keeps it
out of its repr so a stray log line cannot leak it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    ConversationFilter,
    ConversationSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

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
from bot.store.records import AccountRecord, AccountSettings
from bot.ui import formatting as fmt
from bot.ui.refs import ConnectModalMetadata, SettingsModalMetadata
from bot.ui.view_state import (
    private_metadata,
    selected_conversation,
    selected_values,
    state_values,
    text_value,
)

CREDENTIAL_PASTE_HINT = (
    "Paste the token from My Account > Tokens on Rakuten (Mon compte > Tokens). "
    "It is checked against Rakuten, encrypted at rest, and never shown again."
)
EXPRESS_MENTION_ERROR = (
    "Enter a user ID (U…), a user group ID (S…) or paste a mention; a display name such as @ann cannot be used."
)
SHIPPER_GROUP_ERROR = "Enter a user group ID (S…) or paste the group's mention."
CHANNEL_ERROR = "Choose the channel where order cards are posted."

BLOCK_CONNECT_INTRO = "connect_intro"
BLOCK_CONNECT_NOTE = "connect_note"
BLOCK_SETTINGS_INTRO = "settings_intro"
BLOCK_DISCONNECT_PROMPT = "disconnect_prompt"
BLOCK_DISCONNECT_ACTIONS = "disconnect_actions"
_LOGIN_MAX = 100
_TOKEN_MAX = 500


# --- connect --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectForm:
    login: str
    token: str = field(repr=False)
    metadata: ConnectModalMetadata | None = None


def build_connect_modal(metadata: ConnectModalMetadata) -> View:
    where = (
        f"New orders will be posted in {fmt.channel(metadata.channel_id)}; you can change that in `/rakuten settings`."
        if fmt.is_channel_id(metadata.channel_id)
        else "Choose the order channel afterwards in `/rakuten settings`."
    )
    blocks: list[Block] = [
        SectionBlock(
            block_id=BLOCK_CONNECT_INTRO,
            text=MarkdownTextObject(text=f"Connect a Rakuten France seller account. {where}"),
        ),
        InputBlock(
            block_id=BLOCK_LOGIN,
            label="Seller login",
            element=PlainTextInputElement(
                action_id=ACTION_LOGIN, placeholder="Your Rakuten seller login", max_length=_LOGIN_MAX
            ),
        ),
        InputBlock(
            block_id=BLOCK_TOKEN,
            label="API token",
            hint=CREDENTIAL_PASTE_HINT,
            element=PlainTextInputElement(
                action_id=ACTION_TOKEN, placeholder="Paste the token here", max_length=_TOKEN_MAX
            ),
        ),
        ContextBlock(
            block_id=BLOCK_CONNECT_NOTE,
            elements=[
                MarkdownTextObject(
                    text="Slack has no hidden input: the token is visible on your screen while you paste it."
                )
            ],
        ),
    ]
    return View(
        type="modal",
        callback_id=VIEW_CONNECT,
        title="Connect Rakuten",
        submit="Connect",
        close="Cancel",
        private_metadata=metadata.encode(),
        blocks=blocks,
    )


def read_connect_submission(view: Mapping[str, object]) -> ConnectForm:
    values = state_values(view)
    return ConnectForm(
        login=text_value(values, BLOCK_LOGIN, ACTION_LOGIN),
        token=text_value(values, BLOCK_TOKEN, ACTION_TOKEN),
        metadata=ConnectModalMetadata.decode(private_metadata(view)),
    )


def connect_errors(*, login: str | None = None, token: str | None = None) -> dict[str, str]:
    """The ``errors`` map for the connect modal; only the fields given get a message."""
    errors = {BLOCK_LOGIN: login, BLOCK_TOKEN: token}
    return {block_id: message for block_id, message in errors.items() if message}


# --- settings -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SettingsForm:
    """A submitted settings modal. The ``*_input`` fields keep what was typed, to explain a rejected value."""

    channel_id: str | None
    express_mention: str | None
    shipper_group: str | None
    show_full_address: bool
    auto_accept: bool
    metadata: SettingsModalMetadata | None = None
    express_mention_input: str = ""
    shipper_group_input: str = ""

    def errors(self) -> dict[str, str]:
        """Field errors keyed by block id; empty when the form can be saved."""
        errors: dict[str, str] = {}
        if self.channel_id is None:
            errors[BLOCK_CHANNEL] = CHANNEL_ERROR
        if self.express_mention_input and self.express_mention is None:
            errors[BLOCK_EXPRESS_MENTION] = EXPRESS_MENTION_ERROR
        if self.shipper_group_input and self.shipper_group is None:
            errors[BLOCK_SHIPPER_GROUP] = SHIPPER_GROUP_ERROR
        return errors

    def apply_to(self, settings: AccountSettings) -> AccountSettings:
        """A copy of ``settings`` with this form's values (the channel lives on the account, not here)."""
        return dataclasses.replace(
            settings,
            express_mention=self.express_mention,
            shipper_group=self.shipper_group,
            show_full_address=self.show_full_address,
            auto_accept=self.auto_accept,
        )


def build_settings_modal(account: AccountRecord, metadata: SettingsModalMetadata) -> View:
    settings = account.settings
    options = _settings_options()
    initial = [
        option
        for option in options
        if (option.value == OPTION_SHOW_FULL_ADDRESS and settings.show_full_address)
        or (option.value == OPTION_AUTO_ACCEPT and settings.auto_accept)
    ]
    blocks: list[Block] = [
        SectionBlock(
            block_id=BLOCK_SETTINGS_INTRO,
            text=MarkdownTextObject(text=f"Settings for Rakuten account *{fmt.clip(account.login, 100)}*"),
        ),
        InputBlock(
            block_id=BLOCK_CHANNEL,
            label="Order channel",
            hint="Where order cards are posted. Invite the bot to a private channel first (/invite).",
            element=ConversationSelectElement(
                action_id=ACTION_CHANNEL,
                placeholder="Choose a channel",
                initial_conversation=account.channel_id if fmt.is_channel_id(account.channel_id) else None,
                filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
            ),
        ),
        InputBlock(
            block_id=BLOCK_EXPRESS_MENTION,
            label="Mention on Express orders",
            optional=True,
            hint="A user ID (U…) or user group ID (S…), or paste a mention. Empty: no mention.",
            element=PlainTextInputElement(
                action_id=ACTION_EXPRESS_MENTION,
                placeholder="e.g. U0123ABCD or S0456EFGH",
                initial_value=settings.express_mention or None,
            ),
        ),
        InputBlock(
            block_id=BLOCK_SHIPPER_GROUP,
            label="Shipper group",
            optional=True,
            hint=(
                "User group ID (S…) whose members may accept, refuse and ship, besides members of the order "
                "channel. Empty: channel members only."
            ),
            element=PlainTextInputElement(
                action_id=ACTION_SHIPPER_GROUP,
                placeholder="e.g. S0456EFGH",
                initial_value=settings.shipper_group or None,
            ),
        ),
        InputBlock(
            block_id=BLOCK_OPTIONS,
            label="Options",
            optional=True,
            element=CheckboxesElement(action_id=ACTION_OPTIONS, options=options, initial_options=initial or None),
        ),
    ]
    return View(
        type="modal",
        callback_id=VIEW_SETTINGS,
        title="Rakuten settings",
        submit="Save",
        close="Cancel",
        private_metadata=metadata.encode(),
        blocks=blocks,
    )


def _settings_options() -> list[Option]:
    return [
        Option(
            value=OPTION_SHOW_FULL_ADDRESS,
            text=PlainTextObject(text="Show street address and phone on order cards"),
            description="Everyone in the channel sees them. Otherwise “Show address” answers privately.",
        ),
        Option(
            value=OPTION_AUTO_ACCEPT,
            text=PlainTextObject(text="Accept new orders automatically"),
            description="Each new order is accepted on Rakuten as it arrives, which charges the buyer.",
        ),
    ]


def read_settings_submission(view: Mapping[str, object]) -> SettingsForm:
    values = state_values(view)
    mention_input = text_value(values, BLOCK_EXPRESS_MENTION, ACTION_EXPRESS_MENTION)
    group_input = text_value(values, BLOCK_SHIPPER_GROUP, ACTION_SHIPPER_GROUP)
    options = set(selected_values(values, BLOCK_OPTIONS, ACTION_OPTIONS) or ())
    channel_id = selected_conversation(values, BLOCK_CHANNEL, ACTION_CHANNEL)
    return SettingsForm(
        channel_id=channel_id if fmt.is_channel_id(channel_id) else None,
        express_mention=fmt.parse_mention_target(mention_input),
        shipper_group=fmt.parse_group_id(group_input),
        show_full_address=OPTION_SHOW_FULL_ADDRESS in options,
        auto_accept=OPTION_AUTO_ACCEPT in options,
        metadata=SettingsModalMetadata.decode(private_metadata(view)),
        express_mention_input=mention_input,
        shipper_group_input=group_input,
    )


# --- disconnect -----------------------------------------------------------------------------------------------


def build_disconnect_confirmation(account_login: str) -> list[Block]:
    """Ephemeral prompt with a danger button (value: the login) behind a confirm dialog."""
    login = fmt.clip(account_login, 100)
    confirm = ConfirmObject(
        title="Disconnect this account?",
        text=f"Polling of *{login}* stops and its token is deleted. Cards already posted stay in the channel.",
        confirm="Disconnect",
        deny="Keep it",
        style="danger",
    )
    return [
        SectionBlock(
            block_id=BLOCK_DISCONNECT_PROMPT,
            text=MarkdownTextObject(
                text=(
                    f"Disconnect Rakuten account *{login}*? New orders will no longer reach Slack, and buttons on "
                    "existing cards stop working until the account is connected again."
                )
            ),
        ),
        ActionsBlock(
            block_id=BLOCK_DISCONNECT_ACTIONS,
            elements=[
                ButtonElement(
                    text="Disconnect",
                    action_id=ACTION_DISCONNECT_CONFIRM,
                    value=account_login,
                    style="danger",
                    confirm=confirm,
                )
            ],
        ),
    ]
