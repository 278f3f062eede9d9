from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class CartItem(Model):
    """One product line in the cart of a user, at most one line per (user, product)."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("shop.User", related_name="cart_items", on_delete=fields.CASCADE)
    product = fields.ForeignKeyField(
        "shop.Product", related_name="cart_items", on_delete=fields.CASCADE
    )
    quantity = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "cart_items"
        unique_together = (("user", "product"),)
