"""Order resolvers: checkout, the order list and lookups, status changes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from core.errors import ErrorCode, InvalidInput
from models import OrderStatus
from resolvers.ids import pk_of, row_id
from resolvers.payloads import with_user_errors
from schema.context import Info
from schema.types.connections import connection, page_request
from schema.types.order import (
    CheckoutInput,
    CheckoutPayload,
    OrderConnection,
    OrderEdge,
    OrderPayload,
    OrderType,
)
from services import checkout as checkouts
from services import order_transitions
from services import orders as order_service

OrderId = Annotated[relay.GlobalID, strawberry.argument(description="An order's id.")]


def _order_pk(gid: relay.GlobalID) -> int:
    return pk_of(gid, "Order", ErrorCode.ORDER_NOT_FOUND, field="id")


async def checkout(info: Info, input: CheckoutInput) -> CheckoutPayload:
    user = info.context.viewer.require_user()

    async def action() -> dict:
        order = await checkouts.checkout(
            user_id=user.id,
            idempotency_key=input.idempotency_key,
            rewards=info.context.rewards,
            currency=info.context.settings.currency,
        )
        return {"order": OrderType.from_model(order)}

    return await with_user_errors(CheckoutPayload, action)


async def orders(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    status: OrderStatus | None = None,
    user_id: Annotated[
        relay.GlobalID | None, strawberry.argument(description="Admins: one user's orders.")
    ] = None,
    created_after: Annotated[
        datetime | None, strawberry.argument(description="Placed at or after this instant.")
    ] = None,
    created_before: Annotated[
        datetime | None, strawberry.argument(description="Placed before this instant.")
    ] = None,
) -> OrderConnection:
    page = page_request(info, first=first, after=after)
    owner = None
    if user_id is not None:
        owner = row_id(user_id, "User")
        if owner is None:
            raise InvalidInput("`userId` is not a user id", field="userId")
    flt = order_service.OrderFilter(
        status=status, user_id=owner, created_after=created_after, created_before=created_before
    )
    result = await order_service.list_orders(page, flt, viewer=info.context.viewer)
    return connection(OrderConnection, OrderEdge, result, OrderType.from_model)


async def order(info: Info, id: OrderId) -> OrderType | None:
    pk = row_id(id, "Order")
    if pk is None:
        return None
    found = await order_service.get_order(pk, viewer=info.context.viewer)
    return None if found is None else OrderType.from_model(found)


async def update_order_status(
    info: Info,
    id: OrderId,
    status: Annotated[OrderStatus, strawberry.argument(description="The status to move to.")],
) -> OrderPayload:
    async def action() -> dict:
        updated = await order_transitions.update_order_status(
            order_id=_order_pk(id), status=status, viewer=info.context.viewer
        )
        return {"order": OrderType.from_model(updated)}

    return await with_user_errors(OrderPayload, action)


async def cancel_order(info: Info, id: OrderId) -> OrderPayload:
    async def action() -> dict:
        cancelled = await order_transitions.cancel_order(
            order_id=_order_pk(id), viewer=info.context.viewer
        )
        return {"order": OrderType.from_model(cancelled)}

    return await with_user_errors(OrderPayload, action)
