"""Every Block Kit builder in bot/ui, fed the worst a buyer, Rakuten or a big shop can send, in each language,
produces payloads Slack accepts (the devkit's validator of Slack's limits says so), and says so when it had to
leave something out.

Extreme inputs: a 5,000-character item title, 60 and 120 items, a buyer name or city made only of emoji, only of
combining characters or only of mrkdwn control characters, a 3,000-character address line, 120 open orders,
150 accounts, 500-character logins and purchase ids, 5,000-character errors. "Nothing silently dropped" is
checked where entries are listed: each item, order or account is either shown or counted in an "…and N more"
note; a single text cut short ends with an ellipsis.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.domain.accounts import AccountSettings, FailureKind, PollFailure, PollHealth
from bot.domain.orders import (
    ItemState,
    OrderItem,
    OrderRecord,
    PendingAction,
    PendingKind,
    PrepaidLabel,
)
from bot.domain.sentences import counted, said, verbatim
from bot.services.notices import ActionOutcome
from bot.ui import messages
from bot.ui.account_views import build_connect_modal, build_disconnect_confirmation, build_settings_modal
from bot.ui.home import HOME_LIST_LIMIT, build_home
from bot.ui.i18n import Translator
from bot.ui.limits import (
    ITEM_TITLE_MAX,
    MESSAGE_MAX_BLOCKS,
    MESSAGE_TEXT_BUDGET,
    VIEW_MAX_BLOCKS,
    blocks_text_length,
)
from bot.ui.order_card import BLOCK_ITEMS_MORE, build_order_card
from bot.ui.poll_failures import failure_text
from bot.ui.refs import ConnectModalMetadata, SettingsModalMetadata, ShipModalMetadata
from bot.ui.ship_modal import build_ship_modal
from devkit.block_kit_limits import message_problems, message_warnings, view_problems
from rakuten.carriers import CARRIERS
from rakuten.models import Address, AddressKind, Money
from tests.factories import NOW, PURCHASED, account, address, item, order, shipment, status, texts
from tests.i18n import EN, FR

LANGUAGES = [pytest.param(EN, id="en"), pytest.param(FR, id="fr")]
ELLIPSIS = "…"

# --- the extreme inputs -------------------------------------------------------------------------------------------

HUGE_TITLE = ("Coffret <intégrale> & *bonus* _collector_ ~rare~ `DVD` 🎬 " * 100)[:5000]
EMOJI = "👨‍👩‍👧‍👦🎁🇫🇷" * 80  # ZWJ sequences and flags: several code points per picture
COMBINING = "\u0301\u0327\u0308" * 200  # nothing but combining marks, no base letter
MARKUP = "&<>*_~`" * 300  # every character escaped or replaced
AMPERSANDS = "&" * 3000  # the longest escape: each character becomes five (&amp;)
LONG_LINE = ("Résidence des Tilleuls, bâtiment & escalier <C>, " * 80)[:3000]
LONG_LOGIN = "boutique-" + "x" * 491
LONG_ERROR = ("HTTP 503 <html>&nbsp;Service Unavailable</html> " * 120)[:5000]
LONG_URL = "https://suivi.example/colis?code=" + "A" * 2900
BLANK = "   \t  "
NAMES = {
    "emoji": EMOJI,
    "combining": COMBINING,
    "markup": MARKUP,
    "ampersands": AMPERSANDS,
    "long": LONG_LINE,
    "blank": BLANK,
}


def long_id(index: int = 0) -> str:
    """A 500-character purchase id whose first characters (all a list shows of it) tell it apart."""
    return f"{index:04d}" + "9" * 496


def extreme_address(name: str, **overrides: Any) -> Address:
    values: dict[str, Any] = {
        "civility": name,
        "firstname": name,
        "lastname": name,
        "address1": LONG_LINE,
        "address2": LONG_LINE,
        "zipcode": name,
        "city": name,
        "country": name,
        "phone1": LONG_LINE,
        "phone2": name,
    }
    values.update(overrides)
    return address(**values)


def big_item(index: int, state: ItemState = ItemState.TO_SHIP, **overrides: Any) -> OrderItem:
    values: dict[str, Any] = {
        "headline": HUGE_TITLE,
        "sku": f"SKU-{index:03d}-" + "x" * 200,
        "eans": tuple(f"97820703600{index:03d}{n}" for n in range(8)),
        "isbn": "9" * 300,
        "price": Money(Decimal("123456789.99")),
        "is_preorder": True,
        "is_nego": True,
        "is_fulfilled_by_rakuten": True,
    }
    values.update(overrides)
    return item(f"{index:04d}" + "7" * 100, state, **values)


def heavy_item(index: int, state: ItemState = ItemState.TO_SHIP) -> OrderItem:
    """An item whose card text is as long as it gets: markup everywhere (escaped, it grows), Rakuten's refusal
    and a retry error on top of the rest; one such item fills most of a section."""
    return big_item(
        index,
        state,
        headline=MARKUP,
        failure=AMPERSANDS,
        failed_attempts=12,
        pending=PendingAction(PendingKind.SHIP, "U0PACKER", NOW, attempts=7, last_error=AMPERSANDS),
    )


def big_order(items: list[OrderItem], *, name: str = EMOJI, index: int = 0, **overrides: Any) -> OrderRecord:
    values: dict[str, Any] = {
        "account": LONG_LOGIN,
        "purchaseid": long_id(index),
        "shipping_type": LONG_LINE,
        "is_express": True,
        "ship_to": extreme_address(name),
        "buyer_login": name,
    }
    values.update(overrides)
    return order(*items, **values)


def shipped(index: int) -> OrderItem:
    done = shipment(carrier=MARKUP, tracking_number=LONG_LINE, tracking_url=LONG_URL, shipped_by="U0PACKER")
    return big_item(index, ItemState.SHIPPED, shipment=done)


def card_orders() -> dict[str, tuple[OrderRecord, AccountSettings]]:
    """One order per state the card can be in, each with extreme content."""
    everything = AccountSettings(show_full_address=True, express_mention="S0456EFGH")
    hidden = AccountSettings(express_mention="U0123ABCD")
    pending = {
        kind: PendingAction(kind, "U0PACKER", NOW, attempts=9, last_error=LONG_ERROR, shipment=shipment())
        for kind in PendingKind
    }
    relay = extreme_address(EMOJI, kind=AddressKind.COLLECTION_POINT, point_id=LONG_LINE, point_name=MARKUP)
    label = PrepaidLabel(label_url=LONG_URL, tracking_number=LONG_LINE, tracking_url=LONG_URL)
    return {
        "to accept, 60 items": (big_order([big_item(i, ItemState.TO_ACCEPT) for i in range(60)]), hidden),
        "to ship, 60 heavy items": (big_order([heavy_item(i) for i in range(60)]), everything),
        "to ship, 120 items": (big_order([big_item(i) for i in range(120)], name=MARKUP), everything),
        "partially shipped": (big_order([shipped(0), big_item(1), big_item(2, ItemState.REFUSED)]), everything),
        "shipped": (big_order([shipped(i) for i in range(60)], name=COMBINING), hidden),
        "refused": (big_order([big_item(0, ItemState.REFUSED)], name=BLANK), hidden),
        "cancelled": (big_order([big_item(0, ItemState.CANCELLED)]), hidden),
        "on hold": (big_order([big_item(0, ItemState.ON_HOLD)], name=LONG_LINE), everything),
        "unknown": (
            big_order([big_item(i, ItemState.UNKNOWN, rakuten_status=f"{i}{MARKUP}") for i in range(60)]),
            hidden,
        ),
        "sending tracking": (big_order([big_item(0, pending=pending[PendingKind.SHIP])]), hidden),
        "accepting": (big_order([big_item(0, ItemState.TO_ACCEPT, pending=pending[PendingKind.ACCEPT])]), hidden),
        "refusing": (big_order([big_item(0, ItemState.TO_ACCEPT, pending=pending[PendingKind.REFUSE])]), hidden),
        "relay point, prepaid label": (big_order([big_item(0)], ship_to=relay, prepaid_label=label), everything),
        "no address": (big_order([big_item(0)], ship_to=None), hidden),
        "buyer data removed": (big_order([big_item(0)], personal_data_purged=True), everything),
        "blank title": (big_order([big_item(i, headline=BLANK, sku=None) for i in range(3)], name=BLANK), hidden),
        "the bot failed": (
            big_order([big_item(i, failure=AMPERSANDS, failed_in_bot=True) for i in range(60)]),
            everything,
        ),
    }


# --- what "Slack accepts it" means -----------------------------------------------------------------------------


def accepted_message(kwargs: dict[str, Any]) -> dict[str, Any]:
    assert message_problems(kwargs) == []
    assert message_warnings(kwargs) == []
    assert kwargs["text"].strip(), "a message needs a notification text"
    assert len(kwargs["blocks"]) <= MESSAGE_MAX_BLOCKS
    return kwargs


def accepted_view(view: View, kind: str) -> dict[str, Any]:
    payload = view.to_dict()
    assert view_problems(payload, kind) == []
    assert len(payload["blocks"]) <= VIEW_MAX_BLOCKS
    return payload


def block_text(payload: dict[str, Any], block_id: str) -> str | None:
    """What the block with ``block_id`` says (a section's text, a context's elements), None when it is absent."""
    for block in payload["blocks"]:
        if block.get("block_id") != block_id:
            continue
        if isinstance(block.get("text"), dict):
            return str(block["text"]["text"])
        return texts(block.get("elements") or block.get("fields") or block)
    return None


def shown_or_counted(shown: int, total: int, note: str | None, expected_note: Callable[[int], str]) -> None:
    """Each entry is shown, or counted in the note; the note is there exactly when something was left out."""
    if shown == total:
        assert note is None
    else:
        assert note is not None, f"{total - shown} of {total} left out without a note"
        assert expected_note(total - shown) in note


# --- the order card ---------------------------------------------------------------------------------------------

CARD_CASES = card_orders()


@pytest.mark.parametrize("t", LANGUAGES)
@pytest.mark.parametrize("case", list(CARD_CASES))
def test_every_order_card_state_is_accepted_by_slack(t: Translator, case: str) -> None:
    record, settings = CARD_CASES[case]
    card = build_order_card(record, settings, now=NOW, t=t)

    accepted_message(card.as_kwargs())
    # Slack's undocumented msg_blocks_too_long refusal starts at about 12,000 characters of block text.
    assert blocks_text_length(card.blocks) <= MESSAGE_TEXT_BUDGET


@pytest.mark.parametrize("t", LANGUAGES)
@pytest.mark.parametrize(
    ("case", "cut"),
    [
        # Items of extreme size (long ids, SKUs, titles): the card's text budget shows what fits and counts the rest.
        ("to accept, 60 items", True),
        ("to ship, 60 heavy items", True),
        ("to ship, 120 items", True),
        ("shipped", True),
    ],
)
def test_a_big_order_shows_each_item_or_counts_it_in_a_note(t: Translator, case: str, cut: bool) -> None:
    record, settings = CARD_CASES[case]
    card = accepted_message(build_order_card(record, settings, now=NOW, t=t).as_kwargs())
    shown = texts(card["blocks"])

    listed = sum(1 for each in record.items if f"`SKU-{each.itemid[:4][1:]}-" in shown)
    assert (listed < len(record.items)) is cut
    shown_or_counted(
        listed,
        len(record.items),
        block_text(card, BLOCK_ITEMS_MORE),
        lambda left: t.ngettext(
            "…and {count} more item: see the full order on Rakuten.",
            "…and {count} more items: see the full order on Rakuten.",
            left,
        ),
    )


@pytest.mark.parametrize("t", LANGUAGES)
def test_a_5000_character_title_is_cut_with_an_ellipsis(t: Translator) -> None:
    record, settings = CARD_CASES["to ship, 120 items"]
    card = build_order_card(record, settings, now=NOW, t=t).as_kwargs()
    first_item = block_text(card, "item_0")

    assert first_item is not None
    title = first_item.splitlines()[0]
    assert title.startswith("*Coffret &lt;intégrale&gt; &amp; ＊bonus＊")
    assert title.endswith(f"{ELLIPSIS}*")
    assert len(HUGE_TITLE) > ITEM_TITLE_MAX


@pytest.mark.parametrize("t", LANGUAGES)
def test_a_blank_title_reads_untitled(t: Translator) -> None:
    record, settings = CARD_CASES["blank title"]
    card = build_order_card(record, settings, now=NOW, t=t).as_kwargs()

    assert f"*{t.gettext('Untitled item')}*" in texts(card["blocks"])


# --- modals -------------------------------------------------------------------------------------------------------


def ship_metadata(record: OrderRecord) -> ShipModalMetadata:
    return ShipModalMetadata(record.account, record.purchaseid, "C0ORDERS", "1700000000.000100")


@pytest.mark.parametrize("t", LANGUAGES)
@pytest.mark.parametrize("count", [1, 2, 10, 11, 60, 100, 120])
@pytest.mark.parametrize("name", list(NAMES))
def test_the_ship_modal_is_accepted_for_any_number_of_items_and_any_text(t: Translator, count: int, name: str) -> None:
    # A blank title comes without a SKU too: the option's label is then the title alone.
    no_sku = {"sku": None} if name == "blank" else {}
    record = big_order([big_item(i, headline=NAMES[name], **no_sku) for i in range(count)], name=NAMES[name])
    carriers = [*CARRIERS, MARKUP, EMOJI, "Transporteur " * 20, *(f"Carrier {i}" for i in range(120))]

    view = accepted_view(
        build_ship_modal(t, record, ship_metadata(record), preselected_carrier="Colissimo", carriers=carriers),
        "modal",
    )

    if count > 100:
        assert t.ngettext(
            "{count} more item can be declared in another parcel.",
            "{count} more items can be declared in another parcel.",
            count - 100,
        ) in texts(view)


@pytest.mark.parametrize("t", LANGUAGES)
def test_connect_and_settings_modals_are_accepted(t: Translator) -> None:
    accepted_view(build_connect_modal(t, ConnectModalMetadata("C0ORDERS")), "modal")
    accepted_view(build_connect_modal(t, ConnectModalMetadata(None)), "modal")
    for settings in (AccountSettings(), AccountSettings(True, "U0123ABCD", True, "S0456EFGH", language="en")):
        record = account(LONG_LOGIN, settings=settings)
        modal = build_settings_modal(t, record, SettingsModalMetadata(LONG_LOGIN), default_language="fr")
        accepted_view(modal, "modal")


@pytest.mark.parametrize("t", LANGUAGES)
@pytest.mark.parametrize("login", ["boutique-lyon", LONG_LOGIN, MARKUP[:100]])
def test_the_disconnect_confirmation_is_accepted(t: Translator, login: str) -> None:
    blocks = [block.to_dict() for block in build_disconnect_confirmation(t, login)]

    assert message_problems({"blocks": blocks}) == []


# --- the Home tab and the status / orders screens ------------------------------------------------------------------


def open_orders(count: int, *, accounts: int = 3, city: str | None = None) -> list[OrderRecord]:
    """Open orders of every kind (to accept, to ship, Express, late), with extreme buyer text and ids."""
    states = [ItemState.TO_ACCEPT, ItemState.TO_SHIP, ItemState.ON_HOLD]
    names = [city] if city is not None else list(NAMES.values())
    return [
        big_order(
            [big_item(0, states[i % len(states)])],
            index=i,
            name=names[i % len(names)],
            account=f"{i % accounts:02d}{LONG_LOGIN}",
            is_express=i % 2 == 0,
            purchase_date=PURCHASED - timedelta(days=i % 5),
        )
        for i in range(count)
    ]


def failing_health() -> PollHealth:
    return PollHealth(
        last_success_at=NOW - timedelta(days=3),
        last_error=PollFailure(FailureKind.RAKUTEN, LONG_ERROR),
        last_error_at=NOW - timedelta(minutes=1),
        consecutive_failures=12345,
        quota_blocked_until={action: NOW + timedelta(hours=1) for action in ("getnewsales", "acceptsale", MARKUP)},
    )


def statuses(count: int, orders: list[OrderRecord]) -> list[Any]:
    return [
        status(
            f"{i:03d}{LONG_LOGIN}",
            health=failing_health() if i % 2 else PollHealth(),
            next_poll=NOW + timedelta(minutes=10),
            open_orders=tuple(orders),
            channel_id="C0ORDERS",
        )
        for i in range(count)
    ]


def order_ids_shown(text: str, orders: list[OrderRecord]) -> int:
    return sum(1 for record in orders if f"`{record.purchaseid[:8]}" in text)


def longest_lines(count: int) -> list[OrderRecord]:
    """Orders whose list lines are as long as they get: Express, to accept (a countdown), a city of ampersands."""
    return [
        big_order(
            [big_item(0, ItemState.TO_ACCEPT)],
            index=i,
            name=AMPERSANDS,
            account=f"{i % 2:02d}{LONG_LOGIN}",
            purchase_date=NOW - timedelta(hours=1),
        )
        for i in range(count)
    ]


SCREEN_CASES: dict[str, tuple[int, Callable[[], list[OrderRecord]]]] = {
    "1 account, 120 orders": (1, lambda: open_orders(120)),
    "1 account, 120 orders to ampersand cities": (1, lambda: open_orders(120, city=AMPERSANDS)),
    "1 account, 30 orders with the longest lines": (1, lambda: longest_lines(30)),
    "150 accounts, 120 orders": (150, lambda: open_orders(120)),
    "150 accounts, no order": (150, list),
}


@pytest.mark.parametrize("t", LANGUAGES)
@pytest.mark.parametrize("case", list(SCREEN_CASES))
def test_the_home_tab_is_accepted_and_counts_what_it_leaves_out(t: Translator, case: str) -> None:
    accounts, make_orders = SCREEN_CASES[case]
    records = make_orders()
    view = accepted_view(build_home(t, statuses(accounts, records), records, now=NOW, is_admin=True), "home")

    for block_id in ("home_to_accept", "home_to_ship", "home_express", "home_late"):
        listed = block_text(view, block_id)
        assert listed is not None
        lines = listed.splitlines()
        total = int(re.sub(r"\D", "", lines[0].rsplit("(", 1)[1]))
        shown = order_ids_shown(listed, records)
        assert shown <= min(total, HOME_LIST_LIMIT)
        note = lines[-1] if total > shown else None
        shown_or_counted(shown, total, note, lambda left: t.gettext("…and {count} more", count=t.number(left)))
    shown_accounts = sum(1 for block in view["blocks"] if str(block.get("block_id", "")).startswith("home_account_"))
    shown_or_counted(
        shown_accounts,
        accounts,
        block_text(view, "home_accounts_more"),
        lambda left: t.ngettext(
            "…and {count} more account: see `{command}`.",
            "…and {count} more accounts: see `{command}`.",
            left,
            command="/rakuten status",
        ),
    )


@pytest.mark.parametrize("t", LANGUAGES)
@pytest.mark.parametrize("accounts", [0, 1, 60])
def test_status_is_accepted_and_counts_the_accounts_it_leaves_out(t: Translator, accounts: int) -> None:
    message = accepted_message(messages.status_message(t, statuses(accounts, open_orders(120)), NOW).as_kwargs())

    if accounts:
        shown = sum(1 for block in message["blocks"] if block.get("block_id", "").startswith("status_account_"))
        shown_or_counted(
            shown,
            accounts,
            block_text(message, "status_more"),
            lambda left: t.ngettext("…and {count} more account", "…and {count} more accounts", left),
        )


@pytest.mark.parametrize("t", LANGUAGES)
@pytest.mark.parametrize(
    "make_orders",
    [list, lambda: open_orders(1), lambda: open_orders(20), lambda: open_orders(120), lambda: longest_lines(120)],
    ids=["none", "1 order", "20 orders", "120 orders", "120 orders with the longest lines"],
)
def test_the_orders_list_is_accepted_and_counts_the_orders_it_leaves_out(
    t: Translator, make_orders: Callable[[], list[OrderRecord]]
) -> None:
    records = make_orders()
    message = accepted_message(messages.orders_list_message(t, records, NOW).as_kwargs())

    if records:
        shown = order_ids_shown(texts(message["blocks"]), records)
        shown_or_counted(
            shown,
            len(records),
            block_text(message, "orders_more"),
            lambda left: t.gettext("…and {count} more: see the app's Home tab.", count=t.number(left)),
        )


# --- alerts, summaries, private answers --------------------------------------------------------------------------


@pytest.mark.parametrize("t", LANGUAGES)
def test_channel_alerts_and_the_burst_summary_are_accepted(t: Translator) -> None:
    since = NOW - timedelta(days=400)
    failures = [failure_text(t, PollFailure(kind, LONG_ERROR)) for kind in FailureKind]
    for error in [*failures, LONG_ERROR, MARKUP, EMOJI]:
        accepted_message(messages.outage_alert(t, LONG_LOGIN, error, since, 10**9).as_kwargs())
    accepted_message(messages.recovered_message(t, LONG_LOGIN, since, NOW).as_kwargs())
    for action in ("getnewsales", "settrackingpackageinfos", MARKUP, LONG_LINE):
        accepted_message(messages.quota_message(t, LONG_LOGIN, action, NOW + timedelta(hours=1)).as_kwargs())
    for count, express in ((21, 0), (10**6, 10**6 - 1), (500, 1)):
        accepted_message(messages.burst_summary(t, LONG_LOGIN, count, express).as_kwargs())


@pytest.mark.parametrize("t", LANGUAGES)
@pytest.mark.parametrize("name", list(NAMES))
def test_the_address_message_is_accepted_and_cuts_long_lines_with_an_ellipsis(t: Translator, name: str) -> None:
    relay = extreme_address(NAMES[name], kind=AddressKind.COLLECTION_POINT, point_id=LONG_LINE, point_name=MARKUP)
    for ship_to in (extreme_address(NAMES[name]), relay):
        message = accepted_message(messages.address_message(t, big_order([big_item(0)], ship_to=ship_to)).as_kwargs())
        street = next(line for line in block_text(message, "address").splitlines() if "Tilleuls" in line)
        assert street.endswith(ELLIPSIS)
    for other in (big_order([big_item(0)], ship_to=None), big_order([big_item(0)], personal_data_purged=True)):
        accepted_message(messages.address_message(t, other).as_kwargs())


REASONS = [None, LONG_ERROR, MARKUP, said("Enter the tracking number."), verbatim(LONG_ERROR)]


@pytest.mark.parametrize("t", LANGUAGES)
@pytest.mark.parametrize("kind", list(PendingKind))
@pytest.mark.parametrize("outcome", list(ActionOutcome))
def test_every_action_result_is_accepted(t: Translator, kind: PendingKind, outcome: ActionOutcome) -> None:
    done = shipment(carrier=MARKUP, tracking_number=LONG_LINE, tracking_url=LONG_URL)
    for reason in REASONS:
        for retry_at in (None, NOW + timedelta(hours=1)):
            message = messages.action_result_message(
                t, kind, long_id(), outcome, item_count=10**6, reason=reason, retry_at=retry_at, shipment=done
            )
            accepted_message(message.as_kwargs())


@pytest.mark.parametrize("t", LANGUAGES)
def test_help_and_every_short_answer_are_accepted(t: Translator) -> None:
    built = [
        messages.help_message(t),
        messages.unknown_subcommand_message(t, HUGE_TITLE),
        messages.unknown_subcommand_message(t, MARKUP),
        messages.connected_message(t, LONG_LOGIN, "C0ORDERS"),
        messages.connected_message(t, LONG_LOGIN, "not-a-channel"),
        messages.disconnected_message(t, LONG_LOGIN),
        messages.account_choice_message(t, "settings", [f"{i}{LONG_LOGIN}" for i in range(200)]),
        messages.account_choice_message(t, "settings", []),
        messages.notice(LONG_ERROR * 10, note=LONG_ERROR * 10),
        messages.cannot_post_message(t, LONG_LOGIN, "C0ORDERS", "not_in_channel"),
        messages.form_lost_message(t),
        messages.listener_error_message(t),
        messages.answer_message(t, counted("{count} order", "{count} orders", 10**9)),
        messages.answer_message(t, verbatim(LONG_ERROR * 10)),
        messages.not_allowed_message(t, said("mark this order shipped"), verbatim(LONG_ERROR)),
    ]
    for message in built:
        accepted_message(message.as_kwargs())
