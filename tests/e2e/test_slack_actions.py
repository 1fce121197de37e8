"""Issue 4 end to end: /rakuten, the card buttons, the modals and the Home tab, over loopback.

Every request reaches the app signed as Slack signs it (slash commands as a form body, interactivity as
``payload=``, view submissions with ``state.values``, events as JSON); the assertions read what the Slack
stand-in was asked to do, what the Rakuten simulator received, and what the bot's store holds. Each test runs in
English and in French (see ``conftest``): what the bot says is compared with the stack's translator, ``stack.t``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.constants import (
    ACTION_ACCEPT,
    ACTION_CHANNEL,
    ACTION_DISCONNECT_CONFIRM,
    ACTION_EXPRESS_MENTION,
    ACTION_LOGIN,
    ACTION_MARK_SHIPPED,
    ACTION_OPTIONS,
    ACTION_REFUSE,
    ACTION_SHIPPER_GROUP,
    ACTION_SHOW_ADDRESS,
    ACTION_TOKEN,
    BLOCK_CHANNEL,
    BLOCK_EXPRESS_MENTION,
    BLOCK_ITEMS,
    BLOCK_LOGIN,
    BLOCK_OPTIONS,
    BLOCK_SHIPPER_GROUP,
    BLOCK_TOKEN,
    BLOCK_TRACKING_NUMBER,
    BLOCK_TRACKING_URL,
    OPTION_AUTO_ACCEPT,
    OPTION_SHOW_FULL_ADDRESS,
    VIEW_CONNECT,
    VIEW_SETTINGS,
    VIEW_SHIP,
)
from bot.domain.accounts import AccountRecord
from bot.domain.orders import ItemState, OrderRecord, OrderState
from bot.services.permissions import BOOTSTRAP_ADMIN_KEY
from bot.ui.account_views import build_connect_modal
from bot.ui.order_card import BLOCK_STATE, EXPRESS_MARKER
from bot.ui.refs import ConnectModalMetadata
from devkit.local_stack import (
    ADMIN,
    CHANNEL,
    LOGIN,
    OUTSIDER,
    PACKER,
    PACKER_GROUP,
    SELLER,
    TOKEN,
    LocalStack,
)
from devkit.rakuten_simulator import Fault
from devkit.rakuten_simulator import ItemState as SimItemState
from devkit.slack_requests import (
    app_home_opened_event,
    checkboxes_state,
    conversations_select_state,
    text_input_state,
)
from rakuten.actions import Action
from tests.e2e.conftest import StackFactory
from tests.e2e.wording import (
    ACCEPTED,
    ANSWER_LOST,
    ANY,
    rakuten_refused,
    says,
    shipped_via,
    shown,
    tracking_rejected,
    tracking_sent,
)
from tests.i18n import EN

SET_TRACKING = Action.SET_TRACKING.value
ACCEPT_SALE = Action.ACCEPT_SALE.value
REFUSE_SALE = Action.REFUSE_SALE.value
RAKUTEN_ACTIONS = (SET_TRACKING, ACCEPT_SALE, REFUSE_SALE)
BAD_TOKEN = "wrong-token-77aa31"
COLISSIMO_NUMBER = "6A12345678901"
# The subcommands as the help names them: French readers see the French aliases.
HELP_NAMES = {
    "en": ("connect", "status", "orders", "ship", "settings", "disconnect"),
    "fr": ("connecter", "statut", "commandes", "expedier", "reglages", "deconnecter"),
}


# ---------------------------------------------------------------------------------------------- helpers


def add_order(stack: LocalStack, *, items: int = 1, new: bool = False, **sale: Any) -> str:
    headlines = [{"headline": f"Article {index + 1}"} for index in range(items)]
    return stack.simulator.add_sale(LOGIN, new=new, items=sale.pop("item_specs", headlines), **sale)


def post_cards(stack: LocalStack) -> None:
    outcome = stack.poll()
    assert outcome.ok, outcome.error


def order_of(stack: LocalStack, purchaseid: str) -> OrderRecord:
    order = stack.bot.store.get_order(LOGIN, purchaseid)
    assert order is not None
    return order


def account_of(stack: LocalStack, login: str = LOGIN) -> AccountRecord:
    account = stack.bot.store.get_account(login)
    assert account is not None
    return account


def itemids(stack: LocalStack, purchaseid: str) -> list[str]:
    return [item.itemid for item in stack.simulator.sale(purchaseid).items]


def settled(stack: LocalStack, purchaseid: str, done: Callable[[OrderRecord], bool]) -> bool:
    """The order reached ``done``, nothing is pending, and its card in Slack shows exactly that."""
    account = stack.bot.store.get_account(LOGIN)
    order = stack.bot.store.get_order(LOGIN, purchaseid)
    if account is None or order is None or order.card is None or not done(order):
        return False
    if any(item.pending is not None for item in order.items):
        return False
    return order.card_fingerprint == stack.bot.publisher.render(account, order).fingerprint


def wait_settled(stack: LocalStack, purchaseid: str, done: Callable[[OrderRecord], bool]) -> OrderRecord:
    stack.wait_until(lambda: settled(stack, purchaseid, done), timeout=10)
    assert stack.bot.runner.wait_idle(timeout=5)
    return order_of(stack, purchaseid)


def card_json(stack: LocalStack, purchaseid: str) -> str:
    card = stack.card_for(purchaseid)
    return json.dumps({"text": card.text, "blocks": card.blocks}, ensure_ascii=False)


def card_words(stack: LocalStack, purchaseid: str) -> str:
    """Every text on the order's card (notification, blocks, buttons, confirmations), one per line."""
    card = stack.card_for(purchaseid)
    return shown({"text": card.text, "blocks": card.blocks})


def card_buttons(stack: LocalStack, purchaseid: str) -> list[str]:
    card = stack.card_for(purchaseid)
    return [
        element["action_id"]
        for block in card.blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]


def new_responses(stack: LocalStack, before: int, count: int = 1) -> list[dict[str, Any]]:
    """Bodies the app POSTed to response URLs (respond()) after the first ``before`` ones."""
    stack.slack.wait_for(lambda: len(stack.slack.responses) >= before + count)
    return stack.slack.responses[before:]


def response_text(response: dict[str, Any]) -> str:
    return json.dumps({"text": response.get("text"), "blocks": response.get("blocks")}, ensure_ascii=False)


def response_words(response: dict[str, Any]) -> str:
    """Every text of a response (its notification text and its blocks'), one per line."""
    return shown({"text": response.get("text"), "blocks": response.get("blocks")})


def ephemerals_for(stack: LocalStack, user: str) -> str:
    return shown(stack.slack.ephemerals(user))


# What the bot says, in the stack's language (``ANY``: a part the test does not check).


def refusal(stack: LocalStack, what: str, why: str = ANY) -> str:
    """A "🚫 You can't …: …" answer; ``what`` is the refused task's message id."""
    return stack.t.gettext("🚫 You can't {what}: {why}", what=stack.t.gettext(what), why=why)


def members_only(stack: LocalStack) -> str:
    return stack.t.gettext("Only members of {channel} can act on these orders.", channel=f"<#{CHANNEL}>")


def sending(stack: LocalStack, purchaseid: str, carrier: str, tracking: str, count: int) -> str:
    """The shipper's first answer: the tracking is on its way to Rakuten."""
    return stack.t.ngettext(
        "Sending {carrier} {tracking} to Rakuten for order {purchaseid} ({count} item).",
        "Sending {carrier} {tracking} to Rakuten for order {purchaseid} ({count} items).",
        count,
        carrier=carrier,
        tracking=tracking,
        purchaseid=purchaseid,
    )


def not_answering(stack: LocalStack, purchaseid: str) -> list[str]:
    """The answers telling that the order's tracking is queued while Rakuten does not answer (with or without the
    time of the next try)."""
    what = stack.t.gettext("the tracking for order {purchaseid}", purchaseid=purchaseid)
    return [
        stack.t.gettext(
            "⏳ Rakuten is not answering right now: {what} is queued and will be retried automatically.", what=what
        ),
        stack.t.gettext(
            "⏳ Rakuten is not answering right now: {what} is queued and will be retried automatically "
            "(next try at {when}).",
            what=what,
            when=ANY,
        ),
    ]


def state_line(stack: LocalStack, purchaseid: str) -> str:
    """The state line of the order's card."""
    (state,) = [block for block in stack.card_for(purchaseid).blocks if block.get("block_id") == BLOCK_STATE]
    return str(state["text"]["text"])


def open_modal(stack: LocalStack, purchaseid: str, *, user: str = SELLER) -> dict[str, Any]:
    """Click Mark shipped and return the modal Slack opened for it."""
    before = len(stack.opened_views(VIEW_SHIP))
    response = stack.click(purchaseid, ACTION_MARK_SHIPPED, user=user)
    assert response.status_code == 200
    stack.slack.wait_for(lambda: len(stack.opened_views(VIEW_SHIP)) > before)
    view = stack.opened_views(VIEW_SHIP)[-1]
    assert purchaseid in view["private_metadata"]
    return view


def modal_item_options(view: dict[str, Any]) -> list[str]:
    for block in view["blocks"]:
        if block.get("block_id") == BLOCK_ITEMS:
            return [option["value"] for option in block["element"]["options"]]
    return []


def rakuten_calls(stack: LocalStack) -> list[str]:
    return [request.action or "" for request in stack.simulator.requests if request.action in RAKUTEN_ACTIONS]


def errors_of(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 200
    body = response.json()
    assert body["response_action"] == "errors"
    return body["errors"]


def connect_values(login: str, token: str) -> dict[str, Any]:
    return {
        BLOCK_LOGIN: {ACTION_LOGIN: text_input_state(login)},
        BLOCK_TOKEN: {ACTION_TOKEN: text_input_state(token)},
    }


def settings_values(
    *, channel: str = CHANNEL, mention: str | None = None, group: str | None = None, options: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        BLOCK_CHANNEL: {ACTION_CHANNEL: conversations_select_state(channel)},
        BLOCK_EXPRESS_MENTION: {ACTION_EXPRESS_MENTION: text_input_state(mention)},
        BLOCK_SHIPPER_GROUP: {ACTION_SHIPPER_GROUP: text_input_state(group)},
        BLOCK_OPTIONS: {ACTION_OPTIONS: checkboxes_state(list(options))},
    }


def open_connect_modal(stack: LocalStack, user: str = ADMIN, channel: str = CHANNEL) -> dict[str, Any]:
    before = len(stack.opened_views(VIEW_CONNECT))
    response = stack.command("connect", user=user, channel=channel)
    assert response.status_code == 200
    assert response.text == ""  # a plain ack: the modal says the rest
    stack.slack.wait_for(lambda: len(stack.opened_views(VIEW_CONNECT)) > before)
    return stack.opened_views(VIEW_CONNECT)[-1]


def files_containing(root: Path, needle: str) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and needle.encode() in path.read_bytes()]


def everything_slack_saw(stack: LocalStack) -> str:
    calls = [{"method": call.method, "params": call.params} for call in stack.slack.calls]
    return json.dumps(
        {
            "calls": calls,
            "responses": stack.slack.responses,
            "ephemerals": stack.slack.ephemerals(),
            "views": stack.slack.views,
        },
        ensure_ascii=False,
        default=str,
    )


# -------------------------------------------------------------------------------------- /rakuten connect


def test_connect_with_a_good_pair_stores_the_token_encrypted_and_starts_polling(
    make_stack: StackFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stack = make_stack(connect_env_account=False)
    stack.bot.start_polling()  # as `rakuten-bot run` does, with no account connected yet
    waiting = add_order(stack, items=2)

    view = open_connect_modal(stack)
    assert stack.slack.calls_to("views.open")
    assert stack.t.gettext(
        "Paste the token from My Account > Tokens on Rakuten (Mon compte > Tokens). "
        "It is checked against Rakuten, encrypted at rest, and never shown again."
    ) in shown(view["blocks"])

    response = stack.submit_view(view, connect_values(LOGIN, TOKEN), user=ADMIN)

    assert response.status_code == 200
    assert "errors" not in response.text
    account = account_of(stack)
    assert account.channel_id == CHANNEL  # where the command ran
    assert account.connected_by == ADMIN
    assert account.token_ciphertext
    assert account.token_ciphertext != TOKEN
    assert stack.bot.cipher.decrypt(account.token_ciphertext) == TOKEN
    # The first poll starts at once: the waiting order's card appears without anyone polling by hand.
    stack.slack.wait_for(lambda: any(card for card in stack.cards() if waiting in card.text), timeout=10)
    connected = stack.t.gettext(
        "✅ Rakuten account *{login}* connected. New orders will be posted in {channel}; the first check runs now.",
        login=LOGIN,
        channel=f"<#{CHANNEL}>",
    )
    stack.slack.wait_for(lambda: any(connected in m.text for m in stack.slack.messages(CHANNEL)))
    assert stack.simulator.requests_for(Action.GET_ITEM_TODO_LIST.value)  # the pair was checked first

    data_dir = stack.data_dir
    stack.stop_app()  # flush the store: what is on disk is what stays
    assert not files_containing(data_dir, TOKEN)
    assert files_containing(data_dir, account.token_ciphertext)  # the store file was searched, token encrypted
    assert TOKEN not in everything_slack_saw(stack)
    assert TOKEN not in response.text
    assert TOKEN not in caplog.text
    assert all(request.params.get("pwd") == "***" for request in stack.simulator.requests)


def test_connect_with_a_bad_pair_shows_an_error_on_the_token_field_and_stores_nothing(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(connect_env_account=False)
    view = open_connect_modal(stack)

    errors = errors_of(stack.submit_view(view, connect_values(LOGIN, BAD_TOKEN), user=ADMIN))

    assert list(errors) == [BLOCK_TOKEN]
    assert errors[BLOCK_TOKEN] == stack.t.gettext(
        "Rakuten refused this login and token. Check the login, or make a new token."
    )
    assert stack.bot.store.list_accounts() == []
    assert [r.status for r in stack.simulator.requests_for(Action.GET_ITEM_TODO_LIST.value)] == [401]
    assert not files_containing(stack.data_dir, BAD_TOKEN)
    assert BAD_TOKEN not in everything_slack_saw(stack)
    assert stack.slack.messages(CHANNEL) == []


def test_connect_form_errors_show_on_their_fields_before_rakuten_is_asked(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(connect_env_account=False)
    view = open_connect_modal(stack)

    errors = errors_of(stack.submit_view(view, connect_values("my shop", "short"), user=ADMIN))

    assert set(errors) == {BLOCK_LOGIN, BLOCK_TOKEN}
    assert stack.simulator.requests == []
    assert stack.bot.store.list_accounts() == []


def test_a_non_admin_cannot_connect_even_with_a_forged_submission(make_stack: StackFactory) -> None:
    stack = make_stack(connect_env_account=False)

    refused = stack.command("connect", user=SELLER)

    assert refused.status_code == 200
    assert says(refused.json()["text"], refusal(stack, "connect a Rakuten account"))
    assert "RAKUTEN_ADMINS" in refused.json()["text"]
    assert stack.slack.calls_to("views.open") == []

    # The check is made again on submit: a modal opened by an admin, submitted by someone else.
    view = open_connect_modal(stack, user=ADMIN)
    response = stack.submit_view(view, connect_values(LOGIN, TOKEN), user=SELLER)
    assert response.status_code == 200
    stack.slack.wait_for(lambda: says(ephemerals_for(stack, SELLER), refusal(stack, "connect a Rakuten account")))
    assert stack.bot.store.list_accounts() == []
    assert stack.simulator.requests == []


def test_with_no_admins_configured_the_first_connector_becomes_the_admin(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(connect_env_account=False, admins=frozenset())
    first = open_connect_modal(stack, user=SELLER)
    second = open_connect_modal(stack, user=ADMIN)  # opened before anyone connected

    assert stack.submit_view(first, connect_values(LOGIN, TOKEN), user=SELLER).status_code == 200
    assert stack.bot.store.get_meta(BOOTSTRAP_ADMIN_KEY) == SELLER
    assert account_of(stack).connected_by == SELLER

    stack.submit_view(second, connect_values(LOGIN, TOKEN), user=ADMIN)
    first_connector_only = stack.t.gettext(
        "Only the bot's admin (the person who first connected an account) can {what}.", what=ANY
    )
    stack.slack.wait_for(lambda: says(ephemerals_for(stack, ADMIN), first_connector_only))
    assert account_of(stack).connected_by == SELLER

    refused = stack.command("connect", user=OUTSIDER, channel="C0ELSEWHERE")
    assert says(refused.json()["text"], first_connector_only)
    before = len(stack.slack.responses)
    assert stack.command("disconnect", user=SELLER).text == ""  # the bootstrap admin may administer
    (prompt,) = new_responses(stack, before)
    assert ACTION_DISCONNECT_CONFIRM in response_text(prompt)


def forged_connect_view(channel: str) -> dict[str, Any]:
    """The connect modal as an outsider would forge it: nobody opened it for them."""
    view = build_connect_modal(EN, ConnectModalMetadata(channel)).to_dict()
    return {**view, "id": "V0FORGED"}


def test_an_account_from_the_environment_cannot_be_taken_over_when_no_admin_is_set(
    make_stack: StackFactory,
) -> None:
    # The shop is connected from the environment and, against the start-up check, no admin is set: the
    # bootstrap rule must not hand the bot to whoever connects first (their own Rakuten pair, accepted).
    stack = make_stack(admins=frozenset())
    stack.simulator.add_account("outsider-shop", "outsider-token-7a2b")

    refused = stack.command("connect", user=OUTSIDER, channel="C0ELSEWHERE")
    assert "RAKUTEN_ADMINS" in refused.json()["text"]
    assert stack.slack.calls_to("views.open") == []

    response = stack.submit_view(
        forged_connect_view("C0ELSEWHERE"), connect_values("outsider-shop", "outsider-token-7a2b"), user=OUTSIDER
    )
    assert response.status_code == 200
    stack.slack.wait_for(lambda: says(ephemerals_for(stack, OUTSIDER), refusal(stack, "connect a Rakuten account")))
    assert stack.bot.store.get_meta(BOOTSTRAP_ADMIN_KEY) is None
    assert [account.login for account in stack.bot.store.list_accounts()] == [LOGIN]
    assert account_of(stack).channel_id == CHANNEL
    # Nor can they administer the shop that is there.
    for command in ("disconnect", "settings"):
        assert "RAKUTEN_ADMINS" in stack.command(command, user=OUTSIDER, channel="C0ELSEWHERE").json()["text"]
    assert stack.slack.calls_to("views.open") == []
    assert stack.bot.store.get_account(LOGIN) is not None


def test_the_bootstrap_rule_applies_once_to_a_bot_with_no_account(make_stack: StackFactory) -> None:
    stack = make_stack(connect_env_account=False, admins=frozenset())
    stack.simulator.add_account("outsider-shop", "outsider-token-7a2b")
    view = open_connect_modal(stack, user=SELLER)
    stack.submit_view(view, connect_values(LOGIN, TOKEN), user=SELLER)
    assert stack.bot.store.get_meta(BOOTSTRAP_ADMIN_KEY) == SELLER

    # The bootstrap admin disconnects the only account: the bot has no account again, but the rule is spent.
    stack.bot.accounts.disconnect(SELLER, LOGIN)
    assert stack.bot.store.list_accounts() == []
    refused = stack.command("connect", user=OUTSIDER, channel="C0ELSEWHERE")
    first_connector_only = stack.t.gettext(
        "Only the bot's admin (the person who first connected an account) can {what}.", what=ANY
    )
    assert says(refused.json()["text"], first_connector_only)
    stack.submit_view(
        forged_connect_view("C0ELSEWHERE"), connect_values("outsider-shop", "outsider-token-7a2b"), user=OUTSIDER
    )
    stack.slack.wait_for(lambda: says(ephemerals_for(stack, OUTSIDER), refusal(stack, "connect a Rakuten account")))
    assert stack.bot.store.list_accounts() == []
    assert stack.bot.store.get_meta(BOOTSTRAP_ADMIN_KEY) == SELLER


# ------------------------------------------------------------------------------------------ Mark shipped


def test_mark_shipped_for_all_items_sends_one_call_per_item_and_updates_the_card_in_place(stack: LocalStack) -> None:
    purchaseid = add_order(stack, items=2)
    post_cards(stack)
    card_ts = stack.card_for(purchaseid).ts

    view = open_modal(stack, purchaseid)
    assert sorted(modal_item_options(view)) == sorted(itemids(stack, purchaseid))
    response = stack.submit_ship(view, carrier="Colissimo", tracking=COLISSIMO_NUMBER)

    assert response.status_code == 200
    assert response.text == ""
    order = wait_settled(stack, purchaseid, lambda o: o.state is OrderState.SHIPPED)
    requests = stack.simulator.requests_for(SET_TRACKING)
    assert sorted(r.params["itemid"] for r in requests) == sorted(itemids(stack, purchaseid))
    assert {(r.params["transporter_name"], r.params["tracking_number"], r.status) for r in requests} == {
        ("Colissimo", COLISSIMO_NUMBER, 200)
    }
    assert all(stack.simulator.item(i).status is SimItemState.SHIPPED for i in itemids(stack, purchaseid))
    assert all(item.shipment and item.shipment.shipped_by == SELLER for item in order.items)

    card = stack.card_for(purchaseid)
    assert card.ts == card_ts
    assert card.updated >= 1
    assert {call.params["ts"] for call in stack.slack.calls_to("chat.update")} == {card_ts}
    words = card_words(stack, purchaseid)
    assert shipped_via(stack.t, "Colissimo") in words
    assert COLISSIMO_NUMBER in words
    assert stack.t.gettext("by {user}", user=f"<@{SELLER}>") in words
    assert ACTION_MARK_SHIPPED not in card_buttons(stack, purchaseid)
    audit = stack.bot.store.list_audit(purchaseid=purchaseid)
    assert [entry.action for entry in audit].count("ship") == 2
    assert "ship_requested" in [entry.action for entry in audit]


def test_mark_shipped_for_some_items_leaves_the_button_for_the_rest(stack: LocalStack) -> None:
    purchaseid = add_order(stack, items=3)
    post_cards(stack)
    first, *rest = itemids(stack, purchaseid)

    view = open_modal(stack, purchaseid)
    stack.submit_ship(view, carrier="Colissimo", tracking=COLISSIMO_NUMBER, itemids=[first])
    order = wait_settled(stack, purchaseid, lambda o: o.state is OrderState.PARTIALLY_SHIPPED)

    assert [r.params["itemid"] for r in stack.simulator.requests_for(SET_TRACKING)] == [first]
    assert order.item(first).state is ItemState.SHIPPED  # type: ignore[union-attr]
    assert ACTION_MARK_SHIPPED in card_buttons(stack, purchaseid)
    assert state_line(stack, purchaseid) == stack.t.gettext(
        "*{state} ({shipped} of {total})*", state=stack.t.gettext("📦 Partially shipped"), shipped=1, total=3
    )

    second_view = open_modal(stack, purchaseid)
    assert sorted(modal_item_options(second_view)) == sorted(rest)  # the shipped item is not offered again
    stack.submit_ship(second_view, carrier="DPD", tracking="DPD99887766", itemids=rest)
    wait_settled(stack, purchaseid, lambda o: o.state is OrderState.SHIPPED)

    requests = stack.simulator.requests_for(SET_TRACKING)
    assert sorted(r.params["itemid"] for r in requests) == sorted([first, *rest])
    assert [r.params["transporter_name"] for r in requests] == ["Colissimo", "DPD", "DPD"]
    assert ACTION_MARK_SHIPPED not in card_buttons(stack, purchaseid)


def test_autre_without_a_url_is_an_error_on_the_url_field_and_sends_nothing(stack: LocalStack) -> None:
    purchaseid = add_order(stack)
    post_cards(stack)
    view = open_modal(stack, purchaseid)

    errors = errors_of(stack.submit_ship(view, carrier="Autre", tracking="ABC123456"))

    assert list(errors) == [BLOCK_TRACKING_URL]
    assert errors[BLOCK_TRACKING_URL] == stack.t.gettext(
        "A tracking URL is required when the carrier is “{other}”, so the buyer can follow it.", other="Autre"
    )
    assert stack.simulator.requests_for(SET_TRACKING) == []
    assert all(item.pending is None for item in order_of(stack, purchaseid).items)

    # Corrected in the same modal, as Slack keeps it open after an error.
    url = "https://suivi.example.fr/colis/ABC123456"
    assert stack.submit_ship(view, carrier="Autre", tracking="ABC123456", url=url).text == ""
    wait_settled(stack, purchaseid, lambda o: o.state is OrderState.SHIPPED)
    (request,) = stack.simulator.requests_for(SET_TRACKING)
    assert request.params["transporter_name"] == "Autre"
    assert request.params["tracking_url"] == url
    assert f"<{url}|ABC123456>" in card_json(stack, purchaseid)  # the tracking number links to the URL


def test_an_invalid_tracking_number_is_an_error_on_its_field(stack: LocalStack) -> None:
    purchaseid = add_order(stack)
    post_cards(stack)
    view = open_modal(stack, purchaseid)

    errors = errors_of(stack.submit_ship(view, carrier="Colissimo", tracking="12 34"))

    assert list(errors) == [BLOCK_TRACKING_NUMBER]
    assert says(
        errors[BLOCK_TRACKING_NUMBER],
        stack.t.gettext(
            "A tracking number has {low} to {high} characters; this one has {length}.", low=ANY, high=ANY, length=ANY
        ),
    )
    assert stack.simulator.requests_for(SET_TRACKING) == []


def test_a_double_submit_makes_one_rakuten_call_per_item(stack: LocalStack) -> None:
    purchaseid = add_order(stack, items=2)
    post_cards(stack)
    # A double click opens two modals; both get submitted, at the same moment.
    views = [open_modal(stack, purchaseid), open_modal(stack, purchaseid)]
    submissions = [*views, views[0]]

    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(
            pool.map(lambda view: stack.submit_ship(view, carrier="Colissimo", tracking=COLISSIMO_NUMBER), submissions)
        )

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    wait_settled(stack, purchaseid, lambda o: o.state is OrderState.SHIPPED)
    sent = [r.params["itemid"] for r in stack.simulator.requests_for(SET_TRACKING)]
    assert sorted(sent) == sorted(itemids(stack, purchaseid))
    stack.slack.wait_for(lambda: len(stack.slack.ephemerals(SELLER)) >= 3)
    answers = [ephemeral["text"] for ephemeral in stack.slack.ephemerals(SELLER)]
    assert answers.count(sending(stack, purchaseid, "Colissimo", COLISSIMO_NUMBER, 2)) == 1
    nothing_sent = [
        stack.t.gettext("Order {purchaseid}: the tracking is already being sent to Rakuten.", purchaseid=purchaseid),
        stack.t.gettext(
            "Order {purchaseid}: those items are already shipped or being sent. Nothing was sent twice.",
            purchaseid=purchaseid,
        ),
        stack.t.gettext(
            "Order {purchaseid} was already marked shipped: nothing was sent to Rakuten again.", purchaseid=purchaseid
        ),
        stack.t.gettext("Order {purchaseid} has nothing left to ship.", purchaseid=purchaseid),
    ]
    assert sum(answer in nothing_sent for answer in answers) == 2


def test_a_rakuten_refusal_is_told_to_the_clicker_recorded_and_shown_on_the_card(stack: LocalStack) -> None:
    purchaseid = add_order(stack)
    post_cards(stack)
    (itemid,) = itemids(stack, purchaseid)
    view = open_modal(stack, purchaseid)
    stack.simulator.ship_on_site(itemid, "Colissimo", "6A99999999999")  # meanwhile, on the Rakuten site

    stack.submit_ship(view, carrier="Colissimo", tracking=COLISSIMO_NUMBER)

    rejected = tracking_rejected(stack.t, purchaseid, ANY + "déjà été expédié" + ANY)  # Rakuten's own words
    stack.slack.wait_for(lambda: says(ephemerals_for(stack, SELLER), rejected))
    order = wait_settled(stack, purchaseid, lambda o: o.items[0].failure is not None)
    assert order.items[0].state is ItemState.TO_SHIP  # not marked shipped by us
    assert says(card_words(stack, purchaseid), rakuten_refused(stack.t, ANY + "déjà été expédié"))
    (failed,) = [e for e in stack.bot.store.list_audit(purchaseid=purchaseid) if e.action == "ship"]
    assert failed.outcome == "failed"
    assert failed.actor == SELLER
    assert "déjà été expédié" in (failed.detail or "")
    assert [r.status for r in stack.simulator.requests_for(SET_TRACKING)] == [400]  # a refusal is not retried


def test_a_tracking_rakuten_recorded_but_whose_answer_was_lost_ends_shipped_and_the_seller_is_told(
    stack: LocalStack,
) -> None:
    purchaseid = add_order(stack)
    post_cards(stack)
    (itemid,) = itemids(stack, purchaseid)
    view = open_modal(stack, purchaseid)
    # Rakuten records the tracking, then the connection drops: the bot never hears it went through.
    stack.simulator.inject_fault(SET_TRACKING, Fault.APPLIED_THEN_DROPPED)

    stack.submit_ship(view, carrier="Colissimo", tracking=COLISSIMO_NUMBER)

    order = wait_settled(stack, purchaseid, lambda o: o.state is OrderState.SHIPPED)
    first, resend = stack.simulator.requests_for(SET_TRACKING)
    assert (first.fault, resend.fault, resend.status) == (Fault.APPLIED_THEN_DROPPED, None, 400)  # "already shipped"
    tracking = stack.simulator.item(itemid).tracking
    assert tracking is not None
    assert (tracking.carrier, tracking.number) == ("Colissimo", COLISSIMO_NUMBER)
    assert order.items[0].failure is None
    assert order.items[0].shipment is not None
    assert order.items[0].shipment.shipped_by == SELLER
    words = card_words(stack, purchaseid)
    assert shipped_via(stack.t, "Colissimo") in words
    assert not says(words, rakuten_refused(stack.t))
    assert ACTION_MARK_SHIPPED not in card_buttons(stack, purchaseid)
    stack.slack.wait_for(lambda: stack.t.gettext(ANSWER_LOST) in ephemerals_for(stack, SELLER))
    told = ephemerals_for(stack, SELLER)
    assert tracking_sent(stack.t, purchaseid, "Colissimo", COLISSIMO_NUMBER) in told
    assert not says(told, tracking_rejected(stack.t, purchaseid))
    assert stack.t.gettext("Check the carrier and tracking number, then use Mark shipped again.") not in told
    (done,) = [entry for entry in stack.bot.store.list_audit(purchaseid=purchaseid) if entry.action == "ship"]
    assert (done.outcome, done.actor) == ("ok", SELLER)
    assert "answer lost" in (done.detail or "")


REFUSED = ("⛔ Order {purchaseid} refused ({count} item).", "⛔ Order {purchaseid} refused ({count} items).")
REJECTED = (
    "⚠️ Rakuten rejected the acceptance of order {purchaseid}: {reason}",
    "⚠️ Rakuten rejected the refusal of order {purchaseid}: {reason}",
)


@pytest.mark.parametrize(
    ("button", "action", "done", "final", "success"),
    [
        (ACTION_ACCEPT, ACCEPT_SALE, OrderState.TO_SHIP, SimItemState.ACCEPTED, ACCEPTED),
        (ACTION_REFUSE, REFUSE_SALE, OrderState.REFUSED, SimItemState.REFUSED, REFUSED),
    ],
    ids=["accept", "refuse"],
)
def test_an_accept_or_refuse_whose_answer_was_lost_is_confirmed_by_the_resend(
    stack: LocalStack, button: str, action: str, done: OrderState, final: SimItemState, success: tuple[str, str]
) -> None:
    purchaseid = add_order(stack, new=True)
    post_cards(stack)
    (itemid,) = itemids(stack, purchaseid)
    stack.simulator.inject_fault(action, Fault.APPLIED_THEN_DROPPED)

    assert stack.click(purchaseid, button).status_code == 200

    order = wait_settled(stack, purchaseid, lambda o: o.state is done)
    assert [request.status for request in stack.simulator.requests_for(action)][1:] == [400]  # "already …"
    assert stack.simulator.item(itemid).status is final
    assert order.items[0].failure is None
    stack.slack.wait_for(lambda: stack.t.gettext(ANSWER_LOST) in ephemerals_for(stack, SELLER))
    told = ephemerals_for(stack, SELLER)
    assert stack.t.ngettext(*success, 1, purchaseid=purchaseid) in told
    for rejected in REJECTED:
        assert not says(told, stack.t.gettext(rejected, purchaseid=purchaseid, reason=ANY))


def test_an_outage_is_retried_in_the_background_until_rakuten_answers(stack: LocalStack) -> None:
    purchaseid = add_order(stack)
    post_cards(stack)
    view = open_modal(stack, purchaseid)
    stack.simulator.inject_fault(SET_TRACKING, Fault.HTTP_503, times=3)

    stack.submit_ship(view, carrier="Colissimo", tracking=COLISSIMO_NUMBER)

    wait_settled(stack, purchaseid, lambda o: o.state is OrderState.SHIPPED)
    statuses = [r.status for r in stack.simulator.requests_for(SET_TRACKING)]
    assert statuses == [503, 503, 503, 200]  # exactly one successful call
    history = shown(stack.card_for(purchaseid).history)
    sending_tracking = stack.t.gettext("📤 *Sending tracking to Rakuten…*")
    assert sending_tracking in history
    assert stack.t.gettext("{state} (retrying)", state=sending_tracking) in history
    assert shipped_via(stack.t, "Colissimo") in card_words(stack, purchaseid)
    stack.slack.wait_for(
        lambda: any(says(ephemerals_for(stack, SELLER), queued) for queued in not_answering(stack, purchaseid))
    )


def test_a_spent_quota_is_named_with_the_time_the_shipment_goes_out(stack: LocalStack) -> None:
    purchaseid = add_order(stack)
    post_cards(stack)
    view = open_modal(stack, purchaseid)
    stack.simulator.inject_fault(SET_TRACKING, Fault.QUOTA_EXCEEDED)

    stack.submit_ship(view, carrier="Colissimo", tracking=COLISSIMO_NUMBER)

    def quota_used_up(resumes: str) -> str:
        return stack.t.gettext(
            "⏳ Rakuten's hourly quota for {action} is used up: the tracking for order {purchaseid} is queued and "
            "goes out {resumes}, when the quota renews.",
            action=stack.t.gettext("sending tracking numbers"),
            purchaseid=purchaseid,
            resumes=resumes,
        )

    stack.slack.wait_for(lambda: says(ephemerals_for(stack, SELLER), quota_used_up(ANY)))
    told = ephemerals_for(stack, SELLER)
    this_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    next_hour = this_hour + timedelta(hours=1)  # the hour may turn during the test
    at = [
        stack.t.gettext("at {when} (Paris time)", when=stack.t.short_datetime(hour)) for hour in (this_hour, next_hour)
    ]
    assert any(quota_used_up(resumes) in told for resumes in at)
    assert not any(says(told, queued) for queued in not_answering(stack, purchaseid))
    order = stack.bot.store.get_order(LOGIN, purchaseid)
    assert order is not None
    assert order.items[0].pending is not None  # still queued, not given up


def test_a_shipment_that_never_gets_through_ends_as_a_definite_failure(stack: LocalStack) -> None:
    purchaseid = add_order(stack)
    post_cards(stack)
    view = open_modal(stack, purchaseid)
    stack.simulator.inject_fault(SET_TRACKING, Fault.HTTP_503, times=-1)

    stack.submit_ship(view, carrier="Colissimo", tracking=COLISSIMO_NUMBER)

    order = wait_settled(stack, purchaseid, lambda o: o.items[0].failure is not None)
    assert order.items[0].failed_attempts == 5
    assert order.items[0].state is ItemState.TO_SHIP
    unreachable = "Rakuten could not be reached after {attempts} attempts ({reason})"
    gave_up = rakuten_refused(stack.t, stack.t.gettext(unreachable, attempts=5, reason=ANY))
    stack.slack.wait_for(lambda: says(shown(stack.card_for(purchaseid).blocks), gave_up))
    assert ACTION_MARK_SHIPPED in card_buttons(stack, purchaseid)  # the seller can try again later
    told = tracking_rejected(stack.t, purchaseid, stack.t.gettext(unreachable, attempts=5, reason=ANY))
    stack.slack.wait_for(lambda: says(ephemerals_for(stack, SELLER), told))


# ----------------------------------------------------------------------------------- /rakuten ship ...


@pytest.mark.parametrize("carrier_words", ["Mondial Relay", '"Mondial Relay"', "mondial relay"])
def test_ship_command_works_like_the_button(stack: LocalStack, carrier_words: str) -> None:
    purchaseid = add_order(stack, items=2)
    post_cards(stack)
    before = len(stack.slack.responses)

    response = stack.command(f"ship {purchaseid} {carrier_words} 12345678", user=SELLER)

    assert response.status_code == 200
    (answer,) = new_responses(stack, before)
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == sending(stack, purchaseid, "Mondial Relay", "12345678", 2)
    wait_settled(stack, purchaseid, lambda o: o.state is OrderState.SHIPPED)
    requests = stack.simulator.requests_for(SET_TRACKING)
    assert sorted(r.params["itemid"] for r in requests) == sorted(itemids(stack, purchaseid))
    assert {r.params["transporter_name"] for r in requests} == {"Mondial Relay"}
    assert stack.t.gettext("by {user}", user=f"<@{SELLER}>") in card_words(stack, purchaseid)


def test_ship_command_with_a_url_and_with_bad_input(stack: LocalStack) -> None:
    purchaseid = add_order(stack)
    post_cards(stack)
    before = len(stack.slack.responses)

    answers = []
    for text in (f"ship {purchaseid}", f"ship {purchaseid} Autre XK55443322", "ship 000000001 Colissimo 6A12345678901"):
        stack.command(text, user=SELLER)
        answers.append(new_responses(stack, before + len(answers))[-1])
    usage, no_url, unknown = answers

    assert stack.t.gettext(
        "Usage: `/rakuten ship ORDER CARRIER TRACKING [URL]`, e.g. `/rakuten ship 123456789 Colissimo 6A12345678901`"
    ) in response_words(usage)
    assert stack.t.gettext(
        "A tracking URL is required when the carrier is “{other}”, so the buyer can follow it.", other="Autre"
    ) in response_words(no_url)
    assert stack.t.gettext(
        "I know no order {purchaseid}. `/rakuten orders` lists the open ones.", purchaseid="000000001"
    ) in response_words(unknown)
    assert stack.simulator.requests_for(SET_TRACKING) == []

    stack.command(f"ship {purchaseid} Autre XK55443322 https://track.example.com/XK55443322", user=SELLER)
    wait_settled(stack, purchaseid, lambda o: o.state is OrderState.SHIPPED)
    (request,) = stack.simulator.requests_for(SET_TRACKING)
    assert request.params["tracking_url"] == "https://track.example.com/XK55443322"


# ------------------------------------------------------------------------------------- Accept / Refuse


def test_accept_calls_acceptsale_per_item_and_the_card_moves_to_awaiting_shipment(stack: LocalStack) -> None:
    purchaseid = add_order(stack, items=2, new=True)
    post_cards(stack)
    assert card_buttons(stack, purchaseid) == [ACTION_ACCEPT, ACTION_REFUSE]
    words = card_words(stack, purchaseid)
    # The deadline, shown in each reader's time zone; the Accept button's confirmation.
    assert says(words, stack.t.gettext("decide by {deadline}", deadline="<!date^" + ANY))
    assert stack.t.gettext("Accepting charges the buyer's card and commits you to ship within the deadline.") in words
    before = len(stack.slack.responses)

    assert stack.click(purchaseid, ACTION_ACCEPT).status_code == 200

    (answer,) = new_responses(stack, before)
    assert answer["response_type"] == "ephemeral"
    assert answer["replace_original"] is False
    assert answer["text"] == stack.t.ngettext(
        "Accepting order {purchaseid} ({count} item) on Rakuten…",
        "Accepting order {purchaseid} ({count} items) on Rakuten…",
        2,
        purchaseid=purchaseid,
    )
    wait_settled(stack, purchaseid, lambda o: o.state is OrderState.TO_SHIP)
    requests = stack.simulator.requests_for(ACCEPT_SALE)
    assert sorted(r.params["itemid"] for r in requests) == sorted(itemids(stack, purchaseid))
    assert all(stack.simulator.item(i).status is SimItemState.ACCEPTED for i in itemids(stack, purchaseid))
    assert state_line(stack, purchaseid) == f"*{stack.t.gettext('📦 Awaiting shipment')}*"
    assert ACTION_MARK_SHIPPED in card_buttons(stack, purchaseid)
    assert stack.simulator.requests_for(REFUSE_SALE) == []


def test_refuse_calls_refusesale_per_item_and_the_card_says_refused(stack: LocalStack) -> None:
    purchaseid = add_order(stack, items=2, new=True)
    post_cards(stack)
    refuse = next(
        element
        for block in stack.card_for(purchaseid).blocks
        for element in block.get("elements", [])
        if element.get("action_id") == ACTION_REFUSE
    )
    assert stack.t.ngettext(
        "Refusing now is better for your seller score than cancelling later. Refuse this item?",
        "Refusing now is better for your seller score than cancelling later. Refuse all {count} items?",
        2,
    ) in shown(refuse["confirm"])

    stack.click(purchaseid, ACTION_REFUSE)

    wait_settled(stack, purchaseid, lambda o: o.state is OrderState.REFUSED)
    requests = stack.simulator.requests_for(REFUSE_SALE)
    assert sorted(r.params["itemid"] for r in requests) == sorted(itemids(stack, purchaseid))
    assert state_line(stack, purchaseid) == f"*{stack.t.gettext('⛔ Refused')}*"
    assert card_buttons(stack, purchaseid) == []
    assert stack.simulator.requests_for(ACCEPT_SALE) == []


def test_a_double_click_on_accept_makes_one_call_per_item(stack: LocalStack) -> None:
    purchaseid = add_order(stack, items=2, new=True)
    post_cards(stack)
    before = len(stack.slack.responses)

    with ThreadPoolExecutor(max_workers=2) as pool:
        clicks = list(pool.map(lambda _: stack.click(purchaseid, ACTION_ACCEPT), range(2)))

    assert [click.status_code for click in clicks] == [200, 200]
    answers = [response["text"] for response in new_responses(stack, before, 2)]
    assert (
        stack.t.gettext(
            "Order {purchaseid} has no item waiting for a decision any more. Nothing sent twice.", purchaseid=purchaseid
        )
        in answers
    )
    wait_settled(stack, purchaseid, lambda o: o.state is OrderState.TO_SHIP)
    assert sorted(r.params["itemid"] for r in stack.simulator.requests_for(ACCEPT_SALE)) == sorted(
        itemids(stack, purchaseid)
    )


def test_auto_accept_accepts_new_sales_except_negotiated_prices(stack: LocalStack) -> None:
    stack.bot.store.update_account(LOGIN, _with_settings(auto_accept=True))
    plain = add_order(stack, items=2, new=True)
    negotiated = add_order(stack, new=True, item_specs=[{"headline": "Vélo", "is_nego": True}])

    post_cards(stack)

    wait_settled(stack, plain, lambda o: o.state is OrderState.TO_SHIP)
    assert sorted(r.params["itemid"] for r in stack.simulator.requests_for(ACCEPT_SALE)) == sorted(
        itemids(stack, plain)
    )
    assert order_of(stack, negotiated).state is OrderState.TO_ACCEPT
    assert card_buttons(stack, negotiated) == [ACTION_ACCEPT, ACTION_REFUSE]
    auto = [e for e in stack.bot.store.list_audit(purchaseid=plain) if e.action == "accept_requested"]
    assert [entry.actor for entry in auto] == ["auto-accept"]


def _with_settings(**changes: Any) -> Callable[[AccountRecord], AccountRecord]:
    def change(account: AccountRecord) -> AccountRecord:
        for name, value in changes.items():
            setattr(account.settings, name, value)
        return account

    return change


# --------------------------------------------------------------------------------------- who may do what


def test_an_outsider_is_refused_everything_with_an_explanation_and_rakuten_is_never_called(
    stack: LocalStack,
) -> None:
    to_ship = add_order(stack)
    to_accept = add_order(stack, new=True)
    post_cards(stack)
    views_before = len(stack.slack.calls_to("views.open"))
    before = len(stack.slack.responses)

    for purchaseid, action in (
        (to_ship, ACTION_MARK_SHIPPED),
        (to_ship, ACTION_SHOW_ADDRESS),
        (to_accept, ACTION_ACCEPT),
        (to_accept, ACTION_REFUSE),
    ):
        assert stack.click(purchaseid, action, user=OUTSIDER).status_code == 200
    stack.command(f"ship {to_ship} Colissimo {COLISSIMO_NUMBER}", user=OUTSIDER)
    answers = new_responses(stack, before, 5)

    assert len(answers) == 5
    for answer in answers:
        assert answer["response_type"] == "ephemeral"
        assert members_only(stack) in answer["text"]
    assert len(stack.slack.calls_to("views.open")) == views_before
    for command in ("connect", "disconnect", "settings"):
        refused = stack.command(command, user=OUTSIDER)
        assert says(refused.json()["text"], refusal(stack, ANY)), command
    assert rakuten_calls(stack) == []
    assert order_of(stack, to_ship).items[0].pending is None


def test_the_ship_modal_checks_again_on_submit(stack: LocalStack) -> None:
    purchaseid = add_order(stack)
    post_cards(stack)
    view = open_modal(stack, purchaseid, user=SELLER)

    response = stack.submit_ship(view, carrier="Colissimo", tracking=COLISSIMO_NUMBER, user=OUTSIDER)

    assert response.status_code == 200
    # The outsider is not in the order channel, so the explanation comes as a direct message.
    stack.slack.wait_for(
        lambda: any(members_only(stack) in m.text for m in stack.slack.messages("D0OUTSIDER")),
    )
    assert stack.simulator.requests_for(SET_TRACKING) == []
    assert order_of(stack, purchaseid).items[0].pending is None


def test_a_member_of_the_shipper_group_may_act(stack: LocalStack) -> None:
    to_accept = add_order(stack, new=True)
    to_ship = add_order(stack)
    post_cards(stack)
    before = len(stack.slack.responses)
    stack.click(to_accept, ACTION_ACCEPT, user=PACKER)
    assert members_only(stack) in new_responses(stack, before)[-1]["text"]

    stack.bot.store.update_account(LOGIN, _with_settings(shipper_group=PACKER_GROUP))

    stack.click(to_accept, ACTION_ACCEPT, user=PACKER)
    wait_settled(stack, to_accept, lambda o: o.state is OrderState.TO_SHIP)
    view = open_modal(stack, to_ship, user=PACKER)
    stack.submit_ship(view, carrier="Colissimo", tracking=COLISSIMO_NUMBER, user=PACKER)
    order = wait_settled(stack, to_ship, lambda o: o.state is OrderState.SHIPPED)

    assert len(stack.simulator.requests_for(ACCEPT_SALE)) == 1
    assert order.items[0].shipment is not None
    assert order.items[0].shipment.shipped_by == PACKER
    assert stack.slack.calls_to("usergroups.users.list")


# ------------------------------------------------------------------------------ help, status, orders


@pytest.mark.parametrize("text", ["frobnicate", "SHIPPING now"])
def test_an_unknown_subcommand_gets_a_short_usage_message(stack: LocalStack, text: str) -> None:
    before = len(stack.slack.responses)

    assert stack.command(text, user=SELLER).status_code == 200

    (answer,) = new_responses(stack, before)
    assert answer["response_type"] == "ephemeral"
    words = response_words(answer)
    command = f"/rakuten {text.split()[0].lower()}"
    assert stack.t.gettext("I don't know `{command}`. Here is what I can do:", command=command) in words
    connect, _, _, ship, *_ = HELP_NAMES[stack.t.locale]
    assert f"/rakuten {ship} {stack.t.gettext('ORDER CARRIER TRACKING [URL]')}" in words
    assert f"/rakuten {connect}" in words


@pytest.mark.parametrize("text", ["help", "", "  HELP  "])
def test_help_lists_every_subcommand(stack: LocalStack, text: str) -> None:
    before = len(stack.slack.responses)

    stack.command(text, user=OUTSIDER)

    (answer,) = new_responses(stack, before)
    words = response_words(answer)
    for name in HELP_NAMES[stack.t.locale]:
        assert f"`/rakuten {name}" in words
    ship = HELP_NAMES[stack.t.locale][3]
    assert f"`/rakuten {ship} {stack.t.gettext('ORDER CARRIER TRACKING [URL]')}`" in words
    assert answer["response_type"] == "ephemeral"


def test_status_shows_accounts_polls_open_orders_and_the_last_error(make_stack: StackFactory) -> None:
    stack = make_stack(poll_seconds=600)
    add_order(stack, new=True)
    add_order(stack, items=2)
    add_order(stack)
    stack.bot.start_polling()
    stack.wait_until(lambda: stack.bot.poller.health.get(LOGIN).last_success_at is not None, timeout=10)
    stack.wait_until(lambda: len(stack.cards()) == 3)
    before = len(stack.slack.responses)

    stack.command("status", user=SELLER)

    (answer,) = new_responses(stack, before)
    t = stack.t
    words = response_words(answer)
    assert LOGIN in words
    assert f"<#{CHANNEL}>" in words
    assert says(
        words,
        t.gettext("Last successful poll: {when}", when=t.gettext("{when} ({duration} ago)", when=ANY, duration=ANY)),
    )
    assert says(words, t.gettext("next poll: {when}", when=ANY))
    assert t.gettext("next poll: {when}", when=t.gettext("not scheduled")) not in words
    counts = [
        t.ngettext("{count} to accept", "{count} to accept", 1),
        t.ngettext("{count} to ship", "{count} to ship", 2),
    ]
    assert t.gettext("Open orders: {counts}", counts=" · ".join(counts)) in words
    assert t.gettext("✅ healthy") in words
    assert answer["text"] == t.ngettext(
        "Rakuten status: {count} account, all healthy", "Rakuten status: {count} accounts, all healthy", 1
    )

    stack.simulator.inject_fault(Action.GET_NEW_SALES.value, Fault.AUTH_ERROR)
    assert not stack.poll().ok
    stack.command("status", user=SELLER)
    (failing,) = new_responses(stack, before + 1)
    failure = t.ngettext(
        "⚠️ {count} failure in a row, last at {when}; last error: {error}",
        "⚠️ {count} failures in a row, last at {when}; last error: {error}",
        1,
        when=ANY,
        error=t.gettext("Rakuten: {detail}", detail=ANY),
    )
    assert says(response_words(failing), failure)
    assert failing["text"] == t.ngettext(
        "Rakuten status: {count} account, {failing} failing",
        "Rakuten status: {count} accounts, {failing} failing",
        1,
        failing=t.number(1),
    )


def test_orders_lists_the_open_orders_needing_action_newest_first_to_the_caller_only(stack: LocalStack) -> None:
    now = datetime.now(UTC)
    old = add_order(stack, purchase_date=now - timedelta(days=3))
    newest = add_order(stack, new=True, purchase_date=now - timedelta(hours=1))
    middle = add_order(stack, purchase_date=now - timedelta(days=1))
    done = add_order(stack, purchase_date=now - timedelta(hours=2))
    stack.simulator.ship_on_site(itemids(stack, done)[0], "Colissimo", "6A11111111111")
    post_cards(stack)
    before = len(stack.slack.responses)

    stack.command("orders", user=SELLER)
    (mine,) = new_responses(stack, before)
    stack.command("orders", user=OUTSIDER, channel="C0ELSEWHERE")
    (outsiders,) = new_responses(stack, before + 1)

    assert mine["response_type"] == "ephemeral"
    words = response_words(mine)
    t = stack.t
    assert t.ngettext("{count} open order needs action", "{count} open orders need action", 3) in words
    assert done not in words
    assert words.index(newest) < words.index(middle) < words.index(old)
    assert t.gettext("🟡 To accept") in words
    assert t.gettext("📦 Awaiting shipment") in words
    assert t.gettext("Nothing to do: no order is waiting for acceptance or shipment.") in response_words(outsiders)


# ----------------------------------------------------------------------------- settings and disconnect


def test_settings_modal_changes_the_account_and_cards_follow(stack: LocalStack) -> None:
    express = add_order(stack, shipping_type="Express")
    post_cards(stack)
    street = order_of(stack, express).ship_to.address1  # type: ignore[union-attr]
    assert street
    assert street not in card_json(stack, express)
    assert ACTION_SHOW_ADDRESS in card_buttons(stack, express)

    assert says(stack.command("settings", user=SELLER).json()["text"], refusal(stack, "change the settings"))
    assert stack.command("settings", user=ADMIN).text == ""
    stack.slack.wait_for(lambda: bool(stack.opened_views(VIEW_SETTINGS)))
    view = stack.opened_views(VIEW_SETTINGS)[-1]
    values = settings_values(mention=f"<@{ADMIN}>", group=PACKER_GROUP, options=(OPTION_SHOW_FULL_ADDRESS,))

    assert stack.submit_view(view, values, user=ADMIN).text == ""

    stack.slack.wait_for(lambda: street in card_json(stack, express))
    settings = account_of(stack).settings
    assert settings.show_full_address
    assert not settings.auto_accept
    assert settings.express_mention == ADMIN
    assert settings.shipper_group == PACKER_GROUP
    assert f"<@{ADMIN}>" in stack.card_for(express).text
    assert ACTION_SHOW_ADDRESS not in card_buttons(stack, express)
    saved = stack.t.gettext("Settings of {login} saved.", login=LOGIN)
    stack.slack.wait_for(lambda: saved in ephemerals_for(stack, ADMIN))
    assert "settings_changed" in [entry.action for entry in stack.bot.store.list_audit(account=LOGIN)]


def test_settings_errors_show_on_their_fields_and_a_forged_submission_is_refused(stack: LocalStack) -> None:
    stack.command("settings", user=ADMIN)
    stack.slack.wait_for(lambda: bool(stack.opened_views(VIEW_SETTINGS)))
    view = stack.opened_views(VIEW_SETTINGS)[-1]

    errors = errors_of(stack.submit_view(view, settings_values(mention="@ann", group="packers"), user=ADMIN))
    assert set(errors) == {BLOCK_EXPRESS_MENTION, BLOCK_SHIPPER_GROUP}

    stack.submit_view(view, settings_values(options=(OPTION_AUTO_ACCEPT,)), user=SELLER)
    admins_only = stack.t.gettext(
        "Only the bot's admins can {what} (RAKUTEN_ADMINS).", what=stack.t.gettext("change the settings")
    )
    stack.slack.wait_for(lambda: admins_only in ephemerals_for(stack, SELLER))
    assert account_of(stack).settings.auto_accept is False


def test_disconnect_asks_first_then_removes_the_account_and_its_token_and_stops_polling(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(poll_seconds=600)
    stack.bot.start_polling()
    stack.wait_until(lambda: stack.bot.poller.health.get(LOGIN).last_success_at is not None, timeout=10)
    ciphertext = account_of(stack).token_ciphertext
    before = len(stack.slack.responses)

    assert stack.command("disconnect", user=ADMIN).text == ""

    (prompt,) = new_responses(stack, before)
    assert prompt["response_type"] == "ephemeral"
    assert ACTION_DISCONNECT_CONFIRM in json.dumps(prompt["blocks"])
    assert stack.bot.store.get_account(LOGIN) is not None  # nothing happens before the confirmation
    (shown,) = stack.slack.ephemerals(ADMIN)  # the prompt, as the admin sees it

    def confirm(user: str) -> None:
        assert stack.sender is not None
        stack.sender.action(
            user_id=user,
            channel_id=CHANNEL,
            message_ts=shown["message_ts"],
            action_id=ACTION_DISCONNECT_CONFIRM,
            value=LOGIN,
            trigger_id=stack.slack.new_trigger_id(),
            response_url=stack.slack.new_response_url(CHANNEL, user_id=user),
            message={"type": "message", "text": prompt["text"], "blocks": prompt["blocks"]},
            is_ephemeral=True,
        )

    confirm(SELLER)  # a forged click by a non-admin
    (refused,) = new_responses(stack, before + 1)
    assert (
        stack.t.gettext(
            "Only the bot's admins can {what} (RAKUTEN_ADMINS).", what=stack.t.gettext("disconnect an account")
        )
        in refused["text"]
    )
    assert stack.bot.store.get_account(LOGIN) is not None

    confirm(ADMIN)
    (done,) = new_responses(stack, before + 2)
    assert (
        stack.t.gettext("Disconnected {login}: its token is deleted and polling has stopped.", login=LOGIN)
        in done["text"]
    )
    assert stack.bot.store.get_account(LOGIN) is None
    assert stack.bot.scheduler.next_poll(LOGIN) is None
    assert stack.poll().skipped
    data_dir = stack.data_dir
    stack.stop_app()
    assert not files_containing(data_dir, ciphertext)


# ----------------------------------------------------------------------------------- address, Home tab


def test_show_address_answers_the_clicker_privately_and_the_card_keeps_the_street_off(stack: LocalStack) -> None:
    purchaseid = add_order(stack, buyer={"phone1": "0601020304"})
    post_cards(stack)
    address = order_of(stack, purchaseid).ship_to
    assert address is not None
    assert address.address1
    assert address.phone1
    before = len(stack.slack.responses)

    stack.click(purchaseid, ACTION_SHOW_ADDRESS, user=SELLER)

    (answer,) = new_responses(stack, before)
    assert answer["response_type"] == "ephemeral"
    assert answer["replace_original"] is False
    assert address.address1 in answer["blocks"][0]["text"]["text"]
    assert address.phone1 in answer["blocks"][0]["text"]["text"]
    card = card_json(stack, purchaseid)
    assert address.address1 not in card
    assert address.phone1 not in card
    assert address.city in card  # the city alone is enough to plan the parcel  # type: ignore[operator]


def test_app_home_opened_publishes_the_queue_and_account_health(stack: LocalStack) -> None:
    now = datetime.now(UTC)
    to_accept = add_order(stack, new=True, purchase_date=now - timedelta(hours=2))
    late = add_order(stack, purchase_date=now - timedelta(days=3))
    express = add_order(stack, shipping_type="Express", purchase_date=now - timedelta(hours=1))
    post_cards(stack)
    assert stack.sender is not None

    response = stack.sender.event(app_home_opened_event(SELLER))

    assert response.status_code == 200
    stack.slack.wait_for(lambda: stack.slack.published_home(SELLER) is not None)
    home = stack.slack.published_home(SELLER)
    assert home is not None
    sections = {block.get("block_id"): block["text"]["text"] for block in home["blocks"] if block["type"] == "section"}
    t = stack.t
    assert sections["home_to_accept"].startswith(f"*{t.gettext('🟡 To accept')} (1)*")
    assert to_accept in sections["home_to_accept"]
    assert sections["home_to_ship"].startswith(f"*{t.gettext('📦 To ship')} (2)*")
    assert late in sections["home_to_ship"]
    assert express in sections["home_to_ship"]
    assert sections["home_express"].startswith(f"*{t.gettext('{marker} Express', marker=EXPRESS_MARKER)} (1)*")
    assert express in sections["home_express"]
    assert sections["home_late"].startswith(f"*{t.gettext('⏰ Late')} (1)*")
    assert late in sections["home_late"]
    assert LOGIN in sections["home_account_0"]
    assert t.gettext("✅ healthy") in sections["home_account_0"]

    stack.simulator.inject_fault(Action.GET_NEW_SALES.value, Fault.AUTH_ERROR)
    assert not stack.poll().ok
    stack.sender.event(app_home_opened_event(SELLER))
    stack.slack.wait_for(lambda: len(stack.slack.calls_to("views.publish")) >= 2)
    home = stack.slack.published_home(SELLER)
    assert home is not None
    health = next(block for block in home["blocks"] if block.get("block_id") == "home_account_0")["text"]["text"]
    assert says(
        health,
        t.ngettext(
            "⚠️ {count} failure in a row, last at {when}; last error: {error}",
            "⚠️ {count} failures in a row, last at {when}; last error: {error}",
            1,
            when=ANY,
            error=ANY,
        ),
    )


def test_the_messages_tab_gets_no_home_view(stack: LocalStack) -> None:
    assert stack.sender is not None
    stack.sender.event(app_home_opened_event(SELLER, tab="messages"))
    stack.sender.event(app_home_opened_event(ADMIN))

    stack.slack.wait_for(lambda: stack.slack.published_home(ADMIN) is not None)
    assert stack.slack.published_home(SELLER) is None
