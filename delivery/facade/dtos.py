"""The façade's DTOs (frozen dataclasses; no model crosses the door)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ordering.services import SubstitutionChoice

from ..models import WindowKind


@dataclass(frozen=True)
class WindowDTO:
    """A delivery window of a hub: its times, fee, cut-off and seats (`available` is
    capacity less booked and held)."""

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
    """What delivery can promise an address: the serving hub, its open windows, the earliest
    delivery and the basket SKUs the hub cannot supply (`available`: a window is open).

    From the stand-in provider (a service behind the promise failed, or its breaker is open):
    `stale` with `stale_seconds` is the hub's last good promise, that old; `conservative` is
    the hub's standard two-hour promise (no backlog or stock known: `unavailable_skus` empty).
    """

    available: bool
    hub_code: str | None
    hub_name: str | None
    windows: tuple[WindowDTO, ...]
    earliest_delivery: datetime | None
    unavailable_skus: tuple[str, ...]
    message: str
    stale: bool = False
    stale_seconds: int | None = None
    conservative: bool = False


@dataclass(frozen=True)
class CheckoutLine:
    """One line of a checkout request: a SKU, its quantity and what may stand in for it
    (None: the department's default, a best match or nothing; `substitute_sku` with
    SPECIFIC)."""

    sku: str
    quantity: int
    substitution: SubstitutionChoice | None = None
    substitute_sku: str = ""


@dataclass(frozen=True)
class CheckoutRequest:
    """What the customer asks checkout for: these lines, to this address, in this window."""

    lines: tuple[CheckoutLine, ...]
    address: str
    window_id: int
    payment_token: str
    address_id: int | None = None  # a saved address: fills address, postcode, lat and lon
    postcode: str = ""
    lat: float | None = None
    lon: float | None = None
    tip: Decimal = Decimal("0.00")
    expected_subtotal: Decimal | None = None  # refuse (PriceChangedError) when it differs
    partner_key: str = ""  # the partner API key's prefix, when a partner orders for its customer


@dataclass(frozen=True)
class CheckoutResult:
    """The placed order: its number, total and currency, and the window it is booked in."""

    order_number: str
    total: Decimal
    currency: str
    window: WindowDTO
    replayed: bool = False  # the first run's result, given again to a retry with its key


@dataclass(frozen=True)
class GenerateReport:
    """What windows_generate did: how many windows it created, for which hubs, which it skipped."""

    created: int
    hubs: tuple[str, ...]
    skipped_hubs: tuple[str, ...]  # templates whose hub is unknown or inactive
