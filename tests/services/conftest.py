from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from models import Product, User
from services import events
from services.recommendations.rewards import RewardTable
from tests.api.conftest import catalog  # noqa: F401 - the same demo catalog fixture

CURRENCY = "USD"


@pytest.fixture
def rewards() -> RewardTable:
    return RewardTable()


@pytest.fixture
def published(monkeypatch) -> list[tuple[str, dict[str, Any]]]:
    """Every event the services publish, as (channel, payload), in order."""
    sent: list[tuple[str, dict[str, Any]]] = []

    async def record(channel: str, payload: dict[str, Any]) -> bool:
        sent.append((channel, dict(payload)))
        return True

    monkeypatch.setattr(events, "publish", record)
    return sent


@pytest.fixture
def make_user(db):
    counter = iter(range(1, 1_000_000))

    async def make(**fields: Any) -> User:
        return await User.create(clerk_id=f"user_svc_{next(counter)}", **fields)

    return make


@pytest.fixture
def make_product(db):
    async def make(
        price: str = "10.00", inventory: int = 10, name: str = "Thing", **fields: Any
    ) -> Product:
        return await Product.create(
            name=name,
            price=Decimal(price),
            currency=CURRENCY,
            category="Tests",
            brand="Acme",
            inventory=inventory,
            **fields,
        )

    return make
