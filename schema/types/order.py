from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay

from core.money import Money as DomainMoney
from models import Order, OrderItem, OrderStatus
from schema.context import Info
from schema.types.errors import UserError
from schema.types.money import Money
from schema.types.nodes import nodes_in_order
from schema.types.product import ProductType
from schema.types.user import UserType
from services import orders

OrderStatusEnum = strawberry.enum(
    OrderStatus,
    name="OrderStatus",
    description="PENDING → CONFIRMED → SHIPPED → DELIVERED; PENDING or CONFIRMED → CANCELLED.",
)


@strawberry.type(description="A line of an order, frozen when the order was placed.")
class OrderLine:
    quantity: int = strawberry.field(description="Units ordered.")
    unit_price: Money = strawberry.field(description="The price of one unit at checkout.")
    line_total: Money = strawberry.field(description="`unitPrice` times `quantity`, exact.")
    product_name: str = strawberry.field(description="The product's name at checkout.")
    product_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, item: OrderItem) -> OrderLine:
        unit = DomainMoney(item.unit_price, item.currency)
        return cls(
            quantity=item.quantity,
            unit_price=Money.from_domain(unit),
            line_total=Money.from_domain(unit.times(item.quantity)),
            product_name=item.product_name,
            product_id=item.product_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The product today (it may since have been withdrawn).")
    async def product(self, info: Info) -> ProductType | None:
        found = await info.context.loaders.product_by_id.load(self.product_id)
        return None if found is None else ProductType.from_model(found)


@strawberry.type(name="Order", description="A placed order. Its total and lines never change.")
class OrderType(relay.Node):
    id: relay.NodeID[int]
    status: OrderStatusEnum = strawberry.field(  # type: ignore[valid-type]
        description="Where the order is in its lifecycle."
    )
    total: Money = strawberry.field(description="What the shopper paid, exact to the cent.")
    created_at: datetime = strawberry.field(description="When the order was placed.")
    updated_at: datetime = strawberry.field(description="When the status last changed.")
    user_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, order: Order) -> OrderType:
        return cls(
            id=order.id,
            status=order.status,
            total=Money(amount=order.total, currency=order.currency),
            created_at=order.created_at,
            updated_at=order.updated_at,
            user_id=order.user_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The lines, in cart order. Batched across a whole page.")
    async def items(self, info: Info) -> list[OrderLine]:
        return [
            OrderLine.from_model(item)
            for item in await info.context.loaders.order_items_by_order.load(self.id)
        ]

    @strawberry.field(description="Who placed it; null once the account was deleted.")
    async def user(self, info: Info) -> UserType | None:
        found = await info.context.loaders.user_by_id.load(self.user_id)
        return None if found is None or found.deleted_at is not None else UserType.from_model(found)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[OrderType | None]:
        viewer = info.context.viewer
        return await nodes_in_order(
            node_ids, lambda ids: orders.orders_by_ids(ids, viewer=viewer), cls.from_model
        )


@strawberry.type(description="An edge in an order list.")
class OrderEdge(relay.Edge[OrderType]):
    pass


@strawberry.type(description="A page of orders, newest first.")
class OrderConnection(relay.Connection[OrderType]):
    edges: list[OrderEdge]


@strawberry.input(description="Turn the cart into an order.")
class CheckoutInput:
    idempotency_key: str = strawberry.field(
        description="A fresh key (e.g. a UUID) per intended order. Retrying with the same key "
        "returns the same order and charges nothing twice; using it for a different cart is "
        "IDEMPOTENCY_KEY_REUSED."
    )


@strawberry.type(description="The order placed (or replayed), or why there is none.")
class CheckoutPayload:
    order: OrderType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="The order after a status change, or why it did not change.")
class OrderPayload:
    order: OrderType | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
