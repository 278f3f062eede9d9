"""Admin catalog resolvers: parse, call `services.catalog_admin`, shape the product."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry import relay

from resolvers.ids import product_pk
from resolvers.payloads import with_user_errors
from schema.context import Info
from schema.types.catalog_admin import CreateProductInput, ProductPayload, UpdateProductInput
from schema.types.product import ProductType
from services import catalog_admin

ProductId = Annotated[relay.GlobalID, strawberry.argument(description="A product's id.")]


def _given(input: object) -> dict[str, Any]:
    """The input fields the client sent (input attribute names match the model's)."""
    return {k: v for k, v in vars(input).items() if v is not strawberry.UNSET}


async def create_product(info: Info, input: CreateProductInput) -> ProductPayload:
    async def action() -> dict:
        product = await catalog_admin.create_product(
            _given(input), currency=info.context.settings.currency
        )
        return {"product": ProductType.from_model(product)}

    return await with_user_errors(ProductPayload, action)


async def update_product(info: Info, id: ProductId, input: UpdateProductInput) -> ProductPayload:
    async def action() -> dict:
        product = await catalog_admin.update_product(product_pk(id, field="id"), _given(input))
        return {"product": ProductType.from_model(product)}

    return await with_user_errors(ProductPayload, action)


async def set_inventory(
    info: Info,
    product_id: ProductId,
    inventory: Annotated[int, strawberry.argument(description="Units in stock, 0 to 1,000,000.")],
) -> ProductPayload:
    async def action() -> dict:
        product = await catalog_admin.set_inventory(product_pk(product_id), inventory)
        return {"product": ProductType.from_model(product)}

    return await with_user_errors(ProductPayload, action)


async def adjust_inventory(
    info: Info,
    product_id: ProductId,
    delta: Annotated[
        int, strawberry.argument(description="Units to add (negative: remove); never below 0.")
    ],
) -> ProductPayload:
    async def action() -> dict:
        product = await catalog_admin.adjust_inventory(product_pk(product_id), delta)
        return {"product": ProductType.from_model(product)}

    return await with_user_errors(ProductPayload, action)


async def deactivate_product(info: Info, id: ProductId) -> ProductPayload:
    async def action() -> dict:
        product = await catalog_admin.deactivate_product(product_pk(id, field="id"))
        return {"product": ProductType.from_model(product)}

    return await with_user_errors(ProductPayload, action)
