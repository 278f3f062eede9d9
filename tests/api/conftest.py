from __future__ import annotations

import pytest_asyncio

from models import Product
from services.seed import generate_products


@pytest_asyncio.fixture(loop_scope="session")
async def catalog(app, db) -> list[Product]:
    """150 deterministic demo products (a few inactive or out of stock)."""
    await Product.bulk_create(generate_products(150, seed=7))
    await app.state.recommender.catalog.load()
    return await Product.all().order_by("id")
