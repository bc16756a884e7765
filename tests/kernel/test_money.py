from decimal import Decimal

import pytest

from prime_now.kernel.money import Money, MoneyField, to_decimal


def test_amounts_are_kept_to_the_cent_rounding_half_up():
    assert to_decimal("2.345") == Decimal("2.35")
    assert to_decimal("2.344") == Decimal("2.34")


def test_a_line_total_is_rounded_once():
    assert Money.of("0.333") * 3 == Money.of("0.99")
    assert Money.of("1.99") * Decimal("1.5") == Money.of("2.99")


def test_totals_are_exact_sums_of_rounded_lines():
    lines = [Money.of("1.99") * 3, Money.of("0.10") * 7]
    assert lines[0] + lines[1] == Money.of("6.67")


def test_floats_are_refused():
    with pytest.raises(TypeError):
        Money.of(1.1)
    with pytest.raises(TypeError):
        Money.of("1.00") * 1.5


def test_different_currencies_do_not_mix():
    with pytest.raises(ValueError):
        Money.of("1.00", "USD") + Money.of("1.00", "EUR")


def test_minor_units_round_trip():
    assert Money.of("12.34").to_minor() == 1234
    assert Money.from_minor(1234) == Money.of("12.34")


def test_a_bad_amount_is_a_clear_error():
    with pytest.raises(ValueError, match="Not an amount"):
        to_decimal("twelve")


def test_a_money_field_is_always_twelve_digits_and_two_places():
    field = MoneyField()

    assert (field.max_digits, field.decimal_places) == (12, 2)


def test_a_money_field_of_another_size_is_refused():
    with pytest.raises(ValueError, match="12 digits, 2 places"):
        MoneyField(max_digits=8, decimal_places=2)
