from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class InteractionAction(StrEnum):
    """What a shopper did with a product; what each is worth: services/recommendations/rewards."""

    VIEW = "view"
    TICK = "tick"
    CROSS = "cross"
    CART_ADD = "cart_add"
    PURCHASE = "purchase"
    AR_VIEW = "ar_view"


class UserInteraction(Model):
    """One shopper interaction with a product and the reward it carried."""

    id = fields.BigIntField(primary_key=True)
    # Anonymous shoppers interact too: then `user` is NULL and `session_id` identifies them.
    user = fields.ForeignKeyField(
        "shop.User", related_name="interactions", null=True, on_delete=fields.SET_NULL
    )
    session_id = fields.CharField(max_length=100, null=True)
    product = fields.ForeignKeyField(
        "shop.Product", related_name="interactions", on_delete=fields.CASCADE
    )
    action = fields.CharEnumField(InteractionAction, max_length=16)
    reward = fields.FloatField()
    context = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "user_interactions"
        indexes = (("user_id", "created_at"), ("product_id", "action"), ("created_at",))
