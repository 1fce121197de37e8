"""Everything the bot shows in Slack: Block Kit surfaces (cards, modals, the Home tab, messages) and every
user-facing sentence, rendered from domain and result types in the reader's language (``bot.ui.i18n``).

Builders use ``slack_sdk.models`` so Slack's limits are checked by ``to_dict()``, except the Mark shipped modal,
built on every click right after its ack, which is a plain dict (``bot.ui.ship_modal`` says why); none does I/O,
and time comes in as an explicit ``now``.
"""
