from __future__ import annotations

from bot.domain.accounts import AccountSettings
from bot.domain.orders import ItemState
from bot.ui.order_card import build_order_card
from bot.ui.refs import ShipModalMetadata
from bot.ui.ship_modal import build_ship_modal
from devkit.terminal import mrkdwn_to_text, render_blocks, render_view
from tests.factories import NOW, item, order, shipment
from tests.i18n import EN


def test_header_is_upper_case_over_a_rule() -> None:
    out = render_blocks([{"type": "header", "text": {"type": "plain_text", "text": "⚡ Express · Order 42"}}])
    assert out.splitlines() == ["⚡ EXPRESS · ORDER 42", "=" * len("⚡ EXPRESS · ORDER 42")]


def test_fields_become_label_value_lines_with_continuations_indented() -> None:
    block = {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": "*Ordered*\n28/11/2026 14:05"},
            {"type": "mrkdwn", "text": "*Ship to*\nCamille Martin\n69003 Lyon"},
        ],
    }
    assert render_blocks([block]).splitlines() == [
        "Ordered: 28/11/2026 14:05",
        "Ship to: Camille Martin",
        "         69003 Lyon",
    ]


def test_links_mentions_entities_and_markup() -> None:
    text = "*Shipped* via <https://t.example/?a=1&amp;b=2|6A123> by <@U0PACKER> for <!subteam^S1|@shippers> &lt;ok&gt;"
    assert mrkdwn_to_text(text) == "Shipped via 6A123 (https://t.example/?a=1&b=2) by <@U0PACKER> for @shippers <ok>"
    assert mrkdwn_to_text("_italic_ and ~gone~ in ship_modal_x") == "italic and gone in ship_modal_x"
    assert mrkdwn_to_text("<https://bare.example>") == "https://bare.example"


def test_context_is_prefixed_and_buttons_are_bracketed() -> None:
    blocks = [
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Accept"}, "style": "primary"},
                {"type": "button", "text": {"type": "plain_text", "text": "Refuse"}, "style": "danger"},
            ],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Rakuten account *boutique-lyon*"}]},
    ]
    assert render_blocks(blocks).splitlines() == ["[ Accept ] [ Refuse ]", "", "  · Rakuten account boutique-lyon"]


def test_plain_text_by_default_and_ansi_colours_on_request() -> None:
    blocks = [{"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Accept"}}]}]
    assert "\x1b[" not in render_blocks(blocks)
    assert "\x1b[" in render_blocks(blocks, color=True)


def test_long_lines_wrap_to_the_width() -> None:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": "word " * 60}}
    lines = render_blocks([block], width=40).splitlines()
    assert len(lines) > 1
    assert all(len(line) <= 40 for line in lines)


def test_text_is_shown_when_there_are_no_blocks() -> None:
    assert render_blocks([], text="Order <https://x.example|42> arrived") == "Order 42 (https://x.example) arrived"


def test_a_real_order_card_reads_well() -> None:
    record = order(
        item("1", ItemState.SHIPPED, shipment=shipment(), headline="Tom & Jerry <DVD>"),
        item("2"),
        is_express=True,
    )
    out = render_blocks(build_order_card(record, AccountSettings(), now=NOW, t=EN).as_kwargs()["blocks"], width=200)
    lines = out.splitlines()
    assert lines[0] == "⚡ EXPRESS · ORDER 123456789"
    assert "Tom & Jerry <DVD>" in out
    assert "Shipped via Colissimo · 6A12345678901 (https://www.laposte.fr/" in out
    assert "[ Mark shipped ] [ Show address ]" in out
    assert "  · Rakuten account boutique-lyon · updated Nov 28, 3:02\u202fPM" in out
    assert "&amp;" not in out


def test_modal_renders_title_inputs_options_and_submit() -> None:
    record = order(item("1"), item("2", headline="Atlas"))
    view = build_ship_modal(EN,
        record,
        ShipModalMetadata("boutique-lyon", "123456789"),
        preselected_carrier="Colissimo",
        carriers=["Colissimo", "Autre"],
    )
    out = render_view(view)
    lines = out.splitlines()
    assert lines[:2] == ["MARK SHIPPED", "============"]
    assert "Carrier: [ Colissimo ▾ ]" in out
    assert "Tracking URL (optional): [ https://… ]" in out
    assert "  (Required when the carrier is Autre)" in out
    assert "  [x] Atlas · SKU-2" in out
    assert lines[-1] == "[ Send to Rakuten ] [ Cancel ]"
