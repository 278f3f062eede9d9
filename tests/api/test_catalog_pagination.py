"""Keyset pagination of `products` through the public GraphQL surface."""

from __future__ import annotations

from decimal import Decimal

import pytest

from models import Product
from tests.support.graphql import error_codes, gql, gql_data

PAGE = """
query Page($first: Int, $after: String, $last: Int, $before: String, $sort: ProductSort,
           $filter: ProductFilter) {
  products(first: $first, after: $after, last: $last, before: $before, sort: $sort,
           filter: $filter) {
    totalCount
    edges { cursor node { id name price { amount currency } createdAt popularity } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

SORTS = [
    ({"field": "PRICE", "direction": "ASC"}, lambda n: Decimal(n["price"]["amount"]), False),
    ({"field": "PRICE", "direction": "DESC"}, lambda n: Decimal(n["price"]["amount"]), True),
    ({"field": "NAME", "direction": "ASC"}, lambda n: n["name"], False),
    ({"field": "NEWEST"}, lambda n: n["createdAt"], True),
    ({"field": "POPULARITY", "direction": "DESC"}, lambda n: n["popularity"], True),
]


async def _walk_forward(client, sort, size, flt=None):
    nodes, after = [], None
    while True:
        variables = {"first": size, "after": after, "sort": sort, "filter": flt}
        page = (await gql_data(client, PAGE, variables))["products"]
        nodes += [e["node"] for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            return nodes, page["totalCount"]
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize(("sort", "key", "descending"), SORTS)
async def test_forward_pages_cover_every_active_product_once_in_order(
    client, catalog, sort, key, descending
):
    nodes, total = await _walk_forward(client, sort, 17)
    active = [p for p in catalog if p.is_active]
    assert total == len(active) == len(nodes)
    assert len({n["id"] for n in nodes}) == len(nodes)
    keys = [key(n) for n in nodes]
    assert keys == sorted(keys, reverse=descending)


@pytest.mark.parametrize(("sort", "key", "descending"), SORTS[:3])
async def test_backward_pages_mirror_forward_pages(client, catalog, sort, key, descending):
    forward, _ = await _walk_forward(client, sort, 25)
    backward, before = [], None
    while True:
        page = (await gql_data(client, PAGE, {"last": 11, "before": before, "sort": sort}))[
            "products"
        ]
        backward = [e["node"] for e in page["edges"]] + backward
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert [n["id"] for n in backward] == [n["id"] for n in forward]


async def test_cursors_stay_stable_when_rows_are_inserted(client, catalog):
    sort = {"field": "PRICE", "direction": "ASC"}
    first = (await gql_data(client, PAGE, {"first": 10, "sort": sort}))["products"]
    # A product cheaper than everything seen so far would shift an offset cursor by one.
    await Product.create(
        name="Cheap Newcomer", price=Decimal("0.50"), category="Kitchen", brand="Arbor",
        inventory=5,
    )  # fmt: skip
    second = (
        await gql_data(
            client, PAGE, {"first": 10, "after": first["pageInfo"]["endCursor"], "sort": sort}
        )
    )["products"]
    seen = {e["node"]["id"] for e in first["edges"]}
    assert not seen & {e["node"]["id"] for e in second["edges"]}
    last_price = Decimal(first["edges"][-1]["node"]["price"]["amount"])
    assert all(Decimal(e["node"]["price"]["amount"]) >= last_price for e in second["edges"])


async def test_money_is_an_exact_decimal_string(client, catalog):
    page = (await gql_data(client, PAGE, {"first": 5}))["products"]
    for edge in page["edges"]:
        amount = edge["node"]["price"]["amount"]
        assert isinstance(amount, str)
        assert Decimal(amount) == Decimal(amount).quantize(Decimal("0.01"))
        assert edge["node"]["price"]["currency"] == "USD"


async def test_first_zero_returns_an_empty_page_with_the_total(client, catalog):
    page = (await gql_data(client, PAGE, {"first": 0}))["products"]
    assert page["edges"] == []
    assert page["totalCount"] > 0


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"first": 101}, "PAGE_SIZE_EXCEEDED"),
        ({"last": 500}, "PAGE_SIZE_EXCEEDED"),
        ({"first": -1}, "BAD_USER_INPUT"),
        ({"first": 5, "last": 5}, "BAD_USER_INPUT"),
        ({"first": 5, "after": "not-a-cursor"}, "INVALID_CURSOR"),
        ({"first": 5, "after": "WzEsMiwzXQ"}, "INVALID_CURSOR"),  # valid base64, wrong shape
        ({"first": 5, "sort": {"field": "RELEVANCE"}}, "BAD_USER_INPUT"),
        ({"first": 5, "filter": {"minPrice": "50", "maxPrice": "10"}}, "BAD_USER_INPUT"),
        ({"first": 5, "filter": {"minPrice": "-1"}}, "BAD_USER_INPUT"),
        ({"first": 5, "filter": {"minPrice": "1.234"}}, "BAD_USER_INPUT"),
        ({"first": 5, "filter": {"minPrice": "NaN"}}, "BAD_USER_INPUT"),
        ({"first": 5, "filter": {"minPrice": "abc"}}, "BAD_USER_INPUT"),
        ({"first": 5, "filter": {"search": "x" * 201}}, "BAD_USER_INPUT"),
        ({"first": 5, "filter": {"colour": "red"}}, "BAD_USER_INPUT"),
        ({"first": 5, "sort": {"field": "COLOUR"}}, "BAD_USER_INPUT"),
        ({"first": 5, "filter": {"includeInactive": True}}, "UNAUTHENTICATED"),
    ],
)
async def test_bad_arguments_get_a_typed_error(client, catalog, variables, code):
    body = await gql(client, PAGE, variables)
    assert error_codes(body) == [code], body
    assert "Traceback" not in str(body)


async def test_a_cursor_from_another_sort_is_refused(client, catalog):
    by_price = (await gql_data(client, PAGE, {"first": 3, "sort": {"field": "PRICE"}}))["products"]
    body = await gql(
        client,
        PAGE,
        {"first": 3, "after": by_price["pageInfo"]["endCursor"], "sort": {"field": "NAME"}},
    )
    assert error_codes(body) == ["INVALID_CURSOR"]
    assert "different sort" in body["errors"][0]["message"]
