from decimal import Decimal

import pytest

from core.errors import DomainError
from core.money import Money, parse_amount, quantize


@pytest.mark.parametrize("raw", ["19.99", 19, Decimal("0.10"), "1e2"])
def test_parse_amount_accepts_cents(raw):
    assert parse_amount(raw) == quantize(Decimal(str(raw)))


@pytest.mark.parametrize("raw", ["-0.01", "0.001", "NaN", "Infinity", "abc", "10000000000"])
def test_parse_amount_refuses_bad_amounts(raw):
    with pytest.raises(DomainError):
        parse_amount(raw)


def test_money_arithmetic_is_exact():
    total = Money(Decimal("0.10"), "USD")
    for _ in range(9):
        total = total + Money(Decimal("0.10"), "USD")
    assert total.amount == Decimal("1.00")
    assert Money(Decimal("19.99"), "USD").times(3).amount == Decimal("59.97")
    with pytest.raises(ValueError):
        total + Money(Decimal("1.00"), "EUR")
