from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.domain.deadlines import is_late
from bot.domain.orders import ItemState
from bot.ui import formatting as fmt
from bot.ui.timing import time_left_to_decide
from rakuten.models import Money
from tests.factories import item, order
from tests.i18n import EN, FR


def test_escape_makes_html_like_text_literal() -> None:
    assert fmt.escape("Tom & Jerry <DVD>") == "Tom &amp; Jerry &lt;DVD&gt;"
    assert fmt.escape("<@U123> <!channel>") == "&lt;@U123&gt; &lt;!channel&gt;"


def test_truncate_adds_an_ellipsis_only_when_cutting() -> None:
    assert fmt.truncate("short", 10) == "short"
    cut = fmt.truncate("a" * 20, 10)
    assert len(cut) == 10
    assert cut.endswith("…")


def test_clip_truncates_before_escaping_so_entities_stay_whole() -> None:
    clipped = fmt.clip("&" * 10, 4)
    assert clipped == "&amp;&amp;&amp;…"
    assert fmt.clip("  spaced \n\t out  ", 50) == "spaced out"
    assert fmt.clip(None, 5) == ""


def test_clip_keeps_a_translated_sentence_s_no_break_spaces_and_collapses_the_rest() -> None:
    assert fmt.clip("Rakuten\xa0: HTTP 503 ; 2:05\u202fPM", 50) == "Rakuten\xa0: HTTP 503 ; 2:05\u202fPM"
    assert fmt.clip("\xa0a\xa0\xa0b \xa0c\n\xa0", 50) == "a b c"
    assert fmt.plain("Commande\xa0: 12\n 34", 50) == "Commande\xa0: 12 34"


def test_clip_leaves_no_formatting_mark_as_typed() -> None:
    assert fmt.clip("*Jean* _Dupont_ ~x~ `y`", 50) == "＊Jean＊ ＿Dupont＿ ～x～ ｀y｀"
    assert fmt.literal("<b>*") == "&lt;b&gt;＊"


def test_code_keeps_the_value_as_typed_except_a_closing_backtick() -> None:
    assert fmt.code("SKU_12*3", 20) == "`SKU_12*3`"
    assert fmt.code("a`b <c>", 20) == "`a'b &lt;c&gt;`"
    assert fmt.code(None, 5) == "``"


def test_fit_never_cuts_inside_an_entity_or_a_link() -> None:
    text = "x" * 90 + "&amp;" + "y" * 20
    fitted = fmt.fit(text, 93)
    assert len(fitted) <= 93
    assert fitted.endswith("…")
    assert "&am" not in fitted
    link = "a" * 50 + "<https://example.com/very/long|label>"
    assert "<" not in fmt.fit(link, 60)


def test_link_accepts_only_plain_http_urls() -> None:
    assert fmt.link("https://t.example/?a=1&b=2", "6A1") == "<https://t.example/?a=1&amp;b=2|6A1>"
    assert fmt.link("javascript:alert(1)", "6A1") == "6A1"
    assert fmt.link("https://x.example/a|b", "6A1") == "6A1"
    assert fmt.link(None, "A<B") == "A&lt;B"


@pytest.mark.parametrize(
    ("typed", "target"),
    [
        ("U0123ABCD", "U0123ABCD"),
        ("w0123abcd", "W0123ABCD"),
        ("<@U0123ABCD>", "U0123ABCD"),
        ("<@U0123ABCD|camille>", "U0123ABCD"),
        ("S0456EFGH", "S0456EFGH"),
        ("<!subteam^S0456EFGH|@shippers>", "S0456EFGH"),
        ("@camille", None),
        ("C0ORDERS", None),
        ("", None),
    ],
)
def test_mention_targets_are_read_from_ids_and_pasted_mentions(typed: str, target: str | None) -> None:
    assert fmt.parse_mention_target(typed) == target


def test_mentions_use_slack_syntax_for_users_and_groups() -> None:
    assert fmt.mention("U0123ABCD") == "<@U0123ABCD>"
    assert fmt.mention("W0123ABCD") == "<@W0123ABCD>"
    assert fmt.mention("S0456EFGH") == "<!subteam^S0456EFGH>"
    assert fmt.mention("not an id") is None
    assert fmt.parse_group_id("U0123ABCD") is None


def test_dates_are_shown_in_paris_time_in_each_language() -> None:
    summer = datetime(2026, 7, 14, 12, 0, tzinfo=UTC)
    winter = datetime(2026, 11, 28, 13, 5, tzinfo=UTC)
    assert FR.datetime(summer) == "14 juil. 2026 à 14:00"
    assert FR.datetime(winter) == "28 nov. 2026 à 14:05"
    assert EN.datetime(winter) == "Nov 28, 2026 at 2:05\u202fPM"
    assert FR.when(winter, winter + timedelta(hours=1)) == "14:05"
    assert FR.when(winter, winter + timedelta(days=1)) == "28 nov. 14:05"
    assert EN.when(None, winter) == "never"
    assert FR.ago(winter, winter + timedelta(minutes=12)) == "14:05 (il y a 12 min)"


def test_durations_read_naturally() -> None:
    assert EN.duration(timedelta(seconds=42)) == "42 s"
    assert EN.duration(timedelta(minutes=12)) == "12 min"
    assert EN.duration(timedelta(hours=3, minutes=5)) == "3 h 05 min"
    assert EN.duration(timedelta(days=2, hours=4)) == "2 d 4 h"


def test_money_and_plurals() -> None:
    assert FR.money(Money(Decimal("1234.5"))) == "1\u202f234,50\xa0€"
    assert EN.money(Money(Decimal("12.5"))) == "€12.50"
    assert EN.money(None) == "—"
    assert EN.ngettext("{count} item", "{count} items", 1) == "1 item"
    assert EN.ngettext("{count} item", "{count} items", 3) == "3 items"
    assert FR.ngettext("{count} item", "{count} items", 0) == "0 article"


def test_naive_datetimes_are_taken_as_utc_rather_than_crashing() -> None:
    naive = datetime(2026, 11, 28, 13, 5)
    assert FR.datetime(naive) == "28 nov. 2026 à 14:05"
    record = order(item(state=ItemState.TO_ACCEPT), purchase_date=naive)
    now = datetime(2026, 11, 28, 15, 5, tzinfo=UTC)
    assert time_left_to_decide(EN, record, now) == "70 h left to decide"
    assert is_late(record, now) is False
