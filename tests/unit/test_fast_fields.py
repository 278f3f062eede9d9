"""The attribute-reading fast path answers exactly like Strawberry's own resolvers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from schema import ShopSchema, build_schema
from schema.types.money import Money
from schema.types.product import ProductType


def _product() -> ProductType:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return ProductType(
        id=7, name="Lamp", description="d", price=Money(amount=Decimal("9.90"), currency="USD"),
        category="Lighting", brand="Lumen", image_url=None, images=["a"], features={"k": 1},
        inventory=3, in_stock=True, is_active=True, has_3d_model=False, model_url=None,
        ar_enabled=True, popularity=1.5, created_at=now, updated_at=now,
    )  # fmt: skip


async def test_fast_schema_matches_stock_strawberry(monkeypatch):
    query = """{ node(id: "UHJvZHVjdDo3") { ... on Product {
        id name price { amount currency } imageUrl images features inStock has3DModel
        arEnabled popularity createdAt } } }"""

    async def one_product(cls, *, info, node_ids, required=False):
        return [_product()]

    monkeypatch.setattr(ProductType, "resolve_nodes", classmethod(one_product))
    fast = build_schema()
    monkeypatch.setattr("schema.speed_up_basic_fields", lambda _s: 0)
    stock = build_schema()
    assert isinstance(stock, ShopSchema)
    fast_result = await fast.execute(query)
    stock_result = await stock.execute(query)
    assert fast_result.errors is None and stock_result.errors is None
    assert fast_result.data == stock_result.data
    assert fast_result.data["node"]["price"] == {"amount": "9.90", "currency": "USD"}
