from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.domain.accounts import FailureKind, PollFailure, PollHealth
from bot.domain.orders import ItemState, PendingKind
from bot.ui.messages import (
    ActionOutcome,
    Message,
    action_result_message,
    address_message,
    burst_summary,
    connected_message,
    disconnected_message,
    help_message,
    not_allowed_message,
    orders_list_message,
    outage_alert,
    quota_message,
    recovered_message,
    status_message,
    unknown_subcommand_message,
)
from devkit.block_kit_limits import block_problems
from rakuten.actions import Action
from tests.factories import NOW, PURCHASED, address, item, order, relay_address, shipment, status, texts
from tests.i18n import EN


def payload(message: Message) -> dict[str, Any]:
    kwargs = message.as_kwargs()
    assert set(kwargs) == {"text", "blocks"}
    assert kwargs["text"]
    assert block_problems(kwargs["blocks"], max_blocks=50, pointer="/blocks") == []
    return kwargs


def test_status_lists_each_account_with_polls_orders_and_errors() -> None:
    orders = (
        order(item(state=ItemState.TO_ACCEPT), purchaseid="1"),
        order(item(), purchaseid="2"),
        order(item(), purchaseid="3"),
        order(item(state=ItemState.SHIPPED), purchaseid="4"),
    )
    healthy = status(
        health=PollHealth(last_success_at=NOW - timedelta(minutes=5)),
        next_poll=NOW + timedelta(minutes=1),
        open_orders=orders,
    )
    failing = status(
        "atelier-brest",
        health=PollHealth(
            last_error=PollFailure(FailureKind.RAKUTEN, "timeout"),
            consecutive_failures=2,
            quota_blocked_until={"acceptsale": NOW + timedelta(hours=1)},
        ),
    )
    kwargs = payload(status_message(EN, [healthy, failing], NOW))
    assert kwargs["text"] == "Rakuten status: 2 accounts, 1 failing"
    shown = texts(kwargs["blocks"])
    assert "Open orders: 1 to accept · 2 to ship" in shown
    assert "Last successful poll: 4:55\u202fPM (5 min ago) · next poll: 5:01\u202fPM" in shown
    assert "Last successful poll: never" in shown
    assert "2 failures in a row; last error: Rakuten: timeout" in shown
    assert "Rakuten quota reached for accepting orders until 6:00\u202fPM" in shown
    assert "Open orders: none" in shown


def test_status_without_accounts_points_to_connect() -> None:
    assert "/rakuten connect" in texts(payload(status_message(EN, [], NOW)))


def test_orders_list_is_newest_first_and_skips_closed_orders() -> None:
    orders = [
        order(item(), purchaseid="old", purchase_date=PURCHASED - timedelta(days=1)),
        order(item(state=ItemState.TO_ACCEPT), purchaseid="new", is_express=True),
        order(item(state=ItemState.CANCELLED), purchaseid="gone"),
    ]
    kwargs = payload(orders_list_message(EN, orders, NOW))
    shown = texts(kwargs["blocks"])
    assert shown.index("`new`") < shown.index("`old`")
    assert "gone" not in shown
    assert "🟡 To accept" in shown
    assert "📦 Awaiting shipment" in shown
    assert kwargs["text"] == "2 open orders need action (⚡ 1 Express)"


def test_orders_list_stays_within_message_limits_for_many_orders() -> None:
    orders = [order(item(), purchaseid=str(i), account=f"s{i % 2}") for i in range(250)]
    kwargs = payload(orders_list_message(EN, orders, NOW))
    assert "…and 150 more" in texts(kwargs["blocks"])
    assert "· s1" in texts(kwargs["blocks"])  # several accounts: each line says which


def test_orders_list_with_long_lines_shows_every_order_whole() -> None:
    # Escaped, a city of & < > is several times longer: 20 such lines overflow a section's 3000 characters. The
    # section then holds fewer lines; none is cut off its end unannounced.
    orders = [
        order(item(), purchaseid=f"{i:03d}", account=f"s{i % 2}" * 20, ship_to=address(city="&<>" * 20))
        for i in range(40)
    ]
    shown = texts(payload(orders_list_message(EN, orders, NOW))["blocks"])
    assert [i for i in range(40) if f"`{i:03d}`" not in shown] == []
    assert "more: see the app's Home tab" not in shown


def test_orders_list_when_nothing_waits() -> None:
    assert "Nothing to do" in payload(orders_list_message(EN, [order(item(state=ItemState.SHIPPED))], NOW))["text"]


def test_help_lists_every_subcommand() -> None:
    shown = texts(payload(help_message(EN)))
    for usage in ("connect", "status", "orders", "ship ORDER CARRIER TRACKING [URL]", "settings", "disconnect", "help"):
        assert f"`/rakuten {usage}`" in shown


def test_unknown_subcommand_is_escaped_and_followed_by_help() -> None:
    shown = texts(payload(unknown_subcommand_message(EN, "<!channel>")))
    assert "`/rakuten &lt;!channel&gt;`" in shown
    assert "<!channel>" not in shown
    assert "`/rakuten status`" in shown


def test_outage_alert_says_since_when_how_often_and_why() -> None:
    kwargs = payload(outage_alert(EN, "boutique-lyon", "HTTP 503 from Rakuten", NOW - timedelta(hours=1), 5))
    assert kwargs["text"].startswith("⚠️ Rakuten account boutique-lyon")
    shown = texts(kwargs["blocks"])
    assert "5 attempts failed in a row since Nov 28, 4:00\u202fPM" in shown
    assert "Last error: HTTP 503 from Rakuten" in shown


def test_recovered_message_gives_the_downtime() -> None:
    kwargs = payload(recovered_message(EN, "boutique-lyon", NOW - timedelta(hours=1, minutes=20), NOW))
    assert "reachable again after 1 h 20 min (since Nov 28, 3:40\u202fPM)" in kwargs["text"]


def test_quota_message_names_the_action_and_when_it_resumes() -> None:
    kwargs = payload(quota_message(EN, "boutique-lyon", Action.SET_TRACKING, NOW + timedelta(minutes=30)))
    assert "quota for sending tracking numbers is used up on account boutique-lyon" in kwargs["text"]
    assert "Nov 28, 5:30\u202fPM" in kwargs["text"]


def test_burst_summary_points_to_the_thread() -> None:
    kwargs = payload(burst_summary(EN, "boutique-lyon", 37, 3))
    assert kwargs["text"].startswith("🛒 37 new orders arrived: cards in the thread")
    assert "⚡ 3 Express orders are posted in the channel itself." in texts(kwargs["blocks"])
    assert "Express" not in payload(burst_summary(EN, "boutique-lyon", 21, 0))["text"]


def test_address_message_gives_the_full_address_phone_and_relay() -> None:
    shown = texts(payload(address_message(EN, order(ship_to=relay_address()))))
    for expected in ("Camille Martin", "3 place du Marché", "69003 Lyon", "France", "☎ 0612345678"):
        assert expected in shown
    assert "Relay point: Tabac de la Gare (069042)" in shown


def test_address_message_escapes_and_handles_missing_or_purged_addresses() -> None:
    assert "&lt;b&gt;" in texts(payload(address_message(EN, order(ship_to=address(address1="<b>")))))
    assert "No shipping address" in texts(payload(address_message(EN, order(ship_to=None))))
    purged = address_message(EN, order(ship_to=None, personal_data_purged=True))
    assert "removed after the retention period" in texts(payload(purged))


def test_address_is_not_in_the_notification_text() -> None:
    assert "rue des Lilas" not in payload(address_message(EN, order()))["text"]


def test_not_allowed_message_explains_the_refusal() -> None:
    kwargs = payload(not_allowed_message(EN, "mark this order shipped", "only members of <#C0ORDERS> can"))
    assert kwargs["text"] == "🚫 You can't mark this order shipped: only members of <#C0ORDERS> can"


@pytest.mark.parametrize(
    ("action", "outcome", "expected"),
    [
        (PendingKind.ACCEPT, ActionOutcome.OK, "✅ Order 123456789 accepted (2 items)"),
        (PendingKind.REFUSE, ActionOutcome.OK, "⛔ Order 123456789 refused (2 items)"),
        (PendingKind.ACCEPT, ActionOutcome.ALREADY_DONE, "Order 123456789 was already accepted"),
        (PendingKind.SHIP, ActionOutcome.QUEUED, "the tracking for order 123456789 is queued"),
        (PendingKind.REFUSE, ActionOutcome.REFUSED_BY_RAKUTEN, "Rakuten rejected the refusal of order 123456789"),
    ],
)
def test_action_results(action: PendingKind, outcome: ActionOutcome, expected: str) -> None:
    kwargs = payload(action_result_message(EN, action, "123456789", outcome, item_count=2, reason="Vente expirée"))
    assert expected in kwargs["text"]


def test_ship_result_shows_carrier_and_linked_tracking() -> None:
    kwargs = payload(action_result_message(EN, "ship", "123456789", "ok", item_count=1, shipment=shipment()))
    assert kwargs["text"].startswith("✅ Tracking sent to Rakuten for order 123456789 (1 item): Colissimo <https://")


def test_rakuten_refusal_reason_is_escaped() -> None:
    kwargs = payload(action_result_message(EN, "accept", "1", "refused_by_rakuten", reason="<script>"))
    assert "&lt;script&gt;" in kwargs["text"]
    queued = payload(action_result_message(EN, "accept", "1", "queued", retry_at=NOW + timedelta(minutes=10)))
    assert "next try at Nov 28, 5:10\u202fPM" in queued["text"]


def test_connected_and_disconnected_messages_say_where_and_what() -> None:
    connected = payload(connected_message(EN, "boutique-lyon", "C0ORDERS"))
    assert "*boutique-lyon* connected" in connected["text"]
    assert "<#C0ORDERS>" in connected["text"]
    disconnected = payload(disconnected_message(EN, "boutique-lyon"))
    assert "polling stopped and its token was deleted" in disconnected["text"]
