from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class OrderStatus(StrEnum):
    """Lifecycle states; allowed transitions live in `services.order_transitions`."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class Order(Model):
    """A placed order. Totals are frozen at checkout time and never recomputed."""

    id = fields.IntField(primary_key=True)
    # RESTRICT: orders outlive the erasure of a user's personal data (the row stays).
    user = fields.ForeignKeyField("shop.User", related_name="orders", on_delete=fields.RESTRICT)
    status = fields.CharEnumField(OrderStatus, default=OrderStatus.PENDING, db_index=True)
    total = fields.DecimalField(max_digits=14, decimal_places=2)
    currency = fields.CharField(max_length=3, default="USD")
    # Client-chosen key making checkout safe to retry; unique per user.
    idempotency_key = fields.CharField(max_length=200)
    # Fingerprint of the cart the key was first used with (detects key reuse).
    cart_fingerprint = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "orders"
        unique_together = (("user", "idempotency_key"),)
        indexes = (("user_id", "created_at", "id"), ("created_at", "id"))


class OrderItem(Model):
    """A line of an order with the unit price at the moment the order was placed."""

    id = fields.IntField(primary_key=True)
    order = fields.ForeignKeyField("shop.Order", related_name="items", on_delete=fields.CASCADE)
    product = fields.ForeignKeyField(
        "shop.Product", related_name="order_items", on_delete=fields.RESTRICT
    )
    quantity = fields.IntField()
    unit_price = fields.DecimalField(max_digits=12, decimal_places=2)
    currency = fields.CharField(max_length=3, default="USD")
    # Snapshot so a later rename does not rewrite order history.
    product_name = fields.CharField(max_length=200)

    class Meta:
        table = "order_items"
