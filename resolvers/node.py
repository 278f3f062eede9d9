"""The Relay `node(id:)` entry point: one place that maps global ids to types.

A hand-written resolver instead of `strawberry.relay.node()`: that field mutates itself when a
schema is built, so a second schema (tests build one per configuration) cannot be built.
"""

from __future__ import annotations

from strawberry import relay

from schema.context import Info
from schema.types.order import OrderType
from schema.types.product import ProductType
from schema.types.sessions import ArSessionType, ChatMessageType, ChatSessionType
from schema.types.user import UserType

# Every type's `resolve_nodes` applies its own visibility: foreign rows come back as None.
NODE_TYPES: dict[str, type[relay.Node]] = {
    "Product": ProductType,
    "User": UserType,
    "Order": OrderType,
    "ArSession": ArSessionType,
    "ChatSession": ChatSessionType,
    "ChatMessage": ChatMessageType,
}


async def node(info: Info, id: relay.GlobalID) -> relay.Node | None:
    node_type = NODE_TYPES.get(id.type_name)
    if node_type is None:
        return None
    (found,) = await node_type.resolve_nodes(info=info, node_ids=[id.node_id])
    return found
