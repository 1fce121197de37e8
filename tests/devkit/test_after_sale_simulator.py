"""The simulator's after sale through the real client: the to-do list follows claims and unread messages, reading an
item marks it read, the two contact actions and cancelitem with their refusals, and faults on each action."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devkit.rakuten_simulator import Fault, RakutenSimulator
from rakuten.client import RakutenClient, RetryPolicy
from rakuten.errors import BusinessError, ParameterError, ServerError

LOGIN, TOKEN = "boutique", "token-123456"


@pytest.fixture
def sim() -> Iterator[RakutenSimulator]:
    with RakutenSimulator(seed=3) as simulator:
        simulator.add_account(LOGIN, TOKEN)
        yield simulator


@pytest.fixture
def client(sim: RakutenSimulator) -> Iterator[RakutenClient]:
    with RakutenClient(LOGIN, TOKEN, base_url=sim.url, retry=RetryPolicy(attempts=1)) as rakuten:
        yield rakuten


def item_of(sim: RakutenSimulator) -> str:
    return sim.sale(sim.add_sale(LOGIN, new=False)).items[0].itemid


def causes(client: RakutenClient) -> dict[str, tuple[str, ...]]:
    return {item.itemid: item.causes for item in client.get_item_todo_list().items}


def test_reading_an_item_marks_it_read_and_a_claim_keeps_it_listed(
    sim: RakutenSimulator, client: RakutenClient
) -> None:
    itemid = item_of(sim)
    sim.buyer_writes(itemid, "Bonjour ?")
    sim.open_claim(itemid, comment="cassé")
    assert causes(client) == {itemid: ("CLAIM", "UNREAD_MESSAGE_FROM_BUYER", "UNREAD_MESSAGE_FROM_CUSTOMER_SERVICE")}

    infos = client.get_item_infos(itemid)

    assert [m.content for m in infos.messages] == ["Bonjour ?"]
    assert infos.claim is not None
    assert infos.claim.comment == "cassé"
    assert causes(client) == {itemid: ("CLAIM",)}
    assert [m.status for m in client.get_item_infos(itemid).messages] == ["READ"]
    sim.close_claim(itemid)
    assert causes(client) == {}


def test_contact_actions_and_their_refusals(sim: RakutenSimulator, client: RakutenClient) -> None:
    itemid = item_of(sim)
    mail_id = sim.customer_service_writes(itemid, "Preuve de dépôt ?")

    assert client.contact_user_about_item(itemid, "Parti hier.").status == "SENT"
    assert client.contact_us_about_item(itemid, "Ci-joint.", parent_mail_id=mail_id).status == "SENT"
    with pytest.raises(ParameterError):
        client.contact_us_about_item(itemid, "Ci-joint.", parent_mail_id="999")
    with pytest.raises(ParameterError, match="2000"):
        client.contact_user_about_item(itemid, "x" * 2001)
    assert [m.content for m in sim.seller_messages(itemid)] == ["Parti hier."]
    assert [m.content for m in sim.seller_mails(itemid)] == ["Ci-joint."]


def test_cancel_item_needs_an_accepted_item_and_a_short_reason(sim: RakutenSimulator, client: RakutenClient) -> None:
    itemid = item_of(sim)
    with pytest.raises(ParameterError, match="400"):
        client.cancel_item(itemid, comment="x" * 401)

    assert client.cancel_item(itemid, comment="Rupture").status == "CANCELLED"
    assert sim.item(itemid).status == "CANCELLED"
    with pytest.raises(BusinessError, match="cannot be cancelled"):
        client.cancel_item(itemid, comment="Rupture")


@pytest.mark.parametrize("action", ["getiteminfos", "contactuseraboutitem", "contactusaboutitem", "cancelitem"])
def test_every_after_sale_action_takes_faults(sim: RakutenSimulator, client: RakutenClient, action: str) -> None:
    itemid = item_of(sim)
    mail_id = sim.customer_service_writes(itemid, "Question")
    sim.inject_fault(action, Fault.SERVER_ERROR)
    calls = {
        "getiteminfos": lambda: client.get_item_infos(itemid),
        "contactuseraboutitem": lambda: client.contact_user_about_item(itemid, "Bonjour"),
        "contactusaboutitem": lambda: client.contact_us_about_item(itemid, "Bonjour", parent_mail_id=mail_id),
        "cancelitem": lambda: client.cancel_item(itemid, comment="Rupture"),
    }
    with pytest.raises(ServerError):
        calls[action]()
    calls[action]()  # the next one goes through
