"""``rakuten-bot demo``: the main job end to end on this machine, with no account anywhere.

The bundled Rakuten simulator and a local Slack stand-in run on loopback; the real bot polls, posts cards
(shown here as the terminal sees them), then a seller clicks "Mark shipped" — a request signed as Slack
signs it — fills the modal, and the demo prints what Rakuten received and the updated card.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from bot.constants import ACTION_ACCEPT, ACTION_MARK_SHIPPED, ACTION_REPLY, VIEW_REPLY, VIEW_SHIP
from bot.domain.orders import OrderRecord, OrderState
from devkit.local_stack import LOGIN, SELLER, LocalStack, StackOptions
from devkit.terminal import render_blocks, render_view
from rakuten.actions import Action

RULE = "─" * 100


def run_demo(
    *, orders: int = 6, seed: int = 7, locale: str = "en", out: Callable[[str], None] = print
) -> int:
    """The demo, its cards and modals in ``locale`` (``fr`` or ``en``); the narration stays in English."""
    with (
        tempfile.TemporaryDirectory(prefix="rakuten-demo-") as tmp,
        LocalStack(Path(tmp) / "data", StackOptions(seed=seed, locale=locale)) as stack,
    ):
        return _demo(stack, orders=max(orders, 3), out=out)


def _demo(stack: LocalStack, *, orders: int, out: Callable[[str], None]) -> int:
    simulator = stack.simulator
    express = simulator.add_sale(
        LOGIN,
        shipping_type="Express",
        new=False,
        items=[{"headline": "Casque audio sans fil Bluetooth — édition noire"}, {"headline": "Câble USB-C 2 m"}],
    )
    to_accept = simulator.generate_sales(LOGIN, 1, new=True, express_ratio=0.0)
    simulator.generate_sales(LOGIN, orders - 2, new=False, express_ratio=0.0)

    out(RULE)
    out("rakuten-slack demo: Rakuten simulator at " + simulator.url + ", Slack stand-in at " + stack.slack.api_url)
    out(f"Seller account {LOGIN!r} has {orders} orders waiting: 1 to accept, {orders - 1} to ship (1 Express).")
    out(RULE)

    outcome = stack.poll()
    calls = len(simulator.requests)
    out(f"Poll: {outcome.new_orders} new orders, {outcome.cards_posted} cards posted, {calls} Rakuten calls.\n")
    for card in sorted(stack.cards(), key=lambda c: c.ts):
        out(render_blocks(card.blocks, text=card.text))
        out("")

    out(RULE)
    out(f"A seller (<@{SELLER}>) clicks “Mark shipped” on the Express order {express} (signed block_actions)…")
    response = stack.click(express, ACTION_MARK_SHIPPED)
    out(f"  app answered HTTP {response.status_code} (the ack) — the modal opens:")
    stack.wait_until(lambda: bool(stack.opened_views(VIEW_SHIP)))
    view = stack.opened_views(VIEW_SHIP)[-1]
    out(render_view(view))
    out("…fills in Colissimo / 6A12345678901 and submits (signed view_submission).")
    response = stack.submit_ship(view, carrier="Colissimo", tracking="6A12345678901")
    out(f"  app answered HTTP {response.status_code}")
    stack.wait_until(lambda: _shipped(stack, express), timeout=10)

    out(RULE)
    out("What Rakuten received (settrackingpackageinfos, token redacted):")
    for request in simulator.requests_for(Action.SET_TRACKING.value):
        params = {k: v for k, v in request.params.items() if k not in ("login", "pwd", "version", "action")}
        out(f"  {request.method} {request.action} -> HTTP {request.status}  {params}")
    out("\nThe card, updated in place:")
    card = stack.card_for(express)
    out(render_blocks(card.blocks, text=card.text))

    out(RULE)
    out(f"<@{SELLER}> clicks “Accept” on the new sale {to_accept[0]}…")
    stack.click(to_accept[0], ACTION_ACCEPT)
    stack.wait_until(lambda: _accepted(stack, to_accept[0]), timeout=10)
    out(f"Rakuten received {len(simulator.requests_for(Action.ACCEPT_SALE.value))} acceptsale call(s); the card now:")
    card = stack.card_for(to_accept[0])
    out(render_blocks(card.blocks, text=card.text))
    _after_sale(stack, express, out)
    out(RULE)
    out(
        "Demo finished: every order posted once, the Express order stood out, the shipment reached Rakuten, the "
        "buyer's message reached the card's thread and the reply reached the buyer."
    )
    return 0


def _after_sale(stack: LocalStack, purchaseid: str, out: Callable[[str], None]) -> None:
    """A buyer writes at Rakuten; one to-do poll later it is in the card's thread; a seller replies from Slack."""
    simulator = stack.simulator
    itemid = simulator.sale(purchaseid).items[0].itemid
    out(RULE)
    out(f"At Rakuten, the buyer of order {purchaseid} writes about item {itemid}…")
    simulator.buyer_writes(itemid, "Bonjour, le colis part-il aujourd'hui ? J'en ai besoin pour samedi. Merci !")
    report = stack.todo_poll()
    out(f"To-do poll: {report.todo_items} item listed, {report.read} read, {report.posted} posted in the thread:")
    for message in stack.thread(purchaseid):
        out(render_blocks(message.blocks, text=message.text))
    out(f"\n<@{SELLER}> clicks “Reply” on the card; the modal shows the conversation so far:")
    stack.click(purchaseid, ACTION_REPLY)
    stack.wait_until(lambda: bool(stack.opened_views(VIEW_REPLY)))
    view = stack.opened_views(VIEW_REPLY)[-1]
    out(render_view(view))
    text = "Bonjour, il part ce matin en Express : vous l'aurez demain. Bonne journée !"
    out(f"…writes “{text}” and sends it (signed view_submission).")
    stack.submit_reply(view, text=text)
    stack.wait_until(lambda: len(stack.thread(purchaseid)) >= 2, timeout=10)
    out("What Rakuten received (contactuseraboutitem, token redacted):")
    for request in simulator.requests_for(Action.CONTACT_USER_ABOUT_ITEM.value):
        params = {k: v for k, v in request.params.items() if k not in ("login", "pwd", "version", "action")}
        out(f"  {request.method} {request.action} -> HTTP {request.status}  {params}")
    out("The reply, in the card's thread with who sent it:")
    reply = stack.thread(purchaseid)[-1]
    out(render_blocks(reply.blocks, text=reply.text))


def _shipped(stack: LocalStack, purchaseid: str) -> bool:
    return _settled(stack, purchaseid, lambda order: not order.is_open)


def _accepted(stack: LocalStack, purchaseid: str) -> bool:
    return _settled(stack, purchaseid, lambda order: order.state is OrderState.TO_SHIP)


def _settled(stack: LocalStack, purchaseid: str, done: Callable[[OrderRecord], bool]) -> bool:
    """The order reached the state ``done`` wants, and its card in Slack shows it (the update has landed)."""
    account = stack.bot.store.get_account(LOGIN)
    order = stack.bot.store.get_order(LOGIN, purchaseid)
    if account is None or order is None or order.card is None or not done(order):
        return False
    return order.card_fingerprint == stack.bot.publisher.render(account, order).fingerprint
