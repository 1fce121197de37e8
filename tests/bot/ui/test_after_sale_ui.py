"""The after-sale builders: thread entries (escaped, shortened, Show all, Reply), the Show all modal, the Reply and
Cancel modals, the card's badges; in English and French, within Slack's limits (devkit.block_kit_limits)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.after_sale import ClaimInfo, EntryKind, Party, ThreadEntry
from bot.services.replies import ReplyTarget
from bot.ui.after_sale import message_modal, thread_entry_message
from bot.ui.after_sale_modals import build_cancel_modal, build_reply_modal
from bot.ui.order_card import build_order_card
from bot.ui.refs import ShipModalMetadata
from devkit.block_kit_limits import message_problems, view_problems
from tests import factories
from tests.i18n import EN, FR

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def entry(content: str, **overrides: object) -> ThreadEntry:
    values: dict = {
        "key": "message:9001:abc",
        "kind": EntryKind.MESSAGE,
        "itemid": "9001",
        "party": Party.BUYER,
        "sent_at": NOW,
        "content": content,
        "sender_name": "*julie*",
    }
    values.update(overrides)
    return ThreadEntry(**values)


@pytest.mark.parametrize("t", [EN, FR])
def test_buyer_text_is_inert_and_a_long_one_offers_show_all(t) -> None:
    order = factories.order()
    long = thread_entry_message(t, order, entry("<!here> *gras* " + "mot " * 400)).as_kwargs()
    short = thread_entry_message(t, order, entry("Merci !")).as_kwargs()

    assert message_problems(long) == []
    assert "<!here>" not in str(long)
    assert "&lt;!here&gt; ＊gras＊" in long["blocks"][1]["text"]["text"]
    actions = [e["action_id"] for e in long["blocks"][-1]["elements"]]
    assert actions == ["after_sale_show_all", "order_reply"]
    assert [e["action_id"] for e in short["blocks"][-1]["elements"]] == ["order_reply"]


def test_show_all_holds_the_whole_text_within_a_modals_limits() -> None:
    order = factories.order()
    view = message_modal(EN, order, entry("& " * 20_000)).to_dict()
    assert view_problems(view, "modal") == []
    assert sum(b["text"]["text"].count("&amp;") for b in view["blocks"] if b["type"] == "section") >= 19_000


@pytest.mark.parametrize("t", [EN, FR])
def test_reply_and_cancel_modals_are_valid(t) -> None:
    order = factories.order(factories.item("9001"), factories.item("9002"))
    conversation = [entry("x" * 3000, key=f"message:9001:{i}") for i in range(40)]
    targets = [ReplyTarget("9001", Party.BUYER), ReplyTarget("9001", Party.CUSTOMER_SERVICE, "77")]
    meta = ShipModalMetadata(order.account, order.purchaseid, "C0ORDERS", "1.1")

    reply = build_reply_modal(t, order, meta, targets=targets, preselected=targets[1], conversation=conversation)
    cancel = build_cancel_modal(t, order, meta, items=order.items)

    assert view_problems(reply.to_dict(), "modal") == []
    assert view_problems(cancel.to_dict(), "modal") == []


def test_the_card_shows_its_badges_until_answered_and_closed() -> None:
    order = factories.order()
    order.after_sale.entries.append(entry("Question ?"))
    order.after_sale.claims["9001"] = ClaimInfo("DAMAGED", "NEW", opened_at=NOW)
    shown = build_order_card(order, factories.AccountSettings(), now=NOW, t=EN).as_kwargs()["blocks"][1]["text"]["text"]
    assert "💬 message · ⚠️ claim open" in shown

    order.after_sale.claims["9001"].closed_at = NOW
    order.after_sale.entries.append(entry("Réponse", key="reply:V1", party=Party.SELLER, to=Party.BUYER))
    quiet = build_order_card(order, factories.AccountSettings(), now=NOW, t=EN).as_kwargs()["blocks"][1]["text"]["text"]
    assert "💬" not in quiet
    assert "claim open" not in quiet
