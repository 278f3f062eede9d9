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
    # The recommendation the line was last added from (`addToCart(eventId:)`): its purchase
    # is credited to that decision at checkout. Retention may purge the decision first.
    recommendation_event = fields.ForeignKeyField(
        "shop.RecommendationEvent",
        related_name="cart_items",
        null=True,
        on_delete=fields.SET_NULL,
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "cart_items"
        unique_together = (("user", "product"),)
