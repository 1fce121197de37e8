from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from unittest.mock import Mock

import pytest
from cryptography.fernet import Fernet
from pytest_mock import MockerFixture
from slack_sdk import WebClient

from bot.crypto import TokenCipher
from bot.domain.accounts import Credentials, SettingsChange
from bot.rakuten_clients import RakutenClients
from bot.services.accounts import CREDENTIAL_CHECK_TIMEOUT, AccountService
from bot.services.item_actions import ItemActions
from bot.services.permissions import BOOTSTRAP_ADMIN_KEY, Permissions
from bot.services.scheduler import PollScheduler
from bot.store import TinyDBStore
from rakuten.client import RakutenClient, RetryPolicy
from rakuten.errors import AuthenticationError, ErrorDetails, PermissionDeniedError, ServerError, TransportError
from tests.bot.services.conftest import ADMIN, CHANNEL, LOGIN, SELLER, START, Clock, make_account

TOKEN = "tok-5f1c9a77e2"
SELLER_ID = "1234567"


@pytest.fixture
def cipher() -> TokenCipher:
    return TokenCipher(Fernet.generate_key())


@pytest.fixture
def rakuten(mocker: MockerFixture) -> Mock:
    """The short-lived client that checks a login/token pair."""
    client = mocker.create_autospec(RakutenClient, instance=True)
    client.check_credentials.return_value = SELLER_ID
    return client


@pytest.fixture
def clients(mocker: MockerFixture, rakuten: Mock) -> Mock:
    fake = mocker.create_autospec(RakutenClients, instance=True)
    fake.build.return_value = rakuten
    return fake


@pytest.fixture
def scheduler(mocker: MockerFixture) -> Mock:
    return mocker.create_autospec(PollScheduler, instance=True)


@pytest.fixture
def actions(mocker: MockerFixture) -> Mock:
    return mocker.create_autospec(ItemActions, instance=True)


@pytest.fixture
def make_service(
    mocker: MockerFixture,
    store: TinyDBStore,
    cipher: TokenCipher,
    clients: Mock,
    scheduler: Mock,
    actions: Mock,
    clock: Clock,
) -> Callable[..., AccountService]:
    def make(*, admins: frozenset[str] = frozenset({ADMIN}), fixed_channel: str | None = None) -> AccountService:
        permissions = Permissions(mocker.Mock(spec=WebClient), store, admins)
        return AccountService(
            store=store,
            cipher=cipher,
            clients=clients,
            scheduler=scheduler,
            permissions=permissions,
            actions=actions,
            clock=clock,
            fixed_channel=fixed_channel,
        )

    return make


@pytest.fixture
def service(make_service: Callable[..., AccountService]) -> AccountService:
    return make_service()


def connect_form(login: str = LOGIN, token: str = TOKEN) -> Credentials:
    return Credentials(login=login, token=token)


# --- who may connect ------------------------------------------------------------------------------------


def test_with_admins_configured_only_they_may_connect(make_service: Callable[..., AccountService]) -> None:
    service = make_service(admins=frozenset({ADMIN}))

    assert service.may_connect(ADMIN)
    refused = service.may_connect(SELLER)
    assert not refused
    assert "RAKUTEN_ADMINS" in str(refused.reason)


def test_with_no_admin_anyone_may_open_the_modal_until_the_first_connect(
    make_service: Callable[..., AccountService], store: TinyDBStore
) -> None:
    service = make_service(admins=frozenset())
    assert service.may_connect(SELLER)
    assert service.may_connect(ADMIN)

    assert service.connect(SELLER, connect_form(), channel_id=CHANNEL).account is not None

    assert store.get_meta(BOOTSTRAP_ADMIN_KEY) == SELLER
    assert service.may_connect(SELLER)
    assert not service.may_connect(ADMIN)
    late = service.connect(ADMIN, connect_form(), channel_id=CHANNEL)
    assert late.account is None
    assert late.refusal is not None
    assert "first connected" in str(late.refusal)


def test_a_pair_rakuten_refuses_does_not_make_its_submitter_the_bootstrap_admin(
    make_service: Callable[..., AccountService], store: TinyDBStore, rakuten: Mock
) -> None:
    service = make_service(admins=frozenset())
    rakuten.check_credentials.side_effect = AuthenticationError(
        ErrorDetails("Sender", "InvalidUserConnection", "Unknown user or password."), action="getitemtodolist"
    )

    assert service.connect(ADMIN, connect_form(token="not-the-right-token"), channel_id=CHANNEL).field_errors

    assert store.get_meta(BOOTSTRAP_ADMIN_KEY) is None  # nothing claimed: the real seller can still connect
    rakuten.check_credentials.side_effect = None
    assert service.connect(SELLER, connect_form(), channel_id=CHANNEL).account is not None
    assert store.get_meta(BOOTSTRAP_ADMIN_KEY) == SELLER


# --- connect ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("login", "token", "fields"),
    [
        ("my shop", TOKEN, {"login"}),
        ("", TOKEN, {"login"}),
        (LOGIN, "short", {"token"}),
        (LOGIN, "has a space", {"token"}),
        ("", "", {"login", "token"}),
    ],
)
def test_malformed_input_is_reported_per_field_without_asking_rakuten(
    service: AccountService, store: TinyDBStore, clients: Mock, login: str, token: str, fields: set[str]
) -> None:
    result = service.connect(ADMIN, connect_form(login, token), channel_id=CHANNEL)

    assert set(result.field_errors) == fields
    assert result.account is None
    clients.build.assert_not_called()
    assert store.list_accounts() == []


def test_a_good_pair_is_stored_encrypted_and_polling_starts(
    service: AccountService, store: TinyDBStore, cipher: TokenCipher, clients: Mock, rakuten: Mock, scheduler: Mock
) -> None:
    result = service.connect(ADMIN, connect_form(f"  {LOGIN} ", f" {TOKEN}\n"), channel_id=CHANNEL)

    assert result.field_errors == {}
    assert result.refusal is None
    clients.build.assert_called_once_with(
        LOGIN, TOKEN, timeout=CREDENTIAL_CHECK_TIMEOUT, retry=RetryPolicy(attempts=1)
    )
    rakuten.check_credentials.assert_called_once_with()
    rakuten.close.assert_called_once_with()
    stored = store.get_account(LOGIN)
    assert stored is not None
    assert stored.token_ciphertext != TOKEN
    assert cipher.decrypt(stored.token_ciphertext) == TOKEN
    assert (stored.channel_id, stored.connected_by, stored.connected_at, stored.seller_id) == (
        CHANNEL,
        ADMIN,
        START,
        SELLER_ID,
    )
    clients.forget.assert_called_once_with(LOGIN)
    scheduler.add_account.assert_called_once_with(LOGIN)
    (audit,) = store.list_audit(account=LOGIN)
    assert (audit.action, audit.actor, audit.detail) == ("account_connected", ADMIN, f"channel {CHANNEL}")
    assert TOKEN not in repr(result)


def test_the_store_file_never_holds_the_clear_token(service: AccountService, store: TinyDBStore) -> None:
    service.connect(ADMIN, connect_form(), channel_id=CHANNEL)
    data_dir = Path(store.data_dir)
    store.close()

    contents = b"".join(path.read_bytes() for path in data_dir.rglob("*") if path.is_file())
    assert LOGIN.encode() in contents
    assert TOKEN.encode() not in contents


def test_reconnecting_replaces_the_token_and_keeps_the_settings(
    service: AccountService, store: TinyDBStore, cipher: TokenCipher
) -> None:
    store.save_account(make_account(show_full_address=True))

    service.connect(ADMIN, connect_form(token="tok-new-0000000"), channel_id="C0NEWCHAN")

    stored = store.get_account(LOGIN)
    assert stored is not None
    assert cipher.decrypt(stored.token_ciphertext) == "tok-new-0000000"
    assert stored.channel_id == "C0NEWCHAN"
    assert stored.settings.show_full_address is True


def test_rakuten_channel_from_the_environment_wins_over_where_the_command_ran(
    make_service: Callable[..., AccountService], store: TinyDBStore
) -> None:
    service = make_service(fixed_channel="C0FIXED")

    service.connect(ADMIN, connect_form(), channel_id=CHANNEL)

    stored = store.get_account(LOGIN)
    assert stored is not None
    assert stored.channel_id == "C0FIXED"


def test_without_a_channel_nothing_is_stored(service: AccountService, store: TinyDBStore, clients: Mock) -> None:
    result = service.connect(ADMIN, connect_form(), channel_id=None)

    assert result.refusal is not None
    assert "in the channel where the order cards should go" in str(result.refusal)
    clients.build.assert_not_called()
    assert store.list_accounts() == []


def test_a_non_admin_is_refused_before_rakuten_is_asked(
    service: AccountService, store: TinyDBStore, clients: Mock
) -> None:
    result = service.connect(SELLER, connect_form(), channel_id=CHANNEL)

    assert str(result.refusal) == "Only the bot's admins can connect an account (RAKUTEN_ADMINS)."
    clients.build.assert_not_called()
    assert store.list_accounts() == []


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            AuthenticationError(
                ErrorDetails("Sender", "InvalidUserConnection", "Unknown user"), action="getitemtodolist"
            ),
            "Rakuten refused this login and token",
        ),
        (TransportError("no answer from Rakuten within 2.2 s", action="getitemtodolist"), "did not answer in time"),
        (ServerError("HTTP 503", action="getitemtodolist", status_code=503), "did not answer in time"),
    ],
)
def test_a_pair_rakuten_does_not_accept_is_an_error_on_the_token_field(
    service: AccountService,
    store: TinyDBStore,
    rakuten: Mock,
    scheduler: Mock,
    error: Exception,
    words: str,
) -> None:
    rakuten.check_credentials.side_effect = error

    result = service.connect(ADMIN, connect_form(), channel_id=CHANNEL)

    assert list(result.field_errors) == ["token"]
    assert words in str(result.field_errors["token"])
    assert TOKEN not in str(result.field_errors["token"])
    rakuten.close.assert_called_once_with()
    assert store.list_accounts() == []
    scheduler.add_account.assert_not_called()


def test_a_definite_rakuten_error_says_it_answered_with_an_error(service: AccountService, rakuten: Mock) -> None:
    rakuten.check_credentials.side_effect = PermissionDeniedError(
        ErrorDetails("Sender", "InvalidUserRights", "Access denied"), action="getitemtodolist"
    )

    result = service.connect(ADMIN, connect_form(), channel_id=CHANNEL)

    assert "answered with an error" in str(result.field_errors["token"])


# --- settings and disconnect ------------------------------------------------------------------------------


def settings_form(**changes: object) -> SettingsChange:
    values: dict[str, object] = {
        "channel_id": "C0PACKING",
        "express_mention": "S0EXPRESS",
        "shipper_group": "S0PACKERS",
        "show_full_address": True,
        "auto_accept": True,
    }
    values.update(changes)
    return SettingsChange(**values)  # type: ignore[arg-type]


def test_an_admin_saves_settings_and_the_cards_are_redrawn(
    service: AccountService, store: TinyDBStore, actions: Mock
) -> None:
    store.save_account(make_account())

    answer = service.update_settings(ADMIN, LOGIN, settings_form())

    assert str(answer) == f"Settings of {LOGIN} saved."
    stored = store.get_account(LOGIN)
    assert stored is not None
    assert stored.channel_id == "C0PACKING"
    settings = stored.settings
    assert (settings.express_mention, settings.shipper_group) == ("S0EXPRESS", "S0PACKERS")
    assert (settings.show_full_address, settings.auto_accept) == (True, True)
    actions.refresh_cards_later.assert_called_once_with(LOGIN)
    assert [entry.action for entry in store.list_audit(account=LOGIN)] == ["settings_changed"]


def test_settings_are_refused_to_non_admins_and_for_unknown_accounts(
    service: AccountService, store: TinyDBStore, actions: Mock
) -> None:
    store.save_account(make_account())

    assert str(service.update_settings(SELLER, LOGIN, settings_form())) == (
        "Only the bot's admins can change the settings (RAKUTEN_ADMINS)."
    )
    assert str(service.update_settings(ADMIN, "gone-shop", settings_form())) == (
        "The Rakuten account gone-shop is not connected any more."
    )
    stored = store.get_account(LOGIN)
    assert stored is not None
    assert stored.settings.auto_accept is False
    actions.refresh_cards_later.assert_not_called()


def test_disconnect_removes_the_account_and_stops_polling(
    service: AccountService, store: TinyDBStore, clients: Mock, scheduler: Mock
) -> None:
    store.save_account(make_account())

    assert str(service.disconnect(SELLER, LOGIN)) == "Only the bot's admins can disconnect an account (RAKUTEN_ADMINS)."
    assert store.get_account(LOGIN) is not None

    answer = service.disconnect(ADMIN, LOGIN)

    assert str(answer) == f"Disconnected {LOGIN}: its token is deleted and polling has stopped."
    assert store.get_account(LOGIN) is None
    scheduler.remove_account.assert_called_once_with(LOGIN)
    clients.forget.assert_called_once_with(LOGIN)
    assert [entry.action for entry in store.list_audit(account=LOGIN)] == ["account_disconnected"]
    assert str(service.disconnect(ADMIN, LOGIN)) == f"The Rakuten account {LOGIN} was not connected."
    assert service.accounts() == []
