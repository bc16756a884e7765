"""ordering door: the commands and queries other apps may use (see docs/doors.md).

Everything here is keyword-only and typed; DTOs are frozen dataclasses; statuses are enums;
no model crosses. The modules of this package are ordering's services, private to it.
"""

from prime_now.kernel.doors import instrument

from ..statuses import (
    OrderStatus,
    PaymentStatus,
    ProblemKind,
    ProblemStatus,
    SubstituteDecision,
    SubstitutionChoice,
)
from .carts import (
    cart_accept_prices,
    cart_add,
    cart_clear,
    cart_get,
    cart_merge,
    cart_remove,
    cart_reorder,
    cart_set_quantity,
    cart_set_substitution,
    carts_expire,
    default_substitution,
)
from .compensation import authorization_void, authorizations_orphaned_void
from .dtos import (
    BASKET_LIMITS,
    BasketLimits,
    CartDTO,
    CartLimitError,
    CartLineDTO,
    CartLineNotFoundError,
    CartOwner,
    DeliverySnapshot,
    IdempotencyKeyReusedError,
    IllegalTransitionError,
    OrderDTO,
    OrderLineDTO,
    OrderLineInput,
    OrderNotFoundError,
    PaymentDeclinedError,
    PaymentUnavailableError,
    PickAdjustmentError,
    PickedLineInput,
    ProblemReportError,
    ProductUnavailableError,
    SubstituteDecisionError,
    SubstitutionChoiceError,
    TimelineEntryDTO,
)
from .orders import customers_also_bought, order_get, orders_for_customer, orders_past_window
from .picking import order_adjust_after_pick, order_record_packed
from .placement import order_place
from .popularity import popularity_share
from .problems import (
    ProblemDTO,
    problem_decide,
    problem_report,
    problem_window_open,
    problems_for_order,
)
from .substitutions import order_substitute_decide
from .transitions import (
    order_cancel,
    order_mark_delivered,
    order_mark_delivery_failed,
    order_mark_out_for_delivery,
    order_mark_packed,
    order_mark_picking,
    order_refund,
)

__all__ = [
    "BASKET_LIMITS",
    "BasketLimits",
    "CartDTO",
    "CartLimitError",
    "CartLineDTO",
    "CartLineNotFoundError",
    "CartOwner",
    "DeliverySnapshot",
    "IdempotencyKeyReusedError",
    "IllegalTransitionError",
    "OrderDTO",
    "OrderLineDTO",
    "OrderLineInput",
    "OrderNotFoundError",
    "OrderStatus",
    "PaymentDeclinedError",
    "PaymentStatus",
    "PaymentUnavailableError",
    "PickAdjustmentError",
    "PickedLineInput",
    "ProblemDTO",
    "ProblemKind",
    "ProblemReportError",
    "ProblemStatus",
    "ProductUnavailableError",
    "SubstituteDecision",
    "SubstituteDecisionError",
    "SubstitutionChoice",
    "SubstitutionChoiceError",
    "TimelineEntryDTO",
    "authorization_void",
    "authorizations_orphaned_void",
    "cart_accept_prices",
    "cart_add",
    "cart_clear",
    "cart_get",
    "cart_merge",
    "cart_reorder",
    "cart_remove",
    "cart_set_quantity",
    "cart_set_substitution",
    "carts_expire",
    "customers_also_bought",
    "default_substitution",
    "order_adjust_after_pick",
    "order_cancel",
    "order_get",
    "order_mark_delivered",
    "order_mark_delivery_failed",
    "order_mark_out_for_delivery",
    "order_mark_packed",
    "order_mark_picking",
    "order_place",
    "order_record_packed",
    "order_refund",
    "order_substitute_decide",
    "orders_for_customer",
    "orders_past_window",
    "popularity_share",
    "problem_decide",
    "problem_report",
    "problem_window_open",
    "problems_for_order",
]

# Every function above behind the ordering fault point and circuit breaker (kernel/doors.py).
instrument(globals(), "ordering")
