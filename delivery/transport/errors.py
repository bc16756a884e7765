"""Dispatch errors: each maps to one clear API error (`code`, HTTP status, `fields`)."""

from prime_now.kernel.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TooManyRequestsError,
    ValidationError,
)


class NotACourierError(PermissionDeniedError):
    code = "not_a_courier"
    default_message = "Only couriers with a courier profile can do this."


class BlockNotFoundError(NotFoundError):
    code = "block_not_found"
    default_message = "No such block."


class BlockFullError(ConflictError):
    code = "block_full"
    default_message = "This block has been claimed by enough couriers already."


class BlockClosedError(ConflictError):
    code = "block_closed"
    default_message = "This block has already ended."


class BlockAlreadyClaimedError(ConflictError):
    code = "block_already_claimed"
    default_message = "You have already claimed this block."


class NotYourHubError(PermissionDeniedError):
    code = "not_your_hub"
    default_message = "You do not work for this hub: you can claim blocks only at your hubs."


class BlockOverlapError(ConflictError):
    code = "block_overlap"
    default_message = "You already hold a block at that time."


class BlockNotClaimedError(NotFoundError):
    code = "block_not_claimed"
    default_message = "You do not hold this block."


class ForfeitTooLateError(ConflictError):
    code = "forfeit_too_late"
    default_message = "Blocks can no longer be forfeited this close to their start."


class InvalidBlockError(ValidationError):
    code = "invalid_block"


class PingTooFrequentError(TooManyRequestsError):
    code = "ping_rate_limited"
    default_message = "Location updates are coming too fast; slow down."


class OfferNotFoundError(NotFoundError):
    code = "offer_not_found"
    default_message = "No such offer."


class OfferExpiredError(ConflictError):
    code = "offer_expired"
    default_message = "This offer has expired."


class OfferAlreadyAnsweredError(ConflictError):
    code = "offer_already_answered"
    default_message = "This offer has already been answered."


class JobTakenError(ConflictError):
    code = "job_taken"
    default_message = "Another courier has already taken this delivery."


class NoCapacityError(ConflictError):
    code = "no_capacity"
    default_message = "Your bag has no room for this delivery."


class JobNotFoundError(NotFoundError):
    code = "delivery_job_not_found"
    default_message = "No such delivery."


class NoTripError(NotFoundError):
    code = "no_trip"
    default_message = "You have no trip in progress."


class TripStepError(ConflictError):
    code = "trip_step_out_of_order"
    default_message = "That step does not follow from where the trip is."


class BagsMismatchError(ValidationError):
    code = "bags_mismatch"
    default_message = "The number of bags collected does not match the trip."


class OutsideGeofenceError(ApplicationError):
    code = "outside_geofence"
    status = 422
    default_message = "You are too far from the drop-off to mark this delivered."


class AgeCheckRequiredError(ApplicationError):
    code = "age_check_required"
    status = 422
    default_message = "This delivery contains age-restricted items: check the recipient's ID."


class ReassignError(ConflictError):
    code = "cannot_reassign"
    default_message = "This delivery can no longer be reassigned."


class ProofImageError(ValidationError):
    """The upload is not a JPEG or PNG image, or is too large (fields say which)."""

    code = "invalid_image"
    default_message = "Proof of delivery must be a JPEG or PNG image of at most 5 MB."


class ProofNotFoundError(NotFoundError):
    """No proof of delivery for that order, or not yours to see."""

    code = "proof_not_found"
    default_message = "No proof of delivery for that order."
