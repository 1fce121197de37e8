"""Failures the simulator can be told to produce, and the queue that hands them out in order."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from enum import StrEnum

from devkit.rakuten_simulator.envelopes import CAPTURED, Envelope
from devkit.rakuten_simulator.render import error_document


class Fault(StrEnum):
    AUTH_ERROR = "auth_error"  # errorresponse InvalidUserConnection, HTTP 401
    QUOTA_EXCEEDED = "quota_exceeded"  # errorresponse InvalidUserRights "Quota exceeded.", HTTP 403
    SERVER_ERROR = "server_error"  # errorresponse ServerError, HTTP 500
    SERVER_ERROR_200 = "server_error_200"  # errorresponse ServerError, HTTP 200
    HTTP_503 = "http_503"  # plain-text 503 from the front proxy, with Retry-After
    TIMEOUT = "timeout"  # hold the request `delay` s (default 10) unanswered, then 504; not processed
    MALFORMED_XML = "malformed_xml"  # 200 with mismatched tags
    TRUNCATED_XML = "truncated_xml"  # the real answer (the action IS carried out), cut in half
    HTML_MAINTENANCE = "html_maintenance"  # maintenance HTML page with HTTP 200
    HTML_MAINTENANCE_503 = "html_maintenance_503"  # the same page with HTTP 503
    SLOW = "slow"  # the real answer (action carried out at once), sent after `delay` s (default 2)
    PARAMETER_ERROR = "parameter_error"  # errorresponse ParameterError, HTTP 400
    # The action IS carried out, then the connection is closed without a byte of answer: what a client sees when
    # Rakuten applies a call and the answer is lost on the way (proxy reset, network cut).
    APPLIED_THEN_DROPPED = "applied_then_dropped"
    # Well-formed answers that must not count as done. The action is NOT carried out. The two status faults
    # only change per-item actions (acceptsale, refusesale, settrackingpackageinfos); other actions answer as usual.
    STATUS_UNEXPECTED = "status_unexpected"  # response/status holds a word that means nothing done ("PENDING")
    STATUS_EMPTY = "status_empty"  # response/status is empty, written in the envelope's empty form
    OTHER_ACTION_DOCUMENT = "other_action_document"  # another action's answer: its root, its own success word
    NO_RESPONSE_ELEMENT = "no_response_element"  # the action's root and request echo, but no <response>


# Faults answered by SalesService itself, from the request: they depend on the action and the envelope.
ANSWER_FAULTS = frozenset(
    {Fault.STATUS_UNEXPECTED, Fault.STATUS_EMPTY, Fault.OTHER_ACTION_DOCUMENT, Fault.NO_RESPONSE_ELEMENT}
)
UNEXPECTED_STATUS = "PENDING"


DEFAULT_DELAYS: dict[Fault, float] = {Fault.TIMEOUT: 10.0, Fault.SLOW: 2.0}


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """What to do to one request: which fault, and for how long to hold it."""

    fault: Fault
    delay: float


@dataclass(slots=True)
class _Injection:
    action: str | None
    fault: Fault
    remaining: int  # -1: until cleared
    delay: float


class FaultQueue:
    """Injected faults, consumed first-in first-out by the requests they match."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._injections: list[_Injection] = []

    def inject(self, action: str | None, fault: Fault, *, times: int = 1, delay: float = 0.0) -> None:
        if times == 0 or times < -1:
            raise ValueError("times must be positive, or -1 for 'until cleared'")
        if delay < 0:
            raise ValueError("delay must not be negative")
        with self._lock:
            self._injections.append(_Injection(action, Fault(fault), times, delay))

    def clear(self) -> None:
        with self._lock:
            self._injections.clear()

    def take(self, action: str | None) -> FaultPlan | None:
        """The first injection matching ``action`` (or any action), using up one of its times."""
        with self._lock:
            for index, injection in enumerate(self._injections):
                if injection.action is not None and injection.action != action:
                    continue
                if injection.remaining > 0:
                    injection.remaining -= 1
                    if injection.remaining == 0:
                        del self._injections[index]
                delay = injection.delay or DEFAULT_DELAYS.get(injection.fault, 0.0)
                return FaultPlan(injection.fault, delay)
            return None


# Bodies of the faults that do not depend on the request --------------------------------------------------

_ERROR_FAULTS: dict[Fault, tuple[str, str, str, tuple[str, ...]]] = {
    Fault.AUTH_ERROR: (
        "Sender",
        "InvalidUserConnection",
        "Unknown user or password.",
        ("The login or the token is not valid.",),
    ),
    Fault.QUOTA_EXCEEDED: (
        "Sender",
        "InvalidUserRights",
        "Quota exceeded.",
        ("You have exceeded the maximum number of requests per hour. Please contact the seller support.",),
    ),
    Fault.SERVER_ERROR: (
        "ServerError",
        "ServerError",
        "Server not able to fullfill request.",
        ("Please try again later.",),
    ),
    Fault.PARAMETER_ERROR: (
        "Sender",
        "ParameterError",
        "Problem with parameters.",
        ("The parameter 'version' is invalid.",),
    ),
}
_ERROR_FAULTS[Fault.SERVER_ERROR_200] = _ERROR_FAULTS[Fault.SERVER_ERROR]


@functools.cache
def error_fault_body(fault: Fault, envelope: Envelope = CAPTURED) -> bytes:
    """The errorresponse an error fault answers with, written as ``envelope`` writes documents."""
    error_type, code, message, details = _ERROR_FAULTS[fault]
    return error_document(error_type, code, message, details, envelope=envelope)


AUTH_ERROR_BODY = error_fault_body(Fault.AUTH_ERROR)
QUOTA_EXCEEDED_BODY = error_fault_body(Fault.QUOTA_EXCEEDED)
SERVER_ERROR_BODY = error_fault_body(Fault.SERVER_ERROR)
PARAMETER_ERROR_BODY = error_fault_body(Fault.PARAMETER_ERROR)
MALFORMED_BODY = (
    b'<?xml version="1.0" encoding="ISO-8859-1"?>\n'
    b"<getnewsalesresult><response><lastversion>2017-08-07</lastversion>"
    b"<sales><sale><purchaseid>1</purchaseid></sales></sale></response>\n"
)
MAINTENANCE_PAGE = (
    '<!DOCTYPE html>\n<html lang="fr">\n<head><meta charset="ISO-8859-1">'
    "<title>Rakuten - Maintenance en cours</title></head>\n"
    "<body><h1>Site en maintenance</h1><p>Nous effectuons une opération de maintenance. "
    "Merci de réessayer dans quelques minutes.</p></body>\n</html>\n"
).encode("iso-8859-1")
SERVICE_UNAVAILABLE_TEXT = b"503 Service Temporarily Unavailable\n"
GATEWAY_TIMEOUT_TEXT = b"504 Gateway Time-out\n"
