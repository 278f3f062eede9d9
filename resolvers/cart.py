"""Cart resolvers: parse, call `services.cart`, shape the cart."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay

from resolvers.ids import product_pk
from resolvers.payloads import with_user_errors
from resolvers.recommendations import credited_recommendation
from schema.context import Info
from schema.types.cart import Cart, CartPayload
from services import cart as carts

ProductId = Annotated[relay.GlobalID, strawberry.argument(description="A product's id.")]
EventId = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description=(
            "The `eventId` of the recommendation slate the product was added from: the cart "
            "add, and the purchase of this line at checkout, are credited to it."
        )
    ),
]


async def cart(info: Info) -> Cart:
    user = info.context.viewer.require_user()
    return Cart.from_domain(await carts.get_cart(user.id, currency=info.context.settings.currency))


async def add_to_cart(
    info: Info,
    product_id: ProductId,
    quantity: Annotated[
        int, strawberry.argument(description="Units to add, 1 to 99 (per line in all).")
    ] = 1,
    event_id: EventId = None,
) -> CartPayload:
    user = info.context.viewer.require_user()

    async def action() -> dict:
        pk = product_pk(product_id)
        result = await carts.add_to_cart(
            user_id=user.id,
            product_id=pk,
            quantity=quantity,
            rewards=info.context.rewards,
            currency=info.context.settings.currency,
            recommendation=await credited_recommendation(info, event_id, pk),
        )
        return {"cart": Cart.from_domain(result)}

    return await with_user_errors(CartPayload, action)


async def update_cart_item(
    info: Info,
    product_id: ProductId,
    quantity: Annotated[int, strawberry.argument(description="New quantity; 0 removes.")],
) -> CartPayload:
    user = info.context.viewer.require_user()

    async def action() -> dict:
        result = await carts.update_cart_item(
            user_id=user.id,
            product_id=product_pk(product_id),
            quantity=quantity,
            currency=info.context.settings.currency,
        )
        return {"cart": Cart.from_domain(result)}

    return await with_user_errors(CartPayload, action)


async def remove_from_cart(info: Info, product_id: ProductId) -> CartPayload:
    user = info.context.viewer.require_user()

    async def action() -> dict:
        result = await carts.remove_from_cart(
            user_id=user.id,
            product_id=product_pk(product_id),
            currency=info.context.settings.currency,
        )
        return {"cart": Cart.from_domain(result)}

    return await with_user_errors(CartPayload, action)


async def clear_cart(info: Info) -> CartPayload:
    user = info.context.viewer.require_user()

    async def action() -> dict:
        result = await carts.clear_cart(user_id=user.id, currency=info.context.settings.currency)
        return {"cart": Cart.from_domain(result)}

    return await with_user_errors(CartPayload, action)
