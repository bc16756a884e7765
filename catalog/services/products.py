"""Products by SKU, prices, the department tree; price changes, (de)activation, popularity."""

from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from prime_now.kernel.errors import ValidationError
from prime_now.kernel.money import to_decimal

from ..models import MAX_PRICE, Category, Department, PriceHistory, Product
from . import readcache
from .changes import catalog_version, publish_changes
from .dtos import CategoryDTO, DepartmentDTO, ProductDTO, ProductNotFoundError, dtos

# --- queries ----------------------------------------------------------------------------------


def product_get(*, sku: str) -> ProductDTO:
    """The product with this SKU, active or not (check `.active` before selling it)."""
    found = dtos(Product.objects.filter(sku=sku))
    if not found:
        raise ProductNotFoundError(fields={"sku": sku})
    return found[0]


def products_by_skus(*, skus: Iterable[str]) -> dict[str, ProductDTO]:
    """The products with these SKUs (unknown SKUs are left out), in one query."""
    wanted = set(skus)
    if not wanted:
        return {}
    return {p.sku: p for p in dtos(Product.objects.filter(sku__in=wanted))}


def prices_for_skus(*, skus: Iterable[str]) -> dict[str, Decimal]:
    """Current prices of the active products among these SKUs."""
    wanted = set(skus)
    if not wanted:
        return {}
    rows = Product.objects.filter(sku__in=wanted, active=True).values_list("sku", "price")
    return {sku: to_decimal(price) for sku, price in rows}


def department_tree() -> tuple[DepartmentDTO, ...]:
    """Departments in display order, each with its categories (two queries; shared cache)."""
    return readcache.remembered(readcache.key("departments", catalog_version()), _department_tree)


def _department_tree() -> tuple[DepartmentDTO, ...]:
    categories: dict[int, list[CategoryDTO]] = {}
    for cat in Category.objects.order_by("position", "name"):
        categories.setdefault(cat.department_id, []).append(
            CategoryDTO(slug=cat.slug, name=cat.name, path=cat.path)
        )
    return tuple(
        DepartmentDTO(slug=d.slug, name=d.name, categories=tuple(categories.get(d.id, ())))
        for d in Department.objects.order_by("position", "name")
    )


# --- commands ---------------------------------------------------------------------------------


def _valid_price(price: Decimal) -> Decimal:
    try:
        amount = to_decimal(price)
    except (TypeError, ValueError) as exc:
        raise ValidationError(str(exc), fields={"price": "Not an amount of money."}) from exc
    if not amount.is_finite():
        raise ValidationError("A price is a finite amount.", fields={"price": "Not a number."})
    if amount <= 0:
        raise ValidationError("A price must be above zero.", fields={"price": "Must be > 0."})
    if amount > MAX_PRICE:
        raise ValidationError(
            f"A price is at most {MAX_PRICE}.", fields={"price": f"Must be <= {MAX_PRICE}."}
        )
    return amount


def product_price_set(
    *, sku: str, price: Decimal, changed_by_id: int | None = None, source: str = "service"
) -> ProductDTO:
    """Change a product's price, recording who changed it, when and from what.

    Setting the current price again changes nothing and records nothing.
    """
    new_price = _valid_price(price)
    with transaction.atomic():
        product = Product.objects.select_for_update().filter(sku=sku).first()
        if product is None:
            raise ProductNotFoundError(fields={"sku": sku})
        if product.price != new_price:
            PriceHistory.objects.create(
                product=product,
                old_price=product.price,
                new_price=new_price,
                currency=product.currency,
                changed_by_id=changed_by_id,
                source=source,
            )
            Product.objects.filter(id=product.id).update(price=new_price, updated_at=timezone.now())
            publish_changes(product_ids=(), price_ids=[product.id])
        return dtos(Product.objects.filter(id=product.id))[0]


def products_set_active(*, ids: Iterable[int], active: bool) -> int:
    """Activate or deactivate products; returns how many changed."""
    wanted = {int(i) for i in ids}
    if not wanted:
        return 0
    with transaction.atomic():
        changing = list(
            Product.objects.select_for_update()
            .filter(id__in=wanted)
            .exclude(active=active)
            .values_list("id", flat=True)
        )
        if changing:
            Product.objects.filter(id__in=changing).update(active=active, updated_at=timezone.now())
            publish_changes(product_ids=changing)
    return len(changing)


# --- popularity -------------------------------------------------------------------------------


def product_popularity_set(*, units_by_sku: Mapping[str, int]) -> int:
    """Record how many units of each product sold lately (what ordering reports, say over the
    last 30 days): search lifts popular products a little among equally good matches.

    The mapping is the whole report: products left out go back to 0. Unknown SKUs are
    ignored; a negative count is refused. Returns how many products changed. Idempotent.
    """
    bad = {sku: n for sku, n in units_by_sku.items() if isinstance(n, bool) or int(n) < 0}
    if bad:
        raise ValidationError("Units sold cannot be negative.", fields={"units_by_sku": str(bad)})
    wanted = {sku: int(n) for sku, n in units_by_sku.items() if int(n) > 0}
    with transaction.atomic():
        current = Product.objects.filter(Q(popularity__gt=0) | Q(sku__in=wanted)).only(
            "id", "sku", "popularity"
        )
        changed = []
        for product in current.select_for_update(of=("self",)).order_by("id"):
            units = wanted.get(product.sku, 0)
            if product.popularity != units:
                product.popularity = units
                changed.append(product)
        Product.objects.bulk_update(changed, ["popularity"], batch_size=1000)
    if changed:
        # Search pages are cached per catalog version: move readers to fresh ones.
        transaction.on_commit(readcache.bump_generation)
    return len(changed)
