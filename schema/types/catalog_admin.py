from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry.scalars import JSON

from schema.types.errors import UserError
from schema.types.product import ProductType


@strawberry.input(description="A new product. Prices are in the shop's currency.")
class CreateProductInput:
    name: str = strawberry.field(description="1 to 200 characters.")
    price: Decimal = strawberry.field(description="Non-negative, at most two decimals.")
    category: str = strawberry.field(description="1 to 100 characters.")
    brand: str = strawberry.field(description="1 to 100 characters.")
    description: str = strawberry.field(default="", description="At most 5000 characters.")
    image_url: str | None = strawberry.field(
        default=None, description="An http(s) URL or a path on this server (`/media/...`)."
    )
    images: list[str] = strawberry.field(default_factory=list, description="At most 10 URLs.")
    # No `= {}` default: a dict default for a custom scalar cannot be introspected
    # (graphql-core's `ast_from_value`), which broke every GraphiQL schema load.
    features: JSON | None = strawberry.field(
        default=strawberry.UNSET,
        description="A JSON object (at most 8 KB, 3 levels deep); omitted means {}.",
    )
    inventory: int = strawberry.field(default=0, description="Units in stock, 0 to 1,000,000.")
    model_url: str | None = strawberry.field(default=None, description="The 3D model (glTF).")
    ar_enabled: bool = strawberry.field(default=False, description="Needs `modelUrl`.")


@strawberry.input(
    description="Product fields to change; omitted fields stay as they are. Stock changes "
    "through setInventory/adjustInventory."
)
class UpdateProductInput:
    name: str | None = strawberry.UNSET
    price: Decimal | None = strawberry.UNSET
    category: str | None = strawberry.UNSET
    brand: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    image_url: str | None = strawberry.field(default=strawberry.UNSET, description="null clears.")
    images: list[str] | None = strawberry.UNSET
    features: JSON | None = strawberry.UNSET
    model_url: str | None = strawberry.field(default=strawberry.UNSET, description="null clears.")
    ar_enabled: bool | None = strawberry.UNSET
    is_active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="true puts a withdrawn product back on sale."
    )


@strawberry.type(description="The product after an admin change, or why it did not change.")
class ProductPayload:
    product: ProductType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
