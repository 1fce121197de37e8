"""The after-sale rules: merging item infos (new, known, claim events, a reply found in Rakuten's history), what is
unanswered, which items the to-do poll reads, and the message reminder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.after_sale import (
    AfterSale,
    EntryKind,
    FetchReason,
    ItemFetch,
    OutgoingReply,
    Party,
    ingest,
    items_to_read,
)
from bot.domain.deadlines import DEFAULT_RULES
from bot.domain.orders import ItemState
from bot.domain.reminders import ReminderKind, reminders_due_now
from rakuten.after_sale_models import ItemClaim, ItemInfos, ItemMail, ItemMessage
from tests import factories

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
SELLER, BUYER = "boutique-lyon", "julie_b"


def infos(*, messages: tuple = (), mails: tuple = (), claim: ItemClaim | None = None) -> ItemInfos:
    return ItemInfos(itemid="9001", messages=messages, mails=mails, claim=claim)


def message(content: str, *, sender: str = BUYER, minutes: int = 0, position: int = 1) -> ItemMessage:
    recipient = SELLER if sender == BUYER else BUYER
    return ItemMessage(NOW + timedelta(minutes=minutes), sender, recipient, content, "UNREAD", position)


def merge(after_sale: AfterSale, answer: ItemInfos, causes: tuple[str, ...] | None = None):
    return ingest(after_sale, answer, seller_login=SELLER, buyer_login=BUYER, now=NOW, todo_causes=causes)


def test_each_message_is_new_once_and_mails_go_to_customer_service() -> None:
    after_sale = AfterSale()
    mail = ItemMail("77", NOW, "Rakuten", SELLER, "Réclamation", "Merci de répondre", "UNREAD", 2)
    first = merge(after_sale, infos(messages=(message("Où est mon colis ?"),), mails=(mail,)))
    again = merge(after_sale, infos(messages=(message("Où est mon colis ?"),), mails=(mail,)))

    assert [(e.kind, e.party) for e in first.entries] == [
        (EntryKind.MAIL, Party.CUSTOMER_SERVICE),
        (EntryKind.MESSAGE, Party.BUYER),
    ]  # same minute: the answer lists newest first, so the later position is the older one
    assert again.entries == ()
    assert after_sale.fetches["9001"].fetched_at == NOW


def test_a_buyer_message_is_unanswered_until_the_seller_writes_after_it() -> None:
    after_sale = AfterSale()
    merge(after_sale, infos(messages=(message("Question ?"),)))
    assert [e.content for e in after_sale.unanswered()] == ["Question ?"]
    assert after_sale.needs_attention

    merge(after_sale, infos(messages=(message("Question ?"), message("Réponse", sender=SELLER, minutes=5))))

    assert after_sale.unanswered() == []
    assert after_sale.entries[-1].party is Party.SELLER


def test_a_reply_whose_answer_was_lost_is_confirmed_by_the_history() -> None:
    after_sale = AfterSale()
    after_sale.replies.append(OutgoingReply("V1", "9001", Party.BUYER, "Parti  ce matin", "U1", NOW, attempts=1))

    result = merge(after_sale, infos(messages=(message("Parti ce matin", sender=SELLER),)))

    assert result.confirmed_replies == ("V1",)
    assert not after_sale.replies[0].pending
    assert [(e.key, e.sent_by) for e in result.entries] == [("reply:V1", "U1")]


def test_a_claim_opens_changes_and_closes_once_each() -> None:
    after_sale = AfterSale()
    claim = ItemClaim(NOW, "DAMAGED", "NEW", True, "cassé")
    opened = merge(after_sale, infos(claim=claim), ("CLAIM",))
    merge(after_sale, infos(claim=claim), ("CLAIM",))
    changed = merge(after_sale, infos(claim=ItemClaim(NOW, "DAMAGED", "ESCALATED", True, "cassé")), ("CLAIM",))
    closed = merge(after_sale, infos(claim=ItemClaim(NOW, "DAMAGED", "ESCALATED", True, "cassé")), ())

    assert [e.kind for e in (*opened.entries, *changed.entries, *closed.entries)] == [
        EntryKind.CLAIM_OPENED,
        EntryKind.CLAIM_CHANGED,
        EntryKind.CLAIM_CLOSED,
    ]
    assert after_sale.open_claims() == {}


def test_the_todo_poll_reads_unread_and_unfinished_first_and_never_loops_on_a_claim_cause() -> None:
    waiting = AfterSale(fetches={"2": ItemFetch(requested=1, answered=0)})
    seen = AfterSale(fetches={"3": ItemFetch(fetched_at=NOW, causes=("CLAIM",), requested=1, answered=1)})
    todo = {"1": ("UNREAD_MESSAGE_FROM_BUYER",), "3": ("CLAIM",), "4": ("CLAIM",)}

    wanted = items_to_read(todo, {"2": waiting, "3": seen}, now=NOW, recheck_after=timedelta(hours=1), limit=10)

    assert [(w.itemid, w.reason) for w in wanted] == [
        ("1", FetchReason.UNREAD),
        ("2", FetchReason.UNFINISHED),
        ("4", FetchReason.CLAIM),
    ]
    assert len(items_to_read(todo, {}, now=NOW, recheck_after=timedelta(hours=1), limit=1)) == 1


def test_an_unanswered_message_is_reminded_after_the_delay_even_on_a_shipped_order() -> None:
    order = factories.order(factories.item("9001", ItemState.SHIPPED))
    merge(order.after_sale, infos(messages=(message("Toujours rien"),)))
    order.after_sale.entries[0].posted_ts = "1.1"

    early = reminders_due_now(order, NOW + timedelta(hours=23), DEFAULT_RULES)
    due = reminders_due_now(order, NOW + timedelta(hours=24), DEFAULT_RULES)

    assert early == []
    assert [r.kind for r in due] == [ReminderKind.MESSAGE_UNANSWERED]
