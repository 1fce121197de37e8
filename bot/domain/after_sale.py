"""After sale, as pure rules: an order's conversation with its buyer and with Rakuten's customer service, its
claims, what is still to answer, and which items the to-do poll must read.

What Rakuten's ``getiteminfos`` returns is merged into the order (``ingest``) as ``ThreadEntry`` records, each
posted once in the card's thread (``bot.services.after_sale``). Rakuten marks an item's messages read when its infos
are read, so the order also keeps, per item, when a read was about to go out and when its answer was stored
(``ItemFetch``): a read whose answer never got stored (a crash in between) is made again, whatever the to-do list
says, and the history it returns (read or not) brings the lost messages back.

Who wrote what (rakuten-api.md §2.8 names no party, only logins): a ``<mail>`` is with customer service, a
``<message>`` with the buyer; either is the seller's own when its sender is the seller's login (or its recipient is
the buyer's login). A buyer message is *unanswered* until the seller writes to the buyer about the same item after
it; customer-service mails are shown and can be answered, but are not counted as waiting (most are notices, and a
claim they announce has its own badge).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from rakuten.after_sale_models import ItemClaim, ItemInfos, ItemMail, ItemMessage

# to-do causes (rakuten-api.md §2.7)
CAUSE_CLAIM = "CLAIM"
CAUSE_UNREAD_FROM_BUYER = "UNREAD_MESSAGE_FROM_BUYER"
CAUSE_UNREAD_FROM_CUSTOMER_SERVICE = "UNREAD_MESSAGE_FROM_CUSTOMER_SERVICE"
UNREAD_CAUSES = frozenset({CAUSE_UNREAD_FROM_BUYER, CAUSE_UNREAD_FROM_CUSTOMER_SERVICE})

# Claim states that mean it is over. Rakuten's list is unknown (the one example says NEW): these words, or the item
# leaving the to-do list's CLAIM cause, close a claim.
CLOSED_CLAIM_STATES = frozenset({"CLOSED", "RESOLVED", "SOLVED", "CANCELLED", "CANCELED", "REFUNDED", "ENDED", "DONE"})


class Party(StrEnum):
    BUYER = "buyer"
    CUSTOMER_SERVICE = "customer_service"
    SELLER = "seller"


class EntryKind(StrEnum):
    MESSAGE = "message"  # between the seller and the buyer
    MAIL = "mail"  # between the seller and Rakuten's customer service
    CLAIM_OPENED = "claim_opened"
    CLAIM_CHANGED = "claim_changed"
    CLAIM_CLOSED = "claim_closed"


@dataclass(slots=True)
class ClaimInfo:
    """An item's claim as the bot last saw it."""

    type: str | None
    state: str | None
    amicable: bool = False
    comment: str | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(slots=True)
class ThreadEntry:
    """One thing to say in the order card's thread: a message, a mail, a claim opening, change or closing.

    Stored before it is posted; posted once: ``post_claim`` is taken (atomically) before the post, ``posted_ts``
    recorded after it; a claim never recorded is settled from the thread's history by message metadata.
    """

    key: str  # stable across reads: the mail's id, a digest of a message, the claim's date and state
    kind: EntryKind
    itemid: str
    party: Party  # who wrote it
    sent_at: datetime | None
    content: str = ""
    sender_name: str | None = None  # as Rakuten writes it (a buyer's login, "Rakuten")
    subject: str | None = None  # a mail's object
    mail_id: str | None = None
    claim: ClaimInfo | None = None  # the claim as it stood, for claim entries
    to: Party | None = None  # for the seller's own entries: the buyer or customer service
    sent_by: str | None = None  # the Slack user who wrote it from Slack
    stored_at: datetime | None = None
    post_claim: str | None = None
    post_claimed_at: datetime | None = None
    posted_ts: str | None = None

    @property
    def posted(self) -> bool:
        return self.posted_ts is not None

    @property
    def is_incoming(self) -> bool:
        return self.kind in (EntryKind.MESSAGE, EntryKind.MAIL) and self.party is not Party.SELLER

    @property
    def moment(self) -> datetime | None:
        return self.sent_at or self.stored_at


@dataclass(slots=True)
class OutgoingReply:
    """A reply written in Slack's Reply modal: claimed (stored) before Slack gets its ack, then sent once.

    ``reply_id`` is the modal's view id: Slack sends a double submit of one modal with the same one.
    """

    reply_id: str
    itemid: str
    to: Party  # BUYER or CUSTOMER_SERVICE
    content: str
    requested_by: str
    requested_at: datetime
    parent_mail_id: str | None = None  # the customer-service mail answered
    attempts: int = 0  # tries sent (each recorded before it goes out)
    last_error: str | None = None
    done_at: datetime | None = None
    failure: str | None = None  # Rakuten's refusal, or why the bot gave up

    @property
    def pending(self) -> bool:
        return self.done_at is None and self.failure is None


@dataclass(slots=True)
class ItemFetch:
    """One item's reads of ``getiteminfos``: the intent is stored before the call, the answer after it."""

    requested_at: datetime | None = None
    fetched_at: datetime | None = None
    causes: tuple[str, ...] = ()  # the to-do list's causes when it was last read
    found_claim: bool = False  # the last read showed a claim
    requested: int = 0  # reads about to go out (counted before each call)
    answered: int = 0  # the count of ``requested`` whose answer was stored

    @property
    def unfinished(self) -> bool:
        """A read went out (or was about to) and its answer was never stored: Rakuten may have marked messages
        read that the bot does not have."""
        return self.requested > self.answered

    def about_to_read(self, now: datetime) -> None:
        self.requested += 1
        self.requested_at = now

    def read_done(self, now: datetime) -> None:
        self.answered = self.requested
        self.fetched_at = now


@dataclass(slots=True)
class AfterSale:
    entries: list[ThreadEntry] = field(default_factory=list)
    claims: dict[str, ClaimInfo] = field(default_factory=dict)  # by itemid
    fetches: dict[str, ItemFetch] = field(default_factory=dict)  # by itemid
    replies: list[OutgoingReply] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        """Something to post, to send, to answer or a claim open: the order is followed until none is left."""
        return (
            any(not entry.posted for entry in self.entries)
            or any(reply.pending for reply in self.replies)
            or any(claim.is_open for claim in self.claims.values())
            or any(fetch.unfinished for fetch in self.fetches.values())
            or bool(unanswered_in(self.entries))
        )

    @property
    def has_conversation(self) -> bool:
        return bool(self.entries)

    def entry(self, key: str) -> ThreadEntry | None:
        return next((entry for entry in self.entries if entry.key == key), None)

    def reply(self, reply_id: str) -> OutgoingReply | None:
        return next((reply for reply in self.replies if reply.reply_id == reply_id), None)

    def open_claims(self) -> dict[str, ClaimInfo]:
        return {itemid: claim for itemid, claim in self.claims.items() if claim.is_open}

    def unanswered(self) -> list[ThreadEntry]:
        return unanswered_in(self.entries)

    def latest_mail_from_customer_service(self, itemid: str) -> ThreadEntry | None:
        mails = [
            entry
            for entry in self.entries
            if entry.itemid == itemid and entry.kind is EntryKind.MAIL and entry.party is Party.CUSTOMER_SERVICE
        ]
        return max(mails, key=_moment_key) if mails else None


def unanswered_in(entries: Iterable[ThreadEntry]) -> list[ThreadEntry]:
    """Buyer messages the seller has not answered: sent after the seller's last message to the buyer about the
    same item. Oldest first."""
    entries = list(entries)
    last_answer: dict[str, datetime] = {}
    for entry in entries:
        if entry.party is Party.SELLER and entry.to is Party.BUYER and entry.moment is not None:
            moment = _aware(entry.moment)
            last_answer[entry.itemid] = max(last_answer.get(entry.itemid, moment), moment)

    def waits(entry: ThreadEntry) -> bool:
        answered = last_answer.get(entry.itemid)
        return answered is None or (entry.moment is not None and _aware(entry.moment) > answered)

    waiting = [
        entry for entry in entries if entry.kind is EntryKind.MESSAGE and entry.party is Party.BUYER and waits(entry)
    ]
    return sorted(waiting, key=_moment_key)


def waiting_since(after_sale: AfterSale) -> datetime | None:
    """Since when the order has waited on the seller: its oldest unanswered message or open claim."""
    moments = [_aware(entry.moment) for entry in after_sale.unanswered() if entry.moment is not None]
    moments += [_aware(claim.opened_at) for claim in after_sale.open_claims().values() if claim.opened_at]
    return min(moments) if moments else None


# --- merging what Rakuten returned ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ingested:
    """What one read of an item's infos changed: entries to post, replies it proves went through."""

    entries: tuple[ThreadEntry, ...] = ()
    confirmed_replies: tuple[str, ...] = ()


def ingest(
    after_sale: AfterSale,
    infos: ItemInfos,
    *,
    seller_login: str,
    buyer_login: str | None,
    now: datetime,
    todo_causes: Sequence[str] | None = None,
) -> Ingested:
    """Merge one item's infos into ``after_sale`` (changed in place): new messages, mails and claim events become
    entries to post, a reply written from Slack that shows in Rakuten's history is confirmed, and the read is
    recorded. ``todo_causes``: the item's causes in the to-do list just read (None when the read was not driven by
    it); a known claim absent from them is over."""
    itemid = infos.itemid
    known = {entry.key for entry in after_sale.entries}
    new: list[ThreadEntry] = []
    confirmed: list[str] = []
    seen: dict[str, int] = {}
    written_items: list[tuple[ItemMail | ItemMessage, EntryKind]] = [
        *((mail, EntryKind.MAIL) for mail in infos.mails),
        *((message, EntryKind.MESSAGE) for message in infos.messages),
    ]
    # Oldest first, as they will read in the thread (Rakuten lists them newest first, mails and messages mixed).
    conversation = sorted(written_items, key=lambda pair: _written_order(pair[0]))
    for written, kind in conversation:
        outgoing = _is_seller(written.sender, written.recipient, seller_login, buyer_login)
        if kind is EntryKind.MAIL:
            key = f"mail:{itemid}:{written.mail_id}" if written.mail_id else _digest_key(itemid, written, seen)
        else:
            key = _digest_key(itemid, written, seen)
        if key in known:
            continue
        to = (Party.CUSTOMER_SERVICE if kind is EntryKind.MAIL else Party.BUYER) if outgoing else None
        if outgoing:
            reply = _matching_reply(after_sale.replies, itemid, to, written.content)
            if reply is not None:
                if reply.pending and reply.attempts:
                    # Sent before, its answer lost: Rakuten's history shows it arrived.
                    new.extend(record_sent(after_sale, reply.reply_id, now))
                    confirmed.append(reply.reply_id)
                continue  # posted in the thread as the reply, by whoever wrote it in Slack
        party = Party.SELLER if outgoing else (Party.CUSTOMER_SERVICE if kind is EntryKind.MAIL else Party.BUYER)
        entry = ThreadEntry(
            key=key,
            kind=kind,
            itemid=itemid,
            party=party,
            sent_at=written.sent_at,
            content=written.content,
            sender_name=written.sender or None,
            subject=written.subject if isinstance(written, ItemMail) else None,
            mail_id=written.mail_id if isinstance(written, ItemMail) else None,
            to=to,
            stored_at=now,
        )
        after_sale.entries.append(entry)
        known.add(key)
        new.append(entry)
    new.extend(_claim_events(after_sale, itemid, infos.claim, now=now, todo_causes=todo_causes))
    fetch = after_sale.fetches.setdefault(itemid, ItemFetch())
    fetch.read_done(now)
    fetch.found_claim = infos.claim is not None
    if todo_causes is not None:
        fetch.causes = tuple(todo_causes)
    return Ingested(tuple(new), tuple(confirmed))


def record_sent(after_sale: AfterSale, reply_id: str, now: datetime) -> list[ThreadEntry]:
    """The reply reached Rakuten: done, and an entry to post in the thread with who sent it (once)."""
    reply = after_sale.reply(reply_id)
    if reply is None:
        return []
    if reply.done_at is None:
        reply.done_at = now
    reply.failure = None
    key = f"reply:{reply_id}"
    if after_sale.entry(key) is not None:
        return []
    entry = ThreadEntry(
        key=key,
        kind=EntryKind.MAIL if reply.to is Party.CUSTOMER_SERVICE else EntryKind.MESSAGE,
        itemid=reply.itemid,
        party=Party.SELLER,
        sent_at=reply.done_at,
        content=reply.content,
        to=reply.to,
        sent_by=reply.requested_by,
        stored_at=now,
    )
    after_sale.entries.append(entry)
    return [entry]


def _claim_events(
    after_sale: AfterSale, itemid: str, claim: ItemClaim | None, *, now: datetime, todo_causes: Sequence[str] | None
) -> list[ThreadEntry]:
    known = after_sale.claims.get(itemid)
    listed = todo_causes is None or CAUSE_CLAIM in todo_causes
    if claim is None:
        if known is not None and known.is_open and not listed:
            return [_close(after_sale, itemid, known, None, now)]
        return []
    state = claim.state
    closed_now = (state or "").upper() in CLOSED_CLAIM_STATES or (todo_causes is not None and not listed)
    is_new = known is None or (not known.is_open and _differs(known.opened_at, claim.created_at))
    if is_new:
        info = ClaimInfo(claim.type, state, claim.amicable, claim.comment, claim.created_at or now)
        if closed_now:
            info.closed_at = now  # over before the bot saw it: remembered, nothing to announce
            after_sale.claims[itemid] = info
            return []
        after_sale.claims[itemid] = info
        return [_claim_entry(after_sale, itemid, EntryKind.CLAIM_OPENED, info, now)]
    assert known is not None
    if not known.is_open:
        return []
    if closed_now:
        return [_close(after_sale, itemid, known, state, now)]
    if (state or "") != (known.state or ""):
        known.state = state
        known.comment = claim.comment or known.comment
        return [_claim_entry(after_sale, itemid, EntryKind.CLAIM_CHANGED, known, now)]
    return []


def _close(after_sale: AfterSale, itemid: str, known: ClaimInfo, state: str | None, now: datetime) -> ThreadEntry:
    known.closed_at = now
    if state:
        known.state = state
    return _claim_entry(after_sale, itemid, EntryKind.CLAIM_CLOSED, known, now)


def _claim_entry(after_sale: AfterSale, itemid: str, kind: EntryKind, claim: ClaimInfo, now: datetime) -> ThreadEntry:
    opened = claim.opened_at.isoformat() if claim.opened_at else "?"
    suffix = {EntryKind.CLAIM_OPENED: "opened", EntryKind.CLAIM_CLOSED: "closed"}.get(kind, f"state:{claim.state}")
    entry = ThreadEntry(
        key=f"claim:{itemid}:{opened}:{suffix}",
        kind=kind,
        itemid=itemid,
        party=Party.BUYER if kind is EntryKind.CLAIM_OPENED else Party.CUSTOMER_SERVICE,
        sent_at=claim.opened_at if kind is EntryKind.CLAIM_OPENED else now,
        content=claim.comment or "",
        claim=ClaimInfo(claim.type, claim.state, claim.amicable, claim.comment, claim.opened_at, claim.closed_at),
        stored_at=now,
    )
    if after_sale.entry(entry.key) is None:
        after_sale.entries.append(entry)
    return entry


def _written_order(written: ItemMail | ItemMessage) -> tuple[datetime, int]:
    """Oldest first; within one minute (Rakuten's dates stop at minutes), by the answer's newest-first order."""
    moment = _aware(written.sent_at) if written.sent_at else datetime.max.replace(tzinfo=UTC)
    return moment, -written.position


def _differs(left: datetime | None, right: datetime | None) -> bool:
    return left is not None and right is not None and _aware(left) != _aware(right)


def _is_seller(sender: str, recipient: str, seller_login: str, buyer_login: str | None) -> bool:
    """Whether the seller wrote it: its sender is the seller's login, else its recipient is the buyer's."""
    sender_key, recipient_key = _fold(sender), _fold(recipient)
    if sender_key and sender_key == _fold(seller_login):
        return True
    if buyer_login and sender_key == _fold(buyer_login):
        return False
    if recipient_key and recipient_key == _fold(seller_login):
        return False
    return bool(buyer_login and recipient_key == _fold(buyer_login))


def _fold(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


def _digest_key(itemid: str, written: ItemMail | ItemMessage, seen: dict[str, int]) -> str:
    """Messages have no id: their sender, date and words name them (the same three twice in one read are two)."""
    parts = (written.sender, str(written.sent_at), _fold(written.content))
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]
    seen[digest] = seen.get(digest, 0) + 1
    occurrence = f"-{seen[digest]}" if seen[digest] > 1 else ""
    return f"message:{itemid}:{digest}{occurrence}"


def _matching_reply(
    replies: Iterable[OutgoingReply], itemid: str, to: Party | None, content: str
) -> OutgoingReply | None:
    words = _fold(content)
    for reply in replies:
        if reply.itemid == itemid and reply.to is to and _fold(reply.content) == words and reply.failure is None:
            return reply
    return None


# --- what the to-do poll reads --------------------------------------------------------------------------------


class FetchReason(StrEnum):
    UNFINISHED = "unfinished"  # a read whose answer was never stored
    UNREAD = "unread"  # the to-do list says an unread message waits
    CLAIM = "claim"  # a claim the bot does not know yet, or one that left the to-do list
    RECHECK = "recheck"  # an open claim or an unanswered message, not read for a while (replies made on the site)


_PRIORITY = {FetchReason.UNFINISHED: 0, FetchReason.UNREAD: 0, FetchReason.CLAIM: 1, FetchReason.RECHECK: 2}


@dataclass(frozen=True, slots=True)
class FetchWanted:
    itemid: str
    reason: FetchReason
    causes: tuple[str, ...] | None  # the item's to-do causes (None: not in the list just read)


def items_to_read(
    todo: Mapping[str, Sequence[str]],
    followed: Mapping[str, AfterSale],
    *,
    now: datetime,
    recheck_after: timedelta,
    limit: int,
) -> list[FetchWanted]:
    """Which items' infos to read now, most urgent first, at most ``limit``.

    ``todo``: the to-do list just read (itemid -> causes); ``followed``: the after-sale state of every item the bot
    follows (itemid -> its order's ``AfterSale``). A read marks messages read at Rakuten, so only what is worth it
    is read: unread messages and unfinished reads first, then claims (new, or gone from the list), then, at most
    once per ``recheck_after``, open claims and unanswered messages (a change of state, a reply from the site).
    """
    wanted: dict[str, FetchWanted] = {}

    def want(itemid: str, reason: FetchReason) -> None:
        current = wanted.get(itemid)
        if current is None or _PRIORITY[reason] < _PRIORITY[current.reason]:
            causes = todo.get(itemid)
            wanted[itemid] = FetchWanted(itemid, reason, tuple(causes) if causes is not None else None)

    for itemid, causes in todo.items():
        state = followed.get(itemid)
        fetch = state.fetches.get(itemid) if state is not None else None
        claim = state.claims.get(itemid) if state is not None else None
        stale = fetch is None or fetch.fetched_at is None or _aware(now) - _aware(fetch.fetched_at) >= recheck_after
        if UNREAD_CAUSES & set(causes):
            want(itemid, FetchReason.UNREAD)
        if CAUSE_CLAIM in causes:
            if claim is None or not claim.is_open:
                # Read once while the cause is listed; a read that showed no open claim under it (a claim over,
                # or none at all) is made again only now and then, never on every poll.
                if fetch is None or CAUSE_CLAIM not in fetch.causes or stale:
                    want(itemid, FetchReason.CLAIM)
            elif stale:
                want(itemid, FetchReason.RECHECK)
    for itemid, state in followed.items():
        fetch = state.fetches.get(itemid)
        if fetch is not None and fetch.unfinished:
            want(itemid, FetchReason.UNFINISHED)
        claim = state.claims.get(itemid)
        if claim is not None and claim.is_open and CAUSE_CLAIM not in todo.get(itemid, ()):
            want(itemid, FetchReason.CLAIM)
        stale = fetch is None or fetch.fetched_at is None or _aware(now) - _aware(fetch.fetched_at) >= recheck_after
        if stale and any(entry.itemid == itemid for entry in state.unanswered()):
            want(itemid, FetchReason.RECHECK)
    ordered = sorted(wanted.values(), key=lambda wish: (_PRIORITY[wish.reason], wish.itemid))
    return ordered[: max(limit, 0)]


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _moment_key(entry: ThreadEntry) -> tuple[float, str]:
    moment = entry.moment
    return (_aware(moment).timestamp() if moment else float("inf"), entry.key)
