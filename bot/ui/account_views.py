"""Account views: the connect modal, the settings modal (and reading both submissions), the disconnect prompt.

The connect modal is the one place a Rakuten token passes through Slack: Slack has no masked input, so the
modal says so, and the token is never put back into any view, message or metadata. ``ConnectForm`` keeps it
out of its repr so a stray log line cannot leak it.
"""

from __future__ import annotations

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
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.constants import (
    ACTION_CHANNEL,
    ACTION_DISCONNECT_CONFIRM,
    ACTION_EXPRESS_MENTION,
    ACTION_LANGUAGE,
    ACTION_LOGIN,
    ACTION_OPTIONS,
    ACTION_SHIPPER_GROUP,
    ACTION_TOKEN,
    BLOCK_CHANNEL,
    BLOCK_EXPRESS_MENTION,
    BLOCK_LANGUAGE,
    BLOCK_LOGIN,
    BLOCK_OPTIONS,
    BLOCK_SHIPPER_GROUP,
    BLOCK_TOKEN,
    COMMAND,
    OPTION_AUTO_ACCEPT,
    OPTION_SHOW_FULL_ADDRESS,
    VIEW_CONNECT,
    VIEW_SETTINGS,
)
from bot.domain.accounts import AccountRecord, Credentials, SettingsChange, SettingsProblem
from bot.domain.sentences import Sentence
from bot.ui import formatting as fmt
from bot.ui.i18n import SUPPORTED_LOCALES, Translator, normalise_locale
from bot.ui.limits import CONFIRM_TEXT_MAX
from bot.ui.refs import ConnectModalMetadata, SettingsModalMetadata
from bot.ui.view_state import (
    private_metadata,
    selected_conversation,
    selected_value,
    selected_values,
    state_values,
    text_value,
)

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

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.login, self.token)


def build_connect_modal(t: Translator, metadata: ConnectModalMetadata) -> View:
    channel = fmt.channel(metadata.channel_id)
    if channel is not None:
        where = t.gettext(
            "New orders will be posted in {channel}; you can change that in `{command}`.",
            channel=channel,
            command=f"{COMMAND} settings",
        )
    else:
        where = t.gettext("Choose the order channel afterwards in `{command}`.", command=f"{COMMAND} settings")
    intro = t.gettext("Connect a Rakuten France seller account. {where}", where=where)
    blocks: list[Block] = [
        SectionBlock(block_id=BLOCK_CONNECT_INTRO, text=MarkdownTextObject(text=intro)),
        InputBlock(
            block_id=BLOCK_LOGIN,
            label=t.gettext("Seller login"),
            element=PlainTextInputElement(
                action_id=ACTION_LOGIN, placeholder=t.gettext("Your Rakuten seller login"), max_length=_LOGIN_MAX
            ),
        ),
        InputBlock(
            block_id=BLOCK_TOKEN,
            label=t.gettext("API token"),
            hint=t.gettext(
                "Paste the token from My Account > Tokens on Rakuten (Mon compte > Tokens). "
                "It is checked against Rakuten, encrypted at rest, and never shown again."
            ),
            element=PlainTextInputElement(
                action_id=ACTION_TOKEN, placeholder=t.gettext("Paste the token here"), max_length=_TOKEN_MAX
            ),
        ),
        ContextBlock(
            block_id=BLOCK_CONNECT_NOTE,
            elements=[
                MarkdownTextObject(
                    text=t.gettext("Slack has no hidden input: the token is visible on your screen while you paste it.")
                )
            ],
        ),
    ]
    return View(
        type="modal",
        callback_id=VIEW_CONNECT,
        title=t.gettext("Connect Rakuten"),
        submit=t.gettext("Connect"),
        close=t.gettext("Cancel"),
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


def connect_errors(
    t: Translator, *, login: Sentence | str | None = None, token: Sentence | str | None = None
) -> dict[str, str]:
    """The ``errors`` map for the connect modal, in the submitting user's language; only the fields given get one."""
    errors = {BLOCK_LOGIN: login, BLOCK_TOKEN: token}
    return {block_id: t.say(problem) for block_id, problem in errors.items() if problem}


# --- settings -------------------------------------------------------------------------------------------------


_SETTINGS_FIELD_BLOCKS = {
    "channel": BLOCK_CHANNEL,
    "express_mention": BLOCK_EXPRESS_MENTION,
    "shipper_group": BLOCK_SHIPPER_GROUP,
}


def settings_errors(t: Translator, change: SettingsChange) -> dict[str, str]:
    """The ``errors`` map for the settings modal, keyed by block id, in the submitting user's language."""
    return {
        _SETTINGS_FIELD_BLOCKS[name]: _settings_problem_text(t, problem) for name, problem in change.problems().items()
    }


def _settings_problem_text(t: Translator, problem: SettingsProblem) -> str:
    match problem:
        case SettingsProblem.NO_CHANNEL:
            return t.gettext("Choose the channel where order cards are posted.")
        case SettingsProblem.BAD_MENTION:
            return t.gettext(
                "Enter a user ID (U…), a user group ID (S…) or paste a mention; "
                "a display name such as @ann cannot be used."
            )
    return t.gettext("Enter a user group ID (S…) or paste the group's mention.")


def build_settings_modal(
    t: Translator, account: AccountRecord, metadata: SettingsModalMetadata, *, default_language: str
) -> View:
    settings = account.settings
    options = _settings_options(t)
    initial = [
        option
        for option in options
        if (option.value == OPTION_SHOW_FULL_ADDRESS and settings.show_full_address)
        or (option.value == OPTION_AUTO_ACCEPT and settings.auto_accept)
    ]
    intro = t.gettext("Settings for Rakuten account *{login}*", login=fmt.clip(account.login, 100))
    blocks: list[Block] = [
        SectionBlock(block_id=BLOCK_SETTINGS_INTRO, text=MarkdownTextObject(text=intro)),
        InputBlock(
            block_id=BLOCK_CHANNEL,
            label=t.gettext("Order channel"),
            hint=t.gettext("Where order cards are posted. Invite the bot to a private channel first (/invite)."),
            element=ConversationSelectElement(
                action_id=ACTION_CHANNEL,
                placeholder=t.gettext("Choose a channel"),
                initial_conversation=account.channel_id if fmt.is_channel_id(account.channel_id) else None,
                filter=ConversationFilter(include=["public", "private"], exclude_bot_users=True),
            ),
        ),
        _language_input(t, settings.language or default_language),
        InputBlock(
            block_id=BLOCK_EXPRESS_MENTION,
            label=t.gettext("Mention on Express orders"),
            optional=True,
            hint=t.gettext("A user ID (U…) or user group ID (S…), or paste a mention. Empty: no mention."),
            element=PlainTextInputElement(
                action_id=ACTION_EXPRESS_MENTION,
                placeholder=t.gettext("e.g. {example}", example="U0123ABCD, S0456EFGH"),
                initial_value=settings.express_mention or None,
            ),
        ),
        InputBlock(
            block_id=BLOCK_SHIPPER_GROUP,
            label=t.gettext("Shipper group"),
            optional=True,
            hint=t.gettext(
                "User group ID (S…) whose members may accept, refuse and ship, besides members of the order "
                "channel. Empty: channel members only."
            ),
            element=PlainTextInputElement(
                action_id=ACTION_SHIPPER_GROUP,
                placeholder=t.gettext("e.g. {example}", example="S0456EFGH"),
                initial_value=settings.shipper_group or None,
            ),
        ),
        InputBlock(
            block_id=BLOCK_OPTIONS,
            label=t.gettext("Options"),
            optional=True,
            element=CheckboxesElement(action_id=ACTION_OPTIONS, options=options, initial_options=initial or None),
        ),
    ]
    return View(
        type="modal",
        callback_id=VIEW_SETTINGS,
        title=t.gettext("Rakuten settings"),
        submit=t.gettext("Save"),
        close=t.gettext("Cancel"),
        private_metadata=metadata.encode(),
        blocks=blocks,
    )


# Each language is named in itself, so whoever reads the list finds their own.
LANGUAGE_NAMES: dict[str, str] = {"fr": "Français", "en": "English"}


def _language_input(t: Translator, current: str) -> InputBlock:
    options = [
        Option(value=code, text=PlainTextObject(text=LANGUAGE_NAMES.get(code, code))) for code in SUPPORTED_LOCALES
    ]
    initial = next((option for option in options if option.value == current), None)
    return InputBlock(
        block_id=BLOCK_LANGUAGE,
        label=t.gettext("Language of cards and alerts"),
        hint=t.gettext("Private answers, modals and the Home tab follow each person's own Slack language."),
        element=StaticSelectElement(action_id=ACTION_LANGUAGE, options=options, initial_option=initial),
    )


def _settings_options(t: Translator) -> list[Option]:
    return [
        Option(
            value=OPTION_SHOW_FULL_ADDRESS,
            text=PlainTextObject(text=t.gettext("Show street address and phone on order cards")),
            description=t.gettext("Everyone in the channel sees them; otherwise “Show address” is private."),
        ),
        Option(
            value=OPTION_AUTO_ACCEPT,
            text=PlainTextObject(text=t.gettext("Accept new orders automatically")),
            description=t.gettext("Accepts each new order on Rakuten as it arrives, which charges the buyer."),
        ),
    ]


def read_settings_submission(view: Mapping[str, object]) -> SettingsChange:
    values = state_values(view)
    mention_input = text_value(values, BLOCK_EXPRESS_MENTION, ACTION_EXPRESS_MENTION)
    group_input = text_value(values, BLOCK_SHIPPER_GROUP, ACTION_SHIPPER_GROUP)
    options = set(selected_values(values, BLOCK_OPTIONS, ACTION_OPTIONS) or ())
    channel_id = selected_conversation(values, BLOCK_CHANNEL, ACTION_CHANNEL)
    language = selected_value(values, BLOCK_LANGUAGE, ACTION_LANGUAGE)
    metadata = SettingsModalMetadata.decode(private_metadata(view))
    return SettingsChange(
        channel_id=channel_id if fmt.is_channel_id(channel_id) else None,
        express_mention=fmt.parse_mention_target(mention_input),
        shipper_group=fmt.parse_group_id(group_input),
        show_full_address=OPTION_SHOW_FULL_ADDRESS in options,
        auto_accept=OPTION_AUTO_ACCEPT in options,
        account_login=metadata.account if metadata is not None else None,
        express_mention_input=mention_input,
        shipper_group_input=group_input,
        language=normalise_locale(language),
    )


# --- disconnect -----------------------------------------------------------------------------------------------


def build_disconnect_confirmation(t: Translator, account_login: str) -> list[Block]:
    """Ephemeral prompt with a danger button (value: the login) behind a confirm dialog."""
    login = fmt.clip(account_login, 100)
    # The login is escaped, so it may be up to five times longer than clipped: the dialog's text stays within
    # Slack's 300 characters whatever it holds.
    question = t.gettext(
        "Polling of *{login}* stops and its token is deleted. Cards already posted stay in the channel.",
        login=login,
    )
    confirm = ConfirmObject(
        title=t.gettext("Disconnect this account?"),
        text=fmt.fit(question, CONFIRM_TEXT_MAX),
        confirm=t.gettext("Disconnect"),
        deny=t.gettext("Keep it"),
        style="danger",
    )
    prompt = t.gettext(
        "Disconnect Rakuten account *{login}*? New orders will no longer reach Slack, and buttons on "
        "existing cards stop working until the account is connected again.",
        login=login,
    )
    return [
        SectionBlock(block_id=BLOCK_DISCONNECT_PROMPT, text=MarkdownTextObject(text=prompt)),
        ActionsBlock(
            block_id=BLOCK_DISCONNECT_ACTIONS,
            elements=[
                ButtonElement(
                    text=t.gettext("Disconnect"),
                    action_id=ACTION_DISCONNECT_CONFIRM,
                    value=account_login,
                    style="danger",
                    confirm=confirm,
                )
            ],
        ),
    ]
