"""Logging for the bot: readable lines, INFO by default, and no secret ever written.

Slack's SDK logs response bodies at DEBUG and Bolt logs request bodies when a signature fails; httpx logs
request URLs, which carry Rakuten's token (``pwd=``). The redacting filter sits on the handler, so it
covers every logger, whatever level someone turns on.
"""

from __future__ import annotations

import logging
import re
import sys

_SECRET_PATTERNS = [
    (re.compile(r"xox[abposr]-[A-Za-z0-9-]+"), "xox*-***"),
    (re.compile(r"xapp-[A-Za-z0-9-]+"), "xapp-***"),
    (re.compile(r"(?i)(pwd=)[^&\s'\"]+"), r"\1***"),
    (re.compile(r"(?i)(\"?(?:token|pwd|password|secret)\"?\s*[:=]\s*\"?)[^\s,&\"'}]+"), r"\1***"),
    (re.compile(r"gAAAAA[A-Za-z0-9_=-]{20,}"), "<fernet>***"),
]


def redact(text: str) -> str:
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


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


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Third-party chatter stays at WARNING unless asked otherwise: it is where request bodies get logged.
    for noisy in ("slack_sdk", "slack_bolt", "httpx", "httpcore", "apscheduler", "waitress"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
