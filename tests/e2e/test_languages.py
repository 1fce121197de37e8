"""The bot speaks French and English: cards and alerts in the channel's language, private answers and modals in
each person's own Slack language, the channel's language chosen in /rakuten settings."""

from __future__ import annotations

from typing import Any

from bot.constants import (
    ACTION_CHANNEL,
    ACTION_LANGUAGE,
    ACTION_MARK_SHIPPED,
    ACTION_SHOW_ADDRESS,
    BLOCK_CHANNEL,
    BLOCK_LANGUAGE,
    VIEW_SETTINGS,
    VIEW_SHIP,
)
from bot.ui.messages import help_summary
from devkit.local_stack import ADMIN, CHANNEL, LOGIN, OUTSIDER, SELLER, LocalStack
from devkit.rakuten_simulator import Fault
from devkit.slack_requests import conversations_select_state, static_select_state
from tests.e2e.conftest import StackFactory, only_in
from tests.i18n import EN, FR

# Each test sets its stacks' languages itself (a French shop, people with other Slack languages): no second run.
pytestmark = only_in("fr")


def new_order(stack: LocalStack) -> str:
    purchaseid = stack.simulator.add_sale(LOGIN, new=False, items=[{"headline": "Livre de poche"}])
    assert stack.poll().ok
    return purchaseid


def card_texts(stack: LocalStack, purchaseid: str) -> str:
    card = stack.card_for(purchaseid)
    return card.text + str(card.blocks)


def private_answers(stack: LocalStack, user: str) -> str:
    return str(stack.slack.ephemerals(user)) + str([r for r in stack.slack.responses if r.get("user") == user])


def test_a_french_shop_gets_its_cards_and_alerts_in_french(make_stack: StackFactory) -> None:
    stack = make_stack(locale="fr")
    purchaseid = new_order(stack)

    shown = card_texts(stack, purchaseid)
    assert FR.gettext("🛒 Order {purchaseid}", purchaseid=purchaseid) in shown
    assert "📦 À expédier" in shown
    assert "Marquer expédiée" in shown
    order = stack.bot.store.get_order(LOGIN, purchaseid)
    assert order is not None
    assert order.total is not None
    assert FR.money(order.total) in shown  # "12,50 €", not "€12.50"
    assert "Awaiting shipment" not in shown

    stack.simulator.inject_fault(None, Fault.HTTP_503, times=-1)
    for _ in range(stack.bot.settings.tuning.failure_alert_threshold):
        assert not stack.poll().ok
    alerts = [message.text for message in stack.slack.messages(CHANNEL) if "⚠️" in message.text]
    assert len(alerts) == 1
    assert "la relève a échoué" in alerts[0]


def test_each_person_is_answered_in_their_own_slack_language(make_stack: StackFactory) -> None:
    stack = make_stack(locale="fr")
    purchaseid = new_order(stack)
    stack.slack.set_locale(SELLER, "en-GB")

    stack.click(purchaseid, ACTION_SHOW_ADDRESS, user=SELLER)
    stack.click(purchaseid, ACTION_SHOW_ADDRESS, user=ADMIN)

    english = EN.gettext("Ship-to address for order {purchaseid}", purchaseid=purchaseid)
    french = FR.gettext("Ship-to address for order {purchaseid}", purchaseid=purchaseid)
    stack.slack.wait_for(lambda: english in private_answers(stack, SELLER) and french in private_answers(stack, ADMIN))
    assert french not in private_answers(stack, SELLER)

    stack.click(purchaseid, ACTION_MARK_SHIPPED, user=SELLER)
    stack.slack.wait_for(lambda: bool(stack.opened_views(VIEW_SHIP)))
    modal = stack.opened_views(VIEW_SHIP)[-1]
    assert modal["title"]["text"] == "Mark shipped"
    assert modal["submit"]["text"] == "Send to Rakuten"
    # The card itself stays in the channel's language.
    assert "Marquer expédiée" in card_texts(stack, purchaseid)


def test_the_channel_language_is_chosen_in_settings_and_the_cards_follow(make_stack: StackFactory) -> None:
    stack = make_stack(locale="fr")
    purchaseid = new_order(stack)
    assert "📦 À expédier" in card_texts(stack, purchaseid)

    assert stack.command("settings", user=ADMIN).text == ""
    stack.slack.wait_for(lambda: bool(stack.opened_views(VIEW_SETTINGS)))
    view = stack.opened_views(VIEW_SETTINGS)[-1]
    language = next(block for block in view["blocks"] if block.get("block_id") == BLOCK_LANGUAGE)
    assert language["label"]["text"] == "Langue des fiches et des alertes"
    assert language["element"]["initial_option"]["value"] == "fr"
    values: dict[str, Any] = {
        BLOCK_CHANNEL: {ACTION_CHANNEL: conversations_select_state(CHANNEL)},
        BLOCK_LANGUAGE: {ACTION_LANGUAGE: static_select_state("en", "English")},
    }

    assert stack.submit_view(view, values, user=ADMIN).text == ""

    stack.slack.wait_for(lambda: "📦 Awaiting shipment" in card_texts(stack, purchaseid))
    account = stack.bot.store.get_account(LOGIN)
    assert account is not None
    assert account.settings.language == "en"
    second = new_order(stack)
    assert EN.gettext("🛒 Order {purchaseid}", purchaseid=second) in card_texts(stack, second)


def test_french_slash_subcommands_are_understood(make_stack: StackFactory) -> None:
    stack = make_stack(locale="fr")

    stack.command("aide", user=SELLER)
    stack.command("statut", user=SELLER)
    stack.command("commandes", user=SELLER)

    help_text = help_summary(FR)
    stack.slack.wait_for(lambda: len(stack.slack.responses) >= 3)
    texts = [str(response.get("text")) for response in stack.slack.responses]
    assert help_text in texts
    assert any(text.startswith("État Rakuten") for text in texts)
    assert any(text.startswith("Rien à faire") for text in texts)
    assert not any("Commande inconnue" in text for text in texts)



def test_the_services_answers_and_refusals_are_said_in_each_person_s_language(make_stack: StackFactory) -> None:
    stack = make_stack(locale="fr")
    purchaseid = new_order(stack)
    stack.slack.set_locale(SELLER, "en-US")

    stack.command(f"expedier {purchaseid} Colissimo 6A12345678901", user=ADMIN)
    stack.command(f"ship {purchaseid} Colissimo 6A12345678901", user=OUTSIDER)
    stack.command("ship 999 Colissimo 6A12345678901", user=SELLER)

    stack.slack.wait_for(lambda: len(stack.slack.responses) >= 3)
    # ADMIN and OUTSIDER read French (the workspace default), SELLER English.
    assert sorted(str(response.get("text")) for response in stack.slack.responses) == sorted(
        [
            f"Envoi de Colissimo 6A12345678901 à Rakuten pour la commande {purchaseid} (1 article).",
            f"Seuls les membres de <#{CHANNEL}> peuvent agir sur ces commandes.",
            "I know no order 999. `/rakuten orders` lists the open ones.",
        ]
    )
