from __future__ import annotations

from decimal import Decimal

import strawberry

from core.money import Money as DomainMoney


@strawberry.type(description="An exact amount of money in a currency (never a float).")
class Money:
    amount: Decimal = strawberry.field(description="Decimal amount, e.g. `19.99`.")
    currency: str = strawberry.field(description="ISO-4217 currency code, e.g. `USD`.")

    @classmethod
    def of(cls, amount: Decimal, currency: str) -> Money:
        return cls(amount=amount, currency=currency)

    @classmethod
    def from_domain(cls, money: DomainMoney) -> Money:
        return cls(amount=money.amount, currency=money.currency)
