"""The bot's one exception root, as ``rakuten.errors.RakutenError`` is the client's.

Every error the bot raises on purpose derives from ``BotError``: a configuration problem, a key that does not
decrypt, a store that cannot be written, a Slack write Slack refused. Each boundary (a poll, a background job, a
Slack listener) catches it and tells someone (the channel, or the person who clicked) in words they can act on;
anything else reaching a boundary is a bug, logged with its traceback and reported the same way.
"""

from __future__ import annotations


class BotError(Exception):
    """A failure the bot knows how to name."""


def describe(error: BaseException) -> str:
    """A short, secret-free name of an error for a person: the bot's own message, or just the type of a bug."""
    if isinstance(error, BotError):
        return str(error) or type(error).__name__
    return type(error).__name__
