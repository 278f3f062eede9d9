from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ARSession(Model):
    """A shopper viewing an AR-enabled product in augmented reality."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("shop.User", related_name="ar_sessions", on_delete=fields.CASCADE)
    product = fields.ForeignKeyField(
        "shop.Product", related_name="ar_sessions", on_delete=fields.CASCADE
    )
    started_at = fields.DatetimeField(auto_now_add=True)
    ended_at = fields.DatetimeField(null=True)
    # Client-reported details (device, placement, ...), bounded by the service.
    metadata = fields.JSONField(default=dict)

    class Meta:
        table = "ar_sessions"
        indexes = (("user_id", "started_at"),)


class ChatSession(Model):
    """A chat conversation, optionally about one product."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField(
        "shop.User", related_name="chat_sessions", on_delete=fields.CASCADE
    )
    product = fields.ForeignKeyField(
        "shop.Product", related_name="chat_sessions", null=True, on_delete=fields.SET_NULL
    )
    title = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "chat_sessions"
        indexes = (("user_id", "updated_at"),)


class ChatMessage(Model):
    """One message in a chat session."""

    id = fields.BigIntField(primary_key=True)
    session = fields.ForeignKeyField(
        "shop.ChatSession", related_name="messages", on_delete=fields.CASCADE
    )
    author = fields.ForeignKeyField(
        "shop.User", related_name="chat_messages", null=True, on_delete=fields.SET_NULL
    )
    role = fields.CharField(max_length=16, default="user")
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "chat_messages"
        indexes = (("session_id", "id"),)
