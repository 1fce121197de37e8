"""After sale end to end: the Rakuten simulator, the Slack stand-in and the bot over loopback, signed Slack requests,
a crash in the middle. Buyer messages and claims reach the card's thread once; a reply reaches Rakuten once; an
outsider can neither reply nor cancel. Each runs in English and in French (see ``conftest``): the words are compared
with the stack's translator."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from bot.constants import ACTION_CANCEL_ITEM, ACTION_REPLY, VIEW_CANCEL, VIEW_REPLY
from devkit.local_stack import CHANNEL, LOGIN, OUTSIDER, SELLER, LocalStack
from devkit.rakuten_simulator import Fault
from rakuten.models import PARIS
from tests.e2e.conftest import StackFactory
from tests.e2e.test_reminders import Clock, restart
from tests.e2e.wording import ANY, says, shown


def accepted_order(stack: LocalStack, *headlines: str) -> tuple[str, list[str]]:
    purchaseid = stack.simulator.add_sale(LOGIN, new=False, items=[{"headline": h} for h in headlines or ("Lampe",)])
    stack.wait_until(lambda: stack.poll().ok and _has_card(stack, purchaseid), timeout=10)
    return purchaseid, [item.itemid for item in stack.simulator.sale(purchaseid).items]


def _has_card(stack: LocalStack, purchaseid: str) -> bool:
    order = stack.bot.store.get_order(LOGIN, purchaseid)
    return order is not None and order.card is not None


def thread_texts(stack: LocalStack, purchaseid: str) -> list[str]:
    return [json.dumps({"text": m.text, "blocks": m.blocks}, ensure_ascii=False) for m in stack.thread(purchaseid)]


def thread_words(stack: LocalStack, purchaseid: str) -> list[str]:
    """The texts of each message in the card's thread, one per line."""
    return [shown({"text": m.text, "blocks": m.blocks}) for m in stack.thread(purchaseid)]


def card_state(stack: LocalStack, purchaseid: str) -> str:
    return shown(stack.card_for(purchaseid).blocks[1])


def claim_open(stack: LocalStack, count: int = 1) -> str:
    return stack.t.ngettext("⚠️ claim open", "⚠️ {count} claims open", count)


def members_only(stack: LocalStack) -> str:
    return stack.t.gettext("Only members of {channel} can act on these orders.", channel=f"<#{CHANNEL}>")


def open_modal(stack: LocalStack, purchaseid: str, action_id: str, callback_id: str, user: str = SELLER) -> dict:
    before = len(stack.opened_views(callback_id))
    assert stack.click(purchaseid, action_id, user=user).status_code == 200
    stack.wait_until(lambda: len(stack.opened_views(callback_id)) > before)
    return stack.opened_views(callback_id)[-1]


def test_a_buyer_message_is_in_the_thread_after_one_todo_poll_once_and_escaped(stack: LocalStack) -> None:
    purchaseid, (itemid,) = accepted_order(stack)
    stack.simulator.buyer_writes(itemid, "Bonjour *vite* <!channel> où est mon colis ?\n\nMerci")

    stack.todo_poll()
    stack.todo_poll()
    stack.follow_up()

    (message,) = stack.thread(purchaseid)
    posted = thread_texts(stack, purchaseid)[0]
    assert stack.t.gettext("💬 *Message from the buyer*") in thread_words(stack, purchaseid)[0]
    assert "＊vite＊ &lt;!channel&gt;" in posted  # buyer text is data: no bold, no @channel
    assert "<!channel>" not in posted
    assert stack.simulator.unread_count(itemid) == 0  # read at Rakuten, as getiteminfos does
    assert stack.t.ngettext("💬 message", "💬 {count} messages", 1) in card_state(stack, purchaseid)
    assert message.thread_ts == stack.card_for(purchaseid).ts


def test_a_long_message_is_shortened_with_show_all(stack: LocalStack) -> None:
    purchaseid, (itemid,) = accepted_order(stack)
    stack.simulator.buyer_writes(itemid, "mot " * 600)

    stack.todo_poll()

    (words,) = thread_words(stack, purchaseid)
    assert stack.t.gettext("Show all") in words
    assert len(stack.thread(purchaseid)[0].blocks[1]["text"]["text"]) <= 701


def test_a_message_lost_between_reading_and_storing_comes_back_after_a_crash(stack: LocalStack) -> None:
    purchaseid, (itemid,) = accepted_order(stack)
    stack.simulator.buyer_writes(itemid, "Le colis est arrivé abîmé.")
    # Rakuten reads the item (marking its message read) but the answer never arrives; then the bot is killed.
    stack.simulator.inject_fault("getiteminfos", Fault.APPLIED_THEN_DROPPED, times=2)
    stack.todo_poll()
    assert stack.simulator.unread_count(itemid) == 0
    assert stack.thread(purchaseid) == []
    restart(stack, orderly=False)

    # The to-do list no longer names the item (nothing unread): the stored intent makes the bot read it again.
    stack.todo_poll()
    stack.todo_poll()

    assert ["arrivé abîmé" in text for text in thread_texts(stack, purchaseid)] == [True]


def test_a_message_stored_but_not_posted_is_posted_once_after_a_crash(make_stack: StackFactory) -> None:
    # No grace: the claim the failed post left is settled from the thread at once (found nowhere: posted).
    stack = make_stack(follow_up_claim_grace=0.0)
    purchaseid, (itemid,) = accepted_order(stack)
    stack.simulator.buyer_writes(itemid, "Pouvez-vous livrer en relais ?")
    stack.slack.fail("chat.postMessage", "internal_error")  # the post fails: stored, not posted
    stack.todo_poll()
    order = stack.bot.store.get_order(LOGIN, purchaseid)
    assert order is not None
    assert [entry.posted for entry in order.after_sale.entries] == [False]
    restart(stack, orderly=False)

    stack.todo_poll()
    stack.todo_poll()

    assert len(stack.thread(purchaseid)) == 1


def test_a_reply_reaches_rakuten_once_on_a_double_submit_and_is_in_the_thread(stack: LocalStack) -> None:
    purchaseid, (itemid,) = accepted_order(stack)
    stack.simulator.buyer_writes(itemid, "Bonjour, où est mon colis ?")
    stack.todo_poll()
    view = open_modal(stack, purchaseid, ACTION_REPLY, VIEW_REPLY)
    assert "où est mon colis" in json.dumps(view, ensure_ascii=False)  # the conversation so far

    empty = stack.submit_reply(view, text="   ")
    assert empty.json()["response_action"] == "errors"
    too_long = stack.submit_reply(view, text="x" * 2001)
    assert "2000" in json.dumps(too_long.json())
    first = stack.submit_reply(view, text="Parti ce matin, suivi 6A123.")
    second = stack.submit_reply(view, text="Parti ce matin, suivi 6A123.")
    assert first.status_code == second.status_code == 200

    stack.wait_until(lambda: len(stack.thread(purchaseid)) == 2)
    stack.wait_until(lambda: "💬" not in card_state(stack, purchaseid))
    assert [m.content for m in stack.simulator.seller_messages(itemid)] == ["Parti ce matin, suivi 6A123."]
    assert f"<@{SELLER}>" in thread_texts(stack, purchaseid)[1]
    stack.todo_poll()  # Rakuten's history now holds the reply: not posted a second time
    assert len(stack.thread(purchaseid)) == 2
    assert len(stack.simulator.requests_for("contactuseraboutitem")) == 1


def test_a_reply_whose_answer_is_lost_is_not_sent_twice(make_stack: StackFactory) -> None:
    stack = make_stack(action_retry_delays=(0.05, 0.1))
    purchaseid, (itemid,) = accepted_order(stack)
    stack.simulator.buyer_writes(itemid, "Une question ?")
    stack.todo_poll()
    stack.simulator.inject_fault("contactuseraboutitem", Fault.APPLIED_THEN_DROPPED)
    view = open_modal(stack, purchaseid, ACTION_REPLY, VIEW_REPLY)

    stack.submit_reply(view, text="Oui, bien sûr.")

    stack.wait_until(lambda: len(stack.thread(purchaseid)) == 2)
    assert [m.content for m in stack.simulator.seller_messages(itemid)] == ["Oui, bien sûr."]
    assert len(stack.simulator.requests_for("contactuseraboutitem")) == 1


def test_rakuten_refusing_a_reply_to_customer_service_is_told(stack: LocalStack) -> None:
    purchaseid, (itemid,) = accepted_order(stack)
    stack.simulator.customer_service_writes(itemid, "Merci d'envoyer une preuve de dépôt.")
    stack.todo_poll()
    stack.simulator.inject_fault("contactusaboutitem", Fault.PARAMETER_ERROR)
    view = open_modal(stack, purchaseid, ACTION_REPLY, VIEW_REPLY)

    stack.submit_reply(view, text="Ci-joint.", to=f"service:{itemid}")

    refused = stack.t.gettext(
        "⚠️ Rakuten refused your reply on order {purchaseid}: {reason}", purchaseid=purchaseid, reason=ANY
    )
    stack.wait_until(lambda: says(shown(stack.slack.ephemerals(SELLER)), refused))
    assert stack.simulator.seller_mails(itemid) == []


def test_a_claim_opens_and_closes(stack: LocalStack) -> None:
    purchaseid, (itemid,) = accepted_order(stack)
    stack.simulator.open_claim(itemid, comment="Article cassé")
    stack.todo_poll()
    assert claim_open(stack) in card_state(stack, purchaseid)
    opened = stack.t.gettext("⚠️ *Claim opened* by the buyer")
    assert any(opened in text and "Article cassé" in text for text in thread_words(stack, purchaseid))

    stack.simulator.close_claim(itemid)
    stack.todo_poll()
    stack.todo_poll()

    closed = [text for text in thread_words(stack, purchaseid) if stack.t.gettext("✅ *Claim closed*") in text]
    assert len(closed) == 1
    assert not any(claim_open(stack, count) in card_state(stack, purchaseid) for count in (1, 2))


def test_an_order_older_than_the_bot_gets_its_card_before_its_message(stack: LocalStack) -> None:
    old = stack.simulator.add_sale(
        LOGIN, new=False, purchase_date=datetime.now(PARIS) - timedelta(days=60), items=[{"headline": "Ancien"}]
    )
    (itemid,) = [item.itemid for item in stack.simulator.sale(old).items]
    stack.simulator.ship_on_site(itemid, "Colissimo", "6A0000000001")
    stack.simulator.buyer_writes(itemid, "Toujours rien reçu.")

    stack.todo_poll()

    card = stack.card_for(old)
    (message,) = stack.thread(old)
    assert message.thread_ts == card.ts
    assert float(card.ts) < float(message.ts)


def test_an_outsider_can_neither_reply_nor_cancel(stack: LocalStack) -> None:
    purchaseid, (itemid,) = accepted_order(stack)
    stack.simulator.buyer_writes(itemid, "Bonjour ?")
    stack.todo_poll()

    stack.click(purchaseid, ACTION_REPLY, user=OUTSIDER)
    stack.click(purchaseid, ACTION_CANCEL_ITEM, user=OUTSIDER)
    stack.wait_until(lambda: len([r for r in stack.slack.responses if members_only(stack) in shown(r)]) == 2)
    assert stack.opened_views(VIEW_REPLY) == []
    assert stack.opened_views(VIEW_CANCEL) == []
    # A modal opened by a member and submitted by an outsider is refused too.
    view = open_modal(stack, purchaseid, ACTION_REPLY, VIEW_REPLY)
    stack.submit_reply(view, text="Je ne suis pas vendeur", user=OUTSIDER)
    stack.wait_until(lambda: members_only(stack) in shown(stack.slack.ephemerals(OUTSIDER)))
    assert stack.simulator.seller_messages(itemid) == []
    assert stack.simulator.requests_for("cancelitem") == []


def test_cancel_item_with_a_reason(stack: LocalStack) -> None:
    purchaseid, itemids = accepted_order(stack, "Lampe", "Ampoule")
    view = open_modal(stack, purchaseid, ACTION_CANCEL_ITEM, VIEW_CANCEL)

    assert stack.submit_cancel(view, reason="", itemids=[itemids[1]]).json()["response_action"] == "errors"
    stack.submit_cancel(view, reason="Rupture de stock", itemids=[itemids[1]])
    stack.submit_cancel(view, reason="Rupture de stock", itemids=[itemids[1]])

    stack.wait_until(lambda: stack.bot.store.get_order(LOGIN, purchaseid).items[1].state == "cancelled")
    assert [request.params["comment"] for request in stack.simulator.requests_for("cancelitem")] == ["Rupture de stock"]
    assert stack.simulator.item(itemids[0]).status == "ACCEPTED"


def test_an_unanswered_message_is_reminded_once_after_a_day(make_stack: StackFactory) -> None:
    clock = Clock(datetime(2026, 11, 16, 9, 0, tzinfo=PARIS))
    stack = make_stack(clock=clock, poll_seconds=3600, follow_up_seconds=3600)
    purchaseid, (itemid,) = accepted_order(stack)
    stack.simulator.buyer_writes(itemid, "Une question")
    stack.todo_poll()

    clock.advance(hours=23, minutes=59)
    stack.follow_up()
    clock.advance(minutes=2)
    stack.follow_up()
    stack.follow_up()

    waited = stack.t.gettext(
        "💬 A buyer message on order {purchaseid} has waited {waited} for an answer. Use Reply on its card (or on the "
        "message).",
        purchaseid=purchaseid,
        waited=ANY,
    )
    reminders = [m for m in stack.slack.messages(CHANNEL) if says(m.text, waited)]
    assert len(reminders) == 1
