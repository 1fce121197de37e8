from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from unittest.mock import Mock

import pytest
from pytest_mock import MockerFixture
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.orders import ItemState, OrderItem, OrderRecord, PendingAction, PendingKind, Shipment
from bot.rakuten_clients import RakutenClients
from bot.services.acceptance import AUTO_ACCEPT_ACTOR
from bot.services.card_publisher import CardPublisher
from bot.services.item_actions import ItemActions, RetrySchedule
from bot.slack.poster import SlackWriteError
from bot.store import TinyDBStore
from bot.ui.notices import SlackNotices
from rakuten.carriers import InvalidTrackingError
from rakuten.client import RakutenClient
from rakuten.errors import BusinessError, ErrorDetails, QuotaExceededError, ServerError, TransportError
from rakuten.models import ActionResult
from tests.bot.services.conftest import (
    CHANNEL,
    LOGIN,
    SELLER,
    START,
    Clock,
    InlineRunner,
    make_account,
    make_item,
    make_order,
)
from tests.i18n import ENGLISH

PURCHASE = "480000001"
ALREADY_SHIPPED = BusinessError(
    ErrorDetails("Sender", "InvalidItemStatus", "The item status does not allow this action.", ("déjà expédié",)),
    action="settrackingpackageinfos",
)


@pytest.fixture
def rakuten(mocker: MockerFixture) -> Mock:
    client = mocker.create_autospec(RakutenClient, instance=True)
    client.set_tracking.return_value = ActionResult("settrackingpackageinfos", "9001", "OK")
    client.accept_sale.return_value = ActionResult("acceptsale", "9001", "Accepted")
    client.refuse_sale.return_value = ActionResult("refusesale", "9001", "Refused")
    return client


@pytest.fixture
def publisher(mocker: MockerFixture) -> Mock:
    return mocker.create_autospec(CardPublisher, instance=True)


@pytest.fixture
def slack(mocker: MockerFixture) -> Mock:
    return mocker.Mock(spec=WebClient)


@pytest.fixture
def make_actions(
    mocker: MockerFixture,
    store: TinyDBStore,
    rakuten: Mock,
    publisher: Mock,
    slack: Mock,
    runner: InlineRunner,
    clock: Clock,
) -> Callable[..., ItemActions]:
    clients = mocker.create_autospec(RakutenClients, instance=True)
    clients.client_for.return_value = rakuten
    store.save_account(make_account())

    def make(delays: tuple[float, ...] = (5, 15)) -> ItemActions:
        return ItemActions(
            store=store,
            clients=clients,
            publisher=publisher,
            runner=runner,  # type: ignore[arg-type]
            web_client=slack,
            clock=clock,
            reports=SlackNotices(ENGLISH),
            schedule=RetrySchedule(delays),
        )

    return make


@pytest.fixture
def actions(make_actions: Callable[..., ItemActions]) -> ItemActions:
    return make_actions()


def claimed(kind: PendingKind, itemid: str = "9001", *, by: str = SELLER, state: ItemState | None = None) -> OrderItem:
    shipment = Shipment("Colissimo", "6A12345678901") if kind is PendingKind.SHIP else None
    default_state = ItemState.TO_SHIP if kind is PendingKind.SHIP else ItemState.TO_ACCEPT
    return make_item(itemid, state or default_state, pending=PendingAction(kind, by, START, shipment=shipment))


def stored(store: TinyDBStore, purchaseid: str = PURCHASE) -> OrderRecord:
    order = store.get_order(LOGIN, purchaseid)
    assert order is not None
    return order


def told(slack: Mock) -> list[str]:
    return [kwargs["text"] for _, kwargs in slack.chat_postEphemeral.call_args_list]


# --- success ------------------------------------------------------------------------------------------------


def test_a_shipment_that_succeeds_marks_the_item_shipped_and_updates_the_card(
    actions: ItemActions, store: TinyDBStore, rakuten: Mock, publisher: Mock, slack: Mock
) -> None:
    store.save_order(make_order(PURCHASE, claimed(PendingKind.SHIP)))

    actions.send(LOGIN, PURCHASE, ["9001"])

    rakuten.set_tracking.assert_called_once_with(
        "9001", carrier="Colissimo", tracking_number="6A12345678901", tracking_url=None
    )
    item = stored(store).items[0]
    assert item.state is ItemState.SHIPPED
    assert item.pending is None
    assert item.shipment is not None
    assert (item.shipment.shipped_by, item.shipment.shipped_at) == (SELLER, START)
    assert stored(store).closed_at is not None
    (audit,) = store.list_audit(purchaseid=PURCHASE)
    assert (audit.action, audit.actor, audit.outcome, audit.itemids, audit.detail) == (
        "ship",
        SELLER,
        "ok",
        ("9001",),
        "OK",
    )
    account, order = publisher.refresh.call_args.args
    assert account.login == LOGIN
    assert order.items[0].state is ItemState.SHIPPED
    slack.chat_postEphemeral.assert_not_called()  # the card says it; no extra message


@pytest.mark.parametrize(
    ("kind", "method", "state"),
    [(PendingKind.ACCEPT, "accept_sale", ItemState.TO_SHIP), (PendingKind.REFUSE, "refuse_sale", ItemState.REFUSED)],
)
def test_accept_and_refuse_move_the_item_on(
    actions: ItemActions, store: TinyDBStore, rakuten: Mock, kind: PendingKind, method: str, state: ItemState
) -> None:
    store.save_order(make_order(PURCHASE, claimed(kind, "9001"), claimed(kind, "9002")))

    actions.send(LOGIN, PURCHASE, ["9001", "9002"])

    calls = getattr(rakuten, method).call_args_list
    assert [c.args[0] for c in calls] == ["9001", "9002"]
    if kind is PendingKind.ACCEPT:
        assert all(c.kwargs == {"shipping_from_country": "FR"} for c in calls)
    assert [item.state for item in stored(store).items] == [state, state]
    assert all(item.pending is None for item in stored(store).items)


def test_an_item_done_meanwhile_is_not_sent_again(actions: ItemActions, store: TinyDBStore, rakuten: Mock) -> None:
    store.save_order(make_order(PURCHASE, make_item("9001", ItemState.SHIPPED)))

    actions.send(LOGIN, PURCHASE, ["9001"])
    actions.send(LOGIN, "999", ["9001"])

    rakuten.set_tracking.assert_not_called()


# --- definite refusal ----------------------------------------------------------------------------------------


def test_a_rakuten_refusal_is_kept_on_the_item_told_to_the_requester_and_recorded(
    actions: ItemActions, store: TinyDBStore, rakuten: Mock, slack: Mock, runner: InlineRunner, publisher: Mock
) -> None:
    store.save_order(make_order(PURCHASE, claimed(PendingKind.SHIP)))
    rakuten.set_tracking.side_effect = ALREADY_SHIPPED

    actions.send(LOGIN, PURCHASE, ["9001"])

    item = stored(store).items[0]
    assert item.state is ItemState.TO_SHIP
    assert item.pending is None
    assert item.failure == ALREADY_SHIPPED.message
    assert runner.later == []  # a refusal is not retried
    (message,) = told(slack)
    assert message.startswith(f"⚠️ Rakuten rejected the tracking for order {PURCHASE}")
    assert "déjà expédié" in message
    assert slack.chat_postEphemeral.call_args.kwargs["channel"] == CHANNEL
    assert slack.chat_postEphemeral.call_args.kwargs["user"] == SELLER
    (audit,) = store.list_audit(purchaseid=PURCHASE)
    assert (audit.outcome, audit.actor) == ("failed", SELLER)
    assert "déjà expédié" in (audit.detail or "")
    publisher.refresh.assert_called()


def test_tracking_the_client_rejects_before_sending_is_a_definite_failure(
    actions: ItemActions, store: TinyDBStore, rakuten: Mock, slack: Mock
) -> None:
    store.save_order(make_order(PURCHASE, claimed(PendingKind.SHIP)))
    rakuten.set_tracking.side_effect = InvalidTrackingError("tracking_number", "Enter the tracking number.")

    actions.send(LOGIN, PURCHASE, ["9001"])

    assert stored(store).items[0].failure == "Enter the tracking number."
    assert "Enter the tracking number." in told(slack)[0]


def test_when_the_account_was_disconnected_the_action_ends_without_calling_rakuten(
    actions: ItemActions, store: TinyDBStore, rakuten: Mock
) -> None:
    store.save_order(make_order(PURCHASE, claimed(PendingKind.SHIP)))
    store.delete_account(LOGIN)

    actions.send(LOGIN, PURCHASE, ["9001"])

    rakuten.set_tracking.assert_not_called()
    item = stored(store).items[0]
    assert item.pending is None
    assert item.failure == "the Rakuten account was disconnected"


# --- transient failures ---------------------------------------------------------------------------------------


def test_a_transient_failure_is_retried_later_then_succeeds(
    actions: ItemActions, store: TinyDBStore, rakuten: Mock, slack: Mock, runner: InlineRunner, publisher: Mock
) -> None:
    store.save_order(make_order(PURCHASE, claimed(PendingKind.SHIP)))
    outage = ServerError("HTTP 503", action="settrackingpackageinfos", status_code=503)
    rakuten.set_tracking.side_effect = [outage, ActionResult("settrackingpackageinfos", "9001", "OK")]

    actions.send(LOGIN, PURCHASE, ["9001"])

    pending = stored(store).items[0].pending
    assert pending is not None  # still claimed: no second click can send it again
    assert (pending.attempts, pending.last_error) == (1, "HTTP 503")
    assert [delay for delay, _ in runner.later] == [5]
    (queued,) = told(slack)
    assert "Rakuten is not answering right now" in queued
    assert publisher.refresh.call_args.args[1].items[0].pending.last_error == "HTTP 503"  # the card says "retrying"

    assert runner.run_later() == 5

    assert rakuten.set_tracking.call_count == 2
    item = stored(store).items[0]
    assert item.state is ItemState.SHIPPED
    assert item.pending is None
    assert len(told(slack)) == 1


def test_a_transient_failure_until_the_schedule_runs_out_is_a_definite_failure(
    make_actions: Callable[..., ItemActions], store: TinyDBStore, rakuten: Mock, slack: Mock, runner: InlineRunner
) -> None:
    actions = make_actions(delays=(0.5, 1.0))
    store.save_order(make_order(PURCHASE, claimed(PendingKind.ACCEPT)))
    rakuten.accept_sale.side_effect = TransportError("no answer from Rakuten within 30 s", action="acceptsale")

    actions.send(LOGIN, PURCHASE, ["9001"])
    delays = [runner.run_later() for _ in range(2)]

    assert delays == [0.5, 1.0]
    assert runner.later == []
    assert rakuten.accept_sale.call_count == 3
    item = stored(store).items[0]
    assert item.state is ItemState.TO_ACCEPT
    assert item.pending is None
    assert (item.failure, item.failed_attempts) == ("no answer from Rakuten within 30 s", 3)
    queued, final = told(slack)  # told once that it is queued, once that it failed
    assert "queued and will be retried" in queued
    assert "Rakuten rejected the acceptance of order" in final
    assert "after 3 attempts" in final
    (audit,) = store.list_audit(purchaseid=PURCHASE)
    assert (audit.action, audit.outcome) == ("accept", "failed")


def test_a_spent_quota_waits_for_the_hour_to_turn(
    actions: ItemActions, store: TinyDBStore, rakuten: Mock, slack: Mock, runner: InlineRunner, clock: Clock
) -> None:
    store.save_order(make_order(PURCHASE, claimed(PendingKind.REFUSE)))
    quota = QuotaExceededError(
        ErrorDetails("Sender", "InvalidUserRights", "Quota exceeded."),
        action="refusesale",
        retry_at=START + timedelta(minutes=40),
    )
    rakuten.refuse_sale.side_effect = [quota, quota, ActionResult("refusesale", "9001", "Refused")]

    actions.send(LOGIN, PURCHASE, ["9001"])

    assert [delay for delay, _ in runner.later] == [40 * 60]
    (queued,) = told(slack)
    assert "hourly quota for refusing orders is used up" in queued
    assert "goes out at Nov 28, 2:40\u202fPM" in queued
    clock.advance(minutes=40)
    assert runner.run_later() == 40 * 60
    assert [delay for delay, _ in runner.later] == [1.0]  # the hour has turned but Rakuten still says no
    assert len(told(slack)) == 1  # told once, not at every try

    runner.run_later()

    assert stored(store).items[0].state is ItemState.REFUSED
    assert rakuten.refuse_sale.call_count == 3


# --- a try whose answer was lost ------------------------------------------------------------------------------


def test_each_try_is_recorded_before_it_goes_out_and_goes_out_once(
    actions: ItemActions, store: TinyDBStore, rakuten: Mock, make_actions: Callable[..., ItemActions]
) -> None:
    store.save_order(make_order(PURCHASE, claimed(PendingKind.SHIP)))
    seen: list[int] = []
    rakuten.set_tracking.side_effect = lambda *_, **__: (
        seen.append(stored(store).items[0].pending.attempts),  # type: ignore[union-attr]
        ActionResult("settrackingpackageinfos", "9001", "OK"),
    )[1]

    actions.send(LOGIN, PURCHASE, ["9001"])

    assert seen == [1]  # on disk before the call: a crash mid-call leaves the evidence that it was sent
    clients = actions._clients  # the single-try client: the bot's own schedule retries, recording each try
    assert clients.client_for.call_args.kwargs["retry"].attempts == 1  # type: ignore[attr-defined]


def test_already_shipped_in_answer_to_a_resend_means_the_lost_try_went_through(
    actions: ItemActions, store: TinyDBStore, rakuten: Mock, slack: Mock, runner: InlineRunner, publisher: Mock
) -> None:
    store.save_order(make_order(PURCHASE, claimed(PendingKind.SHIP)))
    lost = TransportError("network error talking to Rakuten (RemoteProtocolError)", action="settrackingpackageinfos")
    rakuten.set_tracking.side_effect = [lost, ALREADY_SHIPPED]

    actions.send(LOGIN, PURCHASE, ["9001"])
    runner.run_later()

    item = stored(store).items[0]
    assert item.state is ItemState.SHIPPED
    assert (item.pending, item.failure) == (None, None)
    assert item.shipment is not None
    assert (item.shipment.tracking_number, item.shipment.shipped_by) == ("6A12345678901", SELLER)
    queued, went_through = told(slack)
    assert "not answering" in queued
    assert went_through.startswith(f"✅ Tracking sent to Rakuten for order {PURCHASE}")
    assert "Rakuten rejected" not in went_through
    (done,) = store.list_audit(purchaseid=PURCHASE)
    assert (done.action, done.outcome) == ("ship", "ok")
    assert "déjà expédié" in (done.detail or "")
    assert publisher.refresh.call_args.args[1].items[0].state is ItemState.SHIPPED


def test_a_resumed_request_already_sent_before_the_restart_is_done_when_rakuten_says_already(
    actions: ItemActions, store: TinyDBStore, rakuten: Mock, slack: Mock
) -> None:
    item = claimed(PendingKind.ACCEPT)
    assert item.pending is not None
    item.pending.attempts = 1  # the previous run recorded a try, then died before the answer
    store.save_order(make_order(PURCHASE, item))
    already = "Item 9001 is ACCEPTED: only an item awaiting confirmation can be accepted."
    rakuten.accept_sale.side_effect = BusinessError(
        ErrorDetails("Sender", "InvalidItemStatus", "The item status does not allow this action.", (already,)),
        action="acceptsale",
    )

    assert actions.resume_pending() == 1

    assert stored(store).items[0].state is ItemState.TO_SHIP
    (message,) = told(slack)
    assert f"Order {PURCHASE} accepted" in message


def test_a_resumed_request_that_succeeds_is_told_to_its_requester(
    actions: ItemActions, store: TinyDBStore, rakuten: Mock, slack: Mock
) -> None:
    store.save_order(make_order(PURCHASE, claimed(PendingKind.SHIP)))

    actions.resume_pending()

    (message,) = told(slack)  # the modal closed before the crash; this is the first word since
    assert message.startswith(f"✅ Tracking sent to Rakuten for order {PURCHASE}")
    assert "6A12345678901" in message


# --- telling the requester ----------------------------------------------------------------------------------


def test_a_requester_outside_the_channel_is_told_by_direct_message(
    actions: ItemActions, store: TinyDBStore, rakuten: Mock, slack: Mock
) -> None:
    store.save_order(make_order(PURCHASE, claimed(PendingKind.SHIP)))
    rakuten.set_tracking.side_effect = ALREADY_SHIPPED
    slack.chat_postEphemeral.side_effect = SlackApiError("no", {"ok": False, "error": "user_not_in_channel"})

    actions.send(LOGIN, PURCHASE, ["9001"])

    assert slack.chat_postMessage.call_args.kwargs["channel"] == SELLER
    assert "Rakuten rejected" in slack.chat_postMessage.call_args.kwargs["text"]


def test_auto_accept_failures_are_on_the_card_not_in_anyones_messages(
    actions: ItemActions, store: TinyDBStore, rakuten: Mock, slack: Mock
) -> None:
    store.save_order(make_order(PURCHASE, claimed(PendingKind.ACCEPT, by=AUTO_ACCEPT_ACTOR)))
    rakuten.accept_sale.side_effect = BusinessError(ErrorDetails("Sender", "X", "No"), action="acceptsale")

    actions.send(LOGIN, PURCHASE, ["9001"])

    assert stored(store).items[0].failure == "No (X)"
    slack.chat_postEphemeral.assert_not_called()
    slack.chat_postMessage.assert_not_called()


# --- restart and card refresh -------------------------------------------------------------------------------


def test_resume_pending_sends_again_what_a_previous_run_left_pending(
    actions: ItemActions, store: TinyDBStore, rakuten: Mock
) -> None:
    store.save_order(make_order("480000001", claimed(PendingKind.SHIP, "9001"), make_item("9002")))
    store.save_order(make_order("480000002", claimed(PendingKind.ACCEPT, "9101")))
    store.save_order(make_order("480000003", make_item("9201")))

    assert actions.resume_pending() == 2

    assert [c.args[0] for c in rakuten.set_tracking.call_args_list] == ["9001"]
    assert [c.args[0] for c in rakuten.accept_sale.call_args_list] == ["9101"]
    assert stored(store, "480000001").items[1].pending is None


def test_refresh_cards_later_redraws_every_open_card_in_the_background(
    actions: ItemActions, store: TinyDBStore, publisher: Mock, runner: InlineRunner
) -> None:
    store.save_order(make_order("480000001"))
    store.save_order(make_order("480000002"))
    store.save_order(make_order("480000003", make_item("9301", ItemState.SHIPPED)))

    actions.refresh_cards_later(LOGIN)

    assert runner.submitted == 1
    assert sorted(c.args[1].purchaseid for c in publisher.refresh.call_args_list) == ["480000001", "480000002"]


def test_a_card_slack_will_not_update_does_not_stop_the_action(
    actions: ItemActions, store: TinyDBStore, publisher: Mock
) -> None:
    store.save_order(make_order(PURCHASE, claimed(PendingKind.SHIP)))
    publisher.refresh.side_effect = SlackWriteError("chat.update", "channel_not_found")

    actions.send(LOGIN, PURCHASE, ["9001"])

    assert stored(store).items[0].state is ItemState.SHIPPED
