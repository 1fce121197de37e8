"""Replicas: real ``rakuten-bot run`` processes in HTTP mode on one PostgreSQL database (its own schema here), with
the Rakuten simulator and the Slack stand-in.

- Three replicas, six accounts: every order gets exactly one card, and no account is ever polled by two replicas at
  the same time (read from what Rakuten received: one account's polls never interleave).
- ``kill -9`` of the replica in the middle of posting a card: its accounts are polled by the others within one poll
  interval, the card it posted is found again rather than posted twice, and the orders that come afterwards are
  carded once.
- ``kill -9`` of the replica that took a Mark shipped and is waiting to retry it: another replica sends the retry,
  once, and tells the person who asked; the modal was opened by a third replica.
- A replica that loses its database says so on ``/healthz`` and ``/readyz``, and recovers with it.

Language plays no part here: assertions read the simulator, the store and the cards' metadata, and the stack is this
module's own (English, one run).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bot.constants import ACTION_MARK_SHIPPED, ACTION_REPLY, ORDER_EVENT_TYPE, VIEW_REPLY, VIEW_SHIP
from bot.domain.orders import ItemState, OrderRecord
from bot.slack.http_server import HEALTH_PATH, READY_PATH
from bot.store.postgres_store import PostgresStore
from bot.store.work import PERIODIC_SLACK
from devkit.local_stack import CHANNEL, SELLER, LocalStack, StackOptions, wait_until
from devkit.rakuten_simulator import Fault, RecordedRequest
from devkit.rakuten_simulator import ItemState as SimItemState
from rakuten.actions import Action
from tests.e2e.replicas import (
    GET_CURRENT_SALES,
    GET_NEW_SALES,
    REPLICA_TUNING,
    SET_TRACKING,
    CuttableProxy,
    Deployment,
    new_secret_key,
    overlapping_polls,
    poll_starts,
)
from tests.postgres import fresh_schema

POLL = 1.0  # RAKUTEN_POLL_SECONDS of the replicas
ACCOUNTS = [(f"boutique-{number}", f"token-{number}") for number in range(6)]
COLISSIMO_NUMBER = "6A12345678901"
TODO = Action.GET_ITEM_TODO_LIST.value
CONTACT_BUYER = Action.CONTACT_USER_ABOUT_ITEM.value


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    """The simulator and the Slack stand-in; the stack's own in-process bot is stopped (the replicas are the bots)."""
    made = LocalStack(tmp_path / "stack-data", StackOptions()).start()
    made.stop_app()
    yield made
    made.stop()


@pytest.fixture
def deployment(stack: LocalStack) -> Iterator[Deployment]:
    with fresh_schema() as database_url:
        store = PostgresStore(database_url)
        made = Deployment(stack, database_url, new_secret_key(), store, [])
        try:
            yield made
        finally:
            made.stop()
            store.close()


def cards_per_order(stack: LocalStack) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message in stack.slack.messages(CHANNEL):
        metadata = message.metadata or {}
        if metadata.get("event_type") == ORDER_EVENT_TYPE:
            purchaseid = metadata["event_payload"]["purchaseid"]
            counts[purchaseid] = counts.get(purchaseid, 0) + 1
    return counts


def all_carded(stack: LocalStack, purchaseids: set[str]) -> bool:
    return purchaseids <= set(cards_per_order(stack))


def add_orders(stack: LocalStack, per_account: int) -> dict[str, str]:
    """New accepted sales at the simulator: purchaseid -> account."""
    return {
        stack.simulator.add_sale(login, new=False): login for login, _ in ACCOUNTS for _ in range(per_account)
    }


def stored(deployment: Deployment, login: str, purchaseid: str) -> OrderRecord:
    order = deployment.store.get_order(login, purchaseid)
    assert order is not None
    return order


# --------------------------------------------------------------------------------------------- polls and cards


def test_three_replicas_card_every_order_once_and_take_over_a_dead_one_s_accounts(
    stack: LocalStack, deployment: Deployment, tmp_path: Path
) -> None:
    for login, token in ACCOUNTS:
        deployment.connect(login, token)
    orders = add_orders(stack, per_account=2)
    # Each poll stays under way a while between its two listings: a second poll of the same account started
    # meanwhile, by any replica, would show at Rakuten between them.
    stack.simulator.inject_fault(GET_CURRENT_SALES, Fault.SLOW, times=-1, delay=0.2)

    deployment.start(3, tmp_path, poll_seconds=POLL)
    stack.slack.wait_for(lambda: all_carded(stack, set(orders)), timeout=20)

    # kill -9 in the middle of a poll: the replica posting a new order's card, as Slack has just posted it.
    victim_login = ACCOUNTS[0][0]
    fresh = stack.simulator.add_sale(victim_login, new=False)
    hold = stack.slack.hold("chat.postMessage")
    assert hold.carried_out.wait(10)  # the card is in the channel; its poster is waiting for Slack's answer
    pollers = deployment.pollers()
    victim = deployment.by_id(pollers[victim_login])
    its_accounts = sorted(login for login, replica_id in pollers.items() if replica_id == victim.replica_id)
    killed_at = datetime.now(UTC)  # before the kill: the take-over may come within the milliseconds the kill takes
    victim.kill()
    hold.release()

    def next_poll_after_kill(login: str) -> datetime | None:
        later = [start for start in poll_starts(stack.simulator.requests, login) if start > killed_at]
        return min(later, default=None)

    wait_until(lambda: all(next_poll_after_kill(login) for login in its_accounts), timeout=10)
    takeover = max(next_poll_after_kill(login) - killed_at for login in its_accounts)  # type: ignore[operator]
    print(f"\naccounts of the killed replica ({', '.join(its_accounts)}) polled again {takeover.total_seconds():.2f} s "
          "after the kill")
    assert takeover < timedelta(seconds=POLL)  # the poll it left unfinished runs again at once

    # The card the dead replica posted is found in the channel and kept, not posted again.
    wait_until(lambda: stored(deployment, victim_login, fresh).card is not None, timeout=10)
    assert cards_per_order(stack)[fresh] == 1

    # The survivors go on: the orders that come now are carded once too.
    later = add_orders(stack, per_account=1)
    stack.slack.wait_for(lambda: all_carded(stack, set(later)), timeout=20)
    survivors = [replica for replica in deployment.replicas if replica is not victim]
    requests = stack.simulator.requests

    counts = cards_per_order(stack)
    assert {purchaseid: counts.get(purchaseid) for purchaseid in [*orders, fresh, *later]} == dict.fromkeys(
        [*orders, fresh, *later], 1
    )
    assert overlapping_polls(requests) == {}
    assert all(replica.status(HEALTH_PATH) == 200 for replica in survivors)


def test_the_overlap_check_sees_two_polls_of_one_account_interleave() -> None:
    """The checker itself, on request logs written by hand: it must be able to fail."""

    def log(*calls: tuple[str, str, str | None]) -> list[RecordedRequest]:
        start = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
        return [
            RecordedRequest(action, "POST", {"nexttoken": page} if page else {}, login, at, 200)
            for at, (login, action, page) in zip(
                (start + timedelta(seconds=n) for n in range(len(calls))), calls, strict=True
            )
        ]

    one_at_a_time = log(
        ("a", GET_NEW_SALES, None),
        ("b", GET_NEW_SALES, None),
        ("a", GET_CURRENT_SALES, None),
        ("a", GET_CURRENT_SALES, "page-2"),
        ("b", GET_CURRENT_SALES, None),
        ("a", GET_NEW_SALES, None),
        ("a", GET_CURRENT_SALES, None),
    )
    interleaved = log(
        ("a", GET_NEW_SALES, None),
        ("a", GET_NEW_SALES, None),
        ("a", GET_CURRENT_SALES, None),
        ("a", GET_CURRENT_SALES, None),
    )

    assert overlapping_polls(one_at_a_time) == {}
    assert overlapping_polls(interleaved) == {"a": ["new", "new", "current", "current"]}


# --------------------------------------------------------------------------------------------- a pending action


def test_a_retry_survives_the_replica_that_took_the_request(
    stack: LocalStack, deployment: Deployment, tmp_path: Path
) -> None:
    login, token = ACCOUNTS[0]
    deployment.connect(login, token)
    purchaseid = stack.simulator.add_sale(login, new=False, items=[{"headline": "Lampe de bureau"}])
    itemid = stack.simulator.sale(purchaseid).items[0].itemid
    deployment.start(3, tmp_path, poll_seconds=POLL)
    stack.slack.wait_for(lambda: all_carded(stack, {purchaseid}), timeout=20)
    opener, submitter, _ = deployment.replicas

    # A click and its modal's submission land on two different replicas, as a load balancer spreads them.
    stack.sender = opener.sender
    assert stack.click(purchaseid, ACTION_MARK_SHIPPED, login=login).status_code == 200
    stack.slack.wait_for(lambda: bool(stack.opened_views(VIEW_SHIP)), timeout=10)
    (view,) = stack.opened_views(VIEW_SHIP)
    stack.simulator.inject_fault(SET_TRACKING, Fault.HTTP_503)  # the first try meets an outage: a retry follows
    stack.sender = submitter.sender
    assert stack.submit_ship(view, carrier="Colissimo", tracking=COLISSIMO_NUMBER).status_code == 200
    stack.simulator.wait_for_requests(SET_TRACKING, 1, timeout=10)

    def pending_retry() -> bool:
        pending = stored(deployment, login, purchaseid).items[0].pending
        return pending is not None and pending.last_error is not None

    wait_until(pending_retry, timeout=5)  # the retry is on the submitter's timer, and on record
    submitter.kill()
    told_before = len(stack.slack.ephemerals(SELLER))

    sent = stack.simulator.wait_for_requests(SET_TRACKING, 2, timeout=15)

    assert [(request.params["itemid"], request.status) for request in sent] == [(itemid, 503), (itemid, 200)]
    assert stack.simulator.item(itemid).status is SimItemState.SHIPPED
    wait_until(lambda: stored(deployment, login, purchaseid).items[0].state is ItemState.SHIPPED, timeout=10)
    item = stored(deployment, login, purchaseid).items[0]
    assert item.pending is None
    assert item.shipment is not None
    assert (item.shipment.tracking_number, item.shipment.shipped_by) == (COLISSIMO_NUMBER, SELLER)
    stack.slack.wait_for(lambda: COLISSIMO_NUMBER in json.dumps(stack.card_for(purchaseid).blocks), timeout=10)
    # The person who asked hears how it ended from the replica that finished it (they had seen nothing since).
    stack.slack.wait_for(lambda: len(stack.slack.ephemerals(SELLER)) > told_before, timeout=10)
    assert purchaseid in json.dumps(stack.slack.ephemerals(SELLER)[told_before:], ensure_ascii=False)
    shipped = [entry for entry in deployment.store.list_audit(purchaseid=purchaseid) if entry.action == "ship"]
    assert [entry.outcome for entry in shipped] == ["ok"]
    # Once: a few more sweeps by the survivors send nothing more.
    done_at = datetime.now(UTC)
    wait_until(lambda: datetime.now(UTC) > done_at + timedelta(seconds=1), timeout=5)
    assert len(stack.simulator.requests_for(SET_TRACKING)) == 2


# --------------------------------------------------------------------------------------------- after sale


def test_buyer_messages_reach_the_thread_once_and_one_replica_reads_the_to_do_list_per_period(
    stack: LocalStack, deployment: Deployment, tmp_path: Path
) -> None:
    todo_seconds = 1.0
    login, token = ACCOUNTS[0]
    deployment.connect(login, token)
    purchaseid = stack.simulator.add_sale(login, new=False, items=[{"headline": "Lampe de bureau"}])
    itemid = stack.simulator.sale(purchaseid).items[0].itemid
    deployment.start(3, tmp_path, poll_seconds=POLL, env={"RAKUTEN_TODO_POLL_SECONDS": f"{todo_seconds:g}"})
    stack.slack.wait_for(lambda: all_carded(stack, {purchaseid}), timeout=20)

    stack.simulator.buyer_writes(itemid, "Bonjour, où est mon colis ?")
    stack.slack.wait_for(lambda: len(stack.thread(purchaseid)) == 1, timeout=15)
    stack.simulator.buyer_writes(itemid, "Merci de me répondre.")
    stack.slack.wait_for(lambda: len(stack.thread(purchaseid)) == 2, timeout=15)

    def todo_calls() -> list[datetime]:
        return [request.at for request in stack.simulator.requests_for(TODO) if request.login == login]

    assert len(stack.thread(purchaseid)) == 2  # each message once, whichever replica read it
    assert stack.simulator.unread_count(itemid) == 0
    # One replica of the three reads the to-do list each period, not each replica: over the span of a few runs, no
    # more runs than periods (a period is claimed in the database; each run reaches Rakuten a moment later).
    wait_until(lambda: len(todo_calls()) >= 5, timeout=15)
    calls = todo_calls()
    span = (calls[-1] - calls[0]).total_seconds()
    assert len(calls) - 1 <= span / (todo_seconds * PERIODIC_SLACK) + 1


def test_a_reply_survives_the_replica_that_took_it(stack: LocalStack, deployment: Deployment, tmp_path: Path) -> None:
    login, token = ACCOUNTS[0]
    deployment.connect(login, token)
    purchaseid = stack.simulator.add_sale(login, new=False, items=[{"headline": "Lampe de bureau"}])
    itemid = stack.simulator.sale(purchaseid).items[0].itemid
    stack.simulator.buyer_writes(itemid, "Bonjour, où est mon colis ?")
    # The minute's follow-up (which looks for abandoned replies) every half second here.
    deployment.start(
        2,
        tmp_path,
        poll_seconds=POLL,
        tuning={**REPLICA_TUNING, "follow_up_seconds": 0.5},
        env={"RAKUTEN_TODO_POLL_SECONDS": "1"},
    )
    stack.slack.wait_for(lambda: len(stack.thread(purchaseid)) == 1, timeout=20)
    opener, submitter = deployment.replicas
    stack.sender = opener.sender
    assert stack.click(purchaseid, ACTION_REPLY, login=login).status_code == 200
    stack.slack.wait_for(lambda: bool(stack.opened_views(VIEW_REPLY)), timeout=10)
    (view,) = stack.opened_views(VIEW_REPLY)
    stack.simulator.inject_fault(CONTACT_BUYER, Fault.HTTP_503)  # the first try meets an outage: a retry follows
    stack.sender = submitter.sender
    assert stack.submit_reply(view, text="Parti ce matin.").status_code == 200
    stack.simulator.wait_for_requests(CONTACT_BUYER, 1, timeout=10)

    def retry_on_record() -> bool:
        replies = stored(deployment, login, purchaseid).after_sale.replies
        return bool(replies) and replies[0].last_error is not None

    wait_until(retry_on_record, timeout=5)
    submitter.kill()

    sent = stack.simulator.wait_for_requests(CONTACT_BUYER, 2, timeout=15)
    assert [request.status for request in sent] == [503, 200]
    stack.slack.wait_for(lambda: len(stack.thread(purchaseid)) == 2, timeout=10)  # the reply, in the thread once
    assert [message.content for message in stack.simulator.seller_messages(itemid)] == ["Parti ce matin."]
    done_at = datetime.now(UTC)
    wait_until(lambda: datetime.now(UTC) > done_at + timedelta(seconds=1), timeout=5)
    assert len(stack.simulator.requests_for(CONTACT_BUYER)) == 2
    assert len(stack.thread(purchaseid)) == 2


# --------------------------------------------------------------------------------------------- the database


def test_a_replica_without_its_database_says_so_and_recovers_with_it(
    stack: LocalStack, deployment: Deployment, tmp_path: Path
) -> None:
    login, token = ACCOUNTS[0]
    deployment.connect(login, token)
    target = conninfo_to_dict(deployment.database_url)
    proxy = CuttableProxy((str(target.get("host") or "127.0.0.1"), int(target.get("port") or 5432)))
    try:
        through_proxy = make_conninfo(deployment.database_url, host="127.0.0.1", port=str(proxy.port))
        deployment.database_url = through_proxy
        deployment.start(1, tmp_path, poll_seconds=POLL)
        (replica,) = deployment.replicas
        assert replica.report(READY_PATH)["taking_poll_leases"] is True
        assert replica.report(HEALTH_PATH)["database"] == "reachable"

        proxy.cut()

        wait_until(lambda: replica.status(HEALTH_PATH) == 503 and replica.status(READY_PATH) == 503, timeout=10)
        health, ready = replica.report(HEALTH_PATH), replica.report(READY_PATH)
        assert health["database"] == "unreachable"
        assert health["problems"][0].startswith(f"this replica cannot reach PostgreSQL at 127.0.0.1:{proxy.port}/")
        assert health["accounts"] == []  # they are in the database
        assert ready["taking_poll_leases"] is False

        proxy.restore()

        wait_until(lambda: replica.status(HEALTH_PATH) == 200 and replica.status(READY_PATH) == 200, timeout=15)
        assert [account["login"] for account in replica.report(HEALTH_PATH)["accounts"]] == [login]
    finally:
        proxy.close()
