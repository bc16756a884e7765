"""The values, statuses and errors that cross the fulfillment door."""

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from prime_now.kernel.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)

from ..models import PickJobStatus, PickLineStatus, ReservationStatus


@dataclass(frozen=True)
class OpeningHoursDTO:
    """A hub's hours on one weekday, in its time zone."""

    weekday: int  # 0 = Monday
    opens: time
    closes: time  # == opens: around the clock; < opens: past midnight


@dataclass(frozen=True)
class HubDTO:
    """A hub: where it is, what it serves (a radius and/or postcodes), when it is open."""

    code: str
    name: str
    address: str
    postcode: str
    lat: float
    lon: float
    timezone: str
    radius_km: float
    postcodes: tuple[str, ...]
    picking_capacity_per_hour: int
    active: bool
    opening_hours: tuple[OpeningHoursDTO, ...] = ()


@dataclass(frozen=True)
class StockLine:
    """Units of one catalog product, in a reservation request or a hold."""

    product_id: int
    quantity: int


@dataclass(frozen=True)
class Shortage:
    """A line that did not fit: how many were asked for, how many are available."""

    product_id: int
    requested: int
    available: int


@dataclass(frozen=True)
class ReservationDTO:
    """A hold on stock; `expires_at` is None once the order is placed (confirmed)."""

    id: str
    hub_code: str
    reference: str
    status: ReservationStatus
    expires_at: datetime | None
    lines: tuple[StockLine, ...] = ()


@dataclass(frozen=True)
class PickLineSpec:
    """One ordered line for a pick job; `substitute_sku` is the allowed substitute."""

    product_id: int
    sku: str
    name: str
    quantity: int
    substitute_sku: str | None = None


@dataclass(frozen=True)
class PickLineDTO:
    """One line of a pick list, with what the picker took."""

    product_id: int
    sku: str
    name: str
    quantity: int
    aisle: str
    bin: str
    substitute_sku: str | None
    status: PickLineStatus
    picked_quantity: int | None
    substitute_quantity: int


@dataclass(frozen=True)
class PickJobDTO:
    """An order to pick and pack at a hub; `lines` in walking order (aisle, bin, SKU)."""

    id: str
    order_ref: str
    hub_code: str
    status: PickJobStatus
    due_by: datetime
    lines: tuple[PickLineDTO, ...]  # sorted by aisle, bin, sku
    bags: int
    picker_id: int | None = None
    created_at: datetime | None = None
    claimed_at: datetime | None = None
    picked_at: datetime | None = None
    packed_at: datetime | None = None


@dataclass(frozen=True)
class StockLevelDTO:
    """One product's stock at a hub."""

    hub_code: str
    product_id: int
    sku: str
    name: str
    aisle: str
    bin: str
    on_hand: int
    reserved: int
    available: int
    low_stock_threshold: int


@dataclass(frozen=True)
class StockMismatch:
    """A stock row that disagrees with its ledger or with its live holds."""

    hub_code: str
    sku: str
    on_hand: int
    ledger_on_hand: int
    reserved: int
    ledger_reserved: int
    held: int


class HubNotFoundError(NotFoundError):
    """No hub has this code."""

    code = "hub_not_found"
    default_message = "No such hub."


class HubInactiveError(ConflictError):
    """The hub is not taking orders."""

    code = "hub_inactive"
    default_message = "This hub is not taking orders."


class AddressNotServedError(ApplicationError):
    """No active hub serves the address (fields["reason"]: "not_served" or "closed")."""

    code = "address_not_served"
    status = 422
    default_message = "Sorry, we do not deliver to this address yet."


class HubClosedError(AddressNotServedError):
    """Hubs serve the address but all are closed now (fields["next_open_at"]: when one opens)."""

    default_message = "Our hub for this address is closed right now."


class InsufficientStockError(ConflictError):
    """Some lines do not fit what is available; `shortages` says which."""

    code = "out_of_stock"
    default_message = "Some items are no longer available in the quantity you asked for."

    def __init__(
        self,
        message: str | None = None,
        *,
        shortages: tuple[Shortage, ...] = (),
        fields: dict[str, Any] | None = None,
    ) -> None:
        self.shortages = tuple(shortages)
        fields = fields or {
            "shortages": [
                {"product_id": s.product_id, "requested": s.requested, "available": s.available}
                for s in self.shortages
            ]
        }
        super().__init__(message, fields=fields)


class ReservationNotFoundError(NotFoundError):
    """No reservation has this id."""

    code = "reservation_not_found"
    default_message = "No such stock reservation."


class ReservationExpiredError(ConflictError):
    """The hold lapsed before it was confirmed (its units are released)."""

    code = "reservation_expired"
    default_message = "The stock hold expired; please check out again."


class PickJobNotFoundError(NotFoundError):
    """No such pick job (or not at a hub of this picker)."""

    code = "pick_job_not_found"
    default_message = "No such pick job."


class PickJobStateError(ConflictError):
    """The pick job cannot do that in its current state."""

    code = "pick_job_state"
    default_message = "The pick job cannot do that in its current state."


class NotHubStaffError(PermissionDeniedError):
    """The user does not pick at this hub."""

    code = "not_hub_staff"
    default_message = "Only this hub's pickers can do that."


class StockValidationError(ValidationError):
    """The request is malformed (quantities, references, kinds)."""

    code = "invalid_stock_request"
