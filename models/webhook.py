from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ProcessedWebhook(Model):
    """A webhook delivery already applied, by its `svix-id`, so redeliveries are no-ops."""

    id = fields.IntField(primary_key=True)
    message_id = fields.CharField(max_length=100, unique=True)
    event_type = fields.CharField(max_length=100)
    received_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "processed_webhooks"
