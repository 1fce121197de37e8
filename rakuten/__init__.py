"""Rakuten France (ex-PriceMinister) seller WebServices: client, models, errors and carriers.

Knows nothing of Slack. ``RakutenClient`` is the entry point; everything it returns or raises is
re-exported here.
"""

from rakuten.actions import Action
from rakuten.carriers import (
    AUTRE,
    CARRIERS,
    InvalidTrackingError,
    Tracking,
    carrier_for_shipping_type,
    lookup_carrier,
    validate_tracking,
)
from rakuten.client import RakutenClient, RetryPolicy
from rakuten.errors import (
    ApiError,
    AuthenticationError,
    BusinessError,
    ErrorDetails,
    MalformedResponseError,
    ParameterError,
    PermissionDeniedError,
    QuotaExceededError,
    RakutenError,
    ServerError,
    TransportError,
    UnexpectedStatusError,
)
from rakuten.models import (
    ActionResult,
    Address,
    AddressKind,
    BillingInformation,
    BillingItem,
    Item,
    ItemStatus,
    Money,
    PrepaidLabel,
    Sale,
    SalesPage,
    ShippingInformation,
    TodoItem,
    TodoList,
    is_express_shipping,
)

__all__ = [
    "AUTRE",
    "CARRIERS",
    "Action",
    "ActionResult",
    "Address",
    "AddressKind",
    "ApiError",
    "AuthenticationError",
    "BillingInformation",
    "BillingItem",
    "BusinessError",
    "ErrorDetails",
    "InvalidTrackingError",
    "Item",
    "ItemStatus",
    "MalformedResponseError",
    "Money",
    "ParameterError",
    "PermissionDeniedError",
    "PrepaidLabel",
    "QuotaExceededError",
    "RakutenClient",
    "RakutenError",
    "RetryPolicy",
    "Sale",
    "SalesPage",
    "ServerError",
    "ShippingInformation",
    "TodoItem",
    "TodoList",
    "Tracking",
    "TransportError",
    "UnexpectedStatusError",
    "carrier_for_shipping_type",
    "is_express_shipping",
    "lookup_carrier",
    "validate_tracking",
]
