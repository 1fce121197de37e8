"""Reminders and the daily summary as the channel reads them: French and English, within Slack's limits, buyer data
kept inert, and the card's "late" mark."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.domain.accounts import AccountSettings
from bot.domain.daily_summary import SUMMARY_LIST_LIMIT, DailyFigures
from bot.domain.deadlines import DeadlineRules
from bot.domain.orders import ItemState, OrderRecord
from bot.domain.reminders import DueReminder, ReminderKind
from bot.ui.follow_up import HERE, daily_summary_message, reminder_message
from bot.ui.i18n import Translator
from bot.ui.order_card import build_order_card
from devkit.block_kit_limits import block_problems
from rakuten.models import Money
from tests.factories import PARIS, address, item, order
from tests.i18n import EN, FR

PURCHASED = datetime(2026, 11, 16, 9, 30, tzinfo=PARIS)  # a Monday
DEADLINE = PURCHASED + timedelta(hours=72)
RULES = DeadlineRules()


def checked(message: Any) -> dict[str, Any]:
    payload = message.as_kwargs()
    assert block_problems(payload["blocks"], max_blocks=50, pointer="/blocks") == []
    assert len(payload["text"]) <= 3000
    return payload


def reminder(
    kind: ReminderKind,
    record: OrderRecord | None = None,
    *,
    t: Translator = EN,
    settings: AccountSettings | None = None,
    mention: bool = True,
    now: datetime | None = None,
    rules: DeadlineRules = RULES,
) -> dict[str, Any]:
    record = record or order(item(state=ItemState.TO_ACCEPT), purchaseid="480000001", purchase_date=PURCHASED)
    due = {
        ReminderKind.ACCEPT_SOON: DueReminder(kind, due_at=DEADLINE - timedelta(hours=12), deadline=DEADLINE),
        ReminderKind.ACCEPT_EXPIRED: DueReminder(kind, due_at=DEADLINE, deadline=DEADLINE),
        ReminderKind.SHIP_LATE: DueReminder(kind, due_at=DEADLINE, deadline=DEADLINE),
    }[kind]
    message = reminder_message(
        t,
        record,
        due,
        settings or AccountSettings(),
        mention=mention,
        now=now or DEADLINE - timedelta(hours=11, minutes=30),
        rules=rules,
    )
    return checked(message)


# --- reminders ------------------------------------------------------------------------------------------------


def test_a_reminder_says_what_is_due_by_when_in_english_and_french() -> None:
    english = reminder(ReminderKind.ACCEPT_SOON)
    french = reminder(ReminderKind.ACCEPT_SOON, t=FR)
    assert english["text"] == (
        "<!here> ⏳ Order 480000001 still awaits your decision: accept or refuse it by "
        "Nov 19, 9:30\u202fAM Paris time (11 h 30 min left)."
    )
    assert french["text"] == (
        "<!here> ⏳ La commande 480000001 attend toujours votre décision\u00a0: acceptez-la ou refusez-la avant le "
        "19 nov. 09:30 heure de Paris (encore 11 h 30)."
    )
    assert english["blocks"][0]["text"]["text"] == english["text"]


def test_the_expired_and_late_reminders_in_both_languages() -> None:
    assert (
        "acceptance deadline (Nov 19, 9:30\u202fAM Paris time) has passed"
        in reminder(ReminderKind.ACCEPT_EXPIRED)["text"]
    )
    assert (
        "délai d'acceptation (19 nov. 09:30 heure de Paris) est dépassé"
        in reminder(ReminderKind.ACCEPT_EXPIRED, t=FR)["text"]
    )
    shipping = order(item(), purchaseid="480000001", purchase_date=PURCHASED)
    assert "not shipped within 2 working days" in reminder(ReminderKind.SHIP_LATE, shipping)["text"]
    assert "pas expédiée en 2 jours ouvrés" in reminder(ReminderKind.SHIP_LATE, shipping, t=FR)["text"]
    one_day = DeadlineRules(ship_within_working_days=1)
    assert "within 1 working day (" in reminder(ReminderKind.SHIP_LATE, shipping, rules=one_day)["text"]
    assert "en 1 jour ouvré (" in reminder(ReminderKind.SHIP_LATE, shipping, t=FR, rules=one_day)["text"]


def test_the_shipper_group_is_pinged_else_the_channel_else_nobody() -> None:
    group = reminder(ReminderKind.ACCEPT_SOON, settings=AccountSettings(shipper_group="S0PACKERS"))
    assert group["text"].startswith("<!subteam^S0PACKERS> ⏳")
    assert reminder(ReminderKind.ACCEPT_SOON)["text"].startswith(f"{HERE} ⏳")
    quiet = reminder(ReminderKind.ACCEPT_SOON, mention=False)
    assert quiet["text"].startswith("⏳ Order")
    assert "<!" not in quiet["text"]


def test_express_orders_are_marked_and_an_odd_purchase_id_stays_inert() -> None:
    express = order(
        item(state=ItemState.TO_ACCEPT), purchaseid="<@U0BOSS> *x*", purchase_date=PURCHASED, is_express=True
    )
    text = reminder(ReminderKind.ACCEPT_SOON, express)["text"]
    assert "⚡ ⏳ Order &lt;@U0BOSS&gt; ＊x＊" in text


# --- the card's "late" ----------------------------------------------------------------------------------------


def test_the_card_says_late_from_its_deadline_until_shipped() -> None:
    accepted = datetime(2026, 11, 13, 15, 0, tzinfo=PARIS)  # a Friday: due Tuesday 15:00
    record = order(item(), purchase_date=accepted, accepted_at=accepted)
    due = datetime(2026, 11, 17, 15, 0, tzinfo=PARIS)

    def card(moment: datetime, t: Translator = EN) -> Any:
        built = build_order_card(record, AccountSettings(), now=moment, t=t)
        assert block_problems(built.as_kwargs()["blocks"], max_blocks=50, pointer="/blocks") == []
        return built

    def state(moment: datetime, t: Translator = EN) -> str:
        return card(moment, t).as_kwargs()["blocks"][1]["text"]["text"]

    assert "Late" not in state(due - timedelta(seconds=1))
    assert state(due) == "*📦 Awaiting shipment* — ⏰ *Late*: was due Nov 17, 3:00\u202fPM"
    assert state(due, FR) == "*📦 À expédier* — ⏰ *En retard*\u00a0: attendue le 17 nov. 15:00"
    # Turning late changes the card (one chat.update); staying late does not (no update per run).
    assert card(due).fingerprint != card(due - timedelta(seconds=1)).fingerprint
    assert card(due).fingerprint == card(due + timedelta(days=2)).fingerprint
    record.items[0].state = ItemState.SHIPPED
    assert "Late" not in state(due + timedelta(days=2))


# --- daily summary --------------------------------------------------------------------------------------------


def summary_order(purchaseid: str, **fields: Any) -> OrderRecord:
    return order(item(), purchaseid=purchaseid, purchase_date=PURCHASED, **fields)


def figures(**fields: Any) -> DailyFigures:
    return DailyFigures(day=date(2026, 12, 2), **fields)


def summary(
    day_figures: DailyFigures, t: Translator = EN, links: dict[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    payload = checked(daily_summary_message(t, "boutique", day_figures, links or {}, rules=RULES))
    sections = {block["block_id"]: block["text"]["text"] for block in payload["blocks"] if "text" in block}
    return payload, sections


def test_the_summary_in_english_and_french() -> None:
    new = (summary_order("1"), summary_order("2"))
    day = figures(
        new_orders=new,
        new_amount=Money(Decimal("59.80")),
        shipped=(summary_order("3"),),
        to_ship=new,
        late=(new[0],),
    )
    english, en = summary(day, links={"1": "https://standin.slack.com/archives/C0ORDERS/p1"})
    assert english["text"].startswith("📋 Daily summary · Dec 2, 2026 · 🛒 2 new orders yesterday, €59.80")
    assert en["summary_header"] == "📋 Daily summary · Dec 2, 2026"
    assert en["summary_figures"] == "🛒 2 new orders yesterday, €59.80\n✅ 1 order shipped yesterday"
    assert en["summary_to_ship"].splitlines()[0] == "*📦 To ship (2), oldest first*"
    assert en["summary_to_ship"].splitlines()[1].startswith("• <https://standin.slack.com/archives/C0ORDERS/p1|1> · ")
    assert "`2`" in en["summary_to_ship"]  # no link known: the id, as code
    assert en["summary_late"].splitlines()[0] == "*⏰ Late (1)*"
    assert "Rakuten account boutique · figures for Dec 1, 2026 (Paris time)" in str(english["blocks"])

    french, fr = summary(day, FR)
    assert fr["summary_header"] == "📋 Résumé du jour · 2 déc. 2026"
    assert fr["summary_figures"] == "🛒 2 nouvelles commandes hier, 59,80\u00a0€\n✅ 1 commande expédiée hier"
    assert fr["summary_to_ship"].splitlines()[0] == "*📦 À expédier (2), les plus anciennes d'abord*"
    assert fr["summary_late"].splitlines()[0] == "*⏰ En retard (1)*"
    assert "chiffres du 1 déc. 2026" in str(french["blocks"])


def test_an_empty_day_says_so_and_leaves_out_the_buyer_message_lines_at_zero() -> None:
    _, en = summary(figures())
    assert en["summary_figures"] == "🛒 0 new orders yesterday\n✅ 0 orders shipped yesterday"
    assert "_Nothing to ship._" in en["summary_to_ship"]
    assert "_Nothing late._" in en["summary_late"]
    assert "claim" not in en["summary_figures"]
    assert "message" not in en["summary_figures"]
    _, fr = summary(figures(), FR)
    assert fr["summary_figures"].startswith("🛒 0 nouvelle commande hier")


def test_claims_and_unanswered_messages_show_once_counted() -> None:
    _, en = summary(figures(open_claims=1, unanswered_messages=3))
    assert "💬 3 buyer messages unanswered" in en["summary_figures"]
    assert "⚠️ 1 claim open" in en["summary_figures"]
    _, fr = summary(figures(open_claims=2, unanswered_messages=1), FR)
    assert "💬 1 message d'acheteur sans réponse" in fr["summary_figures"]
    assert "⚠️ 2 réclamations ouvertes" in fr["summary_figures"]


def test_long_lists_are_cut_with_and_n_more_and_stay_within_slack_limits() -> None:
    many = tuple(
        summary_order(
            f"48{n:07d}",
            is_express=n % 2 == 0,
            ship_to=address(city="Saint-Rémy-de-Provence-sur-Durance-la-Longue-Ville " * 3),
        )
        for n in range(250)
    )
    links = {o.purchaseid: f"https://standin.slack.com/archives/C0ORDERS/p{n:016d}" for n, o in enumerate(many)}
    _, en = summary(figures(to_ship=many, late=many), links=links)
    lines = en["summary_to_ship"].splitlines()
    assert lines[0] == "*📦 To ship (250), oldest first*"
    assert len(lines) == 1 + SUMMARY_LIST_LIMIT + 1
    assert lines[-1] == "…and 240 more"
    assert len(en["summary_late"]) <= 3000
