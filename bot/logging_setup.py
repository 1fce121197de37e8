"""Logging for the bot: readable lines, INFO by default, and no secret ever written.

Slack's SDK logs response bodies at DEBUG and Bolt logs request bodies when a signature fails; httpx logs
request URLs, which carry Rakuten's token (``pwd=``). The redacting filter sits on the handler, so it
covers every logger, whatever level someone turns on. A secret is found in every form a request carries
it: plain or backslash-escaped JSON, a Python dict's repr, and any of those URL-encoded (once or more), as
in an interactive payload's ``payload=`` field.
"""

from __future__ import annotations

import logging
import re
import sys
from urllib.parse import unquote_plus

from bot.constants import ACTION_TOKEN

_QUOTE = r"""\\*["']"""
_KEY_END = rf"""(?:{_QUOTE})?\s*[:=]\s*"""

_SECRET_PATTERNS = [
    (re.compile(r"xox[abposr]-[A-Za-z0-9-]+"), "xox*-***"),
    (re.compile(r"xapp-[A-Za-z0-9-]+"), "xapp-***"),
    (re.compile(r"(?i)(pwd=)[^&\s'\"]+"), r"\1***"),
    (re.compile(rf"""(?i)((?:token|pwd|password|secret){_KEY_END}(?:{_QUOTE})?)[^\s,&"'\\{{}}\[]+"""), r"\1***"),
    (re.compile(r"gAAAAA[A-Za-z0-9_=-]{20,}"), "<fernet>***"),
]
# The connect modal's token field, as view.state.values carries it: {"connect_token_input": {"type": ...,
# "value": "<the token>"}}. Whatever the token looks like, the value after that key goes.
_CONNECT_TOKEN = re.compile(
    rf"""({re.escape(ACTION_TOKEN)}{_KEY_END}\{{[^{{}}]*?value{_KEY_END})"""
    rf"""(?:({_QUOTE})[^"'\\]*|[^\s,}}"'\\]+)"""
)
_DECODE_ROUNDS = 3  # a body logged inside a URL-encoded field is encoded twice; three covers one more


def _scrub(text: str) -> str:
    text = _CONNECT_TOKEN.sub(lambda match: f"{match[1]}{match[2] or ''}***", text)
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _url_decoded(text: str) -> str:
    for _ in range(_DECODE_ROUNDS):
        if "%" not in text:
            break
        decoded = unquote_plus(text)
        if decoded == text:
            break
        text = decoded
    return text


def redact(text: str) -> str:
    """``text`` with every secret masked. Where a secret hides under URL-encoding, the decoded text comes back,
    masked: no encoded copy of it is left to leak."""
    cleaned = _scrub(text)
    decoded = _url_decoded(cleaned)
    if decoded != cleaned:
        scrubbed = _scrub(decoded)
        if scrubbed != decoded:
            return scrubbed
    return cleaned


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks print exception messages verbatim: render them now, redacted.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


BOLT_VERIFICATION_LOGGER = "slack_bolt.RequestVerification"
# The loggers slack_sdk's Web API and response_url clients log through (logging.getLogger(__name__)).
SLACK_SDK_CLIENT_LOGGERS = ("slack_sdk.web.base_client", "slack_sdk.webhook.client")


class _BodylessVerificationFilter(logging.Filter):
    """Bolt logs a refused request with its signature and whole body, at INFO: keep the fact, drop the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = "Bolt refused a request's signature (body not logged)", None
        return True


def quiet_bolt_request_verification() -> None:
    """Bolt sets its loggers' levels from the root's when an App is built, so a level cannot silence this one;
    a filter on the logger itself holds whatever the level and whichever handler (idempotent)."""
    bolt_logger = logging.getLogger(BOLT_VERIFICATION_LOGGER)
    if not any(isinstance(existing, _BodylessVerificationFilter) for existing in bolt_logger.filters):
        bolt_logger.addFilter(_BodylessVerificationFilter())


# The names LOG_LEVEL and --log-level accept, in any case; anything else is a configuration problem, not a traceback.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def parse_log_level(value: str) -> str | None:
    """The level name ``value`` means (``warning`` -> ``WARNING``), or None when it is not one of LOG_LEVELS."""
    name = value.strip().upper()
    return name if name in LOG_LEVELS else None


def log_level_problem(value: str, *, name: str = "LOG_LEVEL") -> str:
    return f"{name} must be one of {', '.join(LOG_LEVELS)}, not {value!r}."


def configure_logging(level: str = "INFO") -> None:
    """``level`` is one of LOG_LEVELS (any case); callers check it first with ``parse_log_level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(parse_log_level(level) or "INFO")
    # Third-party chatter stays at WARNING unless asked otherwise: it is where request bodies get logged.
    for noisy in ("slack_sdk", "slack_bolt", "httpx", "httpcore", "apscheduler", "waitress"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # slack_sdk's clients tell whether to build their DEBUG line (the whole request, the whole answer) from their
    # logger's own level, not the effective one: unset, it reads as DEBUG and every call formats both for nothing.
    for client_logger in SLACK_SDK_CLIENT_LOGGERS:
        logging.getLogger(client_logger).setLevel(logging.getLogger("slack_sdk").level)
    quiet_bolt_request_verification()
