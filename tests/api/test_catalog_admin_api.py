"""Admin catalog management through GraphQL."""

from __future__ import annotations

from models import Product
from tests.api.commerce import add, checkout, pid, sellable
from tests.support.graphql import error_codes, global_id, gql, gql_data, user_errors

PRODUCT = "id name price { amount currency } inventory isActive arEnabled has3DModel features"
ERRORS = "userErrors { field code }"
CREATE = f"""
mutation($input: CreateProductInput!) {{
  createProduct(input: $input) {{ product {{ {PRODUCT} }} userErrors {{ field message code }} }}
}}"""
UPDATE = f"""
mutation($id: ID!, $input: UpdateProductInput!) {{
  updateProduct(id: $id, input: $input) {{ product {{ {PRODUCT} }} userErrors {{ field code }} }}
}}"""
SET = f"""
mutation($id: ID!, $n: Int!) {{
  setInventory(productId: $id, inventory: $n) {{ product {{ {PRODUCT} }} {ERRORS} }}
}}"""
ADJUST = f"""
mutation($id: ID!, $d: Int!) {{
  adjustInventory(productId: $id, delta: $d) {{ product {{ {PRODUCT} }} {ERRORS} }}
}}"""
DEACTIVATE = f"""
mutation($id: ID!) {{
  deactivateProduct(id: $id) {{ product {{ {PRODUCT} }} userErrors {{ field code }} }}
}}"""
NEW = {"name": "Field Watch", "price": "249.00", "category": "Watches", "brand": "Atlas Supply"}


async def test_admins_create_products_that_shoppers_see(client, db, admin):
    created = (
        await gql_data(
            client, CREATE,
            {"input": {**NEW, "inventory": 7, "features": {"strap": "nato"},
                       "modelUrl": "https://cdn.example/w.glb", "arEnabled": True}},
            token=admin,
        )
    )["createProduct"]  # fmt: skip
    assert created["userErrors"] == []
    product = created["product"]
    assert product["price"] == {"amount": "249.00", "currency": "USD"}
    assert (product["inventory"], product["arEnabled"], product["has3DModel"]) == (7, True, True)
    public = await gql_data(client, "query($id: ID!) { product(id: $id) { name } }",
                            {"id": product["id"]})  # fmt: skip
    assert public["product"]["name"] == "Field Watch"


async def test_invalid_input_is_reported_per_field_and_nothing_is_created(client, db, admin):
    for changes, field in (
        ({"price": "-5"}, "price"),
        ({"price": "9.999"}, "price"),
        ({"name": ""}, "name"),
        ({"imageUrl": "javascript:alert(1)"}, "imageUrl"),
        ({"features": [1, 2]}, "features"),
    ):
        payload = (await gql_data(client, CREATE, {"input": {**NEW, **changes}}, token=admin))[
            "createProduct"
        ]
        assert payload["product"] is None
        assert user_errors(payload) == [(field, "BAD_USER_INPUT")]
    assert await Product.all().count() == 0


async def test_update_and_stock_changes(client, catalog, admin):
    (product,) = sellable(catalog, stock=5)
    updated = (
        await gql_data(
            client, UPDATE, {"id": pid(product), "input": {"price": "1.10"}}, token=admin
        )
    )["updateProduct"]
    assert updated["product"]["price"]["amount"] == "1.10"
    assert updated["product"]["name"] == product.name
    missing = {"id": global_id("Product", 10**6), "input": {"name": "Ghost"}}
    ghost = (await gql_data(client, UPDATE, missing, token=admin))["updateProduct"]
    assert user_errors(ghost) == [("id", "PRODUCT_NOT_FOUND")]

    assert (await gql_data(client, SET, {"id": pid(product), "n": 3}, token=admin))["setInventory"][
        "product"
    ]["inventory"] == 3
    assert (await gql_data(client, ADJUST, {"id": pid(product), "d": -3}, token=admin))[
        "adjustInventory"
    ]["product"]["inventory"] == 0
    below = (await gql_data(client, ADJUST, {"id": pid(product), "d": -1}, token=admin))[
        "adjustInventory"
    ]
    assert user_errors(below) == [("delta", "INSUFFICIENT_STOCK")]
    negative = (await gql_data(client, SET, {"id": pid(product), "n": -1}, token=admin))[
        "setInventory"
    ]
    assert user_errors(negative) == [("inventory", "BAD_USER_INPUT")]
    assert (await Product.get(id=product.id)).inventory == 0


async def test_a_withdrawn_product_stays_in_carts_and_orders_but_cannot_be_bought(
    client, catalog, admin, alice, bob
):
    kept, withdrawn = sellable(catalog, stock=5, count=2)
    await add(client, alice, withdrawn)
    old_order = (await checkout(client, alice, key="before"))["order"]
    await add(client, bob, withdrawn)

    result = await gql_data(client, DEACTIVATE, {"id": pid(withdrawn)}, token=admin)
    assert result["deactivateProduct"]["product"]["isActive"] is False

    listed = await gql_data(client, "{ products(first: 100) { edges { node { id } } } }")
    assert pid(withdrawn) not in {e["node"]["id"] for e in listed["products"]["edges"]}
    cart = await gql_data(client, "{ cart { lines { product { id isActive } } } }", token=bob)
    assert cart["cart"]["lines"] == [{"product": {"id": pid(withdrawn), "isActive": False}}]
    assert user_errors(await checkout(client, bob, key="after")) == [(None, "PRODUCT_INACTIVE")]
    order = await gql_data(
        client, "query($id: ID!) { order(id: $id) { items { productName product { isActive } } } }",
        {"id": old_order["id"]}, token=alice,
    )  # fmt: skip
    assert order["order"]["items"] == [
        {"productName": withdrawn.name, "product": {"isActive": False}}
    ]
    assert (await gql_data(client, UPDATE, {"id": pid(withdrawn), "input": {"isActive": True}},
                           token=admin))["updateProduct"]["product"]["isActive"]  # fmt: skip
    assert error_codes(await gql(client, DEACTIVATE, {"id": pid(kept)}, token=alice)) == [
        "FORBIDDEN"
    ]
