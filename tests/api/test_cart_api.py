"""The cart through GraphQL: the happy path, every userError, privacy, nothing written."""

from __future__ import annotations

from decimal import Decimal

from models import CartItem, User, UserInteraction
from models.interaction import InteractionAction
from tests.api.commerce import (
    ADD_TO_CART,
    CLEAR_CART,
    GET_CART,
    REMOVE_FROM_CART,
    UPDATE_CART_ITEM,
    add,
    money,
    pid,
    sellable,
)
from tests.support.graphql import error_codes, global_id, gql, gql_data, user_errors


async def test_a_shopper_fills_changes_and_empties_the_cart(client, catalog, alice):
    first, second = sellable(catalog, stock=5, count=2)

    await add(client, alice, first, 2)
    payload = await add(client, alice, second)
    assert payload["userErrors"] == []
    cart = payload["cart"]
    assert [(line["product"]["id"], line["quantity"]) for line in cart["lines"]] == [
        (pid(first), 2),
        (pid(second), 1),
    ]
    assert money(cart["lines"][0]["unitPrice"]) == first.price
    assert money(cart["lines"][0]["lineTotal"]) == first.price * 2
    assert money(cart["subtotal"]) == first.price * 2 + second.price
    assert cart["subtotal"]["currency"] == "USD" and cart["itemCount"] == 3

    again = await add(client, alice, first, 1)  # quantities add up
    assert again["cart"]["lines"][0]["quantity"] == 3
    user = await User.get(clerk_id="user_alice")
    adds = await UserInteraction.filter(user_id=user.id, action=InteractionAction.CART_ADD)
    assert [(i.product_id, i.context["quantity"]) for i in adds] == [
        (first.id, 2), (second.id, 1), (first.id, 1),
    ]  # fmt: skip

    updated = await gql_data(
        client, UPDATE_CART_ITEM, {"product": pid(first), "quantity": 5}, token=alice
    )
    assert updated["updateCartItem"]["cart"]["lines"][0]["quantity"] == 5
    removed = await gql_data(client, REMOVE_FROM_CART, {"product": pid(first)}, token=alice)
    assert [line["product"]["id"] for line in removed["removeFromCart"]["cart"]["lines"]] == [
        pid(second)
    ]
    zero = await gql_data(
        client, UPDATE_CART_ITEM, {"product": pid(second), "quantity": 0}, token=alice
    )
    assert zero["updateCartItem"]["cart"]["lines"] == []
    await add(client, alice, first)
    cleared = (await gql_data(client, CLEAR_CART, token=alice))["clearCart"]["cart"]
    assert cleared == {
        "lines": [], "subtotal": {"amount": "0.00", "currency": "USD"}, "itemCount": 0
    }  # fmt: skip


async def test_every_refusal_is_a_user_error_and_writes_nothing(client, catalog, alice):
    (fine,) = sellable(catalog, stock=3)
    withdrawn = next(p for p in catalog if not p.is_active)
    sold_out = next(p for p in catalog if p.is_active and p.inventory == 0)
    cases = [
        (ADD_TO_CART, {"product": global_id("Product", 10**6)}, ("productId", "PRODUCT_NOT_FOUND")),
        (ADD_TO_CART, {"product": global_id("Order", fine.id)}, ("productId", "PRODUCT_NOT_FOUND")),
        (ADD_TO_CART, {"product": pid(withdrawn)}, ("productId", "PRODUCT_INACTIVE")),
        (ADD_TO_CART, {"product": pid(fine), "quantity": 0}, ("quantity", "INVALID_QUANTITY")),
        (ADD_TO_CART, {"product": pid(fine), "quantity": 100}, ("quantity", "INVALID_QUANTITY")),
        (ADD_TO_CART, {"product": pid(sold_out)}, ("quantity", "INSUFFICIENT_STOCK")),
        (ADD_TO_CART, {"product": pid(fine), "quantity": fine.inventory + 1},
         ("quantity", "INSUFFICIENT_STOCK")),
        (UPDATE_CART_ITEM, {"product": pid(fine), "quantity": 2},
         ("productId", "CART_ITEM_NOT_FOUND")),
        (UPDATE_CART_ITEM, {"product": pid(fine), "quantity": -1},
         ("quantity", "INVALID_QUANTITY")),
    ]  # fmt: skip
    for document, variables, expected in cases:
        body = await gql_data(client, document, variables, token=alice)
        payload = next(iter(body.values()))
        assert payload["cart"] is None
        assert user_errors(payload) == [expected], (variables, payload)
        assert payload["userErrors"][0]["message"]
    assert await CartItem.all().count() == 0
    assert await UserInteraction.all().count() == 0


async def test_a_cart_is_private_and_needs_a_sign_in(client, catalog, alice, bob):
    (product,) = sellable(catalog)
    await add(client, alice, product, 2)
    assert (await gql_data(client, GET_CART, token=bob))["cart"]["lines"] == []
    assert error_codes(await gql(client, GET_CART)) == ["UNAUTHENTICATED"]
    body = await gql(client, ADD_TO_CART, {"product": pid(product)})
    assert error_codes(body) == ["UNAUTHENTICATED"]
    # Bob emptying his cart leaves Alice's alone.
    await gql_data(client, CLEAR_CART, token=bob)
    cart = (await gql_data(client, GET_CART, token=alice))["cart"]
    assert cart["itemCount"] == 2 and money(cart["subtotal"]) == product.price * Decimal(2)
