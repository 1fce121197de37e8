"""The bundled Rakuten simulator, exercised over real HTTP on loopback and checked with lxml directly."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from lxml import etree

from devkit.rakuten_simulator import (
    DEMO_LOGIN,
    DEMO_TOKEN,
    Fault,
    ItemState,
    RakutenSimulator,
    SimulatorError,
)
from devkit.rakuten_simulator.state import PARIS, InvalidTransitionError, UnknownEntityError

LOGIN = "boutique"
TOKEN = "s3cret-token-value"
NOW = datetime(2024, 6, 14, 10, 0, tzinfo=UTC)
VERSIONS = {
    "getnewsales": "2017-08-07",
    "getcurrentsales": "2017-08-07",
    "acceptsale": "2021-04-08",
    "refusesale": "2010-09-20",
    "settrackingpackageinfos": "2016-03-16",
    "getitemtodolist": "2011-09-01",
    "getbillinginformation": "2016-03-16",
    "getshippinginformation": "2017-09-12",
}
RELAY = "Point relais Mondial Relay"


def _fixed_clock() -> datetime:
    return NOW


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    # One client for the module: building one costs ~20 ms (TLS context), which adds up over hundreds of calls.
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def sim() -> Iterator[RakutenSimulator]:
    simulator = RakutenSimulator(seed=7, page_size=10, clock=_fixed_clock).start()
    simulator.add_account(LOGIN, TOKEN, seller_id="12345678")
    try:
        yield simulator
    finally:
        simulator.stop()


def call(
    http: httpx.Client, sim: RakutenSimulator, action: str, /, *, method: str = "GET", **params: str
) -> httpx.Response:
    query = {"action": action, "login": LOGIN, "pwd": TOKEN, "version": VERSIONS.get(action, "2017-08-07")}
    query.update(params)
    return http.request(method, f"{sim.url}sales_ws", params=query)


def xml(response: httpx.Response | bytes) -> etree._Element:
    """Parse as any XML consumer would (honouring the declared encoding), then drop namespaces."""
    body = response if isinstance(response, bytes) else response.content
    root = etree.fromstring(body)
    for element in root.iter(etree.Element):
        element.tag = etree.QName(element).localname
    return root


def sale_ids(root: etree._Element) -> list[str]:
    return [sale.findtext("purchaseid") for sale in root.iterfind("response/sales/sale")]


def item_statuses(root: etree._Element) -> dict[str, str]:
    return {item.findtext("itemid"): item.findtext("itemstatus") for item in root.iter("item")}


def address_blocks(sale: etree._Element) -> list[str]:
    return sorted(child.tag for child in sale.find("deliveryinformation") if child.tag.endswith("address"))


def invalid(name: str) -> str:
    return f"The parameter '{name}' is invalid."


def error_of(response: httpx.Response) -> tuple[str, str, list[str]]:
    root = xml(response)
    assert root.tag == "errorresponse"
    details = [detail.text.strip() for detail in root.iterfind("error/details/detail")]
    return root.findtext("error/code"), root.findtext("error/message"), details


def all_current_pages(http: httpx.Client, sim: RakutenSimulator, **params: str) -> list[etree._Element]:
    pages = []
    token = ""
    for _ in range(100):
        extra = dict(params, nexttoken=token) if token else params
        page = xml(call(http, sim, "getcurrentsales", **extra))
        pages.append(page)
        token = page.findtext("response/nexttoken") or ""
        if not token:
            return pages
    raise AssertionError("paging never ended")


# format ---------------------------------------------------------------------------------------------


def test_answers_are_declared_iso_8859_1_xml_with_a_namespaced_result_root(
    http: httpx.Client, sim: RakutenSimulator
) -> None:
    sim.generate_sales(LOGIN, 3)

    response = call(http, sim, "getnewsales")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml;charset=ISO-8859-1"
    assert response.content.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    raw_root = etree.fromstring(response.content)
    assert raw_root.tag == "{http://pmcdn.priceminister.com/res/schema/getnewsales}getnewsalesresult"
    root = xml(response)
    assert root.findtext("request/version") == "2017-08-07"
    assert root.findtext("request/user") == LOGIN
    assert root.findtext("response/lastversion") == "2017-08-07"
    assert root.findtext("response/sellerid") == "12345678"
    assert len(sale_ids(root)) == 3


def test_text_travels_in_cdata_as_latin_1_bytes_whatever_it_holds(http: httpx.Client, sim: RakutenSimulator) -> None:
    headline = "Astérix & Obélix <Coffret> ]]> fin"
    purchaseid = sim.add_sale(LOGIN, items=[{"headline": headline}], buyer={"lastname": "Lefèvre"})

    response = call(http, sim, "getnewsales")

    assert b"<![CDATA[" in response.content
    assert b"<lastname><![CDATA[Lef\xe8vre]]></lastname>" in response.content
    root = xml(response)
    assert sale_ids(root) == [purchaseid]
    assert root.findtext(".//item/headline") == headline
    assert root.findtext(".//deliveryaddress/lastname") == "Lefèvre"


def test_windows_1252_characters_switch_the_declaration_and_others_become_references(
    http: httpx.Client,
    sim: RakutenSimulator,
) -> None:
    headline = "Carte cadeau 25 € – L’Œuvre 日本"
    sim.add_sale(LOGIN, items=[{"headline": headline}])

    response = call(http, sim, "getnewsales")

    assert response.content.startswith(b'<?xml version="1.0" encoding="windows-1252"?>')
    assert response.headers["content-type"] == "text/xml;charset=ISO-8859-1"
    assert b"25 \x80 \x96 L\x92\x8cuvre" in response.content
    assert b"&#x65E5;" in response.content
    assert xml(response).findtext(".//item/headline") == headline


def test_characters_illegal_in_xml_pass_through_raw_as_rakuten_lets_them(
    http: httpx.Client, sim: RakutenSimulator
) -> None:
    sim.add_sale(LOGIN, items=[{"headline": "Livre\x19abîmé"}])

    response = call(http, sim, "getnewsales")

    assert b"Livre\x19ab\xeem\xe9" in response.content
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(response.content)


def test_sale_carries_rakuten_fields_and_formats(http: httpx.Client, sim: RakutenSimulator) -> None:
    moment = datetime(2024, 6, 13, 21, 5, tzinfo=PARIS)
    purchaseid = sim.add_sale(
        LOGIN,
        purchase_date=moment,
        items=[{"price": "23.90", "ean": "9782070360024;9782070360031;", "is_nego": True}],
    )

    sale = xml(call(http, sim, "getnewsales")).find("response/sales/sale")

    assert sale.findtext("purchaseid") == purchaseid
    assert sale.findtext("purchasedate") == "13/06/2024-21:05"
    assert sale.findtext("deliveryinformation/shippingtype") == "Suivi"
    assert sale.findtext("deliveryinformation/purchasebuyerlogin").strip()
    item = sale.find("items/item")
    assert item.findtext("price/amount") == "23.9"
    assert item.findtext("price/currency") == "EUR"
    assert item.findtext("ean") == "9782070360024;9782070360031;"
    assert item.findtext("isnego") == "Y"
    assert item.findtext("itemstatus") == "TO_CONFIRM"
    assert item.findtext("paymentstatus") == "INCOMING"


# requests -------------------------------------------------------------------------------------------


def test_unknown_path_is_404(sim: RakutenSimulator) -> None:
    response = httpx.get(f"{sim.url}stock_ws", params={"action": "export"})

    assert response.status_code == 404
    assert sim.requests[-1].status == 404


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"action": ""}, "The parameter action is mandatory."),
        ({"action": "getallthethings"}, "The parameter 'action' is invalid."),
        ({"version": ""}, "The parameter version is mandatory."),
        ({"version": "latest"}, "The parameter 'version' is invalid."),
        ({"login": ""}, "The parameter login is mandatory."),
        ({"pwd": ""}, "The parameter pwd is mandatory."),
    ],
)
def test_missing_or_invalid_envelope_parameters_are_parameter_errors(
    http: httpx.Client, sim: RakutenSimulator, params: dict[str, str], detail: str
) -> None:
    response = call(http, sim, "getnewsales", **params)

    assert response.status_code == 400
    assert error_of(response) == ("ParameterError", "Problem with parameters.", [detail])


def test_bad_token_is_invalid_user_connection_without_echoing_it(http: httpx.Client, sim: RakutenSimulator) -> None:
    response = call(http, sim, "getitemtodolist", pwd="wrong-token-123")
    unknown_login = call(http, sim, "getitemtodolist", login="nobody")

    assert response.status_code == 401
    assert error_of(response)[:2] == ("InvalidUserConnection", "Unknown user or password.")
    assert error_of(unknown_login)[:2] == ("InvalidUserConnection", "Unknown user or password.")
    assert b"wrong-token-123" not in response.content


def test_post_with_parameters_in_the_query_or_form_is_served(http: httpx.Client, sim: RakutenSimulator) -> None:
    sim.generate_sales(LOGIN, 2)

    in_query = call(http, sim, "getnewsales", method="POST")
    in_form = httpx.post(
        f"{sim.url}sales_ws",
        data={"action": "getnewsales", "login": LOGIN, "pwd": TOKEN, "version": "2017-08-07"},
    )

    assert len(sale_ids(xml(in_query))) == 2
    assert len(sale_ids(xml(in_form))) == 2
    assert [request.method for request in sim.requests_for("getnewsales")] == ["POST", "POST"]


def test_re_adding_an_account_rotates_its_token(http: httpx.Client, sim: RakutenSimulator) -> None:
    sim.add_account(LOGIN, "rotated-token")

    assert call(http, sim, "getitemtodolist").status_code == 401
    assert call(http, sim, "getitemtodolist", pwd="rotated-token").status_code == 200


# getnewsales / getcurrentsales --------------------------------------------------------------------------


def test_paging_returns_every_current_sale_exactly_once(http: httpx.Client, sim: RakutenSimulator) -> None:
    current = sim.generate_sales(LOGIN, 35, new=False)
    new = sim.generate_sales(LOGIN, 4, new=True)

    pages = all_current_pages(http, sim)

    listed = [purchaseid for page in pages for purchaseid in sale_ids(page)]
    assert len(pages) == 4
    assert sorted(listed) == sorted(current)
    assert not set(new) & set(listed)
    assert [len(sale_ids(page)) for page in pages] == [10, 10, 10, 5]
    assert pages[-1].find("response/nexttoken").text is None
    assert pages[1].findtext("request/nexttoken") == pages[0].findtext("response/nexttoken")


def test_paging_stays_consistent_while_new_sales_arrive(http: httpx.Client, sim: RakutenSimulator) -> None:
    original = sim.generate_sales(LOGIN, 25, new=False)
    first = xml(call(http, sim, "getcurrentsales"))

    sim.generate_sales(LOGIN, 5, new=False, purchase_date=datetime(2024, 6, 14, 11, 59, tzinfo=PARIS))
    rest = all_current_pages(http, sim, nexttoken=first.findtext("response/nexttoken"))

    listed = sale_ids(first) + [purchaseid for page in rest for purchaseid in sale_ids(page)]
    assert sorted(listed) == sorted(original)


def test_current_sales_are_newest_first(http: httpx.Client, sim: RakutenSimulator) -> None:
    sim.generate_sales(LOGIN, 10, new=False)

    dates = [
        datetime.strptime(sale.findtext("purchasedate"), "%d/%m/%Y-%H:%M")
        for sale in xml(call(http, sim, "getcurrentsales")).iterfind("response/sales/sale")
    ]

    assert dates == sorted(dates, reverse=True)


def test_purchasedate_is_a_lower_bound_echoed_in_french_order(http: httpx.Client, sim: RakutenSimulator) -> None:
    old = sim.add_sale(LOGIN, new=False, purchase_date=datetime(2024, 6, 9, 23, 59))
    boundary = sim.add_sale(LOGIN, new=False, purchase_date=datetime(2024, 6, 10, 0, 0))
    recent = sim.add_sale(LOGIN, new=False, purchase_date=datetime(2024, 6, 12, 8, 30))

    filtered = xml(call(http, sim, "getcurrentsales", purchasedate="2024-06-10"))
    ignored = xml(call(http, sim, "getcurrentsales", purchasedate="WRONGDATE"))

    assert sale_ids(filtered) == [recent, boundary]
    assert filtered.findtext("request/purchasedate") == "10/06/2024"
    assert sale_ids(ignored) == [recent, boundary, old]
    assert ignored.find("request/purchasedate") is None


def test_nexttoken_keeps_the_purchasedate_filter(http: httpx.Client, sim: RakutenSimulator) -> None:
    sim.generate_sales(LOGIN, 15, new=False, purchase_date=datetime(2024, 6, 12, 9, 0))
    sim.generate_sales(LOGIN, 5, new=False, purchase_date=datetime(2024, 5, 1, 9, 0))

    first = xml(call(http, sim, "getcurrentsales", purchasedate="2024-06-01"))
    second = xml(call(http, sim, "getcurrentsales", nexttoken=first.findtext("response/nexttoken")))

    assert len(sale_ids(first)) + len(sale_ids(second)) == 15
    assert second.findtext("response/nexttoken") == ""


def test_tampered_nexttoken_is_a_parameter_error(http: httpx.Client, sim: RakutenSimulator) -> None:
    response = call(http, sim, "getcurrentsales", nexttoken="not-a-cursor")

    assert error_of(response) == ("ParameterError", "Problem with parameters.", [invalid("nexttoken")])


def test_pending_preorder_and_not_shipped_filters(http: httpx.Client, sim: RakutenSimulator) -> None:
    preorder = sim.add_sale(LOGIN, new=False, items=[{"is_preorder": True}])
    shipped = sim.add_sale(LOGIN, new=False, items=[{"is_preorder": False}])
    sim.ship_on_site(sim.sale(shipped).items[0].itemid, "Colissimo", "6A12345678901")

    preorders = xml(call(http, sim, "getcurrentsales", ispendingpreorder="y"))
    unshipped = xml(call(http, sim, "getcurrentsales", notshippeditemsonly="true"))

    assert sale_ids(preorders) == [preorder]
    assert preorders.findtext("request/ispendingpreorder") == "true"
    assert sale_ids(unshipped) == [preorder]


# acceptsale / refusesale / settrackingpackageinfos ----------------------------------------------------------


def test_acceptsale_moves_items_from_new_to_current_sales(http: httpx.Client, sim: RakutenSimulator) -> None:
    purchaseid = sim.add_sale(LOGIN, items=[{}, {}])
    first, second = (item.itemid for item in sim.sale(purchaseid).items)

    accepted = xml(call(http, sim, "acceptsale", itemid=first, shippingfromcountry="FR"))

    assert accepted.tag == "saleacceptanceresult"
    assert accepted.findtext("response/status") == "Accepted"
    assert accepted.findtext("response/shippingfromcountry") == "FR"
    assert accepted.findtext("request/itemid") == first
    assert sim.item(first).status is ItemState.ACCEPTED
    assert item_statuses(xml(call(http, sim, "getnewsales"))) == {second: "TO_CONFIRM"}
    assert item_statuses(xml(call(http, sim, "getcurrentsales"))) == {first: "ACCEPTED"}

    call(http, sim, "acceptsale", itemid=second)

    assert sale_ids(xml(call(http, sim, "getnewsales"))) == []
    assert item_statuses(xml(call(http, sim, "getcurrentsales"))) == {first: "ACCEPTED", second: "ACCEPTED"}


def test_accepting_twice_is_refused_with_invalid_item_status(http: httpx.Client, sim: RakutenSimulator) -> None:
    itemid = sim.sale(sim.add_sale(LOGIN)).items[0].itemid
    call(http, sim, "acceptsale", itemid=itemid)

    again = call(http, sim, "acceptsale", itemid=itemid)

    assert again.status_code == 400
    code, message, details = error_of(again)
    assert (code, message) == ("InvalidItemStatus", "The item status does not allow this action.")
    assert itemid in details[0]


@pytest.mark.parametrize("action", ["acceptsale", "refusesale", "settrackingpackageinfos"])
def test_unknown_or_foreign_item_is_an_invalid_itemid(http: httpx.Client, sim: RakutenSimulator, action: str) -> None:
    sim.add_account("other-shop", "other-token")
    foreign = sim.sale(sim.add_sale("other-shop", new=False)).items[0].itemid
    tracking = {"transporter_name": "Colissimo", "tracking_number": "6A12345678901"}

    for itemid in ("999", foreign):
        response = call(http, sim, action, itemid=itemid, **tracking)
        assert error_of(response) == ("ParameterError", "Problem with parameters.", [invalid("itemid")])
    assert sim.item(foreign).status is ItemState.ACCEPTED


def test_refusesale_refuses_and_a_wholly_refused_sale_leaves_both_lists(
    http: httpx.Client, sim: RakutenSimulator
) -> None:
    purchaseid = sim.add_sale(LOGIN)
    itemid = sim.sale(purchaseid).items[0].itemid

    refused = xml(call(http, sim, "refusesale", itemid=itemid))

    assert refused.tag == "salerefusalresult"
    assert refused.findtext("response/status") == "Refused"
    assert sim.item(itemid).status is ItemState.REFUSED
    assert sale_ids(xml(call(http, sim, "getnewsales"))) == []
    assert sale_ids(xml(call(http, sim, "getcurrentsales"))) == []


def test_tracking_is_recorded_and_the_item_shipped(http: httpx.Client, sim: RakutenSimulator) -> None:
    itemid = sim.sale(sim.add_sale(LOGIN, new=False)).items[0].itemid

    root = xml(
        call(
            http,
            sim,
            "settrackingpackageinfos",
            itemid=itemid,
            transporter_name="Mondial Relay prépayé",
            tracking_number="12345678",
            tracking_url="https://suivi.example/12345678",
        )
    )

    assert root.tag == "setshippingpackageinfosresult"
    assert root.findtext("response/status") == "OK"
    assert root.findtext("request/transporterName") == "Mondial Relay prépayé"
    assert root.findtext("request/trackingNumber") == "12345678"
    assert root.findtext("request/trackingUrl") == "https://suivi.example/12345678"
    item = sim.item(itemid)
    assert item.status is ItemState.SHIPPED
    assert (item.tracking.carrier, item.tracking.number, item.tracking.url) == (
        "Mondial Relay prépayé",
        "12345678",
        "https://suivi.example/12345678",
    )
    assert item_statuses(xml(call(http, sim, "getcurrentsales"))) == {itemid: "SHIPPED"}


def test_tracking_is_refused_before_acceptance_and_after_shipping(http: httpx.Client, sim: RakutenSimulator) -> None:
    pending = sim.sale(sim.add_sale(LOGIN)).items[0].itemid
    shipped = sim.sale(sim.add_sale(LOGIN, new=False)).items[0].itemid
    tracking = {"transporter_name": "Colissimo", "tracking_number": "6A12345678901"}
    call(http, sim, "settrackingpackageinfos", itemid=shipped, **tracking)

    too_early = call(http, sim, "settrackingpackageinfos", itemid=pending, **tracking)
    too_late = call(http, sim, "settrackingpackageinfos", itemid=shipped, **tracking)

    assert error_of(too_early)[0] == "InvalidItemStatus"
    assert error_of(too_early)[2] == [f"Article {pending} : statut incorrect (TO_CONFIRM)"]
    assert error_of(too_late)[2] == [f"Article {shipped} : a déjà été expédié"]
    assert sim.item(pending).status is ItemState.TO_CONFIRM


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        (
            {"transporter_name": "Autre", "tracking_number": "AB123"},
            "The parameter tracking_url is mandatory when transporter_name is Autre.",
        ),
        ({"transporter_name": "Autre", "tracking_number": "AB123", "tracking_url": "ftp://x"}, invalid("tracking_url")),
        ({"tracking_number": "AB123"}, "The parameter transporter_name is mandatory."),
        ({"transporter_name": "DHL"}, "The parameter tracking_number is mandatory."),
    ],
)
def test_tracking_parameters_are_checked(
    http: httpx.Client, sim: RakutenSimulator, params: dict[str, str], detail: str
) -> None:
    itemid = sim.sale(sim.add_sale(LOGIN, new=False)).items[0].itemid

    response = call(http, sim, "settrackingpackageinfos", itemid=itemid, **params)

    assert error_of(response)[2] == [detail]
    assert sim.item(itemid).status is ItemState.ACCEPTED


def test_changes_made_on_the_site_show_in_current_sales(http: httpx.Client, sim: RakutenSimulator) -> None:
    purchaseid = sim.add_sale(LOGIN, items=[{}, {}, {}])
    first, second, third = (item.itemid for item in sim.sale(purchaseid).items)

    sim.accept_on_site(purchaseid)
    sim.ship_on_site(first, "Colissimo", "6A12345678901")
    sim.cancel(second)

    assert sale_ids(xml(call(http, sim, "getnewsales"))) == []
    assert item_statuses(xml(call(http, sim, "getcurrentsales"))) == {
        first: "SHIPPED",
        second: "CANCELLED",
        third: "ACCEPTED",
    }
    assert sim.item(first).tracking.number == "6A12345678901"


def test_a_sale_the_buyer_cancelled_before_acceptance_is_listed_as_cancelled(
    http: httpx.Client, sim: RakutenSimulator
) -> None:
    purchaseid = sim.add_sale(LOGIN)
    itemid = sim.sale(purchaseid).items[0].itemid

    sim.cancel(itemid)

    assert sale_ids(xml(call(http, sim, "getnewsales"))) == []
    assert item_statuses(xml(call(http, sim, "getcurrentsales"))) == {itemid: "CANCELLED"}


def test_the_item_lifecycle_refuses_impossible_moves(sim: RakutenSimulator) -> None:
    purchaseid = sim.add_sale(LOGIN)
    itemid = sim.sale(purchaseid).items[0].itemid

    with pytest.raises(InvalidTransitionError):
        sim.ship_on_site(itemid, "Colissimo", "6A12345678901")
    sim.accept_on_site(purchaseid)
    sim.ship_on_site(itemid, "Colissimo", "6A12345678901")
    with pytest.raises(InvalidTransitionError):
        sim.cancel(itemid)
    with pytest.raises(UnknownEntityError):
        sim.item("0")
    assert issubclass(InvalidTransitionError, SimulatorError)


def test_removed_sales_disappear(http: httpx.Client, sim: RakutenSimulator) -> None:
    kept, removed = sim.generate_sales(LOGIN, 2, new=False)
    itemid = sim.sale(removed).items[0].itemid

    sim.remove_sale(removed)

    assert sale_ids(xml(call(http, sim, "getcurrentsales"))) == [kept]
    with pytest.raises(LookupError):
        sim.sale(removed)
    assert error_of(call(http, sim, "acceptsale", itemid=itemid))[2] == ["The parameter 'itemid' is invalid."]


def test_explicit_ids_are_kept_and_duplicates_refused(sim: RakutenSimulator) -> None:
    purchaseid = sim.add_sale(LOGIN, purchaseid="100200300", items=[{"itemid": "700800900"}])

    assert purchaseid == "100200300"
    assert sim.item("700800900").purchaseid == "100200300"
    with pytest.raises(ValueError, match="already exists"):
        sim.add_sale(LOGIN, purchaseid="100200300")
    with pytest.raises(ValueError, match="already exists"):
        sim.add_sale(LOGIN, items=[{"itemid": "700800900"}])
    with pytest.raises(TypeError, match="colour"):
        sim.add_sale(LOGIN, items=[{"colour": "red"}])
    with pytest.raises(ValueError, match="unknown account"):
        sim.generate_sales("nobody", 1)


# to-do list, billing, shipping information ------------------------------------------------------------------


def test_item_todo_list_lists_items_and_causes(http: httpx.Client, sim: RakutenSimulator) -> None:
    itemid = sim.sale(sim.add_sale(LOGIN, new=False)).items[0].itemid
    sim.add_todo_item(itemid, "CLAIM", "UNREAD_MESSAGE_FROM_BUYER")

    root = xml(call(http, sim, "getitemtodolist"))

    assert root.tag == "getitemtodolistresult"
    assert root.findtext("response/sellerid") == "12345678"
    [item] = root.iterfind("response/items/item")
    assert item.findtext("itemid") == itemid
    assert [cause.text for cause in item.iterfind("causes/cause")] == ["CLAIM", "UNREAD_MESSAGE_FROM_BUYER"]


def test_generated_current_sales_put_a_few_items_in_the_todo_list(http: httpx.Client, sim: RakutenSimulator) -> None:
    sim.generate_sales(LOGIN, 200, new=False)

    items = list(xml(call(http, sim, "getitemtodolist")).iterfind("response/items/item"))

    assert 1 <= len(items) <= 60
    assert {cause.text for item in items for cause in item.iterfind("causes/cause")} <= {
        "CLAIM",
        "UNREAD_MESSAGE_FROM_BUYER",
        "UNREAD_MESSAGE_FROM_CUSTOMER_SERVICE",
    }


def test_billing_information_adds_up(http: httpx.Client, sim: RakutenSimulator) -> None:
    purchaseid = sim.add_sale(LOGIN, items=[{"price": "20.00", "shipping_price": "4.90", "category": "Livres"}])

    root = xml(call(http, sim, "getbillinginformation", purchaseid=purchaseid))

    item = root.find("response/billinginformation/items/item")
    money = {
        name: Decimal(item.findtext(f"{name}/amount"))
        for name in (
            "itemsaleprice",
            "shippingsaleprice",
            "itemcommissionexcltax",
            "itemcommissionvat",
            "shippingcommissionexcltax",
            "shippingcommissionvat",
            "paymentamount",
        )
    }
    assert money["itemsaleprice"] == Decimal("20.00")
    assert money["itemcommissionexcltax"] == Decimal("2.80")
    assert money["itemcommissionvat"] == Decimal("0.56")
    assert money["paymentamount"] == (
        money["itemsaleprice"]
        + money["shippingsaleprice"]
        - money["itemcommissionexcltax"]
        - money["itemcommissionvat"]
        - money["shippingcommissionexcltax"]
        - money["shippingcommissionvat"]
    )
    assert item.findtext("itemcommissionvatrate") == "20.0"


def test_unknown_purchase_is_an_unknown_error(http: httpx.Client, sim: RakutenSimulator) -> None:
    for action in ("getbillinginformation", "getshippinginformation"):
        code, _, details = error_of(call(http, sim, action, purchaseid="1"))
        assert code == "Unknown error"
        assert details == ["Purchase 1 is unknown."]


def test_shipping_information_gives_prepaid_label_and_buyer_contact_once_accepted(
    http: httpx.Client, sim: RakutenSimulator
) -> None:
    purchaseid = sim.add_sale(
        LOGIN, shipping_type="So Colissimo", address="billing_only", buyer={"phone1": "0611223344"}
    )

    before = call(http, sim, "getshippinginformation", purchaseid=purchaseid)
    sim.accept_on_site(purchaseid)
    info = xml(call(http, sim, "getshippinginformation", purchaseid=purchaseid)).find("response/shippinginformation")

    assert error_of(before)[2] == [f"Purchase {purchaseid} has not been confirmed yet."]
    assert info.findtext("shippingtype") == "So Colissimo"
    assert info.findtext("prepaidlabel/available") == "Y"
    assert info.findtext("prepaidlabel/trackinginformation/trackingnumber").startswith("6A")
    assert info.findtext("billingaddress/phonenumber1") == "0611223344"
    assert info.findtext("purchasebuyeremail").endswith("@acheteurs.example")
    assert Decimal(info.findtext("purchaseshippingcostprice/amount")) == sim.sale(purchaseid).shipping_cost


# faults ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        (Fault.AUTH_ERROR, 401, "InvalidUserConnection"),
        (Fault.QUOTA_EXCEEDED, 403, "InvalidUserRights"),
        (Fault.SERVER_ERROR, 500, "ServerError"),
        (Fault.SERVER_ERROR_200, 200, "ServerError"),
        (Fault.PARAMETER_ERROR, 400, "ParameterError"),
    ],
)
def test_error_faults_answer_an_errorresponse(
    http: httpx.Client, sim: RakutenSimulator, fault: Fault, status: int, code: str
) -> None:
    sim.inject_fault("getnewsales", fault)

    faulty = call(http, sim, "getnewsales")
    healthy = call(http, sim, "getnewsales")

    assert faulty.status_code == status
    assert error_of(faulty)[0] == code
    assert xml(healthy).tag == "getnewsalesresult"


def test_quota_fault_says_quota_exceeded(http: httpx.Client, sim: RakutenSimulator) -> None:
    sim.inject_fault(None, Fault.QUOTA_EXCEEDED)

    assert error_of(call(http, sim, "getitemtodolist"))[1] == "Quota exceeded."


def test_http_503_is_plain_text(http: httpx.Client, sim: RakutenSimulator) -> None:
    sim.inject_fault(None, Fault.HTTP_503)

    response = call(http, sim, "getnewsales")

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["retry-after"] == "30"
    assert not response.content.lstrip().startswith(b"<")


@pytest.mark.parametrize(("fault", "status"), [(Fault.HTML_MAINTENANCE, 200), (Fault.HTML_MAINTENANCE_503, 503)])
def test_maintenance_page_is_html(http: httpx.Client, sim: RakutenSimulator, fault: Fault, status: int) -> None:
    sim.inject_fault(None, fault)

    response = call(http, sim, "getnewsales")

    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert b"<title>Rakuten - Maintenance en cours</title>" in response.content


def test_malformed_xml_does_not_parse(http: httpx.Client, sim: RakutenSimulator) -> None:
    sim.inject_fault("getnewsales", Fault.MALFORMED_XML)

    response = call(http, sim, "getnewsales")

    assert response.status_code == 200
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(response.content)


def test_truncated_xml_is_half_of_a_real_answer_whose_action_happened(
    http: httpx.Client, sim: RakutenSimulator
) -> None:
    itemid = sim.sale(sim.add_sale(LOGIN)).items[0].itemid
    sim.inject_fault("acceptsale", Fault.TRUNCATED_XML)

    response = call(http, sim, "acceptsale", itemid=itemid)

    assert response.content.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<saleacceptanceresult')
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(response.content)
    assert sim.item(itemid).status is ItemState.ACCEPTED


def test_applied_then_dropped_carries_the_action_out_and_closes_without_an_answer(
    http: httpx.Client, sim: RakutenSimulator
) -> None:
    itemid = sim.sale(sim.add_sale(LOGIN, new=False)).items[0].itemid
    sim.inject_fault("settrackingpackageinfos", Fault.APPLIED_THEN_DROPPED)
    tracking = {"itemid": itemid, "transporter_name": "Colissimo", "tracking_number": "6A12345678901"}

    with pytest.raises(httpx.RemoteProtocolError):
        call(http, sim, "settrackingpackageinfos", **tracking)

    assert sim.item(itemid).status is ItemState.SHIPPED
    assert sim.item(itemid).tracking is not None
    (recorded,) = sim.requests_for("settrackingpackageinfos")
    assert recorded.fault is Fault.APPLIED_THEN_DROPPED
    again = call(http, sim, "settrackingpackageinfos", **tracking)  # what a client's resend gets
    assert again.status_code == 400
    assert "a déjà été expédié" in again.content.decode("iso-8859-1")


def test_slow_answers_normally_after_the_delay(http: httpx.Client, sim: RakutenSimulator) -> None:
    sim.generate_sales(LOGIN, 1)
    sim.inject_fault("getnewsales", Fault.SLOW, delay=0.3)

    started = time.monotonic()
    response = call(http, sim, "getnewsales")

    assert time.monotonic() - started >= 0.3
    assert len(sale_ids(xml(response))) == 1


def test_timeout_holds_the_request_then_answers_504_without_acting(http: httpx.Client, sim: RakutenSimulator) -> None:
    itemid = sim.sale(sim.add_sale(LOGIN)).items[0].itemid
    sim.inject_fault("acceptsale", Fault.TIMEOUT, delay=0.3)

    with pytest.raises(httpx.ReadTimeout):
        httpx.get(
            f"{sim.url}sales_ws",
            params={"action": "acceptsale", "login": LOGIN, "pwd": TOKEN, "version": "2021-04-08", "itemid": itemid},
            timeout=0.1,
        )
    late = call(http, sim, "acceptsale", itemid=itemid)

    assert sim.requests_for("acceptsale")[0].status == 504
    assert sim.requests_for("acceptsale")[0].fault is Fault.TIMEOUT
    assert xml(late).findtext("response/status") == "Accepted"


def test_stop_interrupts_held_requests(http: httpx.Client) -> None:
    simulator = RakutenSimulator(seed=1).start()
    simulator.add_account(LOGIN, TOKEN)
    simulator.inject_fault(None, Fault.TIMEOUT, delay=60)
    outcome: list[BaseException | httpx.Response] = []

    def held_request() -> None:
        try:
            outcome.append(call(http, simulator, "getnewsales"))
        except httpx.HTTPError as error:
            outcome.append(error)

    worker = threading.Thread(target=held_request)
    worker.start()
    simulator.wait_for_requests("getnewsales", 1)
    started = time.monotonic()
    simulator.stop()
    worker.join(timeout=5)

    assert not worker.is_alive()
    assert time.monotonic() - started < 5
    assert isinstance(outcome[0], httpx.HTTPError)


def test_faults_are_consumed_in_order_per_action_and_can_last(http: httpx.Client, sim: RakutenSimulator) -> None:
    sim.inject_fault("getnewsales", Fault.SERVER_ERROR, times=2)
    sim.inject_fault(None, Fault.HTTP_503)
    sim.inject_fault("getitemtodolist", Fault.QUOTA_EXCEEDED, times=-1)

    statuses = [
        call(http, sim, action).status_code
        for action in (
            "getitemtodolist",
            "getnewsales",
            "getnewsales",
            "getnewsales",
            "getitemtodolist",
            "getitemtodolist",
        )
    ]

    assert statuses == [503, 500, 500, 200, 403, 403]
    sim.clear_faults()
    assert call(http, sim, "getitemtodolist").status_code == 200


def test_inject_fault_validates_its_arguments(sim: RakutenSimulator) -> None:
    with pytest.raises(ValueError, match="times"):
        sim.inject_fault(None, Fault.SLOW, times=0)
    with pytest.raises(ValueError, match="delay"):
        sim.inject_fault(None, Fault.SLOW, delay=-1)


# recorder -------------------------------------------------------------------------------------------


def test_recorder_keeps_every_request_with_the_token_redacted(http: httpx.Client, sim: RakutenSimulator) -> None:
    sim.inject_fault("getnewsales", Fault.SERVER_ERROR)
    call(http, sim, "getnewsales")
    call(http, sim, "getitemtodolist", pwd="wrong")

    first, second = sim.requests

    assert (first.action, first.method, first.login, first.status, first.fault) == (
        "getnewsales",
        "GET",
        LOGIN,
        500,
        Fault.SERVER_ERROR,
    )
    assert first.params["pwd"] == "***"
    assert first.params["version"] == "2017-08-07"
    assert first.at == NOW
    assert (second.status, second.params["pwd"]) == (401, "***")
    assert TOKEN not in repr(sim.requests)
    assert sim.requests_for("getitemtodolist") == [second]
    sim.reset_requests()
    assert sim.requests == []


def test_wait_for_requests_waits_on_concurrent_clients_and_times_out(http: httpx.Client, sim: RakutenSimulator) -> None:
    sim.generate_sales(LOGIN, 3, new=False)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: call(http, sim, "getcurrentsales"), range(16)))
        seen = sim.wait_for_requests("getcurrentsales", 16)

    assert {response.status_code for response in responses} == {200}
    assert len(seen) == 16
    with pytest.raises(TimeoutError, match="expected 1 acceptsale"):
        sim.wait_for_requests("acceptsale", 1, timeout=0.05)


def test_lifecycle_errors(sim: RakutenSimulator) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        sim.start()
    idle = RakutenSimulator()
    with pytest.raises(RuntimeError, match="not running"):
        _ = idle.url
    idle.stop()
    with pytest.raises(RuntimeError, match="cannot be restarted"):
        idle.start()


# generator ------------------------------------------------------------------------------------------


def _snapshot(seed: int) -> list[Any]:
    simulator = RakutenSimulator(seed=seed, clock=_fixed_clock)
    simulator.add_account(LOGIN, TOKEN)
    simulator.generate_sales(LOGIN, 40, new=False)
    simulator.generate_sales(LOGIN, 10)
    return simulator.sales(LOGIN)


def test_generator_is_deterministic_per_seed() -> None:
    assert _snapshot(11) == _snapshot(11)
    assert _snapshot(11) != _snapshot(12)


@pytest.fixture(scope="module")
def generated() -> list[Any]:
    simulator = RakutenSimulator(seed=5, clock=_fixed_clock)
    simulator.add_account(LOGIN, TOKEN)
    simulator.generate_sales(LOGIN, 2500, new=False)
    return simulator.sales(LOGIN)


def test_generated_people_and_places_are_french_with_accents(generated: list[Any]) -> None:
    addresses = [sale.delivery_address or sale.billing_address for sale in generated]
    text = " ".join(f"{a.firstname} {a.lastname} {a.address1} {a.city}" for a in addresses)

    assert set("éèçôïë") <= set(text)
    assert "'" in text
    assert {a.civility for a in addresses} == {"M.", "Mme", "Mlle"}
    assert ("75011", "Paris") in {(a.zipcode, a.city) for a in addresses}
    assert {a.country_alpha2 for a in addresses} >= {"FX", "BE", "CH"}
    assert all(a.country == "France" for a in addresses if a.country_alpha2 == "FX")


def test_generated_address_blocks_follow_the_shipping_type(generated: list[Any]) -> None:
    by_type: dict[str, list[Any]] = {}
    for sale in generated:
        by_type.setdefault(sale.shipping_type, []).append(sale)

    assert set(by_type) == {"Suivi", "Normal", "Recommandé", "Express", RELAY, "So Colissimo", "Chronopost"}
    for sale in by_type[RELAY]:
        assert sale.collection_point is not None
        assert sale.billing_address is not None
        assert sale.delivery_address is None
        assert sale.collection_point.point_id.startswith("FR-")
    for kind in ("So Colissimo", "Chronopost"):
        for sale in by_type[kind]:
            assert (sale.delivery_address, sale.collection_point) == (None, None)
            assert sale.billing_address is not None
            assert sale.prepaid_tracking is not None
    for kind in ("Suivi", "Normal", "Recommandé", "Express"):
        assert all(sale.delivery_address is not None for sale in by_type[kind])
    assert 0.10 < len(by_type["Express"]) / len(generated) < 0.20


def test_generated_items_cover_rakuten_quirks(generated: list[Any]) -> None:
    items = [item for sale in generated for item in sale.items]

    assert {len(sale.items) for sale in generated} == {1, 2, 3, 4}
    assert 1.8 < len(items) / len(generated) < 2.2
    assert any("&" in item.headline for item in items)
    assert any("<" in item.headline for item in items)
    assert any("€" in item.headline or "’" in item.headline or "Œ" in item.headline for item in items)
    assert any(item.ean.count(";") == 2 and item.ean.endswith(";") for item in items)
    assert any(item.isbn and item.ean.startswith(item.isbn) for item in items)
    assert any(item.sku == "" for item in items)
    for flag in ("is_preorder", "is_nego", "is_rsl"):
        assert any(getattr(item, flag) for item in items), flag
    assert all(item.is_nego == (item.advert_price > item.price) for item in items)
    assert all(item.status is ItemState.ACCEPTED for item in items)
    itemids = [item.itemid for item in items]
    purchaseids = [sale.purchaseid for sale in generated]
    assert len(set(itemids)) == len(itemids)
    assert len(set(purchaseids)) == len(purchaseids)
    assert all(value.isdigit() for value in itemids + purchaseids)


def test_generated_dates_are_paris_minutes_in_the_last_three_days(generated: list[Any]) -> None:
    dates = [sale.purchase_date for sale in generated]

    assert all(moment.tzinfo is PARIS and moment.second == 0 for moment in dates)
    assert min(dates) >= NOW - timedelta(days=3, minutes=1)
    assert max(dates) <= NOW
    assert max(dates) - min(dates) > timedelta(days=2)


def test_ratios_steer_express_and_preorders(sim: RakutenSimulator) -> None:
    express = sim.generate_sales(LOGIN, 20, express_ratio=1.0, preorder_ratio=1.0)
    plain = sim.generate_sales(LOGIN, 20, express_ratio=0.0, preorder_ratio=0.0)

    assert {sim.sale(purchaseid).shipping_type for purchaseid in express} == {"Express"}
    assert all(item.is_preorder for purchaseid in express for item in sim.sale(purchaseid).items)
    assert "Express" not in {sim.sale(purchaseid).shipping_type for purchaseid in plain}
    assert not any(item.is_preorder for purchaseid in plain for item in sim.sale(purchaseid).items)


def test_add_sale_address_modes(http: httpx.Client, sim: RakutenSimulator) -> None:
    relay = sim.sale(sim.add_sale(LOGIN, shipping_type="Point relais Mondial Relay", address="relay"))
    nowhere = sim.sale(sim.add_sale(LOGIN, address="none"))

    assert relay.collection_point is not None
    assert relay.billing_address is not None
    assert (nowhere.delivery_address, nowhere.billing_address, nowhere.collection_point) == (None, None, None)
    root = xml(call(http, sim, "getnewsales"))
    blocks = {sale.findtext("purchaseid"): address_blocks(sale) for sale in root.iterfind("response/sales/sale")}
    assert blocks[relay.purchaseid] == ["billingaddress", "collectionpointaddress"]
    assert blocks[nowhere.purchaseid] == []


def test_generate_sales_with_a_purchase_date_dates_them_all_then(sim: RakutenSimulator) -> None:
    moment = datetime(2024, 1, 15, 9, 30, 45, tzinfo=PARIS)

    purchaseids = sim.generate_sales(LOGIN, 5, purchase_date=moment)

    assert {sim.sale(purchaseid).purchase_date for purchaseid in purchaseids} == {moment.replace(second=0)}


# round trip through the project's parser -----------------------------------------------------------------


def test_rendered_pages_parse_back_through_the_project_parser(http: httpx.Client, sim: RakutenSimulator) -> None:
    from rakuten.parsing import parse_sales_page
    from rakuten.xmlsafe import parse_xml

    sim.generate_sales(LOGIN, 25, new=False)
    special = sim.add_sale(
        LOGIN,
        new=False,
        shipping_type="Point relais Mondial Relay",
        address="relay",
        items=[{"headline": "L’Œuvre & <Cie> 25 €", "price": "13.0", "ean": "3760001234567;"}],
    )

    parsed = []
    token = ""
    while True:
        extra = {"nexttoken": token} if token else {}
        page = parse_sales_page(
            parse_xml(call(http, sim, "getcurrentsales", **extra).content, action="getcurrentsales")
        )
        parsed.extend(page.sales)
        token = page.next_token or ""
        if not token:
            break

    assert sorted(sale.purchaseid for sale in parsed) == sorted(sale.purchaseid for sale in sim.sales(LOGIN))
    for sale in parsed:
        expected = sim.sale(sale.purchaseid)
        assert sale.purchase_date == expected.purchase_date
        assert sale.shipping_type == expected.shipping_type
        assert [(item.itemid, item.headline, item.price.amount) for item in sale.items] == [
            (item.itemid, item.headline, item.price) for item in expected.items
        ]
        assert sale.ship_to is not None
    relay = next(sale for sale in parsed if sale.purchaseid == special)
    assert relay.items[0].headline == "L’Œuvre & <Cie> 25 €"
    assert relay.items[0].eans == ("3760001234567",)
    assert relay.collection_point.point_id == sim.sale(special).collection_point.point_id
    assert relay.ship_to == relay.collection_point


# command line ---------------------------------------------------------------------------------------


def test_command_line_serves_the_demo_account_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "devkit.rakuten_simulator", "--seed", "3", "--orders", "2", "--current", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = [process.stdout.readline() for _ in range(5)]
        url = banner[0].rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:")
        query = {"action": "getnewsales", "login": DEMO_LOGIN, "pwd": DEMO_TOKEN, "version": "2017-08-07"}
        response = httpx.get(f"{url}sales_ws", params=query, timeout=5)
        assert len(sale_ids(xml(response))) == 2
    finally:
        process.send_signal(2)  # SIGINT, as Ctrl-C
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert f"  RAKUTEN_LOGIN={DEMO_LOGIN}\n" in banner
    assert f"  RAKUTEN_TOKEN={DEMO_TOKEN}\n" in banner
    assert out == "stopped\n"
    assert err == ""
