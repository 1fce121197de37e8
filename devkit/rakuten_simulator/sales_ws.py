"""The ``sales_ws`` service itself: query parameters in, Rakuten's answer (status + XML bytes) out.

Decisions where Rakuten's behaviour is not documented (rakuten-api.md §3, §8):

* HTTP status of errors: ``errorresponse`` bodies come with 400 (ParameterError, refused business
  actions), 401 (InvalidUserConnection), 403 (InvalidUserRights, e.g. quota) or 500 (ServerError).
  Clients must read the body first, as with the real service.
* Acting on an item in the wrong state (accepting twice, tracking before acceptance or after shipping):
  ``Sender`` / ``InvalidItemStatus`` errors whose details use the French wording Rakuten's shipping
  reports use (``Article <id> : statut incorrect``, ``Article <id> : a déjà été expédié``).
* Unknown purchase for billing / shipping information: the "Unknown error" service error; shipping
  information (buyer contact data) is only given once the sale was accepted.
* ``nexttoken`` is an opaque cursor (newest-first order, stable while sales come and go) that also
  remembers the ``purchasedate`` filter; a tampered token is a ParameterError.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from devkit.rakuten_simulator.render import (
    CONTENT_TYPE,
    billing_response,
    error_document,
    result_document,
    sales_response,
    shipping_response,
    status_response,
    todo_response,
)
from devkit.rakuten_simulator.state import (
    InvalidTransitionError,
    ItemState,
    PlatformState,
    SimTracking,
    SortKey,
    UnknownEntityError,
    billing_lines,
)
from rakuten.actions import Action

if TYPE_CHECKING:
    from devkit.rakuten_simulator.after_sale import AfterSaleDesk

# The newest version of each action, which Rakuten reports as ``lastversion`` (rakuten-api.md §1).
LAST_VERSIONS: dict[Action, str] = {
    Action.GET_NEW_SALES: "2017-08-07",
    Action.GET_CURRENT_SALES: "2021-10-29",
    Action.ACCEPT_SALE: "2021-04-08",
    Action.REFUSE_SALE: "2010-09-20",
    Action.SET_TRACKING: "2016-03-16",
    Action.GET_ITEM_TODO_LIST: "2011-09-01",
    Action.GET_BILLING_INFORMATION: "2016-03-16",
    Action.GET_SHIPPING_INFORMATION: "2017-09-12",
}
_RESULT_ROOTS: dict[Action, tuple[str, str]] = {
    # root element, schema name in the namespace URI
    Action.GET_NEW_SALES: ("getnewsalesresult", "getnewsales"),
    Action.GET_CURRENT_SALES: ("getcurrentsalesresult", "getcurrentsales"),
    Action.ACCEPT_SALE: ("saleacceptanceresult", "acceptsale"),
    Action.REFUSE_SALE: ("salerefusalresult", "refusesale"),
    Action.SET_TRACKING: ("setshippingpackageinfosresult", "settrackingpackageinfos"),
    Action.GET_ITEM_TODO_LIST: ("getitemtodolistresult", "getitemtodolist"),
    Action.GET_BILLING_INFORMATION: ("getbillinginformationresult", "getbillinginformation"),
    Action.GET_SHIPPING_INFORMATION: ("getshippinginformationresult", "getshippinginformation"),
}
_VERSION_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}")
_CURSOR_FORMAT = "sim1"


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    content_type: str = CONTENT_TYPE
    headers: tuple[tuple[str, str], ...] = ()


class ServiceError(Exception):
    """An ``errorresponse`` to send back."""

    def __init__(self, status: int, error_type: str, code: str, message: str, *details: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.error_type = error_type
        self.code = code
        self.message = message
        self.details = details

    def reply(self) -> Reply:
        return Reply(self.status, error_document(self.error_type, self.code, self.message, self.details))


def parameter_error(detail: str) -> ServiceError:
    return ServiceError(400, "Sender", "ParameterError", "Problem with parameters.", detail)


def mandatory(name: str) -> ServiceError:
    return parameter_error(f"The parameter {name} is mandatory.")


def invalid(name: str) -> ServiceError:
    return parameter_error(f"The parameter '{name}' is invalid.")


def invalid_item_status(detail: str) -> ServiceError:
    return ServiceError(400, "Sender", "InvalidItemStatus", "The item status does not allow this action.", detail)


def unknown_error(detail: str) -> ServiceError:
    return ServiceError(400, "Sender", "Unknown error", "Unknown error.", detail)


AUTHENTICATION_FAILED = ServiceError(
    401, "Sender", "InvalidUserConnection", "Unknown user or password.", "The login or the token is not valid."
)


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated request: what the handlers need to answer it."""

    action: Action
    version: str
    login: str
    seller_id: str
    params: Mapping[str, str]

    def required(self, name: str) -> str:
        value = self.params.get(name, "").strip()
        if not value:
            raise mandatory(name)
        return value

    def optional(self, name: str) -> str | None:
        value = self.params.get(name, "").strip()
        return value or None

    def answer(self, echo: list[tuple[str, str]], response: str) -> Reply:
        root, schema = _RESULT_ROOTS[self.action]
        body = result_document(root, schema, version=self.version, user=self.login, params=echo, response=response)
        return Reply(200, body)

    @property
    def last_version(self) -> str:
        return LAST_VERSIONS[self.action]


class SalesService:
    """Answers ``/sales_ws`` requests against a :class:`PlatformState`."""

    def __init__(self, state: PlatformState, *, page_size: int, after_sale: AfterSaleDesk | None = None) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self._state = state
        self._page_size = page_size
        self._after_sale = after_sale
        self._handlers: dict[Action, Callable[[Call], Reply]] = {
            Action.GET_NEW_SALES: self._get_new_sales,
            Action.GET_CURRENT_SALES: self._get_current_sales,
            Action.ACCEPT_SALE: self._accept_sale,
            Action.REFUSE_SALE: self._refuse_sale,
            Action.SET_TRACKING: self._set_tracking,
            Action.GET_ITEM_TODO_LIST: self._get_item_todo_list,
            Action.GET_BILLING_INFORMATION: self._get_billing_information,
            Action.GET_SHIPPING_INFORMATION: self._get_shipping_information,
        }
        if after_sale is not None:  # getiteminfos, the two contact actions, cancelitem
            self._handlers.update(after_sale.handlers())

    def handle(self, params: Mapping[str, str]) -> Reply:
        try:
            call = self._authenticate(params)
            return self._handlers[call.action](call)
        except ServiceError as error:
            return error.reply()

    def _authenticate(self, params: Mapping[str, str]) -> Call:
        raw_action = params.get("action", "").strip()
        if not raw_action:
            raise mandatory("action")
        try:
            action = Action(raw_action.lower())
        except ValueError:
            raise invalid("action") from None
        version = params.get("version", "").strip()
        if not version:
            raise mandatory("version")
        if _VERSION_FORMAT.fullmatch(version) is None:
            raise invalid("version")
        login = params.get("login", "").strip()
        if not login:
            raise mandatory("login")
        token = params.get("pwd", "")
        if not token:
            raise mandatory("pwd")
        if not self._state.authenticate(login, token):
            raise AUTHENTICATION_FAILED
        return Call(action, version, login, self._state.seller_id(login), params)

    # sales listings -----------------------------------------------------------------------------------

    def _get_new_sales(self, call: Call) -> Reply:
        sales = self._state.new_sales(call.login)
        return call.answer([], sales_response(sales, last_version=call.last_version, seller_id=call.seller_id))

    def _get_current_sales(self, call: Call) -> Reply:
        echo: list[tuple[str, str]] = []
        since = _purchase_date(call.optional("purchasedate"))
        after: SortKey | None = None
        token = call.optional("nexttoken")
        if token is not None:
            after, token_since = _decode_token(token)
            since = since or token_since
        if since is not None:
            echo.append(("purchasedate", since.strftime("%d/%m/%Y")))
        if token is not None:
            echo.append(("nexttoken", token))
        pending_preorder = (call.optional("ispendingpreorder") or "").lower() in ("y", "yes", "true", "1")
        echo.append(("ispendingpreorder", "true" if pending_preorder else "false"))
        not_shipped = (call.optional("notshippeditemsonly") or "").lower() in ("y", "yes", "true", "1")
        if call.optional("notshippeditemsonly") is not None:
            echo.append(("notshippeditemsonly", "true" if not_shipped else "false"))
        page = self._state.current_sales_page(
            call.login,
            limit=self._page_size,
            after=after,
            since=since,
            pending_preorder_only=pending_preorder,
            not_shipped_only=not_shipped,
        )
        next_token = _encode_token(page.next_key, since) if page.next_key is not None else ""
        response = sales_response(
            page.sales, last_version=call.last_version, seller_id=call.seller_id, next_token=next_token
        )
        return call.answer(echo, response)

    # per-item actions ---------------------------------------------------------------------------------

    def _accept_sale(self, call: Call) -> Reply:
        itemid = call.required("itemid")
        origin = call.optional("shippingfromcountry")
        self._move(call, itemid, ItemState.ACCEPTED, shipping_from_country=origin)
        echo = [("itemid", itemid)]
        extra: list[tuple[str, str]] = []
        if origin is not None:
            echo.append(("shippingfromcountry", origin))
            extra.append(("shippingfromcountry", origin))
        return call.answer(echo, status_response(last_version=call.last_version, status="Accepted", extra=extra))

    def _refuse_sale(self, call: Call) -> Reply:
        itemid = call.required("itemid")
        self._move(call, itemid, ItemState.REFUSED)
        return call.answer([("itemid", itemid)], status_response(last_version=call.last_version, status="Refused"))

    def _set_tracking(self, call: Call) -> Reply:
        itemid = call.required("itemid")
        carrier = call.required("transporter_name")
        number = call.required("tracking_number")
        url = call.optional("tracking_url")
        current = self._item_status(call, itemid)
        if url is None and carrier.casefold() == "autre":
            raise parameter_error("The parameter tracking_url is mandatory when transporter_name is Autre.")
        if url is not None and not _is_web_url(url):
            raise invalid("tracking_url")
        if current is ItemState.SHIPPED:
            raise invalid_item_status(f"Article {itemid} : a déjà été expédié")
        self._move(call, itemid, ItemState.SHIPPED, tracking=SimTracking(carrier, number, url))
        echo = [("itemid", itemid), ("transporterName", carrier), ("trackingNumber", number)]
        if url is not None:
            echo.append(("trackingUrl", url))
        return call.answer(echo, status_response(last_version=call.last_version, status="OK"))

    def _item_status(self, call: Call, itemid: str) -> ItemState:
        try:
            return self._state.item(itemid, login=call.login).status
        except UnknownEntityError:
            raise invalid("itemid") from None

    def _move(self, call: Call, itemid: str, target: ItemState, **changes: object) -> None:
        try:
            self._state.transition(itemid, target, login=call.login, **changes)  # type: ignore[arg-type]
        except UnknownEntityError:
            raise invalid("itemid") from None
        except InvalidTransitionError as error:
            if target is ItemState.SHIPPED:
                raise invalid_item_status(f"Article {itemid} : statut incorrect ({error.current})") from None
            raise invalid_item_status(
                f"Item {itemid} is {error.current}: only an item awaiting confirmation can be "
                f"{'accepted' if target is ItemState.ACCEPTED else 'refused'}."
            ) from None

    # after-sale information ---------------------------------------------------------------------------

    def _get_item_todo_list(self, call: Call) -> Reply:
        entries = self._state.todo(call.login)
        if self._after_sale is not None:  # items with an open claim or unread messages
            entries = self._after_sale.todo(call.login, entries)
        return call.answer([], todo_response(entries, last_version=call.last_version, seller_id=call.seller_id))

    def _get_billing_information(self, call: Call) -> Reply:
        purchaseid = call.required("purchaseid")
        try:
            sale = self._state.sale(purchaseid, login=call.login)
        except UnknownEntityError:
            raise unknown_error(f"Purchase {purchaseid} is unknown.") from None
        response = billing_response(
            purchaseid, billing_lines(sale), last_version=call.last_version, seller_id=call.seller_id
        )
        return call.answer([("purchaseid", purchaseid)], response)

    def _get_shipping_information(self, call: Call) -> Reply:
        purchaseid = call.required("purchaseid")
        try:
            sale = self._state.sale(purchaseid, login=call.login)
        except UnknownEntityError:
            raise unknown_error(f"Purchase {purchaseid} is unknown.") from None
        if not sale.is_current:
            raise unknown_error(f"Purchase {purchaseid} has not been confirmed yet.")
        response = shipping_response(sale, last_version=call.last_version, seller_id=call.seller_id)
        return call.answer([("purchaseid", purchaseid)], response)


def _purchase_date(value: str | None) -> date | None:
    """``yyyy-mm-dd``; anything else is silently ignored, as Rakuten does."""
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None


def _encode_token(key: SortKey, since: date | None) -> str:
    raw = f"{_CURSOR_FORMAT}|{round(-key[0])}|{key[1]}|{since.isoformat() if since else ''}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_token(token: str) -> tuple[SortKey, date | None]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        prefix, timestamp, purchaseid, since = raw.split("|")
        if prefix != _CURSOR_FORMAT or not purchaseid:
            raise ValueError(prefix)
        return (-float(int(timestamp)), purchaseid), (date.fromisoformat(since) if since else None)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("nexttoken") from None


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in url
