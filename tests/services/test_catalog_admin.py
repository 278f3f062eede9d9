"""Admin catalog management: validation, partial updates, stock that never goes below 0."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import DomainError, ErrorCode, InvalidInput
from models import Product
from services import catalog_admin
from services.events import CATALOG, INVENTORY
from tests.services.conftest import CURRENCY

VALID = {"name": "Trail Runner", "price": "129.90", "category": "Sneakers", "brand": "Kestrel"}


async def test_create_stores_a_clean_product_and_announces_it(db, published):
    product = await catalog_admin.create_product(
        {**VALID, "name": "  Trail Runner  ", "image_url": "/media/products/x.svg",
         "images": ["https://cdn.example/a.jpg"], "features": {"colour": "red"},
         "inventory": 12, "model_url": "https://cdn.example/a.glb", "ar_enabled": True},
        currency=CURRENCY,
    )  # fmt: skip
    stored = await Product.get(id=product.id)
    assert stored.name == "Trail Runner" and stored.price == Decimal("129.90")
    assert (stored.currency, stored.inventory, stored.is_active) == (CURRENCY, 12, True)
    assert stored.has_3d_model and stored.ar_enabled
    assert published == [(CATALOG, {"productId": product.id})]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": None}, "name"),
        ({"price": "-1"}, "price"),
        ({"price": "1.999"}, "price"),
        ({"price": "NaN"}, "price"),
        ({"category": ""}, "category"),
        ({"image_url": "javascript:alert(1)"}, "imageUrl"),
        ({"image_url": "//evil.example/x.png"}, "imageUrl"),
        ({"images": ["ftp://x/y"]}, "images"),
        ({"images": ["/a.png"] * 11}, "images"),
        ({"features": ["not", "an", "object"]}, "features"),
        ({"features": {"a": {"b": {"c": {"d": 1}}}}}, "features"),
        ({"features": {"blob": "x" * 9000}}, "features"),
        ({"inventory": -1}, "inventory"),
        ({"inventory": 1_000_001}, "inventory"),
        ({"ar_enabled": True}, "arEnabled"),  # AR without a 3D model
    ],
)
async def test_invalid_products_are_refused_and_nothing_is_stored(db, published, changes, field):
    with pytest.raises(InvalidInput) as refused:
        await catalog_admin.create_product({**VALID, **changes}, currency=CURRENCY)
    assert refused.value.field == field
    assert await Product.all().count() == 0 and published == []


async def test_update_changes_only_the_given_fields(make_product, published):
    product = await make_product(price="10.00", inventory=4, image_url="/a.svg")
    updated = await catalog_admin.update_product(
        product.id, {"price": "12.50", "image_url": None, "description": "Better"}
    )
    stored = await Product.get(id=product.id)
    assert (stored.price, stored.image_url, stored.description) == (
        Decimal("12.50"),
        None,
        "Better",
    )
    assert (stored.name, stored.inventory) == (product.name, 4)
    assert updated.price == Decimal("12.50")
    assert published == [(CATALOG, {"productId": product.id})]
    with pytest.raises(InvalidInput):
        await catalog_admin.update_product(product.id, {"inventory": 3})
    with pytest.raises(DomainError) as missing:
        await catalog_admin.update_product(product.id + 99, {"name": "Ghost"})
    assert missing.value.code == ErrorCode.PRODUCT_NOT_FOUND


async def test_deactivate_withdraws_and_update_can_restore(make_product):
    product = await make_product()
    assert (await catalog_admin.deactivate_product(product.id)).is_active is False
    assert (await catalog_admin.deactivate_product(product.id)).is_active is False  # idempotent
    assert (await catalog_admin.update_product(product.id, {"is_active": True})).is_active


async def test_set_inventory(make_product, published):
    product = await make_product(inventory=4)
    assert (await catalog_admin.set_inventory(product.id, 9)).inventory == 9
    assert published == [(INVENTORY, {"productId": product.id, "inventory": 9, "inStock": True})]
    with pytest.raises(InvalidInput):
        await catalog_admin.set_inventory(product.id, -1)
    with pytest.raises(DomainError) as missing:
        await catalog_admin.set_inventory(product.id + 99, 1)
    assert missing.value.code == ErrorCode.PRODUCT_NOT_FOUND
    assert (await Product.get(id=product.id)).inventory == 9


async def test_adjust_inventory_never_goes_below_zero(make_product, published):
    product = await make_product(inventory=4)
    assert (await catalog_admin.adjust_inventory(product.id, 6)).inventory == 10
    assert (await catalog_admin.adjust_inventory(product.id, -10)).inventory == 0
    with pytest.raises(DomainError) as refused:
        await catalog_admin.adjust_inventory(product.id, -1)
    assert refused.value.code == ErrorCode.INSUFFICIENT_STOCK
    with pytest.raises(InvalidInput):
        await catalog_admin.adjust_inventory(product.id, catalog_admin.MAX_INVENTORY + 1)
    await catalog_admin.set_inventory(product.id, catalog_admin.MAX_INVENTORY)
    with pytest.raises(InvalidInput):
        await catalog_admin.adjust_inventory(product.id, 1)
    with pytest.raises(DomainError) as missing:
        await catalog_admin.adjust_inventory(product.id + 99, 1)
    assert missing.value.code == ErrorCode.PRODUCT_NOT_FOUND
    assert (await Product.get(id=product.id)).inventory == catalog_admin.MAX_INVENTORY
    levels = [p["inventory"] for channel, p in published if channel == INVENTORY]
    assert levels == [10, 0, catalog_admin.MAX_INVENTORY]
