"""`row_loader` builds exactly the instance Tortoise's `_init_from_db` builds."""

from __future__ import annotations

from tortoise import connections

from models import Product
from models.row_loader import row_loader
from services.seed import seed_demo


async def test_fast_loader_matches_tortoise(app, db):
    await seed_demo(products=30)
    rows = await connections.get("default").execute_query_dict("SELECT * FROM products")
    rows[0]["model_url"] = None  # a null in a column of each kind
    rows[1]["features"] = None
    load = row_loader(Product)
    for row in rows:
        fast, reference = load(row), Product._init_from_db(**row)
        assert list(vars(fast).items()) == list(vars(reference).items())
    partial = {k: v for k, v in rows[2].items() if k != "images"}
    assert load(partial)._partial and vars(load(partial)) == vars(Product._init_from_db(**partial))
