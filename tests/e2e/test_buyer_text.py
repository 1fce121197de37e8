"""Buyer text is data: what a buyer types into Rakuten (name, street, city, relay name) and what Rakuten lists
(item titles) reaches Slack inert. mrkdwn cannot escape its formatting marks, so none of them may reach a mrkdwn
text as typed: not on the card, not in the private address answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.constants import ACTION_SHOW_ADDRESS
from devkit.local_stack import LOGIN, SELLER, LocalStack

HOSTILE_BUYER = {
    "firstname": "*Jean*",
    "lastname": "_Dupont_ <!channel>",
    "address1": "~12 rue~ `du Port`",
    "city": "*Lyon* <https://evil.example|cliquez>",
}
HOSTILE_TITLE = "`rm -rf` *PROMO* _soldes_ ~50%~ <@U0ADMIN>"
# Each of these would format, ping or link if it reached mrkdwn as typed.
FORBIDDEN = ["*Jean*", "_Dupont_", "<!channel>", "~12 rue~", "`du Port`", "*Lyon*", "<https://evil", "`rm -rf`",
             "*PROMO*", "_soldes_", "~50%~", "<@U0ADMIN>"]


def mrkdwn_texts(node: Any) -> Iterator[str]:
    """Every mrkdwn text object in a Block Kit payload (plain_text shows its text literally)."""
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            yield from mrkdwn_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from mrkdwn_texts(value)


def assert_inert(payload: dict[str, Any]) -> None:
    texts = [*mrkdwn_texts(payload.get("blocks") or []), payload.get("text") or ""]
    for text in texts:
        for forbidden in FORBIDDEN:
            assert forbidden not in text, f"{forbidden!r} reached mrkdwn in {text!r}"
    shown = json.dumps(texts, ensure_ascii=False)
    # Still shown, marks and all: as their full-width forms, and &, <, > escaped.
    assert "＊Jean＊" in shown
    assert "＿Dupont＿ &lt;!channel&gt;" in shown


@pytest.mark.parametrize("address", ["delivery", "relay"])
def test_buyer_text_cannot_format_ping_or_link_on_the_card_or_in_the_address(stack: LocalStack, address: str) -> None:
    purchaseid = stack.simulator.add_sale(
        LOGIN, new=False, address=address, buyer=HOSTILE_BUYER, items=[{"headline": HOSTILE_TITLE}]
    )
    stack.poll()

    card = stack.card_for(purchaseid)
    card_payload = {"text": card.text, "blocks": card.blocks}
    if address == "delivery":
        assert_inert(card_payload)
    else:  # the card shows the relay, not the buyer: the title alone is hostile there
        for text in [*mrkdwn_texts(card.blocks), card.text]:
            assert not [forbidden for forbidden in FORBIDDEN if forbidden in text]
    assert "｀rm -rf｀ ＊PROMO＊ ＿soldes＿ ～50%～ &lt;@U0ADMIN&gt;" in json.dumps(card.blocks, ensure_ascii=False)

    before = len(stack.slack.responses)
    assert stack.click(purchaseid, ACTION_SHOW_ADDRESS, user=SELLER).status_code == 200
    stack.slack.wait_for(lambda: len(stack.slack.responses) > before)
    (answer,) = stack.slack.responses[before:]
    assert answer["response_type"] == "ephemeral"
    assert_inert(answer)
