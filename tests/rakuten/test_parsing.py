"""Rakuten documents -> models and exceptions, one quirk at a time."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from rakuten.errors import (
    AuthenticationError,
    BusinessError,
    MalformedResponseError,
    ParameterError,
    PermissionDeniedError,
    QuotaExceededError,
    ServerError,
    UnexpectedStatusError,
)
from rakuten.models import AddressKind, ItemStatus, Money, Sale
from rakuten.parsing import (
    parse_action_status,
    parse_billing_information,
    parse_purchase_date,
    parse_sales_page,
    parse_shipping_information,
    parse_todo_list,
    raise_for_error,
)
from rakuten.xmlsafe import parse_xml

PARIS = ZoneInfo("Europe/Paris")
NS = "http://pmcdn.priceminister.com/res/schema/"


def _root(document: str, *, encoding: str = "cp1252", action: str = "getnewsales") -> etree._Element:
    return parse_xml(document.encode(encoding), action=action)


def _sales_document(sales: str, *, action: str = "getnewsales", response_extra: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="ISO-8859-1"?>\n<{action}result xmlns="{NS}{action}">'
        f"<request><version>2017-08-07</version><user>shop</user></request>"
        f"<response><lastversion>2017-08-07</lastversion><sellerid>1234</sellerid>{response_extra}"
        f"{sales}</response></{action}result>"
    )


def _item(itemid: str = "1001", extra: str = "") -> str:
    return (
        f"<item><itemid>{itemid}</itemid><headline><![CDATA[Dune]]></headline>"
        f"<itemstatus>TO_CONFIRM</itemstatus>{extra}</item>"
    )


def _sale(purchaseid: str = "500", *, delivery: str = "", items: str | None = None, extra: str = "") -> str:
    body = items if items is not None else f"<items>{_item()}</items>"
    return (
        f"<sale><purchaseid>{purchaseid}</purchaseid><purchasedate>14/07/2024-09:05</purchasedate>"
        f"<deliveryinformation><shippingtype>Suivi</shippingtype>{delivery}</deliveryinformation>"
        f"{extra}{body}</sale>"
    )


def _one_sale(sale: str, **kwargs: str) -> Sale:
    page = parse_sales_page(_root(_sales_document(f"<sales>{sale}</sales>", **kwargs)))
    assert len(page.sales) == 1
    return page.sales[0]


FULL_SALE = """
<sale>
  <purchaseid><![CDATA[
      271828182 ]]></purchaseid>
  <purchasedate>21/07/2024-14:30</purchasedate>
  <deliveryinformation>
    <shippingtype><![CDATA[Point relais Mondial Relay]]></shippingtype>
    <isfullrsl>N</isfullrsl>
    <purchasebuyerlogin><![CDATA[  lecteur_assidu  ]]></purchasebuyerlogin>
    <purchasebuyeremail>lecteur@example.org</purchasebuyeremail>
    <billingaddress>
      <civility>Mme</civility>
      <lastname><![CDATA[Lefèvre]]></lastname>
      <firstname><![CDATA[Hélène]]></firstname>
      <address1><![CDATA[3 rue de l'Église]]></address1>
      <address2><![CDATA[]]></address2>
      <zipcode>69002</zipcode>
      <city><![CDATA[Lyon]]></city>
      <country><![CDATA[France]]></country>
      <countryalpha2>FX</countryalpha2>
      <phonenumber1></phonenumber1>
      <phonenumber2>0611223344</phonenumber2>
    </billingaddress>
    <collectionpointaddress>
      <civility>Mme</civility>
      <lastname><![CDATA[Lefèvre]]></lastname>
      <firstname><![CDATA[Hélène]]></firstname>
      <id>FR-084735</id>
      <name><![CDATA[Tabac de la Gare & Presse]]></name>
      <address><![CDATA[12 place Bellecour]]></address>
      <zipcode>69002</zipcode>
      <city><![CDATA[Lyon]]></city>
      <country><![CDATA[France]]></country>
      <contractlevel>24R</contractlevel>
    </collectionpointaddress>
  </deliveryinformation>
  <items>
    <item>
      <sku><![CDATA[LIV-0042]]></sku>
      <advertid>998877</advertid>
      <advertpricelisted><amount>19.9</amount><currency>EUR</currency></advertpricelisted>
      <itemid>11223344</itemid>
      <headline><![CDATA[
         L'Étranger – Camus <édition poche>  ]]></headline>
      <itemstatus><![CDATA[ACCEPTED]]></itemstatus>
      <ispreorder>Y</ispreorder>
      <isnego>true</isnego>
      <negotiationcomment><![CDATA[Prix négocié]]></negotiationcomment>
      <price><amount>17,5</amount><currency>eur</currency></price>
      <isrsl>N</isrsl>
      <isbn>9782070360024</isbn>
      <ean>9782070360024;3020120019963;</ean>
      <paymentstatus>INCOMING</paymentstatus>
      <sellerscore/>
      <somethingnew><nested>ignored</nested></somethingnew>
    </item>
  </items>
</sale>
"""


def test_a_full_sale_is_read_field_by_field() -> None:
    page = parse_sales_page(_root(_sales_document(f"<sales>{FULL_SALE}</sales>", action="getcurrentsales")))
    assert (page.seller_id, page.last_version, page.next_token) == ("1234", "2017-08-07", None)
    (sale,) = page.sales
    assert sale.purchaseid == "271828182"
    assert sale.purchase_date == datetime(2024, 7, 21, 14, 30, tzinfo=PARIS)
    assert sale.shipping_type == "Point relais Mondial Relay"
    assert sale.buyer_login == "lecteur_assidu"
    assert sale.buyer_email == "lecteur@example.org"
    assert sale.is_full_rsl is False
    assert sale.delivery_address is None

    billing = sale.billing_address
    assert billing is not None
    assert billing.kind is AddressKind.BILLING
    assert (billing.civility, billing.firstname, billing.lastname) == ("Mme", "Hélène", "Lefèvre")
    assert (billing.address1, billing.address2) == ("3 rue de l'Église", None)
    assert (billing.zipcode, billing.city, billing.country, billing.country_code) == ("69002", "Lyon", "France", "FR")
    assert (billing.phone1, billing.phone2, billing.phone) == (None, "0611223344", "0611223344")
    assert billing.point_id is None

    relay = sale.collection_point
    assert relay is not None
    assert relay.kind is AddressKind.COLLECTION_POINT
    assert (relay.point_id, relay.point_name, relay.contract_level) == ("FR-084735", "Tabac de la Gare & Presse", "24R")
    assert relay.address1 == "12 place Bellecour"
    assert sale.ship_to is relay

    (item,) = sale.items
    assert item.itemid == "11223344"
    assert item.headline == "L'Étranger – Camus <édition poche>"
    assert item.status == "ACCEPTED"
    assert item.state is ItemStatus.ACCEPTED
    assert (item.sku, item.advertid, item.isbn) == ("LIV-0042", "998877", "9782070360024")
    assert item.price == Money(Decimal("17.5"), "EUR")
    assert item.advert_price == Money(Decimal("19.9"), "EUR")
    assert (item.is_preorder, item.is_nego, item.is_fulfilled_by_rakuten) == (True, True, False)
    assert item.negotiation_comment == "Prix négocié"
    assert item.eans == ("9782070360024", "3020120019963")
    assert item.payment_status == "INCOMING"


def test_the_same_sale_in_windows_1252_and_utf8_reads_the_same() -> None:
    document = _sales_document(f"<sales>{FULL_SALE}</sales>").replace("Camus", "Camus – 10 € l’œuvre")
    from_cp1252 = parse_sales_page(_root(document, encoding="cp1252"))
    from_utf8 = parse_sales_page(_root(document, encoding="utf-8"))
    assert from_cp1252 == from_utf8
    assert "10 € l’œuvre" in from_utf8.sales[0].items[0].headline


# ----------------------------------------------------------------------------------- purchase dates


@pytest.mark.parametrize(
    ("raw", "expected_utc"),
    [
        ("21/07/2024-14:30", datetime(2024, 7, 21, 12, 30, tzinfo=UTC)),  # summer: UTC+2
        ("15/01/2024-09:05", datetime(2024, 1, 15, 8, 5, tzinfo=UTC)),  # winter: UTC+1
        ("1/2/2024-7:05", datetime(2024, 2, 1, 6, 5, tzinfo=UTC)),
        ("21/07/2024-14:30:15", datetime(2024, 7, 21, 12, 30, 15, tzinfo=UTC)),
        (" 21/07/2024 14:30 ", datetime(2024, 7, 21, 12, 30, tzinfo=UTC)),
        ("21/07/2024", datetime(2024, 7, 20, 22, 0, tzinfo=UTC)),
        ("2024-07-21T14:30:00", datetime(2024, 7, 21, 12, 30, tzinfo=UTC)),
    ],
)
def test_purchase_dates_are_paris_time(raw: str, expected_utc: datetime) -> None:
    parsed = parse_purchase_date(raw)
    assert parsed is not None
    assert parsed.tzinfo is not None
    assert parsed == expected_utc
    assert parsed.utcoffset() == (timedelta(hours=2) if parsed.month in (7,) else timedelta(hours=1))


@pytest.mark.parametrize("raw", [None, "", "WRONGDATE", "31/02/2024-10:00", "21/07/2024-25:00", "21-07-2024"])
def test_unreadable_purchase_dates_give_none(raw: str | None) -> None:
    assert parse_purchase_date(raw) is None


def test_a_sale_with_an_unreadable_date_is_still_read() -> None:
    sale = _one_sale(_sale().replace("14/07/2024-09:05", "demain"))
    assert sale.purchase_date is None
    assert sale.purchaseid == "500"


# -------------------------------------------------------------------------------------- empty values

EMPTY_FORMS = ["<sku/>", "<sku></sku>", "<sku><![CDATA[]]></sku>", "<sku>   </sku>", "<sku><![CDATA[ \n\t ]]></sku>"]


@pytest.mark.parametrize("form", EMPTY_FORMS)
def test_empty_forms_become_none(form: str) -> None:
    sale = _one_sale(_sale(items=f"<items>{_item(extra=form)}</items>"))
    assert sale.items[0].sku is None


def test_cdata_with_stray_whitespace_and_newlines_is_stripped() -> None:
    sku = "<sku>  <![CDATA[\n  ABC-1 \r\n ]]>\n</sku>"
    sale = _one_sale(_sale(items=f"<items>{_item(extra=sku)}</items>"))
    assert sale.items[0].sku == "ABC-1"


def test_missing_headline_and_status_become_empty_strings() -> None:
    sale = _one_sale(_sale(items="<items><item><itemid>9</itemid></item></items>"))
    item = sale.items[0]
    assert (item.headline, item.status, item.state) == ("", "", ItemStatus.UNKNOWN)


# ------------------------------------------------------------------------------------- flags & money


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Y", True), ("y", True), ("true", True), ("TRUE", True), ("1", True), ("Oui", True), ("N", False),
     ("false", False), ("0", False), ("", False), ("maybe", False)],
)
def test_flags(raw: str, expected: bool) -> None:
    sale = _one_sale(_sale(items=f"<items>{_item(extra=f'<ispreorder>{raw}</ispreorder>')}</items>"))
    assert sale.items[0].is_preorder is expected


@pytest.mark.parametrize("element", ["isrsl", "is_fulfilment", "isfulfilment"])
def test_fulfilled_by_rakuten_under_each_name(element: str) -> None:
    sale = _one_sale(_sale(items=f"<items>{_item(extra=f'<{element}>Y</{element}>')}</items>"))
    assert sale.items[0].is_fulfilled_by_rakuten is True


def test_full_rsl_flag_on_the_sale() -> None:
    sale = _one_sale(_sale(delivery="<isfullrsl>Y</isfullrsl>"))
    assert sale.is_full_rsl is True


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ("<amount>23.9</amount><currency>EUR</currency>", Money(Decimal("23.9"), "EUR")),
        ("<amount> 13,50 </amount><currency/>", Money(Decimal("13.50"), "EUR")),
        ("<amount>1 234,50</amount><currency>EUR</currency>", Money(Decimal("1234.50"), "EUR")),
        ("<amount>1.234,50</amount><currency>EUR</currency>", Money(Decimal("1234.50"), "EUR")),
        ("<amount>1,234.50</amount><currency>EUR</currency>", Money(Decimal("1234.50"), "EUR")),
        ("<amount>0.0</amount><currency>GBP</currency>", Money(Decimal("0.0"), "GBP")),
        ("12.5", Money(Decimal("12.5"), "EUR")),
        ("<amount></amount><currency>EUR</currency>", None),
        ("<amount>gratuit</amount><currency>EUR</currency>", None),
        ("<amount>NaN</amount><currency>EUR</currency>", None),
        ("", None),
    ],
)
def test_money(price: str, expected: Money | None) -> None:
    sale = _one_sale(_sale(items=f"<items>{_item(extra=f'<price>{price}</price>')}</items>"))
    assert sale.items[0].price == expected


def test_ean_list_drops_empty_parts() -> None:
    sale = _one_sale(_sale(items=f"<items>{_item(extra='<ean>;123; ;456;;</ean>')}</items>"))
    assert sale.items[0].eans == ("123", "456")


# ------------------------------------------------------------------------------------ structure quirks


def test_lone_sale_without_sales_wrapper() -> None:
    page = parse_sales_page(_root(_sales_document(_sale("77"))))
    assert [sale.purchaseid for sale in page.sales] == ["77"]


def test_lone_item_without_items_wrapper() -> None:
    sale = _one_sale(_sale(items=_item("42")))
    assert [item.itemid for item in sale.items] == ["42"]


def test_several_sales_and_items_keep_their_order() -> None:
    sales = _sale("1", items=f"<items>{_item('11')}{_item('12')}{_item('13')}</items>") + _sale("2")
    page = parse_sales_page(_root(_sales_document(f"<sales>{sales}</sales>")))
    assert [sale.purchaseid for sale in page.sales] == ["1", "2"]
    assert [item.itemid for item in page.sales[0].items] == ["11", "12", "13"]


def test_no_sales_gives_an_empty_page() -> None:
    page = parse_sales_page(_root(_sales_document("<sales/>")))
    assert page.sales == ()
    assert page.seller_id == "1234"


def test_next_token_is_read() -> None:
    page = parse_sales_page(
        _root(_sales_document("<sales/>", action="getcurrentsales", response_extra="<nexttoken>abc==</nexttoken>"))
    )
    assert page.next_token == "abc=="


def test_unknown_elements_are_ignored() -> None:
    extra = "<futurefield>x</futurefield><bonus><nested><deeper>1</deeper></nested></bonus>"
    sale = _one_sale(_sale(extra=extra, items=f"<items>{_item(extra=extra)}</items>"))
    assert sale.purchaseid == "500"
    assert sale.items[0].itemid == "1001"


def test_older_schema_with_delivery_fields_on_the_sale_itself() -> None:
    sale_xml = (
        "<sale><purchaseid>8</purchaseid><shippingtype>Express</shippingtype>"
        "<purchasebuyerlogin>bob</purchasebuyerlogin>"
        "<deliveryaddress><address1>1 rue A</address1><city>Paris</city></deliveryaddress>"
        f"{_item()}</sale>"
    )
    sale = _one_sale(sale_xml)
    assert sale.shipping_type == "Express"
    assert sale.buyer_login == "bob"
    assert sale.delivery_address is not None
    assert sale.delivery_address.city == "Paris"


def test_sale_without_purchaseid_is_skipped_with_a_warning_free_of_personal_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    orphan = (
        "<sale><purchasedate>14/07/2024-09:05</purchasedate><deliveryinformation><deliveryaddress>"
        "<lastname>Durand</lastname><address1>5 rue Secrète</address1><city>Nantes</city>"
        f"</deliveryaddress></deliveryinformation><items>{_item()}</items></sale>"
    )
    with caplog.at_level(logging.WARNING, logger="rakuten.parsing"):
        page = parse_sales_page(_root(_sales_document(f"<sales>{orphan}{_sale('2')}</sales>")))
    assert [sale.purchaseid for sale in page.sales] == ["2"]
    assert "without purchaseid" in caplog.text
    assert "Durand" not in caplog.text
    assert "Secrète" not in caplog.text


def test_item_without_itemid_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    items = "<items><item><headline>Sans id</headline></item>" + _item("5") + "</items>"
    with caplog.at_level(logging.WARNING, logger="rakuten.parsing"):
        sale = _one_sale(_sale("31", items=items))
    assert [item.itemid for item in sale.items] == ["5"]
    assert "without itemid in sale 31" in caplog.text


def test_document_without_response_is_malformed() -> None:
    with pytest.raises(MalformedResponseError, match="unexpected document"):
        parse_sales_page(_root("<getnewsalesresult><request/></getnewsalesresult>"))


def test_parse_functions_raise_on_an_errorresponse_too() -> None:
    root = _root("<errorresponse><error><code>InvalidUserConnection</code></error></errorresponse>")
    with pytest.raises(AuthenticationError):
        parse_sales_page(root)


# ----------------------------------------------------------------------------------- ship-to & express

DELIVERY = (
    "<deliveryaddress><firstname>Ana</firstname><address1>1 rue A</address1><zipcode>75001</zipcode>"
    "</deliveryaddress>"
)
BILLING = "<billingaddress><firstname>Bea</firstname><address1>2 rue B</address1><city>Lille</city></billingaddress>"
RELAY = "<collectionpointaddress><id>FR-1</id><name>Relais</name><city>Metz</city></collectionpointaddress>"


@pytest.mark.parametrize(
    ("blocks", "expected_kind"),
    [
        (DELIVERY + BILLING + RELAY, AddressKind.DELIVERY),
        (RELAY + BILLING, AddressKind.COLLECTION_POINT),
        (BILLING, AddressKind.BILLING),
        ("", None),
        ("<deliveryaddress><firstname>Ana</firstname></deliveryaddress>", None),
        ("<deliveryaddress><civility/><city/></deliveryaddress>" + BILLING, AddressKind.BILLING),
    ],
    ids=["delivery", "relay", "billing-only", "none", "unusable-delivery", "empty-delivery-then-billing"],
)
def test_ship_to_rule(blocks: str, expected_kind: AddressKind | None) -> None:
    sale = _one_sale(_sale(delivery=blocks))
    ship_to = sale.ship_to
    assert (ship_to.kind if ship_to is not None else None) == expected_kind


def test_an_address_block_with_only_empty_fields_is_none() -> None:
    sale = _one_sale(_sale(delivery="<deliveryaddress><civility/><city><![CDATA[]]></city></deliveryaddress>"))
    assert sale.delivery_address is None


@pytest.mark.parametrize(
    ("shipping_type", "express"),
    [("EXPRESS", True), ("Livraison Express", True), ("exprèss", True), ("EXPRESS_DELIVERY", True),
     ("Suivi", False), ("Recommandé", False), ("", False)],
)
def test_express_detection_is_case_and_accent_insensitive(shipping_type: str, express: bool) -> None:
    sale_xml = _sale().replace("<shippingtype>Suivi</shippingtype>", f"<shippingtype>{shipping_type}</shippingtype>")
    sale = _one_sale(sale_xml)
    assert sale.is_express is express


# ------------------------------------------------------------------------------------------- errors

NOW = datetime(2024, 7, 21, 12, 34, 56, tzinfo=UTC)


def _error(type_: str, code: str, message: str, *details: str) -> etree._Element:
    detail_xml = "".join(f"<detail><![CDATA[{detail}]]></detail>" for detail in details)
    return _root(
        f'<?xml version="1.0" encoding="ISO-8859-1"?><errorresponse xmlns="{NS}error"><error>'
        f"<type>{type_}</type><code>{code}</code><message><![CDATA[{message}]]></message>"
        f"<details>{detail_xml}</details></error></errorresponse>"
    )


def test_invalid_user_connection_is_an_authentication_error() -> None:
    root = _error("Sender", "InvalidUserConnection", "Unknown user or password.")
    with pytest.raises(AuthenticationError) as caught:
        raise_for_error(root, action="getitemtodolist")
    assert caught.value.code == "InvalidUserConnection"
    assert not caught.value.retryable
    assert str(caught.value) == "getitemtodolist: Unknown user or password. (InvalidUserConnection)"


def test_quota_exceeded_waits_for_the_next_hour() -> None:
    root = _error(
        "Sender", "InvalidUserRights", "Quota exceeded.", "You have exceeded the maximum number of requests per hour."
    )
    with pytest.raises(QuotaExceededError) as caught:
        raise_for_error(root, action="getnewsales", status_code=200, now=NOW)
    error = caught.value
    assert error.retry_at == datetime(2024, 7, 21, 13, 0, tzinfo=UTC)
    assert error.retry_at.tzinfo is UTC
    assert error.status_code == 200
    assert not error.retryable
    assert error.details == ("You have exceeded the maximum number of requests per hour.",)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2024, 7, 21, 13, 0, tzinfo=UTC), datetime(2024, 7, 21, 14, 0, tzinfo=UTC)),
        (datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2025, 1, 1, 0, 0, tzinfo=UTC)),
        (datetime(2024, 7, 21, 14, 34, tzinfo=PARIS), datetime(2024, 7, 21, 13, 0, tzinfo=UTC)),
    ],
)
def test_quota_retry_at_edges(now: datetime, expected: datetime) -> None:
    with pytest.raises(QuotaExceededError) as caught:
        raise_for_error(_error("Sender", "InvalidUserRights", "QUOTA exceeded"), action="getnewsales", now=now)
    assert caught.value.retry_at == expected


def test_quota_retry_at_defaults_to_the_current_time() -> None:
    with pytest.raises(QuotaExceededError) as caught:
        raise_for_error(_error("Sender", "InvalidUserRights", "Quota exceeded."), action="getnewsales")
    delay = caught.value.retry_at - datetime.now(UTC)
    assert timedelta(0) < delay <= timedelta(hours=1)
    assert caught.value.retry_at.minute == 0


def test_other_invalid_user_rights_is_permission_denied() -> None:
    with pytest.raises(PermissionDeniedError):
        raise_for_error(_error("Sender", "InvalidUserRights", "Reserved to professional sellers."), action="x")


def test_parameter_error_keeps_every_detail() -> None:
    root = _error(
        "Sender", "ParameterError", "Problem with parameters.", "The parameter 'itemid' is invalid.", "Second."
    )
    with pytest.raises(ParameterError) as caught:
        raise_for_error(root, action="acceptsale", status_code=400)
    assert caught.value.details == ("The parameter 'itemid' is invalid.", "Second.")
    assert caught.value.status_code == 400
    assert "The parameter 'itemid' is invalid." in str(caught.value)


@pytest.mark.parametrize(("type_", "code"), [("ServerError", "ServerError"), ("ServerError", ""), ("", "ServerError")])
def test_server_error_is_retryable(type_: str, code: str) -> None:
    root = _error(type_, code, "Server not able to fullfill request.")
    with pytest.raises(ServerError) as caught:
        raise_for_error(root, action="getnewsales", status_code=200)
    assert caught.value.retryable
    assert caught.value.status_code == 200


def test_anything_else_is_a_business_error() -> None:
    root = _error("Sender", "Unknown error", "Article 123 : a déjà été expédié")
    with pytest.raises(BusinessError) as caught:
        raise_for_error(root, action="settrackingpackageinfos")
    assert "a déjà été expédié" in str(caught.value)
    assert not caught.value.retryable


def test_error_fields_directly_under_errorresponse_are_tolerated() -> None:
    root = _root("<errorresponse><code>ParameterError</code><detail>bad</detail></errorresponse>")
    with pytest.raises(ParameterError) as caught:
        raise_for_error(root, action="x")
    assert caught.value.details == ("bad",)


def test_a_result_document_raises_nothing() -> None:
    raise_for_error(_root(_sales_document("<sales/>")), action="getnewsales", status_code=500)


# ---------------------------------------------------------------------------------- per-item actions


def test_accept_status_and_extra_fields() -> None:
    root = _root(
        f'<saleacceptanceresult xmlns="{NS}saleacceptance"><request><itemid>9</itemid></request><response>'
        "<lastversion>2021-04-08</lastversion><status>Accepted</status><shippingfromcountry>FR</shippingfromcountry>"
        "<importcountry>FR</importcountry><onestopshop><type>NONE</type><value/></onestopshop></response>"
        "</saleacceptanceresult>",
        action="acceptsale",
    )
    result = parse_action_status(root, action="acceptsale", itemid="9")
    assert (result.action, result.itemid, result.status) == ("acceptsale", "9", "Accepted")
    assert result.extra == {
        "lastversion": "2021-04-08",
        "shippingfromcountry": "FR",
        "importcountry": "FR",
        "onestopshop.type": "NONE",
    }


def _status_document(root: str, status: str, *, response: bool = True) -> etree._Element:
    body = f"<lastversion>2011-02-02</lastversion>{status}"
    inner = f"<response>{body}</response>" if response else body
    return _root(f'<{root} xmlns="{NS}x"><request><itemid>3</itemid></request>{inner}</{root}>')


ACTION_ROOTS = {
    "acceptsale": "saleacceptanceresult",
    "refusesale": "salerefusalresult",
    "settrackingpackageinfos": "setshippingpackageinfosresult",
    "cancelitem": "cancelitemresult",
    "contactuseraboutitem": "contactuseraboutitemresult",
}


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("acceptsale", "<status>Accepted</status>"),
        ("acceptsale", "<status><![CDATA[\n   ACCEPTED\n ]]></status>"),
        ("refusesale", "<status>Refused</status>"),
        ("refusesale", "<statut> refused </statut>"),
        ("settrackingpackageinfos", "<status><![CDATA[ OK ]]></status>"),
        ("settrackingpackageinfos", "<status>\n  ok\n</status>"),
        ("cancelitem", "<status>CANCELLED</status>"),
        ("contactuseraboutitem", "<status><![CDATA[SENT]]></status>"),
    ],
)
def test_the_status_that_means_done_makes_a_result(action: str, status: str) -> None:
    result = parse_action_status(_status_document(ACTION_ROOTS[action], status), action=action, itemid="3")
    assert result.status.casefold() == _plain_status(status).casefold()
    assert result.extra == {"lastversion": "2011-02-02"}


def _plain_status(status: str) -> str:
    return etree.fromstring(f"<x>{status}</x>")[0].text.strip()


@pytest.mark.parametrize(
    ("action", "status", "shown"),
    [
        ("acceptsale", "<status>PENDING</status>", "“PENDING”"),
        ("acceptsale", "<status>OK</status>", "“OK”"),  # another action's word is not this one's
        ("acceptsale", "<status>Refused</status>", "“Refused”"),
        ("refusesale", "<status>Accepted</status>", "“Accepted”"),
        ("settrackingpackageinfos", "<status><![CDATA[\n  KO : numéro incorrect\n]]></status>", "“KO : numéro"),
        ("settrackingpackageinfos", "<status>OK : done</status>", "“OK : done”"),
        ("cancelitem", "<status>This item cannot be cancelled</status>", "cannot be cancelled"),
        ("contactuseraboutitem", "<status>NOT_SENT</status>", "“NOT_SENT”"),
        ("acceptsale", "<status/>", "without a status"),
        ("acceptsale", "<status></status>", "without a status"),
        ("acceptsale", "<status><![CDATA[]]></status>", "without a status"),
        ("refusesale", "<status><![CDATA[\n  \n]]></status>", "without a status"),
        ("settrackingpackageinfos", "", "without a status"),
    ],
)
def test_any_other_status_is_a_business_error_with_rakutens_word(action: str, status: str, shown: str) -> None:
    with pytest.raises(UnexpectedStatusError) as caught:
        parse_action_status(_status_document(ACTION_ROOTS[action], status), action=action, itemid="3")
    error = caught.value
    assert isinstance(error, BusinessError)
    assert not error.retryable
    assert shown in str(error)
    assert error.action == action


@pytest.mark.parametrize(
    ("action", "document"),
    [
        # a document of another action, even one that says that action went well
        ("acceptsale", "<setshippingpackageinfosresult><response><status>OK</status></response>"
         "</setshippingpackageinfosresult>"),
        ("settrackingpackageinfos", "<saleacceptanceresult><response><status>Accepted</status></response>"
         "</saleacceptanceresult>"),
        ("refusesale", "<saleacceptanceresult><response><status>Refused</status></response></saleacceptanceresult>"),
        ("acceptsale", "<getnewsalesresult><response><status>Accepted</status></response></getnewsalesresult>"),
        ("acceptsale", "<response><status>Accepted</status></response>"),
        # the right root without its response element
        ("acceptsale", "<saleacceptanceresult><status>Accepted</status></saleacceptanceresult>"),
        ("refusesale", "<salerefusalresult><request><itemid>3</itemid></request></salerefusalresult>"),
        ("settrackingpackageinfos", "<setshippingpackageinfosresult/>"),
    ],
)
def test_a_document_without_the_expected_root_or_response_is_malformed(action: str, document: str) -> None:
    with pytest.raises(MalformedResponseError, match="unexpected document") as caught:
        parse_action_status(_root(document), action=action, itemid="3")
    assert caught.value.retryable


@pytest.mark.parametrize("root", ["salerefusalresult", "refusesaleresult", "Salerefusalresult"])
def test_refusesale_whose_root_was_never_seen_takes_any_root_of_its_own(root: str) -> None:
    result = parse_action_status(_status_document(root, "<status>Refused</status>"), action="refusesale", itemid="3")
    assert result.status == "Refused"


def test_an_error_answer_to_an_action_is_still_the_error() -> None:
    document = (
        "<errorresponse><error><type>Sender</type><code>InvalidItemStatus</code><message>No.</message>"
        "<details><detail>Article 3 : a déjà été expédié</detail></details></error></errorresponse>"
    )
    with pytest.raises(BusinessError) as caught:
        parse_action_status(_root(document), action="settrackingpackageinfos", itemid="3")
    assert not isinstance(caught.value, UnexpectedStatusError)
    assert caught.value.details == ("Article 3 : a déjà été expédié",)


# ---------------------------------------------------------------------------------- after-sale data


def test_todo_list_wrapped_and_lone() -> None:
    wrapped = _root(
        "<getitemtodolistresult><response><sellerid>55</sellerid><items>"
        "<item><itemid>1</itemid><causes><cause>CLAIM</cause><cause>UNREAD_MESSAGE_FROM_BUYER</cause></causes></item>"
        "<item><itemid>2</itemid><cause>UNREAD_MESSAGE_FROM_CUSTOMER_SERVICE</cause></item>"
        "<item><causes><cause>CLAIM</cause></causes></item>"
        "</items></response></getitemtodolistresult>"
    )
    todo = parse_todo_list(wrapped)
    assert todo.seller_id == "55"
    assert [(item.itemid, item.causes) for item in todo.items] == [
        ("1", ("CLAIM", "UNREAD_MESSAGE_FROM_BUYER")),
        ("2", ("UNREAD_MESSAGE_FROM_CUSTOMER_SERVICE",)),
    ]
    lone = parse_todo_list(
        _root("<getitemtodolistresult><response><item><itemid>7</itemid></item></response></getitemtodolistresult>")
    )
    assert [(item.itemid, item.causes) for item in lone.items] == [("7", ())]


def test_empty_todo_list() -> None:
    todo = parse_todo_list(
        _root("<getitemtodolistresult><response><sellerid>55</sellerid><items/></response></getitemtodolistresult>")
    )
    assert (todo.seller_id, todo.items) == ("55", ())


def _money_xml(name: str, amount: str) -> str:
    return f"<{name}><amount>{amount}</amount><currency>EUR</currency></{name}>"


def test_billing_information() -> None:
    item = (
        "<item><itemid>1</itemid><sku>S1</sku><headline><![CDATA[Dune]]></headline><itemstatus>ACCEPTED</itemstatus>"
        + _money_xml("itemsaleprice", "20.0")
        + _money_xml("shippingsaleprice", "4.5")
        + _money_xml("itemcommissionexcltax", "2.0")
        + _money_xml("itemcommissionvat", "0.4")
        + _money_xml("shippingcommissionexcltax", "0.5")
        + _money_xml("shippingcommissionvat", "0.1")
        + _money_xml("paymentamount", "21.5")
        + "</item>"
    )
    bare = "<item><itemid>2</itemid></item><item><sku>no id</sku></item>"
    root = _root(
        f"<getbillinginformationresult><response><billinginformation><items>{item}{bare}</items>"
        "</billinginformation></response></getbillinginformationresult>"
    )
    billing = parse_billing_information(root, "500")
    assert billing.purchaseid == "500"
    first, second = billing.items
    assert (first.itemid, first.sku, first.headline, first.status) == ("1", "S1", "Dune", "ACCEPTED")
    assert first.item_sale_price == Money(Decimal("20.0"))
    assert first.shipping_sale_price == Money(Decimal("4.5"))
    assert first.commission == Money(Decimal("3.0"))
    assert first.payment_amount == Money(Decimal("21.5"))
    assert (second.itemid, second.commission, second.item_sale_price) == ("2", None, None)
    assert billing.total == Money(Decimal("24.5"))


def test_shipping_information_with_prepaid_label() -> None:
    root = _root(
        "<getshippinginformationresult><response><shippinginformation>"
        "<shippingtype><![CDATA[So Colissimo]]></shippingtype>"
        "<prepaidlabel><available>Y</available><availabilitydetail>Ready</availabilitydetail>"
        "<prepaidlabelurl>https://example.org/label.pdf</prepaidlabelurl>"
        "<trackinginformation><trackingnumber>6A12345678901</trackingnumber>"
        "<trackingurl>https://example.org/t/6A12345678901</trackingurl></trackinginformation></prepaidlabel>"
        + _money_xml("purchaseshippingcostprice", "5.9")
        + "<purchasebuyerlogin>bob</purchasebuyerlogin><purchasebuyeremail>bob@example.org</purchasebuyeremail>"
        "<billingaddress><lastname>Martin</lastname><address1>1 rue</address1><city>Caen</city>"
        "<countryalpha2>fx</countryalpha2><phonenumber1/><phonenumber2>0700000000</phonenumber2></billingaddress>"
        "</shippinginformation></response></getshippinginformationresult>"
    )
    info = parse_shipping_information(root, "500")
    assert (info.purchaseid, info.shipping_type, info.buyer_login, info.buyer_email) == (
        "500",
        "So Colissimo",
        "bob",
        "bob@example.org",
    )
    assert info.buyer_phone == "0700000000"
    assert info.shipping_cost == Money(Decimal("5.9"))
    assert info.billing_address is not None
    assert info.billing_address.country_code == "FR"
    label = info.prepaid_label
    assert label is not None
    assert (label.available, label.detail, label.label_url) == (True, "Ready", "https://example.org/label.pdf")
    assert (label.tracking_number, label.tracking_url) == ("6A12345678901", "https://example.org/t/6A12345678901")


def test_shipping_information_without_label_or_address() -> None:
    root = _root(
        "<getshippinginformationresult><response><shippinginformation><shippingtype>Suivi</shippingtype>"
        "</shippinginformation></response></getshippinginformationresult>"
    )
    info = parse_shipping_information(root, "1")
    assert (info.prepaid_label, info.billing_address, info.buyer_phone, info.shipping_cost) == (None, None, None, None)
