"""Money: Decimal amounts in one currency, never float.

Rounding rule: an amount is kept to the currency's minor unit (2 places). Any product of a
price and a quantity or rate is rounded once, half up (ROUND_HALF_UP), per line; totals are
sums of rounded lines and so exact. Minor units (cents) are for payment providers.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeVar

from django.conf import settings
from django.db import models

CENT = Decimal("0.01")


def to_decimal(value: Decimal | int | str) -> Decimal:
    """The amount rounded half up to the cent. Raises TypeError for a float, ValueError for
    what is not a number."""
    if isinstance(value, float):
        raise TypeError("Money never takes a float; pass a Decimal, int or string.")
    try:
        return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"Not an amount of money: {value!r}") from exc


def default_currency() -> str:
    """The currency code in settings.CURRENCY."""
    return settings.CURRENCY


@dataclass(frozen=True, order=True)
class Money:
    """An amount in one currency (ISO 4217 code), kept to the cent; combining two currencies
    raises ValueError, a float raises TypeError."""

    amount: Decimal
    currency: str = "USD"

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"Not an ISO 4217 currency code: {self.currency!r}")

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str | None = None) -> "Money":
        return cls(to_decimal(amount), currency or default_currency())

    @classmethod
    def zero(cls, currency: str | None = None) -> "Money":
        return cls.of(0, currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str | None = None) -> "Money":
        return cls.of(Decimal(minor) / 100, currency)

    def to_minor(self) -> int:
        return int(self.amount * 100)

    def _same(self, other: "Money") -> None:
        if not isinstance(other, Money):
            raise TypeError(f"Cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"Currency mismatch: {self.currency} and {other.currency}")

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> "Money":
        if isinstance(factor, float):
            raise TypeError("Multiply Money by an int or a Decimal, never a float.")
        return Money(to_decimal(self.amount * Decimal(factor)), self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> "Money":
        return Money(-self.amount, self.currency)

    def __bool__(self) -> bool:
        return self.amount != 0

    def __str__(self) -> str:
        return f"{self.amount:.2f} {self.currency}"


_ST = TypeVar("_ST", contravariant=True)
_GT = TypeVar("_GT", covariant=True)


class MoneyField(models.DecimalField[_ST, _GT]):
    """An amount of money in a model: the one size every app stores (12 digits, 2 places)."""

    MAX_DIGITS = 12
    DECIMAL_PLACES = 2

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        size = (self.MAX_DIGITS, self.DECIMAL_PLACES)
        asked = (kwargs.pop("max_digits", size[0]), kwargs.pop("decimal_places", size[1]))
        if asked != size:
            raise ValueError(f"MoneyField is always {size[0]} digits, {size[1]} places: {asked}")
        kwargs.update(max_digits=self.MAX_DIGITS, decimal_places=self.DECIMAL_PLACES)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        del kwargs["max_digits"], kwargs["decimal_places"]
        return name, path, args, kwargs
