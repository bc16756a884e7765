from decimal import Decimal

import pytest

from prime_now.kernel.money import Money, to_decimal


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
