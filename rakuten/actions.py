"""The ``sales_ws`` actions the bot uses and the ``version`` each one is called with (rakuten-api.md §1)."""

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
    # After sale (rakuten-api.md §2.7-2.8): an item's messages and claim, the two ways to write, cancelling.
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

# Root element of each action's successful answer; errors come as ``errorresponse`` whatever the action.
RESULT_ROOTS: dict[Action, str] = {
    Action.GET_NEW_SALES: "getnewsalesresult",
    Action.GET_CURRENT_SALES: "getcurrentsalesresult",
    Action.ACCEPT_SALE: "saleacceptanceresult",
    Action.REFUSE_SALE: "salerefusalresult",  # never seen in a capture: the parser accepts any root
    Action.SET_TRACKING: "setshippingpackageinfosresult",
    Action.GET_ITEM_TODO_LIST: "getitemtodolistresult",
    Action.GET_BILLING_INFORMATION: "getbillinginformationresult",
    Action.GET_SHIPPING_INFORMATION: "getshippinginformationresult",
    Action.GET_ITEM_INFOS: "getiteminfosresult",
    Action.CONTACT_USER_ABOUT_ITEM: "contactuseraboutitemresult",
    Action.CONTACT_US_ABOUT_ITEM: "contactusaboutitemresult",
    Action.CANCEL_ITEM: "cancelitemresult",
}

ERROR_ROOT = "errorresponse"
