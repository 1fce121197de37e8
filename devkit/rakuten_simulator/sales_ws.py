"""The ``sales_ws`` service itself: query parameters in, Rakuten's answer (status + XML bytes) out.

Decisions where Rakuten's behaviour is not documented (docs/rakuten-api.md §3, §8):

* HTTP status of errors: ``errorresponse`` bodies come with 400 (ParameterError, refused business
  actions), 401 (InvalidUserConnection), 403 (InvalidUserRights, e.g. quota) or 500 (ServerError); under an
  envelope with ``errors_http_200`` they all come with 200. Clients must read the body first, as with the
  real service.
* What a seller may send (``rules.py``): a ``transporter_name`` outside Rakuten's list or a tracking number
  of the wrong shape for the carrier is a ParameterError naming the parameter; acting on a sale past its
  acceptance deadline is an ``InvalidItemStatus`` refusal.
* The request echo repeats each parameter the action takes, as received (settrackingpackageinfos in
  camelCase, ``purchasedate`` as ``dd/mm/yyyy``), as the captures show.
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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from devkit.rakuten_simulator.envelopes import CAPTURED, Envelope
from devkit.rakuten_simulator.faults import UNEXPECTED_STATUS, Fault
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
from devkit.rakuten_simulator.rules import ACCEPTANCE_WINDOW, is_accepted_carrier, tracking_number_fits
from devkit.rakuten_simulator.state import (
    PARIS,
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

# The newest version of each action, which Rakuten reports as ``lastversion`` (docs/rakuten-api.md §1).
LAST_VERSIONS: dict[Action, str] = {
    Action.GET_NEW_SALES: "2017-08-07",
    Action.GET_CURRENT_SALES: "2021-10-29",
    Action.ACCEPT_SALE: "2021-04-08",
    Action.REFUSE_SALE: "2010-09-20",
    Action.SET_TRACKING: "2016-03-16",
    Action.GET_ITEM_TODO_LIST: "2011-09-01",
    Action.GET_BILLING_INFORMATION: "2016-03-16",
    Action.GET_SHIPPING_INFORMATION: "2017-09-12",
    Action.GET_ITEM_INFOS: "2017-08-07",
    Action.CONTACT_USER_ABOUT_ITEM: "2011-02-02",
    Action.CONTACT_US_ABOUT_ITEM: "2011-09-01",
    Action.CANCEL_ITEM: "2011-02-02",
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
    Action.GET_ITEM_INFOS: ("getiteminfosresult", "getiteminfos"),
    Action.CONTACT_USER_ABOUT_ITEM: ("contactuseraboutitemresult", "contactuseraboutitem"),
    Action.CONTACT_US_ABOUT_ITEM: ("contactusaboutitemresult", "contactusaboutitem"),
    Action.CANCEL_ITEM: ("cancelitemresult", "cancelitem"),
}
# The success word of each per-item action (docs/rakuten-api.md §2.4, §2.5; SHIBA's fixtures for the after-sale ones).
_SUCCESS_STATUS: dict[Action, str] = {
    Action.ACCEPT_SALE: "Accepted",
    Action.REFUSE_SALE: "Refused",
    Action.SET_TRACKING: "OK",
    Action.CONTACT_USER_ABOUT_ITEM: "SENT",
    Action.CONTACT_US_ABOUT_ITEM: "SENT",
    Action.CANCEL_ITEM: "CANCELLED",
}
# Whose answer Fault.OTHER_ACTION_DOCUMENT sends instead: a plausible mix-up for each action.
_MIXED_UP_WITH: dict[Action, Action] = {
    Action.ACCEPT_SALE: Action.SET_TRACKING,
    Action.REFUSE_SALE: Action.ACCEPT_SALE,
    Action.SET_TRACKING: Action.ACCEPT_SALE,
    Action.GET_NEW_SALES: Action.GET_CURRENT_SALES,
    Action.GET_CURRENT_SALES: Action.GET_NEW_SALES,
    Action.GET_ITEM_TODO_LIST: Action.GET_NEW_SALES,
    Action.GET_BILLING_INFORMATION: Action.GET_SHIPPING_INFORMATION,
    Action.GET_SHIPPING_INFORMATION: Action.GET_BILLING_INFORMATION,
    Action.GET_ITEM_INFOS: Action.GET_ITEM_TODO_LIST,
    Action.CONTACT_USER_ABOUT_ITEM: Action.CONTACT_US_ABOUT_ITEM,
    Action.CONTACT_US_ABOUT_ITEM: Action.CONTACT_USER_ABOUT_ITEM,
    Action.CANCEL_ITEM: Action.REFUSE_SALE,
}
# The parameters each action echoes in <request>, and the name it echoes them under.
_ECHOED: dict[Action, tuple[tuple[str, str], ...]] = {
    Action.ACCEPT_SALE: (("itemid", "itemid"), ("shippingfromcountry", "shippingfromcountry")),
    Action.REFUSE_SALE: (("itemid", "itemid"),),
    Action.SET_TRACKING: (
        ("itemid", "itemid"),
        ("transporter_name", "transporterName"),
        ("tracking_number", "trackingNumber"),
        ("tracking_url", "trackingUrl"),
    ),
    Action.GET_BILLING_INFORMATION: (("purchaseid", "purchaseid"),),
    Action.GET_SHIPPING_INFORMATION: (("purchaseid", "purchaseid"),),
    Action.GET_ITEM_INFOS: (("itemid", "itemid"),),
    Action.CONTACT_USER_ABOUT_ITEM: (("itemid", "itemid"), ("content", "content")),
    Action.CONTACT_US_ABOUT_ITEM: (("itemid", "itemid"), ("mailparentid", "mailparentid"), ("content", "content")),
    Action.CANCEL_ITEM: (("itemid", "itemid"), ("comment", "comment")),
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

    def reply(self, envelope: Envelope = CAPTURED) -> Reply:
        body = error_document(self.error_type, self.code, self.message, self.details, envelope=envelope)
        return Reply(200 if envelope.errors_http_200 else self.status, body)


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
    envelope: Envelope = field(default=CAPTURED)

    def required(self, name: str) -> str:
        value = self.params.get(name, "").strip()
        if not value:
            raise mandatory(name)
        return value

    def optional(self, name: str) -> str | None:
        value = self.params.get(name, "").strip()
        return value or None

    def echo(self) -> list[tuple[str, str]]:
        """The action's parameters as received, under the names Rakuten echoes them with."""
        return [(echoed, self.params[name]) for name, echoed in _ECHOED.get(self.action, ()) if name in self.params]

    def answer(self, echo: list[tuple[str, str]], response: str | None, *, as_action: Action | None = None) -> Reply:
        root, schema = _RESULT_ROOTS[as_action or self.action]
        body = result_document(
            root,
            schema,
            version=self.version,
            user=self.login,
            params=echo,
            response=response,
            envelope=self.envelope,
        )
        return Reply(200, body)

    def status_answer(self, status: str, extra: list[tuple[str, str]] | None = None) -> Reply:
        response = status_response(last_version=self.last_version, status=status, extra=extra or ())
        return self.answer(self.echo(), response)

    @property
    def last_version(self) -> str:
        return LAST_VERSIONS[self.action]


class SalesService:
    """Answers ``/sales_ws`` requests against a :class:`PlatformState`."""

    def __init__(
        self,
        state: PlatformState,
        *,
        page_size: int,
        clock: Callable[[], datetime],
        acceptance_window: timedelta = ACCEPTANCE_WINDOW,
        after_sale: AfterSaleDesk | None = None,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self._state = state
        self._page_size = page_size
        self._clock = clock
        self._acceptance_window = acceptance_window
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

    def handle(self, params: Mapping[str, str], envelope: Envelope = CAPTURED) -> Reply:
        try:
            call = self._authenticate(params, envelope)
            return self._handlers[call.action](call)
        except ServiceError as error:
            return error.reply(envelope)

    def handle_without_acting(self, params: Mapping[str, str], envelope: Envelope, fault: Fault) -> Reply:
        """A well-formed answer that must not count as done (``faults.ANSWER_FAULTS``); nothing is carried out.

        Authentication and parameters are still checked first, as they would be before Rakuten acts.
        """
        try:
            call = self._authenticate(params, envelope)
            success = _SUCCESS_STATUS.get(call.action)
            if fault is Fault.NO_RESPONSE_ELEMENT:
                return call.answer(call.echo(), None)
            if fault is Fault.OTHER_ACTION_DOCUMENT:
                other = _MIXED_UP_WITH[call.action]
                other_success = _SUCCESS_STATUS.get(other)
                if other_success is not None:
                    response = status_response(last_version=LAST_VERSIONS[other], status=other_success)
                    return call.answer(call.echo(), response, as_action=other)
                # A listing answered under another listing's root: the content is this action's own.
                real = self._handlers[call.action](call)
                return Reply(real.status, _swap_root(real.body, call.action, other))
            if success is None:  # the status faults leave actions without a status alone
                return self._handlers[call.action](call)
            return call.status_answer(UNEXPECTED_STATUS if fault is Fault.STATUS_UNEXPECTED else "")
        except ServiceError as error:
            return error.reply(envelope)

    def _authenticate(self, params: Mapping[str, str], envelope: Envelope = CAPTURED) -> Call:
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
        return Call(action, version, login, self._state.seller_id(login), params, envelope)

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
        self._check_deadline(call, itemid)
        self._move(call, itemid, ItemState.ACCEPTED, shipping_from_country=origin)
        extra = [("shippingfromcountry", origin)] if origin is not None else []
        return call.status_answer("Accepted", extra)

    def _refuse_sale(self, call: Call) -> Reply:
        itemid = call.required("itemid")
        self._check_deadline(call, itemid)
        self._move(call, itemid, ItemState.REFUSED)
        return call.status_answer("Refused")

    def _check_deadline(self, call: Call, itemid: str) -> None:
        """A sale still awaiting the seller past its acceptance window can no longer be accepted or refused."""
        try:
            item = self._state.item(itemid, login=call.login)
            sale = self._state.sale(item.purchaseid)
        except UnknownEntityError:
            raise invalid("itemid") from None
        now = self._clock()
        now = now.replace(tzinfo=PARIS) if now.tzinfo is None else now  # a naive clock reads Paris time
        if item.status is ItemState.TO_CONFIRM and now > sale.purchase_date + self._acceptance_window:
            raise invalid_item_status(f"Article {itemid} : le délai d'acceptation est dépassé")

    def _set_tracking(self, call: Call) -> Reply:
        itemid = call.required("itemid")
        carrier = call.required("transporter_name")
        number = call.required("tracking_number")
        url = call.optional("tracking_url")
        current = self._item_status(call, itemid)
        if not is_accepted_carrier(carrier):
            raise invalid("transporter_name")
        if url is None and carrier == "Autre":
            raise parameter_error("The parameter tracking_url is mandatory when transporter_name is Autre.")
        if url is not None and not _is_web_url(url):
            raise invalid("tracking_url")
        if not tracking_number_fits(carrier, number):
            raise invalid("tracking_number")
        if current is ItemState.SHIPPED:
            raise invalid_item_status(f"Article {itemid} : a déjà été expédié")
        self._move(call, itemid, ItemState.SHIPPED, tracking=SimTracking(carrier, number, url))
        return call.status_answer("OK")

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
        return call.answer(call.echo(), response)

    def _get_shipping_information(self, call: Call) -> Reply:
        purchaseid = call.required("purchaseid")
        try:
            sale = self._state.sale(purchaseid, login=call.login)
        except UnknownEntityError:
            raise unknown_error(f"Purchase {purchaseid} is unknown.") from None
        if not sale.is_current:
            raise unknown_error(f"Purchase {purchaseid} has not been confirmed yet.")
        response = shipping_response(sale, last_version=call.last_version, seller_id=call.seller_id)
        return call.answer(call.echo(), response)


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


def _swap_root(body: bytes, action: Action, other: Action) -> bytes:
    """``body`` with ``action``'s root element (and schema name) renamed to ``other``'s."""
    root, schema = _RESULT_ROOTS[action]
    other_root, other_schema = _RESULT_ROOTS[other]
    for old, new in ((f"<{root}", f"<{other_root}"), (f"</{root}>", f"</{other_root}>"), (schema, other_schema)):
        body = body.replace(old.encode(), new.encode())
    return body


def _is_web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in url
