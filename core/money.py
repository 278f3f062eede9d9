"""Exact money: Decimal amounts with an ISO-4217 currency code, never floats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")  # fits NUMERIC(12, 2)


def quantize(amount: Decimal) -> Decimal:
    """Round to cents with banker's rounding, the convention for accumulated money."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def parse_amount(value: object, *, field: str = "amount") -> Decimal:
    """Parse a user-supplied amount: finite, non-negative, at most two decimals."""
    from core.errors import InvalidInput

    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput(f"{field} must be a decimal number", field=field) from exc
    if not amount.is_finite():
        raise InvalidInput(f"{field} must be finite", field=field)
    if amount < 0:
        raise InvalidInput(f"{field} must not be negative", field=field)
    if amount > MAX_AMOUNT:
        raise InvalidInput(f"{field} must be at most {MAX_AMOUNT}", field=field)
    if amount != amount.quantize(CENT):
        raise InvalidInput(f"{field} must have at most two decimal places", field=field)
    return quantize(amount)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(quantize(self.amount * quantity), self.currency)
