from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Product(Model):
    """A catalog item. Money is exact: `price` is a Decimal in `currency`."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    price = fields.DecimalField(max_digits=12, decimal_places=2)
    currency = fields.CharField(max_length=3, default="USD")
    category = fields.CharField(max_length=100, db_index=True)
    brand = fields.CharField(max_length=100, db_index=True)
    image_url = fields.CharField(max_length=2048, null=True)
    images = fields.JSONField(default=list)
    features = fields.JSONField(default=dict)
    inventory = fields.IntField(default=0)
    is_active = fields.BooleanField(default=True, db_index=True)
    has_3d_model = fields.BooleanField(default=False)
    model_url = fields.CharField(max_length=2048, null=True)
    ar_enabled = fields.BooleanField(default=False)
    # Denormalised engagement score (interactions and units sold), for the popularity sort
    # and candidate generation; maintained by the interaction and checkout services.
    popularity = fields.FloatField(default=0.0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "products"
        # Keyset pagination orders by (sort key, id): one composite index per sort.
        indexes = (
            ("price", "id"),
            ("name", "id"),
            ("created_at", "id"),
            ("popularity", "id"),
        )
