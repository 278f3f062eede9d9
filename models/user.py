from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class User(Model):
    """A shopper or admin, mirrored from Clerk (`clerk_id` is the `sub` claim of its tokens)."""

    id = fields.IntField(primary_key=True)
    clerk_id = fields.CharField(max_length=191, unique=True)
    # NULL allowed: Clerk users may have no e-mail, and deleted users have theirs erased.
    email = fields.CharField(max_length=320, unique=True, null=True)
    name = fields.CharField(max_length=200, default="")
    avatar_url = fields.CharField(max_length=2048, null=True)
    preferences = fields.JSONField(default=dict)
    is_admin = fields.BooleanField(default=False)
    # Set when Clerk reports the user deleted: personal data is erased, orders are kept.
    deleted_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "users"
