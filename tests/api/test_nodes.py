"""Global ids, `product(id)` and `node(id)`."""

from __future__ import annotations

import base64

from tests.support.graphql import error_codes, gql, gql_data


def gid(type_name: str, pk: int | str) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


async def test_node_resolves_a_product_by_global_id(client, catalog):
    product = catalog[3]
    data = await gql_data(
        client,
        "query($id: ID!) { node(id: $id) { __typename id ... on Product { name } } }",
        {"id": gid("Product", product.id)},
    )
    assert data["node"] == {
        "__typename": "Product",
        "id": gid("Product", product.id),
        "name": product.name,
    }


async def test_ids_round_trip_between_list_and_lookup(client, catalog):
    listed = await gql_data(client, "{ products(first: 3) { edges { node { id name } } } }")
    for edge in listed["products"]["edges"]:
        found = await gql_data(
            client, "query($id: ID!) { product(id: $id) { name } }", {"id": edge["node"]["id"]}
        )
        assert found["product"]["name"] == edge["node"]["name"]


async def test_missing_and_foreign_ids(client, catalog):
    query = "query($id: ID!) { node(id: $id) { id } }"
    assert (await gql_data(client, query, {"id": gid("Product", 999999)}))["node"] is None
    assert (await gql_data(client, query, {"id": gid("Spaceship", 1)}))["node"] is None
    # Another user's account looks exactly like a missing one.
    assert (await gql_data(client, query, {"id": gid("User", 1)}))["node"] is None
    body = await gql(client, query, {"id": "not base64 at all"})
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_product_with_an_id_of_another_type_is_null_like_order_and_node(client, catalog):
    # One rule for every id that names no row (tests/api/test_global_ids.py): null.
    body = await gql(
        client, "query($id: ID!) { product(id: $id) { id } }", {"id": gid("User", catalog[0].id)}
    )
    assert body["data"] == {"product": None} and "errors" not in body


async def test_me_is_null_when_anonymous(client, db):
    assert (await gql_data(client, "{ me { id } }"))["me"] is None
