"""The delivery door: the one module other apps and the edge use (see docs/doors.md).

Re-exports the public commands, queries, DTOs, statuses and errors of the façade
(delivery/facade/); everything else in delivery is private.
"""

from ordering.services import IdempotencyKeyReusedError
from prime_now.kernel.doors import instrument

from ..facade.addresses import (
    AddressLabelTakenError,
    AddressNotFoundError,
    SavedAddressDTO,
    address_default,
    address_delete,
    address_get,
    address_save,
    addresses_for,
)
from ..facade.checkout import checkout_place
from ..facade.dtos import (
    CheckoutLine,
    CheckoutRequest,
    CheckoutResult,
    GenerateReport,
    PromiseDTO,
    WindowDTO,
)
from ..facade.errors import (
    CheckoutFailedError,
    CheckoutInProgressError,
    CheckoutUnavailableError,
    IdempotencyKeyMissingError,
    PriceChangedError,
    WindowClosedError,
    WindowFullError,
    WindowNotFoundError,
    WindowNotServedError,
)
from ..facade.picker import WindowChoiceDTO, WindowDayDTO, WindowPickerDTO, window_picker
from ..facade.promise import promise_for
from ..facade.tracking import TrackingDTO, tracking_for
from ..facade.windows import window_set_capacity, windows_open
from ..models import JobStatus, WindowKind
from ..transport.blocks import courier_supply
from ..transport.dto import CourierSupplyDTO
from ..transport.errors import ProofNotFoundError
from ..transport.proofs import ProofFile, proof_file

__all__ = [
    "WindowChoiceDTO",
    "WindowDayDTO",
    "WindowPickerDTO",
    "AddressLabelTakenError",
    "AddressNotFoundError",
    "SavedAddressDTO",
    "address_default",
    "address_delete",
    "address_get",
    "address_save",
    "addresses_for",
    "CheckoutFailedError",
    "CheckoutInProgressError",
    "CheckoutLine",
    "CheckoutRequest",
    "CheckoutResult",
    "CheckoutUnavailableError",
    "CourierSupplyDTO",
    "GenerateReport",
    "IdempotencyKeyMissingError",
    "IdempotencyKeyReusedError",
    "JobStatus",
    "ProofFile",
    "PriceChangedError",
    "ProofNotFoundError",
    "PromiseDTO",
    "TrackingDTO",
    "WindowClosedError",
    "WindowDTO",
    "WindowFullError",
    "WindowKind",
    "WindowNotFoundError",
    "WindowNotServedError",
    "checkout_place",
    "courier_supply",
    "promise_for",
    "window_picker",
    "proof_file",
    "tracking_for",
    "window_set_capacity",
    "windows_open",
]

# Every function above behind the delivery fault point and circuit breaker (kernel/doors.py).
instrument(globals(), "delivery")
