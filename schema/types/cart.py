from __future__ import annotations

import strawberry

from schema.types.errors import UserError
from schema.types.money import Money
from schema.types.product import ProductType
from services import cart as cart_service


@strawberry.type(description="One product in the cart, priced at the current catalog price.")
class CartLine:
    product: ProductType = strawberry.field(
        description="The product as it is now (it may have been withdrawn since it was added)."
    )
    quantity: int = strawberry.field(description="Units of the product, 1 to 99.")
    unit_price: Money = strawberry.field(description="Today's price of one unit.")
    line_total: Money = strawberry.field(description="`unitPrice` times `quantity`, exact.")

    @classmethod
    def from_domain(cls, line: cart_service.CartLine) -> CartLine:
        return cls(
            product=ProductType.from_model(line.product),
            quantity=line.quantity,
            unit_price=Money.from_domain(line.unit_price),
            line_total=Money.from_domain(line.line_total),
        )


@strawberry.type(
    description="The signed-in shopper's cart. Nothing is reserved: stock is checked again "
    "at checkout."
)
class Cart:
    lines: list[CartLine] = strawberry.field(description="Oldest line first.")
    subtotal: Money = strawberry.field(description="Sum of the line totals, exact.")
    item_count: int = strawberry.field(description="Units across all lines.")

    @classmethod
    def from_domain(cls, cart: cart_service.Cart) -> Cart:
        return cls(
            lines=[CartLine.from_domain(line) for line in cart.lines],
            subtotal=Money.from_domain(cart.subtotal),
            item_count=cart.item_count,
        )


@strawberry.type(description="The cart after a cart mutation, or why it did not change.")
class CartPayload:
    cart: Cart | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
