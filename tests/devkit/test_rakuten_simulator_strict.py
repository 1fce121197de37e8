"""The simulator is as strict and as varied as Rakuten: what it refuses, how it words and wraps its answers.

Over real HTTP on loopback, read with lxml directly (never with the project's parser, which these answers test).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from lxml import etree

from devkit.rakuten_simulator import (
    ACCEPTANCE_WINDOW,
    ACCEPTED_CARRIERS,
    ENVELOPES,
    Fault,
    ItemState,
    RakutenSimulator,
)

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


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def server() -> Iterator[RakutenSimulator]:
    with RakutenSimulator(seed=11, page_size=10, clock=lambda: NOW) as simulator:
        yield simulator


@pytest.fixture
def sim(server: RakutenSimulator) -> RakutenSimulator:
    server.reset()
    server.envelope = ENVELOPES["captured"]
    server.add_account(LOGIN, TOKEN, seller_id="12345678")
    return server


def call(
    http: httpx.Client, sim: RakutenSimulator, action: str, /, *, login: str = LOGIN, **params: str
) -> httpx.Response:
    query = {"action": action, "login": login, "pwd": TOKEN, "version": VERSIONS[action], **params}
    return http.get(f"{sim.url}sales_ws", params=query)


def xml(body: bytes) -> etree._Element:
    """Parsed as any XML consumer would (honouring the declaration), namespaces dropped.

    libxml2 refuses a namespace URI with leading spaces (one of Rakuten's quirks), so those are trimmed first.
    """
    body = re.sub(rb'xmlns="\s+', b'xmlns="', body, count=1)
    root = etree.fromstring(body, etree.XMLParser(remove_blank_text=True))
    for element in root.iter(etree.Element):
        element.tag = etree.QName(element).localname
    return root


def error_of(response: httpx.Response) -> tuple[str | None, list[str]]:
    root = xml(response.content)
    assert root.tag == "errorresponse"
    return root.findtext("error/code"), [detail.text.strip() for detail in root.iterfind("error/details/detail")]


def accepted_item(sim: RakutenSimulator) -> str:
    return sim.sale(sim.add_sale(LOGIN, new=False)).items[0].itemid


def new_item(sim: RakutenSimulator, **kwargs: object) -> str:
    return sim.sale(sim.add_sale(LOGIN, **kwargs)).items[0].itemid  # type: ignore[arg-type]


# carriers ----------------------------------------------------------------------------------------------

# rakuten-api.md §5, as each connector spells them.
COMMON_SERVICES = {
    "Colis Prive", "So Colissimo", "Colissimo", "CHRONOPOST", "DPD", "Mondial Relay", "Kiala", "TNT", "UPS",
    "Fedex", "Tatex", "GLS", "DHL", "France Express", "Courrier Suivi", "Exapaq", "Autre",
}  # fmt: skip
PLENTY_ADDITIONS = {
    "Geodis", "WeDo Logistics", "4PX", "Mondial Relay prépayé", "Chronopost", "Cubyn", "DPD Germany", "DPD UK",
    "B2C Europe", "TrackYourParcel", "Yun Express", "China EMS", "Swiss Post", "PostNL International",
    "Royal Mail", "CNE Express", "S.F. Express", "Singapore Post", "Hong Kong Post", "Bpost",
}  # fmt: skip


def test_accepted_carriers_are_the_connectors_lists_with_the_majority_spelling() -> None:
    # CHRONOPOST: Common-Services and WillZWL send it in capitals, plentymarkets alone as "Chronopost".
    assert set(ACCEPTED_CARRIERS) == (COMMON_SERVICES | PLENTY_ADDITIONS) - {"Chronopost"}
    assert len(ACCEPTED_CARRIERS) == len(set(ACCEPTED_CARRIERS))


@pytest.mark.parametrize(
    "carrier", ["Chronopost", "chronopost", "COLISSIMO", "La Poste", "autre", "Mondial Relay prepaye"]
)
def test_a_carrier_name_rakuten_does_not_list_is_refused(
    http: httpx.Client, sim: RakutenSimulator, carrier: str
) -> None:
    itemid = accepted_item(sim)

    response = call(
        http, sim, "settrackingpackageinfos", itemid=itemid, transporter_name=carrier, tracking_number="XY123456789FR"
    )

    assert response.status_code == 400
    assert error_of(response) == ("ParameterError", ["The parameter 'transporter_name' is invalid."])
    assert sim.item(itemid).status is ItemState.ACCEPTED


@pytest.mark.parametrize(
    ("carrier", "number"),
    [
        ("Colissimo", "6A1234567890"),  # 12 characters
        ("So Colissimo", "6A12345678901234"),
        ("CHRONOPOST", "XY12345678"),
        ("Mondial Relay", "MR12345678"),
        ("Mondial Relay prépayé", "1234567"),
        ("UPS", "1Z12345"),
        ("DHL", "12345"),  # any carrier: at least 6 characters
        ("DHL", "JD01 4600 0037"),  # no spaces
        ("Autre", "ABC_123456"),
    ],
)
def test_a_tracking_number_of_the_wrong_shape_for_the_carrier_is_refused(
    http: httpx.Client, sim: RakutenSimulator, carrier: str, number: str
) -> None:
    itemid = accepted_item(sim)

    response = call(
        http,
        sim,
        "settrackingpackageinfos",
        itemid=itemid,
        transporter_name=carrier,
        tracking_number=number,
        tracking_url="https://suivi.example/x",
    )

    assert error_of(response) == ("ParameterError", ["The parameter 'tracking_number' is invalid."])
    assert sim.item(itemid).status is ItemState.ACCEPTED


@pytest.mark.parametrize(
    ("carrier", "number"),
    [
        ("Colissimo", "6A12345678901"),
        ("Colissimo", "cb123456789fr"),  # case is not a matter of shape
        ("So Colissimo", "8R12345678901FR"),
        ("CHRONOPOST", "XY123456789FR"),
        ("CHRONOPOST", "XJ1234567890FR"),
        ("Mondial Relay", "12345678"),
        ("Mondial Relay prépayé", "123456789012"),
        ("UPS", "1Z999AA10123456784"),
        ("DHL", "JJD0146000037"),
        ("GLS", "GLS-12345"),
    ],
)
def test_a_tracking_number_of_the_carriers_shape_ships_the_item(
    http: httpx.Client, sim: RakutenSimulator, carrier: str, number: str
) -> None:
    itemid = accepted_item(sim)

    response = call(
        http, sim, "settrackingpackageinfos", itemid=itemid, transporter_name=carrier, tracking_number=number
    )

    assert xml(response.content).findtext("response/status") == "OK"
    assert sim.item(itemid).status is ItemState.SHIPPED


def test_unknown_and_already_shipped_items_are_refused_in_rakutens_words(
    http: httpx.Client, sim: RakutenSimulator
) -> None:
    itemid = accepted_item(sim)
    tracking = {"transporter_name": "Colissimo", "tracking_number": "6A12345678901"}
    call(http, sim, "settrackingpackageinfos", itemid=itemid, **tracking)

    unknown = call(http, sim, "settrackingpackageinfos", itemid="424242", **tracking)
    again = call(http, sim, "settrackingpackageinfos", itemid=itemid, **tracking)

    assert error_of(unknown) == ("ParameterError", ["The parameter 'itemid' is invalid."])
    assert error_of(again) == ("InvalidItemStatus", [f"Article {itemid} : a déjà été expédié"])


# acceptance deadline ------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["acceptsale", "refusesale"])
def test_a_sale_past_its_acceptance_deadline_can_no_longer_be_answered(
    http: httpx.Client, sim: RakutenSimulator, action: str
) -> None:
    late = new_item(sim, purchase_date=NOW - ACCEPTANCE_WINDOW - timedelta(minutes=1))
    in_time = new_item(sim, purchase_date=NOW - ACCEPTANCE_WINDOW + timedelta(minutes=1))

    refused = call(http, sim, action, itemid=late)
    answered = call(http, sim, action, itemid=in_time)

    assert refused.status_code == 400
    assert error_of(refused) == ("InvalidItemStatus", [f"Article {late} : le délai d'acceptation est dépassé"])
    assert sim.item(late).status is ItemState.TO_CONFIRM
    assert xml(answered.content).findtext("response/status") in ("Accepted", "Refused")
    assert sim.item(in_time).status is not ItemState.TO_CONFIRM


def test_the_acceptance_window_is_four_days_the_longer_reading_of_the_notes() -> None:
    assert timedelta(days=4) == ACCEPTANCE_WINDOW


# status variants ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status"),
    [(Fault.STATUS_UNEXPECTED, "PENDING"), (Fault.STATUS_EMPTY, "")],
)
@pytest.mark.parametrize("action", ["acceptsale", "refusesale", "settrackingpackageinfos"])
def test_status_faults_answer_another_word_and_do_nothing(
    http: httpx.Client, sim: RakutenSimulator, fault: Fault, status: str, action: str
) -> None:
    itemid = accepted_item(sim) if action == "settrackingpackageinfos" else new_item(sim)
    before = sim.item(itemid).status
    sim.inject_fault(action, fault)
    params = {"transporter_name": "DHL", "tracking_number": "JJD0146000037"} if action.startswith("set") else {}

    faulty = call(http, sim, action, itemid=itemid, **params)
    healthy = call(http, sim, action, itemid=itemid, **params)

    assert faulty.status_code == 200
    root = xml(faulty.content)
    assert root.findtext("response/status") == status  # "" only when the element is there, empty
    assert root.findtext("request/itemid") == itemid
    assert xml(healthy.content).findtext("response/status") in ("Accepted", "Refused", "OK")
    assert sim.item(itemid).status is not before  # only the second, healthy call acted


def test_another_actions_document_and_a_missing_response_do_nothing(http: httpx.Client, sim: RakutenSimulator) -> None:
    itemid = new_item(sim)
    sim.inject_fault("acceptsale", Fault.OTHER_ACTION_DOCUMENT)
    sim.inject_fault("acceptsale", Fault.NO_RESPONSE_ELEMENT)

    mixed_up = xml(call(http, sim, "acceptsale", itemid=itemid).content)
    headless = xml(call(http, sim, "acceptsale", itemid=itemid).content)

    assert (mixed_up.tag, mixed_up.findtext("response/status")) == ("setshippingpackageinfosresult", "OK")
    assert (headless.tag, headless.find("response")) == ("saleacceptanceresult", None)
    assert headless.findtext("request/itemid") == itemid
    assert sim.item(itemid).status is ItemState.TO_CONFIRM


def test_a_listing_mixed_up_with_another_keeps_its_content_under_the_other_root(
    http: httpx.Client, sim: RakutenSimulator
) -> None:
    purchaseid = sim.add_sale(LOGIN)
    sim.inject_fault("getnewsales", Fault.OTHER_ACTION_DOCUMENT)

    root = xml(call(http, sim, "getnewsales").content)

    assert root.tag == "getcurrentsalesresult"
    assert [sale.findtext("purchaseid") for sale in root.iterfind("response/sales/sale")] == [purchaseid]


# request echo -------------------------------------------------------------------------------------------


def test_the_request_echo_repeats_the_parameters_as_received(http: httpx.Client, sim: RakutenSimulator) -> None:
    itemid = accepted_item(sim)
    new = new_item(sim)

    tracking = xml(
        call(
            http,
            sim,
            "settrackingpackageinfos",
            itemid=itemid,
            transporter_name="Mondial Relay prépayé",
            tracking_number="12345678",
            tracking_url="https://suivi.example/12345678",
            channel="common-services",
        ).content
    )
    accept = xml(call(http, sim, "acceptsale", itemid=new, shippingfromcountry="fr").content)

    assert [(child.tag, child.text) for child in tracking.find("request")] == [
        ("version", "2016-03-16"),
        ("user", LOGIN),
        ("itemid", itemid),
        ("transporterName", "Mondial Relay prépayé"),
        ("trackingNumber", "12345678"),
        ("trackingUrl", "https://suivi.example/12345678"),
    ]
    assert [(child.tag, child.text) for child in accept.find("request")][2:] == [
        ("itemid", new),
        ("shippingfromcountry", "fr"),
    ]


# envelopes ----------------------------------------------------------------------------------------------


def leaves(root: etree._Element) -> list[tuple[str, str | None]]:
    """Every leaf's path and stripped value (None when empty): what must not change from one envelope to another."""
    tree = root.getroottree()
    return [
        (tree.getpath(element), (element.text or "").strip() or None)
        for element in root.iter(etree.Element)
        if len(element) == 0
    ]


@pytest.mark.parametrize("name", [name for name in ENVELOPES if name != "captured"])
def test_every_envelope_carries_the_same_answers(http: httpx.Client, sim: RakutenSimulator, name: str) -> None:
    sim.add_sale(LOGIN, items=[{"headline": "L’Œuvre & <Cie> 25 € 日本", "sku": ""}], buyer={"lastname": "Lefèvre"})
    sim.add_sale(LOGIN, new=False)
    itemid = accepted_item(sim)
    requests = [
        ("getnewsales", {}),
        ("getcurrentsales", {"purchasedate": "2024-06-01"}),
        ("getitemtodolist", {}),
        ("settrackingpackageinfos", {"itemid": "424242", "transporter_name": "DHL", "tracking_number": "JJD01460"}),
    ]
    captured = [call(http, sim, action, **params) for action, params in requests]
    sim.inject_fault("settrackingpackageinfos", Fault.STATUS_EMPTY)
    empty_status = call(
        http, sim, "settrackingpackageinfos", itemid=itemid, transporter_name="DHL", tracking_number="JJD01460"
    )

    sim.envelope = ENVELOPES[name]
    varied = [call(http, sim, action, **params) for action, params in requests]
    sim.inject_fault("settrackingpackageinfos", Fault.STATUS_EMPTY)
    varied_empty = call(
        http, sim, "settrackingpackageinfos", itemid=itemid, transporter_name="DHL", tracking_number="JJD01460"
    )

    for before, after in zip([*captured, empty_status], [*varied, varied_empty], strict=True):
        assert leaves(xml(after.content)) == leaves(xml(before.content))
        assert after.headers["content-type"] == "text/xml;charset=ISO-8859-1"
    error = varied[-1]
    assert error.status_code == (200 if ENVELOPES[name].errors_http_200 else 400)


def _first_tag(body: bytes) -> bytes:
    start = body.index(b"<", body.index(b"?>") + 2 if body.startswith(b"<?xml") else 0)
    return body[start : body.index(b">", start) + 1]


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("captured", lambda body: body.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')),
        ("no-namespace", lambda body: b"xmlns" not in body and _first_tag(body) == b"<getnewsalesresult>"),
        ("ns-staticpmrk", lambda body: b'xmlns="http://pmcdn.staticpmrk.com/res/schema/getnewsales"' in body),
        ("ns-pminteg", lambda body: b'xmlns="http://akamai.pminteg.fr/res/schema/getnewsales"' in body),
        ("ns-rakuten", lambda body: b'xmlns="https://fr.shopping.rakuten.com/res/schema/getnewsales"' in body),
        (
            "ns-static-rakuten",
            lambda body: b'xmlns="https://static.fr.shopping.rakuten.com/res/schema/getnewsales"' in body,
        ),
        ("ns-leading-spaces", lambda body: b'xmlns="  http://pmcdn.priceminister.com/' in body),
        ("standalone-no", lambda body: body.startswith(b'<?xml version="1.0" encoding="ISO-8859-1" standalone="no"?>')),
        ("utf-8-undeclared", lambda body: body.startswith(b"<getnewsalesresult") and "Lefèvre".encode() in body),
        ("windows-1252", lambda body: body.startswith(b'<?xml version="1.0" encoding="windows-1252"?>')),
        (
            "cdata-padded",
            lambda body: (
                b"<itemid><![CDATA[\n" in body
                and b"<purchaseid><![CDATA[\n" in body
                and b"<lastversion><![CDATA[\n" in body
            ),
        ),
        ("empty-self-closing", lambda body: b"<sku/>" in body and b"<phonenumber2/>" in body),
        ("empty-open-close", lambda body: b"<sku></sku>" in body and b"<sellerscore></sellerscore>" in body),
        ("empty-cdata", lambda body: b"<sku><![CDATA[]]></sku>" in body and b"<sellerscore><![CDATA[]]>" in body),
    ],
)
def test_each_envelope_writes_its_quirk(http: httpx.Client, sim: RakutenSimulator, name: str, check: object) -> None:
    sim.add_sale(LOGIN, items=[{"sku": ""}], buyer={"lastname": "Lefèvre", "phone2": ""})
    sim.envelope = ENVELOPES[name]

    body = call(http, sim, "getnewsales").content

    assert check(body)  # type: ignore[operator]
    assert set(ENVELOPES) == {
        "captured", "no-namespace", "ns-staticpmrk", "ns-pminteg", "ns-rakuten", "ns-static-rakuten",
        "ns-leading-spaces", "standalone-no", "utf-8-undeclared", "windows-1252", "cdata-padded",
        "empty-self-closing", "empty-open-close", "empty-cdata",
    }  # fmt: skip


def test_the_padded_envelope_pads_statuses_too(http: httpx.Client, sim: RakutenSimulator) -> None:
    sim.envelope = ENVELOPES["cdata-padded"]
    itemid = new_item(sim)

    body = call(http, sim, "acceptsale", itemid=itemid).content

    assert b"<status><![CDATA[\n    Accepted\n  ]]></status>" in body


def test_an_account_can_have_its_own_envelope(http: httpx.Client, sim: RakutenSimulator) -> None:
    sim.add_account("autre-boutique", TOKEN, envelope="no-namespace")

    own = call(http, sim, "getitemtodolist", login="autre-boutique")
    default = call(http, sim, "getitemtodolist")
    refused = call(http, sim, "acceptsale", login="autre-boutique", itemid="424242")

    assert b"xmlns" not in own.content
    assert b'xmlns="http://pmcdn.priceminister.com/res/schema/getitemtodolist"' in default.content
    assert refused.status_code == 200  # that envelope sends its errors with HTTP 200
    assert error_of(refused)[0] == "ParameterError"
    with pytest.raises(ValueError, match="unknown envelope"):
        sim.add_account("x", "y", envelope="gzip")


def test_reset_forgets_everything_but_keeps_serving(http: httpx.Client, sim: RakutenSimulator) -> None:
    sim.add_sale(LOGIN)
    sim.inject_fault(None, Fault.SERVER_ERROR, times=-1)

    sim.reset()
    sim.add_account(LOGIN, TOKEN)

    response = call(http, sim, "getnewsales")
    assert response.status_code == 200
    assert xml(response.content).find("response/sales/sale") is None
    assert [request.action for request in sim.requests] == ["getnewsales"]


def test_the_command_line_serves_the_envelope_it_is_given(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from devkit.rakuten_simulator import DEMO_LOGIN, DEMO_TOKEN
    from devkit.rakuten_simulator import __main__ as command_line

    started: list[RakutenSimulator] = []
    listening = threading.Event()

    class Recorded(RakutenSimulator):
        # The command line generates the new sales last, once it listens: then it is ready.
        def generate_sales(self, login: str, count: int, **kwargs: Any) -> list[str]:
            purchaseids = super().generate_sales(login, count, **kwargs)
            if kwargs.get("new", True):
                started.append(self)
                listening.set()
            return purchaseids

    monkeypatch.setattr(command_line, "RakutenSimulator", Recorded)
    stop = threading.Event()
    argv = ["--envelope", "no-namespace", "--orders", "1"]
    runner = threading.Thread(target=command_line.main, args=(argv,), kwargs={"stop": stop})
    runner.start()
    try:
        assert listening.wait(timeout=10)
        query = {"action": "getnewsales", "login": DEMO_LOGIN, "pwd": DEMO_TOKEN, "version": "2017-08-07"}
        body = http.get(f"{started[0].url}sales_ws", params=query).content
    finally:
        stop.set()
        runner.join(timeout=10)
    assert body.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<getnewsalesresult>')
