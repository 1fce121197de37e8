"""The ``sales_ws`` actions the bot uses and the ``version`` each one is called with (docs/rakuten-api.md §1)."""

from __future__ import annotations

from enum import StrEnum

SALES_SERVICE = "sales_ws"


class Action(StrEnum):
    GET_NEW_SALES = "getnewsales"
    GET_CURRENT_SALES = "getcurrentsales"
    ACCEPT_SALE = "acceptsale"
    REFUSE_SALE = "refusesale"
    SET_TRACKING = "settrackingpackageinfos"
    GET_ITEM_TODO_LIST = "getitemtodolist"
    GET_BILLING_INFORMATION = "getbillinginformation"
    GET_SHIPPING_INFORMATION = "getshippinginformation"
    # After sale (docs/rakuten-api.md §2.7-2.8): an item's messages and claim, the two ways to write, cancelling.
    GET_ITEM_INFOS = "getiteminfos"
    CONTACT_USER_ABOUT_ITEM = "contactuseraboutitem"
    CONTACT_US_ABOUT_ITEM = "contactusaboutitem"
    CANCEL_ITEM = "cancelitem"


VERSIONS: dict[Action, str] = {
    Action.GET_NEW_SALES: "2017-08-07",
    Action.GET_CURRENT_SALES: "2017-08-07",
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

# Root element of each action's successful answer, as captured (docs/rakuten-api.md §2); None where no capture or
# source shows it. Errors come as ``errorresponse`` whatever the action. Keyed by action name so that actions the
# client does not call yet (importitemshippingstatus) can be checked with the same table.
RESULT_ROOTS: dict[str, str | None] = {
    Action.GET_NEW_SALES: "getnewsalesresult",
    Action.GET_CURRENT_SALES: "getcurrentsalesresult",
    Action.ACCEPT_SALE: "saleacceptanceresult",
    Action.REFUSE_SALE: None,  # "root element of refusesale" is an open question (§8)
    Action.SET_TRACKING: "setshippingpackageinfosresult",  # "shipping", not "tracking" (§2.5)
    Action.GET_ITEM_TODO_LIST: "getitemtodolistresult",
    Action.GET_BILLING_INFORMATION: None,  # the notes give its fields, not its root
    Action.GET_SHIPPING_INFORMATION: None,
    Action.GET_ITEM_INFOS: None,  # nor this one's
    Action.CANCEL_ITEM: "cancelitemresult",  # SHIBA's offline fixture
    Action.CONTACT_USER_ABOUT_ITEM: None,  # only contactusaboutitem's root was ever seen
    Action.CONTACT_US_ABOUT_ITEM: "contactusaboutitemresult",  # SHIBA's doc example
    "importitemshippingstatus": "importresult",
}

# What each per-item action answers in ``response/status`` when it did what was asked (docs/rakuten-api.md §2.4,
# §2.5, §2.6; cancelitem and contact*aboutitem from SHIBA's fixtures). Compared without case or surrounding
# whitespace; anything else, an empty status included, means the action was not done.
SUCCESS_STATUSES: dict[str, tuple[str, ...]] = {
    Action.ACCEPT_SALE: ("Accepted",),
    Action.REFUSE_SALE: ("Refused",),
    Action.SET_TRACKING: ("OK",),
    Action.CANCEL_ITEM: ("CANCELLED",),
    Action.CONTACT_USER_ABOUT_ITEM: ("SENT",),
    Action.CONTACT_US_ABOUT_ITEM: ("SENT",),
    "importitemshippingstatus": ("OK",),
}

ERROR_ROOT = "errorresponse"


def root_matches(action: str, tag: str) -> bool:
    """Whether a document rooted at ``tag`` can be ``action``'s answer.

    Where the root is known it must be that one; where it is not, any root will do except one that belongs to
    another action, so that a misrouted answer is still caught without guessing a name never seen.
    """
    tag = tag.lower()
    expected = RESULT_ROOTS.get(action)
    if expected is not None:
        return tag == expected
    return not any(root == tag for name, root in RESULT_ROOTS.items() if name != action)
