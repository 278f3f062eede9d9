"""GraphQL documents and shortcuts shared by the cart, checkout and order API tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from models import Product
from tests.support.graphql import global_id, gql_data

CART = """
lines { product { id name } quantity unitPrice { amount currency } lineTotal { amount } }
subtotal { amount currency } itemCount
"""
ERRORS = "userErrors { field message code }"

ADD_TO_CART = f"""
mutation Add($product: ID!, $quantity: Int) {{
  addToCart(productId: $product, quantity: $quantity) {{ cart {{ {CART} }} {ERRORS} }}
}}"""
UPDATE_CART_ITEM = f"""
mutation Update($product: ID!, $quantity: Int!) {{
  updateCartItem(productId: $product, quantity: $quantity) {{ cart {{ {CART} }} {ERRORS} }}
}}"""
REMOVE_FROM_CART = f"""
mutation Remove($product: ID!) {{
  removeFromCart(productId: $product) {{ cart {{ {CART} }} {ERRORS} }}
}}"""
CLEAR_CART = f"mutation {{ clearCart {{ cart {{ {CART} }} {ERRORS} }} }}"
GET_CART = f"{{ cart {{ {CART} }} }}"

ORDER = """
id status total { amount currency } createdAt updatedAt
items { quantity productName unitPrice { amount } lineTotal { amount } product { id isActive } }
"""
CHECKOUT = f"""
mutation Checkout($key: String!) {{
  checkout(input: {{idempotencyKey: $key}}) {{ order {{ {ORDER} }} {ERRORS} }}
}}"""


def pid(product: Product) -> str:
    return global_id("Product", product.id)


def money(value: Any) -> Decimal:
    return Decimal(value["amount"])


async def add(client, token: str, product: Product, quantity: int = 1) -> dict:
    data = await gql_data(
        client, ADD_TO_CART, {"product": pid(product), "quantity": quantity}, token=token
    )
    return data["addToCart"]


async def checkout(client, token: str, key: str = "key-1") -> dict:
    return (await gql_data(client, CHECKOUT, {"key": key}, token=token))["checkout"]


def sellable(catalog: list[Product], *, stock: int = 10, count: int = 1) -> list[Product]:
    """Active products with at least `stock` units, cheapest first (stable across runs)."""
    found = [p for p in catalog if p.is_active and p.inventory >= stock]
    return found[:count]
