"""The App Home tab: what needs doing now (to accept, to ship, Express, late) and how each account is polling.

Lists are link-free summaries (the cards in the channel are where the buttons live) and the whole view stays
within Slack's 100 blocks however many orders or accounts there are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.constants import ACTION_HOME_REFRESH, COMMAND
from bot.domain.accounts import AccountStatus
from bot.domain.after_sale import waiting_since
from bot.domain.deadlines import DEFAULT_RULES, DeadlineRules, aware, is_late, order_age_reference
from bot.domain.orders import SHIPPABLE_STATES, OrderRecord, OrderState
from bot.ui import formatting as fmt
from bot.ui.i18n import Translator
from bot.ui.limits import SECTION_TEXT_MAX, VIEW_MAX_BLOCKS
from bot.ui.order_card import EXPRESS_MARKER, badges
from bot.ui.summaries import account_status_lines, order_line

HOME_LIST_LIMIT = 10
BLOCK_HOME_HEADER = "home_header"
BLOCK_HOME_UPDATED = "home_updated"
BLOCK_HOME_ACTIONS = "home_actions"
BLOCK_HOME_NO_ACCOUNT = "home_no_account"
BLOCK_HOME_ACCOUNTS = "home_accounts"
BLOCK_HOME_ACCOUNTS_MORE = "home_accounts_more"
BLOCK_HOME_FOOTER = "home_footer"
BLOCK_HOME_TO_ANSWER = "home_to_answer"

_ACTIVE_STATES = frozenset({OrderState.TO_ACCEPT, *SHIPPABLE_STATES})


def build_home(
    t: Translator,
    accounts: Sequence[AccountStatus],
    orders: Sequence[OrderRecord],
    *,
    now: datetime,
    is_admin: bool,
    rules: DeadlineRules = DEFAULT_RULES,
    to_answer: Sequence[OrderRecord] = (),
) -> View:
    """The Home tab in the viewing user's language ``t``; ``rules`` say what counts as late."""
    updated = t.gettext("Updated {when} (Paris time)", when=t.short_datetime(now))
    blocks: list[Block] = [
        HeaderBlock(block_id=BLOCK_HOME_HEADER, text=t.gettext("Rakuten orders")),
        ContextBlock(block_id=BLOCK_HOME_UPDATED, elements=[MarkdownTextObject(text=updated)]),
        ActionsBlock(
            block_id=BLOCK_HOME_ACTIONS,
            elements=[ButtonElement(text=t.gettext("Refresh"), action_id=ACTION_HOME_REFRESH, value="refresh")],
        ),
    ]
    if not accounts:
        text = _no_account(t, is_admin)
        blocks.append(SectionBlock(block_id=BLOCK_HOME_NO_ACCOUNT, text=MarkdownTextObject(text=text)))
        return View(type="home", blocks=blocks)

    open_orders = sorted((order for order in orders if order.is_open), key=_oldest_first)
    lists: list[tuple[str, str, Callable[[OrderRecord], bool]]] = [
        ("home_to_accept", t.gettext("🟡 To accept"), lambda order: order.state is OrderState.TO_ACCEPT),
        ("home_to_ship", t.gettext("📦 To ship"), lambda order: order.state in SHIPPABLE_STATES),
        (
            "home_express",
            t.gettext("{marker} Express", marker=EXPRESS_MARKER),
            lambda order: order.is_express and order.state in _ACTIVE_STATES,
        ),
        ("home_late", t.gettext("⏰ Late"), lambda order: is_late(order, now, rules)),
    ]
    for block_id, title, wanted in lists:
        selected = [order for order in open_orders if wanted(order)]
        text = _order_list(t, title, selected, now)
        blocks.append(SectionBlock(block_id=block_id, text=MarkdownTextObject(text=text)))
    # Buyers and claims waiting, oldest wait first (the service's order), shipped orders included.
    answer_text = _order_list(t, t.gettext("💬 To answer"), list(to_answer), now, detail=_waiting_detail)
    blocks.append(SectionBlock(block_id=BLOCK_HOME_TO_ANSWER, text=MarkdownTextObject(text=answer_text)))

    blocks.append(DividerBlock())
    heading = t.gettext("*Accounts ({count})*", count=t.number(len(accounts)))
    blocks.append(SectionBlock(block_id=BLOCK_HOME_ACCOUNTS, text=MarkdownTextObject(text=heading)))
    footer = _footer(is_admin)
    # Keep room for the "and N more" line and the footer.
    room = VIEW_MAX_BLOCKS - len(blocks) - 2
    shown = list(accounts)[:room] if len(accounts) > room else list(accounts)
    for index, status in enumerate(shown):
        lines = account_status_lines(t, status, now)
        text = fmt.fit("\n".join(lines), SECTION_TEXT_MAX)
        blocks.append(SectionBlock(block_id=f"home_account_{index}", text=MarkdownTextObject(text=text)))
    if len(shown) < len(accounts):
        more = t.ngettext(
            "…and {count} more account: see `{command}`.",
            "…and {count} more accounts: see `{command}`.",
            len(accounts) - len(shown),
            command=f"{COMMAND} status",
        )
        blocks.append(SectionBlock(block_id=BLOCK_HOME_ACCOUNTS_MORE, text=MarkdownTextObject(text=more)))
    blocks.append(footer)
    return View(type="home", blocks=blocks)


def _no_account(t: Translator, is_admin: bool) -> str:
    if is_admin:
        return t.gettext(
            "No Rakuten account is connected yet. Run `{command}` in the channel where order cards should appear, "
            "with your seller login and the API token from My Account > Tokens on Rakuten.",
            command=f"{COMMAND} connect",
        )
    return t.gettext(
        "No Rakuten account is connected yet. Ask a Slack admin of this app to run `{command}`.",
        command=f"{COMMAND} connect",
    )


def _footer(is_admin: bool) -> ContextBlock:
    commands = [f"`{COMMAND} orders`", f"`{COMMAND} status`", f"`{COMMAND} help`"]
    if is_admin:
        commands += [f"`{COMMAND} settings`", f"`{COMMAND} connect`"]
    return ContextBlock(block_id=BLOCK_HOME_FOOTER, elements=[MarkdownTextObject(text=" · ".join(commands))])


def _oldest_first(order: OrderRecord) -> tuple[bool, float, str]:
    reference = order_age_reference(order)
    return (reference is None, aware(reference).timestamp() if reference else 0.0, order.purchaseid)


def _waiting_detail(t: Translator, order: OrderRecord, now: datetime) -> str:
    """``💬 2 messages · ⚠️ claim open · waiting 3 h 05 min``."""
    parts = badges(t, order.after_sale)
    since = waiting_since(order.after_sale)
    if since is not None:
        parts.append(t.gettext("waiting {duration}", duration=t.duration(aware(now) - since)))
    return " · ".join(parts)


def _order_list(
    t: Translator,
    title: str,
    orders: list[OrderRecord],
    now: datetime,
    *,
    detail: Callable[[Translator, OrderRecord, datetime], str] | None = None,
) -> str:
    lines = [f"*{title} ({t.number(len(orders))})*"]
    if not orders:
        lines.append(t.gettext("_Nothing here._"))
    # Whole lines only, with room kept for the "and N more" line: when long lines (escaped buyer text) would
    # overflow the section, the list ends early and counts the rest, rather than losing its end and its count.
    room = SECTION_TEXT_MAX - len(t.gettext("…and {count} more", count=t.number(len(orders)))) - 1
    size = len(lines[0])
    shown = 0
    for order in orders[:HOME_LIST_LIMIT]:
        line = order_line(t, order, now)
        if detail is not None:
            line = f"{line} · {detail(t, order, now)}"
        size += 1 + len(line)
        if size > room:
            break
        lines.append(line)
        shown += 1
    if len(orders) > shown:
        lines.append(t.gettext("…and {count} more", count=t.number(len(orders) - shown)))
    return fmt.fit("\n".join(lines), SECTION_TEXT_MAX)
