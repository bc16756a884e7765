"""Money arithmetic for orders. The rounding rule (also in docs/ordering.md):

1. Every amount entering ordering (unit price, delivery fee, tip) is rounded once to the
   cent, half up (prime_now.kernel.money.to_decimal): 0.335 -> 0.34, 0.334 -> 0.33.
2. A line total is the rounded unit price times the quantity (exact: no further rounding).
3. subtotal = sum of line totals; total = subtotal + delivery fee + tip (exact sums).
4. After picking, a line is charged picked quantity x unit price + substitute quantity x
   substitute unit price, where a substitute costs its catalog price but never more than the
   ordered item's unit price. The fee and tip stay as agreed. The difference to the authorized
   amount is released on the card at once; the card is captured for the new total on delivery.
5. Providers get integer minor units (cents) of those exact amounts.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from prime_now.kernel.errors import ValidationError
from prime_now.kernel.money import to_decimal

from ..statuses import SubstitutionChoice
from .dtos import BasketLimits, OrderLineInput

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class PricedLine:
    product_id: int
    sku: str
    name: str
    unit_price: Decimal
    quantity: int
    line_total: Decimal
    substitution: SubstitutionChoice = SubstitutionChoice.BEST_MATCH
    allowed_substitute_sku: str = ""


class Totalled(Protocol):
    @property
    def line_total(self) -> Decimal: ...


def amount(value: Decimal | int | str, *, field: str, maximum: Decimal | None = None) -> Decimal:
    """An amount entering ordering: a Decimal, int or str, rounded to the cent half up."""
    try:
        rounded = to_decimal(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"{field} is not an amount.", fields={field: "Not an amount."}
        ) from exc
    if not rounded.is_finite() or rounded < 0:
        raise ValidationError(f"{field} cannot be negative.", fields={field: "Must be 0 or more."})
    if maximum is not None and rounded > maximum:
        raise ValidationError(
            f"{field} can be at most {maximum}.", fields={field: f"At most {maximum}."}
        )
    return rounded


def price_lines(lines: Sequence[OrderLineInput], *, limits: BasketLimits) -> list[PricedLine]:
    if not lines:
        raise ValidationError("An order needs at least one line.", fields={"lines": "Empty."})
    if len(lines) > limits.max_lines:
        raise ValidationError(
            f"An order holds at most {limits.max_lines} lines.", fields={"lines": "Too many."}
        )
    priced: list[PricedLine] = []
    seen: set[str] = set()
    errors: dict[str, str] = {}
    for line in lines:
        sku = (line.sku or "").strip()
        if not sku:
            errors["lines"] = "Every line needs a SKU."
            continue
        if sku in seen:
            errors[sku] = "Listed twice; send one line per SKU."
            continue
        seen.add(sku)
        if not isinstance(line.quantity, int) or line.quantity < 1:
            errors[sku] = "Quantity must be a whole number of at least 1."
            continue
        if line.quantity > limits.max_line_quantity:
            errors[sku] = f"At most {limits.max_line_quantity} of one product."
            continue
        unit_price = amount(line.unit_price, field=f"{sku}.unit_price")
        allowed = (line.allowed_substitute_sku or "").strip()
        if line.substitution == SubstitutionChoice.NONE and allowed:
            errors[sku] = "A substitute is allowed although the customer wants none."
            continue
        if line.substitution == SubstitutionChoice.SPECIFIC and not allowed:
            errors[sku] = "A specific substitute needs its SKU."
            continue
        if allowed == sku:
            errors[sku] = "A product cannot substitute itself."
            continue
        priced.append(
            PricedLine(
                product_id=line.product_id,
                sku=sku,
                name=line.name,
                unit_price=unit_price,
                quantity=line.quantity,
                line_total=unit_price * line.quantity,
                substitution=SubstitutionChoice(line.substitution),
                allowed_substitute_sku=allowed,
            )
        )
    if errors:
        raise ValidationError("Some order lines are not valid.", fields=errors)
    return priced


def substitute_price(*, ordered: Decimal, catalog: Decimal) -> Decimal:
    return min(to_decimal(ordered), to_decimal(catalog))


def picked_line_total(
    *,
    unit_price: Decimal,
    picked_quantity: int,
    substitute_unit_price: Decimal | None,
    substitute_quantity: int,
) -> Decimal:
    total = to_decimal(unit_price) * picked_quantity
    if substitute_quantity and substitute_unit_price is not None:
        total += to_decimal(substitute_unit_price) * substitute_quantity
    return to_decimal(total)


def subtotal(lines: Iterable[Totalled]) -> Decimal:
    return to_decimal(sum((line.line_total for line in lines), ZERO))


def total(*, subtotal: Decimal, delivery_fee: Decimal, tip: Decimal) -> Decimal:
    return to_decimal(subtotal + delivery_fee + tip)
