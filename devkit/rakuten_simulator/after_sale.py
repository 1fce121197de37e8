"""After sale in the simulator: each item's conversation with the buyer and with Rakuten's customer service, its
claim and its log, and the actions that read and write them (rakuten-api.md §2.7-2.8).

What the platform does, as far as the notes tell:

* ``getitemtodolist`` lists an item while it has an open claim (``CLAIM``), an unread buyer message
  (``UNREAD_MESSAGE_FROM_BUYER``) or an unread customer-service mail (``UNREAD_MESSAGE_FROM_CUSTOMER_SERVICE``);
* ``getiteminfos`` answers the whole history (mails, messages, claim, logs) and **marks every unread message of the
  item read**, so the item leaves the to-do list unless a claim keeps it there;
* ``contactuseraboutitem`` (``itemid``, ``content``) writes to the buyer; ``contactusaboutitem`` (``itemid``,
  ``content``, ``mailparentid``) answers a customer-service mail; ``cancelitem`` (``itemid``, ``comment``) cancels
  an accepted item. Their answers carry ``status`` (``SENT``, ``CANCELLED``).

Decisions where Rakuten's behaviour is unknown: messages up to ``MESSAGE_MAX`` characters (2,000, our own bound),
cancellation comments up to 400 (Rakuten's documented refusal); writing to the buyer only once the sale was
accepted; a closed claim stays in ``getiteminfos`` with the state ``CLOSED`` (or the one given).

Causes put in the to-do list the old way (``RakutenSimulator.add_todo_item``, and the few items of generated
current sales) are turned into real content the first time the list is read: a buyer message, a customer-service
mail or an open claim, so that reading the item clears them as it would at Rakuten.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from devkit.rakuten_simulator.render import cdata, purchase_date, result_document, text
from devkit.rakuten_simulator.sales_ws import Call, Reply, ServiceError, invalid, parameter_error
from devkit.rakuten_simulator.state import ItemState, PlatformState, SimSale, UnknownEntityError, paris_time
from rakuten.actions import Action
from rakuten.after_sale import CANCEL_COMMENT_MAX, MESSAGE_MAX

CLAIM = "CLAIM"
UNREAD_FROM_BUYER = "UNREAD_MESSAGE_FROM_BUYER"
UNREAD_FROM_CUSTOMER_SERVICE = "UNREAD_MESSAGE_FROM_CUSTOMER_SERVICE"
CUSTOMER_SERVICE = "Rakuten"  # how mails from customer service are signed
LAST_VERSIONS: dict[Action, str] = {
    Action.GET_ITEM_INFOS: "2017-08-07",
    Action.CONTACT_USER_ABOUT_ITEM: "2011-02-02",
    Action.CONTACT_US_ABOUT_ITEM: "2011-09-01",
    Action.CANCEL_ITEM: "2011-02-02",
}
_RESULT_ROOTS: dict[Action, str] = {
    Action.GET_ITEM_INFOS: "getiteminfosresult",
    Action.CONTACT_USER_ABOUT_ITEM: "contactuseraboutitemresult",
    Action.CONTACT_US_ABOUT_ITEM: "contactusaboutitemresult",
    Action.CANCEL_ITEM: "cancelitemresult",
}
# Closed claim states the simulator writes (the real list is unknown).
CLOSED_CLAIM_STATE = "CLOSED"

_BUYER_LINES = (
    "Bonjour, pouvez-vous me dire quand ma commande sera expédiée ? Merci.",
    "Bonjour, le colis n'est toujours pas arrivé, avez-vous un numéro de suivi ?",
    "Bonjour, l'article est-il bien neuf et sous blister ?",
)
_SERVICE_LINES = (
    "Bonjour, l'acheteur nous signale un retard de livraison. Merci de lui répondre sous 48 h.",
    "Bonjour, merci de nous transmettre une preuve de dépôt du colis.",
)


@dataclass(slots=True)
class SimMail:
    mail_id: str
    sent_at: datetime
    sender: str
    recipient: str
    subject: str
    content: str
    unread: bool


@dataclass(slots=True)
class SimMessage:
    sent_at: datetime
    sender: str
    recipient: str
    content: str
    unread: bool


@dataclass(slots=True)
class SimClaim:
    created_at: datetime
    type: str
    state: str
    amicable: bool
    comment: str
    open: bool = True


@dataclass(slots=True)
class SimLog:
    created_at: datetime
    code: str
    description: str
    complement: str = ""


@dataclass(slots=True)
class _Thread:
    mails: list[SimMail] = field(default_factory=list)
    messages: list[SimMessage] = field(default_factory=list)
    claim: SimClaim | None = None
    logs: list[SimLog] = field(default_factory=list)
    entries: list[SimMail | SimMessage] = field(default_factory=list)  # both, in the order they were written


class AfterSaleDesk:
    """Every item's after-sale state, behind its own lock; items themselves live in the ``PlatformState``."""

    def __init__(self, platform: PlatformState, *, clock: Callable[[], datetime]) -> None:
        self._platform = platform
        self._clock = clock
        self._lock = threading.RLock()
        self._threads: dict[str, _Thread] = {}
        self._mail_ids = itertools.count(2_906_000_001)
        self._materialized: set[tuple[str, str]] = set()

    # what buyers and Rakuten do -------------------------------------------------------------------------------

    def buyer_writes(self, itemid: str, content: str, *, at: datetime | None = None) -> None:
        sale = self._sale_of(itemid)
        with self._lock:
            self._add(itemid, SimMessage(self._now(at), sale.buyer_login, sale.login, content, unread=True))

    def customer_service_writes(
        self, itemid: str, content: str, *, subject: str | None = None, at: datetime | None = None
    ) -> str:
        sale = self._sale_of(itemid)
        with self._lock:
            mail_id = str(next(self._mail_ids))
            subject = subject or f"Concernant votre vente ({sale.purchaseid}/{itemid}) - Service Clients"
            self._add(itemid, SimMail(mail_id, self._now(at), CUSTOMER_SERVICE, sale.login, subject, content, True))
            return mail_id

    def open_claim(
        self,
        itemid: str,
        *,
        claim_type: str = "DAMAGED",
        comment: str = "Article abîmé à la réception.",
        amicable: bool = True,
        at: datetime | None = None,
        notify: bool = True,
    ) -> str | None:
        """The buyer opens a claim: Rakuten's customer service writes to the seller about it (an unread mail,
        unless ``notify`` is False); returns that mail's id."""
        sale = self._sale_of(itemid)
        moment = self._now(at)
        with self._lock:
            thread = self._threads.setdefault(itemid, _Thread())
            thread.claim = SimClaim(moment, claim_type, "NEW", amicable, comment)
            thread.logs.append(
                SimLog(moment, "AMICABLE_CLAIM_CREATION", f"{sale.buyer_login} a ouvert une réclamation.", comment)
            )
        if not notify:
            return None
        return self.customer_service_writes(
            itemid,
            f"L'acheteur {sale.buyer_login} vient de faire une réclamation concernant votre vente.\n"
            f"Commentaire : {comment}",
            subject=f"Réclamation sur votre vente ({itemid}) - Service Clients",
            at=moment,
        )

    def update_claim(self, itemid: str, state: str) -> None:
        with self._lock:
            claim = self._claim(itemid)
            claim.state = state

    def close_claim(self, itemid: str, *, state: str = CLOSED_CLAIM_STATE, at: datetime | None = None) -> None:
        with self._lock:
            claim = self._claim(itemid)
            claim.state, claim.open = state, False
            self._threads[itemid].logs.append(SimLog(self._now(at), "CLAIM_CLOSED", "La réclamation est close."))

    # reading back (tests) --------------------------------------------------------------------------------------

    def seller_messages(self, itemid: str) -> list[SimMessage]:
        """What the seller wrote to the buyer about the item, oldest first."""
        sale = self._sale_of(itemid)
        with self._lock:
            thread = self._threads.get(itemid, _Thread())
            return [message for message in thread.messages if message.sender == sale.login]

    def seller_mails(self, itemid: str) -> list[SimMail]:
        """What the seller wrote to customer service about the item, oldest first."""
        sale = self._sale_of(itemid)
        with self._lock:
            thread = self._threads.get(itemid, _Thread())
            return [mail for mail in thread.mails if mail.sender == sale.login]

    def unread(self, itemid: str) -> int:
        with self._lock:
            thread = self._threads.get(itemid, _Thread())
            return sum(entry.unread for entry in thread.entries)

    # the to-do list --------------------------------------------------------------------------------------------

    def todo(self, login: str, legacy: Iterable[tuple[str, Sequence[str]]] = ()) -> list[tuple[str, tuple[str, ...]]]:
        """The account's items needing the seller, with their causes (legacy causes are made real first)."""
        with self._lock:
            for itemid, causes in legacy:
                for cause in causes:
                    if (itemid, cause) not in self._materialized:
                        self._materialized.add((itemid, cause))
                        self._materialize(itemid, cause)
            listed = []
            for itemid, thread in self._threads.items():
                try:
                    if self._sale_of(itemid).login != login:
                        continue
                except UnknownEntityError:
                    continue  # the sale was removed
                causes = self._causes(thread)
                if causes:
                    listed.append((itemid, causes))
            return listed

    def _causes(self, thread: _Thread) -> tuple[str, ...]:
        causes = []
        if thread.claim is not None and thread.claim.open:
            causes.append(CLAIM)
        if any(message.unread for message in thread.messages):
            causes.append(UNREAD_FROM_BUYER)
        if any(mail.unread for mail in thread.mails):
            causes.append(UNREAD_FROM_CUSTOMER_SERVICE)
        return tuple(causes)

    def _materialize(self, itemid: str, cause: str) -> None:
        line = sum(map(ord, itemid))
        if cause == CLAIM:
            self.open_claim(itemid, notify=False)  # the listing shows the causes it was given, no more
        elif cause == UNREAD_FROM_BUYER:
            self.buyer_writes(itemid, _BUYER_LINES[line % len(_BUYER_LINES)])
        elif cause == UNREAD_FROM_CUSTOMER_SERVICE:
            self.customer_service_writes(itemid, _SERVICE_LINES[line % len(_SERVICE_LINES)])

    # the service's actions -----------------------------------------------------------------------------------

    def handlers(self) -> dict[Action, Callable[[Call], Reply]]:
        return {
            Action.GET_ITEM_INFOS: self._get_item_infos,
            Action.CONTACT_USER_ABOUT_ITEM: self._contact_user,
            Action.CONTACT_US_ABOUT_ITEM: self._contact_us,
            Action.CANCEL_ITEM: self._cancel_item,
        }

    def _get_item_infos(self, call: Call) -> Reply:
        itemid = call.required("itemid")
        sale = self._owned(call, itemid)
        item = sale.item(itemid)
        with self._lock:
            thread = self._threads.get(itemid, _Thread())
            body = _item_infos(itemid, sale.purchase_date, item.status, thread, sale.login, sale.buyer_login)
            for entry in thread.entries:
                entry.unread = False  # what Rakuten does when an item's infos are read
        last_version = LAST_VERSIONS[call.action]
        response = f"\n    <lastversion>{last_version}</lastversion>\n    <sellerid>{call.seller_id}</sellerid>{body}"
        return _answer(call, [("itemid", itemid)], response)

    def _contact_user(self, call: Call) -> Reply:
        itemid = call.required("itemid")
        content = _content(call, "content", MESSAGE_MAX)
        sale = self._owned(call, itemid)
        if sale.item(itemid).status is ItemState.TO_CONFIRM or sale.item(itemid).status is ItemState.REFUSED:
            raise _refused(f"Item {itemid}: the buyer can only be contacted about a confirmed sale.")
        with self._lock:
            self._add(itemid, SimMessage(self._now(None), sale.login, sale.buyer_login, content, unread=False))
        return _answer(call, [("itemid", itemid), ("content", content)], _status_response(call, "SENT"))

    def _contact_us(self, call: Call) -> Reply:
        itemid = call.required("itemid")
        content = _content(call, "content", MESSAGE_MAX)
        parent = call.required("mailparentid")
        sale = self._owned(call, itemid)
        with self._lock:
            thread = self._threads.get(itemid, _Thread())
            parent_mail = next((mail for mail in thread.mails if mail.mail_id == parent), None)
            if parent_mail is None:
                raise _parameter(f"The parameter 'mailparentid' is invalid: no mail {parent} about item {itemid}.")
            mail_id = str(next(self._mail_ids))
            subject = parent_mail.subject if parent_mail.subject.startswith("Re: ") else f"Re: {parent_mail.subject}"
            self._add(itemid, SimMail(mail_id, self._now(None), sale.login, CUSTOMER_SERVICE, subject, content, False))
        echo = [("itemid", itemid), ("mailparentid", parent), ("content", content)]
        return _answer(call, echo, _status_response(call, "SENT"))

    def _cancel_item(self, call: Call) -> Reply:
        itemid = call.required("itemid")
        comment = _content(call, "comment", CANCEL_COMMENT_MAX)
        sale = self._owned(call, itemid)
        if sale.item(itemid).status is not ItemState.ACCEPTED:
            raise _refused("This item cannot be cancelled", f"Item {itemid} is {sale.item(itemid).status}.")
        self._platform.transition(itemid, ItemState.CANCELLED, login=call.login)
        with self._lock:
            thread = self._threads.setdefault(itemid, _Thread())
            thread.logs.append(SimLog(self._now(None), "ITEM_CANCELLED", "Vous avez annulé la vente.", comment))
        echo = [("itemid", itemid), ("comment", comment)]
        return _answer(call, echo, _status_response(call, "CANCELLED"))

    # internals -------------------------------------------------------------------------------------------------

    def _add(self, itemid: str, entry: SimMail | SimMessage) -> None:
        thread = self._threads.setdefault(itemid, _Thread())
        (thread.mails if isinstance(entry, SimMail) else thread.messages).append(entry)  # type: ignore[arg-type]
        thread.entries.append(entry)

    def _claim(self, itemid: str) -> SimClaim:
        thread = self._threads.get(itemid)
        if thread is None or thread.claim is None:
            raise ValueError(f"item {itemid} has no claim")
        return thread.claim

    def _sale_of(self, itemid: str) -> SimSale:
        return self._platform.sale(self._platform.item(itemid).purchaseid)

    def _owned(self, call: Call, itemid: str) -> SimSale:
        try:
            self._platform.item(itemid, login=call.login)
        except UnknownEntityError:
            raise invalid("itemid") from None
        return self._sale_of(itemid)

    def _now(self, at: datetime | None) -> datetime:
        return paris_time(at or self._clock())


def _content(call: Call, name: str, limit: int) -> str:
    value = call.required(name)
    if len(value) > limit:
        raise _parameter(f"Your message cannot exceed {limit} characters")
    return value


def _refused(*details: str) -> ServiceError:
    return ServiceError(400, "Sender", "InvalidItemStatus", "The item status does not allow this action.", *details)


def _parameter(detail: str) -> ServiceError:
    return parameter_error(detail)


def _answer(call: Call, echo: list[tuple[str, str]], response: str) -> Reply:
    root = _RESULT_ROOTS[call.action]
    body = result_document(
        root, call.action.value, version=call.version, user=call.login, params=echo, response=response
    )
    return Reply(200, body)


def _status_response(call: Call, status: str) -> str:
    return f"\n    <lastversion>{LAST_VERSIONS[call.action]}</lastversion>\n    <status>{text(status)}</status>"


def _item_infos(
    itemid: str, bought: datetime, status: ItemState, thread: _Thread, seller: str, buyer: str
) -> str:
    pad = "        "
    claim = thread.claim
    shown_status = "ON_HOLD" if claim is not None and claim.open else status.value
    if claim is not None and claim.open and claim.amicable:
        state, label = "CLAIMED_AMICABLE", "Réclamation en cours. Traitement amiable avec l'acheteur"
    elif claim is not None and claim.open:
        state, label = "CLAIMED", "Réclamation en cours. Traitement par le Service Clients"
    else:
        state, label = status.value, "Suivi de commande"
    parts = [
        "\n      <item>",
        f"\n{pad}<itemid>{itemid}</itemid>",
        f"\n{pad}<date>{purchase_date(bought)}</date>",
        f"\n{pad}<itemstatus>{shown_status}</itemstatus>",
        f"\n{pad}<itemstate>{state}</itemstate>",
        f"\n{pad}<itemstatelabel>{cdata(label)}</itemstatelabel>",
        f"\n{pad}<paymentstatus>Forthcoming</paymentstatus>",
        f"\n{pad}<sellerscore/>",
    ]
    if claim is not None:
        parts.append(
            f"\n{pad}<claim>"
            f"\n{pad}  <creationdate>{purchase_date(claim.created_at)}</creationdate>"
            f"\n{pad}  <type>{text(claim.type)}</type>"
            f"\n{pad}  <state>{text(claim.state)}</state>"
            f"\n{pad}  <amicable>{'Y' if claim.amicable else 'N'}</amicable>"
            f"\n{pad}  <claimcomment>{cdata(claim.comment)}</claimcomment>"
            f"\n{pad}</claim>"
        )
    actions = [("Contacter l'acheteur", "contactuseraboutitem")]
    if thread.mails:
        actions.append(("Contacter Rakuten", "contactpriceministeraboutitem"))
    if status is ItemState.ACCEPTED:
        actions.append(("Annuler la vente de cet article", "cancelitem"))
    parts.append(f"\n{pad}<availableactions>")
    for title, code in actions:
        parts.append(
            f"\n{pad}  <action>\n{pad}    <title>{text(title)}</title>"
            f"\n{pad}    <description>{cdata(title)}</description>\n{pad}    <actioncode>{code}</actioncode>"
            f"\n{pad}  </action>"
        )
    parts.append(f"\n{pad}</availableactions>")
    # Newest first, mails and messages mixed, padded with newlines: as the documentation's example shows them.
    for entry in reversed(thread.entries):
        status_word = "UNREAD" if entry.unread else ("SENT" if entry.sender == seller else "READ")
        if isinstance(entry, SimMail):
            parts.append(
                f"\n{pad}<mail>\n{pad}  <mailid>\n{pad}    {entry.mail_id}\n{pad}  </mailid>"
                f"\n{pad}  <senddate>{purchase_date(entry.sent_at)}</senddate>"
                f"\n{pad}  <sender>{text(entry.sender)}</sender>\n{pad}  <recipient>{text(entry.recipient)}</recipient>"
                f"\n{pad}  <object>{cdata(entry.subject)}</object>\n{pad}  <content>\n{pad}    {cdata(entry.content)}"
                f"\n{pad}  </content>\n{pad}  <status>{status_word}</status>\n{pad}</mail>"
            )
        else:
            parts.append(
                f"\n{pad}<message>\n{pad}  <sender>\n{pad}    {text(entry.sender)}\n{pad}  </sender>"
                f"\n{pad}  <recipient>{text(entry.recipient)}</recipient>"
                f"\n{pad}  <senddate>\n{pad}    {purchase_date(entry.sent_at)}\n{pad}  </senddate>"
                f"\n{pad}  <content>{cdata(entry.content)}</content>\n{pad}  <status>{status_word}</status>"
                f"\n{pad}</message>"
            )
    logs = [SimLog(bought, "ITEM_REQUESTED", f"{buyer} vous a passé commande pour cet article.")]
    if status is not ItemState.TO_CONFIRM:
        logs.append(SimLog(bought, "ITEM_COMMITTED", "Vous avez confirmé la commande."))
    for log in sorted([*logs, *thread.logs], key=lambda entry: entry.created_at, reverse=True):
        parts.append(
            f"\n{pad}<itemlog>\n{pad}  <creationdate>{purchase_date(log.created_at)}</creationdate>"
            f"\n{pad}  <itemlogcode>{log.code}</itemlogcode>"
            f"\n{pad}  <description>{cdata(log.description)}</description>"
            f"\n{pad}  <complement>{cdata(log.complement)}</complement>\n{pad}</itemlog>"
        )
    parts.append("\n      </item>")
    return "".join(parts)


class AfterSaleControls:
    """``RakutenSimulator``'s after-sale methods: what buyers and Rakuten's customer service do, and what a test
    reads back. The simulator sets ``_after_sale``."""

    _after_sale: AfterSaleDesk

    def buyer_writes(self, itemid: str, content: str, *, at: datetime | None = None) -> None:
        """The buyer sends the seller a message about the item: unread, so the item enters the to-do list."""
        self._after_sale.buyer_writes(itemid, content, at=at)

    def customer_service_writes(
        self, itemid: str, content: str, *, subject: str | None = None, at: datetime | None = None
    ) -> str:
        """Rakuten's customer service mails the seller about the item; returns the mail's id."""
        return self._after_sale.customer_service_writes(itemid, content, subject=subject, at=at)

    def open_claim(
        self,
        itemid: str,
        *,
        claim_type: str = "DAMAGED",
        comment: str = "Article abîmé à la réception.",
        amicable: bool = True,
        at: datetime | None = None,
    ) -> str:
        """The buyer opens a claim (customer service mails the seller about it); returns that mail's id."""
        mail_id = self._after_sale.open_claim(itemid, claim_type=claim_type, comment=comment, amicable=amicable, at=at)
        assert mail_id is not None
        return mail_id

    def update_claim(self, itemid: str, state: str) -> None:
        self._after_sale.update_claim(itemid, state)

    def close_claim(self, itemid: str, *, state: str = CLOSED_CLAIM_STATE, at: datetime | None = None) -> None:
        self._after_sale.close_claim(itemid, state=state, at=at)

    def seller_messages(self, itemid: str) -> list[SimMessage]:
        """What reached the buyer from the seller about the item (contactuseraboutitem), oldest first."""
        return self._after_sale.seller_messages(itemid)

    def seller_mails(self, itemid: str) -> list[SimMail]:
        """What reached customer service from the seller about the item (contactusaboutitem), oldest first."""
        return self._after_sale.seller_mails(itemid)

    def unread_count(self, itemid: str) -> int:
        """Messages and mails about the item the seller has not read yet (getiteminfos reads them)."""
        return self._after_sale.unread(itemid)
