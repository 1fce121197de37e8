"""One exception hierarchy for everything that can go wrong talking to Rakuten.

Messages name the action and never contain the token. ``retryable`` tells the client (and the bot's
background jobs) whether trying again later can help.

    RakutenError
    ├── TransportError            network failure or timeout            (retryable)
    ├── ServerError               5xx, ServerError code, maintenance    (retryable)
    │   └── MalformedResponseError  non-XML, truncated or refused XML   (retryable)
    └── ApiError                  an ``errorresponse`` from Rakuten
        ├── AuthenticationError   InvalidUserConnection: bad login/token
        ├── QuotaExceededError    hourly quota spent: wait until ``retry_at``
        ├── PermissionDeniedError InvalidUserRights other than quota
        ├── ParameterError        ParameterError: an invalid or missing parameter
        └── BusinessError         anything else Rakuten refuses (item not accepted, already shipped…)
            └── UnexpectedStatusError  an action answered with a status that does not mean "done"
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class RakutenError(Exception):
    retryable: bool = False

    def __init__(self, message: str, *, action: str) -> None:
        super().__init__(message)
        self.action = action
        self.message = message

    def __str__(self) -> str:
        return f"{self.action}: {self.message}"


class TransportError(RakutenError):
    retryable = True


class ServerError(RakutenError):
    retryable = True

    def __init__(self, message: str, *, action: str, status_code: int | None = None) -> None:
        super().__init__(message, action=action)
        self.status_code = status_code


class MalformedResponseError(ServerError):
    """The body is not the XML Rakuten documents: HTML, truncated, or refused for safety (DTD, entities)."""


@dataclass(frozen=True, slots=True)
class ErrorDetails:
    type: str | None
    code: str | None
    message: str | None
    details: tuple[str, ...] = ()


class ApiError(RakutenError):
    def __init__(self, error: ErrorDetails, *, action: str, status_code: int | None = None) -> None:
        super().__init__(describe_error(error), action=action)
        self.error = error
        self.status_code = status_code

    @property
    def code(self) -> str | None:
        return self.error.code

    @property
    def details(self) -> tuple[str, ...]:
        return self.error.details


class AuthenticationError(ApiError):
    pass


class QuotaExceededError(ApiError):
    def __init__(
        self, error: ErrorDetails, *, action: str, retry_at: datetime, status_code: int | None = None
    ) -> None:
        super().__init__(error, action=action, status_code=status_code)
        self.retry_at = retry_at


class PermissionDeniedError(ApiError):
    pass


class ParameterError(ApiError):
    pass


class BusinessError(ApiError):
    pass


_STATUS_SHOWN_MAX = 200


class UnexpectedStatusError(BusinessError):
    """Rakuten answered the action with a well-formed document whose ``status`` is not one that means done
    (an unknown word, an empty status). Not retryable: whether anything happened is unknown, so the person who
    asked decides, with Rakuten's word in front of them."""

    def __init__(
        self, *, action: str, status: str | None, expected: tuple[str, ...], status_code: int | None = None
    ) -> None:
        wanted = " or ".join(f"“{word}”" for word in expected)
        if status:
            shown = status if len(status) <= _STATUS_SHOWN_MAX else f"{status[: _STATUS_SHOWN_MAX - 1]}…"
            message = f"answered “{shown}” instead of {wanted}"
        else:
            message = f"answered without a status instead of {wanted}"
        super().__init__(ErrorDetails(type=None, code=None, message=message), action=action, status_code=status_code)
        self.status = status or ""
        self.expected = expected


def describe_error(error: ErrorDetails) -> str:
    """One readable line for an ``errorresponse``: message (code): details."""
    head = error.message or error.code or "error"
    if error.code and error.message and error.code not in error.message:
        head = f"{error.message} ({error.code})"
    if error.details:
        return f"{head}: {'; '.join(error.details)}"
    return head
