"""What the catalog's door takes, returns and raises: frozen DTOs and errors."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from prime_now.kernel.errors import NotFoundError, ValidationError
from prime_now.kernel.money import to_decimal

from ..models import Product


@dataclass(frozen=True)
class CategoryDTO:
    """A category of a department: its slug, name and path ("department/category")."""

    slug: str
    name: str
    path: str  # "groceries/snacks"


@dataclass(frozen=True)
class DepartmentDTO:
    """A department with its categories, in display order."""

    slug: str
    name: str
    categories: tuple[CategoryDTO, ...]


@dataclass(frozen=True)
class ProductDTO:
    """A product as the catalog sells it (active or not), with its current price."""

    id: int
    sku: str
    name: str
    slug: str
    brand: str
    size: str
    description: str
    image_url: str
    department: str  # slug
    category: str  # slug
    price: Decimal
    currency: str
    active: bool
    age_restricted: bool
    # Its department offers a best-match substitute unless the customer chooses otherwise.
    substitutes_by_default: bool = True


@dataclass(frozen=True)
class ProductPage:
    """One page of products; a cursor is None when there is no page that way."""

    items: tuple[ProductDTO, ...]
    next_cursor: str | None
    previous_cursor: str | None


class ProductNotFoundError(NotFoundError):
    """No product has this SKU (`fields["sku"]`)."""

    code = "product_not_found"
    default_message = "No product with this SKU."


class InvalidSearchError(ValidationError):
    """A search parameter (ordering, page size, cursor, price range) is not acceptable."""

    code = "invalid_search"
    default_message = "The search parameters are not valid."


# The columns of a ProductDTO, in field order: lists read these rows, not whole models.
DTO_COLUMNS = (
    "id",
    "sku",
    "name",
    "slug",
    "brand",
    "size",
    "description",
    "image_url",
    "department__slug",
    "category__slug",
    "price",
    "currency",
    "active",
    "age_restricted",
    "department__substitutes_by_default",
)
_PRICE_AT = DTO_COLUMNS.index("price")


def dto_from_row(row: Sequence[Any]) -> ProductDTO:
    """The DTO of a `values_list(*DTO_COLUMNS, ...)` row (extra trailing columns ignored)."""
    values = list(row[: len(DTO_COLUMNS)])
    values[_PRICE_AT] = to_decimal(values[_PRICE_AT])
    return ProductDTO(*values)


def dtos(queryset: QuerySet[Product]) -> list[ProductDTO]:
    """The DTOs of these products, in the queryset's order, in one query."""
    return [dto_from_row(row) for row in queryset.values_list(*DTO_COLUMNS)]
