"""A synchronous client for Rakuten France's ``sales_ws`` over httpx, with bounded retries.

Every call goes: HTTP GET -> ``xmlsafe.parse_xml`` -> ``parsing.raise_for_error`` -> a ``parsing`` function.
The body is always read before the HTTP status, because Rakuten sends ``errorresponse`` documents with
any status, 200 included (rakuten-api.md §3).

The API token travels as the ``pwd`` query parameter, which is exactly where httpx looks when it logs a
request or describes a failure. So the token is added by a small transport wrapper at the last moment:
the request httpx logs and attaches to its exceptions never carries it, and network failures are
rewrapped into TransportError with a message written here.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import metadata
from types import TracebackType
from typing import TypeVar

import httpx
from lxml import etree
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from rakuten.actions import SALES_SERVICE, VERSIONS, Action
from rakuten.after_sale import ItemInfos, parse_item_infos
from rakuten.carriers import validate_tracking
from rakuten.errors import ApiError, MalformedResponseError, RakutenError, ServerError, TransportError
from rakuten.models import (
    ActionResult,
    BillingInformation,
    Sale,
    SalesPage,
    ShippingInformation,
    TodoList,
    as_query_date,
)
from rakuten.parsing import (
    parse_action_status,
    parse_billing_information,
    parse_sales_page,
    parse_shipping_information,
    parse_todo_list,
    raise_for_error,
    sales_page_token,
)
from rakuten.xmlsafe import parse_xml

__all__ = ["DEFAULT_BASE_URL", "RakutenClient", "RetryPolicy"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_BASE_URL = "https://ws.fr.shopping.rakuten.com/"
DEFAULT_MAX_PAGES = 1000
_REDACTED = "***"
_SCRUBBED_TOKEN_MIN_LENGTH = 8


def _package_version() -> str:
    try:
        return metadata.version("rakuten-slack")
    except metadata.PackageNotFoundError:
        return "0.1.0"


USER_AGENT = f"rakuten-slack/{_package_version()} (Slack order desk; python-httpx/{httpx.__version__})"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry errors that may go away (network, 5xx, malformed answers)."""

    attempts: int = 4  # total tries, the first one included
    initial_wait: float = 0.5  # seconds; the ceiling doubles per retry, the wait is drawn below it (full jitter)
    max_wait: float = 8.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        if self.initial_wait < 0 or self.max_wait < 0:
            raise ValueError("RetryPolicy waits cannot be negative")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _CredentialTransport(httpx.BaseTransport):
    """Adds ``pwd=<token>`` to the query only on the copy of the request that goes on the wire."""

    def __init__(self, inner: httpx.BaseTransport, token: str) -> None:
        self._inner = inner
        self._token = token

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        signed = httpx.Request(
            request.method,
            request.url.copy_add_param("pwd", self._token),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return self._inner.handle_request(signed)

    def close(self) -> None:
        self._inner.close()


def _default_transport(base_url: str) -> httpx.BaseTransport:
    # httpx reads HTTP(S)_PROXY / NO_PROXY only when it builds its own transport; ours wraps one, so do it here.
    url = httpx.URL(base_url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(url.host):
        return httpx.HTTPTransport(proxy=proxy)
    return httpx.HTTPTransport()


class RakutenClient:
    """One seller account on Rakuten France's sales WebServices. Thread-safe; close it (or use ``with``)."""

    def __init__(
        self,
        login: str,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),  # frozen, so one shared default is safe
        channel: str | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] = _utc_now,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> None:
        if not login or not login.strip():
            raise ValueError("a Rakuten login is required")
        if not token or not token.strip():
            raise ValueError("a Rakuten API token is required")
        self._login = login.strip()
        self._token = token.strip()
        self.base_url = base_url if base_url.endswith("/") else f"{base_url}/"
        self._timeout = timeout
        self._retry = retry
        self._channel = channel
        self._clock = clock
        self._max_pages = max_pages
        self._http = httpx.Client(
            transport=_CredentialTransport(transport or _default_transport(self.base_url), self._token),
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": USER_AGENT, "Accept": "text/xml, application/xml"},
            follow_redirects=False,
        )

    @property
    def login(self) -> str:
        return self._login

    def __repr__(self) -> str:
        return f"RakutenClient(login={self._login!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RakutenClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ sales

    def get_new_sales(self) -> list[Sale]:
        """Sales waiting for the seller to accept or refuse them."""
        page = self._call(Action.GET_NEW_SALES, {}, _read_sales_page(Action.GET_NEW_SALES))
        return list(page.sales)

    def iter_current_sales(self, since: date) -> Iterator[SalesPage]:
        """Pages of accepted / ongoing sales purchased on or after ``since``, following ``nexttoken``.

        While one page's sales are built, the next page is already being fetched and parsed on a helper
        thread (the network wait and libxml2's parsing both leave the GIL free), which nearly hides the
        transfer and the XML parsing of every page but the first.
        """
        action = Action.GET_CURRENT_SALES
        params = {"purchasedate": as_query_date(since)}
        seen_tokens: set[str] = set()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rakuten-next-page") as prefetch:
            upcoming = prefetch.submit(self._call, action, params, _read_page_tree(action))
            for page_number in range(1, self._max_pages + 1):
                root, token = upcoming.result()
                has_next = self._follows(token, seen_tokens, page_number)
                if has_next and page_number < self._max_pages:
                    params = {**params, "nexttoken": token}  # type: ignore[dict-item]
                    upcoming = prefetch.submit(self._call, action, params, _read_page_tree(action))
                yield parse_sales_page(root, action=action.value)
                if not has_next:
                    return
        logger.warning("getcurrentsales still had pages after %d; stopped paging", self._max_pages)

    @staticmethod
    def _follows(token: str | None, seen_tokens: set[str], page_number: int) -> bool:
        if not token:
            return False
        if token in seen_tokens:
            # A cursor that comes back would page forever; what was read so far is still good.
            logger.warning("getcurrentsales repeated a page token after %d pages; stopped paging", page_number)
            return False
        seen_tokens.add(token)
        return True

    def get_current_sales(self, since: date) -> list[Sale]:
        """Every current sale since ``since``, each purchase once even if paging shifted under us."""
        sales: dict[str, Sale] = {}
        for page in self.iter_current_sales(since):
            for sale in page.sales:
                sales.setdefault(sale.purchaseid, sale)
        return list(sales.values())

    # Accept, refuse and tracking are not idempotent at Rakuten, yet they are retried on transport and
    # server errors like every call: the bot's store records each send, so a retry that lands after a
    # lost success shows up as a business error on an item already handled, never as a double action.

    def accept_sale(self, itemid: str, *, shipping_from_country: str | None = "FR") -> ActionResult:
        params = {"itemid": _required(itemid, "itemid")}
        if shipping_from_country:
            params["shippingfromcountry"] = shipping_from_country.strip().upper()
        return self._call(Action.ACCEPT_SALE, params, _read_action_status(Action.ACCEPT_SALE, params["itemid"]))

    def refuse_sale(self, itemid: str) -> ActionResult:
        params = {"itemid": _required(itemid, "itemid")}
        return self._call(Action.REFUSE_SALE, params, _read_action_status(Action.REFUSE_SALE, params["itemid"]))

    def set_tracking(
        self, itemid: str, *, carrier: str, tracking_number: str, tracking_url: str | None = None
    ) -> ActionResult:
        """Send carrier and tracking for one item; InvalidTrackingError (before any request) on bad input."""
        tracking = validate_tracking(carrier, tracking_number, tracking_url)
        params = {
            "itemid": _required(itemid, "itemid"),
            "transporter_name": tracking.carrier,
            "tracking_number": tracking.number,
        }
        if tracking.url:
            params["tracking_url"] = tracking.url
        return self._call(Action.SET_TRACKING, params, _read_action_status(Action.SET_TRACKING, params["itemid"]))

    # ------------------------------------------------------------------------------------ after sale

    def get_item_todo_list(self) -> TodoList:
        return self._call(Action.GET_ITEM_TODO_LIST, {}, parse_todo_list)

    def check_credentials(self) -> str | None:
        """The seller id when login and token work; AuthenticationError when they do not."""
        return self.get_item_todo_list().seller_id

    def get_billing_information(self, purchaseid: str) -> BillingInformation:
        purchaseid = _required(purchaseid, "purchaseid")
        read = functools.partial(parse_billing_information, purchaseid=purchaseid)
        return self._call(Action.GET_BILLING_INFORMATION, {"purchaseid": purchaseid}, read)

    def get_shipping_information(self, purchaseid: str) -> ShippingInformation:
        purchaseid = _required(purchaseid, "purchaseid")
        read = functools.partial(parse_shipping_information, purchaseid=purchaseid)
        return self._call(Action.GET_SHIPPING_INFORMATION, {"purchaseid": purchaseid}, read)

    # Reading an item's infos marks its messages read at Rakuten: store what it returns before anything else.
    def get_item_infos(self, itemid: str) -> ItemInfos:
        itemid = _required(itemid, "itemid")
        read = functools.partial(parse_item_infos, itemid=itemid)
        return self._call(Action.GET_ITEM_INFOS, {"itemid": itemid}, read)

    # Writing to the buyer, to customer service, and cancelling are not idempotent either: callers that must not
    # send twice give this client a single-try policy and settle a lost answer themselves.
    def contact_user_about_item(self, itemid: str, content: str) -> ActionResult:
        """A message to the item's buyer."""
        params = {"itemid": _required(itemid, "itemid"), "content": _required(content, "content")}
        action = Action.CONTACT_USER_ABOUT_ITEM
        return self._call(action, params, _read_action_status(action, params["itemid"]))

    def contact_us_about_item(self, itemid: str, content: str, *, parent_mail_id: str) -> ActionResult:
        """An answer to Rakuten's customer service, in the exchange of mail ``parent_mail_id``."""
        params = {
            "itemid": _required(itemid, "itemid"),
            "content": _required(content, "content"),
            "mailparentid": _required(parent_mail_id, "mailparentid"),
        }
        action = Action.CONTACT_US_ABOUT_ITEM
        return self._call(action, params, _read_action_status(action, params["itemid"]))

    def cancel_item(self, itemid: str, *, comment: str) -> ActionResult:
        """Cancel an accepted item; ``comment`` is the reason Rakuten passes on to the buyer (mandatory)."""
        params = {"itemid": _required(itemid, "itemid"), "comment": _required(comment, "comment")}
        return self._call(Action.CANCEL_ITEM, params, _read_action_status(Action.CANCEL_ITEM, params["itemid"]))

    # -------------------------------------------------------------------------------------- transport

    def _call(self, action: Action, params: Mapping[str, str], read: Callable[[etree._Element], T]) -> T:
        """One action, retried as the policy says; ``read`` runs inside the retry, so an answer of the wrong
        shape (a MalformedResponseError) is retried like any other malformed answer."""
        retrying = Retrying(
            stop=stop_after_attempt(self._retry.attempts),
            wait=wait_random_exponential(multiplier=self._retry.initial_wait, max=self._retry.max_wait),
            retry=retry_if_exception(_is_retryable),
            before_sleep=self._log_retry,
            reraise=True,
        )
        return retrying(self._call_once, action, params, read)

    def _call_once(self, action: Action, params: Mapping[str, str], read: Callable[[etree._Element], T]) -> T:
        query = {"action": action.value, "login": self._login, "version": VERSIONS[action], **params}
        if self._channel:
            query["channel"] = self._channel
        logger.debug("rakuten %s request %s", action.value, {**query, "pwd": _REDACTED})
        try:
            return read(self._interpret(action, self._get(action, query)))
        except RakutenError as exc:
            self._scrub(exc)
            raise

    def _get(self, action: Action, query: dict[str, str]) -> httpx.Response:
        try:
            return self._http.get(f"{self.base_url}{SALES_SERVICE}", params=query)
        except httpx.TimeoutException:
            reason = f"no answer from Rakuten within {self._timeout:g} s"
        except httpx.ConnectError:
            reason = "could not connect to Rakuten"
        except httpx.HTTPError as exc:
            reason = f"network error talking to Rakuten ({type(exc).__name__})"
        # Built here, and raised without the httpx exception attached: its text may hold the request URL.
        raise TransportError(reason, action=action.value)

    def _interpret(self, action: Action, response: httpx.Response) -> etree._Element:
        status = response.status_code
        success = 200 <= status < 300
        try:
            root = parse_xml(response.content, action=action.value)
        except MalformedResponseError as exc:
            if success:
                exc.status_code = status
                raise
            error_class = ServerError if status >= 500 else MalformedResponseError
            raise error_class(f"HTTP {status}; {exc.message}", action=action.value, status_code=status) from None
        raise_for_error(root, action=action.value, status_code=status, now=self._clock())
        if not success:
            message = f"HTTP {status} with an answer that is not an error"
            raise ServerError(message, action=action.value, status_code=status)
        logger.debug("rakuten %s answered HTTP %d <%s>", action.value, status, root.tag)
        return root

    def _scrub(self, exc: RakutenError) -> None:
        # Defence in depth: no message built from a response may ever repeat the token. (A token too short
        # to be a real one would only mangle ordinary words, so those are left alone.)
        token = self._token
        if len(token) < _SCRUBBED_TOKEN_MIN_LENGTH:
            return
        if token in exc.message:
            exc.message = exc.message.replace(token, _REDACTED)
            exc.args = (exc.message,)
        if isinstance(exc, ApiError) and any(token in text for text in (*exc.details, exc.error.message or "")):
            exc.error = dataclasses.replace(
                exc.error,
                message=exc.error.message.replace(token, _REDACTED) if exc.error.message else None,
                details=tuple(detail.replace(token, _REDACTED) for detail in exc.details),
            )

    def _log_retry(self, state: RetryCallState) -> None:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        logger.warning(
            "%s (attempt %d of %d); retrying in %.2f s", error, state.attempt_number, self._retry.attempts, wait
        )


def _read_sales_page(action: Action) -> Callable[[etree._Element], SalesPage]:
    return functools.partial(parse_sales_page, action=action.value)


def _read_page_tree(action: Action) -> Callable[[etree._Element], tuple[etree._Element, str | None]]:
    """The page's tree and its ``nexttoken``; checked for errors and shape inside the retry, sales built later."""

    def read(root: etree._Element) -> tuple[etree._Element, str | None]:
        return root, sales_page_token(root, action=action.value)

    return read


def _read_action_status(action: Action, itemid: str) -> Callable[[etree._Element], ActionResult]:
    return functools.partial(parse_action_status, action=action.value, itemid=itemid)


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RakutenError) and exc.retryable


def _required(value: str, name: str) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise ValueError(f"{name} is required")
    return cleaned
