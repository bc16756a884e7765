"""fulfillment door: the commands and queries other apps may use (see docs/doors.md).

Other apps import only this module (and fulfillment.events); the submodules are private.
"""

from prime_now.kernel.doors import instrument

from ..models import MovementKind, PickJobStatus, PickLineStatus, ReservationStatus
from .availability import low_stock, product_ids_in_stock, stock_available, stock_levels
from .dto import (
    AddressNotServedError,
    HubClosedError,
    HubDTO,
    HubInactiveError,
    HubNotFoundError,
    InsufficientStockError,
    NotHubStaffError,
    OpeningHoursDTO,
    PickJobDTO,
    PickJobNotFoundError,
    PickJobStateError,
    PickLineDTO,
    PickLineSpec,
    ReservationDTO,
    ReservationExpiredError,
    ReservationNotFoundError,
    Shortage,
    StockLevelDTO,
    StockLine,
    StockMismatch,
    StockValidationError,
)
from .hubs import hub_backlog, hub_for_location, hub_get, hubs_active
from .picking import (
    goods_return,
    hub_codes_for_picker,
    hub_staff_add,
    pick_job_cancel,
    pick_job_claim_next,
    pick_job_create,
    pick_job_for_picker,
    pick_job_get,
    pick_job_pack,
    pick_jobs_for_picker,
    pick_line_confirm,
    substitute_return,
)
from .reservations import (
    reservations_expire,
    stock_reservation_confirm,
    stock_reservation_get,
    stock_reservation_release,
    stock_reserve,
)
from .stock import (
    NewStock,
    stock_adjust,
    stock_count,
    stock_receive,
    stock_receive_new,
    stock_verify,
)

__all__ = [
    "AddressNotServedError",
    "HubDTO",
    "HubInactiveError",
    "HubClosedError",
    "HubNotFoundError",
    "InsufficientStockError",
    "MovementKind",
    "NewStock",
    "NotHubStaffError",
    "OpeningHoursDTO",
    "PickJobDTO",
    "PickJobNotFoundError",
    "PickJobStateError",
    "PickJobStatus",
    "PickLineDTO",
    "PickLineSpec",
    "PickLineStatus",
    "ReservationDTO",
    "ReservationExpiredError",
    "ReservationNotFoundError",
    "ReservationStatus",
    "Shortage",
    "StockLevelDTO",
    "StockLine",
    "StockMismatch",
    "StockValidationError",
    "goods_return",
    "hub_backlog",
    "hub_codes_for_picker",
    "hub_for_location",
    "hub_get",
    "hub_staff_add",
    "hubs_active",
    "low_stock",
    "pick_job_cancel",
    "substitute_return",
    "pick_job_claim_next",
    "pick_job_create",
    "pick_job_for_picker",
    "pick_job_get",
    "pick_job_pack",
    "pick_jobs_for_picker",
    "pick_line_confirm",
    "product_ids_in_stock",
    "reservations_expire",
    "stock_adjust",
    "stock_available",
    "stock_count",
    "stock_levels",
    "stock_receive",
    "stock_receive_new",
    "stock_reservation_confirm",
    "stock_reservation_get",
    "stock_reservation_release",
    "stock_reserve",
    "stock_verify",
]

# Every function above behind the fulfillment fault point and circuit breaker (kernel/doors.py).
instrument(globals(), "fulfillment")
