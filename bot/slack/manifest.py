"""What the Slack app manifest (``app.yaml``) must grant, in one place for ``check`` and the manifest test."""

from __future__ import annotations

from typing import Final

# Each scope is here because a feature cannot work without it:
REQUIRED_BOT_SCOPES: Final = frozenset(
    {
        "chat:write",  # post and update order cards, alerts and private answers
        "commands",  # /rakuten
        "channels:history",  # after a crash, find a card already posted (message metadata) instead of posting twice
        "groups:history",  # the same when the order channel is private
        "channels:read",  # who may act on orders: members of the order channel
        "groups:read",  # the same for a private order channel
        "usergroups:read",  # ... or of the user group configured per account
    }
)
BOT_EVENTS: Final = frozenset(
    {
        "app_home_opened",  # the Home tab
        "tokens_revoked",  # the bot token was revoked: stop polling and calling Slack
        "app_uninstalled",  # the same when the app is removed from the workspace
    }
)
