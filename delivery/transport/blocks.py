"""Flex-style blocks: operators publish them, couriers claim them first come first served and
may forfeit them until a cut-off. Holding a block that is on now makes a courier eligible for
offers at that hub."""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from fulfillment.services import hub_get
from prime_now.kernel.errors import NotFoundError

from ..models import Block, BlockClaim, CourierProfile
from .config import dispatch_config
from .dto import BlockDTO, CourierSupplyDTO
from .errors import (
    BlockAlreadyClaimedError,
    BlockClosedError,
    BlockFullError,
    BlockNotClaimedError,
    BlockNotFoundError,
    BlockOverlapError,
    ForfeitTooLateError,
    InvalidBlockError,
    NotYourHubError,
)
from .profiles import courier_for_user


def _dto(block: Block, *, mine: bool) -> BlockDTO:
    cutoff = timedelta(minutes=dispatch_config().forfeit_cutoff_minutes)
    return BlockDTO(
        id=block.pk,
        hub_code=block.hub_code,
        starts_at=block.starts_at,
        ends_at=block.ends_at,
        wanted=block.wanted,
        claimed=block.claimed,
        open_slots=max(0, block.wanted - block.claimed),
        claimed_by_me=mine,
        forfeit_until=block.starts_at - cutoff,
    )


def block_publish(
    *,
    hub_code: str,
    starts_at: datetime,
    ends_at: datetime,
    wanted: int,
    actor_id: int | None = None,
) -> BlockDTO:
    """An operator offers a block of work at a hub. Raises InvalidBlockError (its fields name
    what is wrong)."""
    block_check(hub_code=hub_code, starts_at=starts_at, ends_at=ends_at, wanted=wanted)
    block = Block.objects.create(
        hub_code=hub_code,
        starts_at=starts_at,
        ends_at=ends_at,
        wanted=wanted,
        created_by_id=actor_id,
    )
    return _dto(block, mine=False)


def block_check(*, hub_code: str, starts_at: datetime, ends_at: datetime, wanted: int) -> None:
    """Raise InvalidBlockError, its fields naming each problem, unless this is a block an
    operator may publish (what block_publish checks, for a form to show before saving)."""
    errors: dict[str, str] = {}
    if ends_at <= starts_at:
        errors["ends_at"] = "A block ends after it starts."
    elif ends_at - starts_at > timedelta(hours=dispatch_config().max_block_hours):
        errors["ends_at"] = f"A block lasts at most {dispatch_config().max_block_hours} hours."
    if ends_at <= timezone.now():
        errors["ends_at"] = "This block would already be over."
    if not 1 <= wanted <= 500:
        errors["wanted"] = "Between 1 and 500 couriers."
    try:
        hub_get(code=hub_code)
    except NotFoundError:
        errors["hub_code"] = f"No hub {hub_code!r}."
    if errors:
        raise InvalidBlockError("The block is not valid.", fields=errors)


def block_wanted_set(*, block_id: int, wanted: int) -> BlockDTO:
    """An operator changes how many couriers a block wants: never fewer than have claimed it
    (InvalidBlockError), checked under the block's row lock against claims at that moment."""
    with transaction.atomic():
        block = Block.objects.select_for_update().filter(pk=block_id).first()
        if block is None:
            raise BlockNotFoundError()
        if not 1 <= wanted <= 500:
            raise InvalidBlockError(fields={"wanted": "Between 1 and 500 couriers."})
        if wanted < block.claimed:
            raise InvalidBlockError(
                fields={
                    "wanted": f"{block.claimed} couriers have claimed this block already: "
                    "want at least that many."
                }
            )
        block.wanted = wanted
        block.save(update_fields=["wanted"])
    return _dto(block, mine=False)


def block_ensure(*, hub_code: str, starts_at: datetime, ends_at: datetime, wanted: int) -> BlockDTO:
    """Idempotent publish for seeding: the block with this hub and times, made once."""
    block = Block.objects.filter(hub_code=hub_code, starts_at=starts_at, ends_at=ends_at).first()
    if block is None:
        return block_publish(hub_code=hub_code, starts_at=starts_at, ends_at=ends_at, wanted=wanted)
    return _dto(block, mine=False)


def blocks_available(*, user_id: int, hub_code: str | None = None) -> tuple[BlockDTO, ...]:
    """Blocks not yet over with a free slot, at the courier's home hub unless another hub they
    work for is asked (NotYourHubError for one they do not)."""
    courier = courier_for_user(user_id)
    hub = hub_code or courier.home_hub_code
    if not courier.works_for(hub):
        raise NotYourHubError(fields={"hub": f"Your hubs: {', '.join(courier.hub_codes)}."})
    mine = set(
        BlockClaim.objects.filter(courier=courier, status=BlockClaim.Status.CLAIMED).values_list(
            "block_id", flat=True
        )
    )
    blocks = Block.objects.filter(
        hub_code=hub, ends_at__gt=timezone.now(), claimed__lt=F("wanted")
    ).exclude(pk__in=mine)
    return tuple(_dto(block, mine=False) for block in blocks.order_by("starts_at")[:100])


def blocks_for_courier(*, user_id: int, include_past: bool = False) -> tuple[BlockDTO, ...]:
    courier = courier_for_user(user_id)
    blocks = Block.objects.filter(claims__courier=courier, claims__status=BlockClaim.Status.CLAIMED)
    if not include_past:
        blocks = blocks.filter(ends_at__gt=timezone.now())
    return tuple(_dto(block, mine=True) for block in blocks.order_by("starts_at")[:100])


def block_claim(*, user_id: int, block_id: int) -> BlockDTO:
    """Claim a slot on a block at a hub the courier works for (NotYourHubError otherwise). One
    conditional update takes the slot, so with any number of couriers racing, no more than
    `wanted` win; the rest get `block_full`."""
    now = timezone.now()
    try:
        with transaction.atomic():
            courier = courier_for_user(user_id, lock=True)  # serialises one courier's claims
            block = Block.objects.filter(pk=block_id).first()
            if block is None:
                raise BlockNotFoundError()
            if not courier.works_for(block.hub_code):
                raise NotYourHubError(
                    fields={
                        "block_id": f"This block is at {block.hub_code}; your hubs: "
                        f"{', '.join(courier.hub_codes)}."
                    }
                )
            if block.ends_at <= now:
                raise BlockClosedError()
            if BlockClaim.objects.filter(
                block=block, courier=courier, status=BlockClaim.Status.CLAIMED
            ).exists():
                raise BlockAlreadyClaimedError()
            _refuse_overlap(courier, block)
            taken = Block.objects.filter(pk=block.pk, claimed__lt=F("wanted")).update(
                claimed=F("claimed") + 1
            )
            if not taken:
                raise BlockFullError()
            BlockClaim.objects.create(block=block, courier=courier)
            block.refresh_from_db()
    except IntegrityError:
        raise BlockAlreadyClaimedError()
    return _dto(block, mine=True)


def _refuse_overlap(courier: CourierProfile, block: Block) -> None:
    overlapping = BlockClaim.objects.filter(
        courier=courier,
        status=BlockClaim.Status.CLAIMED,
        block__starts_at__lt=block.ends_at,
        block__ends_at__gt=block.starts_at,
    ).exists()
    if overlapping:
        raise BlockOverlapError()


def block_forfeit(*, user_id: int, block_id: int) -> BlockDTO:
    """Give a claimed block back, until the cut-off before it starts; the slot reopens."""
    with transaction.atomic():
        courier = courier_for_user(user_id, lock=True)
        claim = (
            BlockClaim.objects.select_for_update()
            .select_related("block")
            .filter(block_id=block_id, courier=courier, status=BlockClaim.Status.CLAIMED)
            .first()
        )
        if claim is None:
            raise BlockNotClaimedError()
        dto = _dto(claim.block, mine=True)
        if timezone.now() > dto.forfeit_until:
            raise ForfeitTooLateError(fields={"forfeit_until": dto.forfeit_until.isoformat()})
        claim.status = BlockClaim.Status.FORFEITED
        claim.forfeited_at = timezone.now()
        claim.save(update_fields=["status", "forfeited_at"])
        Block.objects.filter(pk=block_id).update(claimed=F("claimed") - 1)
        claim.block.refresh_from_db()
    return _dto(claim.block, mine=False)


def courier_supply(*, hub_code: str, now: datetime | None = None) -> CourierSupplyDTO:
    """Couriers online on a block on now at the hub, and how many its blocks on now want."""
    now = now or timezone.now()
    blocks = Block.objects.filter(hub_code=hub_code, starts_at__lte=now, ends_at__gt=now)
    online = (
        BlockClaim.objects.filter(
            block__in=blocks, status=BlockClaim.Status.CLAIMED, courier__online=True
        )
        .values("courier_id")
        .distinct()
        .count()
    )
    wanted = blocks.aggregate(total=Sum("wanted"))["total"] or 0
    return CourierSupplyDTO(hub_code=hub_code, online=online, wanted=wanted)
