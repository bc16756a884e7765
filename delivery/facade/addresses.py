"""The customer's address book: saved addresses with a label, a default one, chosen at
checkout (web and API). Coordinates come from the postcode's centre (fulfillment knows where
its hubs are) since there is no geocoder; the promise still decides who serves it."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from fulfillment import services as fulfillment
from prime_now.kernel.errors import ConflictError, NotFoundError, ValidationError

from ..models import SavedAddress

MAX_ADDRESSES = 20


@dataclass(frozen=True)
class SavedAddressDTO:
    """A saved address: label, street address, postcode, coordinates (None: unknown)."""

    id: int
    label: str
    address: str
    postcode: str
    lat: float | None
    lon: float | None
    is_default: bool


class AddressNotFoundError(NotFoundError):
    """No such saved address, or not this customer's (the same answer)."""

    code = "address_not_found"
    default_message = "Address not found."


class AddressLabelTakenError(ConflictError):
    """The customer already has an address with this label."""

    code = "address_label_taken"
    default_message = "You already have an address with that name."


def _dto(row: SavedAddress) -> SavedAddressDTO:
    return SavedAddressDTO(
        id=row.pk,
        label=row.label,
        address=row.address,
        postcode=row.postcode,
        lat=row.lat,
        lon=row.lon,
        is_default=row.is_default,
    )


def _clean(label: str, address: str, postcode: str) -> tuple[str, str, str]:
    label, address = label.strip(), " ".join(address.split())
    postcode = " ".join(postcode.upper().split())
    errors = {
        name: "Required."
        for name, value in (("label", label), ("address", address), ("postcode", postcode))
        if not value
    }
    for name, value, longest in (
        ("label", label, 40),
        ("address", address, 200),
        ("postcode", postcode, 16),
    ):
        if len(value) > longest:
            errors[name] = f"At most {longest} characters."
    if errors:
        raise ValidationError("The address is not complete.", fields=errors)
    return label, address, postcode


def addresses_for(*, customer_id: int) -> tuple[SavedAddressDTO, ...]:
    """The customer's saved addresses, the default first."""
    return tuple(_dto(row) for row in SavedAddress.objects.filter(customer_id=customer_id))


def address_get(*, customer_id: int, address_id: int) -> SavedAddressDTO:
    return _dto(_mine(customer_id, address_id))


def address_default(*, customer_id: int) -> SavedAddressDTO | None:
    row = SavedAddress.objects.filter(customer_id=customer_id, is_default=True).first()
    return _dto(row) if row else None


def _mine(customer_id: int, address_id: int, *, lock: bool = False) -> SavedAddress:
    rows = SavedAddress.objects.select_for_update() if lock else SavedAddress.objects
    row = rows.filter(customer_id=customer_id, pk=address_id).first()
    if row is None:
        raise AddressNotFoundError(fields={"address_id": address_id})
    return row


def address_save(
    *,
    customer_id: int,
    label: str,
    address: str,
    postcode: str,
    make_default: bool = False,
    address_id: int | None = None,
) -> SavedAddressDTO:
    """Add an address (address_id None) or change one. The first address is the default;
    `make_default` makes this one the default. ValidationError for a blank or too long field,
    AddressLabelTakenError for a label in use, AddressNotFoundError for another's address."""
    label, address, postcode = _clean(label, address, postcode)
    point = fulfillment.postcode_centroid(postcode=postcode)
    try:
        with transaction.atomic():
            if address_id is None:
                mine = SavedAddress.objects.select_for_update().filter(customer_id=customer_id)
                count = len(mine)
                if count >= MAX_ADDRESSES:
                    raise ValidationError(
                        f"An address book holds at most {MAX_ADDRESSES} addresses.",
                        fields={"label": "Address book full."},
                    )
                row = SavedAddress(customer_id=customer_id, is_default=count == 0)
            else:
                row = _mine(customer_id, address_id, lock=True)
            row.label, row.address, row.postcode = label, address, postcode
            row.lat, row.lon = point if point else (None, None)
            if make_default and not row.is_default:
                SavedAddress.objects.filter(customer_id=customer_id, is_default=True).update(
                    is_default=False
                )
                row.is_default = True
            row.save()
    except IntegrityError as exc:
        raise AddressLabelTakenError(fields={"label": label}) from exc
    return _dto(row)


def address_delete(*, customer_id: int, address_id: int) -> None:
    """Forget an address; if it was the default, the oldest other one becomes the default."""
    with transaction.atomic():
        row = _mine(customer_id, address_id, lock=True)
        was_default = row.is_default
        row.delete()
        if was_default:
            successor = (
                SavedAddress.objects.filter(customer_id=customer_id)
                .order_by("created_at", "id")
                .first()
            )
            if successor is not None:
                successor.is_default = True
                successor.save(update_fields=["is_default", "updated_at"])
