"""Global ids that name no row, however they are malformed, answer like a missing row.

Regression (issue 12): `Product:2147483648` failed the query on PostgreSQL (past `integer`),
ids past 2^63 failed it on SQLite, `Product:²` raised, and the Arabic-Indic one `Product:\u0661`
resolved to product 1; `product(id:)` and `order(id:)` disagreed on a malformed id.
"""

from __future__ import annotations

import base64

import pytest

from tests.api.commerce import ADD_TO_CART
from tests.support.graphql import error_codes, gql, user_errors

NOWHERE = [
    "2147483648",  # past PostgreSQL's integer
    "9223372036854775808",  # past 64 bits
    "99999999999999999999999999",
    "\u00b2",  # superscript two: isdigit(), but int() refuses it
    "\u0661",  # Arabic-Indic one: int() reads it as 1
    "+1",
    "-1",
    "0",
    " 1",
    "1.0",
    "",
]


def gid(type_name: str, node_id: str) -> str:
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


@pytest.mark.parametrize("node_id", NOWHERE)
async def test_queries_answer_null_for_ids_that_name_no_row(client, catalog, admin, node_id):
    for field, type_name in (("product", "Product"), ("order", "Order"), ("node", "Product")):
        body = await gql(client, f'{{ {field}(id: "{gid(type_name, node_id)}") {{ id }} }}',
                         token=admin)  # fmt: skip
        assert body == {"data": {field: None}, "extensions": body.get("extensions")}, body


@pytest.mark.parametrize("node_id", NOWHERE)
async def test_mutations_answer_not_found_for_ids_that_name_no_row(client, catalog, alice, node_id):
    body = await gql(client, ADD_TO_CART, {"product": gid("Product", node_id)}, token=alice)
    assert user_errors(body["data"]["addToCart"]) == [("productId", "PRODUCT_NOT_FOUND")]


async def test_an_order_filter_by_a_malformed_user_id_is_bad_input(client, admin):
    user = gid("User", "2147483648")
    query = f'{{ orders(userId: "{user}") {{ edges {{ node {{ id }} }} }} }}'
    body = await gql(client, query, token=admin)
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_big_ids_still_reach_64_bit_tables(client, alice):
    # Chat messages have 64-bit ids: a large one is looked up (and not found), not refused.
    body = await gql(
        client, f'{{ node(id: "{gid("ChatMessage", str(2**40))}") {{ id }} }}', token=alice
    )
    assert body["data"] == {"node": None} and "errors" not in body


async def test_a_plain_id_still_resolves(client, catalog):
    product = catalog[0]
    body = await gql(client, f'{{ product(id: "{gid("Product", str(product.id))}") {{ name }} }}')
    assert body["data"]["product"]["name"] == product.name
