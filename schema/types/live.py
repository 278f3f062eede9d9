from __future__ import annotations

import strawberry
from strawberry import relay


@strawberry.type(description="A product's stock after a change (checkout, cancel, restock).")
class InventoryChange:
    product_id: relay.GlobalID
    inventory: int
    in_stock: bool
