"""Proof of delivery as an image: a photo of the bags at the door or the customer's signature.
The courier uploads it for the stop they are at, then names it when marking the stop
delivered. The bytes are checked with Pillow (a JPEG or PNG that decodes, within the size
limits), whatever the file name or the content type the client claims; the file is kept
through Django's storage API and shown only to staff and the order's customer."""

import io
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, UnidentifiedImageError

from ..models import DeliveryJob, JobStatus, ProofImage
from .errors import JobNotFoundError, ProofImageError, ProofNotFoundError
from .profiles import courier_for_user

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 8000  # pixels; also keeps decompression bombs out
FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png")}
UPLOADABLE = (JobStatus.PICKED_UP, JobStatus.ON_THE_WAY)


@dataclass(frozen=True)
class ProofImageDTO:
    id: str
    job_id: str
    kind: str
    content_type: str
    size: int
    width: int
    height: int


def _dto(row: ProofImage) -> ProofImageDTO:
    return ProofImageDTO(
        id=str(row.pk),
        job_id=str(row.job_id),
        kind=row.kind,
        content_type=row.content_type,
        size=row.size,
        width=row.width,
        height=row.height,
    )


def checked_image(data: bytes) -> tuple[str, str, int, int]:
    """(content type, extension, width, height) of a JPEG or PNG; ProofImageError otherwise."""
    if not data:
        raise ProofImageError("The file is empty.", fields={"image": "empty"})
    if len(data) > MAX_BYTES:
        raise ProofImageError(
            f"The image is larger than {MAX_BYTES // (1024 * 1024)} MB.",
            fields={"image": f"{len(data)} bytes"},
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind, (width, height) = probe.format, probe.size
            if kind not in FORMATS:
                raise ProofImageError(
                    "Only JPEG and PNG images are accepted.", fields={"image": str(kind)}
                )
            if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
                raise ProofImageError(
                    f"The image must be at most {MAX_SIDE} pixels a side.",
                    fields={"image": f"{width}x{height}"},
                )
            probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ProofImageError(
            "That file is not an image we can read: send a JPEG or PNG photo.",
            fields={"image": "not an image"},
        ) from None
    content_type, extension = FORMATS[kind]
    return content_type, extension, width, height


def proof_upload(*, user_id: int, job_id: str, kind: str, data: bytes) -> ProofImageDTO:
    """Keep a proof image for the courier's stop (picked up or on the way): JobNotFoundError
    for a stop not theirs, ProofImageError for anything but a JPEG or PNG within the limits."""
    courier = courier_for_user(user_id)
    with transaction.atomic():
        job = (
            DeliveryJob.objects.select_for_update()
            .filter(pk=_uuid(job_id), courier=courier, status__in=UPLOADABLE)
            .first()
        )
        if job is None:
            raise JobNotFoundError()
        if kind not in ProofImage.Kind.values:
            raise ProofImageError(
                "Say whether it is a photo or a signature.", fields={"kind": kind}
            )
        content_type, extension, width, height = checked_image(data)
        row = ProofImage(
            job=job,
            kind=kind,
            content_type=content_type,
            size=len(data),
            width=width,
            height=height,
        )
        row.image.save(f"{kind}{extension}", ContentFile(data), save=False)
        row.save()
    return _dto(row)


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise JobNotFoundError() from None


def proof_for_job(job: DeliveryJob, *, kind: str, reference: str) -> ProofImage | None:
    """The job's uploaded proof named by `reference` (its id), of this kind."""
    try:
        return job.proof_images.filter(pk=_uuid(reference), kind=kind).first()
    except JobNotFoundError:
        return None


@dataclass(frozen=True)
class ProofFile:
    name: str  # in the default storage
    content_type: str
    kind: str


def proof_file(*, order_number: str, viewer_id: int, staff: bool) -> ProofFile:
    """The delivered order's proof image, for its customer or staff; ProofNotFoundError
    otherwise (the same answer whether there is none or it is not theirs)."""
    job = DeliveryJob.objects.filter(order_number=order_number.strip().upper()).first()
    if job is None or not job.proof_reference or (not staff and job.customer_id != viewer_id):
        raise ProofNotFoundError()
    row = proof_for_job(job, kind=job.proof_kind, reference=job.proof_reference)
    if row is None:
        raise ProofNotFoundError()
    return ProofFile(name=str(row.image.name), content_type=row.content_type, kind=row.kind)
