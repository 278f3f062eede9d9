"""Filters, text search and facets of the catalog."""

from __future__ import annotations

from decimal import Decimal

from models import Product
from tests.support.graphql import gql_data

LIST = """
query($filter: ProductFilter, $sort: ProductSort, $first: Int = 100) {
  products(first: $first, filter: $filter, sort: $sort) {
    totalCount
    edges { node { id name category brand price { amount } inStock inventory arEnabled } }
  }
}
"""


async def _nodes(client, flt, sort=None):
    data = await gql_data(client, LIST, {"filter": flt, "sort": sort})
    conn = data["products"]
    return [e["node"] for e in conn["edges"]], conn["totalCount"]


async def test_category_and_brand_filters(client, catalog):
    active = [p for p in catalog if p.is_active]
    category = active[0].category
    nodes, total = await _nodes(client, {"category": category})
    assert total == len([p for p in active if p.category == category]) == len(nodes)
    assert {n["category"] for n in nodes} == {category}

    brands = sorted({p.brand for p in active})[:2]
    nodes, total = await _nodes(client, {"brand": brands})
    assert {n["brand"] for n in nodes} <= set(brands)
    assert total == len([p for p in active if p.brand in brands])


async def test_price_bounds_are_inclusive_and_numeric(client, catalog):
    active = [p for p in catalog if p.is_active]
    prices = sorted(p.price for p in active)
    lo, hi = prices[10], prices[40]
    nodes, total = await _nodes(client, {"minPrice": str(lo), "maxPrice": str(hi)})
    expected = [p for p in active if lo <= p.price <= hi]
    assert total == len(expected)
    assert all(lo <= Decimal(n["price"]["amount"]) <= hi for n in nodes)


async def test_stock_and_ar_filters(client, catalog):
    active = [p for p in catalog if p.is_active]
    _, in_stock = await _nodes(client, {"inStock": True})
    _, sold_out = await _nodes(client, {"inStock": False})
    assert in_stock == len([p for p in active if p.inventory > 0])
    assert sold_out == len(active) - in_stock
    nodes, ar = await _nodes(client, {"arEnabled": True})
    assert ar == len([p for p in active if p.ar_enabled]) and ar > 0
    assert all(n["arEnabled"] for n in nodes)


async def test_inactive_products_are_not_listed_but_stay_reachable_by_id(client, catalog):
    withdrawn = await Product.create(
        name="Withdrawn Lamp", price=Decimal("10.00"), category="Lighting", brand="Lumen",
        inventory=3, is_active=False,
    )  # fmt: skip
    nodes, _ = await _nodes(client, {"search": "withdrawn"})
    assert nodes == []
    data = await gql_data(
        client,
        "query($id: ID!) { product(id: $id) { name isActive } }",
        {"id": _gid("Product", withdrawn.id)},
    )
    assert data["product"] == {"name": "Withdrawn Lamp", "isActive": False}


async def test_search_matches_words_and_prefixes_and_ranks_names_first(client, db):
    await Product.bulk_create(
        [
            Product(name="Trail Runner", description="A shoe for hills", price=Decimal("90"),
                    category="Sneakers", brand="Fjell", inventory=3),
            Product(name="Desk Lamp", description="Pairs with any trail runner desk",
                    price=Decimal("40"), category="Lighting", brand="Lumen", inventory=3),
            Product(name="Rain Shell", description="Waterproof", price=Decimal("120"),
                    category="Jackets", brand="Fjell", inventory=3),
        ]
    )  # fmt: skip
    nodes, total = await _nodes(client, {"search": "trail runn"})
    assert total == 2
    assert nodes[0]["name"] == "Trail Runner"  # a name match outranks a description match
    nodes, total = await _nodes(client, {"search": "fjell"})
    assert {n["name"] for n in nodes} == {"Trail Runner", "Rain Shell"}
    _, total = await _nodes(client, {"search": "zzzz"})
    assert total == 0


async def test_hostile_search_text_is_only_data(client, catalog):
    # Read as literal text: no demo product contains any of these, so none matches (a LIKE
    # wildcard or a tsquery operator that got through would match many).
    for text in ["'; DROP TABLE products; --", "%_%", "\\", "ü ß 東京", "*", "%"]:
        _, total = await _nodes(client, {"search": text})
        assert total == 0, text
    # Query operators are not syntax either: this finds what the words `a` and `b` find.
    _, operators = await _nodes(client, {"search": "a:* | !b"})
    _, words = await _nodes(client, {"search": "a b"})
    assert operators == words
    # Blank text is no search at all: every product on sale.
    _, total = await _nodes(client, {"search": "   "})
    assert total == sum(p.is_active for p in catalog)
    assert await Product.all().count() == len(catalog)


async def test_search_results_can_be_sorted_by_price(client, catalog):
    nodes, _ = await _nodes(client, {"search": "classic"}, {"field": "PRICE", "direction": "DESC"})
    prices = [Decimal(n["price"]["amount"]) for n in nodes]
    assert prices and prices == sorted(prices, reverse=True)


FACETS = """
query($filter: ProductFilter) {
  facets(filter: $filter) {
    totalCount
    categories { value count }
    brands { value count }
    priceRange { min { amount currency } max { amount } }
  }
}
"""


async def test_facets_are_disjunctive(client, catalog):
    active = [p for p in catalog if p.is_active]
    category = active[0].category
    facets = (await gql_data(client, FACETS, {"filter": {"category": category}}))["facets"]
    # Categories are counted without the category filter (siblings stay visible) ...
    expected_categories = {}
    for p in active:
        expected_categories[p.category] = expected_categories.get(p.category, 0) + 1
    assert {c["value"]: c["count"] for c in facets["categories"]} == expected_categories
    # ... while brands and the total honour it.
    in_category = [p for p in active if p.category == category]
    assert facets["totalCount"] == len(in_category)
    assert sum(b["count"] for b in facets["brands"]) == len(in_category)
    assert Decimal(facets["priceRange"]["min"]["amount"]) == min(p.price for p in in_category)
    assert Decimal(facets["priceRange"]["max"]["amount"]) == max(p.price for p in in_category)


async def test_facets_of_an_empty_result(client, catalog):
    facets = (await gql_data(client, FACETS, {"filter": {"search": "qqqqqq"}}))["facets"]
    assert facets == {"totalCount": 0, "categories": [], "brands": [], "priceRange": None}


def _gid(type_name: str, pk: int) -> str:
    import base64

    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()
