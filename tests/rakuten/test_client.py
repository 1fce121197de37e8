"""RakutenClient against the bundled simulator over real HTTP on loopback, plus a few MockTransport cases
for failures the simulator does not produce (exceptions carrying the URL, cursors that loop).

Every test that talks to the simulator runs once per envelope Rakuten has been seen to use (namespaces,
encodings, CDATA padding, empty forms, errors with HTTP 200: ``devkit.rakuten_simulator.ENVELOPES``), so that
no parsing assumption can hide behind the one the simulator writes by default. One server per envelope serves
the whole module; each test starts from a reset one.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from devkit.rakuten_simulator import ACCEPTANCE_WINDOW, ENVELOPES, Fault, RakutenSimulator
from rakuten import (
    CARRIERS,
    AuthenticationError,
    BusinessError,
    InvalidTrackingError,
    ItemStatus,
    MalformedResponseError,
    ParameterError,
    PermissionDeniedError,
    QuotaExceededError,
    RakutenClient,
    RakutenError,
    RetryPolicy,
    ServerError,
    TransportError,
    UnexpectedStatusError,
)
from rakuten.actions import VERSIONS, Action

LOGIN = "boutique"
TOKEN = "T0k3n-9f8e7d6c5b4a39281706"
FAST = RetryPolicy(attempts=4, initial_wait=0.001, max_wait=0.01)
FIXED_NOW = datetime(2024, 7, 21, 12, 34, 56, tzinfo=UTC)


@pytest.fixture(scope="module", params=list(ENVELOPES))
def served(request: pytest.FixtureRequest) -> Iterator[RakutenSimulator]:
    with RakutenSimulator(seed=1, page_size=50, envelope=request.param) as simulator:
        yield simulator


@pytest.fixture
def sim(served: RakutenSimulator) -> RakutenSimulator:
    served.reset()
    served.add_account(LOGIN, TOKEN)
    return served


@pytest.fixture
def client(sim: RakutenSimulator) -> Iterator[RakutenClient]:
    with RakutenClient(LOGIN, TOKEN, base_url=sim.url, retry=FAST, timeout=5.0, clock=lambda: FIXED_NOW) as rakuten:
        yield rakuten


def _accepted_itemid(sim: RakutenSimulator) -> str:
    (purchaseid,) = sim.generate_sales(LOGIN, 1, new=False)
    return sim.sale(purchaseid).items[0].itemid


def _new_itemid(sim: RakutenSimulator) -> str:
    (purchaseid,) = sim.generate_sales(LOGIN, 1, new=True)
    return sim.sale(purchaseid).items[0].itemid


# --------------------------------------------------------------------------------------- happy paths


def test_get_new_sales_returns_only_sales_to_accept(sim: RakutenSimulator, client: RakutenClient) -> None:
    new_ids = sim.generate_sales(LOGIN, 10, new=True)
    sim.generate_sales(LOGIN, 5, new=False)
    sales = client.get_new_sales()
    assert sorted(sale.purchaseid for sale in sales) == sorted(new_ids)
    assert all(sale.needs_acceptance for sale in sales)
    assert all(item.state is ItemStatus.TO_ACCEPT for sale in sales for item in sale.items)
    (request,) = sim.requests_for("getnewsales")
    assert request.params["version"] == VERSIONS[Action.GET_NEW_SALES]
    assert request.params["login"] == LOGIN
    assert request.params["pwd"] == "***"


def test_current_sales_follow_every_page(sim: RakutenSimulator, client: RakutenClient) -> None:
    current_ids = sim.generate_sales(LOGIN, 120, new=False)
    sim.generate_sales(LOGIN, 3, new=True)
    pages = list(client.iter_current_sales(date(2000, 1, 1)))
    assert [len(page.sales) for page in pages] == [50, 50, 20]
    assert pages[-1].next_token is None
    assert pages[0].seller_id == sim.seller_id(LOGIN)
    requests = sim.requests_for("getcurrentsales")
    assert len(requests) == 3
    assert {request.params["purchasedate"] for request in requests} == {"2000-01-01"}
    assert "nexttoken" not in requests[0].params
    assert requests[1].params["nexttoken"] == pages[0].next_token

    sim.reset_requests()
    sales = client.get_current_sales(date(2000, 1, 1))
    assert sorted(sale.purchaseid for sale in sales) == sorted(current_ids)
    assert len(sim.requests_for("getcurrentsales")) == 3


def test_current_sales_respect_the_purchase_date(sim: RakutenSimulator, client: RakutenClient) -> None:
    old = sim.add_sale(LOGIN, new=False, purchase_date=datetime(2024, 1, 10, 9, 0, tzinfo=UTC))
    recent = sim.add_sale(LOGIN, new=False, purchase_date=datetime(2024, 7, 20, 9, 0, tzinfo=UTC))
    assert [sale.purchaseid for sale in client.get_current_sales(date(2024, 7, 1))] == [recent]
    assert old in {sale.purchaseid for sale in client.get_current_sales(date(2024, 1, 1))}


def test_accept_sale(sim: RakutenSimulator, client: RakutenClient) -> None:
    itemid = _new_itemid(sim)
    result = client.accept_sale(itemid)
    assert (result.action, result.itemid, result.status) == ("acceptsale", itemid, "Accepted")
    assert sim.item(itemid).status == "ACCEPTED"
    (request,) = sim.requests_for("acceptsale")
    assert request.params["shippingfromcountry"] == "FR"
    assert request.params["version"] == VERSIONS[Action.ACCEPT_SALE]


def test_accept_sale_without_shipping_country(sim: RakutenSimulator, client: RakutenClient) -> None:
    itemid = _new_itemid(sim)
    client.accept_sale(itemid, shipping_from_country=None)
    (request,) = sim.requests_for("acceptsale")
    assert "shippingfromcountry" not in request.params


def test_refuse_sale(sim: RakutenSimulator, client: RakutenClient) -> None:
    itemid = _new_itemid(sim)
    result = client.refuse_sale(itemid)
    assert result.status == "Refused"
    assert sim.item(itemid).status == "REFUSED"


def test_set_tracking(sim: RakutenSimulator, client: RakutenClient) -> None:
    itemid = _accepted_itemid(sim)
    result = client.set_tracking(itemid, carrier="colissimo", tracking_number="6a 123 456 789 01")
    assert result.status == "OK"
    item = sim.item(itemid)
    assert item.status == "SHIPPED"
    assert item.tracking is not None
    assert (item.tracking.carrier, item.tracking.number, item.tracking.url) == ("Colissimo", "6A12345678901", None)
    (request,) = sim.requests_for("settrackingpackageinfos")
    assert "tracking_url" not in request.params


def test_set_tracking_with_autre_sends_the_url(sim: RakutenSimulator, client: RakutenClient) -> None:
    itemid = _accepted_itemid(sim)
    client.set_tracking(itemid, carrier="Autre", tracking_number="XK-884422", tracking_url="https://t.example/XK-884422")
    tracking = sim.item(itemid).tracking
    assert tracking is not None
    assert (tracking.carrier, tracking.url) == ("Autre", "https://t.example/XK-884422")


def test_set_tracking_with_an_accented_carrier(sim: RakutenSimulator, client: RakutenClient) -> None:
    itemid = _accepted_itemid(sim)
    client.set_tracking(itemid, carrier="mondial relay prepaye", tracking_number="12345678")
    tracking = sim.item(itemid).tracking
    assert tracking is not None
    assert tracking.carrier == "Mondial Relay prépayé"


def test_invalid_tracking_is_refused_before_any_request(sim: RakutenSimulator, client: RakutenClient) -> None:
    itemid = _accepted_itemid(sim)
    with pytest.raises(InvalidTrackingError) as caught:
        client.set_tracking(itemid, carrier="Autre", tracking_number="ABC123456")
    assert caught.value.field == "tracking_url"
    assert sim.requests_for("settrackingpackageinfos") == []
    assert sim.item(itemid).status == "ACCEPTED"


def test_todo_list_and_credentials(sim: RakutenSimulator, client: RakutenClient) -> None:
    itemid = _accepted_itemid(sim)
    sim.add_todo_item(itemid, "CLAIM", "UNREAD_MESSAGE_FROM_BUYER")
    todo = client.get_item_todo_list()
    assert todo.seller_id == sim.seller_id(LOGIN)
    assert (itemid, ("CLAIM", "UNREAD_MESSAGE_FROM_BUYER")) in [(item.itemid, item.causes) for item in todo.items]
    assert client.check_credentials() == sim.seller_id(LOGIN)


def test_billing_and_shipping_information(sim: RakutenSimulator, client: RakutenClient) -> None:
    purchaseid = sim.add_sale(LOGIN, new=False, shipping_type="So Colissimo", address="billing_only")
    itemids = [item.itemid for item in sim.sale(purchaseid).items]

    billing = client.get_billing_information(purchaseid)
    assert billing.purchaseid == purchaseid
    assert [item.itemid for item in billing.items] == itemids
    assert billing.total is not None
    assert billing.total.amount > 0

    shipping = client.get_shipping_information(purchaseid)
    assert shipping.purchaseid == purchaseid
    assert shipping.shipping_type == "So Colissimo"
    assert shipping.billing_address is not None
    assert shipping.prepaid_label is not None
    (request,) = sim.requests_for("getshippinginformation")
    assert request.params["purchaseid"] == purchaseid


# ------------------------------------------------------------------------------- answers are checked

# Each per-item action: an item in the state it needs, and the call. ``done`` tells whether it took effect.
ItemCall = Callable[[RakutenClient], object]


def _accept(sim: RakutenSimulator) -> tuple[str, ItemCall]:
    itemid = _new_itemid(sim)
    return itemid, lambda client: client.accept_sale(itemid)


def _refuse(sim: RakutenSimulator) -> tuple[str, ItemCall]:
    itemid = _new_itemid(sim)
    return itemid, lambda client: client.refuse_sale(itemid)


def _track(sim: RakutenSimulator) -> tuple[str, ItemCall]:
    itemid = _accepted_itemid(sim)
    return itemid, lambda client: client.set_tracking(itemid, carrier="DHL", tracking_number="JJD0146000037")


def _write_to_buyer(sim: RakutenSimulator) -> tuple[str, ItemCall]:
    itemid = _accepted_itemid(sim)
    return itemid, lambda client: client.contact_user_about_item(itemid, "Bonjour, c'est parti.")


def _answer_customer_service(sim: RakutenSimulator) -> tuple[str, ItemCall]:
    itemid = _accepted_itemid(sim)
    mail_id = sim.customer_service_writes(itemid, "Une question")
    return itemid, lambda client: client.contact_us_about_item(itemid, "Voici", parent_mail_id=mail_id)


def _cancel(sim: RakutenSimulator) -> tuple[str, ItemCall]:
    itemid = _accepted_itemid(sim)
    return itemid, lambda client: client.cancel_item(itemid, comment="Rupture de stock")


ITEM_ACTIONS: dict[str, Callable[[RakutenSimulator], tuple[str, ItemCall]]] = {
    "acceptsale": _accept,
    "refusesale": _refuse,
    "settrackingpackageinfos": _track,
    "contactuseraboutitem": _write_to_buyer,
    "contactusaboutitem": _answer_customer_service,
    "cancelitem": _cancel,
}


def _effect(sim: RakutenSimulator, itemid: str) -> tuple[str, int, int]:
    """What an action may change: the item's status and what the seller wrote about it."""
    return sim.item(itemid).status, len(sim.seller_messages(itemid)), len(sim.seller_mails(itemid))


@pytest.mark.parametrize("action", list(ITEM_ACTIONS))
@pytest.mark.parametrize(("fault", "shown"), [(Fault.STATUS_UNEXPECTED, "“PENDING”"), (Fault.STATUS_EMPTY, "without")])
def test_a_status_that_does_not_mean_done_is_a_business_error_never_a_success(
    sim: RakutenSimulator, client: RakutenClient, action: str, fault: Fault, shown: str
) -> None:
    itemid, act = ITEM_ACTIONS[action](sim)
    before = _effect(sim, itemid)
    sim.inject_fault(action, fault, times=5)
    with pytest.raises(UnexpectedStatusError) as caught:
        act(client)
    assert isinstance(caught.value, BusinessError)
    assert shown in caught.value.message
    assert len(sim.requests_for(action)) == 1  # not retried: whether anything happened is for a person to judge
    assert _effect(sim, itemid) == before


@pytest.mark.parametrize("action", list(ITEM_ACTIONS))
@pytest.mark.parametrize("fault", [Fault.OTHER_ACTION_DOCUMENT, Fault.NO_RESPONSE_ELEMENT])
def test_another_actions_document_or_no_response_is_retried_not_taken_for_done(
    sim: RakutenSimulator, client: RakutenClient, action: str, fault: Fault
) -> None:
    itemid, act = ITEM_ACTIONS[action](sim)
    before = _effect(sim, itemid)
    sim.inject_fault(action, fault)
    result = act(client)
    assert result.status in ("Accepted", "Refused", "OK", "SENT", "CANCELLED")  # type: ignore[attr-defined]
    assert [request.fault for request in sim.requests_for(action)] == [fault, None]
    assert _effect(sim, itemid) != before  # done once, by the second try


@pytest.mark.parametrize("action", list(ITEM_ACTIONS))
def test_another_actions_document_that_lasts_is_malformed_and_nothing_is_done(
    sim: RakutenSimulator, client: RakutenClient, action: str
) -> None:
    itemid, act = ITEM_ACTIONS[action](sim)
    before = _effect(sim, itemid)
    sim.inject_fault(action, Fault.OTHER_ACTION_DOCUMENT, times=-1)
    with pytest.raises(MalformedResponseError, match="unexpected document"):
        act(client)
    assert len(sim.requests_for(action)) == 4
    assert _effect(sim, itemid) == before


@pytest.mark.parametrize("action", ["getnewsales", "getcurrentsales", "getitemtodolist", "getiteminfos"])
def test_a_listing_answered_with_another_actions_document_is_read_again(
    sim: RakutenSimulator, client: RakutenClient, action: str
) -> None:
    new_ids = sim.generate_sales(LOGIN, 2, new=True)
    current_ids = sim.generate_sales(LOGIN, 2, new=False)
    sim.inject_fault(action, Fault.OTHER_ACTION_DOCUMENT)
    if action == "getnewsales":
        assert sorted(sale.purchaseid for sale in client.get_new_sales()) == sorted(new_ids)
    elif action == "getcurrentsales":
        assert sorted(sale.purchaseid for sale in client.get_current_sales(date(2000, 1, 1))) == sorted(current_ids)
    elif action == "getiteminfos":
        itemid = sim.sale(current_ids[0]).items[0].itemid
        assert client.get_item_infos(itemid).itemid == itemid
    else:
        assert client.check_credentials() == sim.seller_id(LOGIN)
    assert [request.fault for request in sim.requests_for(action)] == [Fault.OTHER_ACTION_DOCUMENT, None]


# A number of each carrier's shape, for carriers whose numbers have one.
SAMPLE_NUMBERS = {
    "Colissimo": "6A12345678901",
    "So Colissimo": "6A12345678901",
    "CHRONOPOST": "XY123456789FR",
    "Mondial Relay": "12345678",
    "Mondial Relay prépayé": "12345678",
    "UPS": "1Z999AA10123456784",
}


def test_every_carrier_the_bot_offers_is_one_rakuten_takes(sim: RakutenSimulator, client: RakutenClient) -> None:
    purchaseid = sim.add_sale(LOGIN, new=False, items=[{} for _ in CARRIERS])
    itemids = [item.itemid for item in sim.sale(purchaseid).items]
    for itemid, carrier in zip(itemids, CARRIERS, strict=True):
        number = SAMPLE_NUMBERS.get(carrier, "AB12345678")
        client.set_tracking(itemid, carrier=carrier, tracking_number=number, tracking_url="https://t.example/1")
    sent = [request.params["transporter_name"] for request in sim.requests_for("settrackingpackageinfos")]
    assert sent == list(CARRIERS)
    assert {sim.item(itemid).status for itemid in itemids} == {"SHIPPED"}


@pytest.mark.parametrize("typed", ["Chronopost", "chronopost", "Shop2Shop by Chronopost"])
def test_chronopost_goes_out_in_the_capitals_rakuten_takes(
    sim: RakutenSimulator, client: RakutenClient, typed: str
) -> None:
    itemid = _accepted_itemid(sim)
    client.set_tracking(itemid, carrier=typed, tracking_number="XY123456789FR")
    (request,) = sim.requests_for("settrackingpackageinfos")
    assert request.params["transporter_name"] == "CHRONOPOST"
    assert sim.item(itemid).status == "SHIPPED"


def test_a_sale_past_its_acceptance_deadline_is_a_business_error(sim: RakutenSimulator, client: RakutenClient) -> None:
    purchaseid = sim.add_sale(LOGIN, purchase_date=datetime.now(UTC) - ACCEPTANCE_WINDOW - timedelta(hours=1))
    itemid = sim.sale(purchaseid).items[0].itemid
    with pytest.raises(BusinessError, match="délai d'acceptation"):
        client.accept_sale(itemid)
    assert len(sim.requests_for("acceptsale")) == 1
    assert sim.item(itemid).status == "TO_CONFIRM"


# ------------------------------------------------------------------------------------ Rakuten errors


def test_bad_token_is_an_authentication_error_without_retry(sim: RakutenSimulator) -> None:
    with (
        RakutenClient(LOGIN, "wrong-token-123456789", base_url=sim.url, retry=FAST) as wrong,
        pytest.raises(AuthenticationError) as caught,
    ):
        wrong.check_credentials()
    assert "wrong-token-123456789" not in str(caught.value)
    assert len(sim.requests_for("getitemtodolist")) == 1


def test_quota_is_not_retried_and_says_when_to_come_back(sim: RakutenSimulator, client: RakutenClient) -> None:
    sim.inject_fault("getnewsales", Fault.QUOTA_EXCEEDED, times=5)
    with pytest.raises(QuotaExceededError) as caught:
        client.get_new_sales()
    assert caught.value.retry_at == datetime(2024, 7, 21, 13, 0, tzinfo=UTC)
    assert len(sim.requests_for("getnewsales")) == 1


def test_parameter_error_is_not_retried(sim: RakutenSimulator, client: RakutenClient) -> None:
    with pytest.raises(ParameterError) as caught:
        client.accept_sale("999999999999")
    assert "itemid" in str(caught.value)
    assert len(sim.requests_for("acceptsale")) == 1


def test_business_error_is_not_retried(sim: RakutenSimulator, client: RakutenClient) -> None:
    itemid = _new_itemid(sim)
    with pytest.raises(BusinessError) as caught:
        client.set_tracking(itemid, carrier="DHL", tracking_number="1234567890")
    assert "statut incorrect" in str(caught.value)
    assert len(sim.requests_for("settrackingpackageinfos")) == 1


@pytest.mark.parametrize("fault", [Fault.AUTH_ERROR, Fault.PARAMETER_ERROR])
def test_injected_api_errors_are_not_retried(sim: RakutenSimulator, client: RakutenClient, fault: Fault) -> None:
    sim.inject_fault("getitemtodolist", fault, times=5)
    with pytest.raises((AuthenticationError, ParameterError)):
        client.get_item_todo_list()
    assert len(sim.requests_for("getitemtodolist")) == 1


# ------------------------------------------------------------------------------------------ retries


def test_a_503_then_success_takes_two_requests(sim: RakutenSimulator, client: RakutenClient) -> None:
    sim.generate_sales(LOGIN, 2, new=True)
    sim.inject_fault("getnewsales", Fault.HTTP_503)
    assert len(client.get_new_sales()) == 2
    assert [request.status for request in sim.requests_for("getnewsales")] == [503, 200]


def test_server_errors_give_up_after_the_attempts(sim: RakutenSimulator, client: RakutenClient) -> None:
    sim.inject_fault("getnewsales", Fault.SERVER_ERROR, times=5)
    with pytest.raises(ServerError) as caught:
        client.get_new_sales()
    assert type(caught.value) is ServerError
    assert caught.value.status_code == 500
    assert len(sim.requests_for("getnewsales")) == 4


@pytest.mark.parametrize(
    "fault",
    [Fault.SERVER_ERROR_200, Fault.MALFORMED_XML, Fault.TRUNCATED_XML, Fault.HTML_MAINTENANCE,
     Fault.HTML_MAINTENANCE_503],
)
def test_transient_faults_are_retried(sim: RakutenSimulator, client: RakutenClient, fault: Fault) -> None:
    sim.inject_fault("getitemtodolist", fault, times=2)
    assert client.get_item_todo_list().seller_id == sim.seller_id(LOGIN)
    assert len(sim.requests_for("getitemtodolist")) == 3


def test_maintenance_that_lasts_ends_in_a_server_error(sim: RakutenSimulator, client: RakutenClient) -> None:
    sim.inject_fault("getitemtodolist", Fault.HTML_MAINTENANCE_503, times=-1)
    with pytest.raises(ServerError) as caught:
        client.get_item_todo_list()
    assert caught.value.status_code == 503
    assert "HTML page (maintenance?)" in str(caught.value)


def test_malformed_answers_that_last_end_in_a_malformed_response(sim: RakutenSimulator, client: RakutenClient) -> None:
    sim.inject_fault("getitemtodolist", Fault.TRUNCATED_XML, times=-1)
    with pytest.raises(MalformedResponseError, match="truncated XML") as caught:
        client.get_item_todo_list()
    assert caught.value.status_code == 200
    assert len(sim.requests_for("getitemtodolist")) == 4


def test_a_timeout_is_retried(sim: RakutenSimulator) -> None:
    sim.generate_sales(LOGIN, 1, new=True)
    sim.inject_fault("getnewsales", Fault.TIMEOUT, delay=3.0)
    with RakutenClient(LOGIN, TOKEN, base_url=sim.url, retry=FAST, timeout=0.2) as impatient:
        assert len(impatient.get_new_sales()) == 1
    assert [request.fault for request in sim.requests_for("getnewsales")] == [Fault.TIMEOUT, None]


def test_timeouts_that_last_end_in_a_transport_error(sim: RakutenSimulator) -> None:
    sim.inject_fault("getnewsales", Fault.TIMEOUT, times=-1, delay=3.0)
    policy = RetryPolicy(attempts=2, initial_wait=0.001, max_wait=0.01)
    # Every attempt is held, so a short timeout cannot make this flaky; it keeps the run short.
    with (
        RakutenClient(LOGIN, TOKEN, base_url=sim.url, retry=policy, timeout=0.05) as impatient,
        pytest.raises(TransportError) as caught,
    ):
        impatient.get_new_sales()
    assert str(caught.value) == "getnewsales: no answer from Rakuten within 0.05 s"
    assert caught.value.retryable
    assert len(sim.requests_for("getnewsales")) == 2


def test_slow_answers_within_the_timeout_are_fine(sim: RakutenSimulator, client: RakutenClient) -> None:
    sim.inject_fault("getitemtodolist", Fault.SLOW, delay=0.05)
    assert client.check_credentials() == sim.seller_id(LOGIN)
    assert len(sim.requests_for("getitemtodolist")) == 1


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_connection_refused_is_a_transport_error() -> None:
    policy = RetryPolicy(attempts=2, initial_wait=0.001, max_wait=0.01)
    with (
        RakutenClient(LOGIN, TOKEN, base_url=f"http://127.0.0.1:{_closed_port()}", retry=policy) as offline,
        pytest.raises(TransportError) as caught,
    ):
        offline.get_new_sales()
    assert str(caught.value) == "getnewsales: could not connect to Rakuten"
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


# ------------------------------------------------------------------------------------------ secrets


def test_the_token_never_reaches_logs_or_messages(sim: RakutenSimulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sim.generate_sales(LOGIN, 3, new=True)
    sim.inject_fault("getnewsales", Fault.HTTP_503)
    sim.inject_fault("getitemtodolist", Fault.SERVER_ERROR, times=-1)
    errors: list[RakutenError] = []
    with RakutenClient(LOGIN, TOKEN, base_url=sim.url, retry=FAST) as rakuten:
        rakuten.get_new_sales()
        for call in (rakuten.get_item_todo_list, lambda: rakuten.accept_sale("424242")):
            with pytest.raises(RakutenError) as caught:
                call()
            errors.append(caught.value)
        assert TOKEN not in repr(rakuten)
    with (
        RakutenClient(LOGIN, TOKEN, base_url=f"http://127.0.0.1:{_closed_port()}", retry=FAST) as offline,
        pytest.raises(TransportError) as caught_transport,
    ):
        offline.get_new_sales()
    errors.append(caught_transport.value)

    assert "HTTP Request: GET" in caplog.text  # httpx did log its requests…
    assert "retrying" in caplog.text
    assert TOKEN not in caplog.text  # …but never the token
    for error in errors:
        assert TOKEN not in str(error)
        assert TOKEN not in repr(error.args)


# ------------------------------------------------------------------------------- MockTransport cases


def _xml(body: str) -> bytes:
    return f'<?xml version="1.0" encoding="ISO-8859-1"?>{body}'.encode("latin-1")


TODO_OK = _xml("<getitemtodolistresult><response><sellerid>77</sellerid></response></getitemtodolistresult>")


def _mock_client(
    handler: Callable[[httpx.Request], httpx.Response], *, retry: RetryPolicy = FAST, **kwargs: object
) -> RakutenClient:
    return RakutenClient(
        LOGIN, TOKEN, base_url="https://ws.example.test", retry=retry, transport=httpx.MockTransport(handler), **kwargs
    )  # type: ignore[arg-type]


def test_what_goes_on_the_wire() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=TODO_OK)

    with _mock_client(handler, channel="slack-bot") as rakuten:
        assert rakuten.base_url == "https://ws.example.test/"
        assert rakuten.login == LOGIN
        assert rakuten.check_credentials() == "77"
    (request,) = seen
    url = urlsplit(str(request.url))
    assert (url.scheme, url.netloc, url.path) == ("https", "ws.example.test", "/sales_ws")
    assert request.method == "GET"
    assert parse_qs(url.query) == {
        "action": ["getitemtodolist"],
        "login": [LOGIN],
        "version": [VERSIONS[Action.GET_ITEM_TODO_LIST]],
        "channel": ["slack-bot"],
        "pwd": [TOKEN],
    }
    assert request.headers["User-Agent"].startswith("rakuten-slack/")


def test_httpx_errors_carrying_the_url_are_rewrapped() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError(f"connection reset while reading {request.url}", request=request)

    with (
        _mock_client(handler, retry=RetryPolicy(attempts=1)) as rakuten,
        pytest.raises(TransportError) as caught,
    ):
        rakuten.get_new_sales()
    assert str(caught.value) == "getnewsales: network error talking to Rakuten (ReadError)"
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


def test_a_token_echoed_by_the_server_is_scrubbed() -> None:
    echo = _xml(
        f"<errorresponse><error><type>Sender</type><code>ParameterError</code><message>Bad</message>"
        f"<details><detail>pwd={TOKEN} is not allowed here</detail></details></error></errorresponse>"
    )
    with (
        _mock_client(lambda request: httpx.Response(200, content=echo)) as rakuten,
        pytest.raises(ParameterError) as caught,
    ):
        rakuten.get_new_sales()
    assert TOKEN not in str(caught.value)
    assert "pwd=*** is not allowed here" in str(caught.value)
    assert caught.value.details == ("pwd=*** is not allowed here",)


def test_an_answer_of_the_wrong_shape_is_retried() -> None:
    answers = iter([_xml("<getitemtodolistresult><request/></getitemtodolistresult>"), TODO_OK])
    with _mock_client(lambda request: httpx.Response(200, content=next(answers))) as rakuten:
        assert rakuten.check_credentials() == "77"


def test_an_answer_of_the_wrong_shape_that_lasts_is_malformed() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, content=_xml("<html5result/>"))

    with _mock_client(handler) as rakuten, pytest.raises(MalformedResponseError, match="unexpected document"):
        rakuten.get_new_sales()
    assert len(calls) == 4


def test_permission_denied_is_not_retried() -> None:
    calls: list[int] = []
    denied = _xml(
        "<errorresponse><error><type>Sender</type><code>InvalidUserRights</code>"
        "<message>Reserved to professional sellers.</message></error></errorresponse>"
    )

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(403, content=denied)

    with (
        _mock_client(handler) as rakuten,
        pytest.raises(PermissionDeniedError) as caught,
    ):
        rakuten.get_item_todo_list()
    assert caught.value.status_code == 403
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("status", "body", "error", "fragment"),
    [
        (
            404,
            b"<html><head><title>Not Found</title></head></html>",
            MalformedResponseError,
            "HTTP 404; answered with an HTML page",
        ),
        (500, TODO_OK, ServerError, "HTTP 500 with an answer that is not an error"),
        (502, b"Bad gateway", ServerError, "HTTP 502; answered with something that is not XML"),
        (302, b"", MalformedResponseError, "HTTP 302; answered with an empty body"),
    ],
)
def test_unexpected_http_statuses(status: int, body: bytes, error: type[RakutenError], fragment: str) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status, content=body)

    with (
        _mock_client(handler, retry=RetryPolicy(attempts=2, initial_wait=0.001, max_wait=0.01)) as rakuten,
        pytest.raises(error) as caught,
    ):
        rakuten.get_item_todo_list()
    assert type(caught.value) is error
    assert fragment in str(caught.value)
    assert getattr(caught.value, "status_code", None) == status
    assert len(calls) == 2


def _sales_page(purchaseids: list[str], token: str | None) -> bytes:
    sales = "".join(
        f"<sale><purchaseid>{pid}</purchaseid><items><item><itemid>{pid}1</itemid></item></items></sale>"
        for pid in purchaseids
    )
    token_xml = f"<nexttoken>{token}</nexttoken>" if token else "<nexttoken/>"
    response = f"<response>{token_xml}<sales>{sales}</sales></response>"
    return _xml(f"<getcurrentsalesresult>{response}</getcurrentsalesresult>")


def test_a_repeating_page_token_stops_paging(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, content=_sales_page([str(len(calls))], "SAME"))

    with caplog.at_level(logging.WARNING, logger="rakuten.client"), _mock_client(handler) as rakuten:
        sales = rakuten.get_current_sales(date(2024, 7, 1))
    assert [sale.purchaseid for sale in sales] == ["1", "2"]
    assert len(calls) == 2
    assert "repeated a page token" in caplog.text


def test_paging_is_capped(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, content=_sales_page([str(len(calls))], f"token-{len(calls)}"))

    with caplog.at_level(logging.WARNING, logger="rakuten.client"), _mock_client(handler, max_pages=5) as rakuten:
        pages = list(rakuten.iter_current_sales(date(2024, 7, 1)))
    assert len(pages) == 5
    assert len(calls) == 5
    assert "still had pages after 5" in caplog.text


def test_a_sale_repeated_across_pages_is_returned_once() -> None:
    pages = iter([_sales_page(["1", "2"], "next"), _sales_page(["2", "3"], None)])
    with _mock_client(lambda request: httpx.Response(200, content=next(pages))) as rakuten:
        sales = rakuten.get_current_sales(date(2024, 7, 1))
    assert [sale.purchaseid for sale in sales] == ["1", "2", "3"]


# ---------------------------------------------------------------------------------- construction


@pytest.mark.parametrize(("login", "token"), [("", TOKEN), ("  ", TOKEN), (LOGIN, ""), (LOGIN, "   ")])
def test_login_and_token_are_required(login: str, token: str) -> None:
    with pytest.raises(ValueError, match="required"):
        RakutenClient(login, token)


@pytest.mark.parametrize("kwargs", [{"attempts": 0}, {"initial_wait": -1.0}, {"max_wait": -0.5}])
def test_retry_policy_is_validated(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="RetryPolicy"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "method", ["accept_sale", "refuse_sale", "get_billing_information", "get_shipping_information"]
)
def test_blank_ids_are_refused_before_any_request(method: str) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, content=TODO_OK)

    with _mock_client(handler) as rakuten, pytest.raises(ValueError, match="is required"):
        getattr(rakuten, method)("  ")
    assert calls == []
