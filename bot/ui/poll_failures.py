"""Why a poll failed, in words a seller (channel alert, status) and an operator (``GET /healthz``) understand."""

from __future__ import annotations

from bot.domain.accounts import FailureKind, PollFailure
from bot.ui.i18n import Translator


def failure_text(t: Translator, failure: PollFailure | None) -> str:
    detail = failure.detail if failure is not None else ""
    match failure.kind if failure is not None else FailureKind.BUG:
        case FailureKind.RAKUTEN:
            return t.gettext("Rakuten: {detail}", detail=detail)
        case FailureKind.SLACK:
            return t.gettext("Slack: {detail}", detail=detail)
        case FailureKind.TOKEN_UNREADABLE:
            return t.gettext(
                "the stored Rakuten token cannot be decrypted with the bot's key (secret.key or RAKUTEN_SECRET_KEY "
                "changed): an admin must connect the account again with /rakuten connect"
            )
        case FailureKind.DISK_FULL:
            return t.gettext(
                "the bot's data directory is full, so new orders cannot be saved ({detail}); free some space",
                detail=detail,
            )
        case FailureKind.DISK_READ_ONLY:
            return t.gettext(
                "the bot's data directory is read-only, so new orders cannot be saved ({detail})", detail=detail
            )
        case FailureKind.DISK_UNWRITABLE:
            return t.gettext("the bot cannot write to its data directory ({detail})", detail=detail)
        case FailureKind.STORE:
            return t.gettext("the bot's store failed: {detail}", detail=detail)
    return t.gettext("an unexpected error in the bot ({detail}); the details are in its log", detail=detail)
