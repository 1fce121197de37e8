from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.constants import ACTION_HOME_REFRESH
from bot.domain.accounts import FailureKind, PollFailure, PollHealth
from bot.domain.orders import ItemState
from bot.ui.home import build_home
from devkit.block_kit_limits import view_problems
from tests.factories import NOW, PURCHASED, address, item, order, status, texts
from tests.i18n import EN


def home(accounts: list[Any], orders: list[Any], *, is_admin: bool = True) -> dict[str, Any]:
    view = build_home(EN, accounts, orders, now=NOW, is_admin=is_admin).to_dict()
    assert view_problems(view, "home") == []
    return view


def section(view: dict[str, Any], block_id: str) -> str:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)["text"]["text"]


def test_no_account_tells_admins_how_to_connect() -> None:
    admin = home([], [], is_admin=True)
    member = home([], [], is_admin=False)
    assert admin["type"] == "home"
    assert "`/rakuten connect`" in section(admin, "home_no_account")
    assert "Ask a Slack admin" in section(member, "home_no_account")


def test_orders_are_sorted_into_the_lists_they_belong_to() -> None:
    orders = [
        order(item(state=ItemState.TO_ACCEPT), purchaseid="1001"),
        order(item(), purchaseid="1002", is_express=True, ship_to=address(city="Brest")),
        # Late to accept: less than the reminder's 12 h left of the 72 h to accept (NOW is 2 h after PURCHASED).
        order(item(state=ItemState.TO_ACCEPT), purchaseid="1003", purchase_date=PURCHASED - timedelta(hours=59)),
        order(item(), purchaseid="1004", purchase_date=PURCHASED - timedelta(days=3)),
        order(item(state=ItemState.SHIPPED), purchaseid="1005"),
    ]
    view = home([status()], orders)
    to_accept = section(view, "home_to_accept")
    to_ship = section(view, "home_to_ship")
    express = section(view, "home_express")
    late = section(view, "home_late")
    assert to_accept.startswith("*🟡 To accept (2)*")
    assert to_accept.index("1003") < to_accept.index("1001")  # most urgent first
    assert to_ship.startswith("*📦 To ship (2)*")
    assert express.startswith("*⚡ Express (1)*")
    assert "⚡ `1002`" in express
    assert "Brest" in express
    assert late.startswith("*⏰ Late (2)*")
    assert "1003" in late
    assert "1004" in late
    assert "1005" not in texts(view)


def test_order_lines_are_link_free_and_show_no_name_or_street() -> None:
    view = home([status()], [order(item(state=ItemState.TO_ACCEPT))])
    line = section(view, "home_to_accept").splitlines()[1]
    assert line == "`123456789` · Nov 28, 2:05\u202fPM · Lyon · 🟡 To accept (69 h left to decide)"
    shown = texts(view)
    assert "Martin" not in shown
    assert "rue des Lilas" not in shown
    assert "http" not in shown


def test_long_lists_are_cut_at_ten_with_a_count_of_the_rest() -> None:
    orders = [order(item(), purchaseid=str(2000 + i)) for i in range(25)]
    lines = section(home([status()], orders), "home_to_ship").splitlines()
    assert lines[0] == "*📦 To ship (25)*"
    assert len(lines) == 12
    assert lines[-1] == "…and 15 more"


def test_accounts_show_polls_health_errors_and_channel() -> None:
    healthy = status(
        "boutique-lyon",
        health=PollHealth(last_success_at=NOW - timedelta(minutes=3)),
        next_poll=NOW + timedelta(minutes=2),
    )
    failing = status(
        "atelier-brest",
        channel_id="C0BREST",
        health=PollHealth(
            last_success_at=NOW - timedelta(hours=2),
            last_error=PollFailure(FailureKind.RAKUTEN, "answered HTTP 503 <maintenance>"),
            last_error_at=NOW - timedelta(minutes=1),
            consecutive_failures=4,
        ),
    )
    view = home([healthy, failing], [])
    first, second = section(view, "home_account_0"), section(view, "home_account_1")
    assert "*boutique-lyon* · orders in <#C0ORDERS>" in first
    assert "Last successful poll: 4:57\u202fPM (3 min ago)" in first
    assert "next poll: 5:02\u202fPM" in first
    assert "✅ healthy" in first
    assert "<#C0BREST>" in second
    assert "next poll: not scheduled" in second
    assert "4 failures in a row" in second
    assert "HTTP 503 &lt;maintenance&gt;" in second


def test_home_never_exceeds_one_hundred_blocks() -> None:
    accounts = [status(f"seller-{i}", channel_id=f"C0{i:04d}") for i in range(300)]
    orders = [order(item(state=ItemState.TO_ACCEPT), account=f"seller-{i}", purchaseid=str(i)) for i in range(500)]
    view = home(accounts, orders)
    assert len(view["blocks"]) <= 100
    assert "…and" in section(view, "home_accounts_more")
    assert view["blocks"][-1]["block_id"] == "home_footer"


def test_refresh_button_and_admin_commands() -> None:
    admin = home([status()], [])
    member = home([status()], [], is_admin=False)
    actions = next(b for b in admin["blocks"] if b["type"] == "actions")
    assert actions["elements"][0]["action_id"] == ACTION_HOME_REFRESH
    assert "`/rakuten settings`" in texts(admin["blocks"][-1])
    assert "`/rakuten settings`" not in texts(member["blocks"][-1])


def test_a_list_of_long_lines_ends_early_and_counts_the_rest() -> None:
    # Escaped, a city of ampersands is five times longer: ten such lines overflow a section's 3000 characters.
    orders = [
        order(
            item(state=ItemState.TO_ACCEPT),
            purchaseid=f"{i:02d}" + "9" * 60,
            is_express=True,
            ship_to=address(city="&" * 100),
            purchase_date=NOW - timedelta(hours=1),
        )
        for i in range(30)
    ]
    listed = section(home([status()], orders), "home_to_accept").splitlines()
    shown = [line for line in listed if line.startswith("⚡ `")]
    assert len(shown) < 10
    assert listed[-1] == f"…and {30 - len(shown)} more"
