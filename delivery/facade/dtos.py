"""The façade's DTOs (frozen dataclasses; no model crosses the door)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..models import WindowKind


@dataclass(frozen=True)
class WindowDTO:
    id: int
    hub_code: str
    kind: WindowKind
    start: datetime
    end: datetime
    fee: Decimal
    free_above: Decimal | None
    capacity: int
    booked: int
    available: int
    cutoff_at: datetime

    def fee_for(self, subtotal: Decimal) -> Decimal:
        """The delivery fee for a basket of this subtotal (waived from `free_above`)."""
        if self.free_above is not None and subtotal >= self.free_above:
            return Decimal("0.00")
        return self.fee


@dataclass(frozen=True)
class HeldSeat:
    """A seat held in a window for a checkout, and the window as it stands with it held."""

    hold_id: str
    window: WindowDTO


@dataclass(frozen=True)
class PromiseDTO:
    available: bool
    hub_code: str | None
    hub_name: str | None
    windows: tuple[WindowDTO, ...]
    earliest_delivery: datetime | None
    unavailable_skus: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class CheckoutLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class CheckoutRequest:
    """What the customer asks checkout for: these lines, to this address, in this window."""

    lines: tuple[CheckoutLine, ...]
    address: str
    window_id: int
    payment_token: str
    postcode: str = ""
    lat: float | None = None
    lon: float | None = None
    tip: Decimal = Decimal("0.00")
    expected_subtotal: Decimal | None = None  # refuse (PriceChangedError) when it differs


@dataclass(frozen=True)
class CheckoutResult:
    order_number: str
    total: Decimal
    currency: str
    window: WindowDTO
    replayed: bool = False  # the first run's result, given again to a retry with its key


@dataclass(frozen=True)
class GenerateReport:
    created: int
    hubs: tuple[str, ...]
    skipped_hubs: tuple[str, ...]  # templates whose hub is unknown or inactive
