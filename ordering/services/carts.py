"""Cart use cases. Prices are always read live from catalog's door; the line keeps the price
the customer last saw, so a change is shown (price_changed) and never charged silently."""

from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from catalog import services as catalog
from prime_now.kernel.money import default_currency, to_decimal

from ..models import Cart, CartLine, Order
from ..statuses import SubstitutionChoice
from . import conf
from .dtos import (
    BASKET_LIMITS,
    CartDTO,
    CartLimitError,
    CartLineDTO,
    CartLineNotFoundError,
    CartOwner,
    OrderNotFoundError,
    ProductUnavailableError,
    SubstitutionChoiceError,
)


def _owned_by(owner: CartOwner) -> Q:
    if owner.user_id is not None:
        return Q(user_id=owner.user_id)
    return Q(session_key=owner.session_key)


def _find(owner: CartOwner, *, lock: bool = False) -> Cart | None:
    carts = Cart.objects.select_for_update() if lock else Cart.objects.all()
    return carts.filter(_owned_by(owner)).first()


def _get_or_create(owner: CartOwner) -> Cart:
    """The owner's cart, row-locked (call inside a transaction)."""
    cart = _find(owner, lock=True)
    if cart is not None:
        return cart
    try:
        with transaction.atomic():
            Cart.objects.create(user_id=owner.user_id, session_key=owner.session_key)
    except IntegrityError:
        pass  # created by a concurrent request: use theirs
    return Cart.objects.select_for_update().get(_owned_by(owner))


def _touch(cart: Cart) -> None:
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())


def _available_product(sku: str) -> catalog.ProductDTO:
    try:
        product = catalog.product_get(sku=sku)
    except catalog.ProductNotFoundError as exc:
        raise ProductUnavailableError(
            f"There is no product {sku}.", fields={"sku": "Unknown product."}
        ) from exc
    if not product.active:
        raise ProductUnavailableError(
            f"{product.name} is no longer available.", fields={"sku": "Not available."}
        )
    return product


def _check_quantity(quantity: int) -> None:
    limit = BASKET_LIMITS.max_line_quantity
    if quantity < 0:
        raise CartLimitError(
            "Quantity cannot be negative.", fields={"quantity": "Must be 0 or more."}
        )
    if quantity > limit:
        raise CartLimitError(
            f"You can add at most {limit} of one product.",
            fields={"quantity": f"At most {limit}."},
        )


def _render(lines: Iterable[CartLine], notices: tuple[str, ...] = ()) -> CartDTO:
    lines = list(lines)
    products = catalog.products_by_skus(skus=[line.sku for line in lines]) if lines else {}
    out: list[CartLineDTO] = []
    subtotal = to_decimal(0)
    count = 0
    for line in lines:
        product = products.get(line.sku)
        available = product is not None and product.active
        price = to_decimal(product.price if product and available else line.unit_price)
        line_total = to_decimal(price * line.quantity) if available else to_decimal(0)
        if available:
            subtotal += line_total
            count += line.quantity
        out.append(
            CartLineDTO(
                product_id=line.product_id,
                sku=line.sku,
                name=product.name if product is not None else line.name,
                quantity=line.quantity,
                unit_price=price,
                line_total=line_total,
                available=available,
                price_when_added=to_decimal(line.unit_price),
                price_changed=available and price != line.unit_price,
                substitution=SubstitutionChoice(line.substitution),
                substitute_sku=line.substitute_sku,
            )
        )
    return CartDTO(
        lines=tuple(out),
        subtotal=subtotal,
        currency=default_currency(),
        item_count=count,
        has_price_changes=any(line.price_changed for line in out),
        has_unavailable=any(not line.available for line in out),
        notices=notices,
        max_line_quantity=BASKET_LIMITS.max_line_quantity,
        max_lines=BASKET_LIMITS.max_lines,
    )


def _lines(cart: Cart | None) -> list[CartLine]:
    return list(cart.lines.all()) if cart is not None else []


def cart_get(*, owner: CartOwner) -> CartDTO:
    """The owner's cart at live prices (empty when there is none; nothing is created)."""
    return _render(_lines(_find(owner)))


def cart_add(*, owner: CartOwner, sku: str, quantity: int = 1) -> CartDTO:
    """Add the product, or more of it. CartLimitError past BASKET_LIMITS,
    ProductUnavailableError for a product not sold."""
    if quantity < 1:
        raise CartLimitError("Add at least one.", fields={"quantity": "Must be 1 or more."})
    _check_quantity(quantity)
    product = _available_product(sku)
    with transaction.atomic():
        cart = _get_or_create(owner)
        line = cart.lines.filter(sku=product.sku).first()
        if line is None:
            if cart.lines.count() >= BASKET_LIMITS.max_lines:
                raise CartLimitError(
                    f"A cart holds at most {BASKET_LIMITS.max_lines} different products.",
                    fields={"sku": "Cart is full."},
                )
            CartLine.objects.create(
                cart=cart,
                product_id=product.id,
                sku=product.sku,
                name=product.name,
                unit_price=to_decimal(product.price),
                quantity=quantity,
                substitution=default_substitution(product),
            )
        else:
            _check_quantity(line.quantity + quantity)
            line.quantity += quantity
            # The customer is looking at the live price when adding more: that is now the
            # price they have seen.
            line.unit_price = to_decimal(product.price)
            line.name = product.name
            line.save(update_fields=["quantity", "unit_price", "name"])
        _touch(cart)
        lines = _lines(cart)
    return _render(lines)


def cart_set_quantity(*, owner: CartOwner, sku: str, quantity: int) -> CartDTO:
    """Set how many of a product the cart holds (0 removes it)."""
    _check_quantity(quantity)
    if quantity == 0:
        return cart_remove(owner=owner, sku=sku)
    with transaction.atomic():
        cart = _find(owner, lock=True)
        line = cart.lines.filter(sku=sku).first() if cart is not None else None
        if cart is None or line is None:
            raise CartLineNotFoundError(f"{sku} is not in your cart.", fields={"sku": sku})
        if quantity > line.quantity:
            _available_product(sku)  # adding more of something gone is refused
        line.quantity = quantity
        line.save(update_fields=["quantity"])
        _touch(cart)
        lines = _lines(cart)
    return _render(lines)


def default_substitution(product: catalog.ProductDTO) -> SubstitutionChoice:
    """A best match, unless the product's department asks for no substitute by default."""
    if product.substitutes_by_default:
        return SubstitutionChoice.BEST_MATCH
    return SubstitutionChoice.NONE


def cart_set_substitution(
    *, owner: CartOwner, sku: str, substitution: SubstitutionChoice, substitute_sku: str = ""
) -> CartDTO:
    """What may stand in for this line if the hub cannot find it: a best match, the product
    `substitute_sku` (SPECIFIC; it must be sold and not the item itself) or nothing.
    SubstitutionChoiceError for a bad choice, CartLineNotFoundError for a line not there."""
    substitution = SubstitutionChoice(substitution)
    substitute_sku = substitute_sku.strip() if substitution == SubstitutionChoice.SPECIFIC else ""
    if substitution == SubstitutionChoice.SPECIFIC:
        _check_substitute(sku, substitute_sku)
    with transaction.atomic():
        cart = _find(owner, lock=True)
        line = cart.lines.filter(sku=sku).first() if cart is not None else None
        if cart is None or line is None:
            raise CartLineNotFoundError(f"{sku} is not in your cart.", fields={"sku": sku})
        line.substitution = substitution
        line.substitute_sku = substitute_sku
        line.save(update_fields=["substitution", "substitute_sku"])
        _touch(cart)
        lines = _lines(cart)
    return _render(lines)


def _check_substitute(sku: str, substitute_sku: str) -> None:
    if not substitute_sku:
        raise SubstitutionChoiceError(
            "Choose the product you would like instead.", fields={"substitute_sku": "Required."}
        )
    if substitute_sku == sku:
        raise SubstitutionChoiceError(
            "An item cannot be its own substitute.", fields={"substitute_sku": "Same product."}
        )
    found = catalog.products_by_skus(skus=[substitute_sku]).get(substitute_sku)
    if found is None or not found.active:
        raise SubstitutionChoiceError(
            f"{substitute_sku} is not sold, so it cannot be your substitute.",
            fields={"substitute_sku": "Not available."},
        )


def cart_remove(*, owner: CartOwner, sku: str) -> CartDTO:
    """Removing what is not there is not an error (a double-clicked remove)."""
    with transaction.atomic():
        cart = _find(owner, lock=True)
        if cart is None:
            return _render([])
        cart.lines.filter(sku=sku).delete()
        _touch(cart)
        lines = _lines(cart)
    return _render(lines)


def cart_accept_prices(*, owner: CartOwner) -> CartDTO:
    """The customer has seen the live prices: they become the cart's prices."""
    with transaction.atomic():
        cart = _find(owner, lock=True)
        lines = _lines(cart)
        products = catalog.products_by_skus(skus=[line.sku for line in lines]) if lines else {}
        for line in lines:
            product = products.get(line.sku)
            if product is not None and product.active and product.price != line.unit_price:
                line.unit_price = to_decimal(product.price)
                line.name = product.name
                line.save(update_fields=["unit_price", "name"])
    return _render(lines)


def cart_merge(*, session_key: str, user_id: int) -> CartDTO:
    """Move a guest cart into the user's cart on sign-in; the guest cart is then gone.

    Quantities of a product in both are added, capped at the per-line bound; lines beyond the
    per-cart bound stay out. Each cap is reported in `notices` so the customer is told.
    """
    notices: list[str] = []
    with transaction.atomic():
        guest = _find(CartOwner(session_key=session_key), lock=True)
        target = _get_or_create(CartOwner(user_id=user_id))
        if guest is None:
            return _render(_lines(target))
        existing = {line.sku: line for line in target.lines.all()}
        max_qty, max_lines = BASKET_LIMITS.max_line_quantity, BASKET_LIMITS.max_lines
        for line in guest.lines.all():
            mine = existing.get(line.sku)
            if mine is not None:
                wanted = mine.quantity + line.quantity
                mine.quantity = min(wanted, max_qty)
                if wanted > max_qty:
                    notices.append(f"{mine.name}: quantity limited to {max_qty}.")
                mine.save(update_fields=["quantity"])
            elif len(existing) >= max_lines:
                notices.append(f"{line.name} was not added: a cart holds {max_lines} products.")
            else:
                existing[line.sku] = CartLine.objects.create(
                    cart=target,
                    product_id=line.product_id,
                    sku=line.sku,
                    name=line.name,
                    unit_price=line.unit_price,
                    quantity=min(line.quantity, max_qty),
                    substitution=line.substitution,
                    substitute_sku=line.substitute_sku,
                    added_at=line.added_at,
                )
        guest.delete()
        _touch(target)
        lines = _lines(target)
    return _render(lines, tuple(notices))


def cart_reorder(*, owner: CartOwner, number: str, customer_id: int) -> CartDTO:
    """Put a past order's items back in the cart (what is still sold, at today's price, with
    the same substitute choice), added to what the cart holds, within BASKET_LIMITS. What
    could not be added is named in `notices`. OrderNotFoundError if it is not theirs."""
    order = Order.objects.filter(number=number.strip().upper(), customer_id=customer_id).first()
    if order is None:
        raise OrderNotFoundError(f"No order {number}.")
    ordered = list(order.lines.order_by("position"))
    wanted = [line.sku for line in ordered] + [line.allowed_substitute_sku for line in ordered]
    products = catalog.products_by_skus(skus=[sku for sku in wanted if sku])
    notices: list[str] = []
    max_qty, max_lines = BASKET_LIMITS.max_line_quantity, BASKET_LIMITS.max_lines
    with transaction.atomic():
        cart = _get_or_create(owner)
        existing = {line.sku: line for line in cart.lines.all()}
        for old in ordered:
            product = products.get(old.sku)
            if product is None or not product.active:
                notices.append(f"{old.name} is no longer sold.")
                continue
            mine = existing.get(old.sku)
            if mine is not None:
                mine.quantity = min(mine.quantity + old.quantity, max_qty)
                mine.unit_price = to_decimal(product.price)
                mine.save(update_fields=["quantity", "unit_price"])
                continue
            if len(existing) >= max_lines:
                notices.append(f"{old.name} was not added: a cart holds {max_lines} products.")
                continue
            choice, substitute = SubstitutionChoice(old.substitution), ""
            if choice == SubstitutionChoice.SPECIFIC:
                chosen = products.get(old.allowed_substitute_sku)
                if chosen is not None and chosen.active:
                    substitute = chosen.sku
                else:  # the chosen substitute is gone: a best match instead
                    choice = SubstitutionChoice.BEST_MATCH
            existing[old.sku] = CartLine.objects.create(
                cart=cart,
                product_id=product.id,
                sku=product.sku,
                name=product.name,
                unit_price=to_decimal(product.price),
                quantity=min(old.quantity, max_qty),
                substitution=choice,
                substitute_sku=substitute,
            )
        _touch(cart)
        lines = _lines(cart)
    return _render(lines, tuple(notices))


def cart_clear(*, owner: CartOwner) -> None:
    """Empty the owner's cart (after its order was placed)."""
    with transaction.atomic():
        cart = _find(owner, lock=True)
        if cart is not None:
            cart.lines.all().delete()
            _touch(cart)


def carts_expire(*, now: datetime | None = None) -> int:
    """Delete guest carts idle past ORDERING_GUEST_CART_DAYS and user carts idle past
    ORDERING_USER_CART_DAYS. Returns how many carts were deleted."""
    now = now or timezone.now()
    guests = Cart.objects.filter(user__isnull=True, updated_at__lt=now - conf.guest_cart_ttl())
    users = Cart.objects.filter(user__isnull=False, updated_at__lt=now - conf.user_cart_ttl())
    deleted = 0
    for queryset in (guests, users):
        ids = list(queryset.values_list("id", flat=True)[:10000])
        while ids:
            with transaction.atomic():
                # Re-filtered: a cart touched since it was listed is kept.
                deleted += queryset.filter(id__in=ids).delete()[1].get("ordering.Cart", 0)
            ids = list(queryset.values_list("id", flat=True)[:10000])
    return deleted
